/*
 * Title:       tte_fully_connected_s8.c
 * Description: int8 fully connected layer with per-output-channel requantization.
 *
 * Layout:      input [N, IN] (an NHWC tensor flattened in NHWC order, IN = H * W * C);
 *              weights [OUT, IN] row-major; bias int32 [OUT]; output [N, OUT].
 * Quantization (per output channel o):
 *   acc = bias[o] + sum_i (in[i] + input_offset) * w[o, i]
 *   out = clamp(tte_requantize(acc, mult[o], shift[o]) + output_offset, act_min, act_max)
 *
 * Four output rows share every loaded input value.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_fully_connected_s8)

static int8_t finish(int32_t acc, const tte_fc_params *p, int32_t mult, int32_t shift)
{
    return tte_clamp_s8(tte_requantize(acc, mult, shift) + p->output_offset, p->act_min,
                        p->act_max);
}

tte_status tte_fully_connected_s8(const tte_ctx *ctx, const tte_fc_params *p,
                                  const tte_per_channel_quant *q, const tte_dims *input_dims,
                                  const int8_t *input, const tte_dims *filter_dims,
                                  const int8_t *filter, const int32_t *bias,
                                  const tte_dims *output_dims, int8_t *output)
{
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t n_out = filter_dims->n;
    const int32_t in_off = p->input_offset;
    int32_t b;
    (void)ctx;

    if (!tte_fc_dims_ok(input_dims, filter_dims, output_dims)) {
        return TTE_ERR_ARG;
    }

    for (b = 0; b < input_dims->n; b++) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * n_out;
        int32_t o = 0;
        for (; o + 4 <= n_out; o += 4) {
            const int8_t *w0 = filter + o * depth;
            const int8_t *w1 = w0 + depth;
            const int8_t *w2 = w1 + depth;
            const int8_t *w3 = w2 + depth;
            int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0, i;
            if (bias != NULL) {
                acc0 = bias[o];
                acc1 = bias[o + 1];
                acc2 = bias[o + 2];
                acc3 = bias[o + 3];
            }
            for (i = 0; i < depth; i++) {
                const int32_t xv = x[i] + in_off;
                acc0 += xv * w0[i];
                acc1 += xv * w1[i];
                acc2 += xv * w2[i];
                acc3 += xv * w3[i];
            }
            out[o] = finish(acc0, p, q->multiplier[o], q->shift[o]);
            out[o + 1] = finish(acc1, p, q->multiplier[o + 1], q->shift[o + 1]);
            out[o + 2] = finish(acc2, p, q->multiplier[o + 2], q->shift[o + 2]);
            out[o + 3] = finish(acc3, p, q->multiplier[o + 3], q->shift[o + 3]);
        }
        for (; o < n_out; o++) {
            const int8_t *w = filter + o * depth;
            int32_t acc = bias != NULL ? bias[o] : 0, i;
            for (i = 0; i < depth; i++) {
                acc += (x[i] + in_off) * w[i];
            }
            out[o] = finish(acc, p, q->multiplier[o], q->shift[o]);
        }
    }
    return TTE_OK;
}
