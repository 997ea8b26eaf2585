/*
 * Title:       tte_depthwise_conv2d_s8.c
 * Description: int8 depthwise 2-D convolution (depth multiplier 1): any kernel size
 *              (3, 5, 7, ...), any stride, explicit pads.
 *
 * Layout:      input NHWC [N, H, W, C]; weights 1HWC [1, KH, KW, C]; bias int32 [C];
 *              output NHWC [N, OH, OW, C].
 * Quantization (per channel c):
 *   acc = bias[c] + sum_{ky,kx valid} (in[iy, ix, c] + input_offset) * w[0, ky, kx, c]
 *   out = clamp(tte_requantize(acc, mult[c], shift[c]) + output_offset, act_min, act_max)
 *   Taps that fall into the padding contribute nothing.
 *
 * The kernel window is clipped once per output pixel (no bounds tests inside), and four
 * neighbouring channels are accumulated together: each tap reads the 4 input and the 4
 * weight bytes as one word each, widens them into 16-bit lanes (adding input_offset to the
 * input lanes in the same step) and does four 16x16 multiply-adds (tte_dsp.h: SXTAB16,
 * SXTB16, SMLABB, SMLATT on the Cortex-M7, a plain-C twin elsewhere).  The layer constants
 * are hoisted out of the loops.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_dsp.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_depthwise_conv2d_s8)


/* The output stage, with the layer constants hoisted out of the loops (the int8 output
 * stores may alias anything, so the compiler would reload them through p otherwise). */
typedef struct {
    int32_t zero_point, lo, hi;
} out_stage;

static int8_t finish(int32_t acc, const out_stage *o, int32_t mult, int32_t shift)
{
    return tte_clamp_s8(tte_requantize_fast(acc, mult, shift) + o->zero_point, o->lo, o->hi);
}

tte_status tte_depthwise_conv2d_s8(const tte_ctx *ctx, const tte_conv_params *p,
                                   const tte_per_channel_quant *q, const tte_dims *input_dims,
                                   const int8_t *input, const tte_dims *filter_dims,
                                   const int8_t *filter, const int32_t *bias,
                                   const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t in_off = p->input_offset;
    const int32_t off2 = tte_pack16(in_off, in_off);
    const int32_t *const mult = q->multiplier, *const shift = q->shift;
    const out_stage o = {p->output_offset, p->act_min, p->act_max};
    const int32_t row_step = in_w * ch, w_row_step = k_w * ch;
    int32_t b, oy, ox;
    (void)ctx;

    if (filter_dims->n != 1 || filter_dims->c != ch || output_dims->c != ch ||
        output_dims->n != input_dims->n ||
        !tte_axis_ok(in_h, k_h, p->stride_h, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, p->stride_w, p->pad_left, p->pad_right, out_w)) {
        return TTE_ERR_ARG;
    }

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const tte_span ky = tte_window_taps(iy0, k_h, in_h);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const tte_span kx = tte_window_taps(ix0, k_w, in_w);
                const int32_t empty = ky.hi <= ky.lo || kx.hi <= kx.lo;
                const int32_t rows = empty ? 0 : ky.hi - ky.lo;
                const int32_t cols = empty ? 0 : kx.hi - kx.lo;
                /* First valid tap, channel 0, in the input and in the weights. */
                const int8_t *in_0 =
                    empty ? in_b : in_b + ((iy0 + ky.lo) * in_w + ix0 + kx.lo) * ch;
                const int8_t *w_0 = empty ? filter : filter + (ky.lo * k_w + kx.lo) * ch;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * ch;
                int32_t c = 0;

                for (; c + 4 <= ch; c += 4) {
                    int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0, r, k;
                    if (bias != NULL) {
                        acc0 = bias[c];
                        acc1 = bias[c + 1];
                        acc2 = bias[c + 2];
                        acc3 = bias[c + 3];
                    }
                    for (r = 0; r < rows; r++) {
                        const int8_t *x = in_0 + r * row_step + c;
                        const int8_t *w = w_0 + r * w_row_step + c;
                        for (k = 0; k < cols; k++) {
                            const int32_t xv = tte_read_s8x4(x), wv = tte_read_s8x4(w);
                            const int32_t x_lo = tte_sxtab16(off2, xv), w_lo = tte_sxtb16(wv);
                            const int32_t x_hi = tte_sxtab16_ror8(off2, xv);
                            const int32_t w_hi = tte_sxtb16_ror8(wv);
                            acc0 = tte_smlabb(x_lo, w_lo, acc0); /* channel c */
                            acc2 = tte_smlatt(x_lo, w_lo, acc2); /* c + 2 */
                            acc1 = tte_smlabb(x_hi, w_hi, acc1); /* c + 1 */
                            acc3 = tte_smlatt(x_hi, w_hi, acc3); /* c + 3 */
                            x += ch;
                            w += ch;
                        }
                    }
                    {
                        const int32_t m0 = mult[c], m1 = mult[c + 1], m2 = mult[c + 2];
                        const int32_t m3 = mult[c + 3], s0 = shift[c], s1 = shift[c + 1];
                        const int32_t s2 = shift[c + 2], s3 = shift[c + 3];
                        out[c] = finish(acc0, &o, m0, s0);
                        out[c + 1] = finish(acc1, &o, m1, s1);
                        out[c + 2] = finish(acc2, &o, m2, s2);
                        out[c + 3] = finish(acc3, &o, m3, s3);
                    }
                }
                for (; c < ch; c++) {
                    int32_t acc = bias != NULL ? bias[c] : 0, r, k;
                    for (r = 0; r < rows; r++) {
                        const int8_t *x = in_0 + r * in_w * ch + c;
                        const int8_t *w = w_0 + r * k_w * ch + c;
                        for (k = 0; k < cols; k++) {
                            acc += (x[k * ch] + in_off) * w[k * ch];
                        }
                    }
                    out[c] = finish(acc, &o, mult[c], shift[c]);
                }
            }
        }
    }
    return TTE_OK;
}
