/*
 * Title:       tte_grad_move_channels_f32.c
 * Description: GRAD_MOVE_CHANNELS, float32 channel moves: the gradients of CONCAT (each
 *              input's channels of gy) and of CHANNEL_SELECT (gy scattered into dx).
 *
 * Layout:      input float32 NHWC [N, H, W, C_in]; output float32 NHWC [N, H, W, C_out];
 *              in_channels and out_channels int32 [n] (NULL: 0 .. n - 1).
 * Quantization: none.  out[p, out_channels[j]] = in[p, in_channels[j]]; every other output
 *   channel is +0 (reference/backward/channels.py).  No arithmetic, so no rounding.
 * No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_grad_move_channels_f32)

tte_status tte_grad_move_channels_f32(const tte_ctx *ctx, const tte_dims *input_dims, const float *input,
                                 const int32_t *in_channels, const int32_t *out_channels, int32_t n,
                                 const tte_dims *output_dims, float *output)
{
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    int32_t px, j;
    (void)ctx;

    if (!tte_channel_move_ok(input_dims, in_channels, output_dims, out_channels, n)) {
        return TTE_ERR_ARG;
    }
    for (px = 0; px < pixels; px++) {
        const float *src = input + px * in_c;
        float *dst = output + px * out_c;
        if (n < out_c) {
            for (j = 0; j < out_c; j++) {
                dst[j] = 0.0f;
            }
        }
        for (j = 0; j < n; j++) {
            dst[out_channels == NULL ? j : out_channels[j]] = src[in_channels == NULL ? j : in_channels[j]];
        }
    }
    return TTE_OK;
}
