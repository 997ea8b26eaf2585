/*
 * tte_pw_s8.h: the pointwise (1x1, no padding) int8 convolution core shared by
 * tte_conv2d_1x1_s8, its split-weight twin, tte_fused_expand_depthwise_s8 and
 * tte_conv2d_s8's gathered windows.  Internal to runtime_c: not part of the kernel API.
 *
 * For output channels oc in [oc_begin, oc_end) and every output pixel p (flat over batch,
 * rows, columns), with x the input pixel (b, oy * stride_h, ox * stride_w):
 *   acc = bias[oc] + sum_ci (x[ci] + input_offset) * w[oc, ci]
 *   out[p * pix_stride + (oc - oc_begin) * ch_stride] =
 *       clamp(tte_requantize(acc, mult[oc], shift[oc]) + output_offset, act_min, act_max)
 *
 * Since (x + input_offset) * w summed = input_offset * sum w + sum x * w in exact int32
 * arithmetic (every term is far below 2^31, tte_kernels.h), each channel starts from
 * bias + input_offset * sum w, computed once, and the inner loop multiplies raw int8 lanes.
 * Channels go in pairs (the outer loop, so a pair's constants stay put), pixels in pairs
 * within: a tile of 2 x 2 outputs.  A pair's weights are widened once into 16-bit lanes on
 * the stack (the panel, TTE_PW_PANEL_WORDS * 4 bytes, src/shared/tte_pw_s8.c; tte_dsp.h SXTB16 with and without
 * ROR #8: lanes (0, 2) and (1, 3), the same split as the input's), so per 4 input channels
 * the loop loads 2 input words and the pair's 4 panel words (two LDRDs, tte_read2_next),
 * widens the inputs and does 8 dual multiply-adds: 18 instructions for 16 MACs on the
 * Cortex-M7, all 14 registers, no spills.  (Unrolled to 8 input channels, GCC runs out of
 * registers and spills.)
 *
 * Output stage.  When the layer has no clamp (act_min -128, act_max 127, as every layer of
 * the paper's models) and both channels' shifts are in [-24, -2], each output is
 * SMMLA, ASR, SSAT #8, STRB: the zero point is folded into the rounding term of
 * tte_requant_ch (tte_pw_direct_of_ gives the bound that keeps the sum exact) and SSAT #8
 * is the clamp.  Otherwise each channel's two pixels go through tte_requantize with the
 * zero point and clamp as the 16-bit lanes of one word (tte_dsp.h tte_offset_clamp_s8x2).
 * Either is bit-exact with tte_requantize.
 *
 * An odd last channel runs the tile with its second channel a copy of the first, stored to
 * the same byte; an odd pixel count ends with a tile over the last two pixels, the one
 * before them computed and stored a second time (a single pixel: a tile of it twice).
 * Integer arithmetic only.
 */
#ifndef TTE_PW_S8_H
#define TTE_PW_S8_H

#include <stdint.h>

#include "tte_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Geometry and output stage of a pointwise conv (see the file comment). */
typedef struct {
    int32_t in_h, in_w, in_c, out_h, out_w, stride_h, stride_w;
    int32_t pixels; /**< batch * out_h * out_w */
    int32_t input_offset, output_offset, act_min, act_max;
} tte_pw_geom;

/* The geometry of a 1x1 conv with no padding from its arguments (tte_conv2d_1x1_s8 and its
 * split-weight twin): 1 with *g filled when the dims and parameters describe one, else 0. */
static inline int32_t tte_pw_geom_of_conv(const tte_conv_params *p, const tte_dims *input_dims,
                                          const tte_dims *filter_dims, const tte_dims *output_dims,
                                          tte_pw_geom *g)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;

    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != in_c ||
        filter_dims->n != output_dims->c || output_dims->n != input_dims->n || p->pad_top != 0 ||
        p->pad_left != 0 || p->pad_bottom != 0 || p->pad_right != 0 || p->stride_h < 1 ||
        p->stride_w < 1 || out_h != (in_h - 1) / p->stride_h + 1 ||
        out_w != (in_w - 1) / p->stride_w + 1) {
        return 0;
    }
    g->in_h = in_h;
    g->in_w = in_w;
    g->in_c = in_c;
    g->out_h = out_h;
    g->out_w = out_w;
    g->stride_h = p->stride_h;
    g->stride_w = p->stride_w;
    g->pixels = input_dims->n * out_h * out_w;
    g->input_offset = p->input_offset;
    g->output_offset = p->output_offset;
    g->act_min = p->act_min;
    g->act_max = p->act_max;
    return 1;
}

/** Output channels [oc_begin, oc_end) of the pointwise conv into
 *  out[p * pix_stride + (oc - oc_begin) * ch_stride] (see the file comment). */
void tte_pw_s8(const tte_pw_geom *g, const int8_t *input, const int8_t *filter,
               const int32_t *bias, const int32_t *mult, const int32_t *shift,
               int32_t oc_begin, int32_t oc_end, int8_t *out, int32_t pix_stride,
               int32_t ch_stride);

#ifdef __cplusplus
}
#endif

#endif /* TTE_PW_S8_H */
