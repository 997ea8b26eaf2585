/*
 * TRAINING (float32)
 * tte_dw_gi.h: one channel of the depthwise (multiplier 1) input gradient, shared by
 * tte_depthwise_conv2d_grad_input_f32 and tte_depthwise_conv2d_grad_input_inplace_f32.
 * Internal to runtime_c: not part of the kernel API.
 *
 * The reference (reference/backward/depthwise_conv2d_grad_input.py) starts every dx[y, x] at
 * +0 and adds grad[oy, ox] * w_real[kh, kw] over its taps in increasing (kh, kw) order, where
 * y = oy * stride_h - pad_top + kh and x = ox * stride_w - pad_left + kw, and
 * w_real = float32(w[kh, kw]) * scale.  Here the sums are scattered instead of gathered: dx is
 * set to +0, then every grad value, visited in decreasing (oy, ox) order, adds its products to
 * the dx elements its taps reach.  For a fixed dx element kh = y - oy * stride_h +
 * pad_top falls as oy rises, and kw likewise with ox, so decreasing (oy, ox) delivers its terms
 * in increasing (kh, kw) order: the reference's sums, rounded the same way.
 *
 * Scattering lets a grad value that is +0 or -0 be skipped (an integer test of its bits) with
 * all its products: the gradient came through a ReLU6 mask and is mostly zero.  Skipping is
 * exact: a zero times a finite weight (int8 times a float32 scale) is +-0, and s + (+-0) == s
 * bit for bit for every s but -0; a sum that starts at +0 is never -0 (+0 + -0 and x + -x
 * round to +0), so it is the same with or without those terms.  A NaN or infinite grad is not
 * zero and is never skipped.
 *
 * The dequantized weights sit in a stack table of TTE_DW_GI_MAX_TAPS floats.  A larger kernel
 * is done in bands of whole kernel rows (or, wider than the table, of one row's columns), one
 * after the other: a band holds larger (kh, kw) than the bands before it, so each element
 * still gets its terms in increasing (kh, kw) order.
 */
#ifndef TTE_DW_GI_H
#define TTE_DW_GI_H

#include <stdint.h>
#include <string.h>

#include "internal/tte_checks.h"
#include "tte_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dequantized weights of one band of taps: 196 bytes of stack, a 7x7 kernel in one band. */
#define TTE_DW_GI_MAX_TAPS 49

/* d[r * d_row + k * d_step] += v * w[r * w_row + k] for r < rows, k < cols: the products of
 * one grad value on the dx elements its taps reach. */
static inline void tte_dw_gi_add_(float v, const float *w, int32_t w_row, int32_t rows, int32_t cols, float *d,
                                  int32_t d_row, int32_t d_step)
{
    int32_t r, k;
    for (r = 0; r < rows; r++) {
        const float *wk = w + r * w_row;
        float *e = d + r * d_row;
        for (k = 0; k < cols; k++) {
            e[k * d_step] = e[k * d_step] + v * wk[k];
        }
    }
}

/* Scatters the nonzero values of grad plane g [out_h, out_w] (g_step floats apart) into dx
 * [in_h, in_w] (dx_step floats apart) through the dequantized kernel wr [k_h, k_w], whose tap
 * (kh, kw) of grad (oy, ox) reaches dx (oy * sh - top + kh, ox * sw - left + kw). */
static inline void tte_dw_gi_scatter_(const float *g, int32_t g_step, int32_t out_h, int32_t out_w, int32_t sh,
                                      int32_t sw, int32_t top, int32_t left, const float *wr, int32_t k_h,
                                      int32_t k_w, float *dx, int32_t dx_step, int32_t in_h, int32_t in_w)
{
    int32_t oy, ox;
    for (oy = out_h - 1; oy >= 0; oy--) {
        /* the taps of grad row oy that stay inside dx: rows y0 + [kh.lo, kh.hi) */
        const int32_t y0 = oy * sh - top;
        const tte_span kh = tte_window_taps(y0, k_h, in_h);
        if (kh.lo >= kh.hi) {
            continue;
        }
        for (ox = out_w - 1; ox >= 0; ox--) {
            const float *gv = g + (oy * out_w + ox) * g_step;
            uint32_t bits;
            memcpy(&bits, gv, sizeof bits);
            if ((bits << 1) != 0u) {
                const int32_t x0 = ox * sw - left;
                const tte_span kw = tte_window_taps(x0, k_w, in_w);
                if (kw.lo < kw.hi) {
                    tte_dw_gi_add_(*gv, wr + kh.lo * k_w + kw.lo, k_w, kh.hi - kh.lo, kw.hi - kw.lo,
                                   dx + ((y0 + kh.lo) * in_w + x0 + kw.lo) * dx_step, in_w * dx_step, dx_step);
                }
            }
        }
    }
}

/* One channel: grad plane g [out_h, out_w] with its values g_step floats apart, int8 weights
 * w [k_h, k_w] w_step bytes apart with their scale, dx plane [in_h, in_w] with its values
 * dx_step floats apart, set to +0 by the caller.  g and dx must not overlap.  A band of taps
 * [kh0, kh1) x [kw0, kw1) is a kernel of its own whose padding is kh0 rows and kw0 columns
 * less. */
static inline void tte_dw_gi_channel_(const tte_conv_grad_params *p, const float *g, int32_t g_step,
                                      int32_t out_h, int32_t out_w, const int8_t *w, int32_t w_step, float scale,
                                      int32_t k_h, int32_t k_w, float *dx, int32_t dx_step, int32_t in_h,
                                      int32_t in_w)
{
    float wr[TTE_DW_GI_MAX_TAPS];
    const int32_t band_w = k_w < TTE_DW_GI_MAX_TAPS ? k_w : TTE_DW_GI_MAX_TAPS;
    const int32_t band_h = k_w <= TTE_DW_GI_MAX_TAPS ? TTE_DW_GI_MAX_TAPS / k_w : 1;
    int32_t kh0 = 0, kw0 = 0, kh, kw;
    while (kh0 < k_h) {
        const int32_t kh1 = kh0 + band_h < k_h ? kh0 + band_h : k_h;
        const int32_t kw1 = kw0 + band_w < k_w ? kw0 + band_w : k_w;
        for (kh = kh0; kh < kh1; kh++) {
            for (kw = kw0; kw < kw1; kw++) {
                wr[(kh - kh0) * (kw1 - kw0) + kw - kw0] = (float)w[(kh * k_w + kw) * w_step] * scale;
            }
        }
        tte_dw_gi_scatter_(g, g_step, out_h, out_w, p->stride_h, p->stride_w, p->pad_top - kh0,
                           p->pad_left - kw0, wr, kh1 - kh0, kw1 - kw0, dx, dx_step, in_h, in_w);
        /* the next band: the rest of these rows, or the next rows */
        kw0 = kw1 < k_w ? kw1 : 0;
        kh0 = kw0 > 0 ? kh0 : kh1;
    }
}

#ifdef __cplusplus
}
#endif

#endif /* TTE_DW_GI_H */
