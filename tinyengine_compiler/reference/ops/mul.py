"""MUL: a [N, H, W, C] and b of a's shape or [N, 1, 1, C] (broadcast), int8 -> int8:
    acc = (a - zp_a) * (b - zp_b)                       (exact int32)
    out = clamp(requantize(acc, s_a * s_b / s_out) + zp_out, act_min, act_max)
with the multiplier of the float64 product of the float32 scales."""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ..requant import clamp_s8, multipliers, requantize
from ._common import act_range, tensor_qparams


@implements(OpKind.MUL, "reference")
def mul(g: Graph, node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    (s_a, zp_a), (s_b, zp_b) = tensor_qparams(g, node.inputs[0]), tensor_qparams(g, node.inputs[1])
    s_out, zp_out = tensor_qparams(g, node.outputs[0])
    acc = (np.asarray(a).astype(np.int64) - zp_a) * (np.asarray(b).astype(np.int64) - zp_b)
    mult, shift = multipliers(np.array([np.float64(s_a) * np.float64(s_b) / np.float64(s_out)]))
    return clamp_s8(requantize(acc, mult, shift) + zp_out, *act_range(node))
