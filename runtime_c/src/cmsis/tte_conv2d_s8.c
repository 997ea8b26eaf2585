/*
 * Title:       tte_conv2d_s8.c (CMSIS-NN backend)
 * Description: Generic int8 2-D convolution as one call to CMSIS-NN's arm_convolve_wrapper_s8,
 *              which picks its 1x1, 1xN or im2col kernel; bit-identical to src/ref.
 *
 * Layout:      input NHWC [N, H, W, C_in]; weights OHWI [C_out, KH, KW, C_in] (CMSIS-NN's
 *              filter dims {C_out, KH, KW, C_in}); bias int32 [C_out]; output NHWC.
 * Quantization (per output channel c), as src/ref/tte_conv2d_s8.c:
 *   acc = bias[c] + sum_{valid taps} (in + input_offset) * w
 *   out = clamp(requant(acc, mult[c], shift[c]) + output_offset, act_min, act_max)
 *   with CMSIS-NN's arm_nn_requantize under CMSIS_NN_USE_SINGLE_ROUNDING (tte_cmsis.h).
 *
 * Scratch: arm_convolve_wrapper_s8_get_buffer_size bytes (an im2col buffer on DSP / Helium
 * builds), from ctx or the shared CMSIS scratch (tte_cmsis_scratch.c).
 */
#include "tte_cmsis.h"

/* From dims alone the wrapper's choice of kernel is unknown: the generic kernel's buffer,
 * which bounds the 1x1 ones and (for input height > 1, every CNN layer) the 1xN one. */
int32_t tte_conv2d_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                    const tte_dims *output_dims)
{
    const cmsis_nn_dims in = tte_cmsis_dims(input_dims), flt = tte_cmsis_dims(filter_dims);
    (void)output_dims;
    return arm_convolve_s8_get_buffer_size(&in, &flt);
}

tte_status tte_conv2d_s8(const tte_ctx *ctx, const tte_conv_params *p,
                         const tte_per_channel_quant *q, const tte_dims *input_dims,
                         const int8_t *input, const tte_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const tte_dims *output_dims, int8_t *output)
{
    const cmsis_nn_conv_params conv = tte_cmsis_conv_params(p);
    const cmsis_nn_per_channel_quant_params quant = tte_cmsis_quant(q);
    const cmsis_nn_dims in = tte_cmsis_dims(input_dims), flt = tte_cmsis_dims(filter_dims);
    const cmsis_nn_dims out = tte_cmsis_dims(output_dims);
    const cmsis_nn_dims bias_dims = {1, 1, 1, output_dims->c};
    cmsis_nn_context c;

    if (filter_dims->c != input_dims->c || filter_dims->n != output_dims->c ||
        output_dims->n != input_dims->n ||
        !tte_conv_geometry_ok(p, input_dims, filter_dims, output_dims)) {
        return TTE_ERR_ARG;
    }
    if (tte_cmsis_context(ctx, arm_convolve_wrapper_s8_get_buffer_size(&conv, &in, &flt, &out),
                          &c) != TTE_OK) {
        return TTE_ERR_SCRATCH;
    }
    return tte_cmsis_status(arm_convolve_wrapper_s8(&c, &conv, &quant, &in, input, &flt, filter,
                                                    &bias_dims, bias, &out, output));
}
