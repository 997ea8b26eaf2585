/*
 * Title:       tte_copy_channels_s8.c
 * Description: int8 channel moves: a CONCAT input into its channels of the output, or a
 *              CHANNEL_SELECT (slice, split part, channel shuffle), moved to the output's
 *              quantization when it differs.
 *
 * Layout:      input NHWC [N, H, W, C_in]; output NHWC [N, H, W, C_out]; in_channels and
 *              out_channels int32 [n] (NULL: 0 .. n - 1).
 * Quantization: for every pixel p and j < n,
 *   out[p, out_channels[j]] = in[p, in_channels[j]]                                (rq NULL)
 *   out[p, out_channels[j]] = clamp(tte_requantize(in + input_offset, multiplier, shift)
 *                                   + output_offset, -128, 127)                    (rq)
 *   (reference/ops/channels.py).  Other output channels are left as they are.
 * No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_requant.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_copy_channels_s8)

tte_status tte_copy_channels_s8(const tte_ctx *ctx, const tte_rescale *rq, const tte_dims *input_dims,
                                const int8_t *input, const int32_t *in_channels, const int32_t *out_channels,
                                int32_t n, const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    int32_t px, j;
    (void)ctx;

    if (!tte_channel_move_ok(input_dims, in_channels, output_dims, out_channels, n)) {
        return TTE_ERR_ARG;
    }
    for (px = 0; px < pixels; px++) {
        const int8_t *src = input + px * in_c;
        int8_t *dst = output + px * out_c;
        for (j = 0; j < n; j++) {
            int32_t v = src[in_channels == NULL ? j : in_channels[j]];
            if (rq != NULL) {
                v = tte_clamp_s8(tte_requantize(v + rq->input_offset, rq->multiplier, rq->shift) + rq->output_offset,
                                 -128, 127);
            }
            dst[out_channels == NULL ? j : out_channels[j]] = (int8_t)v;
        }
    }
    return TTE_OK;
}
