/*
 * TRAINING (float32)
 * tte_gi_1x1.h: the 1x1 (stride 1, no padding) input-gradient core shared by
 * tte_conv2d_grad_input_f32 and tte_conv2d_grad_input_split_f32.  Internal to runtime_c:
 * not part of the kernel API.
 *
 * dx[p, i] = +0 + grad[p, 0] * w_real[0, i] + grad[p, 1] * w_real[1, i] + ... over the
 * output channels in order, w_real = float32(w[o, i]) * scale[o].  The weights of a block of
 * input channels are dequantized once into a 2.5 KB stack panel that every pixel reads, a
 * chunk of output channels at a time; between chunks the partial sums go to dx and come
 * back, as float32 both ways, so every element adds the same rounded products in the same
 * order.  The weights are read column by column (tte_gi_column_), from one tensor or from a
 * split filter's two parts (tte_types.h tte_split_filter): the arithmetic is the same either
 * way.
 *
 * Two paths, picked per call by the share of nonzero values in a sample of grad:
 * - dense: blocks of 4 input channels, 160 output channels a chunk, a tile of 4 pixels x 4
 *   channels in 16 float registers across the chunk (each weight and grad load serves 4
 *   products);
 * - sparse (grad came through a ReLU6 mask, most of it zero): blocks of 16 input channels,
 *   one pixel at a time with its 16 sums in registers.  A chunk holds up to 37 output
 *   channels whose grad is nonzero in some pixel: the all-zero ones are neither dequantized
 *   nor visited, and within a pixel the channels whose grad is +0 or -0 are skipped (an
 *   integer test of the bits), so only the nonzero terms cost.  Input channels past the
 *   last block of 16 take the dense path.
 * Skipping is exact: a zero grad times a finite weight (int8 times a float32 scale) is +-0,
 * and s + (+-0) == s bit for bit for every s but -0; a sum that starts at +0 is never -0
 * (+0 + -0 and x + -x round to +0), so it is the same with or without those terms, and the
 * others are added in the same order.  A NaN or infinite grad is not zero and is never
 * skipped.
 */
#ifndef TTE_GI_1X1_H
#define TTE_GI_1X1_H

#include <stdint.h>

#include "tte_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** dx[p, i] for a 1x1 / stride 1 / no-pad conv over n_pix pixels (see the file comment): the
 * weights are `filter` [C_out, C_in], or `split`'s two parts when filter is NULL. */
void tte_gi_1x1_f32(const float *grad, int32_t n_pix, int32_t out_c, const int8_t *filter,
                    const tte_split_filter *split, const float *filter_scale, int32_t in_c,
                    float *dx);

#ifdef __cplusplus
}
#endif

#endif /* TTE_GI_1X1_H */
