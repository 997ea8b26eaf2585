"""FULLY_CONNECTED_GRAD_WEIGHT: x saved (int8, flattened NHWC), gz [N, O] float -> dw [O, n] for
the trained input columns (`channels`, or all).  Order: dw starts at +0; for each batch row n
in order, dw[o, i] gets gz[n, o] * x[n, i] added."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.FULLY_CONNECTED_GRAD_WEIGHT, "reference")
def fully_connected_grad_weight(g: Graph, node: Node, x: np.ndarray, gz: np.ndarray, *, dtype) -> np.ndarray:
    channels = node.attrs.get("channels")
    x = real(g, node.inputs[0], x, dtype).reshape(np.shape(x)[0], -1)
    x = x if channels is None else x[:, list(channels)]
    gz = real(g, node.inputs[1], gz, dtype)
    dw = np.zeros((gz.shape[1], x.shape[1]), dtype=dtype)
    for n in range(gz.shape[0]):
        dw += gz[n, :, None] * x[n]
    return dw
