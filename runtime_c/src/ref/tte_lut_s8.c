/*
 * Title:       tte_lut_s8.c
 * Description: LUT, an int8 element-wise activation read from a table of its 256 values
 *              (HardSwish, HardSigmoid, Sigmoid, Tanh, LeakyRelu, a Relu or Clip not fused
 *              into a conv).
 *
 * Layout:      any; input and output hold n * h * w * c int8 values in the same order.
 * Quantization: none here: table[v + 128] is the int8 output for input v, made by the
 *   compiler from the input and output quantization (reference/ops/lut.py).
 *
 * Element i is written after it is read, so the output may be the input buffer (in place).
 * No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_lut_s8)

tte_status tte_lut_s8(const tte_ctx *ctx, const int8_t *table, const tte_dims *dims, const int8_t *input,
                      int8_t *output)
{
    const int32_t size = tte_dims_count(dims);
    int32_t i;
    (void)ctx;

    if (size < 0) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < size; i++) {
        output[i] = table[input[i] + 128];
    }
    return TTE_OK;
}
