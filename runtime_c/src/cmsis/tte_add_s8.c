/*
 * Title:       tte_add_s8.c (CMSIS-NN backend)
 * Description: Element-wise int8 addition as one call to CMSIS-NN's arm_elementwise_add_s8;
 *              bit-identical to src/ref.
 *
 * Layout:      any; both inputs and the output hold n * h * w * c int8 values in one order.
 * Quantization (per element), the TFLite int8 ADD of tte_types.h / src/ref/tte_add_s8.c:
 *   a   = requant((in1 + input1_offset) << left_shift, input1_multiplier, input1_shift)
 *   b   = requant((in2 + input2_offset) << left_shift, input2_multiplier, input2_shift)
 *   out = clamp(requant(a + b, output_multiplier, output_shift) + output_offset, act_min, act_max)
 *
 * CMSIS-NN reads a block of elements of both inputs before it writes them, element for
 * element, so the output may be the very buffer of either input (in place), as in src/ref.
 * No scratch memory.
 */
#include "tte_cmsis.h"

TTE_NO_SCRATCH(tte_add_s8)

tte_status tte_add_s8(const tte_ctx *ctx, const tte_add_params *p, const tte_dims *dims,
                      const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t size = dims->n * dims->h * dims->w * dims->c;
    (void)ctx;

    if (p->left_shift < 0 || p->left_shift > 22 || size < 0) {
        return TTE_ERR_ARG;
    }
    return tte_cmsis_status(arm_elementwise_add_s8(
        input1, input2, p->input1_offset, p->input1_multiplier, p->input1_shift,
        p->input2_offset, p->input2_multiplier, p->input2_shift, p->left_shift, output,
        p->output_offset, p->output_multiplier, p->output_shift, p->act_min, p->act_max, size));
}
