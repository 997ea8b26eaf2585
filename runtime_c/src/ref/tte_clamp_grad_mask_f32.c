/*
 * Title:       tte_clamp_grad_mask_f32.c
 * Description: Backward of the fused int8 output clamp from the packed 1-bit mask that
 *              tte_pack_mask_s8 made of the saved output: grad where the bit is 1, else +0.0f.
 *
 * Layout:      grad and output float32 of one shape (any, element-wise, count = n * h * w * c);
 *              mask uint8 [ceil(count / 8)], element i is bit (i % 8) of byte i / 8 (LSB
 *              first, as tte_pack_mask_s8 writes it).
 * Quantization: none here; the mask holds act_min < y < act_max in the saved int8 domain, so
 *   the result is bit-identical to tte_clamp_grad_f32 on the same y
 *   (reference/backward/clamp_grad.py); the gradient itself is copied unchanged.
 *
 * Element-wise, each element read before it is written: the output may be the grad buffer.
 * A mask byte is read once for its 8 elements.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_clamp_grad_mask_f32)

/* grad if bit b of byte is set, else +0.0f */
static float masked(uint32_t byte, int32_t b, float grad)
{
    return ((byte >> b) & 1u) != 0u ? grad : 0.0f;
}

tte_status tte_clamp_grad_mask_f32(const tte_ctx *ctx, const tte_dims *dims, const float *grad,
                                   const uint8_t *mask, float *output)
{
    int32_t count, i;
    (void)ctx;

    if (dims->n < 0 || dims->h < 0 || dims->w < 0 || dims->c < 0) {
        return TTE_ERR_ARG;
    }
    count = dims->n * dims->h * dims->w * dims->c;
    for (i = 0; i + 8 <= count; i += 8) {
        const uint32_t byte = mask[i >> 3];
        int32_t b;
        for (b = 0; b < 8; b++) {
            output[i + b] = masked(byte, b, grad[i + b]);
        }
    }
    for (; i < count; i++) {
        output[i] = masked(mask[i >> 3], i & 7, grad[i]);
    }
    return TTE_OK;
}
