"""CONV2D_GRAD_WEIGHT: x [1, H, W, I] saved (int8), gz [1, OH, OW, O] float ->
dw [O, KH, KW, n] for the trained input channels (`channels`, or all I).

Order: dw starts at +0; for each output pixel (oh, ow) in row-major order, dw[o, kh, kw, i] gets
gz[oh, ow, o] * x_pad[oh * sh + kh, ow * sw + kw, i] added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node
from ..ops._common import windows
from ._common import add_in_order, real


def conv2d_grad_weight(g: Graph, node: Node, x: np.ndarray, gz: np.ndarray, *, dtype) -> np.ndarray:
    channels = node.attrs.get("channels")
    x = x if channels is None else x[..., list(channels)]
    gz = real(g, node.inputs[1], gz, dtype)[0]
    oh, ow, c_out = gz.shape
    (kh, kw) = node.attrs["kernel"]
    # x_pad's window of every output pixel, row-major: [OH * OW, KH, KW, n]
    win = windows(real(g, node.inputs[0], x, dtype), node.attrs["kernel"], node.attrs["stride"],
                  node.attrs["pads"])[0, :oh, :ow].transpose(0, 1, 3, 4, 2).reshape(oh * ow, kh, kw, -1)
    gz = gz.reshape(oh * ow, c_out)
    return add_in_order(np.zeros((c_out, kh, kw, win.shape[3]), dtype=dtype),
                        lambda px: gz[px, :, None, None, None] * win[px, None], oh * ow)
