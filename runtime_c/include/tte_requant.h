/*
 * tte_requant.h: fixed-point requantization, bit-exact with CMSIS-NN's arm_nn_requantize
 * built with CMSIS_NN_USE_SINGLE_ROUNDING (see docs/numerics.md for why single rounding).
 *
 *   requant(v, m, s) = ((int64(v) * m) >> (30 - s) + 1) >> 1
 *
 * i.e. v * m * 2^(s - 31) rounded once, to nearest with ties toward +infinity.  m is a Q31
 * multiplier in [2^30, 2^31) and s <= 30, so the product fits int64 and the shift is >= 0.
 * The shifted product is narrowed to int32 before the final step, as CMSIS-NN does, so the
 * precondition is |v * m * 2^(s - 31)| < 2^30 - 1/2: results well inside int32, as every
 * caller has (requantized accumulators are int8-sized; ADD's scaled inputs stay below 2^28).  Right shifts of negative values are arithmetic (GCC, Clang
 * and Arm Compiler all define them so).  Only integer arithmetic: no float.
 */
#ifndef TTE_REQUANT_H
#define TTE_REQUANT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Scale an int32 accumulator by multiplier * 2^(shift - 31), rounded once; see above. */
static inline int32_t tte_requantize(int32_t val, int32_t multiplier, int32_t shift)
{
    const int32_t halves = (int32_t)(((int64_t)val * multiplier) >> (30 - shift));
    return (halves + 1) >> 1;
}

/** tte_requantize with the same result, faster when shift < 0 (a multiplier below 1/2, as
 *  almost every layer has): ((P >> n) + 1) >> 1 == (P + 2^n) >> (n + 1) for P = v * m and
 *  n = 30 - shift, and for shift < 0 that shift is >= 32, so the result is the high word of
 *  one 64-bit multiply-accumulate shifted right by -1 - shift (in [0, 30]): SMLAL + ASR on
 *  the Cortex-M7 instead of a variable 64-bit shift.  Same precondition as tte_requantize
 *  (the result well inside int32), under which both give the same integer. */
static inline int32_t tte_requantize_fast(int32_t val, int32_t multiplier, int32_t shift)
{
    if (shift < 0) {
        const int64_t round = (int64_t)1 << (30 - shift);
        const int32_t high = (int32_t)(((int64_t)val * multiplier + round) >> 32);
        return high >> (-1 - shift);
    }
    return tte_requantize(val, multiplier, shift);
}

/** Clamp an int32 to [lo, hi] and narrow it to int8 (lo, hi within int8). */
static inline int8_t tte_clamp_s8(int32_t v, int32_t lo, int32_t hi)
{
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int8_t)v;
}

#ifdef __cplusplus
}
#endif

#endif /* TTE_REQUANT_H */
