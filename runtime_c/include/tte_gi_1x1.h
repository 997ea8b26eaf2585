/*
 * TRAINING (float32)
 * tte_gi_1x1.h: the 1x1 (stride 1, no padding) input-gradient core shared by
 * tte_conv2d_grad_input_f32 and tte_conv2d_grad_input_split_f32.  Internal to runtime_c:
 * not part of the kernel API.
 *
 * dx[p, i] = +0 + grad[p, 0] * w_real[0, i] + grad[p, 1] * w_real[1, i] + ... over the
 * output channels in order, w_real = float32(w[o, i]) * scale[o].  Per block of 4 input
 * channels the weights are dequantized once into a stack panel (TTE_GI_PANEL_ROWS output
 * channels at a time, 2.5 KB) that every pixel reads, and a tile of 4 pixels x 4 input
 * channels is kept in 16 float registers across the o loop.  With more output channels than
 * the panel holds, the partial sums go to dx between panels and come back, as float32 both
 * ways, so every element adds the same rounded products in the same order.  The weights are
 * read column by column (tte_gi_column_), from one tensor or from a split filter's two parts
 * (tte_types.h tte_split_filter): the arithmetic is the same either way.
 */
#ifndef TTE_GI_1X1_H
#define TTE_GI_1X1_H

#include <stddef.h>
#include <stdint.h>

#include "tte_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dequantized weights of one block of 4 input channels for up to this many output channels:
 * [o][4] floats on the stack (2.5 KB). */
#define TTE_GI_PANEL_ROWS 160

/* The 4 x 4 tile of pixels p .. p + 3, input channels of the panel, over output channels
 * [o0, o0 + rows): continues the partial sums in d when o0 > 0. */
static inline void tte_gi_tile_4x4_(const float *grad, int32_t out_c, const float *panel, int32_t o0,
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

/* Where column c (input channel) of the weight matrix [C_out, C_in] lives: w[o, c] is
 * (*base)[o * *stride].  With a split filter a trained column is read from the SRAM
 * columns, the others from the frozen tensor; `*j` walks the trained channel list and must
 * start at 0 for c = 0 and see the columns in increasing order. */
static inline void tte_gi_column_(const int8_t *filter, const tte_split_filter *split, int32_t in_c, int32_t c,
                                  int32_t *j, const int8_t **base, int32_t *stride)
{
    if (split != NULL) {
        while (*j < split->n && split->channels[*j] < c) {
            (*j)++;
        }
        if (*j < split->n && split->channels[*j] == c) {
            *base = split->trained + *j;
            *stride = split->n;
            return;
        }
        filter = split->frozen;
    }
    *base = filter + c;
    *stride = in_c;
}

/* dx[p, i] for a 1x1 / stride 1 / no-pad conv over n_pix pixels (see the file comment): the
 * weights are `filter` [C_out, C_in], or `split`'s two parts when filter is NULL. */
static inline void tte_gi_1x1_f32(const float *grad, int32_t n_pix, int32_t out_c, const int8_t *filter,
                                  const tte_split_filter *split, const float *filter_scale, int32_t in_c,
                                  float *dx)
{
    float panel[TTE_GI_PANEL_ROWS * 4];
    const int8_t *col[4];
    int32_t stride[4];
    int32_t p, i, o, o0, k, j = 0;
    for (i = 0; i + 4 <= in_c; i += 4) {
        for (k = 0; k < 4; k++) {
            tte_gi_column_(filter, split, in_c, i + k, &j, &col[k], &stride[k]);
        }
        for (o0 = 0; o0 < out_c; o0 += TTE_GI_PANEL_ROWS) {
            const int32_t rows = out_c - o0 < TTE_GI_PANEL_ROWS ? out_c - o0 : TTE_GI_PANEL_ROWS;
            for (o = 0; o < rows; o++) {
                const float s = filter_scale[o0 + o];
                panel[4 * o] = (float)col[0][(o0 + o) * stride[0]] * s;
                panel[4 * o + 1] = (float)col[1][(o0 + o) * stride[1]] * s;
                panel[4 * o + 2] = (float)col[2][(o0 + o) * stride[2]] * s;
                panel[4 * o + 3] = (float)col[3][(o0 + o) * stride[3]] * s;
            }
            for (p = 0; p + 4 <= n_pix; p += 4) {
                tte_gi_tile_4x4_(grad + p * out_c, out_c, panel, o0, rows, dx + p * in_c + i, in_c);
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
        tte_gi_column_(filter, split, in_c, i, &j, &col[0], &stride[0]);
        for (p = 0; p < n_pix; p++) {
            const float *g0 = grad + p * out_c;
            float a0 = 0.0f;
            for (o = 0; o < out_c; o++) {
                a0 = a0 + g0[o] * ((float)col[0][o * stride[0]] * filter_scale[o]);
            }
            dx[p * in_c + i] = a0;
        }
    }
}

#ifdef __cplusplus
}
#endif

#endif /* TTE_GI_1X1_H */
