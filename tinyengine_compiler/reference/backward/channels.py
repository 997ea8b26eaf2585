"""GRAD_MOVE_CHANNELS: the gradients of CONCAT and CHANNEL_SELECT, float channel moves without
arithmetic (so without rounding): out of `output_shape` is +0 everywhere but
out[..., out_channels[j]] = gy[..., in_channels[j]] (a channel list None: 0, 1, ...; the output
channels are distinct).  CONCAT's gradient gathers each input's channels of gy; CHANNEL_SELECT's
scatters gy into dx."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import real


@implements(OpKind.GRAD_MOVE_CHANNELS, "reference")
def grad_move_channels(g: Graph, node: Node, gy: np.ndarray, *, dtype) -> np.ndarray:
    gy = real(g, node.inputs[0], gy, dtype)
    src, dst = node.attrs["in_channels"], node.attrs["out_channels"]
    n = len(src) if src is not None else len(dst)
    out = np.zeros(node.attrs["output_shape"], dtype=dtype)
    out[..., list(dst) if dst is not None else slice(0, n)] = gy[..., list(src) if src is not None else slice(0, n)]
    return out
