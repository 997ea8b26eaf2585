/*
 * Title:       tte_depthwise_conv2d_s8.c (CMSIS-NN backend)
 * Description: int8 depthwise 2-D convolution (depth multiplier 1) as one call to CMSIS-NN's
 *              arm_depthwise_conv_wrapper_s8 (its 3x3 kernel for 3x3 with pads <= 1, its
 *              optimized or generic kernel otherwise); bit-identical to src/ref.
 *
 * Layout:      input NHWC [N, H, W, C]; weights 1HWC [1, KH, KW, C] (CMSIS-NN's filter dims
 *              {1, KH, KW, C_out}); bias int32 [C]; output NHWC [N, OH, OW, C].
 * Quantization (per channel c), as src/ref/tte_depthwise_conv2d_s8.c:
 *   acc = bias[c] + sum_{valid taps} (in + input_offset) * w
 *   out = clamp(requant(acc, mult[c], shift[c]) + output_offset, act_min, act_max)
 *
 * Scratch: arm_depthwise_conv_wrapper_s8_get_buffer_size bytes (C * KH * KW int16 on DSP
 * cores for kernels other than 3x3), from ctx or the shared CMSIS scratch.
 */
#include "tte_cmsis.h"

/* The optimized kernel's buffer, an upper bound of the wrapper's for depth multiplier 1. */
int32_t tte_depthwise_conv2d_s8_scratch_bytes(const tte_dims *input_dims,
                                              const tte_dims *filter_dims,
                                              const tte_dims *output_dims)
{
    const cmsis_nn_dims in = tte_cmsis_dims(input_dims), flt = tte_cmsis_dims(filter_dims);
    (void)output_dims;
    return arm_depthwise_conv_s8_opt_get_buffer_size(&in, &flt);
}

tte_status tte_depthwise_conv2d_s8(const tte_ctx *ctx, const tte_conv_params *p,
                                   const tte_per_channel_quant *q, const tte_dims *input_dims,
                                   const int8_t *input, const tte_dims *filter_dims,
                                   const int8_t *filter, const int32_t *bias,
                                   const tte_dims *output_dims, int8_t *output)
{
    const cmsis_nn_conv_params conv = tte_cmsis_conv_params(p);
    const cmsis_nn_per_channel_quant_params quant = tte_cmsis_quant(q);
    const cmsis_nn_dims in = tte_cmsis_dims(input_dims), flt = tte_cmsis_dims(filter_dims);
    const cmsis_nn_dims out = tte_cmsis_dims(output_dims);
    const cmsis_nn_dims bias_dims = {1, 1, 1, output_dims->c};
    cmsis_nn_dw_conv_params dw;
    cmsis_nn_context c;

    if (filter_dims->n != 1 || filter_dims->c != input_dims->c ||
        output_dims->c != input_dims->c ||
        output_dims->n != input_dims->n ||
        !tte_conv_geometry_ok(p, input_dims, filter_dims, output_dims)) {
        return TTE_ERR_ARG;
    }
    dw.input_offset = conv.input_offset;
    dw.output_offset = conv.output_offset;
    dw.ch_mult = 1;
    dw.stride = conv.stride;
    dw.padding = conv.padding;
    dw.dilation = conv.dilation;
    dw.activation = conv.activation;
    if (tte_cmsis_context(ctx, arm_depthwise_conv_wrapper_s8_get_buffer_size(&dw, &in, &flt, &out),
                          &c) != TTE_OK) {
        return TTE_ERR_SCRATCH;
    }
    return tte_cmsis_status(arm_depthwise_conv_wrapper_s8(&c, &dw, &quant, &in, input, &flt,
                                                          filter, &bias_dims, bias, &out, output));
}
