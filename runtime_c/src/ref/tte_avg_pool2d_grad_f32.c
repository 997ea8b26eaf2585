/*
 * Title:       tte_avg_pool2d_grad_f32.c
 * Description: AVG_POOL2D backward: each window's gradient divided by its count of valid
 *              (non-padding) taps, added to those taps.
 *
 * Layout:      grad float32 NHWC [1, OH, OW, C]; output float32 NHWC [1, H, W, C].
 * Quantization: none.  share = grad[oy, ox, c] / float32(count[oy, ox]), one correctly
 *   rounded division; dx = +0, then for kh, for kw (lexicographic), every tap (y, x) =
 *   (oy * stride_h + kh - pad_top, ox * stride_w + kw - pad_left) inside the input gets its
 *   window's share added (reference/backward/avg_pool2d_grad.py).
 *
 * For a fixed (kh, kw) distinct windows reach distinct taps, so each dx element gets its adds
 * in (kh, kw) order, as the reference's.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_avg_pool2d_grad_f32)

tte_status tte_avg_pool2d_grad_f32(const tte_ctx *ctx, const tte_pool_params *p, const tte_dims *grad_dims,
                                   const float *grad, const tte_dims *filter_dims, const tte_dims *output_dims,
                                   float *output)
{
    const int32_t in_h = output_dims->h, in_w = output_dims->w, ch = output_dims->c;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w, k_h = filter_dims->h, k_w = filter_dims->w;
    int32_t i, kh, kw, oy, ox, c;
    (void)ctx;

    /* the forward pool's geometry: its input is this kernel's output, its output the gradient */
    if (grad_dims->n != 1 || !tte_pool_geometry_ok(p, output_dims, filter_dims, grad_dims)) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < in_h * in_w * ch; i++) {
        output[i] = 0.0f;
    }
    for (kh = 0; kh < k_h; kh++) {
        for (kw = 0; kw < k_w; kw++) {
            for (oy = 0; oy < out_h; oy++) {
                const int32_t y0 = oy * p->stride_h - p->pad_top, y = y0 + kh;
                if (y < 0 || y >= in_h) {
                    continue;
                }
                for (ox = 0; ox < out_w; ox++) {
                    const int32_t x0 = ox * p->stride_w - p->pad_left, x = x0 + kw;
                    const float *g = grad + (oy * out_w + ox) * ch;
                    float *d = output + (y * in_w + x) * ch;
                    float count;
                    if (x < 0 || x >= in_w) {
                        continue;
                    }
                    count = (float)(tte_span_length(tte_window_span(y0, k_h, in_h)) *
                                     tte_span_length(tte_window_span(x0, k_w, in_w)));
                    for (c = 0; c < ch; c++) {
                        d[c] = d[c] + g[c] / count;
                    }
                }
            }
        }
    }
    return TTE_OK;
}
