"""CONV2D_GRAD_INPUT: gz [1, OH, OW, O] float, w OHWI -> dx [1, H, W, I] (the transposed conv).

Order: dx starts at +0; for kh, for kw, for o (lexicographic), every dx element that tap
(kh, kw) of output channel o reaches gets gz[oh, ow, o] * w[o, kh, kw, i] added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import add_in_order, real


@implements(OpKind.CONV2D_GRAD_INPUT, "reference")
def conv2d_grad_input(g: Graph, node: Node, gz: np.ndarray, w: np.ndarray, *, dtype) -> np.ndarray:
    gz = real(g, node.inputs[0], gz, dtype)[0]
    w = real(g, node.inputs[1], w, dtype)
    _, h, wd, _ = node.attrs["input_shape"]
    (sh, sw), (top, left, bottom, right) = node.attrs["stride"], node.attrs["pads"]
    oh, ow, c_out = gz.shape
    dxp = np.zeros((h + top + bottom, wd + left + right, w.shape[3]), dtype=dtype)
    for i in range(w.shape[1]):
        for j in range(w.shape[2]):
            rows, cols = slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)
            dxp[rows, cols] = add_in_order(dxp[rows, cols],
                                           lambda o: gz[:, :, o].transpose(2, 0, 1)[..., None] * w[o, i, j, None, None],
                                           c_out)
    return dxp[top:top + h, left:left + wd][None]
