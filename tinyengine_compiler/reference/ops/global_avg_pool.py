"""GLOBAL_AVG_POOL: x [1, H, W, C] int8 -> [1, 1, 1, C]: the int32 sum over H * W per channel,
then the average epilogue (rounded division, or requantization when the qparams differ)."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import average_epilogue


@implements(OpKind.GLOBAL_AVG_POOL, "reference")
def global_avg_pool(g: Graph, node: Node, x: np.ndarray) -> np.ndarray:
    total = x.astype(np.int64).sum(axis=(1, 2), keepdims=True)
    return average_epilogue(g, node, total, x.shape[1] * x.shape[2])
