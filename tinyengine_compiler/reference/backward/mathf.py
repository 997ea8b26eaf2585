"""exp and log from basic IEEE operations, so that C reproduces them bit for bit.

Only +, -, *, /, floor, comparisons and the exact power-of-two operations ldexp/frexp are used,
each rounded to `dtype` (float32 for training, float64 for the gradient checker); the C
versions use the same constants, the same Horner order and -ffp-contract=off.

exp(x): x clamped to [-87, 88]; n = floor(x * log2(e) + 0.5); r = (x - n * LN2_HI) - n * LN2_LO
  (Cody-Waite: LN2_HI has 16 significant bits, so n * LN2_HI is exact); e^r by its degree-7
  Taylor polynomial in Horner form (|r| <= ln2 / 2: truncation error < 1e-8); times 2^n.
log(x), x > 0: x = m * 2^e with m in [sqrt(1/2), sqrt(2)); f = m - 1 (exact); s = f / (2 + f);
  log(m) = 2 atanh(s) = s * (2 + z (2/3 + z (2/5 + z (2/7 + z (2/9 + z 2/11))))), z = s * s
  (|s| <= 0.1716: truncation error < 1e-9); result (log(m) + e * LN2_LO) + e * LN2_HI.
Relative error against the correctly rounded result: a few float32 ulps (tests: <= 1e-6).
"""

from __future__ import annotations

import numpy as np

LOG2_E = 1.4426950408889634
LN2_HI = 0.693145751953125        # 0x3F317200: ln 2 to 16 bits
LN2_LO = 1.4286067653302226e-06   # ln 2 - LN2_HI
SQRT_HALF = 0.70710678118654752
EXP_MIN, EXP_MAX = -87.0, 88.0
_EXP_TAYLOR = (1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1.0, 1.0)
_LOG_ATANH = (2 / 11, 2 / 9, 2 / 7, 2 / 5, 2 / 3, 2.0)


def _horner(coeffs, t, dtype):
    acc = np.full_like(t, dtype(coeffs[0]))
    for c in coeffs[1:]:
        acc = acc * t + dtype(c)
    return acc


def exp(x: np.ndarray, dtype=np.float32) -> np.ndarray:
    x = np.clip(np.asarray(x, dtype=dtype), dtype(EXP_MIN), dtype(EXP_MAX))
    n = np.floor(x * dtype(LOG2_E) + dtype(0.5))
    r = (x - n * dtype(LN2_HI)) - n * dtype(LN2_LO)
    return np.ldexp(_horner(_EXP_TAYLOR, r, dtype), n.astype(np.int32)).astype(dtype)


def log(x: np.ndarray, dtype=np.float32) -> np.ndarray:
    m, e = np.frexp(np.asarray(x, dtype=dtype))
    low = m < dtype(SQRT_HALF)
    m = np.where(low, m * dtype(2), m)
    e = np.where(low, e - 1, e).astype(dtype)
    f = m - dtype(1)
    s = f / (dtype(2) + f)
    log_m = s * _horner(_LOG_ATANH, s * s, dtype)
    return ((log_m + e * dtype(LN2_LO)) + e * dtype(LN2_HI)).astype(dtype)
