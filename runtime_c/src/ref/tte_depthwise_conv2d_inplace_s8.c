/*
 * Title:       tte_depthwise_conv2d_inplace_s8.c
 * Description: int8 depthwise 2-D convolution (depth multiplier 1) whose output may overwrite
 *              its input, computed one channel at a time through a one-channel scratch plane.
 *
 * Layout:      input NHWC [N, H, W, C]; weights 1HWC [1, KH, KW, C]; bias int32 [C];
 *              output NHWC [N, OH, OW, C] at the input's address (in place) or disjoint from
 *              it; scratch: one input channel as an [H, W] int8 plane (H * W bytes).
 * Quantization (per channel c), bit-identical to tte_depthwise_conv2d_s8:
 *   acc = bias[c] + sum_{ky,kx valid} (in[iy, ix, c] + input_offset) * w[0, ky, kx, c]
 *   out = clamp(tte_requantize(acc, mult[c], shift[c]) + output_offset, act_min, act_max)
 *   Taps that fall into the padding contribute nothing.
 *
 * Why overwriting is safe: for each image b, then each channel c, the kernel first copies the
 * plane in[b, :, :, c] into scratch and only then writes out[b, :, :, c].  Output element
 * (b, p, c), p = oy * OW + ox, sits at element (b * OH * OW + p) * C + c of the buffer: a
 * channel-c slot (no other channel is touched) of flat input pixel b * OH * OW + p, which is
 * below (b + 1) * H * W because OH * OW <= H * W.  So it belongs to an image b' <= b whose
 * channel c is already in scratch (b' = b) or fully consumed (b' < b).  Any stride works: a
 * stride-2 output plane is smaller and fills the first slots of each channel.  The planner
 * reserves this kernel's own scratch_bytes for the node (tinyengine_compiler/registry.py):
 * the H * W bytes used here.  The per-plane loop is tte_dw_plane.h's.
 */
#include "internal/tte_checks.h"
#include "internal/tte_dw_plane.h"
#include "tte_kernels.h"

int32_t tte_depthwise_conv2d_inplace_s8_scratch_bytes(const tte_dims *input_dims,
                                                      const tte_dims *filter_dims,
                                                      const tte_dims *output_dims)
{
    (void)filter_dims;
    (void)output_dims;
    return input_dims->h * input_dims->w;
}

tte_status tte_depthwise_conv2d_inplace_s8(const tte_ctx *ctx, const tte_conv_params *p,
                                           const tte_per_channel_quant *q,
                                           const tte_dims *input_dims, const int8_t *input,
                                           const tte_dims *filter_dims, const int8_t *filter,
                                           const int32_t *bias, const tte_dims *output_dims,
                                           int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t plane = in_h * in_w, out_plane = out_h * out_w;
    tte_dw_plane_geom g;
    int8_t *scratch;
    int32_t b, c, i;

    if (filter_dims->n != 1 || filter_dims->c != ch || output_dims->c != ch ||
        output_dims->n != input_dims->n || in_h < 1 || in_w < 1 ||
        !tte_axis_ok(in_h, k_h, p->stride_h, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, p->stride_w, p->pad_left, p->pad_right, out_w) ||
        out_plane > plane) {
        return TTE_ERR_ARG;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < plane) {
        return TTE_ERR_SCRATCH;
    }
    scratch = (int8_t *)ctx->buf;
    g = tte_dw_plane_geometry(p, input_dims, filter_dims, output_dims);

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * plane * ch;
        int8_t *out_b = output + b * out_plane * ch;
        for (c = 0; c < ch; c++) {
            for (i = 0; i < plane; i++) {
                scratch[i] = in_b[i * ch + c];
            }
            tte_dw_plane_s8(&g, scratch, filter + c, ch, bias != NULL ? bias[c] : 0,
                            q->multiplier[c], q->shift[c], out_b + c, ch);
        }
    }
    return TTE_OK;
}
