"""legalize_bias: int32 biases that a C accumulator starting at the bias can hold.

Takes: an int8 forward Graph.  Guarantees: the same Graph, except that a weighted node's bias
is moved inside int32 where `bias + sum` could overflow, and only where that provably changes
no output (below).  Every later stage (the reference trainer, the C) then works on the legal
biases, so they agree bit for bit, also after training updates them.  Leaves nothing to later
passes; codegen checks that its input is legal.

The executor computes `saturate_int32(bias + sum)`.  The paper's models store the bias of some
dead channels as -2^31 or 2^31 - 1, where `bias + sum` leaves int32; a C kernel accumulating
in int32 would wrap and flip the output to the other clamp.  For each output channel this
finds the range [lo, hi] that `sum` can take over all int8 inputs (padding taps contribute 0),
moves the bias just far enough inside int32 that `bias' + sum` cannot overflow, and proves the
move changes nothing: every output the channel can produce, before and after, clamps to the
same value.  A channel whose outputs could change is a compile error, never a silent change.
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedError
from ..ir import Graph, OpKind
from ..ir.ops import WEIGHTED_OPS
from ..ir.quant import quantize_multiplier

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def _requantize(v: int, multiplier: int, shift: int) -> int:
    return ((v * multiplier >> (30 - shift)) + 1) >> 1


def legalize_bias(node_name: str, weights: np.ndarray, bias: np.ndarray, input_zero: int,
                  reals: np.ndarray, output_zero: int, act_min: int, act_max: int) -> np.ndarray:
    """weights [C_out, taps] int8, bias [C_out] int32, reals[c] = s_in * s_w[c] / s_out."""
    w = weights.astype(np.int64)
    low_x, high_x = -128 - input_zero, 127 - input_zero            # x - zp over all int8 x
    lo = np.minimum(w * low_x, w * high_x).clip(max=0).sum(axis=1)  # padding taps give 0
    hi = np.maximum(w * low_x, w * high_x).clip(min=0).sum(axis=1)
    b = bias.astype(np.int64)
    legal = np.clip(b, INT32_MIN - lo, INT32_MAX - hi)
    for c in np.nonzero(legal != b)[0]:
        m, s = quantize_multiplier(float(reals[c]))

        def clamp(acc: int) -> int:
            out = _requantize(int(np.clip(acc, INT32_MIN, INT32_MAX)), m, s) + output_zero
            return min(max(out, act_min), act_max)

        before = {clamp(b[c] + lo[c]), clamp(b[c] + hi[c])}
        after = {clamp(legal[c] + lo[c]), clamp(legal[c] + hi[c])}
        if len(before) != 1 or before != after:
            raise UnsupportedError(f"node '{node_name}': channel {c} has bias {b[c]}, which can overflow an "
                                   "int32 accumulator, and its outputs would change if it were clamped")
    return legal.astype(np.int32)


def legal_bias(g: Graph, node) -> np.ndarray:
    """The legal bias of weighted node `node` (its own bias where that is already legal)."""
    x, w, b = (g.tensors[n] for n in node.inputs)
    (s_in,), (zp_in,) = x.qparams.scale, x.qparams.zero_point
    y = g.tensors[node.outputs[0]].qparams
    reals = np.float64(s_in) * np.asarray(w.qparams.scale, np.float64) / np.float64(y.scale[0])
    taps = w.data.reshape(-1, w.shape[-1]).T if node.op == OpKind.DEPTHWISE_CONV2D else w.data.reshape(w.shape[0], -1)
    return legalize_bias(node.name, taps, b.data, zp_in, reals, y.zero_point[0],
                         node.attrs.get("act_min", -128), node.attrs.get("act_max", 127))


def legalize_biases(g: Graph) -> Graph:
    g = g.copy()
    for node in g.nodes:
        if node.op in WEIGHTED_OPS:
            g.tensors[node.inputs[2]].data = legal_bias(g, node)
    return g
