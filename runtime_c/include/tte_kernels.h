/*
 * tte_kernels.h: the int8 forward kernels of the tinyengine-compiler runtime.
 *
 * Every kernel follows one signature order: scratch context, parameters, quantization, then
 * dims and data as input, weights, bias, output.  Every kernel returns TTE_OK, or
 * TTE_ERR_ARG (output untouched) when the dims or parameters are inconsistent.  Pointers
 * are never NULL unless a parameter says so.  Except where a parameter says otherwise, the
 * output must not overlap any input.
 *
 * Every kernel has a sibling tte_<op>_s8_scratch_bytes(input_dims, filter_dims, output_dims)
 * giving the bytes of scratch memory it needs (filter_dims is NULL for kernels without
 * weights).  The reference kernels need none and return 0, so ctx may be NULL for them;
 * codegen/kernels.py mirrors each formula.
 *
 * Common parameter ranges (see tte_types.h): input offsets are -zero_point in [-127, 128];
 * output offsets are zero_point in [-128, 127]; multipliers are Q31 in [2^30, 2^31) or 0;
 * shifts in [-31, 30]; -128 <= act_min <= act_max <= 127.  The int32 accumulators must
 * not overflow: |bias| + 255 * 128 * KH * KW * C_in < 2^31 holds for every real layer.
 */
#ifndef TTE_KERNELS_H
#define TTE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "tte_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * CONV2D: generic convolution.
 *
 * @param[in]  ctx          scratch; unused (tte_conv2d_s8_scratch_bytes() is 0), may be NULL
 * @param[in]  p            strides >= 1; pads >= 0 (top, left, bottom, right); offsets; clamp
 * @param[in]  q            per output channel multiplier[C_out] and shift[C_out]
 * @param[in]  input_dims   {N, H, W, C_in}; H + pad_top + pad_bottom >= KH, same for W
 * @param[in]  input        int8 NHWC [N, H, W, C_in]
 * @param[in]  filter_dims  {C_out, KH, KW, C_in}, any KH, KW >= 1
 * @param[in]  filter       int8 OHWI [C_out, KH, KW, C_in], symmetric (zero point 0)
 * @param[in]  bias         int32 [C_out] at scale s_in * s_w[c]; NULL means all zero
 * @param[in]  output_dims  {N, OH, OW, C_out}, OH = (H + pad_top + pad_bottom - KH) /
 *                          stride_h + 1, OW likewise
 * @param[out] output       int8 NHWC [N, OH, OW, C_out]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_conv2d_s8(const tte_ctx *ctx, const tte_conv_params *p,
                         const tte_per_channel_quant *q, const tte_dims *input_dims,
                         const int8_t *input, const tte_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const tte_dims *output_dims, int8_t *output);
int32_t tte_conv2d_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                    const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * CONV2D with a 1x1 kernel: the pointwise fast path, bit-identical to tte_conv2d_s8.
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            strides >= 1 (1 or 2 in practice); all four pads must be 0;
 *                          offsets; clamp
 * @param[in]  q            per output channel multiplier[C_out] and shift[C_out]
 * @param[in]  input_dims   {N, H, W, C_in}
 * @param[in]  input        int8 NHWC [N, H, W, C_in]
 * @param[in]  filter_dims  {C_out, 1, 1, C_in}
 * @param[in]  filter       int8 OHWI [C_out, 1, 1, C_in]
 * @param[in]  bias         int32 [C_out]; NULL means all zero
 * @param[in]  output_dims  {N, (H - 1) / stride_h + 1, (W - 1) / stride_w + 1, C_out}
 * @param[out] output       int8 NHWC; must not alias the input
 * @return TTE_ERR_ARG if the kernel is not 1x1 or a pad is not 0.
 * ------------------------------------------------------------------------------------- */
tte_status tte_conv2d_1x1_s8(const tte_ctx *ctx, const tte_conv_params *p,
                             const tte_per_channel_quant *q, const tte_dims *input_dims,
                             const int8_t *input, const tte_dims *filter_dims,
                             const int8_t *filter, const int32_t *bias,
                             const tte_dims *output_dims, int8_t *output);
int32_t tte_conv2d_1x1_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * DEPTHWISE_CONV2D, depth multiplier 1.
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            strides >= 1; pads >= 0; offsets; clamp
 * @param[in]  q            per channel multiplier[C] and shift[C]
 * @param[in]  input_dims   {N, H, W, C}; H + pad_top + pad_bottom >= KH, same for W
 * @param[in]  input        int8 NHWC [N, H, W, C]
 * @param[in]  filter_dims  {1, KH, KW, C}, any KH, KW >= 1 (3, 5, 7 in MCUNet)
 * @param[in]  filter       int8 1HWC [1, KH, KW, C], symmetric
 * @param[in]  bias         int32 [C]; NULL means all zero
 * @param[in]  output_dims  {N, OH, OW, C} as for tte_conv2d_s8
 * @param[out] output       int8 NHWC [N, OH, OW, C]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_depthwise_conv2d_s8(const tte_ctx *ctx, const tte_conv_params *p,
                                   const tte_per_channel_quant *q, const tte_dims *input_dims,
                                   const int8_t *input, const tte_dims *filter_dims,
                                   const int8_t *filter, const int32_t *bias,
                                   const tte_dims *output_dims, int8_t *output);
int32_t tte_depthwise_conv2d_s8_scratch_bytes(const tte_dims *input_dims,
                                              const tte_dims *filter_dims,
                                              const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * FULLY_CONNECTED with per-output-channel requantization.
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            input/output offsets and clamp
 * @param[in]  q            per output channel multiplier[OUT] and shift[OUT]
 * @param[in]  input_dims   {N, H, W, C}; each batch row holds IN = H * W * C values
 * @param[in]  input        int8 [N, IN] (an NHWC tensor, flattened in NHWC order)
 * @param[in]  filter_dims  {OUT, 1, 1, IN} (only n and the product h * w * c are used)
 * @param[in]  filter       int8 [OUT, IN] row-major, symmetric
 * @param[in]  bias         int32 [OUT]; NULL means all zero
 * @param[in]  output_dims  {N, 1, 1, OUT} (any h, w, c with h * w * c = OUT)
 * @param[out] output       int8 [N, OUT]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_fully_connected_s8(const tte_ctx *ctx, const tte_fc_params *p,
                                  const tte_per_channel_quant *q, const tte_dims *input_dims,
                                  const int8_t *input, const tte_dims *filter_dims,
                                  const int8_t *filter, const int32_t *bias,
                                  const tte_dims *output_dims, int8_t *output);
int32_t tte_fully_connected_s8_scratch_bytes(const tte_dims *input_dims,
                                             const tte_dims *filter_dims,
                                             const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * ADD: element-wise sum of two int8 tensors with their own quantization (TFLite int8 ADD).
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            offsets, multipliers and shifts of both inputs and the output,
 *                          left_shift in [0, 22] (20 as TFLite), clamp; see tte_add_params
 * @param[in]  dims         shape shared by both inputs and the output; n * h * w * c elements
 * @param[in]  input1       int8, n * h * w * c values
 * @param[in]  input2       int8, n * h * w * c values (may be the same buffer as input1)
 * @param[out] output       int8, n * h * w * c values.  MAY ALIAS input1 or input2 exactly
 *                          (in place); any partial overlap is not allowed.
 * ------------------------------------------------------------------------------------- */
tte_status tte_add_s8(const tte_ctx *ctx, const tte_add_params *p, const tte_dims *dims,
                      const int8_t *input1, const int8_t *input2, int8_t *output);
int32_t tte_add_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                 const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * GLOBAL_AVG_POOL, two variants; codegen picks one per node:
 *   tte_global_avg_pool_s8          input and output quantization are equal: the sum of the
 *                                   raw int8 values divided by H * W, rounded half away from
 *                                   zero (as CMSIS-NN's average pool).  Uses p->act_min and
 *                                   p->act_max only.
 *   tte_global_avg_pool_requant_s8  they differ: out = requant(sum(in + input_offset),
 *                                   multiplier, shift) + output_offset, with the multiplier
 *                                   of s_in / (s_out * H * W).  Uses every field of p.
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            see above
 * @param[in]  input_dims   {N, H, W, C}; 1 <= H * W < 2^23
 * @param[in]  input        int8 NHWC [N, H, W, C]
 * @param[in]  output_dims  {N, 1, 1, C}
 * @param[out] output       int8 NHWC [N, 1, 1, C]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_global_avg_pool_s8(const tte_ctx *ctx, const tte_gap_params *p,
                                  const tte_dims *input_dims, const int8_t *input,
                                  const tte_dims *output_dims, int8_t *output);
int32_t tte_global_avg_pool_s8_scratch_bytes(const tte_dims *input_dims,
                                             const tte_dims *filter_dims,
                                             const tte_dims *output_dims);
tte_status tte_global_avg_pool_requant_s8(const tte_ctx *ctx, const tte_gap_params *p,
                                          const tte_dims *input_dims, const int8_t *input,
                                          const tte_dims *output_dims, int8_t *output);
int32_t tte_global_avg_pool_requant_s8_scratch_bytes(const tte_dims *input_dims,
                                                     const tte_dims *filter_dims,
                                                     const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * AVG_POOL2D, input and output quantization equal; padded taps are not counted.
 *   out = clamp(round_half_away_from_zero(sum of valid raw int8 taps / their count))
 * (tte_avg_pool2d_requant_s8 below handles different quantization.)
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            strides >= 1; 0 <= pad < kernel size on each side; clamp
 * @param[in]  input_dims   {N, H, W, C}
 * @param[in]  input        int8 NHWC [N, H, W, C]
 * @param[in]  filter_dims  kernel size {1, KH, KW, 1} (only h and w are used)
 * @param[in]  output_dims  {N, OH, OW, C} as for tte_conv2d_s8
 * @param[out] output       int8 NHWC [N, OH, OW, C]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_avg_pool2d_s8(const tte_ctx *ctx, const tte_pool_params *p,
                             const tte_dims *input_dims, const int8_t *input,
                             const tte_dims *filter_dims, const tte_dims *output_dims,
                             int8_t *output);
int32_t tte_avg_pool2d_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * AVG_POOL2D, input and output quantization different; padded taps are not counted.
 *   out = clamp(requant(sum of valid (in + input_offset), multiplier[count - 1],
 *                       shift[count - 1]) + output_offset, act_min, act_max)
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            strides >= 1; 0 <= pad < kernel size on each side; clamp
 * @param[in]  rq           offsets and the per-count table of KH * KW (multiplier, shift)
 * @param[in]  input_dims   {N, H, W, C}
 * @param[in]  input        int8 NHWC [N, H, W, C]
 * @param[in]  filter_dims  kernel size {1, KH, KW, 1} (only h and w are used)
 * @param[in]  output_dims  {N, OH, OW, C} as for tte_conv2d_s8
 * @param[out] output       int8 NHWC [N, OH, OW, C]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_avg_pool2d_requant_s8(const tte_ctx *ctx, const tte_pool_params *p,
                                     const tte_avg_requant *rq, const tte_dims *input_dims,
                                     const int8_t *input, const tte_dims *filter_dims,
                                     const tte_dims *output_dims, int8_t *output);
int32_t tte_avg_pool2d_requant_s8_scratch_bytes(const tte_dims *input_dims,
                                                const tte_dims *filter_dims,
                                                const tte_dims *output_dims);

#ifdef __cplusplus
}
#endif

#endif /* TTE_KERNELS_H */
