"""Integer requantization, vectorized over numpy arrays, bit-exact with the C runtime.

Takes int64 arrays of int32 values (accumulators) and integer multipliers/shifts from
`ir.quant.quantize_multiplier`; guarantees the exact results of `tte_requantize` in
runtime_c/include/internal/tte_requant.h, which is CMSIS-NN's `arm_nn_requantize` built with
CMSIS_NN_USE_SINGLE_ROUNDING:

    requantize(v, m, s) = (int32((v * m) >> (30 - s)) + 1) >> 1

that is v * m * 2^(s - 31) rounded once, ties toward +infinity.  `requantize` takes values
within int32; the shifted product is narrowed to int32 as the C does.  All arithmetic is
int64: no float touches a value, only the compile-time multipliers.
"""

from __future__ import annotations

import numpy as np

from ..ir.quant import quantize_multiplier

_INT32_SPAN = 1 << 32
_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1


def _wrap_int32(v: np.ndarray) -> np.ndarray:
    """int64 values reduced to int32 two's complement (what an int32 register holds), as int64."""
    return (v - _INT32_MIN) % _INT32_SPAN + _INT32_MIN


def saturate_int32(v: np.ndarray) -> np.ndarray:
    """int64 values clamped to the int32 range (Arm's QADD when adding a bias)."""
    return np.clip(v, _INT32_MIN, _INT32_MAX)


def requantize(v: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """v * multiplier * 2^(shift - 31), rounded once (ties up), as int64 holding int32 results."""
    v = np.asarray(v, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    halves = _wrap_int32((v * np.asarray(multiplier, dtype=np.int64)) >> (30 - shift))
    return (halves + 1) >> 1


def multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Element-wise `quantize_multiplier` over float64 reals: (Q31 multipliers, shifts) as int64."""
    reals = np.asarray(reals, dtype=np.float64)
    distinct, index = np.unique(reals, return_inverse=True)  # a pool has a few distinct counts
    pairs = np.array([quantize_multiplier(float(r)) for r in distinct], dtype=np.int64).reshape(-1, 2)
    return pairs[index, 0].reshape(reals.shape), pairs[index, 1].reshape(reals.shape)


def rounded_divide(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """total / count rounded half away from zero, as the C's (total +- count/2) / count with
    truncating division; count > 0."""
    total = np.asarray(total, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    magnitude = (np.abs(total) + count // 2) // count
    return np.where(total > 0, magnitude, -magnitude)


def clamp_s8(v: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Clamp to [lo, hi] (an int8 sub-range) and narrow to int8."""
    return np.clip(v, lo, hi).astype(np.int8)
