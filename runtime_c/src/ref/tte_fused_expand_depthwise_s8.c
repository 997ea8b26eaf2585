/*
 * Title:       tte_fused_expand_depthwise_s8.c
 * Description: a 1x1 expand CONV2D (stride 1, no padding) followed by a DEPTHWISE_CONV2D,
 *              computed one expanded channel at a time: the expanded tensor is never held,
 *              only one [H, W] channel of it, in scratch.
 *
 * Layout:      input NHWC [N, H, W, C_in]; expand weights OHWI [C_exp, 1, 1, C_in] with bias
 *              int32 [C_exp]; depthwise weights 1HWC [1, KH, KW, C_exp] with bias int32
 *              [C_exp]; output NHWC [N, OH, OW, C_exp]; scratch: one expanded channel as an
 *              [H, W] int8 plane (H * W bytes, passes/fuse_frozen_prefix.py
 *              fused_scratch_bytes).
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
 * The expand step reads two input pixels at a time, 4 channels per 32-bit word, widened into
 * 16-bit lanes with input_offset added (tte_dsp.h: SXTAB16/SXTB16/SMLAD on the Cortex-M7), so
 * each widened weight word feeds two pixels; the depthwise step is tte_dw_plane.h's clipped
 * window loop over the plane.  The work is that of the unfused pair (the input is read once
 * per expanded channel, as the 1x1 conv reads it once per output channel).
 */
#include "tte_dsp.h"
#include "tte_dw_plane.h"
#include "tte_kernels.h"

int32_t tte_fused_expand_depthwise_s8_scratch_bytes(const tte_dims *input_dims,
                                                    const tte_dims *filter_dims,
                                                    const tte_dims *output_dims)
{
    (void)filter_dims;
    (void)output_dims;
    return input_dims->h * input_dims->w;
}

/* The expand stage's output constants for one expanded channel. */
typedef struct {
    int32_t bias, mult, shift, zero_point, lo, hi;
} expand_stage;

static int8_t expand_finish(int32_t acc, const expand_stage *e)
{
    return tte_clamp_s8(tte_requantize_fast(acc, e->mult, e->shift) + e->zero_point, e->lo,
                        e->hi);
}

/* mid[i] for the n pixels of in (each n_in int8 channels): one expanded channel's plane. */
static void expand_plane(const int8_t *in, int32_t n, int32_t n_in, const int8_t *w,
                         int32_t in_off, const expand_stage *e, int8_t *mid)
{
    const int32_t off2 = tte_pack16(in_off, in_off);
    const int32_t blocks = n_in & ~3;
    int32_t i, k;
    for (i = 0; i < n; i += 2) {
        /* A last odd pixel is computed twice (x1 = x0) and stored once. */
        const int32_t pair = i + 1 < n;
        const int8_t *x0 = in + i * n_in;
        const int8_t *x1 = pair ? x0 + n_in : x0;
        int32_t a0 = e->bias, a1 = e->bias;
        for (k = 0; k < blocks; k += 4) {
            const int32_t v = tte_read_s8x4(w + k);
            const int32_t v_lo = tte_sxtb16(v), v_hi = tte_sxtb16_ror8(v);
            const int32_t xa = tte_read_s8x4(x0 + k), xb = tte_read_s8x4(x1 + k);
            a0 = tte_smlad(tte_sxtab16(off2, xa), v_lo, a0);
            a0 = tte_smlad(tte_sxtab16_ror8(off2, xa), v_hi, a0);
            a1 = tte_smlad(tte_sxtab16(off2, xb), v_lo, a1);
            a1 = tte_smlad(tte_sxtab16_ror8(off2, xb), v_hi, a1);
        }
        for (; k < n_in; k++) {
            a0 += (x0[k] + in_off) * w[k];
            a1 += (x1[k] + in_off) * w[k];
        }
        if (pair) {
            mid[i + 1] = expand_finish(a1, e);
        }
        mid[i] = expand_finish(a0, e);
    }
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
    int8_t *mid;
    int32_t b, c;

    if (expand_filter_dims->h != 1 || expand_filter_dims->w != 1 ||
        expand_filter_dims->c != in_c || dw_filter_dims->n != 1 || dw_filter_dims->c != c_exp ||
        output_dims->c != c_exp || output_dims->n != input_dims->n || in_h < 1 || in_w < 1 ||
        expand_p->stride_h != 1 || expand_p->stride_w != 1 || expand_p->pad_top != 0 ||
        expand_p->pad_left != 0 || expand_p->pad_bottom != 0 || expand_p->pad_right != 0 ||
        dw_p->input_offset != -expand_p->output_offset || dw_p->stride_h < 1 ||
        dw_p->stride_w < 1 || k_h < 1 || k_w < 1 || dw_p->pad_top < 0 || dw_p->pad_left < 0 ||
        dw_p->pad_bottom < 0 || dw_p->pad_right < 0 ||
        in_h + dw_p->pad_top + dw_p->pad_bottom < k_h ||
        in_w + dw_p->pad_left + dw_p->pad_right < k_w ||
        out_h != (in_h + dw_p->pad_top + dw_p->pad_bottom - k_h) / dw_p->stride_h + 1 ||
        out_w != (in_w + dw_p->pad_left + dw_p->pad_right - k_w) / dw_p->stride_w + 1) {
        return TTE_ERR_ARG;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < plane) {
        return TTE_ERR_SCRATCH;
    }
    mid = (int8_t *)ctx->buf;
    /* the depthwise stage reads the plane with the expanded tensor's geometry */
    g = tte_dw_plane_geometry(dw_p, input_dims, dw_filter_dims, output_dims);

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * plane * in_c;
        int8_t *out_b = output + b * out_plane * c_exp;
        for (c = 0; c < c_exp; c++) {
            expand_stage e;
            e.bias = expand_bias != NULL ? expand_bias[c] : 0;
            e.mult = expand_q->multiplier[c];
            e.shift = expand_q->shift[c];
            e.zero_point = expand_p->output_offset;
            e.lo = expand_p->act_min;
            e.hi = expand_p->act_max;
            expand_plane(in_b, plane, in_c, expand_filter + c * in_c, expand_p->input_offset, &e,
                         mid);
            tte_dw_plane_s8(&g, mid, dw_filter + c, c_exp, dw_bias != NULL ? dw_bias[c] : 0,
                            dw_q->multiplier[c], dw_q->shift[c], out_b + c, c_exp);
        }
    }
    return TTE_OK;
}
