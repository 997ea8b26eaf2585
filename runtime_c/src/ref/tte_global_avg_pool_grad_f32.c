/*
 * Title:       tte_global_avg_pool_grad_f32.c
 * Description: Global average pool backward: each channel's gradient divided by H * W and
 *              spread over the pixels.
 *
 * Layout:      grad float32 [N, 1, 1, C]; output float32 NHWC [N, H, W, C].
 * Quantization: none; share = grad[n, c] / float32(H * W), one correctly rounded division
 *   per channel (reference/backward/global_avg_pool_grad.py).
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_global_avg_pool_grad_f32)

tte_status tte_global_avg_pool_grad_f32(const tte_ctx *ctx, const tte_dims *grad_dims,
                                        const float *grad, const tte_dims *output_dims,
                                        float *output)
{
    const int32_t ch = output_dims->c;
    const int32_t pixels = output_dims->h * output_dims->w;
    int32_t b, px, c;
    float count;
    (void)ctx;

    if (grad_dims->n != output_dims->n || grad_dims->h != 1 || grad_dims->w != 1 ||
        grad_dims->c != ch || output_dims->n < 0 || ch < 0 || output_dims->h < 1 ||
        output_dims->w < 1 || pixels > (1 << 24)) {
        return TTE_ERR_ARG;
    }
    count = (float)pixels; /* exact below 2^24 */
    for (b = 0; b < output_dims->n; b++) {
        float *out = output + b * pixels * ch;
        for (c = 0; c < ch; c++) {
            out[c] = grad[b * ch + c] / count;
        }
        for (px = 1; px < pixels; px++) {
            for (c = 0; c < ch; c++) {
                out[px * ch + c] = out[c];
            }
        }
    }
    return TTE_OK;
}
