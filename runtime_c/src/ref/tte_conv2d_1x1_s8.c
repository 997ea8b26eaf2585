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
 * Each output pixel is a matrix-vector product of the weights with one contiguous input
 * pixel; four output channels share every loaded input value.  No scratch memory.
 */
#include "tte_kernels.h"
#include "tte_requant.h"

int32_t tte_conv2d_1x1_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims)
{
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

static int8_t finish(int32_t acc, const tte_conv_params *p, int32_t mult, int32_t shift)
{
    return tte_clamp_s8(tte_requantize(acc, mult, shift) + p->output_offset, p->act_min,
                        p->act_max);
}

tte_status tte_conv2d_1x1_s8(const tte_ctx *ctx, const tte_conv_params *p,
                             const tte_per_channel_quant *q, const tte_dims *input_dims,
                             const int8_t *input, const tte_dims *filter_dims,
                             const int8_t *filter, const int32_t *bias,
                             const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t in_off = p->input_offset;
    int32_t b, oy, ox;
    (void)ctx;

    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != in_c ||
        filter_dims->n != out_c || output_dims->n != input_dims->n || p->pad_top != 0 ||
        p->pad_left != 0 || p->pad_bottom != 0 || p->pad_right != 0 || p->stride_h < 1 ||
        p->stride_w < 1 || out_h != (in_h - 1) / p->stride_h + 1 ||
        out_w != (in_w - 1) / p->stride_w + 1) {
        return TTE_ERR_ARG;
    }

    for (b = 0; b < input_dims->n; b++) {
        for (oy = 0; oy < out_h; oy++) {
            const int8_t *in_y = input + ((b * in_h + oy * p->stride_h) * in_w) * in_c;
            for (ox = 0; ox < out_w; ox++) {
                const int8_t *x = in_y + ox * p->stride_w * in_c;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
                int32_t oc = 0;
                for (; oc + 4 <= out_c; oc += 4) {
                    const int8_t *w0 = filter + oc * in_c;
                    const int8_t *w1 = w0 + in_c;
                    const int8_t *w2 = w1 + in_c;
                    const int8_t *w3 = w2 + in_c;
                    int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0, i;
                    if (bias != NULL) {
                        acc0 = bias[oc];
                        acc1 = bias[oc + 1];
                        acc2 = bias[oc + 2];
                        acc3 = bias[oc + 3];
                    }
                    for (i = 0; i < in_c; i++) {
                        const int32_t xv = x[i] + in_off;
                        acc0 += xv * w0[i];
                        acc1 += xv * w1[i];
                        acc2 += xv * w2[i];
                        acc3 += xv * w3[i];
                    }
                    out[oc] = finish(acc0, p, q->multiplier[oc], q->shift[oc]);
                    out[oc + 1] = finish(acc1, p, q->multiplier[oc + 1], q->shift[oc + 1]);
                    out[oc + 2] = finish(acc2, p, q->multiplier[oc + 2], q->shift[oc + 2]);
                    out[oc + 3] = finish(acc3, p, q->multiplier[oc + 3], q->shift[oc + 3]);
                }
                for (; oc < out_c; oc++) {
                    const int8_t *w = filter + oc * in_c;
                    int32_t acc = bias != NULL ? bias[oc] : 0, i;
                    for (i = 0; i < in_c; i++) {
                        acc += (x[i] + in_off) * w[i];
                    }
                    out[oc] = finish(acc, p, q->multiplier[oc], q->shift[oc]);
                }
            }
        }
    }
    return TTE_OK;
}
