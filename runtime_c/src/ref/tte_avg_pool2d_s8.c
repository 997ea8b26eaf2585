/*
 * Title:       tte_avg_pool2d_s8.c
 * Description: int8 2-D average pooling; padded taps are not counted (count_include_pad = 0).
 *              With different input and output quantization the division by the count of
 *              valid taps is folded into a fixed-point multiplier per count.
 *
 * Layout:      input NHWC [N, H, W, C]; kernel size as dims {1, KH, KW, 1};
 *              output NHWC [N, OH, OW, C].
 * Quantization (per output pixel and channel, count = number of valid taps,
 *   sum = sum_{ky,kx valid} in[iy, ix, c] of the raw values):
 *   rq == NULL (input and output quantization equal):
 *     out = clamp(round_half_away_from_zero(sum / count), act_min, act_max)
 *   otherwise:
 *     out = clamp(tte_requantize(sum + count * input_offset, multiplier[count - 1],
 *                                shift[count - 1]) + output_offset, act_min, act_max)
 *     with multiplier[count - 1], shift[count - 1] = quantize_multiplier(s_in / (s_out * count)).
 *
 * The window is clipped once per output pixel; pads must be smaller than the kernel, so
 * every window holds at least one valid tap.  KH * KW must be below 2^23 (the sum and
 * count * input_offset stay within int32).  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_avg_pool2d_s8)

/* The output of one channel of a window from the raw sum of its count valid taps. */
static int8_t average(int32_t sum, int32_t count, const tte_pool_params *p, const tte_avg_requant *rq)
{
    if (rq == NULL) {
        const int32_t q = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        return tte_clamp_s8(q, p->act_min, p->act_max);
    }
    return tte_clamp_s8(tte_requantize(sum + count * rq->input_offset, rq->multiplier[count - 1],
                                       rq->shift[count - 1]) + rq->output_offset,
                        p->act_min, p->act_max);
}

tte_status tte_avg_pool2d_s8(const tte_ctx *ctx, const tte_pool_params *p, const tte_avg_requant *rq,
                             const tte_dims *input_dims, const int8_t *input, const tte_dims *filter_dims,
                             const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    int32_t b, oy, ox;
    (void)ctx;

    if (!tte_pool_geometry_ok(p, input_dims, filter_dims, output_dims) || k_h * k_w >= (1 << 23)) {
        return TTE_ERR_ARG;
    }

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const tte_span ys = tte_window_span(iy0, k_h, in_h);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const tte_span xs = tte_window_span(ix0, k_w, in_w);
                const int32_t count = (ys.hi - ys.lo) * (xs.hi - xs.lo);
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * ch;
                int32_t c = 0;
                for (; c + 4 <= ch; c += 4) {
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, y, x;
                    for (y = ys.lo; y < ys.hi; y++) {
                        const int8_t *px = in_b + (y * in_w + xs.lo) * ch + c;
                        for (x = xs.lo; x < xs.hi; x++) {
                            s0 += px[0];
                            s1 += px[1];
                            s2 += px[2];
                            s3 += px[3];
                            px += ch;
                        }
                    }
                    out[c] = average(s0, count, p, rq);
                    out[c + 1] = average(s1, count, p, rq);
                    out[c + 2] = average(s2, count, p, rq);
                    out[c + 3] = average(s3, count, p, rq);
                }
                for (; c < ch; c++) {
                    int32_t s = 0, y, x;
                    for (y = ys.lo; y < ys.hi; y++) {
                        for (x = xs.lo; x < xs.hi; x++) {
                            s += in_b[(y * in_w + x) * ch + c];
                        }
                    }
                    out[c] = average(s, count, p, rq);
                }
            }
        }
    }
    return TTE_OK;
}
