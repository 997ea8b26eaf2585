/*
 * Title:       tte_conv2d_1x1_split_s8.c
 * Description: Pointwise (1x1) int8 convolution whose weight is split: the trained input
 *              channels in SRAM, the frozen rest in Flash (a partial sparse update).
 *
 * Layout:      as tte_conv2d_1x1_s8 (input NHWC [N, H, W, C_in], output NHWC [N, OH, OW,
 *              C_out]); the weight [C_out, 1, 1, C_in] is a tte_split_filter (tte_types.h).
 * Quantization: as tte_conv2d_1x1_s8, on the weight the split filter describes:
 *   acc = bias[c] + sum_ci (in[ci] + input_offset) * w[c, ci]
 *   out = clamp(tte_requantize(acc, mult[c], shift[c]) + output_offset, act_min, act_max)
 *
 * Per pair of output channels the two weight rows are put together on the stack (the frozen
 * row, then the trained columns over it), and tte_pw_s8.h's core runs that pair: the same
 * integer sums as tte_conv2d_1x1_s8 on the whole tensor, so the output is bit-identical.
 * C_in <= TTE_SPLIT_MAX_IN (2 rows of stack).  No scratch memory.
 */
#include <string.h>

#include "internal/tte_checks.h"
#include "internal/tte_pw_s8.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_conv2d_1x1_split_s8)

/* Row o of the split weight [C_out, C_in] into row[C_in]. */
static void split_row(const tte_split_filter *f, int32_t in_c, int32_t o, int8_t *row)
{
    const int8_t *trained = f->trained + o * f->n;
    int32_t j;
    memcpy(row, f->frozen + o * in_c, (size_t)in_c);
    for (j = 0; j < f->n; j++) {
        row[f->channels[j]] = trained[j];
    }
}

tte_status tte_conv2d_1x1_split_s8(const tte_ctx *ctx, const tte_conv_params *p,
                                   const tte_per_channel_quant *q, const tte_dims *input_dims,
                                   const int8_t *input, const tte_dims *filter_dims,
                                   const tte_split_filter *filter, const int32_t *bias,
                                   const tte_dims *output_dims, int8_t *output)
{
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    int8_t rows[2 * TTE_SPLIT_MAX_IN];
    tte_pw_geom g;
    int32_t oc;
    (void)ctx;

    if (!tte_pw_geom_of_conv(p, input_dims, filter_dims, output_dims, &g) || in_c > TTE_SPLIT_MAX_IN ||
        !tte_split_filter_ok(filter, in_c)) {
        return TTE_ERR_ARG;
    }
    for (oc = 0; oc < out_c; oc += 2) {
        const int32_t pair = oc + 1 < out_c ? 2 : 1;
        split_row(filter, in_c, oc, rows);
        if (pair == 2) {
            split_row(filter, in_c, oc + 1, rows + in_c);
        }
        tte_pw_s8(&g, input, rows, bias != NULL ? bias + oc : NULL, q->multiplier + oc, q->shift + oc, 0, pair,
                  output + oc, out_c, 1);
    }
    return TTE_OK;
}
