"""AVG_POOL2D: x [1, H, W, C] int8, attrs kernel, stride, pads.  Each output is the sum of the
window's valid (non-padding) taps divided by their number, through the average epilogue."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import average_epilogue, windows


@implements(OpKind.AVG_POOL2D, "reference")
def avg_pool2d(g: Graph, node: Node, x: np.ndarray) -> np.ndarray:
    kernel, stride, pads = node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"]
    total = windows(x.astype(np.int64), kernel, stride, pads).sum(axis=(-2, -1))
    valid = np.ones((1, x.shape[1], x.shape[2], 1), dtype=np.int64)
    count = windows(valid, kernel, stride, pads).sum(axis=(-2, -1))
    return average_epilogue(g, node, total, count)
