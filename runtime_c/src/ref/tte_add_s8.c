/*
 * Title:       tte_add_s8.c
 * Description: Element-wise int8 addition of two tensors of the same shape, with different
 *              quantization on each input and the output (TFLite / CMSIS-NN int8 ADD).
 *
 * Layout:      any; both inputs and the output hold n * h * w * c int8 values in the same
 *              order (NHWC activations in practice).
 * Quantization (per element):
 *   a   = tte_requantize((in1 + input1_offset) << left_shift, input1_multiplier, input1_shift)
 *   b   = tte_requantize((in2 + input2_offset) << left_shift, input2_multiplier, input2_shift)
 *   out = clamp(tte_requantize(a + b, output_multiplier, output_shift) + output_offset,
 *               act_min, act_max)
 *   with left_shift = 20 and the multipliers of s1 / (2 max(s1, s2)), s2 / (2 max(s1, s2))
 *   and 2 max(s1, s2) / (2^20 s_out) as TFLite chooses them.
 *
 * Element i of the output is written after element i of both inputs is read, so the output
 * may be the very buffer of either input (in place).  No scratch memory.
 */
#include "tte_kernels.h"
#include "tte_requant.h"

int32_t tte_add_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                 const tte_dims *output_dims)
{
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

tte_status tte_add_s8(const tte_ctx *ctx, const tte_add_params *p, const tte_dims *dims,
                      const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t size = dims->n * dims->h * dims->w * dims->c;
    const uint32_t left = (uint32_t)p->left_shift;
    int32_t i;
    (void)ctx;

    if (p->left_shift < 0 || p->left_shift > 22 || size < 0) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < size; i++) {
        const int32_t a = tte_requantize((int32_t)((uint32_t)(input1[i] + p->input1_offset) << left),
                                         p->input1_multiplier, p->input1_shift);
        const int32_t b = tte_requantize((int32_t)((uint32_t)(input2[i] + p->input2_offset) << left),
                                         p->input2_multiplier, p->input2_shift);
        output[i] = tte_clamp_s8(
            tte_requantize(a + b, p->output_multiplier, p->output_shift) + p->output_offset,
            p->act_min, p->act_max);
    }
    return TTE_OK;
}
