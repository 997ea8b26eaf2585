/*
 * Title:       tte_real_logits_f32.c
 * Description: The classifier's real logits, which the training loss reads: the int32
 *              accumulator of tte_fully_connected_s8, converted to float32 and scaled,
 *              without its requantization and clamp.
 *
 * Layout:      input [N, IN] (an NHWC tensor flattened in NHWC order, IN = H * W * C);
 *              weights [OUT, IN] row-major; bias int32 [OUT]; scale float32 [OUT];
 *              output float32 [N, OUT].
 * Quantization: the input's zero point in, no requantization out; per output o
 *   (reference/backward/real_logits.py):
 *   acc = bias[o] + sum_i (in[i] + input_offset) * w[o, i]   (exact in int32)
 *   out = (float)acc * scale[o]                              (one rounding each)
 *
 * No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_real_logits_f32)

tte_status tte_real_logits_f32(const tte_ctx *ctx, const tte_real_logits_params *p,
                               const float *scale, const tte_dims *input_dims, const int8_t *input,
                               const tte_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const tte_dims *output_dims, float *output)
{
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t n_out = filter_dims->n;
    int32_t b, o, i;
    (void)ctx;

    if (!tte_fc_dims_ok(input_dims, filter_dims, output_dims)) {
        return TTE_ERR_ARG;
    }
    for (b = 0; b < input_dims->n; b++) {
        const int8_t *x = input + b * depth;
        float *out = output + b * n_out;
        for (o = 0; o < n_out; o++) {
            const int8_t *w = filter + o * depth;
            int32_t acc = bias != NULL ? bias[o] : 0;
            for (i = 0; i < depth; i++) {
                acc += (x[i] + p->input_offset) * w[i];
            }
            out[o] = (float)acc * scale[o];
        }
    }
    return TTE_OK;
}
