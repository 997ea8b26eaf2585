"""DEPTHWISE_CONV2D_GRAD_WEIGHT: x [1, H, W, C] saved (int8), gz [1, OH, OW, C] float ->
dw [1, KH, KW, n] for the trained channels (`channels`, or all C; input = output channel).

Order: dw starts at +0; for each output pixel (oh, ow) in row-major order, dw[0, kh, kw, c] gets
gz[oh, ow, c] * x_pad[oh * sh + kh, ow * sw + kw, c] added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import add_in_order, pixel_windows, real


@implements(OpKind.DEPTHWISE_CONV2D_GRAD_WEIGHT, "reference")
def depthwise_conv2d_grad_weight(g: Graph, node: Node, x: np.ndarray, gz: np.ndarray, *, dtype) -> np.ndarray:
    channels = node.attrs.get("channels")
    pick = slice(None) if channels is None else list(channels)
    gz = real(g, node.inputs[1], gz, dtype)[0][..., pick]
    oh, ow, n = gz.shape
    win = pixel_windows(g, node, np.asarray(x)[..., pick], (oh, ow), dtype)
    gz = gz.reshape(oh * ow, 1, 1, n)
    return add_in_order(np.zeros(win.shape[1:], dtype=dtype), lambda px: gz[px] * win[px], oh * ow)[None]
