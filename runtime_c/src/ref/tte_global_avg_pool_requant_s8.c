/*
 * Title:       tte_global_avg_pool_requant_s8.c
 * Description: int8 global average pooling with different input and output quantization:
 *              the division by H * W is folded into a fixed-point multiplier.
 *
 * Layout:      input NHWC [N, H, W, C]; output NHWC [N, 1, 1, C].
 * Quantization (per channel c, count = H * W):
 *   acc = sum_{y,x} (in[y, x, c] + input_offset)
 *   out = clamp(tte_requantize(acc, multiplier, shift) + output_offset, act_min, act_max)
 *   with (multiplier, shift) = quantize_multiplier(s_in / (s_out * count)).
 *
 * Channels are summed in blocks of four so each input pixel is read as contiguous bytes.
 * H * W must be below 2^23 (the sum stays within int32).  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_global_avg_pool_requant_s8)

static int8_t finish(int32_t acc, const tte_gap_params *p)
{
    return tte_clamp_s8(tte_requantize(acc, p->multiplier, p->shift) + p->output_offset,
                        p->act_min, p->act_max);
}

tte_status tte_global_avg_pool_requant_s8(const tte_ctx *ctx, const tte_gap_params *p,
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
        const int32_t bias = count * p->input_offset;
        int8_t *out = output + b * ch;
        int32_t c = 0;
        for (; c + 4 <= ch; c += 4) {
            const int8_t *x = in_b + c;
            int32_t s0 = bias, s1 = bias, s2 = bias, s3 = bias, i;
            for (i = 0; i < count; i++) {
                s0 += x[0];
                s1 += x[1];
                s2 += x[2];
                s3 += x[3];
                x += ch;
            }
            out[c] = finish(s0, p);
            out[c + 1] = finish(s1, p);
            out[c + 2] = finish(s2, p);
            out[c + 3] = finish(s3, p);
        }
        for (; c < ch; c++) {
            int32_t s = bias, i;
            for (i = 0; i < count; i++) {
                s += in_b[i * ch + c];
            }
            out[c] = finish(s, p);
        }
    }
    return TTE_OK;
}
