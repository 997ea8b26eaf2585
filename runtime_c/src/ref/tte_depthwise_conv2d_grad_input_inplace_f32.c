/*
 * Title:       tte_depthwise_conv2d_grad_input_inplace_f32.c
 * Description: DEPTHWISE_CONV2D input gradient (depth multiplier 1) whose output may
 *              overwrite the incoming gradient, computed one channel at a time in a
 *              one-channel float32 scratch plane.
 *
 * Layout:      grad float32 NHWC [N, OH, OW, C]; weights int8 1HWC [1, KH, KW, C] with
 *              float32 scales [C]; output float32 NHWC [N, H, W, C] at grad's address (in
 *              place) or disjoint from it; scratch: one [OH, OW] float32 plane (OH * OW * 4
 *              bytes), of which the [H, W] dx plane of a channel uses H * W <= OH * OW.
 * Quantization: w_real = float32(w[0, kh, kw, c]) * scale[c] (symmetric weights).
 *   dx[y, x, c] = +0, then for kh, for kw over the taps with y + pad_top - kh = oy * stride_h
 *   and x + pad_left - kw = ox * stride_w inside the grad: dx += grad[oy, ox, c] * w_real
 *   (reference/backward/depthwise_conv2d_grad_input.py); bit-identical to
 *   tte_depthwise_conv2d_grad_input_f32 (same products, same order per element).
 *
 * Per image b, per channel c: the scratch plane is set to +0, tte_dw_gi.h scatters the nonzero
 * values of grad[b, :, :, c] (read where they are) into it, the reference's terms in the
 * reference's order, with the zero grad values (most of a gradient that came through a ReLU6
 * mask) skipped exactly; then the plane is stored as dx[b, :, :, c].
 *
 * Why overwriting is safe: dx[b, :, :, c] is written only after grad[b, :, :, c] has been
 * read.  Output element (b, p, c), p = y * W + x, sits at element (b * H * W + p) * C + c: a
 * channel-c slot of flat grad pixel b * H * W + p < (b + 1) * OH * OW (as H * W <= OH * OW),
 * so of an image whose channel c is already read; no other channel is touched.
 * passes/inplace.py only aliases dx onto a grad at least as large (stride 1 with "same"
 * padding in practice); the planner reserves this kernel's own scratch_bytes
 * (tinyengine_compiler/registry.py): the OH * OW floats asked for here.
 */
#include "internal/tte_checks.h"
#include "internal/tte_dw_gi.h"
#include "tte_kernels.h"

int32_t tte_depthwise_conv2d_grad_input_inplace_f32_scratch_bytes(const tte_dims *input_dims,
                                                                  const tte_dims *filter_dims,
                                                                  const tte_dims *output_dims)
{
    (void)filter_dims;
    (void)output_dims;
    return input_dims->h * input_dims->w * (int32_t)sizeof(float);
}

tte_status tte_depthwise_conv2d_grad_input_inplace_f32(
    const tte_ctx *ctx, const tte_conv_grad_params *p, const tte_dims *grad_dims,
    const float *grad, const tte_dims *filter_dims, const int8_t *filter,
    const float *filter_scale, const tte_dims *output_dims, float *output)
{
    const int32_t in_h = output_dims->h, in_w = output_dims->w, ch = output_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    const int32_t g_plane = out_h * out_w, x_plane = in_h * in_w;
    float *scratch;
    int32_t b, c, i;

    if (filter_dims->n != 1 || filter_dims->c != ch || grad_dims->c != ch ||
        output_dims->n != grad_dims->n || !tte_axis_ok(in_h, k_h, sh, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, sw, p->pad_left, p->pad_right, out_w) || x_plane > g_plane) {
        return TTE_ERR_ARG;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < g_plane * (int32_t)sizeof(float)) {
        return TTE_ERR_SCRATCH;
    }
    scratch = (float *)ctx->buf;

    for (b = 0; b < grad_dims->n; b++) {
        const float *g_b = grad + b * g_plane * ch;
        float *dx_b = output + b * x_plane * ch;
        for (c = 0; c < ch; c++) {
            /* channel c of dx is summed in scratch, then stored over grad's channel c */
            for (i = 0; i < x_plane; i++) {
                scratch[i] = 0.0f;
            }
            tte_dw_gi_channel_(p, g_b + c, ch, out_h, out_w, filter + c, ch, filter_scale[c], k_h, k_w, scratch,
                               1, in_h, in_w);
            for (i = 0; i < x_plane; i++) {
                dx_b[i * ch + c] = scratch[i];
            }
        }
    }
    return TTE_OK;
}
