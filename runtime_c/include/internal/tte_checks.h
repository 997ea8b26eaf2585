/*
 * Title:       tte_checks.h
 * Description: What the kernels share outside their loops: the argument checks of each family
 *              of kernels, the window of a conv or pool clipped to the input, and the
 *              scratch-size function of a kernel that needs no scratch.  Internal: kernels
 *              include it, firmware does not.
 */
#ifndef TTE_CHECKS_H
#define TTE_CHECKS_H

#include <stddef.h>

#include "tte_types.h"

/* Defines <kernel>_scratch_bytes for a kernel that needs no scratch memory (its ctx may be NULL). */
#define TTE_NO_SCRATCH(kernel)                                                                    \
    int32_t kernel##_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,       \
                                   const tte_dims *output_dims)                                   \
    {                                                                                             \
        (void)input_dims;                                                                         \
        (void)filter_dims;                                                                        \
        (void)output_dims;                                                                        \
        return 0;                                                                                 \
    }

static inline int32_t tte_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t tte_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/** The window geometry of a conv or pool along one axis: stride >= 1, kernel >= 1, pads >= 0,
 *  the padded input at least one kernel long and `out` the number of windows,
 *  (in + pad_lo + pad_hi - k) / stride + 1. */
static inline int32_t tte_axis_ok(int32_t in, int32_t k, int32_t stride, int32_t pad_lo, int32_t pad_hi, int32_t out)
{
    return stride >= 1 && k >= 1 && pad_lo >= 0 && pad_hi >= 0 && in + pad_lo + pad_hi >= k &&
           out == (in + pad_lo + pad_hi - k) / stride + 1;
}

/** The window geometry of a conv (tte_conv_params), both axes, from the input, filter and
 *  output dims (their h and w). */
static inline int32_t tte_conv_geometry_ok(const tte_conv_params *p, const tte_dims *in, const tte_dims *filter,
                                           const tte_dims *out)
{
    return tte_axis_ok(in->h, filter->h, p->stride_h, p->pad_top, p->pad_bottom, out->h) &&
           tte_axis_ok(in->w, filter->w, p->stride_w, p->pad_left, p->pad_right, out->w);
}

/** A range [lo, hi) of positions along one axis; empty when hi <= lo. */
typedef struct {
    int32_t lo, hi;
} tte_span;

/** The input positions of a window of k taps that starts at `start` (negative inside the top or
 *  left padding), clipped to the input [0, in). */
static inline tte_span tte_window_span(int32_t start, int32_t k, int32_t in)
{
    tte_span s;
    s.lo = tte_max_i32(0, start);
    s.hi = tte_min_i32(in, start + k);
    return s;
}

/** The positions in a span (0 when it is empty). */
static inline int32_t tte_span_length(tte_span s) { return s.hi > s.lo ? s.hi - s.lo : 0; }

/** The same window's valid taps as kernel offsets: tte_window_span less `start`. */
static inline tte_span tte_window_taps(int32_t start, int32_t k, int32_t in)
{
    const tte_span s = tte_window_span(start, k, in);
    tte_span t;
    t.lo = s.lo - start;
    t.hi = s.hi - start;
    return t;
}

/** The elements of a tensor of these dims, or -1 when a dimension is negative (an argument
 *  error): the size check of the element-wise kernels. */
static inline int32_t tte_dims_count(const tte_dims *d)
{
    return d->n < 0 || d->h < 0 || d->w < 0 || d->c < 0 ? -1 : d->n * d->h * d->w * d->c;
}

/** The shapes of a fully connected layer agree: the filter holds one row of the input's
 *  h * w * c values for each of the output's h * w * c outputs, batch for batch (the fully
 *  connected kernel and the real logits of the training head). */
static inline int32_t tte_fc_dims_ok(const tte_dims *input_dims, const tte_dims *filter_dims,
                                     const tte_dims *output_dims)
{
    return filter_dims->h * filter_dims->w * filter_dims->c == input_dims->h * input_dims->w * input_dims->c &&
           output_dims->n == input_dims->n && output_dims->h * output_dims->w * output_dims->c == filter_dims->n;
}

/** The dims of a global average pool: {N, H, W, C} in, {N, 1, 1, C} out, and 1 <= H * W < 2^23
 *  (a window sum of int8 values, times the count for the input offset, fits int32). */
static inline int32_t tte_gap_dims_ok(const tte_dims *in, const tte_dims *out)
{
    const int32_t count = in->h * in->w;
    return count >= 1 && count < (1 << 23) && out->n == in->n && out->h == 1 && out->w == 1 && out->c == in->c;
}

/** The geometry of a pool: same batch and channels in and out, strides >= 1, pads >= 0 and each
 *  smaller than the kernel (every window holds a valid tap), OH and OW as a conv's. */
static inline int32_t tte_pool_geometry_ok(const tte_pool_params *p, const tte_dims *in, const tte_dims *filter,
                                           const tte_dims *out)
{
    return out->n == in->n && out->c == in->c &&
           tte_axis_ok(in->h, filter->h, p->stride_h, p->pad_top, p->pad_bottom, out->h) &&
           tte_axis_ok(in->w, filter->w, p->stride_w, p->pad_left, p->pad_right, out->w) &&
           p->pad_top < filter->h && p->pad_bottom < filter->h && p->pad_left < filter->w && p->pad_right < filter->w;
}

/** A channel list of a channel move: n >= 0 channels each in [0, limit); NULL: 0 .. n - 1,
 *  so n <= limit.  (The output channels of a move must also be distinct; not checked.) */
static inline int32_t tte_channel_list_ok(const int32_t *channels, int32_t n, int32_t limit)
{
    int32_t j;
    if (n < 0 || (channels == NULL && n > limit)) {
        return 0;
    }
    for (j = 0; channels != NULL && j < n; j++) {
        if (channels[j] < 0 || channels[j] >= limit) {
            return 0;
        }
    }
    return 1;
}

/** The arguments of a channel move (tte_copy_channels_s8, tte_grad_move_channels_f32): the
 *  same pixels in and out, and both channel lists valid for their tensors. */
static inline int32_t tte_channel_move_ok(const tte_dims *input_dims, const int32_t *in_channels,
                                          const tte_dims *output_dims, const int32_t *out_channels, int32_t n)
{
    return output_dims->n == input_dims->n && output_dims->h == input_dims->h && output_dims->w == input_dims->w &&
           tte_channel_list_ok(in_channels, n, input_dims->c) && tte_channel_list_ok(out_channels, n, output_dims->c);
}

#endif /* TTE_CHECKS_H */
