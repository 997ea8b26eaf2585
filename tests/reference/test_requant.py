"""Integer requantization against exact rational evaluations of the formulas in docs/numerics.md.

The oracle evaluates each documented rounding with fractions.Fraction and Python ints, one value
at a time, without the bit tricks (masks, thresholds, arithmetic shifts) the executor uses.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from tinyengine_compiler.ir.quant import quantize_multiplier
from tinyengine_compiler.reference.requant import multipliers, requantize, rounded_divide, saturate_int32

HALF = Fraction(1, 2)


def _half_up(q: Fraction) -> int:
    return math.floor(q + HALF)


def _half_away(q: Fraction) -> int:
    return int(math.copysign(math.floor(abs(q) + HALF), q)) if q else 0


def _oracle(v: int, m: int, shift: int) -> int:
    """round_half_up(v * m * 2^(shift - 31)): one rounding of the exact product."""
    return _half_up(Fraction(v * m) * Fraction(2) ** (shift - 31))


def test_requantize_matches_the_rational_oracle_on_random_values():
    rng = np.random.default_rng(0)
    shift = rng.integers(-31, 31, 4000)
    m = rng.integers(1 << 30, 1 << 31, 4000)
    # keep |v * m * 2^(shift - 31)| below 2^30 (the documented precondition): |v| < 2^(30 - shift)
    bound = np.int64(1) << np.minimum(30 - shift, 31)
    v = (rng.random(4000) * 2 - 1) * bound
    v = np.clip(v.astype(np.int64), -bound + 1, bound - 1)
    got = requantize(v, m, shift)
    want = [_oracle(int(a), int(b), int(c)) for a, b, c in zip(v, m, shift)]
    assert got.tolist() == want


@pytest.mark.parametrize("v,m,shift,want", [
    (3, 1 << 30, 0, 2),          # 1.5 -> 2: half up
    (-3, 1 << 30, 0, -1),        # -1.5 -> -1: half up; TFLite's SaturatingRoundingDoublingHighMul gives -2
    (5, 1 << 30, -1, 1),         # 5/4 = 1.25 -> 1 (double rounding would give 2.5 -> 3 -> 1.5 -> 2)
    (-6, 1 << 30, -1, -1),       # -6/4 = -1.5 -> -1 (half up, not away from zero)
    (-5, 1 << 30, -1, -1),       # -5/4 = -1.25 -> -1
    (1000, (1 << 31) - 1, 0, 1000),
    (-(1 << 31), (1 << 31) - 1, -1, -(1 << 30) + 1),  # -2^30 * (1 - 2^-31) = -2^30 + 0.5 -> up
    (7, 1 << 30, 3, 28),         # left shift: 7 * 8 * 0.5
    (12345, 1 << 30, -31, 0),    # 12345 / 2^32 rounds to 0
    ((1 << 31) - 1, 1 << 30, -30, 1),  # (2^31-1) / 2^31: just below 1 -> 1
])
def test_requantize_hand_computed_cases(v, m, shift, want):
    assert int(requantize(np.int64(v), m, shift)) == want == _oracle(v, m, shift)


def test_rounded_divide_is_half_away_from_zero():
    total = np.arange(-2000, 2001, dtype=np.int64)
    for count in (1, 2, 4, 9, 16, 49):
        want = [_half_away(Fraction(int(t), count)) for t in total]
        assert rounded_divide(total, count).tolist() == want


def test_saturate_int32_clamps_only_out_of_range_values():
    v = np.array([-(1 << 40), -(1 << 31) - 1, -(1 << 31), 0, (1 << 31) - 1, 1 << 31], dtype=np.int64)
    assert saturate_int32(v).tolist() == [-(1 << 31), -(1 << 31), -(1 << 31), 0, (1 << 31) - 1, (1 << 31) - 1]


def test_quantize_multiplier_reconstructs_the_real_within_2_pow_minus_31():
    rng = np.random.default_rng(1)
    reals = np.concatenate([10.0 ** rng.uniform(-9, 9, 2000), [2.0 ** -31, 0.5, 1.0, 1 - 2 ** -40, 2.0 ** 29]])
    for r in reals:
        m, shift = quantize_multiplier(float(r))
        assert (1 << 30) <= m < (1 << 31)
        got = Fraction(m) * Fraction(2) ** (shift - 31)
        assert abs(got - Fraction(float(r))) <= Fraction(float(r)) * Fraction(1, 1 << 31)


def test_multipliers_is_quantize_multiplier_elementwise():
    reals = np.array([[3e-4, 0.5], [3e-4, 1.75]])
    m, s = multipliers(reals)
    assert m.shape == s.shape == (2, 2)
    for r, mi, si in zip(reals.ravel(), m.ravel(), s.ravel()):
        assert (int(mi), int(si)) == quantize_multiplier(float(r))
