/*
 * tte_mathf.h: TRAINING (float32) exp and log built from basic IEEE float operations, bit for
 * bit the functions of tinyengine_compiler/reference/backward/mathf.py.
 *
 * Only +, -, *, /, comparisons, float <-> int conversions and exact power-of-two scaling
 * through the exponent bits are used, each rounded to float32; no libm, no double.  The
 * constants are the float32 roundings of the reference's constants, written as hexadecimal
 * literals so that no decimal-to-binary conversion can differ.  Bit-exactness needs IEEE
 * float32 arithmetic with round to nearest, subnormals kept (Cortex-M7: FPSCR.FZ = 0, the
 * reset value) and no contraction into fused multiply-add: build with -ffp-contract=off and
 * without -ffast-math (the default in ISO C modes such as -std=c99).
 *
 *   tte_expf(x): x clamped to [-87, 88]; n = floor(x * log2(e) + 0.5);
 *                r = (x - n * LN2_HI) - n * LN2_LO; degree-7 Taylor polynomial of e^r in
 *                Horner form; times 2^n (n in [-126, 127], so 2^n is a normal float).
 *   tte_logf(x), x > 0: x = m * 2^e (frexp), m in [sqrt(1/2), sqrt(2)); f = m - 1;
 *                s = f / (2 + f); log(m) = s * atanh series in z = s * s (Horner);
 *                result (log(m) + e * LN2_LO) + e * LN2_HI.
 *   tte_roundf(x): C's roundf without libm (the int8 / int32 SGD updates).
 *   tte_floorf(x): C's floorf without libm (their stochastic rounding).
 * A NaN argument returns NaN (the reference gives NaN too, possibly another payload).
 */
#ifndef TTE_MATHF_H
#define TTE_MATHF_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The bits of a float32. */
static inline uint32_t tte_f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/** 1 when x is a NaN, by its bits: the engine is built with -fno-fast-math, but a comparison
 *  x != x would be folded away by a build that is not (plain -Ofast assumes no NaNs). */
static inline int32_t tte_f32_is_nan(float x)
{
    return (tte_f32_bits(x) & 0x7FFFFFFFu) > 0x7F800000u;
}

/** The float32 with the given bits. */
static inline float tte_f32_from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/** e^x, bit for bit mathf.exp (float32). */
static inline float tte_expf(float x)
{
    const float log2_e = 0x1.715476p+0f;
    const float ln2_hi = 0x1.62e4p-1f;
    const float ln2_lo = 0x1.7f7d1cp-20f;
    float t, nf, r, p;
    int32_t n;
    if (tte_f32_is_nan(x)) {
        return x;
    }
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    t = x * log2_e + 0.5f; /* two roundings: the product, then the sum */
    n = (int32_t)t;        /* toward zero; |t| < 128 */
    n = (float)n > t ? n - 1 : n;
    nf = (float)n;
    r = (x - nf * ln2_hi) - nf * ln2_lo;
    p = 0x1.a01a02p-13f; /* 1/5040 */
    p = p * r + 0x1.6c16c2p-10f; /* 1/720 */
    p = p * r + 0x1.111112p-7f;  /* 1/120 */
    p = p * r + 0x1.555556p-5f;  /* 1/24 */
    p = p * r + 0x1.555556p-3f;  /* 1/6 */
    p = p * r + 0x1.0p-1f;       /* 1/2 */
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * tte_f32_from_bits((uint32_t)(n + 127) << 23); /* ldexp: one rounding */
}

/** frexp for float32: x = m * 2^e with |m| in [0.5, 1); 0, inf and NaN give (x, 0). */
static inline float tte_frexpf(float x, int32_t *e)
{
    uint32_t u = tte_f32_bits(x);
    int32_t biased = (int32_t)((u >> 23) & 0xffu);
    int32_t adjust = 0;
    if (biased == 0xff || (u & 0x7fffffffu) == 0u) {
        *e = 0;
        return x;
    }
    if (biased == 0) { /* subnormal: scale into the normal range, exactly */
        u = tte_f32_bits(x * 0x1p25f);
        biased = (int32_t)((u >> 23) & 0xffu);
        adjust = 25;
    }
    *e = biased - 126 - adjust;
    return tte_f32_from_bits((u & 0x807fffffu) | (126u << 23));
}

/** Natural logarithm for x > 0, bit for bit mathf.log (float32). */
static inline float tte_logf(float x)
{
    const float ln2_hi = 0x1.62e4p-1f;
    const float ln2_lo = 0x1.7f7d1cp-20f;
    const float sqrt_half = 0x1.6a09e6p-1f;
    int32_t e;
    float m, ef, f, s, z, p;
    if (tte_f32_is_nan(x)) {
        return x;
    }
    m = tte_frexpf(x, &e);
    if (m < sqrt_half) {
        m = m * 2.0f;
        e = e - 1;
    }
    ef = (float)e;
    f = m - 1.0f;
    s = f / (2.0f + f);
    z = s * s;
    p = 0x1.745d18p-3f;          /* 2/11 */
    p = p * z + 0x1.c71c72p-3f;  /* 2/9 */
    p = p * z + 0x1.24924ap-2f;  /* 2/7 */
    p = p * z + 0x1.99999ap-2f;  /* 2/5 */
    p = p * z + 0x1.555556p-1f;  /* 2/3 */
    p = p * z + 2.0f;
    return (s * p + ef * ln2_lo) + ef * ln2_hi;
}

/** roundf: to nearest, ties away from zero (exact: no x + 0.5 step); sgd_update.py's
 *  round_half_away.  |x| >= 2^23, inf and NaN are returned as they are. */
static inline float tte_roundf(float x)
{
    float whole, frac;
    if (!(x > -8388608.0f && x < 8388608.0f)) {
        return x;
    }
    whole = (float)(int32_t)x; /* toward zero, exact below 2^23 */
    frac = x - whole;          /* exact */
    if (frac >= 0.5f) {
        whole = whole + 1.0f;
    } else if (frac <= -0.5f) {
        whole = whole - 1.0f;
    }
    return whole;
}

/** floorf: the largest whole number <= x (exact).  |x| >= 2^23, inf and NaN are returned as
 *  they are; numpy's floor on float32. */
static inline float tte_floorf(float x)
{
    float whole;
    if (!(x > -8388608.0f && x < 8388608.0f)) {
        return x;
    }
    whole = (float)(int32_t)x; /* toward zero, exact below 2^23 */
    return whole > x ? whole - 1.0f : whole;
}

#ifdef __cplusplus
}
#endif

#endif /* TTE_MATHF_H */
