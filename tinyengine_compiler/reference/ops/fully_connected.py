"""FULLY_CONNECTED: x int8 of any shape, flattened in NHWC order; w [out, in] int8 (per-channel
scale, axis 0); bias int32 [out].  Output [1, out]: acc = bias + w @ (x - zp_in), then the
per-channel requantization epilogue.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node
from ._common import exact_matmul, tensor_qparams, weighted_epilogue


def fully_connected(g: Graph, node: Node, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    _, zp_in = tensor_qparams(g, node.inputs[0])
    rows = x.reshape(x.shape[0], -1).astype(np.int64) - zp_in
    acc = exact_matmul(rows, w.T) + bias.astype(np.int64)
    return weighted_epilogue(g, node, acc)
