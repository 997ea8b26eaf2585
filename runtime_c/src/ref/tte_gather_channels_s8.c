/*
 * Title:       tte_gather_channels_s8.c
 * Description: Keeps a sorted subset of the channels of an int8 NHWC tensor: the part of a
 *              saved activation that a sparse weight gradient reads (lifetimes.py,
 *              `<t>.kept.<reader>`).
 *
 * Layout:      input int8 NHWC [N, H, W, C]; channels int32 [n], strictly increasing, < C;
 *              output int8 NHWC [N, H, W, n] with output[p, j] = input[p, channels[j]] for
 *              every pixel p.
 * Quantization: none; the values are copied, so the output keeps the input's scale and zero
 *   point.
 *
 * One pixel at a time, the channel list innermost.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_gather_channels_s8)

tte_status tte_gather_channels_s8(const tte_ctx *ctx, const tte_dims *input_dims,
                                  const int8_t *input, const int32_t *channels,
                                  const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_c = input_dims->c, n = output_dims->c;
    int32_t pixels, px, j;
    (void)ctx;

    if (input_dims->n < 0 || input_dims->h < 0 || input_dims->w < 0 || n < 1 || n > in_c ||
        output_dims->n != input_dims->n || output_dims->h != input_dims->h ||
        output_dims->w != input_dims->w) {
        return TTE_ERR_ARG;
    }
    for (j = 0; j < n; j++) {
        if (channels[j] < 0 || channels[j] >= in_c || (j > 0 && channels[j] <= channels[j - 1])) {
            return TTE_ERR_ARG;
        }
    }
    pixels = input_dims->n * input_dims->h * input_dims->w;
    for (px = 0; px < pixels; px++) {
        const int8_t *src = input + px * in_c;
        int8_t *dst = output + px * n;
        for (j = 0; j < n; j++) {
            dst[j] = src[channels[j]];
        }
    }
    return TTE_OK;
}
