"""LUT_GRAD: gy float, x the LUT's saved input -> gy * dy/dx, one rounded multiply.  For an
int8 x the derivative is the node's `slope` table at x (ir/activations.py, 0 where the output
saturates); for real x (the gradient checker) the function's derivative there, 0 where its
value leaves the real range of the int8 output (`forward_output`'s)."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ...ir import activations
from ._common import real


@implements(OpKind.LUT_GRAD, "reference")
def lut_grad(g: Graph, node: Node, gy: np.ndarray, x: np.ndarray, *, dtype) -> np.ndarray:
    gy = real(g, node.inputs[0], gy, dtype)
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x = x.astype(dtype)
        slope = activations.derivative(node.attrs["function"], x, node.attrs)
        y = activations.real(node.attrs["function"], x, node.attrs)
        lo, hi = real(g, node.attrs["forward_output"], np.array([-128, 127]), dtype)
        return (gy * np.where((y > lo) & (y < hi), slope, dtype(0))).astype(dtype)
    return gy * np.asarray(node.attrs["slope"], dtype=dtype)[x.astype(np.int64) + 128]
