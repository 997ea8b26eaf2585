/*
 * Title:       tte_mul_s8.c
 * Description: MUL, element-wise product of two int8 tensors with their own quantization
 *              (TFLite int8 MUL); the second may be broadcast over the pixels, one value a
 *              channel (a squeeze-excite scale).
 *
 * Layout:      input1 and output NHWC [N, H, W, C]; input2 the same, or [N, 1, 1, C].
 * Quantization (per element):
 *   out = clamp(tte_requantize((a + input1_offset) * (b + input2_offset), output_multiplier,
 *               output_shift) + output_offset, act_min, act_max)
 *   with the multiplier of s_a * s_b / s_out (reference/ops/mul.py).  The product of two
 *   offset int8 values is at most 256 * 256 in magnitude: exact in int32.
 *
 * Element i of the output is written after element i of input1 (and of a same-shaped input2)
 * is read, so the output may be either same-shaped input buffer.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_mul_s8)

tte_status tte_mul_s8(const tte_ctx *ctx, const tte_mul_params *p, const tte_dims *dims, const int8_t *input1,
                      const tte_dims *input2_dims, const int8_t *input2, int8_t *output)
{
    const int32_t ch = dims->c, pixels_per_batch = dims->h * dims->w;
    const int32_t broadcast = input2_dims->h == 1 && input2_dims->w == 1 && pixels_per_batch != 1;
    int32_t b, px, c;
    (void)ctx;

    if (dims->n < 0 || dims->h < 0 || dims->w < 0 || ch < 0 || input2_dims->n != dims->n ||
        input2_dims->c != ch || (!broadcast && (input2_dims->h != dims->h || input2_dims->w != dims->w))) {
        return TTE_ERR_ARG;
    }
    for (b = 0; b < dims->n; b++) {
        for (px = 0; px < pixels_per_batch; px++) {
            const int32_t at = (b * pixels_per_batch + px) * ch;
            const int8_t *in2 = input2 + (broadcast ? b * ch : at);
            for (c = 0; c < ch; c++) {
                const int32_t prod = (input1[at + c] + p->input1_offset) * (in2[c] + p->input2_offset);
                output[at + c] = tte_clamp_s8(
                    tte_requantize(prod, p->output_multiplier, p->output_shift) + p->output_offset,
                    p->act_min, p->act_max);
            }
        }
    }
    return TTE_OK;
}
