"""FUSED_EXPAND_DEPTHWISE: a 1x1 expand CONV2D then a DEPTHWISE_CONV2D, one channel at a time.

x [1, H, W, C_in] int8; w1 [C_exp, 1, 1, C_in], b1 [C_exp] (the expand conv); w2 [1, KH, KW,
C_exp], b2 [C_exp] (the depthwise conv).  For each expanded channel c: m = clamp(requant(b1[c] +
sum (x - zp_x) * w1[c]) + zp_mid) into the expand clamp, an [H, W] map (the only intermediate
the C kernel holds), then output channel c = the depthwise conv of m, requantized per channel.
Bit-identical to CONV2D followed by DEPTHWISE_CONV2D: the same integer sums and per-channel
multipliers, only the loop order differs.
"""

from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, OpKind
from ...registry import implements
from ..requant import clamp_s8, multipliers, requantize, saturate_int32
from ._common import exact_matmul, tensor_qparams, windows


@implements(OpKind.FUSED_EXPAND_DEPTHWISE, "reference")
def fused_expand_depthwise(g: Graph, node: Node, x: np.ndarray, w1: np.ndarray, b1: np.ndarray,
                           w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    s_x, zp_x = tensor_qparams(g, node.inputs[0])
    s_out, zp_out = tensor_qparams(g, node.outputs[0])
    s_mid, zp_mid = np.float64(node.attrs["mid_scale"]), int(node.attrs["mid_zero_point"])
    s_w1 = np.asarray(g.tensors[node.inputs[1]].qparams.scale, dtype=np.float64)
    s_w2 = np.asarray(g.tensors[node.inputs[3]].qparams.scale, dtype=np.float64)
    m1, sh1 = multipliers(np.float64(s_x) * s_w1 / s_mid)
    m2, sh2 = multipliers(s_mid * s_w2 / np.float64(s_out))
    _, kh, kw, c_exp = w2.shape
    pixels = x.astype(np.int64).reshape(-1, x.shape[-1]) - zp_x
    out = []
    for c in range(c_exp):
        acc = exact_matmul(pixels, w1[c].reshape(-1, 1)).reshape(x.shape[:3]) + int(b1[c])
        mid = clamp_s8(requantize(saturate_int32(acc), m1[c], sh1[c]) + zp_mid,
                       node.attrs["expand_act_min"], node.attrs["expand_act_max"])
        win = windows(mid.astype(np.int64)[..., None] - zp_mid, (kh, kw), node.attrs["stride"],
                      node.attrs["pads"])[..., 0, :, :]
        acc2 = np.einsum("nhwij,ij->nhw", win, w2[0, :, :, c].astype(np.int64)) + int(b2[c])
        out.append(clamp_s8(requantize(saturate_int32(acc2), m2[c], sh2[c]) + zp_out,
                            node.attrs["act_min"], node.attrs["act_max"]))
    return np.stack(out, axis=-1)
