/*
 * Title:       tte_max_pool2d_argmax_s8.c
 * Description: The tap each window of an int8 max pool picks: what the pool's backward needs
 *              of its input, kept instead of the input itself (one byte a window).
 *
 * Layout:      input NHWC [1, H, W, C] int8; kernel size as dims {1, KH, KW, 1} with
 *              KH * KW <= 256; output uint8 NHWC [1, OH, OW, C].
 * Quantization: none.  output[oy, ox, c] = kh * KW + kw of the window's first largest valid
 *   tap, taps in row-major order, padding never winning
 *   (reference/backward/max_pool2d_grad.py argmax).  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_max_pool2d_argmax_s8)

tte_status tte_max_pool2d_argmax_s8(const tte_ctx *ctx, const tte_pool_params *p, const tte_dims *input_dims,
                                    const int8_t *input, const tte_dims *filter_dims, const tte_dims *output_dims,
                                    uint8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    int32_t oy, ox, c, y, x;
    (void)ctx;

    if (input_dims->n != 1 || k_h * k_w > 256 || !tte_pool_geometry_ok(p, input_dims, filter_dims, output_dims)) {
        return TTE_ERR_ARG;
    }
    for (oy = 0; oy < out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const tte_span ys = tte_window_span(iy0, k_h, in_h);
        for (ox = 0; ox < out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const tte_span xs = tte_window_span(ix0, k_w, in_w);
            uint8_t *out = output + (oy * out_w + ox) * ch;
            for (c = 0; c < ch; c++) {
                int32_t m = -129, tap = 0;
                for (y = ys.lo; y < ys.hi; y++) {
                    for (x = xs.lo; x < xs.hi; x++) {
                        const int32_t v = input[(y * in_w + x) * ch + c];
                        if (v > m) {   /* strictly larger: the first largest wins */
                            m = v;
                            tap = (y - iy0) * k_w + (x - ix0);
                        }
                    }
                }
                out[c] = (uint8_t)tap;
            }
        }
    }
    return TTE_OK;
}
