"""CLAMP_GRAD: gy float, y the saved output (int8, or real floats in the checker) ->
gy where act_min < y < act_max, else 0.  An int8 y is compared with the int8 bounds; a real y
with their real values scale * (bound - zp), which orders the same way, computed in y's own
precision as the real forward clamped it (reference/real_forward.py): a float32 bound that
rounds inside the float64 one must still stop the gradient of a unit clamped at it."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.CLAMP_GRAD, "reference")
def clamp_grad(g: Graph, node: Node, gy: np.ndarray, y: np.ndarray, *, dtype) -> np.ndarray:
    lo, hi = node.attrs.get("act_min"), node.attrs.get("act_max")
    lo, hi = (-128 if lo is None else lo), (127 if hi is None else hi)
    if np.asarray(y).dtype.kind != "f":
        inside = (y > lo) & (y < hi)
    else:
        bounds = real(g, node.inputs[1], np.array([lo, hi], dtype=np.int64), np.asarray(y).dtype.type)
        inside = (y > bounds[0]) & (y < bounds[1])
    gy = real(g, node.inputs[0], gy, dtype)
    return np.where(inside, gy, dtype(0)).astype(dtype)
