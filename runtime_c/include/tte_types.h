/*
 * tte_types.h: shared types of the tinyengine-compiler runtime kernels.
 *
 * Conventions (every kernel):
 *   - Activations are int8, NHWC, batch first; CONV2D weights are OHWI, DEPTHWISE_CONV2D
 *     weights are 1HWC (depth multiplier 1), FULLY_CONNECTED weights are [out, in].
 *   - Quantization follows TFLite / CMSIS-NN: real = scale * (q - zero_point).  Offsets are
 *     passed already negated for inputs (input_offset = -input_zero_point, range [-127, 128])
 *     and as is for outputs (output_offset = output_zero_point, range [-128, 127]).
 *   - A requantization multiplier is a Q31 integer in [2^30, 2^31) (or 0) with a shift in
 *     [-31, 30]; shift > 0 is a left shift.  See tte_requant.h.
 *   - act_min / act_max are the fused output clamp in the output's int8 domain,
 *     -128 <= act_min <= act_max <= 127.
 */
#ifndef TTE_TYPES_H
#define TTE_TYPES_H

#include <stdint.h>

/* The runtime's version: generated code names the one it was written for in its header
 * comment, and `tte --version` prints it (tinyengine_compiler.resources reads it here).
 * It changes when a kernel's signature or a params struct changes. */
#define TTE_RUNTIME_VERSION "0.2.0"

#ifdef __cplusplus
extern "C" {
#endif

/** Return value of every kernel. */
typedef enum {
    TTE_OK = 0,           /**< success: the output was written */
    TTE_ERR_ARG = -1,     /**< inconsistent dims or parameters: the output is untouched */
    TTE_ERR_SCRATCH = -2  /**< the scratch context is smaller than ..._scratch_bytes() */
} tte_status;

/** A 4-D shape.  For activations: {batch, height, width, channels}. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} tte_dims;

/** Scratch memory handed to a kernel; buf may be NULL when size is 0. */
typedef struct {
    void *buf;
    int32_t size;
} tte_ctx;

/** CONV2D and DEPTHWISE_CONV2D parameters (dilation 1, groups 1 / depth multiplier 1). */
typedef struct {
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_top;
    int32_t pad_left;
    int32_t pad_bottom;
    int32_t pad_right;
    int32_t input_offset;  /**< -input zero point, [-127, 128] */
    int32_t output_offset; /**< output zero point, [-128, 127] */
    int32_t act_min;       /**< [-128, 127] */
    int32_t act_max;       /**< [act_min, 127] */
} tte_conv_params;

/** FULLY_CONNECTED parameters. */
typedef struct {
    int32_t input_offset;  /**< -input zero point, [-127, 128] */
    int32_t output_offset; /**< output zero point, [-128, 127] */
    int32_t act_min;
    int32_t act_max;
} tte_fc_params;

/** One (multiplier, shift) pair per output channel. */
typedef struct {
    const int32_t *multiplier; /**< Q31, [2^30, 2^31) or 0 */
    const int32_t *shift;      /**< [-31, 30], > 0 shifts left */
} tte_per_channel_quant;

/** ADD parameters: TFLite / CMSIS-NN int8 addition.
 *  out = clamp(requant(requant((a + input1_offset) << left_shift, input1_multiplier,
 *              input1_shift) + requant((b + input2_offset) << left_shift, input2_multiplier,
 *              input2_shift), output_multiplier, output_shift) + output_offset). */
typedef struct {
    int32_t input1_offset;     /**< -zero point of input 1, [-127, 128] */
    int32_t input1_multiplier;
    int32_t input1_shift;      /**< <= 0 in practice (multiplier < 1) */
    int32_t input2_offset;     /**< -zero point of input 2, [-127, 128] */
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t left_shift;        /**< [0, 22]; TFLite uses 20 */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;     /**< output zero point, [-128, 127] */
    int32_t act_min;
    int32_t act_max;
} tte_add_params;

/** MUL parameters: TFLite int8 multiplication.
 *  out = clamp(requant((a + input1_offset) * (b + input2_offset), output_multiplier,
 *              output_shift) + output_offset), the multiplier of s_a * s_b / s_out. */
typedef struct {
    int32_t input1_offset;     /**< -zero point of input 1, [-127, 128] */
    int32_t input2_offset;     /**< -zero point of input 2, [-127, 128] */
    int32_t output_multiplier; /**< Q31 */
    int32_t output_shift;
    int32_t output_offset;     /**< output zero point, [-128, 127] */
    int32_t act_min;
    int32_t act_max;
} tte_mul_params;

/** AVG_POOL2D parameters (kernel size comes in as dims). */
typedef struct {
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_top;
    int32_t pad_left;
    int32_t pad_bottom;
    int32_t pad_right;
    int32_t act_min;
    int32_t act_max;
} tte_pool_params;

/** AVG_POOL2D with different input and output quantization: one (multiplier, shift) per
 *  possible number of valid taps, entry count - 1 holding quantize_multiplier(s_in / (s_out *
 *  count)), count = 1 .. KH * KW (windows at the border see fewer taps). */
typedef struct {
    int32_t input_offset;      /**< -input zero point, [-127, 128] */
    int32_t output_offset;     /**< output zero point, [-128, 127] */
    const int32_t *multiplier; /**< [KH * KW], Q31 */
    const int32_t *shift;      /**< [KH * KW] */
} tte_avg_requant;

/** GLOBAL_AVG_POOL parameters (see tte_kernels.h). */
typedef struct {
    int32_t input_offset;  /**< -input zero point, [-127, 128] */
    int32_t output_offset; /**< output zero point, [-128, 127] */
    int32_t multiplier;    /**< Q31 of s_in / (s_out * H * W); 0: the same quantization in and out */
    int32_t shift;
    int32_t act_min;
    int32_t act_max;
} tte_gap_params;

/* =======================================================================================
 * TRAINING (float32): parameters of the backward and update kernels (tte_kernels.h, second
 * part).  Gradients are float32; saved int8 activations are read as
 * real = float32(q - zero_point) * scale (an exact integer difference, one rounded multiply);
 * int8 weights are symmetric and read as float32(q) * scale[channel].
 * ===================================================================================== */

/** REAL_LOGITS: the classifier's input zero point (its per-class scales are an array). */
typedef struct {
    int32_t input_offset; /**< -input zero point, [-127, 128] */
} tte_real_logits_params;

/** SOFTMAX_CROSS_ENTROPY: the label smoothing (the logits are float32 real values). */
typedef struct {
    float label_smoothing; /**< e in [0, 1); the target is e / K, plus 1 - e at the label */
} tte_softmax_ce_params;

/** CLAMP_GRAD: the forward clamp, in the saved output's int8 domain. */
typedef struct {
    int32_t act_min; /**< [-128, 127] */
    int32_t act_max; /**< [act_min, 127] */
} tte_clamp_grad_params;

/** CONV2D / DEPTHWISE_CONV2D gradients: the forward geometry and the saved input's
 *  quantization (read by the weight gradients only). */
typedef struct {
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_top;
    int32_t pad_left;
    int32_t pad_bottom;
    int32_t pad_right;
    float input_scale;        /**< scale of the saved int8 input, > 0 */
    int32_t input_zero_point; /**< its zero point, [-128, 127] */
} tte_conv_grad_params;

/** FULLY_CONNECTED weight gradient: the saved input's quantization. */
typedef struct {
    float input_scale;        /**< scale of the saved int8 input, > 0 */
    int32_t input_zero_point; /**< its zero point, [-128, 127] */
} tte_fc_grad_params;

/** MUL gradient: the quantization of the saved other operand. */
typedef struct {
    float other_scale;        /**< > 0 */
    int32_t other_zero_point; /**< [-128, 127] */
} tte_mul_grad_params;

/** Which grad_scale entry an SGD update multiplies a gradient element by. */
typedef enum {
    TTE_SCALE_PER_TENSOR = 0, /**< grad_scale[0] for every element */
    TTE_SCALE_PER_ROW = 1,    /**< grad_scale[n]: OHWI / [out, in] weights, bias as {C, 1, 1, 1} */
    TTE_SCALE_PER_COLUMN = 2  /**< grad_scale[channel of the last axis]: 1HWC depthwise weights */
} tte_scale_mode;

/** An int8 value moved to another quantization, unchanged in the real domain (a max pool's
 *  output, a channel copied into a concat):
 *  out = tte_requantize(in + input_offset, multiplier, shift) + output_offset. */
typedef struct {
    int32_t input_offset;  /**< -input zero point, [-127, 128] */
    int32_t output_offset; /**< output zero point, [-128, 127] */
    int32_t multiplier;    /**< Q31 of s_in / s_out */
    int32_t shift;
} tte_rescale;

/** A conv weight whose trained input channels live apart from the rest (a partial sparse
 *  update, the split storage of tinyengine_compiler/codegen): the frozen tensor stays in
 *  Flash, only the trained columns are in SRAM.  Element [o, kh, kw, c] is
 *  trained[((o * KH + kh) * KW + kw) * n + j] when c == channels[j], else the same element
 *  of frozen. */
typedef struct {
    const int8_t *frozen;    /**< OHWI [C_out, KH, KW, C_in] as compiled; its trained columns are not read */
    const int8_t *trained;   /**< [C_out, KH, KW, n]: the trained columns, updated in place */
    const int32_t *channels; /**< [n] the trained input channels, strictly increasing, < C_in */
    int32_t n;               /**< 1 <= n <= C_in */
} tte_split_filter;

/** A block of output channels: the rows [begin, begin + count) of a weight (its first axis)
 *  and of its gradient.  A weight gradient and its SGD update run one block at a time, so the
 *  whole gradient never exists (tinyengine_compiler/passes/reorder.py, fused updates). */
typedef struct {
    int32_t begin; /**< >= 0 */
    int32_t count; /**< >= 1, begin + count <= rows */
} tte_rows;

/** SGD_UPDATE: learning rate, the axis of the per-channel grad_scale, the momentum (used by a
 *  call given a velocity) and the step clip. */
typedef struct {
    float lr;           /**< learning rate */
    int32_t scale_mode; /**< a tte_scale_mode */
    float momentum;     /**< v = momentum * v + g_bar, in [0, 1) */
    float step_clip;    /**< >= 0; 0: off.  A row whose largest |step| exceeds step_clip * max(largest |P|, 1)
                             has its steps (and the velocities it stored) scaled down to that bound (tte_kernels.h,
                             SGD_UPDATE) */
} tte_sgd_params;

#ifdef __cplusplus
}
#endif

#endif /* TTE_TYPES_H */
