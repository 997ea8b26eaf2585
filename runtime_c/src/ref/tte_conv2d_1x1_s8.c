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
#include "internal/tte_checks.h"
#include "internal/tte_pw_s8.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_conv2d_1x1_s8)

tte_status tte_conv2d_1x1_s8(const tte_ctx *ctx, const tte_conv_params *p,
                             const tte_per_channel_quant *q, const tte_dims *input_dims,
                             const int8_t *input, const tte_dims *filter_dims,
                             const int8_t *filter, const int32_t *bias,
                             const tte_dims *output_dims, int8_t *output)
{
    const int32_t out_c = output_dims->c;
    tte_pw_geom g;
    (void)ctx;

    if (!tte_pw_geom_of_conv(p, input_dims, filter_dims, output_dims, &g)) {
        return TTE_ERR_ARG;
    }
    tte_pw_s8(&g, input, filter, bias, q->multiplier, q->shift, 0, out_c, output, out_c, 1);
    return TTE_OK;
}
