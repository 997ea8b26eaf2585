/*
 * Title:       tte_fully_connected_grad_weight_f32.c
 * Description: FULLY_CONNECTED weight gradient for a subset of input columns (sparse
 *              update), from the saved int8 input dequantized on the fly.
 *
 * Layout:      input int8 [N, IN] (NHWC flattening); grad float32 [N, OUT]; channels int32
 *              [n]; output float32 [OUT, n].
 * Quantization: x_real = float32(x - input_zero_point) * input_scale.
 *   dw[o, j] = +0, then for each batch row b in order: dw += grad[b, o] * x_real[b, channels[j]]
 *   (reference/backward/fully_connected_grad_weight.py).
 *
 * One output row dw[o, :] at a time; with `rows`, only rows [begin, begin + count), into an
 * output that holds just them (a fused update's block).  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_train_common.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_fully_connected_grad_weight_f32)

tte_status tte_fully_connected_grad_weight_f32(const tte_ctx *ctx, const tte_fc_grad_params *p,
                                               const tte_dims *input_dims, const int8_t *input,
                                               const tte_dims *grad_dims, const float *grad,
                                               const int32_t *channels, const tte_rows *rows,
                                               const tte_dims *output_dims, float *output)
{
    const int32_t batch = input_dims->n;
    const int32_t n_in = input_dims->h * input_dims->w * input_dims->c;
    const int32_t n_out = grad_dims->h * grad_dims->w * grad_dims->c;
    const int32_t n = output_dims->h * output_dims->w * output_dims->c;
    const int32_t zp = p->input_zero_point;
    const float scale = p->input_scale;
    int32_t o, b, j, o_begin, o_end;
    (void)ctx;

    if (grad_dims->n != batch || batch < 0 || output_dims->n != n_out || n_out < 1 ||
        n_in < 1 || !tte_channels_ok(channels, n, n_in) || !tte_rows_range(rows, n_out, &o_begin, &o_end)) {
        return TTE_ERR_ARG;
    }
    for (o = o_begin; o < o_end; o++) {
        float *dw = output + (o - o_begin) * n;
        for (j = 0; j < n; j++) {
            dw[j] = 0.0f;
        }
        for (b = 0; b < batch; b++) {
            const int8_t *row = input + b * n_in;
            const float g = grad[b * n_out + o];
            for (j = 0; j < n; j++) {
                const int32_t c = channels == NULL ? j : channels[j];
                dw[j] = dw[j] + g * ((float)((int32_t)row[c] - zp) * scale);
            }
        }
    }
    return TTE_OK;
}
