"""GLOBAL_AVG_POOL_GRAD: gy [1, 1, 1, C] float -> dx [1, H, W, C] = gy / (H * W) everywhere
(one correctly rounded division per channel)."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.GLOBAL_AVG_POOL_GRAD, "reference")
def global_avg_pool_grad(g: Graph, node: Node, gy: np.ndarray, *, dtype) -> np.ndarray:
    shape = tuple(node.attrs["input_shape"])
    share = real(g, node.inputs[0], gy, dtype) / dtype(shape[1] * shape[2])
    return np.broadcast_to(share, shape).astype(dtype)
