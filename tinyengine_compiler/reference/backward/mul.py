"""MUL_GRAD: gz [N, H, W, C] float, other the other operand (saved: int8, or real floats in the
checker) -> d = gz * real(other) (one rounded multiply, other broadcast over the pixels when it
is [N, 1, 1, C]); when output_shape is [N, 1, 1, C] (the broadcast operand's gradient) d is
summed over the pixels: +0, then the pixels in row-major order."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import add_in_order, real


@implements(OpKind.MUL_GRAD, "reference")
def mul_grad(g: Graph, node: Node, gz: np.ndarray, other: np.ndarray, *, dtype) -> np.ndarray:
    gz = real(g, node.inputs[0], gz, dtype)
    d = gz * real(g, node.inputs[1], other, dtype)
    shape = tuple(node.attrs["output_shape"])
    if shape == d.shape:
        return d
    rows = d.reshape(-1, d.shape[-1])
    return add_in_order(np.zeros(rows.shape[1], dtype=dtype), lambda r: rows[r], rows.shape[0]).reshape(shape)
