/*
 * Title:       tte_conv2d_1x1_s8.c
 * Description: Pointwise (1x1) int8 convolution, any stride, no padding: the fast path of
 *              tte_conv2d_s8 and bit-identical to it on the shapes it accepts.
 *
 * Layout:      input NHWC [N, H, W, C_in]; weights OHWI [C_out, 1, 1, C_in] (a [C_out, C_in]
 *              matrix); bias int32 [C_out]; output NHWC [N, OH, OW, C_out],
 *              OH = (H - 1) / stride_h + 1, OW = (W - 1) / stride_w + 1.
 * Quantization (per output channel c):
 *   acc = bias[c] + sum_ci (in[oy * stride_h, ox * stride_w, ci] + input_offset) * w[c, ci]
 *   out = clamp(tte_requantize(acc, mult[c], shift[c]) + output_offset, act_min, act_max)
 *
 * The work is tiled as 2 output channels x 2 output pixels, channel pairs outermost, and
 * computed by tte_pw_s8.h's core, which folds input_offset into a per-channel starting
 * value once (exact int32 arithmetic, so the same sums).  No scratch memory; 2.5 KB of
 * stack (the core's widened weights).
 */
#include "tte_kernels.h"
#include "tte_pw_s8.h"

int32_t tte_conv2d_1x1_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims)
{
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

tte_status tte_conv2d_1x1_s8(const tte_ctx *ctx, const tte_conv_params *p,
                             const tte_per_channel_quant *q, const tte_dims *input_dims,
                             const int8_t *input, const tte_dims *filter_dims,
                             const int8_t *filter, const int32_t *bias,
                             const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    tte_pw_geom g;
    (void)ctx;

    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != in_c ||
        filter_dims->n != out_c || output_dims->n != input_dims->n || p->pad_top != 0 ||
        p->pad_left != 0 || p->pad_bottom != 0 || p->pad_right != 0 || p->stride_h < 1 ||
        p->stride_w < 1 || out_h != (in_h - 1) / p->stride_h + 1 ||
        out_w != (in_w - 1) / p->stride_w + 1) {
        return TTE_ERR_ARG;
    }
    g.in_h = in_h;
    g.in_w = in_w;
    g.in_c = in_c;
    g.out_h = out_h;
    g.out_w = out_w;
    g.stride_h = p->stride_h;
    g.stride_w = p->stride_w;
    g.pixels = input_dims->n * out_h * out_w;
    g.input_offset = p->input_offset;
    g.output_offset = p->output_offset;
    g.act_min = p->act_min;
    g.act_max = p->act_max;
    tte_pw_s8(&g, input, filter, bias, q->multiplier, q->shift, 0, out_c, output, out_c, 1);
    return TTE_OK;
}
