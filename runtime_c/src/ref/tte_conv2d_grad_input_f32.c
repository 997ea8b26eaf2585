/*
 * Title:       tte_conv2d_grad_input_f32.c
 * Description: CONV2D input gradient (the transposed convolution) with int8 weights
 *              dequantized on the fly.
 *
 * Layout:      grad float32 NHWC [N, OH, OW, C_out]; weights int8 OHWI [C_out, KH, KW, C_in]
 *              with float32 scales [C_out]; output float32 NHWC [N, H, W, C_in].
 * Quantization: w_real = float32(w[o, kh, kw, i]) * scale[o] (symmetric weights).
 *   dx[y, x, i] = +0, then for kh, for kw, for o (lexicographic), over the taps with
 *   y + pad_top - kh = oy * stride_h and x + pad_left - kw = ox * stride_w inside the grad:
 *   dx += grad[oy, ox, o] * w_real (reference/backward/conv2d_grad_input.py).
 *
 * Gathered per input pixel: its C_in gradients are zeroed, then each reaching tap adds one
 * weight row; the per-element order is the reference's.  No scratch memory.
 *
 * A 1x1 kernel with stride 1 and no padding (every pointwise conv) maps input pixel p to
 * grad pixel p, so dx[p, i] = sum over o in order of grad[p, o] * w_real[o, i]: per block of
 * 4 input channels the weights w_real[o, i .. i + 3] are dequantized once into a stack panel
 * (TTE_GI_PANEL_ROWS output channels at a time, 2.5 KB) that every pixel reads, and a tile
 * of 4 pixels x 4 input channels is kept in 16 float registers across the o loop, each
 * weight feeding 4 pixels.  With more output channels than the panel holds, the partial sums
 * go to dx between panels and come back, as float32 both ways.  Every element still starts
 * at +0 and adds the same rounded products in the same o order, so the result is
 * bit-identical.  An input channel count that is not a multiple of 4 leaves a last few
 * channels done one at a time, dequantizing in the loop.
 */
#include "tte_kernels.h"

/* Dequantized weights of one block of 4 input channels for up to this many output channels:
 * [o][4] floats on the stack (2.5 KB). */
#define TTE_GI_PANEL_ROWS 160

/* The 4 x 4 tile of pixels p .. p + 3, input channels of the panel, over output channels
 * [o0, o0 + rows): continues the partial sums in d when o0 > 0. */
static void tile_4x4(const float *grad, int32_t out_c, const float *panel, int32_t o0,
                     int32_t rows, float *d, int32_t in_c)
{
    const float *g0 = grad + o0, *g1 = g0 + out_c, *g2 = g1 + out_c, *g3 = g2 + out_c;
    float *d0 = d, *d1 = d0 + in_c, *d2 = d1 + in_c, *d3 = d2 + in_c;
    const int32_t more = o0 > 0;
    float a00 = more ? d0[0] : 0.0f, a01 = more ? d0[1] : 0.0f;
    float a02 = more ? d0[2] : 0.0f, a03 = more ? d0[3] : 0.0f;
    float a10 = more ? d1[0] : 0.0f, a11 = more ? d1[1] : 0.0f;
    float a12 = more ? d1[2] : 0.0f, a13 = more ? d1[3] : 0.0f;
    float a20 = more ? d2[0] : 0.0f, a21 = more ? d2[1] : 0.0f;
    float a22 = more ? d2[2] : 0.0f, a23 = more ? d2[3] : 0.0f;
    float a30 = more ? d3[0] : 0.0f, a31 = more ? d3[1] : 0.0f;
    float a32 = more ? d3[2] : 0.0f, a33 = more ? d3[3] : 0.0f;
    const float *w = panel;
    int32_t o;
    for (o = 0; o < rows; o++, w += 4) {
        const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        const float x0 = g0[o], x1 = g1[o], x2 = g2[o], x3 = g3[o];
        a00 = a00 + x0 * w0;
        a01 = a01 + x0 * w1;
        a02 = a02 + x0 * w2;
        a03 = a03 + x0 * w3;
        a10 = a10 + x1 * w0;
        a11 = a11 + x1 * w1;
        a12 = a12 + x1 * w2;
        a13 = a13 + x1 * w3;
        a20 = a20 + x2 * w0;
        a21 = a21 + x2 * w1;
        a22 = a22 + x2 * w2;
        a23 = a23 + x2 * w3;
        a30 = a30 + x3 * w0;
        a31 = a31 + x3 * w1;
        a32 = a32 + x3 * w2;
        a33 = a33 + x3 * w3;
    }
    d0[0] = a00;
    d0[1] = a01;
    d0[2] = a02;
    d0[3] = a03;
    d1[0] = a10;
    d1[1] = a11;
    d1[2] = a12;
    d1[3] = a13;
    d2[0] = a20;
    d2[1] = a21;
    d2[2] = a22;
    d2[3] = a23;
    d3[0] = a30;
    d3[1] = a31;
    d3[2] = a32;
    d3[3] = a33;
}

/* dx[p, i] for a 1x1 / stride 1 / no-pad conv over n_pix pixels (see the file comment). */
static void grad_input_1x1(const float *grad, int32_t n_pix, int32_t out_c, const int8_t *filter,
                           const float *filter_scale, int32_t in_c, float *dx)
{
    float panel[TTE_GI_PANEL_ROWS * 4];
    int32_t p, i, o, o0;
    for (i = 0; i + 4 <= in_c; i += 4) {
        for (o0 = 0; o0 < out_c; o0 += TTE_GI_PANEL_ROWS) {
            const int32_t rows = out_c - o0 < TTE_GI_PANEL_ROWS ? out_c - o0 : TTE_GI_PANEL_ROWS;
            const int8_t *w = filter + o0 * in_c + i;
            for (o = 0; o < rows; o++, w += in_c) {
                const float s = filter_scale[o0 + o];
                panel[4 * o] = (float)w[0] * s;
                panel[4 * o + 1] = (float)w[1] * s;
                panel[4 * o + 2] = (float)w[2] * s;
                panel[4 * o + 3] = (float)w[3] * s;
            }
            for (p = 0; p + 4 <= n_pix; p += 4) {
                tile_4x4(grad + p * out_c, out_c, panel, o0, rows, dx + p * in_c + i, in_c);
            }
            for (; p < n_pix; p++) {
                const float *g0 = grad + p * out_c + o0;
                float *d0 = dx + p * in_c + i;
                float a0 = o0 > 0 ? d0[0] : 0.0f, a1 = o0 > 0 ? d0[1] : 0.0f;
                float a2 = o0 > 0 ? d0[2] : 0.0f, a3 = o0 > 0 ? d0[3] : 0.0f;
                for (o = 0; o < rows; o++) {
                    const float x0 = g0[o];
                    a0 = a0 + x0 * panel[4 * o];
                    a1 = a1 + x0 * panel[4 * o + 1];
                    a2 = a2 + x0 * panel[4 * o + 2];
                    a3 = a3 + x0 * panel[4 * o + 3];
                }
                d0[0] = a0;
                d0[1] = a1;
                d0[2] = a2;
                d0[3] = a3;
            }
        }
    }
    for (; i < in_c; i++) {
        for (p = 0; p < n_pix; p++) {
            const float *g0 = grad + p * out_c;
            const int8_t *w = filter + i;
            float a0 = 0.0f;
            for (o = 0; o < out_c; o++, w += in_c) {
                a0 = a0 + g0[o] * ((float)w[0] * filter_scale[o]);
            }
            dx[p * in_c + i] = a0;
        }
    }
}

int32_t tte_conv2d_grad_input_f32_scratch_bytes(const tte_dims *input_dims,
                                                const tte_dims *filter_dims,
                                                const tte_dims *output_dims)
{
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

tte_status tte_conv2d_grad_input_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                     const tte_dims *grad_dims, const float *grad,
                                     const tte_dims *filter_dims, const int8_t *filter,
                                     const float *filter_scale, const tte_dims *output_dims,
                                     float *output)
{
    const int32_t in_h = output_dims->h, in_w = output_dims->w, in_c = output_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w, out_c = grad_dims->c;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    int32_t b, y, x, kh, kw, o, i;
    (void)ctx;

    if (filter_dims->c != in_c || filter_dims->n != out_c || output_dims->n != grad_dims->n ||
        sh < 1 || sw < 1 || k_h < 1 || k_w < 1 || p->pad_top < 0 || p->pad_left < 0 ||
        p->pad_bottom < 0 || p->pad_right < 0 || in_h + p->pad_top + p->pad_bottom < k_h ||
        in_w + p->pad_left + p->pad_right < k_w ||
        out_h != (in_h + p->pad_top + p->pad_bottom - k_h) / sh + 1 ||
        out_w != (in_w + p->pad_left + p->pad_right - k_w) / sw + 1) {
        return TTE_ERR_ARG;
    }
    if (k_h == 1 && k_w == 1 && sh == 1 && sw == 1 && p->pad_top == 0 && p->pad_left == 0 &&
        p->pad_bottom == 0 && p->pad_right == 0) {
        grad_input_1x1(grad, grad_dims->n * out_h * out_w, out_c, filter, filter_scale, in_c,
                       output);
        return TTE_OK;
    }

    for (b = 0; b < grad_dims->n; b++) {
        const float *g_b = grad + b * out_h * out_w * out_c;
        for (y = 0; y < in_h; y++) {
            for (x = 0; x < in_w; x++) {
                float *dx = output + ((b * in_h + y) * in_w + x) * in_c;
                for (i = 0; i < in_c; i++) {
                    dx[i] = 0.0f;
                }
                for (kh = 0; kh < k_h; kh++) {
                    const int32_t ty = y + p->pad_top - kh;
                    if (ty < 0 || ty % sh != 0 || ty / sh >= out_h) {
                        continue;
                    }
                    for (kw = 0; kw < k_w; kw++) {
                        const int32_t tx = x + p->pad_left - kw;
                        const float *g;
                        if (tx < 0 || tx % sw != 0 || tx / sw >= out_w) {
                            continue;
                        }
                        g = g_b + ((ty / sh) * out_w + tx / sw) * out_c;
                        for (o = 0; o < out_c; o++) {
                            const int8_t *w = filter + ((o * k_h + kh) * k_w + kw) * in_c;
                            const float go = g[o], scale = filter_scale[o];
                            for (i = 0; i < in_c; i++) {
                                dx[i] = dx[i] + go * ((float)w[i] * scale);
                            }
                        }
                    }
                }
            }
        }
    }
    return TTE_OK;
}
