"""FULLY_CONNECTED: x int8 of any shape, flattened in NHWC order; w [out, in] int8 (per-channel
scale, axis 0); bias int32 [out].  Output [1, out]: acc = bias + w @ (x - zp_in), then the
per-channel requantization epilogue.  `accumulator` is acc alone, which the training loss also
reads (reference/backward/real_logits.py).
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import exact_matmul, tensor_qparams, weighted_epilogue


def accumulator(g: Graph, node: Node, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The exact bias + sum of every output, int64 [N, out] (not yet saturated to int32)."""
    _, zp_in = tensor_qparams(g, node.inputs[0])
    rows = x.reshape(x.shape[0], -1).astype(np.int64) - zp_in
    return exact_matmul(rows, w.T) + bias.astype(np.int64)


@implements(OpKind.FULLY_CONNECTED, "reference")
def fully_connected(g: Graph, node: Node, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return weighted_epilogue(g, node, accumulator(g, node, x, w, bias))
