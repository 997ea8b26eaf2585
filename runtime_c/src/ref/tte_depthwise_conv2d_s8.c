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
 * neighbouring channels are accumulated together so every load is of contiguous bytes in
 * both the NHWC input and the 1HWC weights.  No scratch memory.
 */
#include "tte_kernels.h"
#include "tte_requant.h"

int32_t tte_depthwise_conv2d_s8_scratch_bytes(const tte_dims *input_dims,
                                              const tte_dims *filter_dims,
                                              const tte_dims *output_dims)
{
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

static int8_t finish(int32_t acc, const tte_conv_params *p, int32_t mult, int32_t shift)
{
    return tte_clamp_s8(tte_requantize(acc, mult, shift) + p->output_offset, p->act_min,
                        p->act_max);
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
    int32_t b, oy, ox;
    (void)ctx;

    if (filter_dims->n != 1 || filter_dims->c != ch || output_dims->c != ch ||
        output_dims->n != input_dims->n || p->stride_h < 1 || p->stride_w < 1 || k_h < 1 ||
        k_w < 1 || p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 ||
        p->pad_right < 0 || in_h + p->pad_top + p->pad_bottom < k_h ||
        in_w + p->pad_left + p->pad_right < k_w ||
        out_h != (in_h + p->pad_top + p->pad_bottom - k_h) / p->stride_h + 1 ||
        out_w != (in_w + p->pad_left + p->pad_right - k_w) / p->stride_w + 1) {
        return TTE_ERR_ARG;
    }

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int32_t ky_lo = max_i32(0, -iy0);
            const int32_t ky_hi = min_i32(k_h, in_h - iy0);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int32_t kx_lo = max_i32(0, -ix0);
                const int32_t kx_hi = min_i32(k_w, in_w - ix0);
                const int32_t empty = ky_hi <= ky_lo || kx_hi <= kx_lo;
                const int32_t rows = empty ? 0 : ky_hi - ky_lo;
                const int32_t cols = empty ? 0 : kx_hi - kx_lo;
                /* First valid tap, channel 0, in the input and in the weights. */
                const int8_t *in_0 =
                    empty ? in_b : in_b + ((iy0 + ky_lo) * in_w + ix0 + kx_lo) * ch;
                const int8_t *w_0 = empty ? filter : filter + (ky_lo * k_w + kx_lo) * ch;
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
                        const int8_t *x = in_0 + r * in_w * ch + c;
                        const int8_t *w = w_0 + r * k_w * ch + c;
                        for (k = 0; k < cols; k++) {
                            acc0 += (x[0] + in_off) * w[0];
                            acc1 += (x[1] + in_off) * w[1];
                            acc2 += (x[2] + in_off) * w[2];
                            acc3 += (x[3] + in_off) * w[3];
                            x += ch;
                            w += ch;
                        }
                    }
                    out[c] = finish(acc0, p, q->multiplier[c], q->shift[c]);
                    out[c + 1] = finish(acc1, p, q->multiplier[c + 1], q->shift[c + 1]);
                    out[c + 2] = finish(acc2, p, q->multiplier[c + 2], q->shift[c + 2]);
                    out[c + 3] = finish(acc3, p, q->multiplier[c + 3], q->shift[c + 3]);
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
                    out[c] = finish(acc, p, q->multiplier[c], q->shift[c]);
                }
            }
        }
    }
    return TTE_OK;
}
