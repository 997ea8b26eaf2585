/*
 * Title:       tte_fused_expand_depthwise_s8.c
 * Description: a 1x1 expand CONV2D (stride 1, no padding) followed by a DEPTHWISE_CONV2D,
 *              computed two expanded channels at a time: the expanded tensor is never held,
 *              only two [H, W] channels of it, in scratch.
 *
 * Layout:      input NHWC [N, H, W, C_in]; expand weights OHWI [C_exp, 1, 1, C_in] with bias
 *              int32 [C_exp]; depthwise weights 1HWC [1, KH, KW, C_exp] with bias int32
 *              [C_exp]; output NHWC [N, OH, OW, C_exp]; scratch: two expanded channels as
 *              [H, W] int8 planes (2 * H * W bytes: the scratch the op registry,
 *              tinyengine_compiler/registry.py, has the planner reserve).
 * Quantization (per expanded channel c; e = expand_p, d = dw_p; reference/ops/
 *   fused_expand_depthwise.py, bit-identical to tte_conv2d_1x1_s8 then
 *   tte_depthwise_conv2d_s8):
 *   acc1 = b1[c] + sum_ci (in[y, x, ci] + e.input_offset) * w1[c, ci]
 *   mid[y, x] = clamp(tte_requantize(acc1, m1[c], s1[c]) + e.output_offset,
 *                     e.act_min, e.act_max)
 *   acc2 = b2[c] + sum_{ky,kx valid} (mid[iy, ix] + d.input_offset) * w2[0, ky, kx, c]
 *   out  = clamp(tte_requantize(acc2, m2[c], s2[c]) + d.output_offset, d.act_min, d.act_max)
 *   with d.input_offset = -e.output_offset (both the expanded tensor's zero point).
 *
 * The expand step is tte_pw_s8.h's pointwise core for a channel pair (its stack panel is
 * 2.5 KB): two channels fill its 2 x 2 tile, where one would leave half of every dual
 * multiply-add computing a duplicate.  The depthwise step is tte_dw_plane.h's window loop
 * over each plane.  The work is that of the unfused pair (the input is read once per
 * expanded channel pair, as the 1x1 conv reads it once per output channel pair).
 */
#include "internal/tte_checks.h"
#include "internal/tte_dw_plane.h"
#include "internal/tte_pw_s8.h"
#include "tte_kernels.h"

int32_t tte_fused_expand_depthwise_s8_scratch_bytes(const tte_dims *input_dims,
                                                    const tte_dims *filter_dims,
                                                    const tte_dims *output_dims)
{
    (void)filter_dims;
    (void)output_dims;
    return 2 * input_dims->h * input_dims->w;
}

tte_status tte_fused_expand_depthwise_s8(
    const tte_ctx *ctx, const tte_conv_params *expand_p, const tte_per_channel_quant *expand_q,
    const tte_conv_params *dw_p, const tte_per_channel_quant *dw_q, const tte_dims *input_dims,
    const int8_t *input, const tte_dims *expand_filter_dims, const int8_t *expand_filter,
    const int32_t *expand_bias, const tte_dims *dw_filter_dims, const int8_t *dw_filter,
    const int32_t *dw_bias, const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t c_exp = expand_filter_dims->n;
    const int32_t k_h = dw_filter_dims->h, k_w = dw_filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t plane = in_h * in_w, out_plane = out_h * out_w;
    tte_dw_plane_geom g;
    tte_pw_geom e;
    int8_t *mid;
    int32_t b, c;

    if (expand_filter_dims->h != 1 || expand_filter_dims->w != 1 ||
        expand_filter_dims->c != in_c || dw_filter_dims->n != 1 || dw_filter_dims->c != c_exp ||
        output_dims->c != c_exp || output_dims->n != input_dims->n || in_h < 1 || in_w < 1 ||
        expand_p->stride_h != 1 || expand_p->stride_w != 1 || expand_p->pad_top != 0 ||
        expand_p->pad_left != 0 || expand_p->pad_bottom != 0 || expand_p->pad_right != 0 ||
        dw_p->input_offset != -expand_p->output_offset ||
        !tte_axis_ok(in_h, k_h, dw_p->stride_h, dw_p->pad_top, dw_p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, dw_p->stride_w, dw_p->pad_left, dw_p->pad_right, out_w)) {
        return TTE_ERR_ARG;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < 2 * plane) {
        return TTE_ERR_SCRATCH;
    }
    mid = (int8_t *)ctx->buf;
    /* the depthwise stage reads the plane with the expanded tensor's geometry */
    g = tte_dw_plane_geometry(dw_p, input_dims, dw_filter_dims, output_dims);
    e.in_h = in_h;
    e.in_w = in_w;
    e.in_c = in_c;
    e.out_h = in_h;
    e.out_w = in_w;
    e.stride_h = 1;
    e.stride_w = 1;
    e.pixels = plane;
    e.input_offset = expand_p->input_offset;
    e.output_offset = expand_p->output_offset;
    e.act_min = expand_p->act_min;
    e.act_max = expand_p->act_max;

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * plane * in_c;
        int8_t *out_b = output + b * out_plane * c_exp;
        for (c = 0; c < c_exp; c += 2) {
            const int32_t pair = c + 1 < c_exp ? 2 : 1;
            int32_t k;
            tte_pw_s8(&e, in_b, expand_filter, expand_bias, expand_q->multiplier,
                      expand_q->shift, c, c + pair, mid, 1, plane);
            for (k = 0; k < pair; k++) {
                tte_dw_plane_s8(&g, mid + k * plane, dw_filter + c + k, c_exp,
                                dw_bias != NULL ? dw_bias[c + k] : 0, dw_q->multiplier[c + k],
                                dw_q->shift[c + k], out_b + c + k, c_exp);
            }
        }
    }
    return TTE_OK;
}
