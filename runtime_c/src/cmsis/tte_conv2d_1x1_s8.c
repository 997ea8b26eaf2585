/*
 * Title:       tte_conv2d_1x1_s8.c (CMSIS-NN backend)
 * Description: Pointwise (1x1, no padding) int8 convolution through CMSIS-NN's
 *              arm_convolve_wrapper_s8, which takes its 1x1 kernels for these shapes
 *              (arm_convolve_1x1_s8_fast at stride 1, arm_convolve_1x1_s8 otherwise);
 *              bit-identical to src/ref.
 *
 * Layout:      input NHWC [N, H, W, C_in]; weights OHWI [C_out, 1, 1, C_in]; bias int32
 *              [C_out]; output NHWC [N, (H - 1) / stride_h + 1, (W - 1) / stride_w + 1, C_out].
 * Quantization: as tte_conv2d_s8.c (single-rounding arm_nn_requantize).
 *
 * Scratch: arm_convolve_wrapper_s8_get_buffer_size bytes (0 except for the fast path built
 * by Arm Compiler on DSP cores), from ctx or the shared CMSIS scratch.
 */
#include "tte_cmsis.h"

int32_t tte_conv2d_1x1_s8_scratch_bytes(const tte_dims *input_dims, const tte_dims *filter_dims,
                                        const tte_dims *output_dims)
{
    const cmsis_nn_dims in = tte_cmsis_dims(input_dims);
    (void)filter_dims;
    (void)output_dims;
    return arm_convolve_1x1_s8_fast_get_buffer_size(&in);
}

tte_status tte_conv2d_1x1_s8(const tte_ctx *ctx, const tte_conv_params *p,
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
    cmsis_nn_context c;

    if (filter_dims->h != 1 || filter_dims->w != 1 || p->pad_top != 0 || p->pad_left != 0 ||
        p->pad_bottom != 0 || p->pad_right != 0 || filter_dims->c != input_dims->c ||
        filter_dims->n != output_dims->c ||
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
