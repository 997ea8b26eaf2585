"""CONV2D_GRAD_WEIGHT: x [1, H, W, I] saved (int8), gz [1, OH, OW, O] float ->
dw [O, KH, KW, n] for the trained input channels (`channels`, or all I).

Order: dw starts at +0; for each output pixel (oh, ow) in row-major order, dw[o, kh, kw, i] gets
gz[oh, ow, o] * x_pad[oh * sh + kh, ow * sw + kw, i] added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import add_in_order, pixel_windows, real


@implements(OpKind.CONV2D_GRAD_WEIGHT, "reference")
def conv2d_grad_weight(g: Graph, node: Node, x: np.ndarray, gz: np.ndarray, *, dtype) -> np.ndarray:
    channels = node.attrs.get("channels")
    x = x if channels is None else x[..., list(channels)]
    gz = real(g, node.inputs[1], gz, dtype)[0]
    oh, ow, c_out = gz.shape
    win = pixel_windows(g, node, x, (oh, ow), dtype)
    gz = gz.reshape(oh * ow, c_out)
    return add_in_order(np.zeros((c_out, *win.shape[1:]), dtype=dtype),
                        lambda px: gz[px, :, None, None, None] * win[px, None], oh * ow)
