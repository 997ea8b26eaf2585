/*
 * Title:       tte_max_pool2d_grad_f32.c
 * Description: MAX_POOL2D backward: each window's gradient added to the tap it picked, from
 *              the index tte_max_pool2d_argmax_s8 kept.
 *
 * Layout:      grad float32 NHWC [1, OH, OW, C]; index uint8 NHWC [1, OH, OW, C] (kh * KW +
 *              kw of each window's tap); output float32 NHWC [1, H, W, C].
 * Quantization: none.  dx = +0, then for each window in row-major order (oy, ox), for each
 *   channel: dx[oy * stride_h - pad_top + kh, ox * stride_w - pad_left + kw, c] += grad
 *   (reference/backward/max_pool2d_grad.py).  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_max_pool2d_grad_f32)

tte_status tte_max_pool2d_grad_f32(const tte_ctx *ctx, const tte_pool_params *p, const tte_dims *grad_dims,
                                   const float *grad, const uint8_t *index, const tte_dims *filter_dims,
                                   const tte_dims *output_dims, float *output)
{
    const int32_t in_h = output_dims->h, in_w = output_dims->w, ch = output_dims->c;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w, k_w = filter_dims->w;
    int32_t i, oy, ox, c;
    (void)ctx;

    if (grad_dims->n != 1 || output_dims->n != 1 || grad_dims->c != ch ||
        !tte_pool_geometry_ok(p, output_dims, filter_dims, grad_dims)) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < in_h * in_w * ch; i++) {
        output[i] = 0.0f;
    }
    for (oy = 0; oy < out_h; oy++) {
        for (ox = 0; ox < out_w; ox++) {
            const float *g = grad + (oy * out_w + ox) * ch;
            const uint8_t *tap = index + (oy * out_w + ox) * ch;
            for (c = 0; c < ch; c++) {
                const int32_t y = oy * p->stride_h - p->pad_top + tap[c] / k_w;
                const int32_t x = ox * p->stride_w - p->pad_left + tap[c] % k_w;
                if (y >= 0 && y < in_h && x >= 0 && x < in_w) {
                    float *d = output + (y * in_w + x) * ch + c;
                    *d = *d + g[c];
                }
            }
        }
    }
    return TTE_OK;
}
