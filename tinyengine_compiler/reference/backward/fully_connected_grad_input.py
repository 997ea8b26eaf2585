"""FULLY_CONNECTED_GRAD_INPUT: gz [N, O] float, w [O, I] -> dx of the input's shape (NHWC
flattening).  Order: dx starts at +0; for o in order, dx[n, i] gets gz[n, o] * w[o, i] added."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.FULLY_CONNECTED_GRAD_INPUT, "reference")
def fully_connected_grad_input(g: Graph, node: Node, gz: np.ndarray, w: np.ndarray, *, dtype) -> np.ndarray:
    gz = real(g, node.inputs[0], gz, dtype)
    w = real(g, node.inputs[1], w, dtype)
    dx = np.zeros((gz.shape[0], w.shape[1]), dtype=dtype)
    for o in range(w.shape[0]):
        dx += gz[:, o, None] * w[o]
    return dx.reshape(node.attrs["input_shape"])
