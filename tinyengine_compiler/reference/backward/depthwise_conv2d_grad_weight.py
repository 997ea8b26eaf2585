"""DEPTHWISE_CONV2D_GRAD_WEIGHT: x [1, H, W, C] saved (int8), gz [1, OH, OW, C] float ->
dw [1, KH, KW, n] for the trained channels (`channels`, or all C; input = output channel).

Order: dw starts at +0; for each output pixel (oh, ow) in row-major order, dw[0, kh, kw, c] gets
gz[oh, ow, c] * x_pad[oh * sh + kh, ow * sw + kw, c] added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node
from ._common import pad_hw, real


def depthwise_conv2d_grad_weight(g: Graph, node: Node, x: np.ndarray, gz: np.ndarray, *, dtype) -> np.ndarray:
    channels = node.attrs.get("channels")
    pick = slice(None) if channels is None else list(channels)
    xp = pad_hw(real(g, node.inputs[0], x, dtype)[0][..., pick], node.attrs["pads"])
    gz = real(g, node.inputs[1], gz, dtype)[0][..., pick]
    (kh, kw), (sh, sw) = node.attrs["kernel"], node.attrs["stride"]
    dw = np.zeros((kh, kw, xp.shape[2]), dtype=dtype)
    for p in range(gz.shape[0]):
        for q in range(gz.shape[1]):
            dw += gz[p, q] * xp[p * sh:p * sh + kh, q * sw:q * sw + kw, :]
    return dw[None]
