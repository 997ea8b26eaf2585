"""REAL_LOGITS: the classifier's inputs x (saved int8), w int8 [K, in], bias int32 [K] ->
its real logits z [N, K] before requantization and clamp, which the loss reads.

  acc = saturate_int32(bias + sum_i (x_i - zp_in) * w[o, i])   (the FULLY_CONNECTED's own
                                                                accumulator, exact)
  z[o] = float32(acc[o]) * scale[o]                            (int32 -> float32 rounded to
                                                                nearest, one rounded multiply)

scale is the node's attribute, float32(s_in * s_w[o]).  Given real values instead (the
gradient checker's float64, the fp32 trainer's float32), z = bias + x_0 w[o, 0] + x_1 w[o, 1]
+ ..., one rounded addition at a time in input order: the real-valued classifier.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ..ops.fully_connected import accumulator
from ..requant import saturate_int32
from ._common import add_in_order, real


@implements(OpKind.REAL_LOGITS, "reference")
def real_logits(g: Graph, node: Node, x: np.ndarray, w: np.ndarray, bias: np.ndarray, *, dtype) -> np.ndarray:
    if np.asarray(x).dtype.kind != "f":
        acc = saturate_int32(accumulator(g, node, x, w, bias))
        return acc.astype(dtype) * np.asarray(node.attrs["scale"], dtype)
    x = real(g, node.inputs[0], x, dtype).reshape(np.shape(x)[0], -1)
    w = real(g, node.inputs[1], w, dtype)
    bias = real(g, node.inputs[2], bias, dtype)
    z = np.broadcast_to(bias, (x.shape[0], w.shape[0])).astype(dtype)
    return add_in_order(z, lambda s: x[:, s].T[..., None] * w[:, s].T[:, None, :], x.shape[1])
