/*
 * Title:       tte_lut_grad_f32.c
 * Description: LUT_GRAD, the float32 gradient of a table activation: the incoming gradient
 *              times the activation's slope at the saved int8 input.
 *
 * Layout:      grad float32, saved int8 and output float32 of one shape (element-wise).
 * Quantization: slope[v + 128] is dy/dx at input v in the real domain, 0 where the int8
 *   output saturates (reference/backward/lut.py); one rounded multiply an element.
 *
 * Element i is written after it is read, so the output may be the grad buffer (in place).
 * No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_lut_grad_f32)

tte_status tte_lut_grad_f32(const tte_ctx *ctx, const float *slope, const tte_dims *dims, const float *grad,
                            const int8_t *saved, float *output)
{
    const int32_t size = tte_dims_count(dims);
    int32_t i;
    (void)ctx;

    if (size < 0) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < size; i++) {
        output[i] = grad[i] * slope[saved[i] + 128];
    }
    return TTE_OK;
}
