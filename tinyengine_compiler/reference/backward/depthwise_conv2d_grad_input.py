"""DEPTHWISE_CONV2D_GRAD_INPUT: gz [1, OH, OW, C] float, w 1HWC -> dx [1, H, W, C].

Order: dx starts at +0; for kh, for kw, every dx element that tap reaches gets
gz[oh, ow, c] * w[0, kh, kw, c] added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.DEPTHWISE_CONV2D_GRAD_INPUT, "reference")
def depthwise_conv2d_grad_input(g: Graph, node: Node, gz: np.ndarray, w: np.ndarray, *, dtype) -> np.ndarray:
    gz = real(g, node.inputs[0], gz, dtype)[0]
    w = real(g, node.inputs[1], w, dtype)[0]
    _, h, wd, c = node.attrs["input_shape"]
    (sh, sw), (top, left, bottom, right) = node.attrs["stride"], node.attrs["pads"]
    oh, ow, _ = gz.shape
    dxp = np.zeros((h + top + bottom, wd + left + right, c), dtype=dtype)
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            dxp[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += gz * w[i, j]
    return dxp[top:top + h, left:left + wd][None]
