/*
 * Title:       tte_depthwise_conv2d_grad_weight_kept_f32.c
 * Description: DEPTHWISE_CONV2D weight gradient (depth multiplier 1) for a subset of
 *              channels, from the saved input already gathered to those channels
 *              (tte_gather_channels_s8; lifetimes.py `<t>.kept.<reader>`).
 *
 * Layout:      input int8 NHWC [1, H, W, n], the kept channels only; grad float32 NHWC
 *              [1, OH, OW, C], every channel; channels int32 [n], the kept list (increasing,
 *              < C): input channel j pairs with grad channel channels[j]; output float32
 *              [1, KH, KW, n] (1HWC of the trained channels).
 * Quantization: x_real = float32(x - input_zero_point) * input_scale.
 *   dw[0, kh, kw, j] = +0, then for each output pixel (oy, ox) in row-major order whose tap
 *   (y, x) = (oy * stride_h + kh - pad_top, ox * stride_w + kw - pad_left) is inside the
 *   input: dw += grad[oy, ox, channels[j]] * x_real[y, x, j].  The same products in the same
 *   order as tte_depthwise_conv2d_grad_weight_f32 on the full input with the same channels,
 *   so bit-identical to it and to reference/backward/depthwise_conv2d_grad_weight.py.
 *
 * One kernel tap dw[0, kh, kw, :] at a time, channels innermost.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_train_common.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_depthwise_conv2d_grad_weight_kept_f32)

tte_status tte_depthwise_conv2d_grad_weight_kept_f32(const tte_ctx *ctx,
                                                     const tte_conv_grad_params *p,
                                                     const tte_dims *input_dims,
                                                     const int8_t *input,
                                                     const tte_dims *grad_dims, const float *grad,
                                                     const int32_t *channels,
                                                     const tte_dims *output_dims, float *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, n = input_dims->c;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w, ch = grad_dims->c;
    const int32_t k_h = output_dims->h, k_w = output_dims->w;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    (void)ctx;

    if (input_dims->n != 1 || grad_dims->n != 1 || output_dims->n != 1 || output_dims->c != n ||
        n < 1 || n > ch || !tte_axis_ok(in_h, k_h, sh, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, sw, p->pad_left, p->pad_right, out_w) ||
        channels == NULL || !tte_channels_ok(channels, n, ch)) {
        return TTE_ERR_ARG;
    }

    tte_dw_grad_weight_sums(p, in_h, in_w, n, input, out_h, out_w, ch, grad, channels, k_h, k_w, n, output);
    return TTE_OK;
}
