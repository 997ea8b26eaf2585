/*
 * Title:       tte_conv2d_grad_input_f32.c
 * Description: CONV2D input gradient (the transposed convolution) with int8 weights
 *              dequantized on the fly.
 *
 * Layout:      grad float32 NHWC [N, OH, OW, C_out]; weights int8 OHWI [C_out, KH, KW, C_in]
 *              with float32 scales [C_out]; output float32 NHWC [N, H, W, C_in].
 * Quantization: w_real = float32(w[o, kh, kw, i]) * scale[o] (symmetric weights).
 *   dx[y, x, i] = +0, then for kh, for kw, for o (lexicographic), over the taps with
 *   y + pad_top - kh = oy * stride_h and x + pad_left - kw = ox * stride_w inside the grad:
 *   dx += grad[oy, ox, o] * w_real (reference/backward/conv2d_grad_input.py).
 *
 * Gathered per input pixel: its C_in gradients are zeroed, then each reaching tap adds one
 * weight row; the per-element order is the reference's.  No scratch memory.
 *
 * A 1x1 kernel with stride 1 and no padding (every pointwise conv) maps input pixel p to
 * grad pixel p, so dx[p, i] = sum over o in order of grad[p, o] * w_real[o, i]: tte_gi_1x1.h's
 * core, which dequantizes the weights of a block of input channels into a stack panel and
 * keeps a tile of 4 pixels x 4 input channels in registers, or, when grad is mostly zero,
 * one pixel's 16 input channels, skipping the zero grad values (same products, same order).
 */
#include "internal/tte_checks.h"
#include "internal/tte_gi_1x1.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_conv2d_grad_input_f32)

tte_status tte_conv2d_grad_input_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                     const tte_dims *grad_dims, const float *grad,
                                     const tte_dims *filter_dims, const int8_t *filter,
                                     const float *filter_scale, const tte_dims *output_dims,
                                     float *output)
{
    const int32_t in_h = output_dims->h, in_w = output_dims->w, in_c = output_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w, out_c = grad_dims->c;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    int32_t b, y, x, kh, kw, o, i;
    (void)ctx;

    if (filter_dims->c != in_c || filter_dims->n != out_c || output_dims->n != grad_dims->n ||
        !tte_axis_ok(in_h, k_h, sh, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, sw, p->pad_left, p->pad_right, out_w)) {
        return TTE_ERR_ARG;
    }
    if (k_h == 1 && k_w == 1 && sh == 1 && sw == 1 && p->pad_top == 0 && p->pad_left == 0 &&
        p->pad_bottom == 0 && p->pad_right == 0) {
        tte_gi_1x1_f32(grad, grad_dims->n * out_h * out_w, out_c, filter, NULL, filter_scale, in_c,
                       output);
        return TTE_OK;
    }

    for (b = 0; b < grad_dims->n; b++) {
        const float *g_b = grad + b * out_h * out_w * out_c;
        for (y = 0; y < in_h; y++) {
            for (x = 0; x < in_w; x++) {
                float *dx = output + ((b * in_h + y) * in_w + x) * in_c;
                for (i = 0; i < in_c; i++) {
                    dx[i] = 0.0f;
                }
                for (kh = 0; kh < k_h; kh++) {
                    const int32_t ty = y + p->pad_top - kh;
                    if (ty < 0 || ty % sh != 0 || ty / sh >= out_h) {
                        continue;
                    }
                    for (kw = 0; kw < k_w; kw++) {
                        const int32_t tx = x + p->pad_left - kw;
                        const float *g;
                        if (tx < 0 || tx % sw != 0 || tx / sw >= out_w) {
                            continue;
                        }
                        g = g_b + ((ty / sh) * out_w + tx / sw) * out_c;
                        for (o = 0; o < out_c; o++) {
                            const int8_t *w = filter + ((o * k_h + kh) * k_w + kw) * in_c;
                            const float go = g[o], scale = filter_scale[o];
                            for (i = 0; i < in_c; i++) {
                                dx[i] = dx[i] + go * ((float)w[i] * scale);
                            }
                        }
                    }
                }
            }
        }
    }
    return TTE_OK;
}
