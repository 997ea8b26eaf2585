"""Fixed-point requantization parameters, as TFLite and CMSIS-NN define them.

A real multiplier M > 0 is written M = m * 2^shift with m in [0.5, 1), and m is stored as the
Q31 integer round(m * 2^31).  The computation runs in float64 on the host, at compile time;
the device only ever sees the integers.
"""

from __future__ import annotations

import math

Q31_ONE = 1 << 31


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(multiplier, shift) with real ~= multiplier * 2^(shift - 31); shift > 0 is a left shift."""
    if real <= 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real)
    q = int(math.floor(mantissa * Q31_ONE + 0.5))  # half away from zero, as std::round
    if q == Q31_ONE:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ValueError(f"requantization multiplier {real} is too large for Q31")
    return q, shift
