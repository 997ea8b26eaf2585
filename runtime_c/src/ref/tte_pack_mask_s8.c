/*
 * Title:       tte_pack_mask_s8.c
 * Description: Packs the 1-bit CLAMP_GRAD mask of an int8 tensor: bit i is 1 where
 *              act_min < input[i] < act_max (strictly inside the forward clamp), else 0.
 *
 * Layout:      input int8, any shape, taken flat (count = n * h * w * c elements);
 *              output uint8 [ceil(count / 8)]: element i is bit (i % 8) of byte i / 8,
 *              least significant bit first (numpy.packbits(..., bitorder="little")); the
 *              unused high bits of the last byte are 0.
 * Quantization: none; the comparison is in the int8 domain of the saved output, as the
 *   forward clamp and reference/backward/clamp_grad.py compare it.
 *
 * Made when the forward pass produces the tensor, so that backward keeps ceil(count / 8)
 * bytes instead of count (lifetimes.py, `<t>.mask`).  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_pack_mask_s8)

tte_status tte_pack_mask_s8(const tte_ctx *ctx, const tte_clamp_grad_params *p,
                            const tte_dims *dims, const int8_t *input, uint8_t *output)
{
    const int32_t lo = p->act_min, hi = p->act_max, count = tte_dims_count(dims);
    int32_t i;
    (void)ctx;

    if (count < 0 || lo > hi) {
        return TTE_ERR_ARG;
    }
    for (i = 0; i < count; i += 8) {
        const int32_t end = count - i < 8 ? count - i : 8;
        uint32_t byte = 0u;
        int32_t b;
        for (b = 0; b < end; b++) {
            const int32_t y = input[i + b];
            if (y > lo && y < hi) {
                byte |= 1u << b;
            }
        }
        output[i / 8] = (uint8_t)byte;
    }
    return TTE_OK;
}
