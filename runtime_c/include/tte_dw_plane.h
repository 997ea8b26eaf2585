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

/** The depthwise conv of one [in_h, in_w] plane into out[(oy * out_w + ox) * out_stride]. */
static inline void tte_dw_plane_s8(const tte_dw_plane_geom *g, const int8_t *plane,
                                   const int8_t *w, int32_t w_stride, int32_t bias, int32_t mult,
                                   int32_t shift, int8_t *out, int32_t out_stride)
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

#ifdef __cplusplus
}
#endif

#endif /* TTE_DW_PLANE_H */
