"""AVG_POOL2D_GRAD: gy [1, OH, OW, C] float -> dx [1, H, W, C], the average pool's transpose.

Each output window's share = gy[oh, ow, c] / float(count[oh, ow]) (one rounded division;
count = the window's valid, non-padding taps).  Order: dx starts at +0; for kh, for kw
(lexicographic), every dx element that tap (kh, kw) of a window reaches gets that window's
share added.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.AVG_POOL2D_GRAD, "reference")
def avg_pool2d_grad(g: Graph, node: Node, gy: np.ndarray, *, dtype) -> np.ndarray:
    gy = real(g, node.inputs[0], gy, dtype)[0]
    _, h, wd, c = node.attrs["input_shape"]
    (kh, kw), (sh, sw) = node.attrs["kernel"], node.attrs["stride"]
    top, left, bottom, right = node.attrs["pads"]
    oh, ow, _ = gy.shape
    valid = np.zeros((h + top + bottom, wd + left + right), dtype=np.int64)
    valid[top:top + h, left:left + wd] = 1
    count = np.zeros((oh, ow), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            count += valid[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
    share = gy / count.astype(dtype)[..., None]
    dxp = np.zeros((h + top + bottom, wd + left + right, c), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += share
    return dxp[top:top + h, left:left + wd][None]
