"""ADD: a, b int8 of the same shape, each with its own quantization; the TFLite/CMSIS-NN int8 add.

Both operands are brought to a common fixed-point scale 2 * max(s_a, s_b) / 2^20:
    a' = requantize((a - zp_a) << 20, M(s_a / (2 max)))      and the same for b,
    out = clamp(requantize(a' + b', M(2 max / (2^20 s_out))) + zp_out, act_min, act_max)
where M is `quantize_multiplier` of the float64 real computed from the float32 scales.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ..requant import clamp_s8, multipliers, requantize
from ._common import act_range, tensor_qparams

LEFT_SHIFT = 20


@implements(OpKind.ADD, "reference")
def add(g: Graph, node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s_a, zp_a = tensor_qparams(g, node.inputs[0])
    s_b, zp_b = tensor_qparams(g, node.inputs[1])
    s_out, zp_out = tensor_qparams(g, node.outputs[0])
    twice_max = 2.0 * max(np.float64(s_a), np.float64(s_b))
    mult, shift = multipliers(np.array([s_a / twice_max, s_b / twice_max,
                                        twice_max / ((1 << LEFT_SHIFT) * np.float64(s_out))]))
    a_scaled = requantize((a.astype(np.int64) - zp_a) << LEFT_SHIFT, mult[0], shift[0])
    b_scaled = requantize((b.astype(np.int64) - zp_b) << LEFT_SHIFT, mult[1], shift[1])
    return clamp_s8(requantize(a_scaled + b_scaled, mult[2], shift[2]) + zp_out, *act_range(node))
