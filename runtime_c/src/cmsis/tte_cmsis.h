/*
 * tte_cmsis.h: what the CMSIS-NN backend's adapters share (internal; not part of the tte_*.h API).
 *
 * The `cmsis_nn` backend (TTE_KERNELS := cmsis_nn in tte.mk) swaps these files in for the
 * portable ones of src/ref, under the same file and function names (tte_kernels.h), each a thin
 * call to the current CMSIS-NN API (https://github.com/ARM-software/CMSIS-NN, which the user
 * supplies as CMSIS_NN_ROOT; nothing of it is copied here):
 *
 *   tte_conv2d_s8, tte_conv2d_1x1_s8   arm_convolve_wrapper_s8 (+ _get_buffer_size)
 *   tte_depthwise_conv2d_s8            arm_depthwise_conv_wrapper_s8 (+ _get_buffer_size)
 *   tte_fully_connected_s8             arm_fully_connected_wrapper_s8, per channel
 *                                      (+ arm_fully_connected_s8_get_buffer_size, and
 *                                      arm_vector_sum_s8 when that is > 0, i.e. on Helium)
 *   tte_add_s8                         arm_elementwise_add_s8
 *
 * Every other kernel (global average pooling, the frozen-prefix fused and in-place kernels,
 * every float32 training kernel) stays the portable one in both backends.
 *
 * Numerics.  Our requantization is CMSIS-NN's single-rounding arm_nn_requantize
 * (tte_requant.h), so both backends give the same int8 outputs bit for bit only when CMSIS-NN
 * is compiled with -DCMSIS_NN_USE_SINGLE_ROUNDING (tte.mk puts it in TTE_CFLAGS; this header
 * refuses to compile without it).  The parameter conventions are the same on both sides:
 * input_offset = -zero_point(in), output_offset = zero_point(out), per-channel Q31 multiplier
 * with shift > 0 a left shift.  CMSIS-NN takes only the top and left pads; the bottom and
 * right ones follow from the output dims, which the adapters check as the portable kernels do.
 *
 * Scratch.  A CMSIS-NN kernel asks for its scratch through arm_*_get_buffer_size (which
 * depends on the ISA it is built for: plain C, DSP, Helium).  The adapter asks that function at
 * run time and uses the tte_ctx it is given: a `<node>.scratch` buffer that the planner placed
 * in the arena, sized by the adapter's _scratch_bytes formula for the Cortex-M7
 * (tinyengine_compiler/registry.py, each kernel's cmsis_scratch_bytes, checked against CMSIS-NN's own
 * functions).  There is no static scratch; a kernel whose scratch does not fit returns
 * TTE_ERR_SCRATCH with its output untouched.
 */
#ifndef TTE_CMSIS_H
#define TTE_CMSIS_H

#include "arm_nnfunctions.h"
#include "internal/tte_checks.h"
#include "tte_kernels.h"

#ifndef CMSIS_NN_USE_SINGLE_ROUNDING
#error "the cmsis_nn backend needs -DCMSIS_NN_USE_SINGLE_ROUNDING to match the portable kernels bit for bit"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** A CMSIS-NN context of at least `need` bytes: ctx's buffer (the arena scratch the planner
 *  placed for this call); TTE_ERR_SCRATCH when it is smaller. */
tte_status tte_cmsis_context(const tte_ctx *ctx, int32_t need, cmsis_nn_context *out);

static inline cmsis_nn_dims tte_cmsis_dims(const tte_dims *d)
{
    const cmsis_nn_dims out = {d->n, d->h, d->w, d->c};
    return out;
}

/** cmsis_nn_conv_params of tte_conv_params (dilation 1; CMSIS-NN's padding is top / left). */
static inline cmsis_nn_conv_params tte_cmsis_conv_params(const tte_conv_params *p)
{
    cmsis_nn_conv_params c;
    c.input_offset = p->input_offset;
    c.output_offset = p->output_offset;
    c.stride.h = p->stride_h;
    c.stride.w = p->stride_w;
    c.padding.h = p->pad_top;
    c.padding.w = p->pad_left;
    c.dilation.h = 1;
    c.dilation.w = 1;
    c.activation.min = p->act_min;
    c.activation.max = p->act_max;
    return c;
}

/** CMSIS-NN's per-channel struct has non-const pointers; it only reads through them. */
static inline cmsis_nn_per_channel_quant_params tte_cmsis_quant(const tte_per_channel_quant *q)
{
    cmsis_nn_per_channel_quant_params c;
    c.multiplier = (int32_t *)q->multiplier;
    c.shift = (int32_t *)q->shift;
    return c;
}

static inline tte_status tte_cmsis_status(arm_cmsis_nn_status s)
{
    return s == ARM_CMSIS_NN_SUCCESS ? TTE_OK : TTE_ERR_ARG;
}

#ifdef __cplusplus
}
#endif

#endif /* TTE_CMSIS_H */
