/*
 * Title:       tte_fully_connected_grad_input_f32.c
 * Description: FULLY_CONNECTED input gradient with int8 weights dequantized on the fly.
 *
 * Layout:      grad float32 [N, OUT]; weights int8 [OUT, IN] with float32 scales [OUT];
 *              output float32 [N, IN] (the forward input's NHWC flattening).
 * Quantization: w_real = float32(w[o, i]) * scale[o] (symmetric weights).
 *   dx[n, i] = +0, then for o in order: dx += grad[n, o] * w_real
 *   (reference/backward/fully_connected_grad_input.py).
 *
 * Weight rows are read in order, each added to the whole output row.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_fully_connected_grad_input_f32)

tte_status tte_fully_connected_grad_input_f32(const tte_ctx *ctx, const tte_dims *grad_dims,
                                              const float *grad, const tte_dims *filter_dims,
                                              const int8_t *filter, const float *filter_scale,
                                              const tte_dims *output_dims, float *output)
{
    const int32_t n_out = grad_dims->h * grad_dims->w * grad_dims->c;
    const int32_t n_in = output_dims->h * output_dims->w * output_dims->c;
    int32_t b, o, i;
    (void)ctx;

    if (filter_dims->n != n_out || filter_dims->h * filter_dims->w * filter_dims->c != n_in ||
        output_dims->n != grad_dims->n || grad_dims->n < 0 || n_out < 1 || n_in < 1) {
        return TTE_ERR_ARG;
    }
    for (b = 0; b < grad_dims->n; b++) {
        const float *g = grad + b * n_out;
        float *dx = output + b * n_in;
        for (i = 0; i < n_in; i++) {
            dx[i] = 0.0f;
        }
        for (o = 0; o < n_out; o++) {
            const int8_t *w = filter + o * n_in;
            const float go = g[o], scale = filter_scale[o];
            for (i = 0; i < n_in; i++) {
                dx[i] = dx[i] + go * ((float)w[i] * scale);
            }
        }
    }
    return TTE_OK;
}
