"""Helpers of the backward kernels: dequantization and zero padding."""

from __future__ import annotations

import numpy as np

from ...ir import Graph


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


def pad_hw(x: np.ndarray, pads) -> np.ndarray:
    """[H, W, C] -> zero-padded [H + top + bottom, W + left + right, C] (zero = the real zero)."""
    top, left, bottom, right = pads
    return np.pad(x, ((top, bottom), (left, right), (0, 0)))
