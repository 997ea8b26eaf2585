"""CONV2D_GRAD_WEIGHT: x [1, H, W, I] saved (int8), gz [1, OH, OW, O] float ->
dw [O, KH, KW, n] for the trained input channels (`channels`, or all I).

Order: dw starts at +0; for each output pixel (oh, ow) in row-major order, dw[o, kh, kw, i] gets
gz[oh, ow, o] * x_pad[oh * sh + kh, ow * sw + kw, i] added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node
from ._common import pad_hw, real


def conv2d_grad_weight(g: Graph, node: Node, x: np.ndarray, gz: np.ndarray, *, dtype) -> np.ndarray:
    channels = node.attrs.get("channels")
    x = x if channels is None else x[..., list(channels)]
    xp = pad_hw(real(g, node.inputs[0], x, dtype)[0], node.attrs["pads"])
    gz = real(g, node.inputs[1], gz, dtype)[0]
    (kh, kw), (sh, sw) = node.attrs["kernel"], node.attrs["stride"]
    dw = np.zeros((gz.shape[2], kh, kw, xp.shape[2]), dtype=dtype)
    for p in range(gz.shape[0]):
        for q in range(gz.shape[1]):
            dw += gz[p, q, :, None, None, None] * xp[None, p * sh:p * sh + kh, q * sw:q * sw + kw, :]
    return dw
