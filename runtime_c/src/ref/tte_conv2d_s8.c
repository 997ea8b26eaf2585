/*
 * Title:       tte_conv2d_s8.c
 * Description: Generic int8 2-D convolution: any kernel size, any stride, explicit pads.
 *
 * Layout:      input NHWC [N, H, W, C_in]; weights OHWI [C_out, KH, KW, C_in];
 *              bias int32 [C_out]; output NHWC [N, OH, OW, C_out].
 * Quantization (per output channel c):
 *   acc    = bias[c] + sum_{ky,kx,ci valid} (in[iy, ix, ci] + input_offset) * w[c, ky, kx, ci]
 *   out    = clamp(tte_requantize(acc, mult[c], shift[c]) + output_offset, act_min, act_max)
 *   Taps that fall into the padding contribute nothing (zero padding in the real domain).
 *
 * Small windows (KH * KW * C_in <= TTE_CONV_GATHER_BYTES / 2, e.g. the 3x3x3 first layer,
 * whose 9-byte kernel rows would leave the word loops mostly in their scalar tails): the
 * KH * KW * C_in window of each output pixel of a run along one output row is copied into
 * a stack buffer (TTE_CONV_GATHER_BYTES), padded taps as -input_offset, which adds exactly
 * 0; the run is then a pointwise conv over C_in' = KH * KW * C_in channels, whose OHWI
 * weights are already [C_out, C_in'], and goes to tte_pw_s8.h's core (2 channels x 2
 * pixels per tile, its own 2.5 KB stack panel).  Stack: about 5 KB.
 *
 * Larger windows: padding is handled by clipping the kernel window once per output pixel,
 * so the inner loops carry no bounds tests; for one kernel row the valid taps are
 * contiguous in both the NHWC input and the OHWI weights.  Four output channels share each
 * loaded input value; the runs are read 4 bytes at a time as words, widened into 16-bit
 * lanes (input_offset added in the same step) and multiplied with dual 16-bit MACs
 * (tte_dsp.h: SXTAB16, SXTB16, SMLAD on the Cortex-M7, a plain-C twin elsewhere), with a
 * scalar tail.
 * Both paths go through the output rows in order and, for row r, read only input rows from
 * r * stride_h - pad_top on: the output may be written over the input rows it has finished
 * with (the row-banded in-place conv, tte_kernels.h).  No scratch memory.
 */
#include <string.h>

#include "internal/tte_checks.h"
#include "internal/tte_dsp.h"
#include "internal/tte_pw_s8.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

/* The gathered windows of one run of output pixels: the 64 pixels of a 3x3x3 first-layer
 * row at once (64 x 27 bytes), and no more, since this buffer and tte_pw_s8's panel are live
 * together and this kernel's stack is the deepest of a training step. */
#define TTE_CONV_GATHER_BYTES 1728

TTE_NO_SCRATCH(tte_conv2d_s8)


/* The output stage, with the layer constants hoisted out of the loops (the int8 output
 * stores may alias anything, so the compiler would reload them through p otherwise). */
typedef struct {
    int32_t zero_point, lo, hi;
} out_stage;

static int8_t finish(int32_t acc, const out_stage *o, int32_t mult, int32_t shift)
{
    return tte_clamp_s8(tte_requantize_fast(acc, mult, shift) + o->zero_point, o->lo, o->hi);
}

/* The KH x KW x C_in window at (iy0, ix0) of one image into dst (OHWI order), taps outside
 * the image as pad. */
static void gather_window(const int8_t *in_b, int32_t in_h, int32_t in_w, int32_t in_c,
                          int32_t k_h, int32_t k_w, int32_t iy0, int32_t ix0, int8_t pad,
                          int8_t *dst)
{
    const int32_t k_row = k_w * in_c;
    const int32_t kx_lo = tte_min_i32(k_w, tte_max_i32(0, -ix0));
    const int32_t kx_hi = tte_max_i32(kx_lo, tte_min_i32(k_w, in_w - ix0));
    int32_t ky;
    for (ky = 0; ky < k_h; ky++, dst += k_row) {
        const int32_t iy = iy0 + ky;
        if (iy < 0 || iy >= in_h || kx_hi == kx_lo) {
            memset(dst, pad, (size_t)k_row);
            continue;
        }
        memset(dst, pad, (size_t)(kx_lo * in_c));
        memcpy(dst + kx_lo * in_c, in_b + (iy * in_w + ix0 + kx_lo) * in_c,
               (size_t)((kx_hi - kx_lo) * in_c));
        memset(dst + kx_hi * in_c, pad, (size_t)((k_w - kx_hi) * in_c));
    }
}

/* The small-window path (see the file comment): runs of up to TTE_CONV_GATHER_BYTES / k_size
 * pixels along each output row. */
static void conv_gathered(const tte_conv_params *p, const tte_per_channel_quant *q,
                          const tte_dims *input_dims, const int8_t *input,
                          const tte_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                          const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t k_size = k_h * k_w * in_c;
    const int32_t cap = TTE_CONV_GATHER_BYTES / k_size;
    const int8_t pad = (int8_t)-p->input_offset;
    int8_t windows[TTE_CONV_GATHER_BYTES];
    tte_pw_geom g;
    int32_t b, oy, ox0, i;
    g.in_h = 1;
    g.in_c = k_size;
    g.out_h = 1;
    g.stride_h = 1;
    g.stride_w = 1;
    g.input_offset = p->input_offset;
    g.output_offset = p->output_offset;
    g.act_min = p->act_min;
    g.act_max = p->act_max;
    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (ox0 = 0; ox0 < out_w; ox0 += cap) {
                const int32_t n_pix = tte_min_i32(cap, out_w - ox0);
                for (i = 0; i < n_pix; i++) {
                    gather_window(in_b, in_h, in_w, in_c, k_h, k_w, iy0,
                                  (ox0 + i) * p->stride_w - p->pad_left, pad,
                                  windows + i * k_size);
                }
                g.in_w = n_pix;
                g.out_w = n_pix;
                g.pixels = n_pix;
                tte_pw_s8(&g, windows, filter, bias, q->multiplier, q->shift, 0, out_c,
                          output + ((b * out_h + oy) * out_w + ox0) * out_c, out_c, 1);
            }
        }
    }
}

tte_status tte_conv2d_s8(const tte_ctx *ctx, const tte_conv_params *p,
                         const tte_per_channel_quant *q, const tte_dims *input_dims,
                         const int8_t *input, const tte_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t in_off = p->input_offset;
    const int32_t k_row = k_w * in_c; /* weights per kernel row */
    const int32_t k_size = k_h * k_row;
    const int32_t off2 = tte_pack16(in_off, in_off);
    const int32_t *const mult = q->multiplier, *const shift = q->shift;
    const out_stage o = {p->output_offset, p->act_min, p->act_max};
    int32_t b, oy, ox;
    (void)ctx;

    if (filter_dims->c != in_c || filter_dims->n != out_c || output_dims->n != input_dims->n ||
        !tte_axis_ok(in_h, k_h, p->stride_h, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, p->stride_w, p->pad_left, p->pad_right, out_w)) {
        return TTE_ERR_ARG;
    }
    if (2 * k_size <= TTE_CONV_GATHER_BYTES) {
        conv_gathered(p, q, input_dims, input, filter_dims, filter, bias, output_dims, output);
        return TTE_OK;
    }

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const tte_span ky = tte_window_taps(iy0, k_h, in_h);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const tte_span kx = tte_window_taps(ix0, k_w, in_w);
                /* Valid taps of one kernel row: a contiguous run of `run` int8 values, in
                 * `rows` kernel rows.  A window wholly inside the padding has none. */
                const int32_t empty = ky.hi <= ky.lo || kx.hi <= kx.lo;
                const int32_t rows = empty ? 0 : ky.hi - ky.lo;
                const int32_t run = empty ? 0 : (kx.hi - kx.lo) * in_c;
                const int8_t *in_0 =
                    empty ? in_b : in_b + ((iy0 + ky.lo) * in_w + ix0 + kx.lo) * in_c;
                const int32_t w_0 = empty ? 0 : ky.lo * k_row + kx.lo * in_c;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
                int32_t oc = 0;

                for (; oc + 4 <= out_c; oc += 4) {
                    const int8_t *w0 = filter + oc * k_size + w_0;
                    const int8_t *w1 = w0 + k_size;
                    const int8_t *w2 = w1 + k_size;
                    const int8_t *w3 = w2 + k_size;
                    const int8_t *in_row = in_0;
                    int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0, r, i;
                    if (bias != NULL) {
                        acc0 = bias[oc];
                        acc1 = bias[oc + 1];
                        acc2 = bias[oc + 2];
                        acc3 = bias[oc + 3];
                    }
                    for (r = 0; r < rows; r++) {
                        for (i = 0; i + 4 <= run; i += 4) {
                            const int32_t xv = tte_read_s8x4(in_row + i);
                            const int32_t x_lo = tte_sxtab16(off2, xv);
                            const int32_t x_hi = tte_sxtab16_ror8(off2, xv);
                            int32_t v = tte_read_s8x4(w0 + i);
                            acc0 = tte_smlad(x_hi, tte_sxtb16_ror8(v),
                                             tte_smlad(x_lo, tte_sxtb16(v), acc0));
                            v = tte_read_s8x4(w1 + i);
                            acc1 = tte_smlad(x_hi, tte_sxtb16_ror8(v),
                                             tte_smlad(x_lo, tte_sxtb16(v), acc1));
                            v = tte_read_s8x4(w2 + i);
                            acc2 = tte_smlad(x_hi, tte_sxtb16_ror8(v),
                                             tte_smlad(x_lo, tte_sxtb16(v), acc2));
                            v = tte_read_s8x4(w3 + i);
                            acc3 = tte_smlad(x_hi, tte_sxtb16_ror8(v),
                                             tte_smlad(x_lo, tte_sxtb16(v), acc3));
                        }
                        for (; i < run; i++) {
                            const int32_t x = in_row[i] + in_off;
                            acc0 += x * w0[i];
                            acc1 += x * w1[i];
                            acc2 += x * w2[i];
                            acc3 += x * w3[i];
                        }
                        in_row += in_w * in_c;
                        w0 += k_row;
                        w1 += k_row;
                        w2 += k_row;
                        w3 += k_row;
                    }
                    {
                        const int32_t m0 = mult[oc], m1 = mult[oc + 1], m2 = mult[oc + 2];
                        const int32_t m3 = mult[oc + 3], s0 = shift[oc], s1 = shift[oc + 1];
                        const int32_t s2 = shift[oc + 2], s3 = shift[oc + 3];
                        out[oc] = finish(acc0, &o, m0, s0);
                        out[oc + 1] = finish(acc1, &o, m1, s1);
                        out[oc + 2] = finish(acc2, &o, m2, s2);
                        out[oc + 3] = finish(acc3, &o, m3, s3);
                    }
                }
                for (; oc < out_c; oc++) {
                    const int8_t *w = filter + oc * k_size + w_0;
                    const int8_t *in_row = in_0;
                    int32_t acc = bias != NULL ? bias[oc] : 0, r, i;
                    for (r = 0; r < rows; r++) {
                        for (i = 0; i < run; i++) {
                            acc += (in_row[i] + in_off) * w[i];
                        }
                        in_row += in_w * in_c;
                        w += k_row;
                    }
                    out[oc] = finish(acc, &o, mult[oc], shift[oc]);
                }
            }
        }
    }
    return TTE_OK;
}
