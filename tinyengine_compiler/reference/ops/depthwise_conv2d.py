"""DEPTHWISE_CONV2D: x [1, H, W, C] int8, w 1HWC int8 (per-channel scale, axis 3), bias [C].

acc[c] = bias[c] + sum over the window of (x[c] - zp_in) * w[c] (depth multiplier 1), with
padded taps at x = zp_in, then the per-channel requantization epilogue.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import tensor_qparams, weighted_epilogue, windows


@implements(OpKind.DEPTHWISE_CONV2D, "reference")
def depthwise_conv2d(g: Graph, node: Node, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    _, zp_in = tensor_qparams(g, node.inputs[0])
    _, kh, kw, _ = w.shape
    win = windows(x.astype(np.int64) - zp_in, (kh, kw), node.attrs["stride"], node.attrs["pads"])
    acc = np.einsum("nhwcij,ijc->nhwc", win, w[0].astype(np.int64)) + bias.astype(np.int64)
    return weighted_epilogue(g, node, acc)
