/*
 * Title:       tte_depthwise_conv2d_grad_input_f32.c
 * Description: DEPTHWISE_CONV2D input gradient (depth multiplier 1) with int8 weights
 *              dequantized on the fly.
 *
 * Layout:      grad float32 NHWC [N, OH, OW, C]; weights int8 1HWC [1, KH, KW, C] with
 *              float32 scales [C]; output float32 NHWC [N, H, W, C].
 * Quantization: w_real = float32(w[0, kh, kw, c]) * scale[c] (symmetric weights).
 *   dx[y, x, c] = +0, then for kh, for kw over the taps with y + pad_top - kh = oy * stride_h
 *   and x + pad_left - kw = ox * stride_w inside the grad: dx += grad[oy, ox, c] * w_real
 *   (reference/backward/depthwise_conv2d_grad_input.py).
 *
 * One channel plane at a time (tte_dw_gi.h): dx set to +0, then each nonzero grad value,
 * in decreasing (oy, ox) order, adds its products to the dx elements its taps reach, which
 * gives every element the reference's terms in the reference's order; zero grad values (most
 * of a gradient that came through a ReLU6 mask) are skipped, exactly.  No scratch memory;
 * the dequantized weights of one channel (49 taps at a time) sit on the stack.
 */
#include "internal/tte_checks.h"
#include "internal/tte_dw_gi.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_depthwise_conv2d_grad_input_f32)

tte_status tte_depthwise_conv2d_grad_input_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                               const tte_dims *grad_dims, const float *grad,
                                               const tte_dims *filter_dims, const int8_t *filter,
                                               const float *filter_scale,
                                               const tte_dims *output_dims, float *output)
{
    const int32_t in_h = output_dims->h, in_w = output_dims->w, ch = output_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    int32_t b, c, i;
    (void)ctx;

    if (filter_dims->n != 1 || filter_dims->c != ch || grad_dims->c != ch ||
        output_dims->n != grad_dims->n || !tte_axis_ok(in_h, k_h, sh, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, sw, p->pad_left, p->pad_right, out_w)) {
        return TTE_ERR_ARG;
    }

    for (b = 0; b < grad_dims->n; b++) {
        float *dx_b = output + b * in_h * in_w * ch;
        for (c = 0; c < ch; c++) {
            for (i = 0; i < in_h * in_w; i++) {
                dx_b[i * ch + c] = 0.0f;
            }
            tte_dw_gi_channel_(p, grad + b * out_h * out_w * ch + c, ch, out_h, out_w, filter + c, ch,
                               filter_scale[c], k_h, k_w, dx_b + c, ch, in_h, in_w);
        }
    }
    return TTE_OK;
}
