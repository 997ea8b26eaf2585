/*
 * Title:       tte_global_avg_pool_s8.c
 * Description: int8 global average pooling; with different input and output quantization the
 *              division by H * W is folded into a fixed-point multiplier.
 *
 * Layout:      input NHWC [N, H, W, C]; output NHWC [N, 1, 1, C].
 * Quantization (per channel c, count = H * W, sum = sum_{y,x} in[y, x, c] of the raw values):
 *   p->multiplier == 0 (input and output quantization equal):
 *     out = clamp(round_half_away_from_zero(sum / count), act_min, act_max)
 *     (as CMSIS-NN's average pool; the offsets are not read)
 *   otherwise:
 *     out = clamp(tte_requantize(sum + count * input_offset, multiplier, shift) + output_offset,
 *                 act_min, act_max)
 *     with (multiplier, shift) = quantize_multiplier(s_in / (s_out * count)).
 *
 * Channels are summed in blocks of four so each input pixel is read as contiguous bytes.
 * H * W must be below 2^23 (the sum and count * input_offset stay within int32).  No scratch
 * memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_global_avg_pool_s8)

/* The output of one channel from the raw sum of its count values. */
static int8_t average(int32_t sum, int32_t count, const tte_gap_params *p)
{
    if (p->multiplier == 0) {
        const int32_t q = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        return tte_clamp_s8(q, p->act_min, p->act_max);
    }
    return tte_clamp_s8(tte_requantize(sum + count * p->input_offset, p->multiplier, p->shift) + p->output_offset,
                        p->act_min, p->act_max);
}

tte_status tte_global_avg_pool_s8(const tte_ctx *ctx, const tte_gap_params *p,
                                  const tte_dims *input_dims, const int8_t *input,
                                  const tte_dims *output_dims, int8_t *output)
{
    const int32_t count = input_dims->h * input_dims->w, ch = input_dims->c;
    int32_t b;
    (void)ctx;

    if (!tte_gap_dims_ok(input_dims, output_dims)) {
        return TTE_ERR_ARG;
    }
    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * count * ch;
        int8_t *out = output + b * ch;
        int32_t c = 0;
        for (; c + 4 <= ch; c += 4) {
            const int8_t *x = in_b + c;
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
            for (i = 0; i < count; i++) {
                s0 += x[0];
                s1 += x[1];
                s2 += x[2];
                s3 += x[3];
                x += ch;
            }
            out[c] = average(s0, count, p);
            out[c + 1] = average(s1, count, p);
            out[c + 2] = average(s2, count, p);
            out[c + 3] = average(s3, count, p);
        }
        for (; c < ch; c++) {
            int32_t s = 0, i;
            for (i = 0; i < count; i++) {
                s += in_b[i * ch + c];
            }
            out[c] = average(s, count, p);
        }
    }
    return TTE_OK;
}
