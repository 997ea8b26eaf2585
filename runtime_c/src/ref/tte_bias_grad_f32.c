/*
 * Title:       tte_bias_grad_f32.c
 * Description: Bias gradient: the float32 output gradient summed over every pixel.
 *
 * Layout:      grad float32 NHWC [N, H, W, C]; output float32 [C].
 * Quantization: none; output[c] = +0 + grad[0, c] + grad[1, c] + ... over the pixels in
 *   row-major order, one rounded addition at a time (reference/backward/bias_grad.py).
 */
#include "tte_kernels.h"

int32_t tte_bias_grad_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims)
{
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

tte_status tte_bias_grad_f32(const tte_ctx *ctx, const tte_dims *grad_dims, const float *grad,
                             const tte_dims *output_dims, float *output)
{
    const int32_t ch = grad_dims->c;
    const int32_t pixels = grad_dims->n * grad_dims->h * grad_dims->w;
    int32_t px, c;
    (void)ctx;

    if (grad_dims->n < 0 || grad_dims->h < 0 || grad_dims->w < 0 || ch < 0 ||
        output_dims->n * output_dims->h * output_dims->w != 1 || output_dims->c != ch) {
        return TTE_ERR_ARG;
    }
    for (c = 0; c < ch; c++) {
        output[c] = 0.0f;
    }
    for (px = 0; px < pixels; px++) {
        const float *row = grad + px * ch;
        for (c = 0; c < ch; c++) {
            output[c] = output[c] + row[c];
        }
    }
    return TTE_OK;
}
