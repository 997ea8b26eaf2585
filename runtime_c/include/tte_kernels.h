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
 * tinyengine_compiler/registry.py mirrors each formula.
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
 * @param[out] output       int8 NHWC [N, OH, OW, C_out].  With N = 1 it MAY OVERLAP the input
 *                          as a row band (the row-banded in-place conv): output rows are
 *                          written in order, and once any byte of output row r is written
 *                          only input rows >= r * stride_h - pad_top are read, so output row r
 *                          may cover the input rows below that (planners/base.py RowBanding).
 *                          Otherwise it must not alias the input.
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
 * LUT: an element-wise activation as a table over the 256 int8 inputs (HardSwish,
 * HardSigmoid, Sigmoid, Tanh, LeakyRelu, a standalone Relu/Clip): out[i] = table[in[i] + 128].
 * The compiler fills the table from the input and output quantization
 * (tinyengine_compiler/ir/activations.py).
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  table        int8 [256], indexed by the input value + 128
 * @param[in]  dims         any shape; n * h * w * c elements
 * @param[in]  input        int8
 * @param[out] output       int8.  MAY ALIAS the input exactly (in place).
 * ------------------------------------------------------------------------------------- */
tte_status tte_lut_s8(const tte_ctx *ctx, const int8_t *table, const tte_dims *dims, const int8_t *input,
                      int8_t *output);
int32_t tte_lut_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                 const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * MUL: element-wise product of two int8 tensors with their own quantization (TFLite int8
 * MUL); the second may be one value a channel, {N, 1, 1, C}, broadcast over the pixels (a
 * squeeze-excite scale).  out = clamp(tte_requantize((a + input1_offset) * (b +
 * input2_offset), output_multiplier, output_shift) + output_offset, act_min, act_max).
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            offsets, output multiplier and shift, clamp (tte_mul_params)
 * @param[in]  dims         {N, H, W, C}: input1's and the output's shape
 * @param[in]  input1       int8 NHWC
 * @param[in]  input2_dims  dims, or {N, 1, 1, C}
 * @param[in]  input2       int8
 * @param[out] output       int8 NHWC.  MAY ALIAS input1 exactly, or input2 when it has dims.
 * ------------------------------------------------------------------------------------- */
tte_status tte_mul_s8(const tte_ctx *ctx, const tte_mul_params *p, const tte_dims *dims, const int8_t *input1,
                      const tte_dims *input2_dims, const int8_t *input2, int8_t *output);
int32_t tte_mul_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                 const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * GLOBAL_AVG_POOL: the mean of each channel over H * W.
 *   p->multiplier == 0: input and output quantization are equal; the sum of the raw int8
 *     values divided by H * W, rounded half away from zero (as CMSIS-NN's average pool).  Uses
 *     p->act_min and p->act_max only.
 *   otherwise: out = requant(sum(in + input_offset), multiplier, shift) + output_offset, with
 *     the multiplier of s_in / (s_out * H * W).  Uses every field of p.
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

/* ---------------------------------------------------------------------------------------
 * AVG_POOL2D: the mean of each window's valid taps (padded taps are not counted).
 *   rq == NULL: input and output quantization are equal;
 *     out = clamp(round_half_away_from_zero(sum of the valid raw int8 taps / their count))
 *   otherwise: out = clamp(requant(sum of valid (in + input_offset), multiplier[count - 1],
 *                                  shift[count - 1]) + output_offset, act_min, act_max)
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            strides >= 1; 0 <= pad < kernel size on each side; clamp
 * @param[in]  rq           NULL, or the offsets and the per-count table of KH * KW
 *                          (multiplier, shift)
 * @param[in]  input_dims   {N, H, W, C}
 * @param[in]  input        int8 NHWC [N, H, W, C]
 * @param[in]  filter_dims  kernel size {1, KH, KW, 1} (only h and w are used); KH * KW < 2^23
 * @param[in]  output_dims  {N, OH, OW, C} as for tte_conv2d_s8
 * @param[out] output       int8 NHWC [N, OH, OW, C]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_avg_pool2d_s8(const tte_ctx *ctx, const tte_pool_params *p, const tte_avg_requant *rq,
                             const tte_dims *input_dims, const int8_t *input, const tte_dims *filter_dims,
                             const tte_dims *output_dims, int8_t *output);
int32_t tte_avg_pool2d_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * CONCAT (one call per input) and CHANNEL_SELECT: out[p, out_channels[j]] =
 * in[p, in_channels[j]] for every pixel p and j < n, moved to the output's quantization with
 * rq: clamp(tte_requantize(in + input_offset, multiplier, shift) + output_offset).  Other
 * output channels are left as they are.
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  rq           NULL when input and output share their quantization
 * @param[in]  input_dims   {N, H, W, C_in}
 * @param[in]  input        int8 NHWC
 * @param[in]  in_channels  int32 [n], each in [0, C_in); NULL: 0 .. n - 1
 * @param[in]  out_channels int32 [n], distinct, each in [0, C_out); NULL: 0 .. n - 1
 * @param[in]  n            channels moved
 * @param[in]  output_dims  {N, H, W, C_out}
 * @param[out] output       int8 NHWC; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_copy_channels_s8(const tte_ctx *ctx, const tte_rescale *rq, const tte_dims *input_dims,
                                const int8_t *input, const int32_t *in_channels, const int32_t *out_channels,
                                int32_t n, const tte_dims *output_dims, int8_t *output);
int32_t tte_copy_channels_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                           const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * MAX_POOL2D: the largest valid tap of each window (padding never wins), requantized when
 * the output's quantization differs: out = clamp(m) with rq NULL, else
 * clamp(tte_requantize(m + input_offset, multiplier, shift) + output_offset).
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            strides >= 1; pads >= 0, each smaller than the kernel; clamp
 * @param[in]  rq           NULL when input and output share their quantization, else the
 *                          requantization (tte_rescale)
 * @param[in]  input_dims   {N, H, W, C}
 * @param[in]  input        int8 NHWC
 * @param[in]  filter_dims  {1, KH, KW, 1}: the window
 * @param[in]  output_dims  {N, OH, OW, C} as for tte_conv2d_s8
 * @param[out] output       int8 NHWC; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_max_pool2d_s8(const tte_ctx *ctx, const tte_pool_params *p, const tte_rescale *rq,
                             const tte_dims *input_dims, const int8_t *input, const tte_dims *filter_dims,
                             const tte_dims *output_dims, int8_t *output);
int32_t tte_max_pool2d_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims);

/* =======================================================================================
 * TRAINING (float32): the backward and update kernels.
 *
 * Gradients are float32 NHWC.  Each kernel reproduces one op of
 * tinyengine_compiler/reference/backward/ (or sgd_update.py) bit for bit: every reduction
 * starts from +0.0f and adds one rounded float32 product at a time in the order stated here
 * (the reference's), so the kernels must be built with -ffp-contract=off and without
 * -ffast-math.  Saved int8 activations are read as float32(q - zero_point) * scale; int8
 * weights (symmetric) as float32(q) * scale[channel], one rounded multiply each.  Gradient
 * inputs are finite (padded taps, whose reference product is gradient * 0, are skipped).
 * Every kernel has a tte_<op>_scratch_bytes sibling; all return 0 (ctx may be NULL).
 * `channels` lists the trained input channels (the reference's `channels` attribute):
 * strictly increasing indices into the last axis; NULL means all of them, in order.
 * ===================================================================================== */

/* ---------------------------------------------------------------------------------------
 * REAL_LOGITS: the real logits the loss reads, the classifier's (tte_fully_connected_s8's)
 * output before requantization and clamp, so that a classifier whose int8 logits all sit at
 * the clamp still gets a gradient (tte_infer keeps the int8 logits).  Per output o:
 *   acc = bias[o] + sum_i (in[i] + input_offset) * w[o, i]   (int32, as tte_fully_connected_s8)
 *   out[o] = (float)acc * scale[o]        (int32 -> float32 rounded to nearest, one multiply)
 * scale[o] = float32(s_in * s_w[o]), made once at compile time.
 *
 * @param[in]  ctx          scratch; unused (scratch_bytes is 0), may be NULL
 * @param[in]  p            input offset
 * @param[in]  scale        float32 [OUT], finite
 * @param[in]  input_dims   {N, H, W, C}; each batch row holds IN = H * W * C values
 * @param[in]  input        int8 [N, IN] (an NHWC tensor, flattened in NHWC order)
 * @param[in]  filter_dims  {OUT, 1, 1, IN} (only n and the product h * w * c are used)
 * @param[in]  filter       int8 [OUT, IN] row-major, symmetric
 * @param[in]  bias         int32 [OUT]; NULL means all zero
 * @param[in]  output_dims  {N, 1, 1, OUT} (any h, w, c with h * w * c = OUT)
 * @param[out] output       float32 [N, OUT]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_real_logits_f32(const tte_ctx *ctx, const tte_real_logits_params *p,
                               const float *scale, const tte_dims *input_dims, const int8_t *input,
                               const tte_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const tte_dims *output_dims, float *output);
int32_t tte_real_logits_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                          const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * SOFTMAX_CROSS_ENTROPY: loss and logits gradient of one image, with label smoothing e.
 *   l = logits; m = max(l); d_k = l_k - m; e_k = tte_expf(d_k)
 *   S = +0 + e_0 + ... + e_{K-1};  t_k = e / K, plus (1 - e) at the label
 *   loss = tte_logf(S) - t_0 d_0 - ... - t_{K-1} d_{K-1};  grad_k = e_k / S - t_k
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            label smoothing
 * @param[in]  logits_dims  {1, 1, 1, K} (batch 1; K = h * w * c >= 1)
 * @param[in]  logits       float32 [K], finite: the real logits (tte_real_logits_f32)
 * @param[in]  label        int32 [1], in [0, K) (else TTE_ERR_ARG)
 * @param[out] grad_output  float32 [K] dL/dlogits; must not alias logits
 * @param[out] loss_output  float32 [1]
 * ------------------------------------------------------------------------------------- */
tte_status tte_softmax_cross_entropy_f32(const tte_ctx *ctx, const tte_softmax_ce_params *p,
                                         const tte_dims *logits_dims, const float *logits,
                                         const int32_t *label, float *grad_output,
                                         float *loss_output);
int32_t tte_softmax_cross_entropy_f32_scratch_bytes(const tte_dims *input_dims,
                                                    const tte_dims *filter_dims,
                                                    const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * CLAMP_GRAD: output = grad where act_min < saved < act_max, else +0.0f.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            act_min, act_max of the forward clamp (int8 domain)
 * @param[in]  dims         shape of all three tensors, n * h * w * c elements
 * @param[in]  grad         float32 gradient of the clamp's output
 * @param[in]  saved        int8 saved forward output
 * @param[out] output       float32; MAY ALIAS grad exactly (in place)
 * ------------------------------------------------------------------------------------- */
tte_status tte_clamp_grad_f32(const tte_ctx *ctx, const tte_clamp_grad_params *p,
                              const tte_dims *dims, const float *grad, const int8_t *saved,
                              float *output);
int32_t tte_clamp_grad_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                         const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * CONV2D_GRAD_INPUT: the transposed convolution.  Each dx element starts at +0 and gets
 * grad[oy, ox, o] * w[o, kh, kw, i] added for kh, for kw, for o (lexicographic) over the
 * taps that reach it.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            strides >= 1 and pads >= 0 of the forward conv (input_* unused)
 * @param[in]  grad_dims    {N, OH, OW, C_out}, OH = (H + pad_top + pad_bottom - KH) /
 *                          stride_h + 1, OW likewise
 * @param[in]  grad         float32 NHWC
 * @param[in]  filter_dims  {C_out, KH, KW, C_in}
 * @param[in]  filter       int8 OHWI, symmetric
 * @param[in]  filter_scale float32 [C_out]
 * @param[in]  output_dims  {N, H, W, C_in}
 * @param[out] output       float32 NHWC dx; must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_conv2d_grad_input_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                     const tte_dims *grad_dims, const float *grad,
                                     const tte_dims *filter_dims, const int8_t *filter,
                                     const float *filter_scale, const tte_dims *output_dims,
                                     float *output);
int32_t tte_conv2d_grad_input_f32_scratch_bytes(const tte_dims *input_dims,
                                                const tte_dims *filter_dims,
                                                const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * DEPTHWISE_CONV2D_GRAD_INPUT (depth multiplier 1).  Each dx element starts at +0 and gets
 * grad[oy, ox, c] * w[0, kh, kw, c] added for kh, for kw over the taps that reach it.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            strides >= 1 and pads >= 0 of the forward conv (input_* unused)
 * @param[in]  grad_dims    {N, OH, OW, C} as for tte_conv2d_grad_input_f32
 * @param[in]  grad         float32 NHWC
 * @param[in]  filter_dims  {1, KH, KW, C}
 * @param[in]  filter       int8 1HWC, symmetric
 * @param[in]  filter_scale float32 [C]
 * @param[in]  output_dims  {N, H, W, C}
 * @param[out] output       float32 NHWC dx; must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_depthwise_conv2d_grad_input_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                               const tte_dims *grad_dims, const float *grad,
                                               const tte_dims *filter_dims, const int8_t *filter,
                                               const float *filter_scale,
                                               const tte_dims *output_dims, float *output);
int32_t tte_depthwise_conv2d_grad_input_f32_scratch_bytes(const tte_dims *input_dims,
                                                          const tte_dims *filter_dims,
                                                          const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * FULLY_CONNECTED_GRAD_INPUT.  dx[n, i] starts at +0 and gets grad[n, o] * w[o, i] added
 * for o in order.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  grad_dims    {N, 1, 1, OUT} (any h, w, c with h * w * c = OUT)
 * @param[in]  grad         float32 [N, OUT]
 * @param[in]  filter_dims  {OUT, 1, 1, IN} (only n and h * w * c are used)
 * @param[in]  filter       int8 [OUT, IN], symmetric
 * @param[in]  filter_scale float32 [OUT]
 * @param[in]  output_dims  the forward input's {N, H, W, C}, H * W * C = IN
 * @param[out] output       float32 [N, IN] (NHWC flattening); must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_fully_connected_grad_input_f32(const tte_ctx *ctx, const tte_dims *grad_dims,
                                              const float *grad, const tte_dims *filter_dims,
                                              const int8_t *filter, const float *filter_scale,
                                              const tte_dims *output_dims, float *output);
int32_t tte_fully_connected_grad_input_f32_scratch_bytes(const tte_dims *input_dims,
                                                         const tte_dims *filter_dims,
                                                         const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * CONV2D_GRAD_WEIGHT for the trained input channels.  dw[o, kh, kw, j] starts at +0 and
 * gets grad[oy, ox, o] * real(x[oy * sh + kh - pad_top, ox * sw + kw - pad_left,
 * channels[j]]) added for each output pixel in row-major order.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            strides >= 1, pads >= 0, the saved input's scale and zero point
 * @param[in]  input_dims   {1, H, W, C_in} (batch 1)
 * @param[in]  input        int8 NHWC, the saved forward input
 * @param[in]  grad_dims    {1, OH, OW, C_out}, OH and OW as the forward conv's
 * @param[in]  grad         float32 NHWC
 * @param[in]  channels     int32 [n] trained input channels, increasing, < C_in; NULL = all
 * @param[in]  rows         the block of output channels to make (a fused update's); NULL = all
 * @param[in]  output_dims  {C_out, KH, KW, n} of the whole gradient (n = C_in when channels
 *                          is NULL)
 * @param[out] output       float32 [rows->count or C_out, KH, KW, n]: the block's rows; must
 *                          not alias an input
 * ------------------------------------------------------------------------------------- */
tte_status tte_conv2d_grad_weight_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                      const tte_dims *input_dims, const int8_t *input,
                                      const tte_dims *grad_dims, const float *grad,
                                      const int32_t *channels, const tte_rows *rows,
                                      const tte_dims *output_dims, float *output);
int32_t tte_conv2d_grad_weight_f32_scratch_bytes(const tte_dims *input_dims,
                                                 const tte_dims *filter_dims,
                                                 const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * DEPTHWISE_CONV2D_GRAD_WEIGHT for the trained channels.  dw[0, kh, kw, j] starts at +0
 * and gets grad[oy, ox, c] * real(x[oy * sh + kh - pad_top, ox * sw + kw - pad_left, c]),
 * c = channels[j], added for each output pixel in row-major order.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            strides >= 1, pads >= 0, the saved input's scale and zero point
 * @param[in]  input_dims   {1, H, W, C} (batch 1)
 * @param[in]  input        int8 NHWC, the saved forward input
 * @param[in]  grad_dims    {1, OH, OW, C}
 * @param[in]  grad         float32 NHWC
 * @param[in]  channels     int32 [n] trained channels, increasing, < C; NULL = all
 * @param[in]  output_dims  {1, KH, KW, n}
 * @param[out] output       float32 [1, KH, KW, n]; must not alias an input
 * ------------------------------------------------------------------------------------- */
tte_status tte_depthwise_conv2d_grad_weight_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                                const tte_dims *input_dims, const int8_t *input,
                                                const tte_dims *grad_dims, const float *grad,
                                                const int32_t *channels,
                                                const tte_dims *output_dims, float *output);
int32_t tte_depthwise_conv2d_grad_weight_f32_scratch_bytes(const tte_dims *input_dims,
                                                           const tte_dims *filter_dims,
                                                           const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * FULLY_CONNECTED_GRAD_WEIGHT for the trained input columns.  dw[o, j] starts at +0 and
 * gets grad[n, o] * real(x[n, channels[j]]) added for each batch row n in order.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            the saved input's scale and zero point
 * @param[in]  input_dims   {N, H, W, C}; IN = H * W * C values per row (NHWC flattening)
 * @param[in]  input        int8 [N, IN], the saved forward input
 * @param[in]  grad_dims    {N, 1, 1, OUT} (any h, w, c with h * w * c = OUT)
 * @param[in]  grad         float32 [N, OUT]
 * @param[in]  channels     int32 [n] trained columns, increasing, < IN; NULL = all
 * @param[in]  rows         the block of output rows to make (a fused update's); NULL = all
 * @param[in]  output_dims  {OUT, 1, 1, n} of the whole gradient
 * @param[out] output       float32 [rows->count or OUT, n]; must not alias an input
 * ------------------------------------------------------------------------------------- */
tte_status tte_fully_connected_grad_weight_f32(const tte_ctx *ctx, const tte_fc_grad_params *p,
                                               const tte_dims *input_dims, const int8_t *input,
                                               const tte_dims *grad_dims, const float *grad,
                                               const int32_t *channels, const tte_rows *rows,
                                               const tte_dims *output_dims, float *output);
int32_t tte_fully_connected_grad_weight_f32_scratch_bytes(const tte_dims *input_dims,
                                                          const tte_dims *filter_dims,
                                                          const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * BIAS_GRAD: output[c] starts at +0 and gets grad[p, c] added for every pixel p = (n, y, x)
 * in row-major order.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  grad_dims    {N, H, W, C}
 * @param[in]  grad         float32 NHWC
 * @param[in]  output_dims  {1, 1, 1, C}
 * @param[out] output       float32 [C]; must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_bias_grad_f32(const tte_ctx *ctx, const tte_dims *grad_dims, const float *grad,
                             const tte_dims *output_dims, float *output);
int32_t tte_bias_grad_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * GLOBAL_AVG_POOL_GRAD: output[n, y, x, c] = grad[n, c] / float(H * W), one division per
 * channel.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  grad_dims    {N, 1, 1, C}
 * @param[in]  grad         float32 [N, C]
 * @param[in]  output_dims  {N, H, W, C}, 1 <= H * W <= 2^24
 * @param[out] output       float32 NHWC; must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_global_avg_pool_grad_f32(const tte_ctx *ctx, const tte_dims *grad_dims,
                                        const float *grad, const tte_dims *output_dims,
                                        float *output);
int32_t tte_global_avg_pool_grad_f32_scratch_bytes(const tte_dims *input_dims,
                                                   const tte_dims *filter_dims,
                                                   const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * AVG_POOL2D_GRAD: each window's share = grad[oy, ox, c] / float(its valid taps), one division;
 * dx starts at +0 and, for kh, for kw (lexicographic), each tap of each window inside the
 * input gets that window's share added.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            the forward pool's strides >= 1 and pads (each smaller than the
 *                          kernel; act_* unused)
 * @param[in]  grad_dims    {1, OH, OW, C} as the forward pool's output
 * @param[in]  grad         float32 NHWC
 * @param[in]  filter_dims  {1, KH, KW, 1}: the pool's window
 * @param[in]  output_dims  {1, H, W, C}
 * @param[out] output       float32 NHWC dx; must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_avg_pool2d_grad_f32(const tte_ctx *ctx, const tte_pool_params *p, const tte_dims *grad_dims,
                                   const float *grad, const tte_dims *filter_dims, const tte_dims *output_dims,
                                   float *output);
int32_t tte_avg_pool2d_grad_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                              const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * MAX_POOL2D_GRAD: dx starts at +0; for each window in row-major order, each channel's
 * gradient is added to the tap it picked (index: kh * KW + kw, from tte_max_pool2d_argmax_s8).
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            the forward pool's strides and pads (act_* unused)
 * @param[in]  grad_dims    {1, OH, OW, C} as the forward pool's output
 * @param[in]  grad         float32 NHWC
 * @param[in]  index        uint8 NHWC [1, OH, OW, C]
 * @param[in]  filter_dims  {1, KH, KW, 1}: the pool's window
 * @param[in]  output_dims  {1, H, W, C}
 * @param[out] output       float32 NHWC dx; must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_max_pool2d_grad_f32(const tte_ctx *ctx, const tte_pool_params *p, const tte_dims *grad_dims,
                                   const float *grad, const uint8_t *index, const tte_dims *filter_dims,
                                   const tte_dims *output_dims, float *output);
int32_t tte_max_pool2d_grad_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                              const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * GRAD_MOVE_CHANNELS: out[p, out_channels[j]] = in[p, in_channels[j]]; every other output
 * channel is +0 (CONCAT's gradient gathers, CHANNEL_SELECT's scatters).
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  input_dims   {N, H, W, C_in}
 * @param[in]  input        float32 NHWC
 * @param[in]  in_channels  int32 [n], each in [0, C_in); NULL: 0 .. n - 1
 * @param[in]  out_channels int32 [n], distinct, each in [0, C_out); NULL: 0 .. n - 1
 * @param[in]  n            channels moved
 * @param[in]  output_dims  {N, H, W, C_out}
 * @param[out] output       float32 NHWC; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_grad_move_channels_f32(const tte_ctx *ctx, const tte_dims *input_dims, const float *input,
                                 const int32_t *in_channels, const int32_t *out_channels, int32_t n,
                                 const tte_dims *output_dims, float *output);
int32_t tte_grad_move_channels_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                            const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * LUT_GRAD: output = grad * slope[saved + 128], one rounded multiply an element; slope is
 * the activation's derivative at each int8 input, 0 where its output saturates.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  slope        float32 [256], indexed by the saved input value + 128
 * @param[in]  dims         any shape; n * h * w * c elements
 * @param[in]  grad         float32
 * @param[in]  saved        int8: the LUT's input
 * @param[out] output       float32.  MAY ALIAS grad exactly (in place).
 * ------------------------------------------------------------------------------------- */
tte_status tte_lut_grad_f32(const tte_ctx *ctx, const float *slope, const tte_dims *dims, const float *grad,
                            const int8_t *saved, float *output);
int32_t tte_lut_grad_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                       const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * MUL_GRAD: the gradient of one MUL operand, d = grad * real(other), real(other) =
 * float32(other - other_zero_point) * other_scale.  Three forms, told apart by the dims:
 *   other and output of grad's shape:     output[i] = grad[i] * real(other[i])
 *   other {N, 1, 1, C}, output grad's:    output[p, c] = grad[p, c] * real(other[c])
 *   output {N, 1, 1, C}, other grad's:    output[c] = +0 + d[0, c] + d[1, c] + ... (pixels
 *                                         in row-major order; the broadcast operand's)
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            the other operand's quantization
 * @param[in]  grad_dims    {1, H, W, C}
 * @param[in]  grad         float32 NHWC: the gradient of the MUL's output (past its clamp)
 * @param[in]  other_dims   grad_dims or {1, 1, 1, C}
 * @param[in]  other        int8: the saved other operand
 * @param[in]  output_dims  grad_dims or {1, 1, 1, C} (not both other's and output's)
 * @param[out] output       float32.  MAY ALIAS grad exactly in the element-wise forms.
 * ------------------------------------------------------------------------------------- */
tte_status tte_mul_grad_f32(const tte_ctx *ctx, const tte_mul_grad_params *p, const tte_dims *grad_dims,
                            const float *grad, const tte_dims *other_dims, const int8_t *other,
                            const tte_dims *output_dims, float *output);
int32_t tte_mul_grad_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                       const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * GRAD_ACCUMULATE: output = input1 + input2, element by element.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  dims         shape of all three, n * h * w * c elements
 * @param[in]  input1       float32
 * @param[in]  input2       float32
 * @param[out] output       float32; MAY ALIAS input1 or input2 exactly (in place)
 * ------------------------------------------------------------------------------------- */
tte_status tte_grad_accumulate_f32(const tte_ctx *ctx, const tte_dims *dims, const float *input1,
                                   const float *input2, float *output);
int32_t tte_grad_accumulate_f32_scratch_bytes(const tte_dims *input_dims,
                                              const tte_dims *filter_dims,
                                              const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * SGD_UPDATE: one SGD step in place, in the parameter's stored representation
 * (reference/backward/sgd_update.py).  For every gradient element (row r, middle m, trained
 * column j, channel col = channels[j]):
 *   step = lr * (grad[r, m, j] * grad_scale[k])   (k by p->scale_mode: 0, r or col)
 *   with momentum (velocity_inout not NULL): v = p->momentum * v[r, m, j] + grad * grad_scale[k],
 *     step = lr * v, and v is stored; a v that is not finite is not stored and the step is NaN
 *   with p->step_clip > 0, per row r: S = the largest |step| of the row (NaN steps ignored),
 *     B = step_clip * max(largest |P[r, m, col]| over the trained columns, NaN ignored, 1) in the stored
 *     domain (int8 steps); when S > B every step of the row is step * (B / S), and every velocity
 *     the row stored is v * (B / S)
 *   tte_sgd_update_f32 (float32 master weights):  P[r, m, col] = P[r, m, col] - step, and
 *     its int8 image (what the forward reads) image[r, m, col] = saturate_int8(roundf(P))
 *   tte_sgd_update_int (int8 weights or int32 biases):
 *     P = saturate(P - (int64) clamp(round(step), -2^32, 2^32)); saturate to int8, or for a
 *     bias to +-TTE_BIAS_LIMIT.  round = roundf (nearest, ties away from zero) when draws_inout
 *     is NULL; else stochastic rounding: floor(step) + 1 with probability step - floor(step),
 *     the element's draw being tte_uniform_draw(*draws_inout), after which the counter is one more
 *     (every element takes one draw, in the order above; tte_train_common.h)
 *   a master or a bias moves outward not past +-TTE_MASTER_LIMIT / +-TTE_BIAS_LIMIT (or past
 *   where it already is), and a NaN step leaves P (tte_train_common.h)
 * Entries of untrained columns are left unchanged.  With `rows` (a fused update: the weight
 * gradient is made and applied one block of output channels at a time) only that block of
 * rows is updated, and grad holds just its rows.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            learning rate, tte_scale_mode, momentum and step clip
 * @param[in]  param_dims   {rows, h, w, C} of the stored parameter: OHWI and 1HWC weights as
 *                          they are, FC [out, in] as {out, 1, 1, in}, a bias [C] as
 *                          {C, 1, 1, 1} (TTE_SCALE_PER_ROW) or {1, 1, 1, C}
 * @param[in]  grad_dims    {rows, h, w, n}: the gradient of the trained columns only
 * @param[in]  grad         float32, grad_dims layout (rows->count rows with `rows`), real
 *                          domain dL/dP
 * @param[in]  grad_scale   float32: [1], [rows] or [C] by scale_mode
 * @param[in]  channels     int32 [n] trained columns, increasing, < C; NULL = all (n = C)
 * @param[in]  rows         the block of rows to update; NULL = all
 * @param[in,out] param_inout  tte_sgd_update_f32: the float32 master, updated in place
 * @param[in,out] param_s8_inout, param_s32_inout  tte_sgd_update_int: the int8 or the int32
 *                          parameter, updated in place; exactly one of the two is not NULL
 *                          (else TTE_ERR_ARG, and nothing changes)
 * @param[out] image_output tte_sgd_update_f32 only: the int8 weights [rows, h, w, C] the
 *                          forward pass reads; the trained columns are rewritten
 *                          (tte_train_common.h's tte_master_to_s8 remakes a whole image)
 * @param[in,out] draws_inout  tte_sgd_update_int only: NULL rounds to nearest; else the
 *                          stochastic-rounding counter, advanced by the elements updated
 * @param[in,out] velocity_inout  NULL: plain SGD; else float32 [rows, h, w, n] (grad_dims with
 *                          every row), the velocity of each trained element, updated
 * ------------------------------------------------------------------------------------- */
tte_status tte_sgd_update_f32(const tte_ctx *ctx, const tte_sgd_params *p,
                              const tte_dims *param_dims, const tte_dims *grad_dims,
                              const float *grad, const float *grad_scale,
                              const int32_t *channels, const tte_rows *rows, float *param_inout,
                              int8_t *image_output, float *velocity_inout);
int32_t tte_sgd_update_f32_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                         const tte_dims *output_dims);
tte_status tte_sgd_update_int(const tte_ctx *ctx, const tte_sgd_params *p,
                              const tte_dims *param_dims, const tte_dims *grad_dims,
                              const float *grad, const float *grad_scale, const int32_t *channels,
                              const tte_rows *rows, int8_t *param_s8_inout, int32_t *param_s32_inout,
                              uint32_t *draws_inout, float *velocity_inout);
int32_t tte_sgd_update_int_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                         const tte_dims *output_dims);

/* =======================================================================================
 * SAVED STATE: what the forward pass keeps for backward instead of a whole int8 activation
 * (tinyengine_compiler/passes/lifetimes.py, backward_reads):
 *   `<t>.mask`          tte_pack_mask_s8 when t is produced, read by tte_clamp_grad_mask_f32
 *   `<t>.kept.<reader>` tte_gather_channels_s8 when t is produced, read by the weight
 *                       gradient: tte_conv2d_grad_weight_f32 with channels = NULL (the
 *                       gathered tensor is all it needs, same sums in the same order), or
 *                       tte_depthwise_conv2d_grad_weight_kept_f32 (the gradient still has
 *                       every channel, so it takes the kept list to pair them).
 * The packed mask: element i (flat, NHWC order) is bit (i % 8) of byte i / 8, least
 * significant bit first (numpy.packbits(..., bitorder="little")); the unused high bits of
 * the last byte are 0.  `<x>.argmax.<reader>` is made by tte_max_pool2d_argmax_s8 when the
 * max pool runs, and read by tte_max_pool2d_grad_f32: one byte a window instead of the pool's
 * input.  Python oracle: reference/backward/saved_state.py.  All need no scratch (their
 * _scratch_bytes return 0; ctx may be NULL).
 * ===================================================================================== */

/* ---------------------------------------------------------------------------------------
 * PACK_MASK: output bit i = act_min < input[i] < act_max, the CLAMP_GRAD mask.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            act_min, act_max of the forward clamp (int8 domain)
 * @param[in]  dims         shape of the input, count = n * h * w * c elements
 * @param[in]  input        int8, the forward output y, count values
 * @param[out] output       uint8 [ceil(count / 8)] packed bits (layout above); must not
 *                          overlap the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_pack_mask_s8(const tte_ctx *ctx, const tte_clamp_grad_params *p,
                            const tte_dims *dims, const int8_t *input, uint8_t *output);
int32_t tte_pack_mask_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                       const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * CLAMP_GRAD from the packed mask: output[i] = grad[i] where bit i is 1, else +0.0f;
 * bit-identical to tte_clamp_grad_f32 on the y the mask was packed from.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  dims         shape of grad and output, count = n * h * w * c elements
 * @param[in]  grad         float32 gradient of the clamp's output
 * @param[in]  mask         uint8 [ceil(count / 8)], from tte_pack_mask_s8
 * @param[out] output       float32; MAY ALIAS grad exactly (in place)
 * ------------------------------------------------------------------------------------- */
tte_status tte_clamp_grad_mask_f32(const tte_ctx *ctx, const tte_dims *dims, const float *grad,
                                   const uint8_t *mask, float *output);
int32_t tte_clamp_grad_mask_f32_scratch_bytes(const tte_dims *input_dims,
                                              const tte_dims *filter_dims,
                                              const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * GATHER_CHANNELS: output[p, j] = input[p, channels[j]] for every pixel p = (n, y, x).
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  input_dims   {N, H, W, C}
 * @param[in]  input        int8 NHWC [N, H, W, C]
 * @param[in]  channels     int32 [n], strictly increasing, < C, 1 <= n <= C; not NULL
 * @param[in]  output_dims  {N, H, W, n}
 * @param[out] output       int8 NHWC [N, H, W, n] (the input's quantization); must not
 *                          overlap the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_gather_channels_s8(const tte_ctx *ctx, const tte_dims *input_dims,
                                  const int8_t *input, const int32_t *channels,
                                  const tte_dims *output_dims, int8_t *output);
int32_t tte_gather_channels_s8_scratch_bytes(const tte_dims *input_dims,
                                             const tte_dims *filter_dims,
                                             const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * DEPTHWISE_CONV2D_GRAD_WEIGHT from the gathered input.  dw[0, kh, kw, j] starts at +0 and
 * gets grad[oy, ox, channels[j]] * real(x_kept[oy * sh + kh - pad_top, ox * sw + kw -
 * pad_left, j]) added for each output pixel in row-major order: bit-identical to
 * tte_depthwise_conv2d_grad_weight_f32 on the full input with the same channels.
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            strides >= 1, pads >= 0, the saved input's scale and zero point
 * @param[in]  input_dims   {1, H, W, n} (batch 1)
 * @param[in]  input        int8 NHWC, the kept channels of the saved forward input
 * @param[in]  grad_dims    {1, OH, OW, C}, every channel
 * @param[in]  grad         float32 NHWC
 * @param[in]  channels     int32 [n] the kept channels, increasing, < C; not NULL
 * @param[in]  output_dims  {1, KH, KW, n}
 * @param[out] output       float32 [1, KH, KW, n]; must not alias an input
 * ------------------------------------------------------------------------------------- */
tte_status tte_depthwise_conv2d_grad_weight_kept_f32(const tte_ctx *ctx,
                                                     const tte_conv_grad_params *p,
                                                     const tte_dims *input_dims,
                                                     const int8_t *input,
                                                     const tte_dims *grad_dims, const float *grad,
                                                     const int32_t *channels,
                                                     const tte_dims *output_dims, float *output);
int32_t tte_depthwise_conv2d_grad_weight_kept_f32_scratch_bytes(const tte_dims *input_dims,
                                                                const tte_dims *filter_dims,
                                                                const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * MAX_POOL2D ARGMAX: output[oy, ox, c] = kh * KW + kw of the window's first largest valid tap
 * (taps in row-major order; padding never wins).
 *
 * @param[in]  ctx          scratch; unused, may be NULL
 * @param[in]  p            the pool's strides and pads (act_* unused)
 * @param[in]  input_dims   {1, H, W, C}
 * @param[in]  input        int8 NHWC: the pool's input
 * @param[in]  filter_dims  {1, KH, KW, 1}, KH * KW <= 256
 * @param[in]  output_dims  {1, OH, OW, C}
 * @param[out] output       uint8 NHWC; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_max_pool2d_argmax_s8(const tte_ctx *ctx, const tte_pool_params *p, const tte_dims *input_dims,
                                    const int8_t *input, const tte_dims *filter_dims, const tte_dims *output_dims,
                                    uint8_t *output);
int32_t tte_max_pool2d_argmax_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                               const tte_dims *output_dims);

/* =======================================================================================
 * FROZEN-PREFIX MEMORY SAVERS: kernels that never hold a whole intermediate tensor, working
 * one channel (the fused op: a channel pair) at a time through scratch planes
 * (passes/fuse_frozen_prefix.py, passes/inplace.py; the planner reserves as `<node>.scratch`
 * what the ..._scratch_bytes() below return, through tinyengine_compiler/registry.py).
 * The scratch context is required here: ctx->buf holds ctx->size bytes, 4-byte aligned, and
 * a smaller (or NULL) context returns TTE_ERR_SCRATCH with the output untouched.  Every
 * kernel is bit-identical to the unfused / out-of-place kernels it replaces.
 * ===================================================================================== */

/* ---------------------------------------------------------------------------------------
 * FUSED_EXPAND_DEPTHWISE: a 1x1 expand CONV2D (stride 1, no pads) then a DEPTHWISE_CONV2D,
 * two expanded channels at a time: bit-identical to tte_conv2d_1x1_s8 with (expand_p,
 * expand_q) followed by tte_depthwise_conv2d_s8 with (dw_p, dw_q)
 * (reference/ops/fused_expand_depthwise.py).  scratch_bytes = 2 * H * W (two expanded
 * channels; input_dims is the fused node's input, filter_dims may be NULL).
 *
 * @param[in]  ctx          scratch of >= 2 * H * W bytes
 * @param[in]  expand_p     the expand conv: strides 1, pads 0; input_offset = -zp(x);
 *                          output_offset = zp(expanded); act_min/max = its clamp
 * @param[in]  expand_q     per expanded channel multiplier[C_exp] and shift[C_exp]
 * @param[in]  dw_p         the depthwise conv: strides >= 1, pads >= 0; input_offset must be
 *                          -expand_p->output_offset; output_offset = zp(y); its clamp
 * @param[in]  dw_q         per expanded channel multiplier[C_exp] and shift[C_exp]
 * @param[in]  input_dims   {N, H, W, C_in}; H + pad_top + pad_bottom >= KH, same for W
 * @param[in]  input        int8 NHWC [N, H, W, C_in]
 * @param[in]  expand_filter_dims  {C_exp, 1, 1, C_in}
 * @param[in]  expand_filter       int8 OHWI [C_exp, 1, 1, C_in], symmetric
 * @param[in]  expand_bias  int32 [C_exp]; NULL means all zero
 * @param[in]  dw_filter_dims      {1, KH, KW, C_exp}
 * @param[in]  dw_filter    int8 1HWC [1, KH, KW, C_exp], symmetric
 * @param[in]  dw_bias      int32 [C_exp]; NULL means all zero
 * @param[in]  output_dims  {N, OH, OW, C_exp} as for tte_depthwise_conv2d_s8 on [N, H, W, C_exp]
 * @param[out] output       int8 NHWC [N, OH, OW, C_exp]; must not alias the input
 * ------------------------------------------------------------------------------------- */
tte_status tte_fused_expand_depthwise_s8(
    const tte_ctx *ctx, const tte_conv_params *expand_p, const tte_per_channel_quant *expand_q,
    const tte_conv_params *dw_p, const tte_per_channel_quant *dw_q, const tte_dims *input_dims,
    const int8_t *input, const tte_dims *expand_filter_dims, const int8_t *expand_filter,
    const int32_t *expand_bias, const tte_dims *dw_filter_dims, const int8_t *dw_filter,
    const int32_t *dw_bias, const tte_dims *output_dims, int8_t *output);
int32_t tte_fused_expand_depthwise_s8_scratch_bytes(const tte_dims *input_dims,
                                                    const tte_dims *filter_dims,
                                                    const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * DEPTHWISE_CONV2D in place (a node with in_place=<its input>): the arguments and result of
 * tte_depthwise_conv2d_s8, except that the output MAY ALIAS THE INPUT EXACTLY (same address;
 * any partial overlap is not allowed) and one input channel is staged in scratch.
 * scratch_bytes = H * W (input_dims is the input's; filter_dims may be NULL).
 *
 * @param[in]  ctx          scratch of >= H * W bytes
 * @param[in]  p, q, input_dims, input, filter_dims, filter, bias  as tte_depthwise_conv2d_s8
 *                          (any stride, any pads), and OH * OW <= H * W
 * @param[in]  output_dims  {N, OH, OW, C}
 * @param[out] output       int8 NHWC [N, OH, OW, C]; MAY ALIAS the input exactly (in place:
 *                          the output then occupies the buffer's first N * OH * OW * C bytes)
 * ------------------------------------------------------------------------------------- */
tte_status tte_depthwise_conv2d_inplace_s8(const tte_ctx *ctx, const tte_conv_params *p,
                                           const tte_per_channel_quant *q,
                                           const tte_dims *input_dims, const int8_t *input,
                                           const tte_dims *filter_dims, const int8_t *filter,
                                           const int32_t *bias, const tte_dims *output_dims,
                                           int8_t *output);
int32_t tte_depthwise_conv2d_inplace_s8_scratch_bytes(const tte_dims *input_dims,
                                                      const tte_dims *filter_dims,
                                                      const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * DEPTHWISE_CONV2D_GRAD_INPUT in place (in_place=<its incoming gradient>), float32: the
 * arguments and result of tte_depthwise_conv2d_grad_input_f32, bit for bit, except that the
 * output MAY ALIAS grad EXACTLY and one gradient channel is staged in scratch.
 * scratch_bytes = OH * OW * 4 (input_dims is the kernel's input, the gradient {N, OH, OW, C};
 * filter_dims may be NULL).
 *
 * @param[in]  ctx          scratch of >= OH * OW * 4 bytes, 4-byte aligned
 * @param[in]  p, grad_dims, grad, filter_dims, filter, filter_scale  as
 *                          tte_depthwise_conv2d_grad_input_f32, and H * W <= OH * OW
 * @param[in]  output_dims  {N, H, W, C}
 * @param[out] output       float32 NHWC dx; MAY ALIAS grad exactly (in place: dx then
 *                          occupies the buffer's first N * H * W * C floats)
 * ------------------------------------------------------------------------------------- */
tte_status tte_depthwise_conv2d_grad_input_inplace_f32(
    const tte_ctx *ctx, const tte_conv_grad_params *p, const tte_dims *grad_dims,
    const float *grad, const tte_dims *filter_dims, const int8_t *filter,
    const float *filter_scale, const tte_dims *output_dims, float *output);
int32_t tte_depthwise_conv2d_grad_input_inplace_f32_scratch_bytes(const tte_dims *input_dims,
                                                                  const tte_dims *filter_dims,
                                                                  const tte_dims *output_dims);

/* =======================================================================================
 * SPLIT STORAGE: a conv weight trained for some of its input channels keeps only those
 * columns in SRAM, the rest stay in Flash (tte_types.h tte_split_filter).  The kernels that
 * read such a weight take the split filter and compute exactly what their whole-tensor twin
 * computes on the weight it describes.  The trained columns train with tte_sgd_update_* as a
 * whole [C_out, KH, KW, n] parameter (channels NULL).
 * ===================================================================================== */

/** The widest weight row (C_in) the split kernels put together on the stack. */
#define TTE_SPLIT_MAX_IN 640

/** A split filter is well formed for C_in input channels: 1 <= n <= C_in, channels strictly
 *  increasing and < C_in. */
static inline int32_t tte_split_filter_ok(const tte_split_filter *f, int32_t in_c)
{
    int32_t j;
    if (f == NULL || f->frozen == NULL || f->trained == NULL || f->channels == NULL || f->n < 1 || f->n > in_c) {
        return 0;
    }
    for (j = 0; j < f->n; j++) {
        if (f->channels[j] < 0 || f->channels[j] >= in_c || (j > 0 && f->channels[j] <= f->channels[j - 1])) {
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * CONV2D with a 1x1 kernel on a split weight: tte_conv2d_1x1_s8, bit for bit, on the weight
 * the split filter describes.
 *
 * @param[in]  ctx, p, q, input_dims, input, bias, output_dims  as tte_conv2d_1x1_s8
 * @param[in]  filter_dims  {C_out, 1, 1, C_in}, C_in <= TTE_SPLIT_MAX_IN
 * @param[in]  filter       the split weight (tte_split_filter_ok)
 * @param[out] output       int8 NHWC; must not alias the input
 * @return TTE_ERR_ARG as tte_conv2d_1x1_s8, or for a malformed split filter or C_in too wide.
 * ------------------------------------------------------------------------------------- */
tte_status tte_conv2d_1x1_split_s8(const tte_ctx *ctx, const tte_conv_params *p,
                                   const tte_per_channel_quant *q, const tte_dims *input_dims,
                                   const int8_t *input, const tte_dims *filter_dims,
                                   const tte_split_filter *filter, const int32_t *bias,
                                   const tte_dims *output_dims, int8_t *output);
int32_t tte_conv2d_1x1_split_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                              const tte_dims *output_dims);

/* ---------------------------------------------------------------------------------------
 * CONV2D_GRAD_INPUT of a 1x1, stride 1, unpadded conv on a split weight:
 * tte_conv2d_grad_input_f32, bit for bit, on the weight the split filter describes.
 *
 * @param[in]  ctx, grad_dims, grad, filter_scale, output_dims  as tte_conv2d_grad_input_f32
 * @param[in]  p            strides 1 and pads 0 (input_* unused)
 * @param[in]  filter_dims  {C_out, 1, 1, C_in}
 * @param[in]  filter       the split weight (tte_split_filter_ok)
 * @param[out] output       float32 NHWC dx [N, H, W, C_in]; must not alias grad
 * ------------------------------------------------------------------------------------- */
tte_status tte_conv2d_grad_input_split_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                           const tte_dims *grad_dims, const float *grad,
                                           const tte_dims *filter_dims, const tte_split_filter *filter,
                                           const float *filter_scale, const tte_dims *output_dims,
                                           float *output);
int32_t tte_conv2d_grad_input_split_f32_scratch_bytes(const tte_dims *input_dims,
                                                      const tte_dims *filter_dims,
                                                      const tte_dims *output_dims);

#ifdef __cplusplus
}
#endif

#endif /* TTE_KERNELS_H */
