/*
 * tte_dw_plane.h: the depthwise convolution of one int8 channel held as a contiguous [H, W]
 * plane, shared by the channel-at-a-time kernels (tte_fused_expand_depthwise_s8,
 * tte_depthwise_conv2d_inplace_s8).  Internal to runtime_c: not part of the kernel API.
 *
 * For every output pixel (oy, ox), with iy0 = oy * stride_h - pad_top and
 * ix0 = ox * stride_w - pad_left:
 *   acc = bias + sum_{ky,kx: 0 <= iy0 + ky < H, 0 <= ix0 + kx < W}
 *                (plane[iy0 + ky][ix0 + kx] + input_offset) * w[(ky * KW + kx) * w_stride]
 *   out[(oy * OW + ox) * out_stride] = clamp(tte_requantize(acc, mult, shift) + output_offset,
 *                                            act_min, act_max)
 * i.e. exactly channel c of tte_depthwise_conv2d_s8 when plane is in[:, :, c], w points at
 * filter + c with w_stride = C and out at output + c with out_stride = C.  Padded taps
 * contribute nothing; the window is clipped once per output pixel.  Integer arithmetic only.
 */
#ifndef TTE_DW_PLANE_H
#define TTE_DW_PLANE_H

#include <stdint.h>
#include <string.h>

#include "tte_dsp.h"
#include "tte_requant.h"
#include "tte_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Geometry and output stage of one plane's depthwise conv (see the file comment). */
typedef struct {
    int32_t in_h, in_w, k_h, k_w, out_h, out_w;
    int32_t stride_h, stride_w, pad_top, pad_left;
    int32_t input_offset, output_offset, act_min, act_max;
} tte_dw_plane_geom;

/** The geometry of tte_depthwise_conv2d_s8 with parameters p on these dims. */
static inline tte_dw_plane_geom tte_dw_plane_geometry(const tte_conv_params *p,
                                                      const tte_dims *input_dims,
                                                      const tte_dims *filter_dims,
                                                      const tte_dims *output_dims)
{
    tte_dw_plane_geom g;
    g.in_h = input_dims->h;
    g.in_w = input_dims->w;
    g.k_h = filter_dims->h;
    g.k_w = filter_dims->w;
    g.out_h = output_dims->h;
    g.out_w = output_dims->w;
    g.stride_h = p->stride_h;
    g.stride_w = p->stride_w;
    g.pad_top = p->pad_top;
    g.pad_left = p->pad_left;
    g.input_offset = p->input_offset;
    g.output_offset = p->output_offset;
    g.act_min = p->act_min;
    g.act_max = p->act_max;
    return g;
}

/** The clipped-window loop: any kernel size, any geometry (the fallback of tte_dw_plane_s8). */
static inline void tte_dw_plane_generic_s8(const tte_dw_plane_geom *g, const int8_t *plane,
                                           const int8_t *w, int32_t w_stride, int32_t bias,
                                           int32_t mult, int32_t shift, int8_t *out,
                                           int32_t out_stride)
{
    const int32_t in_h = g->in_h, in_w = g->in_w, k_h = g->k_h, k_w = g->k_w;
    const int32_t in_off = g->input_offset, zp = g->output_offset;
    const int32_t lo = g->act_min, hi = g->act_max;
    const int32_t w_row = k_w * w_stride;
    int32_t oy, ox, ky, kx;
    for (oy = 0; oy < g->out_h; oy++) {
        const int32_t iy0 = oy * g->stride_h - g->pad_top;
        const int32_t ky_lo = iy0 < 0 ? -iy0 : 0;
        const int32_t ky_hi = in_h - iy0 < k_h ? in_h - iy0 : k_h;
        for (ox = 0; ox < g->out_w; ox++) {
            const int32_t ix0 = ox * g->stride_w - g->pad_left;
            const int32_t kx_lo = ix0 < 0 ? -ix0 : 0;
            const int32_t kx_hi = in_w - ix0 < k_w ? in_w - ix0 : k_w;
            const int32_t cols = kx_hi - kx_lo;
            int32_t acc = bias;
            for (ky = ky_lo; cols > 0 && ky < ky_hi; ky++) {
                /* first valid tap of this window row, in the plane and in the weights */
                const int8_t *x = plane + (iy0 + ky) * in_w + ix0 + kx_lo;
                const int8_t *wr = w + ky * w_row + kx_lo * w_stride;
                for (kx = 0; kx < cols; kx++) {
                    acc += (x[kx] + in_off) * wr[kx * w_stride];
                }
            }
            out[(oy * g->out_w + ox) * out_stride] =
                tte_clamp_s8(tte_requantize_fast(acc, mult, shift) + zp, lo, hi);
        }
    }
}

/* ---- the fast path: padded rows on the stack, unrolled taps, 4 outputs per pass ----------
 *
 * Since acc = bias + sum (x + in_off) * w = (bias + in_off * sum w) + sum x * w over the
 * valid taps (exact int32 arithmetic), a padded tap holding x = -in_off (in [-128, 127] as
 * in_off is in [-127, 128]) contributes exactly nothing: each needed plane row is copied once
 * into a ring of k_h rows padded with -in_off (TTE_DW_RING_BYTES of stack), and every output
 * pixel then reads a full window with no clipping.  The taps of one window row are unrolled
 * for k_w = 3, 5, 7 and strides 1, 2 (for stride 1 adjacent outputs share their loads), four
 * output pixels per pass, finished in pairs.  Same integer result as
 * tte_dw_plane_generic_s8. */
#define TTE_DW_RING_BYTES 1024
#define TTE_DW_MAX_K 7

/* Output stage of the fast path: the zero point and clamp in both 16-bit lanes, so that two
 * outputs finish together (tte_dsp.h tte_offset_clamp_s8x2). */
typedef struct {
    tte_requant_ch r;
    int32_t zp2, lo2, hi2, out_stride;
} tte_dw_out_stage_;

/* Outputs a and b as the low and high lanes of one word. */
static inline int32_t tte_dw_finish2_(int32_t a, int32_t b, const tte_dw_out_stage_ *o)
{
    return tte_offset_clamp_s8x2(tte_requant_ch_apply(a, &o->r, 0),
                                 tte_requant_ch_apply(b, &o->r, 0), o->zp2, o->lo2, o->hi2);
}

/* One output row: out[ox] for ox < n, from k_h padded rows (rows[ky] at column 0 of the
 * window of ox = 0), weights wk[ky * K + kx] as int32, acc starting at base. */
#define TTE_DW_ROW_FN(NAME, K, S)                                                              \
    static void NAME(const int8_t *const *rows, int32_t k_h, const int32_t *wk, int32_t n,     \
                     int32_t base, const tte_dw_out_stage_ *o, int8_t *out)                    \
    {                                                                                          \
        const int32_t os = o->out_stride;                                                      \
        int32_t ox = 0, ky, kx;                                                                \
        for (; ox + 4 <= n; ox += 4) {                                                         \
            int32_t a0 = base, a1 = base, a2 = base, a3 = base;                                \
            for (ky = 0; ky < k_h; ky++) {                                                     \
                const int8_t *x = rows[ky] + ox * (S);                                         \
                const int32_t *wr = wk + ky * (K);                                             \
                for (kx = 0; kx < (K); kx++) {                                                 \
                    const int32_t wv = wr[kx];                                                 \
                    a0 += x[kx] * wv;                                                          \
                    a1 += x[kx + (S)] * wv;                                                    \
                    a2 += x[kx + 2 * (S)] * wv;                                                \
                    a3 += x[kx + 3 * (S)] * wv;                                                \
                }                                                                              \
            }                                                                                  \
            a0 = tte_dw_finish2_(a0, a1, o);                                                   \
            a2 = tte_dw_finish2_(a2, a3, o);                                                   \
            out[ox * os] = (int8_t)a0;                                                         \
            out[(ox + 1) * os] = (int8_t)(a0 >> 16);                                           \
            out[(ox + 2) * os] = (int8_t)a2;                                                   \
            out[(ox + 3) * os] = (int8_t)(a2 >> 16);                                           \
        }                                                                                      \
        for (; ox < n; ox++) {                                                                 \
            int32_t a0 = base;                                                                 \
            for (ky = 0; ky < k_h; ky++) {                                                     \
                const int8_t *x = rows[ky] + ox * (S);                                         \
                const int32_t *wr = wk + ky * (K);                                             \
                for (kx = 0; kx < (K); kx++) {                                                 \
                    a0 += x[kx] * wr[kx];                                                      \
                }                                                                              \
            }                                                                                  \
            out[ox * os] = (int8_t)tte_dw_finish2_(a0, a0, o);                                 \
        }                                                                                      \
    }

TTE_DW_ROW_FN(tte_dw_row_k3s1_, 3, 1)
TTE_DW_ROW_FN(tte_dw_row_k3s2_, 3, 2)
TTE_DW_ROW_FN(tte_dw_row_k5s1_, 5, 1)
TTE_DW_ROW_FN(tte_dw_row_k5s2_, 5, 2)
TTE_DW_ROW_FN(tte_dw_row_k7s1_, 7, 1)
TTE_DW_ROW_FN(tte_dw_row_k7s2_, 7, 2)
#undef TTE_DW_ROW_FN

/* One output row by the row kernel of `kind` (k_w * 2 + stride_w: 7, 8, 11, 12, 15, 16).  A
 * switch of direct calls rather than a function pointer, so that the compiler's call graph,
 * and with it the worst-case stack (targets/stack.py), is static. */
static inline void tte_dw_row_(int32_t kind, const int8_t *const *rows, int32_t k_h, const int32_t *wk,
                               int32_t n, int32_t base, const tte_dw_out_stage_ *o, int8_t *out)
{
    switch (kind) {
    case 7:
        tte_dw_row_k3s1_(rows, k_h, wk, n, base, o, out);
        break;
    case 8:
        tte_dw_row_k3s2_(rows, k_h, wk, n, base, o, out);
        break;
    case 11:
        tte_dw_row_k5s1_(rows, k_h, wk, n, base, o, out);
        break;
    case 12:
        tte_dw_row_k5s2_(rows, k_h, wk, n, base, o, out);
        break;
    case 15:
        tte_dw_row_k7s1_(rows, k_h, wk, n, base, o, out);
        break;
    default:
        tte_dw_row_k7s2_(rows, k_h, wk, n, base, o, out);
        break;
    }
}

/** The depthwise conv of one [in_h, in_w] plane into out[(oy * out_w + ox) * out_stride]. */
static inline void tte_dw_plane_s8(const tte_dw_plane_geom *g, const int8_t *plane,
                                   const int8_t *w, int32_t w_stride, int32_t bias, int32_t mult,
                                   int32_t shift, int8_t *out, int32_t out_stride)
{
    const int32_t k_h = g->k_h, k_w = g->k_w, sh = g->stride_h, sw = g->stride_w;
    const int32_t pt = g->pad_top, pl = g->pad_left, in_h = g->in_h, in_w = g->in_w;
    /* padded extents that every window of the output fits in */
    const int32_t need_w = (g->out_w - 1) * sw + k_w, need_h = (g->out_h - 1) * sh + k_h;
    const int32_t pw = need_w > pl + in_w ? need_w : pl + in_w;
    const int32_t pad_x = (int32_t)(int8_t)(-g->input_offset);
    int8_t ring[TTE_DW_RING_BYTES];
    const int8_t *rows[TTE_DW_MAX_K];
    int32_t wk[TTE_DW_MAX_K * TTE_DW_MAX_K];
    const int32_t kind = (k_w == 3 || k_w == 5 || k_w == 7) && (sw == 1 || sw == 2) ? k_w * 2 + sw : 0;
    tte_dw_out_stage_ o;
    int32_t base = bias, oy, ky, i, filled = 0;

    if (kind == 0 || k_h > TTE_DW_MAX_K || k_h * pw > TTE_DW_RING_BYTES || need_h < 1) {
        tte_dw_plane_generic_s8(g, plane, w, w_stride, bias, mult, shift, out, out_stride);
        return;
    }
    for (i = 0; i < k_h * k_w; i++) {
        wk[i] = w[i * w_stride];
        base += g->input_offset * wk[i];
    }
    o.r = tte_requant_ch_of(mult, shift);
    o.zp2 = tte_pack16(g->output_offset, g->output_offset);
    o.lo2 = tte_pack16(g->act_min, g->act_min);
    o.hi2 = tte_pack16(g->act_max, g->act_max);
    o.out_stride = out_stride;
    for (oy = 0; oy < g->out_h; oy++) {
        const int32_t r0 = oy * sh; /* first padded row of this window */
        int32_t r = filled > r0 ? filled : r0;
        for (; r < r0 + k_h; r++) {
            int8_t *dst = ring + (r % k_h) * pw;
            const int32_t iy = r - pt;
            if (iy < 0 || iy >= in_h) {
                memset(dst, pad_x, (size_t)pw);
            } else {
                memset(dst, pad_x, (size_t)pl);
                memcpy(dst + pl, plane + iy * in_w, (size_t)in_w);
                memset(dst + pl + in_w, pad_x, (size_t)(pw - pl - in_w));
            }
        }
        filled = r;
        for (ky = 0; ky < k_h; ky++) {
            rows[ky] = ring + ((r0 + ky) % k_h) * pw;
        }
        tte_dw_row_(kind, rows, k_h, wk, g->out_w, base, &o, out + oy * g->out_w * out_stride);
    }
}

#ifdef __cplusplus
}
#endif

#endif /* TTE_DW_PLANE_H */
