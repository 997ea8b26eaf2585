"""tte_requant.h (through a test shim) against hand-computed values and the oracle."""

from __future__ import annotations

import numpy as np
import pytest

from tinyengine_compiler.ir.quant import quantize_multiplier

from . import oracle


def test_requantize_hand_computed(runtime):
    half = 1 << 30  # Q31 of 0.5
    assert runtime.requantize(100, half, 0) == 50
    assert runtime.requantize(101, half, 0) == 51    # 50.5 -> 51: ties round up
    assert runtime.requantize(-101, half, 0) == -50  # -50.5 -> -50
    assert runtime.requantize(10, half, 3) == 40     # 10 * 0.5 * 8
    assert runtime.requantize(100, half, -2) == 13   # 12.5 -> 13: one rounding, ties up
    assert runtime.requantize(-100, half, -2) == -12  # -12.5 -> -12: ... also for negatives
    assert runtime.requantize(5, half, -1) == 1       # 1.25: no double rounding (that gives 2)


def _in_domain(val: int, m: int, s: int) -> bool:
    """tte_requantize's precondition: the once-shifted product |val * m| >> (30 - s) fits int32
    with room for the rounding increment, i.e. |val * m * 2^(s - 31)| < 2^30 - 1/2."""
    return abs(val * m) >> (30 - s) < (1 << 31) - 1


def test_requantize_random_against_oracle(runtime):
    rng = np.random.default_rng(11)
    reals = np.exp(rng.uniform(np.log(1e-9), np.log(50.0), 4000))
    for real, val in zip(reals, rng.integers(-(1 << 31), 1 << 31, reals.size)):
        m, s = quantize_multiplier(float(real))
        while not _in_domain(int(val), m, s):
            val = int(val) >> 1
        got = runtime.requantize(int(val), m, s)
        assert got == int(oracle.requantize(int(val), m, s)), (val, m, s)


def test_requantize_extreme_shifts(runtime):
    for s in (-31, -30, -1, 0, 1, 29, 30):
        for m in (1 << 30, (1 << 31) - 1, 1518500250):
            for val in (0, 1, -1, 2, -2, 12345, -12345):
                if _in_domain(val, m, s):
                    assert runtime.requantize(val, m, s) == int(oracle.requantize(val, m, s)), (val, m, s)
        for val in ((1 << 31) - 1, -(1 << 31)):
            if _in_domain(val, (1 << 31) - 1, s):
                assert runtime.requantize(val, (1 << 31) - 1, s) == int(oracle.requantize(val, (1 << 31) - 1, s))


def test_requantize_fast_equals_requantize(runtime):
    """tte_requantize_fast (SMMLA + ASR for shift < -1) gives tte_requantize's integer on its domain."""
    import ctypes
    fast = runtime.lib.tte_test_requantize_fast
    fast.argtypes, fast.restype = [ctypes.c_int32] * 3, ctypes.c_int32
    rng = np.random.default_rng(12)
    reals = np.exp(rng.uniform(np.log(1e-9), np.log(50.0), 4000))
    cases = [(int(v), *quantize_multiplier(float(r))) for r, v in
             zip(reals, rng.integers(-(1 << 31), 1 << 31, reals.size))]
    cases += [(v, m, s) for s in (-31, -30, -2, -1, 0, 1, 30) for m in (1 << 30, (1 << 31) - 1)
              for v in (0, 1, -1, 3, -3, (1 << 31) - 1, -(1 << 31))]
    for val, m, s in cases:
        while val not in (0, -1) and not _in_domain(val, m, s):
            val >>= 1
        if not _in_domain(val, m, s):
            continue
        assert fast(val, m, s) == runtime.requantize(val, m, s), (val, m, s)
