"""CONV2D: x [1, H, W, C_in] int8, w OHWI int8 (per-channel scale, axis 0), bias int32 [C_out].

acc[c] = bias[c] + sum (x - zp_in) * w[c], with padded taps at x = zp_in (real zero), then the
per-channel requantization epilogue.  Im2col over a strided view, one exact matmul.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import exact_matmul, tensor_qparams, weighted_epilogue, windows


@implements(OpKind.CONV2D, "reference")
def conv2d(g: Graph, node: Node, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    _, zp_in = tensor_qparams(g, node.inputs[0])
    c_out, kh, kw, c_in = w.shape
    cols = windows(x.astype(np.int64) - zp_in, (kh, kw), node.attrs["stride"], node.attrs["pads"])
    n, oh, ow = cols.shape[:3]
    cols = cols.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, kh * kw * c_in)  # OHWI tap order
    acc = exact_matmul(cols, w.reshape(c_out, -1).T) + bias.astype(np.int64)
    return weighted_epilogue(g, node, acc.reshape(n, oh, ow, c_out))
