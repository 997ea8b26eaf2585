/*
 * tte_pw_s8.c: tte_pw_s8 (include/internal/tte_pw_s8.h, whose comment says what it computes and how),
 * compiled once for the kernels that share it (tte_conv2d_1x1_s8 and its split twin, the
 * gathered path of tte_conv2d_s8, tte_fused_expand_depthwise_s8).  Internal to runtime_c: not
 * a kernel of the API.
 */
#include <stdint.h>

#include "internal/tte_dsp.h"
#include "internal/tte_pw_s8.h"
#include "internal/tte_requant.h"
#include "tte_types.h"

/* The widened weights of one channel pair, block k of 4 input channels at words 4k .. 4k+3:
 * channel 0 lanes (0, 2), (1, 3), channel 1 lanes (0, 2), (1, 3).  Widened once per pair,
 * read by every pixel.  Layers with more input channels widen the weights in the loop. */
#define TTE_PW_PANEL_WORDS 640

/* The two channels of a tile: starting accumulators, output stage constants, and where the
 * second one's outputs go (0 when the tile has a single channel: its second channel is a
 * copy of the first, and the second store rewrites the same byte with the same value). */
typedef struct {
    const int8_t *w0, *w1;
    const int32_t *panel; /* NULL: widen the weights in the loop */
    int32_t start0, start1, ch_stride;
    tte_requant_ch r0, r1;  /* each channel's requantization */
    int32_t round0, round1; /* its rounding term with the zero point, tte_pw_direct_of_ */
    int32_t zp2, lo2, hi2;  /* zero point and clamp in both 16-bit lanes (generic stage) */
} tte_pw_pair_;

/* The direct output stage of a channel with requantization r and zero point zp:
 * clamp(smmla(acc, mult, round) >> rs, -128, 127) with round = half + zp * 2^rs, for a
 * shift in [-24, -2] (then 1 is returned and *round set).  From tte_requant_ch:
 *   requant + zp = (smmla(acc, mult, half) >> rs) + zp = smmla(acc, mult, round) >> rs
 * as zp * 2^rs is a multiple of 2^rs, provided the sum does not wrap:
 * |floor(acc * mult / 2^32)| <= 2^30 for any int32 acc and mult, and for rs <= 23,
 * |half + zp * 2^rs| <= 127.5 * 2^23 < 2^30 (|zp| <= 128), so it stays within int32. */
static inline int32_t tte_pw_direct_of_(const tte_requant_ch *r, int32_t zp, int32_t *round)
{
    const int32_t direct = r->shift < -1 && r->shift >= -24;
    *round = direct ? r->half + zp * ((int32_t)1 << r->rs) : 0;
    return direct;
}

static inline int32_t tte_pw_direct_out_(int32_t acc, const tte_requant_ch *r, int32_t round)
{
    return tte_ssat8(tte_smmla(acc, r->mult, round) >> r->rs);
}

/* The generic output stage of a channel's two pixels (accumulators a, b), as the 16-bit
 * lanes of one word. */
static inline int32_t tte_pw_generic_out_(int32_t a, int32_t b, const tte_requant_ch *r,
                                          const tte_pw_pair_ *c)
{
    return tte_offset_clamp_s8x2(tte_requant_ch_apply(a, r, 0), tte_requant_ch_apply(b, r, 0),
                                 c->zp2, c->lo2, c->hi2);
}

/* Four input channels of two pixels (x0v, x1v: 4 int8 each) against a channel pair's
 * widened weights (lanes (0, 2) and (1, 3) of each channel): 8 dual multiply-adds into
 * channel 0 and 1 of pixel 0 (a0, a1) and of pixel 1 (b0, b1). */
static inline void tte_pw_mac4_(int32_t x0v, int32_t x1v, int32_t v0_lo, int32_t v0_hi,
                                int32_t v1_lo, int32_t v1_hi, int32_t *a0, int32_t *a1,
                                int32_t *b0, int32_t *b1)
{
    const int32_t x0_lo = tte_sxtb16(x0v), x0_hi = tte_sxtb16_ror8(x0v);
    const int32_t x1_lo = tte_sxtb16(x1v), x1_hi = tte_sxtb16_ror8(x1v);
    *a0 = tte_smlad(x0_hi, v0_hi, tte_smlad(x0_lo, v0_lo, *a0));
    *a1 = tte_smlad(x0_hi, v1_hi, tte_smlad(x0_lo, v1_lo, *a1));
    *b0 = tte_smlad(x1_hi, v0_hi, tte_smlad(x1_lo, v0_lo, *b0));
    *b1 = tte_smlad(x1_hi, v1_hi, tte_smlad(x1_lo, v1_lo, *b1));
}

/* The n_pix pixels of one run (input pixels x_step bytes apart, outputs out_step apart) for
 * one channel pair, two pixels a step.  With an odd count the last step takes the last two
 * pixels, one of them again (it stores the same values twice); a single pixel is paired
 * with itself (steps 0).  direct: the direct output stage, and the panel. */
static inline void tte_pw_run_(const tte_pw_pair_ *c, int32_t n, const int8_t *x, int32_t n_pix,
                               int32_t x_step, int8_t *out, int32_t out_step, int32_t direct)
{
    const int32_t blocks = n & ~3, ch_stride = c->ch_stride;
    int32_t left, k;
    if (n_pix == 1) {
        x_step = 0;
        out_step = 0;
    }
    for (left = n_pix; left > 0; left -= 2) {
        const int8_t *x0, *x1;
        int8_t *out1;
        int32_t a0 = c->start0, a1 = c->start1, b0 = c->start0, b1 = c->start1;
        if (left == 1) {
            x -= x_step;
            out -= out_step;
        }
        x0 = x;
        x1 = x + x_step;
        out1 = out + out_step;
        if (direct || c->panel != 0) {
            /* per 4 input channels: 2 input words, 2 LDRDs of the panel, 4 SXTB16, 8 SMLAD */
            const int32_t *pw = c->panel;
            const int8_t *const x0_end = x + blocks;
            while (x0 != x0_end) {
                int32_t v0_lo, v0_hi, v1_lo, v1_hi;
                tte_read2_next(&pw, &v0_lo, &v0_hi);
                tte_read2_next(&pw, &v1_lo, &v1_hi);
                tte_pw_mac4_(tte_read_s8x4(x0), tte_read_s8x4(x1), v0_lo, v0_hi, v1_lo, v1_hi,
                             &a0, &a1, &b0, &b1);
                x0 += 4;
                x1 += 4;
            }
        } else {
            const int8_t *p0 = c->w0, *p1 = c->w1;
            const int8_t *const x0_end = x + blocks;
            while (x0 != x0_end) {
                const int32_t v0 = tte_read_s8x4(p0), v1 = tte_read_s8x4(p1);
                tte_pw_mac4_(tte_read_s8x4(x0), tte_read_s8x4(x1), tte_sxtb16(v0),
                             tte_sxtb16_ror8(v0), tte_sxtb16(v1), tte_sxtb16_ror8(v1), &a0, &a1,
                             &b0, &b1);
                p0 += 4;
                p1 += 4;
                x0 += 4;
                x1 += 4;
            }
        }
        if ((n & 3) != 0) { /* most layers have no tail: one test, no loop setup */
            for (k = blocks; k < n; k++) {
                a0 += x[k] * c->w0[k];
                a1 += x[k] * c->w1[k];
                b0 += x[x_step + k] * c->w0[k];
                b1 += x[x_step + k] * c->w1[k];
            }
        }
        if (direct) {
            out[0] = (int8_t)tte_pw_direct_out_(a0, &c->r0, c->round0);
            out1[0] = (int8_t)tte_pw_direct_out_(b0, &c->r0, c->round0);
            out[ch_stride] = (int8_t)tte_pw_direct_out_(a1, &c->r1, c->round1);
            out1[ch_stride] = (int8_t)tte_pw_direct_out_(b1, &c->r1, c->round1);
        } else {
            a0 = tte_pw_generic_out_(a0, b0, &c->r0, c);
            a1 = tte_pw_generic_out_(a1, b1, &c->r1, c);
            out[0] = (int8_t)a0;
            out1[0] = (int8_t)(a0 >> 16);
            out[ch_stride] = (int8_t)a1;
            out1[ch_stride] = (int8_t)(a1 >> 16);
        }
        x += 2 * x_step;
        out += 2 * out_step;
    }
}

void tte_pw_s8(const tte_pw_geom *g, const int8_t *input, const int8_t *filter,
               const int32_t *bias, const int32_t *mult, const int32_t *shift,
               int32_t oc_begin, int32_t oc_end, int8_t *out, int32_t pix_stride,
               int32_t ch_stride)
{
    const int32_t n = g->in_c;
    /* stride 1: all pixels form one run; else one run per output row */
    const int32_t dense = g->stride_h == 1 && g->stride_w == 1;
    const int32_t rows = dense ? 1 : g->pixels / g->out_w;
    const int32_t run = dense ? g->pixels : g->out_w;
    const int32_t blocks = n & ~3;
    const int32_t no_clamp = g->act_min == -128 && g->act_max == 127;
    int32_t panel[TTE_PW_PANEL_WORDS];
    const int32_t ones = tte_pack16(1, 1);
    int32_t oc, r, k, sum0, sum1, direct;
    tte_pw_pair_ c;
    c.zp2 = tte_pack16(g->output_offset, g->output_offset);
    c.lo2 = tte_pack16(g->act_min, g->act_min);
    c.hi2 = tte_pack16(g->act_max, g->act_max);
    for (oc = oc_begin; oc < oc_end; oc += 2) {
        const int32_t pair_c = oc + 1 < oc_end, oc1 = pair_c ? oc + 1 : oc;
        c.w0 = filter + oc * n;
        c.w1 = filter + oc1 * n;
        c.r0 = tte_requant_ch_of(mult[oc], shift[oc]);
        c.r1 = tte_requant_ch_of(mult[oc1], shift[oc1]);
        c.ch_stride = pair_c ? ch_stride : 0;
        c.panel = blocks <= TTE_PW_PANEL_WORDS ? panel : 0;
        /* the direct output stage needs no clamp, both channels' shifts and the panel */
        direct = tte_pw_direct_of_(&c.r0, g->output_offset, &c.round0) &
                 tte_pw_direct_of_(&c.r1, g->output_offset, &c.round1) &
                 (no_clamp && c.panel != 0);
        sum0 = 0;
        sum1 = 0;
        for (k = 0; k < blocks; k += 4) {
            const int32_t v0 = tte_read_s8x4(c.w0 + k), v1 = tte_read_s8x4(c.w1 + k);
            const int32_t v0_lo = tte_sxtb16(v0), v0_hi = tte_sxtb16_ror8(v0);
            const int32_t v1_lo = tte_sxtb16(v1), v1_hi = tte_sxtb16_ror8(v1);
            sum0 = tte_smlad(v0_hi, ones, tte_smlad(v0_lo, ones, sum0));
            sum1 = tte_smlad(v1_hi, ones, tte_smlad(v1_lo, ones, sum1));
            if (c.panel != 0) {
                panel[k] = v0_lo;
                panel[k + 1] = v0_hi;
                panel[k + 2] = v1_lo;
                panel[k + 3] = v1_hi;
            }
        }
        for (; k < n; k++) {
            sum0 += c.w0[k];
            sum1 += c.w1[k];
        }
        c.start0 = (bias != 0 ? bias[oc] : 0) + g->input_offset * sum0;
        c.start1 = (bias != 0 ? bias[oc1] : 0) + g->input_offset * sum1;
        for (r = 0; r < rows; r++) {
            /* row r is (image b, output row oy) */
            const int32_t b = r / g->out_h, oy = r - b * g->out_h;
            const int8_t *x = dense ? input
                                    : input + (b * g->in_h + oy * g->stride_h) * g->in_w * n;
            int8_t *const o = out + (oc - oc_begin) * ch_stride + r * run * pix_stride;
            /* two copies of the loop, one per output stage */
            if (direct) {
                tte_pw_run_(&c, n, x, run, g->stride_w * n, o, pix_stride, 1);
            } else {
                tte_pw_run_(&c, n, x, run, g->stride_w * n, o, pix_stride, 0);
            }
        }
    }
}
