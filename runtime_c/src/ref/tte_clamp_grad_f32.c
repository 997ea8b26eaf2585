/*
 * Title:       tte_clamp_grad_f32.c
 * Description: Backward of the fused int8 output clamp: the float32 gradient where the saved
 *              output lies strictly inside (act_min, act_max), else +0.0f.
 *
 * Layout:      grad float32, saved int8 and output float32 of one shape (any, element-wise).
 * Quantization: the mask compares the saved int8 output with the int8 bounds, as the clamp
 *   did (reference/backward/clamp_grad.py); the gradient itself is copied unchanged.
 *
 * Element-wise, each element read before it is written: the output may be the grad buffer.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_clamp_grad_f32)

tte_status tte_clamp_grad_f32(const tte_ctx *ctx, const tte_clamp_grad_params *p,
                              const tte_dims *dims, const float *grad, const int8_t *saved,
                              float *output)
{
    const int32_t count = tte_dims_count(dims);
    int32_t i;
    (void)ctx;

    if (count < 0 || p->act_min > p->act_max) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < count; i++) {
        const int32_t y = saved[i];
        output[i] = (y > p->act_min && y < p->act_max) ? grad[i] : 0.0f;
    }
    return TTE_OK;
}
