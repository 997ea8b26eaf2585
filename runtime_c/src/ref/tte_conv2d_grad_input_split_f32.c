/*
 * Title:       tte_conv2d_grad_input_split_f32.c
 * Description: CONV2D input gradient of a 1x1 (stride 1, no padding) conv whose weight is
 *              split: the trained input channels in SRAM, the frozen rest in Flash.
 *
 * Layout:      grad float32 NHWC [N, H, W, C_out]; the weight [C_out, 1, 1, C_in] is a
 *              tte_split_filter (tte_types.h) with float32 scales [C_out]; output float32
 *              NHWC [N, H, W, C_in].
 * Quantization: as tte_conv2d_grad_input_f32: w_real = float32(w[o, i]) * scale[o] and
 *   dx[p, i] = +0 + grad[p, 0] * w_real[0, i] + ... over o in order.
 *
 * tte_gi_1x1.h's core, reading each weight column from the part that holds it: the same
 * products in the same order as tte_conv2d_grad_input_f32 on the whole tensor, so the result
 * is bit-identical.  No scratch memory; 2.5 KB of stack (the core's panel).
 */
#include "internal/tte_checks.h"
#include "internal/tte_gi_1x1.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_conv2d_grad_input_split_f32)

tte_status tte_conv2d_grad_input_split_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                           const tte_dims *grad_dims, const float *grad,
                                           const tte_dims *filter_dims, const tte_split_filter *filter,
                                           const float *filter_scale, const tte_dims *output_dims,
                                           float *output)
{
    const int32_t in_c = output_dims->c, out_c = grad_dims->c;
    (void)ctx;

    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != in_c || filter_dims->n != out_c ||
        output_dims->n != grad_dims->n || output_dims->h != grad_dims->h || output_dims->w != grad_dims->w ||
        p->stride_h != 1 || p->stride_w != 1 || p->pad_top != 0 || p->pad_left != 0 || p->pad_bottom != 0 ||
        p->pad_right != 0 || !tte_split_filter_ok(filter, in_c)) {
        return TTE_ERR_ARG;
    }
    tte_gi_1x1_f32(grad, grad_dims->n * grad_dims->h * grad_dims->w, out_c, NULL, filter, filter_scale, in_c,
                   output);
    return TTE_OK;
}
