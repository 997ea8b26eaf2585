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
 * pixel.  The work is tiled as 2 output pixels x 2 output channels: the inner loop reads 4
 * int8 of each operand as one word and widens them into two 16-bit lanes (adding
 * input_offset to the input lanes in the same step), then does dual 16-bit multiply-adds,
 * so every loaded word feeds 4 dual MACs (tte_dsp.h: one
 * instruction each on the Cortex-M7, a plain-C twin elsewhere).  Lane pairs (bytes 0 and
 * 2, bytes 1 and 3) match between operands, so no reordering is needed.  Leftover input
 * channels (C_in % 4), output channels (C_out % 2) and a last odd pixel take scalar or
 * narrower paths computing the same sums.  No scratch memory.
 */
#include "tte_dsp.h"
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

/* The output stage, with the layer constants hoisted out of the loops (the int8 output
 * stores may alias anything, so the compiler would reload them through p otherwise). */
typedef struct {
    int32_t zero_point, lo, hi;
} out_stage;

/* Output channel c of two pixels: out0 = finish(acc0), out1 = finish(acc1).  The usual
 * shift < 0 case is tte_requantize_fast's with the rounding constant and the shift
 * computed once for both. */
static inline void finish2(int32_t acc0, int32_t acc1, const out_stage *o, int32_t mult,
                    int32_t shift, int8_t *out0, int8_t *out1)
{
    int32_t y0, y1;
    if (shift < 0) {
        const int64_t round = (int64_t)1 << (30 - shift);
        const int32_t rs = -1 - shift;
        y0 = (int32_t)(((int64_t)acc0 * mult + round) >> 32) >> rs;
        y1 = (int32_t)(((int64_t)acc1 * mult + round) >> 32) >> rs;
    } else {
        y0 = tte_requantize(acc0, mult, shift);
        y1 = tte_requantize(acc1, mult, shift);
    }
    *out1 = tte_clamp_s8(y1 + o->zero_point, o->lo, o->hi);
    *out0 = tte_clamp_s8(y0 + o->zero_point, o->lo, o->hi);
}

/* Input pixel of flat output pixel index `i` (over batch, rows, columns). */
static const int8_t *pixel(const int8_t *input, int32_t i, const tte_dims *in,
                           const tte_dims *out, const tte_conv_params *p)
{
    const int32_t per_image = out->h * out->w;
    const int32_t b = i / per_image, r = i - b * per_image;
    const int32_t oy = r / out->w, ox = r - oy * out->w;
    return input + ((b * in->h + oy * p->stride_h) * in->w + ox * p->stride_w) * in->c;
}

/* sum_{i in [k, n)} (x[i] + off) * w[i]: the scalar tail of every tile. */
static int32_t dot_tail(const int8_t *x, const int8_t *w, int32_t k, int32_t n, int32_t off)
{
    int32_t acc = 0;
    for (; k < n; k++) {
        acc += (x[k] + off) * w[k];
    }
    return acc;
}

/* Output channel `oc` of 2 pixels (x0, x1), into o0[oc], o1[oc]. */
static void one_channel_2px(const int8_t *x0, const int8_t *x1, const int8_t *w, int32_t n,
                            int32_t off, int32_t off2, int32_t acc0, int32_t acc1, int32_t *r)
{
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const int32_t a = tte_read_s8x4(x0 + k), b = tte_read_s8x4(x1 + k);
        const int32_t v = tte_read_s8x4(w + k);
        const int32_t v_lo = tte_sxtb16(v), v_hi = tte_sxtb16_ror8(v);
        acc0 = tte_smlad(tte_sxtab16(off2, a), v_lo, acc0);
        acc0 = tte_smlad(tte_sxtab16_ror8(off2, a), v_hi, acc0);
        acc1 = tte_smlad(tte_sxtab16(off2, b), v_lo, acc1);
        acc1 = tte_smlad(tte_sxtab16_ror8(off2, b), v_hi, acc1);
    }
    r[0] = acc0 + dot_tail(x0, w, k, n, off);
    r[1] = acc1 + dot_tail(x1, w, k, n, off);
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
    const int32_t off2 = tte_pack16(in_off, in_off);
    const int32_t pixels = input_dims->n * out_h * out_w;
    const int32_t *const mult = q->multiplier, *const shift = q->shift;
    const out_stage o = {p->output_offset, p->act_min, p->act_max};
    int32_t i;
    (void)ctx;

    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != in_c ||
        filter_dims->n != out_c || output_dims->n != input_dims->n || p->pad_top != 0 ||
        p->pad_left != 0 || p->pad_bottom != 0 || p->pad_right != 0 || p->stride_h < 1 ||
        p->stride_w < 1 || out_h != (in_h - 1) / p->stride_h + 1 ||
        out_w != (in_w - 1) / p->stride_w + 1) {
        return TTE_ERR_ARG;
    }

    for (i = 0; i < pixels; i += 2) {
        /* A last odd pixel is computed twice (x1 = x0) and stored once. */
        const int32_t pair = i + 1 < pixels;
        const int8_t *x0 = pixel(input, i, input_dims, output_dims, p);
        const int8_t *x1 = pair ? pixel(input, i + 1, input_dims, output_dims, p) : x0;
        int8_t *o0 = output + i * out_c;
        int8_t *o1 = pair ? o0 + out_c : o0;
        int32_t oc = 0;
        for (; oc + 2 <= out_c; oc += 2) {
            const int8_t *w0 = filter + oc * in_c;
            const int8_t *w1 = w0 + in_c;
            int32_t a0 = 0, a1 = 0, b0, b1, k;
            if (bias != NULL) {
                a0 = bias[oc];
                a1 = bias[oc + 1];
            }
            b0 = a0;
            b1 = a1;
            {
                /* Pointers to the ends of the 4-byte blocks and one negative index: the
                 * loop needs no end pointer (kept in registers on the Cortex-M7). */
                const int32_t blocks = in_c & ~3;
                const int8_t *x0e = x0 + blocks, *x1e = x1 + blocks;
                const int8_t *w0e = w0 + blocks, *w1e = w1 + blocks;
                int32_t j;
                for (j = -blocks; j != 0; j += 4) {
                    const int32_t v0 = tte_read_s8x4(w0e + j), v1 = tte_read_s8x4(w1e + j);
                    const int32_t v0_lo = tte_sxtb16(v0), v0_hi = tte_sxtb16_ror8(v0);
                    const int32_t v1_lo = tte_sxtb16(v1), v1_hi = tte_sxtb16_ror8(v1);
                    int32_t x = tte_read_s8x4(x0e + j), lo = tte_sxtab16(off2, x);
                    int32_t hi = tte_sxtab16_ror8(off2, x);
                    a0 = tte_smlad(hi, v0_hi, tte_smlad(lo, v0_lo, a0));
                    a1 = tte_smlad(hi, v1_hi, tte_smlad(lo, v1_lo, a1));
                    x = tte_read_s8x4(x1e + j);
                    lo = tte_sxtab16(off2, x);
                    hi = tte_sxtab16_ror8(off2, x);
                    b0 = tte_smlad(hi, v0_hi, tte_smlad(lo, v0_lo, b0));
                    b1 = tte_smlad(hi, v1_hi, tte_smlad(lo, v1_lo, b1));
                }
                k = blocks;
            }
            if (k < in_c) {
                a0 += dot_tail(x0, w0, k, in_c, in_off);
                a1 += dot_tail(x0, w1, k, in_c, in_off);
                b0 += dot_tail(x1, w0, k, in_c, in_off);
                b1 += dot_tail(x1, w1, k, in_c, in_off);
            }
            {
                const int32_t m0 = mult[oc], m1 = mult[oc + 1];
                const int32_t s0 = shift[oc], s1 = shift[oc + 1];
                finish2(a0, b0, &o, m0, s0, o0 + oc, o1 + oc);
                finish2(a1, b1, &o, m1, s1, o0 + oc + 1, o1 + oc + 1);
            }
        }
        for (; oc < out_c; oc++) {
            const int32_t start = bias != NULL ? bias[oc] : 0;
            int32_t r[2];
            one_channel_2px(x0, x1, filter + oc * in_c, in_c, in_off, off2, start, start, r);
            finish2(r[0], r[1], &o, mult[oc], shift[oc], o0 + oc, o1 + oc);
        }
    }
    return TTE_OK;
}
