"""Helpers shared by the op files: quantization lookups, sliding windows, the two epilogues.

Every helper is pure; values are int64 numpy arrays until the final int8 narrowing.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...ir import Graph, Node
from ..requant import clamp_s8, multipliers, requantize, rounded_divide, saturate_int32

INT8_MIN, INT8_MAX = -128, 127


def tensor_qparams(g: Graph, name: str) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor int8 tensor; the scale is the stored float32 value."""
    qp = g.tensors[name].qparams
    return float(qp.scale[0]), int(qp.zero_point[0])


def act_range(node: Node) -> tuple[int, int]:
    """The fused output clamp; ops without one (pools) clamp to the int8 range."""
    lo, hi = node.attrs.get("act_min"), node.attrs.get("act_max")
    return (INT8_MIN if lo is None else int(lo)), (INT8_MAX if hi is None else int(hi))


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            pads: tuple[int, int, int, int], fill: int = 0) -> np.ndarray:
    """NHWC x -> view [N, OH, OW, C, KH, KW] of every kernel window, padded with `fill`."""
    top, left, bottom, right = pads
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    view = sliding_window_view(padded, tuple(kernel), axis=(1, 2))
    return view[:, ::stride[0], ::stride[1]]


def exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer a @ b through float64 BLAS, exact: every partial sum is an integer below 2^53
    (|x - zp| <= 255, |w| <= 128, so 2^15 per product and 2^38 products to spare)."""
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def weighted_epilogue(g: Graph, node: Node, acc: np.ndarray) -> np.ndarray:
    """Exact bias + sum accumulators [..., C_out] of CONV2D / DEPTHWISE_CONV2D /
    FULLY_CONNECTED -> int8: saturate to int32, requantize per channel by s_in * s_w[c] / s_out
    (float64 from the float32 scales), add the output zero point, clamp to the fused range.

    The saturation matters: the paper's models store the biases of dead channels as -2^31 or
    2^31 - 1, so bias + sum leaves int32, and wrapping would flip the output to the other clamp."""
    s_in, _ = tensor_qparams(g, node.inputs[0])
    s_out, zp_out = tensor_qparams(g, node.outputs[0])
    s_w = np.asarray(g.tensors[node.inputs[1]].qparams.scale, dtype=np.float64)
    s_w = np.broadcast_to(s_w, acc.shape[-1:])
    mult, shift = multipliers(np.float64(s_in) * s_w / np.float64(s_out))
    return clamp_s8(requantize(saturate_int32(acc), mult, shift) + zp_out, *act_range(node))


def average_epilogue(g: Graph, node: Node, total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Sums of raw int8 inputs over `count` taps -> int8 averages.

    Equal input and output quantization: a rounded division (CMSIS-NN's average pool).
    Different: requantize (total - count * zp_in) by s_in / (s_out * count), add zp_out."""
    s_in, zp_in = tensor_qparams(g, node.inputs[0])
    s_out, zp_out = tensor_qparams(g, node.outputs[0])
    count = np.broadcast_to(np.asarray(count, dtype=np.int64), total.shape)
    if (s_in, zp_in) == (s_out, zp_out):
        return clamp_s8(rounded_divide(total, count), *act_range(node))
    mult, shift = multipliers(np.float64(s_in) / (np.float64(s_out) * count))
    return clamp_s8(requantize(total - count * zp_in, mult, shift) + zp_out, *act_range(node))
