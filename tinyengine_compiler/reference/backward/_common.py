"""Helpers of the backward kernels: dequantization and sums in a fixed order."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...ir import Graph, Node
from ..ops._common import windows


def real(g: Graph, name: str, value: np.ndarray, dtype) -> np.ndarray:
    """The real value of tensor `name` in `dtype`: floating values are taken as they are;
    integer ones are dequantized as float(q - zp) * scale (per channel along the QParams axis):
    the integer difference is exact in float32 for int8 data, then one rounded multiply."""
    value = np.asarray(value)
    if value.dtype.kind == "f":
        return value.astype(dtype, copy=False)
    qp = g.tensors[name].qparams
    shape = [1] * value.ndim
    if qp.axis is not None:
        shape[qp.axis] = -1
    scale = np.asarray(qp.scale, dtype=dtype).reshape(shape)
    zero = np.asarray(qp.zero_point, dtype=np.int64).reshape(shape)
    return (value.astype(np.int64) - zero).astype(dtype) * scale


def pixel_windows(g: Graph, node: Node, x: np.ndarray, out_hw: tuple[int, int], dtype) -> np.ndarray:
    """The real, zero-padded kernel window of x (NHWC, batch 1) under every output pixel of
    `node` (its kernel, stride and pads), row-major: [OH * OW, KH, KW, C]."""
    (oh, ow), (kh, kw) = out_hw, node.attrs["kernel"]
    win = windows(real(g, node.inputs[0], x, dtype), node.attrs["kernel"], node.attrs["stride"], node.attrs["pads"])
    return win[0, :oh, :ow].transpose(0, 1, 3, 4, 2).reshape(oh * ow, kh, kw, -1)


# Elements of one block of terms in add_in_order: bounds its memory (16 MB of float32).
_BLOCK_ELEMENTS = 1 << 22


def add_in_order(total: np.ndarray, terms: Callable[[slice], np.ndarray], n: int) -> np.ndarray:
    """total + t_0 + t_1 + ... + t_{n-1}, one rounded addition at a time in that order, where
    terms(slice(a, b)) returns t_a .. t_{b-1} stacked on axis 0.

    The C kernels add their terms one by one, so the reference must round the same sums in
    the same order (np.sum adds in pairs, and np.add.accumulate along axis 0 is slower than
    this loop).  The products of a block of terms are made in one vectorized multiply and
    only the additions loop; blocks bound the memory a 64 x 64 feature map's products take."""
    total = total.copy()
    per = max(1, _BLOCK_ELEMENTS // max(1, total.size))
    for start in range(0, n, per):
        for term in terms(slice(start, min(n, start + per))):
            total += term
    return total
