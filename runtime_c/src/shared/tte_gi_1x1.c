/*
 * TRAINING (float32)
 * tte_gi_1x1.c: tte_gi_1x1_f32 (include/internal/tte_gi_1x1.h, whose comment says what it computes and why
 * skipping zeros is exact), compiled once for the kernels that share it
 * (tte_conv2d_grad_input_f32 and its split twin).  Internal to runtime_c: not a kernel of the API.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal/tte_gi_1x1.h"
#include "tte_types.h"

/* Dequantized weights of one block of input channels for up to 160 output channels,
 * [o][4] floats on the stack (2.5 KB). */
#define TTE_GI_PANEL_FLOATS 640

/* Input channels of one pass of the sparse path (tte_gi_pixel_sparse_'s 16 sums). */
#define TTE_GI_SPARSE_WIDTH 16

/* Output channels of one chunk of the sparse path: their 16-wide rows and their indices fit
 * in the dense path's panel (37 * (64 + 4) <= 2560 bytes). */
#define TTE_GI_SPARSE_ROWS 37

/* The sparse path is taken when at most NUM / DEN of a sample of the grad values, every
 * TTE_GI_SAMPLE_STEP-th, are nonzero (tte_gi_sparse_pays_). */
#define TTE_GI_SPARSE_MAX_DENSITY_NUM 2
#define TTE_GI_SPARSE_MAX_DENSITY_DEN 3
#define TTE_GI_SAMPLE_STEP 7

/* The stack panel: one path's layout at a time. */
typedef union {
    float dense[TTE_GI_PANEL_FLOATS];
    struct {
        float w[TTE_GI_SPARSE_ROWS * TTE_GI_SPARSE_WIDTH]; /* row r: output channel o[r] */
        int32_t o[TTE_GI_SPARSE_ROWS];
    } sparse;
} tte_gi_panel_;

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

/* Dequantizes the 4 weight columns c .. c + 3 (tte_gi_column_, `*j` as there) of `rows` output
 * channels into rows `width` floats apart from w: row r is output channel live[r], or
 * o0 + r when live is NULL. */
static inline void tte_gi_columns_(const int8_t *filter, const tte_split_filter *split, int32_t in_c, int32_t c,
                                   int32_t *j, const float *filter_scale, const int32_t *live, int32_t o0,
                                   int32_t rows, float *w, int32_t width)
{
    const int8_t *col[4];
    int32_t stride[4], m, r;
    for (m = 0; m < 4; m++) {
        tte_gi_column_(filter, split, in_c, c + m, j, &col[m], &stride[m]);
    }
    for (r = 0; r < rows; r++, w += width) {
        const int32_t o = live != NULL ? live[r] : o0 + r;
        const float s = filter_scale[o];
        w[0] = (float)col[0][o * stride[0]] * s;
        w[1] = (float)col[1][o * stride[1]] * s;
        w[2] = (float)col[2][o * stride[2]] * s;
        w[3] = (float)col[3][o * stride[3]] * s;
    }
}

/* Whether *x is +0 or -0: its bits but the sign are all zero (an integer test: no float
 * compare, and a NaN is never taken for zero). */
static inline int tte_gi_is_zero_(const float *x)
{
    uint32_t bits;
    memcpy(&bits, x, sizeof bits);
    return (bits << 1) == 0u;
}

/* One pixel's 16 input channels over the chunk's output channels live[0 .. rows) (panel row r
 * holds channel live[r]'s weights), in 16 float registers (named, so that every optimization
 * level keeps them there), adding only the terms whose grad is not zero: continues the partial
 * sums in d when `more`. */
static inline void tte_gi_pixel_sparse_(const float *g, const float *panel, const int32_t *live, int32_t rows,
                                        int32_t more, float *d)
{
    float a0 = more ? d[0] : 0.0f, a1 = more ? d[1] : 0.0f;
    float a2 = more ? d[2] : 0.0f, a3 = more ? d[3] : 0.0f;
    float a4 = more ? d[4] : 0.0f, a5 = more ? d[5] : 0.0f;
    float a6 = more ? d[6] : 0.0f, a7 = more ? d[7] : 0.0f;
    float a8 = more ? d[8] : 0.0f, a9 = more ? d[9] : 0.0f;
    float a10 = more ? d[10] : 0.0f, a11 = more ? d[11] : 0.0f;
    float a12 = more ? d[12] : 0.0f, a13 = more ? d[13] : 0.0f;
    float a14 = more ? d[14] : 0.0f, a15 = more ? d[15] : 0.0f;
    int32_t r;
    for (r = 0; r < rows; r++) {
        const float *gv = g + live[r];
        if (!tte_gi_is_zero_(gv)) {
            const float x = *gv, *w = panel + r * TTE_GI_SPARSE_WIDTH;
            a0 = a0 + x * w[0];
            a1 = a1 + x * w[1];
            a2 = a2 + x * w[2];
            a3 = a3 + x * w[3];
            a4 = a4 + x * w[4];
            a5 = a5 + x * w[5];
            a6 = a6 + x * w[6];
            a7 = a7 + x * w[7];
            a8 = a8 + x * w[8];
            a9 = a9 + x * w[9];
            a10 = a10 + x * w[10];
            a11 = a11 + x * w[11];
            a12 = a12 + x * w[12];
            a13 = a13 + x * w[13];
            a14 = a14 + x * w[14];
            a15 = a15 + x * w[15];
        }
    }
    d[0] = a0;
    d[1] = a1;
    d[2] = a2;
    d[3] = a3;
    d[4] = a4;
    d[5] = a5;
    d[6] = a6;
    d[7] = a7;
    d[8] = a8;
    d[9] = a9;
    d[10] = a10;
    d[11] = a11;
    d[12] = a12;
    d[13] = a13;
    d[14] = a14;
    d[15] = a15;
}

/* Whether output channel o has a nonzero grad value in some pixel (else it adds nothing). */
static inline int tte_gi_live_(const float *grad, int32_t n_pix, int32_t out_c, int32_t o)
{
    int32_t p;
    for (p = 0; p < n_pix; p++) {
        if (!tte_gi_is_zero_(grad + p * out_c + o)) {
            return 1;
        }
    }
    return 0;
}

/* Whether the sparse path pays: at most NUM / DEN of a sample of grad, every
 * TTE_GI_SAMPLE_STEP-th value, is nonzero.  The sample keeps the test at a fraction of an
 * instruction per value; 7 is prime to the usual channel counts, so it spreads over all the
 * channels.  Either path gives the same bits: this only picks the faster one. */
static inline int tte_gi_sparse_pays_(const float *grad, int32_t n)
{
    int32_t i, values = 0, nonzeros = 0;
    for (i = 0; i < n; i += TTE_GI_SAMPLE_STEP) {
        values++;
        nonzeros += !tte_gi_is_zero_(grad + i);
    }
    return TTE_GI_SPARSE_MAX_DENSITY_DEN * nonzeros <= TTE_GI_SPARSE_MAX_DENSITY_NUM * values;
}

void tte_gi_1x1_f32(const float *grad, int32_t n_pix, int32_t out_c, const int8_t *filter,
                    const tte_split_filter *split, const float *filter_scale, int32_t in_c,
                    float *dx)
{
    tte_gi_panel_ panel;
    const int8_t *col;
    int32_t stride;
    /* input channels [0, wide) take the sparse path */
    const int32_t wide = tte_gi_sparse_pays_(grad, n_pix * out_c) ? in_c - in_c % TTE_GI_SPARSE_WIDTH : 0;
    int32_t p, i, o, o0, k, j, j0, rows;
    for (o0 = 0; wide > 0 && o0 < out_c; o0 = o) {
        /* the chunk: output channels [o0, o), of which the live ones go to the panel */
        for (rows = 0, o = o0; o < out_c && rows < TTE_GI_SPARSE_ROWS; o++) {
            if (tte_gi_live_(grad, n_pix, out_c, o)) {
                panel.sparse.o[rows++] = o;
            }
        }
        for (i = 0, j = 0; i < wide; i += TTE_GI_SPARSE_WIDTH) {
            for (k = 0; k < TTE_GI_SPARSE_WIDTH; k += 4) {
                tte_gi_columns_(filter, split, in_c, i + k, &j, filter_scale, panel.sparse.o, 0, rows,
                                panel.sparse.w + k, TTE_GI_SPARSE_WIDTH);
            }
            for (p = 0; p < n_pix; p++) {
                tte_gi_pixel_sparse_(grad + p * out_c, panel.sparse.w, panel.sparse.o, rows, o0 > 0,
                                     dx + p * in_c + i);
            }
        }
    }
    for (i = wide, j = 0; i + 4 <= in_c; i += 4) {
        j0 = j;
        for (o0 = 0; o0 < out_c; o0 += rows) {
            rows = out_c - o0 < TTE_GI_PANEL_FLOATS / 4 ? out_c - o0 : TTE_GI_PANEL_FLOATS / 4;
            j = j0;
            tte_gi_columns_(filter, split, in_c, i, &j, filter_scale, NULL, o0, rows, panel.dense, 4);
            for (p = 0; p + 4 <= n_pix; p += 4) {
                tte_gi_tile_4x4_(grad + p * out_c, out_c, panel.dense, o0, rows, dx + p * in_c + i, in_c);
            }
            for (; p < n_pix; p++) {
                const float *g0 = grad + p * out_c + o0;
                float *d0 = dx + p * in_c + i;
                float a0 = o0 > 0 ? d0[0] : 0.0f, a1 = o0 > 0 ? d0[1] : 0.0f;
                float a2 = o0 > 0 ? d0[2] : 0.0f, a3 = o0 > 0 ? d0[3] : 0.0f;
                for (o = 0; o < rows; o++) {
                    const float x0 = g0[o];
                    a0 = a0 + x0 * panel.dense[4 * o];
                    a1 = a1 + x0 * panel.dense[4 * o + 1];
                    a2 = a2 + x0 * panel.dense[4 * o + 2];
                    a3 = a3 + x0 * panel.dense[4 * o + 3];
                }
                d0[0] = a0;
                d0[1] = a1;
                d0[2] = a2;
                d0[3] = a3;
            }
        }
    }
    for (; i < in_c; i++) {
        tte_gi_column_(filter, split, in_c, i, &j, &col, &stride);
        for (p = 0; p < n_pix; p++) {
            const float *g0 = grad + p * out_c;
            float a0 = 0.0f;
            for (o = 0; o < out_c; o++) {
                a0 = a0 + g0[o] * ((float)col[o * stride] * filter_scale[o]);
            }
            dx[p * in_c + i] = a0;
        }
    }
}
