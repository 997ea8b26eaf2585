/*
 * Title:       tte_fully_connected_s8.c (CMSIS-NN backend)
 * Description: int8 fully connected layer with per-output-channel requantization as one call
 *              to CMSIS-NN's arm_fully_connected_wrapper_s8 (is_per_channel = 1, i.e.
 *              arm_fully_connected_per_channel_s8); bit-identical to src/ref.
 *
 * Layout:      input [N, IN] (NHWC flattened, IN = H * W * C); weights [OUT, IN] row-major
 *              (CMSIS-NN's filter dims {n = IN, c = OUT}); bias int32 [OUT]; output [N, OUT].
 * Quantization (per output channel o), as src/ref/tte_fully_connected_s8.c:
 *   acc = bias[o] + sum_i (in[i] + input_offset) * w[o, i]
 *   out = clamp(requant(acc, mult[o], shift[o]) + output_offset, act_min, act_max)
 *   Weights are symmetric: filter_offset = 0.
 *
 * Scratch: arm_fully_connected_s8_get_buffer_size bytes: 0 on plain-C and DSP builds; on
 * Helium, OUT int32 kernel sums that CMSIS-NN expects the caller to fill with
 * arm_vector_sum_s8 (TFLM does it once in Prepare; this adapter does it on every call).
 */
#include "tte_cmsis.h"

static cmsis_nn_dims fc_filter_dims(const tte_dims *filter_dims)
{
    const cmsis_nn_dims flt = {filter_dims->h * filter_dims->w * filter_dims->c, 1, 1,
                               filter_dims->n};
    return flt;
}

int32_t tte_fully_connected_s8_scratch_bytes(const tte_dims *input_dims,
                                             const tte_dims *filter_dims,
                                             const tte_dims *output_dims)
{
    const cmsis_nn_dims flt = fc_filter_dims(filter_dims);
    (void)input_dims;
    (void)output_dims;
    return arm_fully_connected_s8_get_buffer_size(&flt);
}

tte_status tte_fully_connected_s8(const tte_ctx *ctx, const tte_fc_params *p,
                                  const tte_per_channel_quant *q, const tte_dims *input_dims,
                                  const int8_t *input, const tte_dims *filter_dims,
                                  const int8_t *filter, const int32_t *bias,
                                  const tte_dims *output_dims, int8_t *output)
{
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t n_out = filter_dims->n;
    const cmsis_nn_dims in = tte_cmsis_dims(input_dims), flt = fc_filter_dims(filter_dims);
    const cmsis_nn_dims out = {output_dims->n, 1, 1, n_out};
    const cmsis_nn_dims bias_dims = {1, 1, 1, n_out};
    const int32_t need = arm_fully_connected_s8_get_buffer_size(&flt);
    cmsis_nn_fc_params fc;
    cmsis_nn_quant_params quant;
    cmsis_nn_context c;

    if (flt.n != depth || output_dims->n != input_dims->n ||
        output_dims->h * output_dims->w * output_dims->c != n_out) {
        return TTE_ERR_ARG;
    }
    if (tte_cmsis_context(ctx, need, &c) != TTE_OK) {
        return TTE_ERR_SCRATCH;
    }
    fc.input_offset = p->input_offset;
    fc.filter_offset = 0;
    fc.output_offset = p->output_offset;
    fc.activation.min = p->act_min;
    fc.activation.max = p->act_max;
    quant.multiplier = (int32_t *)q->multiplier;
    quant.shift = (int32_t *)q->shift;
    quant.is_per_channel = 1;
    if (need > 0 && arm_vector_sum_s8((int32_t *)c.buf, depth, n_out, filter, p->input_offset, 0,
                                      bias) != ARM_CMSIS_NN_SUCCESS) {
        return TTE_ERR_ARG;
    }
    return tte_cmsis_status(arm_fully_connected_wrapper_s8(&c, &fc, &quant, &in, input, &flt,
                                                           filter, &bias_dims, bias, &out,
                                                           output));
}
