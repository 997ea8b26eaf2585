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
 * An input's rescaled value depends on its int8 value alone, so a and b are tabulated once
 * per call for all 256 values (two int32 tables on the stack, 2 KB) and each element costs
 * two table reads and the output's requantization (tte_requant_ch).  Element i of the
 * output is written after element i of both inputs is read, so the output may be the very
 * buffer of either input (in place).  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_add_s8)

tte_status tte_add_s8(const tte_ctx *ctx, const tte_add_params *p, const tte_dims *dims,
                      const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t size = dims->n * dims->h * dims->w * dims->c;
    const uint32_t left = (uint32_t)p->left_shift;
    const tte_requant_ch r = tte_requant_ch_of(p->output_multiplier, p->output_shift);
    const int32_t zp = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t a_of[256], b_of[256]; /* indexed by the int8 value + 128 */
    int32_t i, v;
    (void)ctx;

    if (p->left_shift < 0 || p->left_shift > 22 || size < 0) {
        return TTE_ERR_ARG;
    }
    for (v = -128; v < 128; v++) {
        a_of[v + 128] = tte_requantize((int32_t)((uint32_t)(v + p->input1_offset) << left),
                                       p->input1_multiplier, p->input1_shift);
        b_of[v + 128] = tte_requantize((int32_t)((uint32_t)(v + p->input2_offset) << left),
                                       p->input2_multiplier, p->input2_shift);
    }
    for (i = 0; i < size; i++) {
        const int32_t sum = a_of[input1[i] + 128] + b_of[input2[i] + 128];
        output[i] = tte_clamp_s8(tte_requant_ch_apply(sum, &r, 0) + zp, lo, hi);
    }
    return TTE_OK;
}
