"""MAX_POOL2D: x [1, H, W, C] int8, attrs kernel, stride, pads.  Each output is the largest of
its window's valid (non-padding) taps; when the output's qparams differ from the input's it is
requantized: clamp(requantize(max - zp_in, s_in / s_out) + zp_out) (a monotonic map, so the
max of the requantized taps)."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ._common import act_range, tensor_qparams, windows
from ..requant import clamp_s8, multipliers, requantize


@implements(OpKind.MAX_POOL2D, "reference")
def max_pool2d(g: Graph, node: Node, x: np.ndarray) -> np.ndarray:
    # padding below every int8 value never wins
    best = windows(x.astype(np.int64), node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"],
                   fill=-1000).max(axis=(-2, -1))
    s_in, zp_in = tensor_qparams(g, node.inputs[0])
    s_out, zp_out = tensor_qparams(g, node.outputs[0])
    if (s_in, zp_in) == (s_out, zp_out):
        return clamp_s8(best, *act_range(node))
    mult, shift = multipliers(np.array([np.float64(s_in) / np.float64(s_out)]))
    return clamp_s8(requantize(best - zp_in, mult, shift) + zp_out, *act_range(node))
