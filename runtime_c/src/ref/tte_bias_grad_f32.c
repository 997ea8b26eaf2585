/*
 * Title:       tte_bias_grad_f32.c
 * Description: Bias gradient: the float32 output gradient summed over every pixel.
 *
 * Layout:      grad float32 NHWC [N, H, W, C]; output float32 [C].
 * Quantization: none; output[c] = +0 + grad[0, c] + grad[1, c] + ... over the pixels in
 *   row-major order, one rounded addition at a time (reference/backward/bias_grad.py).
 *
 * Eight channels at a time are summed in registers down the pixels, then stored: the same
 * additions in the same order per channel.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_bias_grad_f32)

tte_status tte_bias_grad_f32(const tte_ctx *ctx, const tte_dims *grad_dims, const float *grad,
                             const tte_dims *output_dims, float *output)
{
    const int32_t ch = grad_dims->c;
    const int32_t pixels = grad_dims->n * grad_dims->h * grad_dims->w;
    int32_t px, c, k;
    (void)ctx;

    if (grad_dims->n < 0 || grad_dims->h < 0 || grad_dims->w < 0 || ch < 0 ||
        output_dims->n * output_dims->h * output_dims->w != 1 || output_dims->c != ch) {
        return TTE_ERR_ARG;
    }
    for (c = 0; c + 8 <= ch; c += 8) {
        float a[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
        const float *col = grad + c;
        for (px = 0; px < pixels; px++, col += ch) {
            for (k = 0; k < 8; k++) {
                a[k] = a[k] + col[k];
            }
        }
        for (k = 0; k < 8; k++) {
            output[c + k] = a[k];
        }
    }
    for (; c < ch; c++) {
        float a = 0.0f;
        for (px = 0; px < pixels; px++) {
            a = a + grad[px * ch + c];
        }
        output[c] = a;
    }
    return TTE_OK;
}
