"""MAX_POOL2D_GRAD: gy [1, OH, OW, C] float, x [1, H, W, C] the pool's saved input (int8, or
real floats in the checker) -> dx [1, H, W, C]: each window's gradient goes to its first
largest valid tap (taps in row-major order; padding never wins).  Order: dx starts at +0;
the windows add their gradients in row-major order (overlapping windows may pick one tap).
`argmax` gives the tap each window picks, what the C keeps (`<x>.argmax.<reader>`)."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ..ops._common import windows
from ._common import real


def argmax(x: np.ndarray, kernel, stride, pads) -> np.ndarray:
    """uint8 [1, OH, OW, C]: the index kh * KW + kw of each window's first largest valid tap."""
    floor = -np.inf if np.asarray(x).dtype.kind == "f" else -1000
    win = windows(np.asarray(x, np.float64), kernel, stride, pads, fill=floor)
    return win.reshape(*win.shape[:4], -1).argmax(axis=-1).astype(np.uint8)


@implements(OpKind.MAX_POOL2D_GRAD, "reference")
def max_pool2d_grad(g: Graph, node: Node, gy: np.ndarray, x: np.ndarray, *, dtype) -> np.ndarray:
    gy = real(g, node.inputs[0], gy, dtype)[0]
    (kh, kw), (sh, sw) = node.attrs["kernel"], node.attrs["stride"]
    top, left, _, _ = node.attrs["pads"]
    _, h, wd, c = node.attrs["input_shape"]
    tap = argmax(x, (kh, kw), (sh, sw), node.attrs["pads"])[0].astype(np.int64)
    oh, ow, _ = gy.shape
    rows = np.arange(oh)[:, None, None] * sh - top + tap // kw
    cols = np.arange(ow)[None, :, None] * sw - left + tap % kw
    chans = np.broadcast_to(np.arange(c), tap.shape)
    dx = np.zeros((h, wd, c), dtype=dtype)
    np.add.at(dx, (rows.reshape(-1), cols.reshape(-1), chans.reshape(-1)), gy.reshape(-1))   # in window order
    return dx[None]
