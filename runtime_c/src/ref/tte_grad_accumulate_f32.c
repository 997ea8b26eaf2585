/*
 * Title:       tte_grad_accumulate_f32.c
 * Description: Sum of two float32 gradients of one tensor, element by element.
 *
 * Layout:      input1, input2 and output float32 of one shape (any, element-wise).
 * Quantization: none (float32 in, float32 out; one rounded addition per element, as
 *   reference/backward/grad_accumulate.py).
 *
 * The output may be input1 or input2 (in place).
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_grad_accumulate_f32)

tte_status tte_grad_accumulate_f32(const tte_ctx *ctx, const tte_dims *dims, const float *input1,
                                   const float *input2, float *output)
{
    const int32_t count = dims->n * dims->h * dims->w * dims->c;
    int32_t i;
    (void)ctx;

    if (dims->n < 0 || dims->h < 0 || dims->w < 0 || dims->c < 0) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < count; i++) {
        output[i] = input1[i] + input2[i];
    }
    return TTE_OK;
}
