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
 * contribute nothing.  Integer arithmetic only.
 *
 * How: square 3x3, 5x5 and 7x7 kernels at stride 1 or 2 (every depthwise layer of MCUNet,
 * MobileNetV2 and ProxylessNAS) take the fast path below: each plane row is widened once to
 * int16 (x + input_offset) into a zero-padded ring of k rows on the stack, and four output
 * pixels at a time sum their taps in pairs with SMLAD, one function per kernel size and
 * stride.  Any other geometry, a plane too wide for the ring or a requantization with
 * shift >= -1 takes tte_dw_plane_generic_s8, which clips the window per output pixel.
 */
#ifndef TTE_DW_PLANE_H
#define TTE_DW_PLANE_H

#include <stdint.h>

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
void tte_dw_plane_s8(const tte_dw_plane_geom *g, const int8_t *plane,
                     const int8_t *w, int32_t w_stride, int32_t bias, int32_t mult,
                     int32_t shift, int8_t *out, int32_t out_stride);

#ifdef __cplusplus
}
#endif

#endif /* TTE_DW_PLANE_H */
