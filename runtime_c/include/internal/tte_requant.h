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

#include "internal/tte_dsp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Scale an int32 accumulator by multiplier * 2^(shift - 31), rounded once; see above. */
static inline int32_t tte_requantize(int32_t val, int32_t multiplier, int32_t shift)
{
    const int32_t halves = (int32_t)(((int64_t)val * multiplier) >> (30 - shift));
    return (halves + 1) >> 1;
}

/** One channel's requantization constants, worked out once per channel rather than per
 *  output.  For shift < -1 (a multiplier below 1/4, as almost every layer has):
 *  ((P >> n) + 1) >> 1 == (P + 2^n) >> (n + 1) for P = v * m and n = 30 - shift, a shift of
 *  32 + rs with rs = -1 - shift in [1, 30]; the rounding term 2^(31 + rs) then has a zero
 *  low word, so it can be added to the high word of P instead:
 *  (floor(P / 2^32) + 2^(rs - 1)) >> rs, one SMMLA and one ASR on the Cortex-M7 instead of a
 *  variable 64-bit shift.  Same precondition as tte_requantize, under which both give the
 *  same integer. */
typedef struct {
    int32_t mult, shift, rs, half; /* rs and half = 2^(rs - 1) when shift < -1, else 0 */
} tte_requant_ch;

static inline tte_requant_ch tte_requant_ch_of(int32_t multiplier, int32_t shift)
{
    tte_requant_ch r;
    r.mult = multiplier;
    r.shift = shift;
    r.rs = shift < -1 ? -1 - shift : 0;
    r.half = shift < -1 ? (int32_t)1 << (r.rs - 1) : 0;
    return r;
}

/** tte_requantize(val, r->mult, r->shift); fast: the caller knows r->shift < -1, so no test. */
static inline int32_t tte_requant_ch_apply(int32_t val, const tte_requant_ch *r, int32_t fast)
{
    return fast || r->shift < -1 ? tte_smmla(val, r->mult, r->half) >> r->rs
                                 : tte_requantize(val, r->mult, r->shift);
}

/** tte_requantize with the same result, faster for shift < -1 (tte_requant_ch). */
static inline int32_t tte_requantize_fast(int32_t val, int32_t multiplier, int32_t shift)
{
    const tte_requant_ch r = tte_requant_ch_of(multiplier, shift);
    return tte_requant_ch_apply(val, &r, 0);
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
