/*
 * tte_dsp.h: the few Armv7E-M DSP operations the int8 kernels use, with a plain-C twin.
 *
 * The kernels read int8 data four bytes at a time as one 32-bit word and work on two
 * 16-bit lanes at once, as the Cortex-M7's DSP extension does:
 *   tte_sxtb16(v)        lanes (int8 byte 0, int8 byte 2) of v, sign-extended to 16 bits
 *   tte_sxtb16_ror8(v)   lanes (byte 1, byte 3)
 *   tte_sxtab16(a, v)    lanes (a.lo + byte 0, a.hi + byte 2), each modulo 2^16
 *   tte_sxtab16_ror8     lanes (a.lo + byte 1, a.hi + byte 3)
 *   tte_smlad(a, b, c)   c + a.lo * b.lo + a.hi * b.hi (32-bit, wrapping)
 *   tte_smlabb / _smlatt c + a.lo * b.lo, c + a.hi * b.hi
 *   tte_pkhbt(a, b)      lanes (a.lo, b.lo); tte_pkhtb(a, b): lanes (a.hi, b.hi) (PKHBT, PKHTB)
 *   tte_smmla(a, b, c)   c + floor(a * b / 2^32) (64-bit product; SMMLA)
 *   tte_ssat16(v)        v saturated to [-2^15, 2^15 - 1] (SSAT #16)
 *   tte_ssat8(v)         v saturated to [-128, 127] (SSAT #8)
 *   tte_read2_next(&p, &lo, &hi)  lo = p[0], hi = p[1], p += 2 for a word-aligned int32
 *                        pointer (LDRD with post-increment: GCC splits a 64-bit load into two
 *                        LDRs and an ADD)
 *   tte_qadd16(a, b)     lanes (a.lo + b.lo, a.hi + b.hi), each saturated to int16
 *   tte_clamp16x2(v, lo, hi)  each lane of v clamped to [lo lane, hi lane] (SSUB16 + SEL,
 *                        twice: the GE flags never leave the one asm block)
 *
 * With __ARM_FEATURE_DSP (Cortex-M4/M7/M33...) each is one instruction (ACLE intrinsics from
 * <arm_acle.h>, and SXTB16/SXTAB16 with their free ROR #8 through inline assembly, which
 * GCC does not fold into the intrinsic, as SSAT, whose ACLE macro trips -Wsign-conversion,
 * and PKHBT/PKHTB, which ACLE does not have).  Everywhere else (the host tests, sanitizers) the
 * plain-C twin computes the same integers, so the kernels keep a single code path and the
 * host tests exercise exactly the loop structure the M7 runs; tests/qemu checks the
 * instruction path against the reference.  This header is the only place in runtime_c/
 * with an ISA #if (tests/c/test_warnings.py allows exactly __ARM_FEATURE_DSP, here).
 *
 * Lane values in the kernels are int8 + input_offset, |v| <= 255, and products of two
 * lanes fit int32 easily; sums stay within the int32 accumulator bound of tte_kernels.h.
 * tte_smmla's sum never wraps where it is used: |floor(a * b / 2^32)| <= 2^30 and
 * 0 <= c <= 2^29.
 */
#ifndef TTE_DSP_H
#define TTE_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Four int8 values at p (any alignment) as one little-endian word. */
static inline int32_t tte_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/** Two int16 lanes packed into one word: lo in bits 0-15, hi in bits 16-31. */
static inline int32_t tte_pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)hi << 16) | ((uint32_t)lo & 0xFFFFu));
}

#if defined(__ARM_FEATURE_DSP)

static inline int32_t tte_sxtb16(int32_t v) { return __sxtb16(v); }
static inline int32_t tte_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}
static inline int32_t tte_sxtab16(int32_t a, int32_t v) { return __sxtab16(a, v); }
static inline int32_t tte_sxtab16_ror8(int32_t a, int32_t v)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
}
static inline int32_t tte_smlad(int32_t a, int32_t b, int32_t c) { return __smlad(a, b, c); }
static inline int32_t tte_smlabb(int32_t a, int32_t b, int32_t c) { return __smlabb(a, b, c); }
static inline int32_t tte_smlatt(int32_t a, int32_t b, int32_t c) { return __smlatt(a, b, c); }
static inline int32_t tte_pkhbt(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t tte_pkhtb(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t tte_smmla(int32_t a, int32_t b, int32_t c)
{
    int32_t r;
    __asm__("smmla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}
static inline int32_t tte_ssat16(int32_t v)
{
    int32_t r;
    __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(v));
    return r;
}
static inline int32_t tte_ssat8(int32_t v)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
    return r;
}
static inline int32_t tte_qadd16(int32_t a, int32_t b) { return __qadd16(a, b); }
static inline void tte_read2_next(const int32_t **p, int32_t *lo, int32_t *hi)
{
    __asm__("ldrd %0, %1, [%2], #8"
            : "=r"(*lo), "=r"(*hi), "+r"(*p)
            : "m"((*p)[0]), "m"((*p)[1]));
}
static inline int32_t tte_clamp16x2(int32_t v, int32_t lo, int32_t hi)
{
    int32_t t;
    __asm__("ssub16 %1, %0, %2\n\tsel %0, %0, %2\n\tssub16 %1, %3, %0\n\tsel %0, %0, %3"
            : "+r"(v), "=&r"(t)
            : "r"(lo), "r"(hi)
            : "cc");
    return v;
}

#else /* plain C: the same integers */

static inline int32_t tte_lo16_(int32_t a) { return (int16_t)(uint16_t)((uint32_t)a & 0xFFFFu); }
static inline int32_t tte_hi16_(int32_t a) { return (int16_t)(uint16_t)((uint32_t)a >> 16); }
static inline int32_t tte_byte_(int32_t v, int k)
{
    return (int8_t)(uint8_t)(((uint32_t)v >> (8 * k)) & 0xFFu);
}

static inline int32_t tte_sxtb16(int32_t v) { return tte_pack16(tte_byte_(v, 0), tte_byte_(v, 2)); }
static inline int32_t tte_sxtb16_ror8(int32_t v)
{
    return tte_pack16(tte_byte_(v, 1), tte_byte_(v, 3));
}
static inline int32_t tte_sxtab16(int32_t a, int32_t v)
{
    return tte_pack16(tte_lo16_(a) + tte_byte_(v, 0), tte_hi16_(a) + tte_byte_(v, 2));
}
static inline int32_t tte_sxtab16_ror8(int32_t a, int32_t v)
{
    return tte_pack16(tte_lo16_(a) + tte_byte_(v, 1), tte_hi16_(a) + tte_byte_(v, 3));
}
static inline int32_t tte_smlad(int32_t a, int32_t b, int32_t c)
{
    return c + tte_lo16_(a) * tte_lo16_(b) + tte_hi16_(a) * tte_hi16_(b);
}
static inline int32_t tte_smlabb(int32_t a, int32_t b, int32_t c)
{
    return c + tte_lo16_(a) * tte_lo16_(b);
}
static inline int32_t tte_smlatt(int32_t a, int32_t b, int32_t c)
{
    return c + tte_hi16_(a) * tte_hi16_(b);
}
static inline int32_t tte_pkhbt(int32_t a, int32_t b) { return tte_pack16(tte_lo16_(a), tte_lo16_(b)); }
static inline int32_t tte_pkhtb(int32_t a, int32_t b) { return tte_pack16(tte_hi16_(a), tte_hi16_(b)); }
static inline int32_t tte_smmla(int32_t a, int32_t b, int32_t c)
{
    return c + (int32_t)(((int64_t)a * b) >> 32);
}
static inline int32_t tte_ssat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
static inline int32_t tte_ssat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int32_t tte_qadd16(int32_t a, int32_t b)
{
    return tte_pack16(tte_ssat16(tte_lo16_(a) + tte_lo16_(b)),
                      tte_ssat16(tte_hi16_(a) + tte_hi16_(b)));
}
static inline void tte_read2_next(const int32_t **p, int32_t *lo, int32_t *hi)
{
    *lo = (*p)[0];
    *hi = (*p)[1];
    *p += 2;
}
static inline int32_t tte_clamp16_(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}
static inline int32_t tte_clamp16x2(int32_t v, int32_t lo, int32_t hi)
{
    return tte_pack16(tte_clamp16_(tte_lo16_(v), tte_lo16_(lo), tte_lo16_(hi)),
                      tte_clamp16_(tte_hi16_(v), tte_hi16_(lo), tte_hi16_(hi)));
}

#endif /* __ARM_FEATURE_DSP */

/** Two int8 outputs at once, as int16 lanes: (clamp(a + off, lo, hi), clamp(b + off, lo, hi))
 *  for any int32 a, b, with off2, lo2, hi2 = tte_pack16(x, x) of an offset and clamp within
 *  int8.  Saturating a and b to int16 first changes nothing: a value beyond it is beyond
 *  the clamp either way.  8 instructions on the Cortex-M7 (SSAT twice, PKHBT, QADD16, SSUB16
 *  and SEL twice) where two scalar clamps take 16. */
static inline int32_t tte_offset_clamp_s8x2(int32_t a, int32_t b, int32_t off2, int32_t lo2,
                                            int32_t hi2)
{
    return tte_clamp16x2(tte_qadd16(tte_pkhbt(tte_ssat16(a), tte_ssat16(b)), off2), lo2, hi2);
}

#ifdef __cplusplus
}
#endif

#endif /* TTE_DSP_H */
