/*
 * Title:       tte_mul_grad_f32.c
 * Description: MUL_GRAD, the float32 gradient of one MUL operand: the incoming gradient times
 *              the other operand, summed over the pixels for an operand that was broadcast.
 *
 * Layout:      grad float32 NHWC [1, H, W, C]; other int8 [1, H, W, C] or [1, 1, 1, C];
 *              output float32 [1, H, W, C] or [1, 1, 1, C] (reference/backward/mul.py).
 * Quantization: real(other) = float32(other - other_zero_point) * other_scale; each term is
 *   grad * real(other), one rounded multiply; the broadcast operand's gradient adds the terms
 *   of its channel from +0 in pixel order (row-major).
 *
 * In the element-wise forms element i is written after it is read, so the output may be the
 * grad buffer.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_mul_grad_f32)

static int32_t tte_is_channel_vector(const tte_dims *d, const tte_dims *full)
{
    return d->n == 1 && d->h == 1 && d->w == 1 && d->c == full->c;
}

static int32_t tte_same_dims(const tte_dims *a, const tte_dims *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

tte_status tte_mul_grad_f32(const tte_ctx *ctx, const tte_mul_grad_params *p, const tte_dims *grad_dims,
                            const float *grad, const tte_dims *other_dims, const int8_t *other,
                            const tte_dims *output_dims, float *output)
{
    const int32_t ch = grad_dims->c, pixels = grad_dims->h * grad_dims->w;
    const int32_t zp = p->other_zero_point;
    const float scale = p->other_scale;
    const int32_t other_full = tte_same_dims(other_dims, grad_dims);
    const int32_t output_full = tte_same_dims(output_dims, grad_dims);
    int32_t px, c;
    (void)ctx;

    if (grad_dims->n != 1 || grad_dims->h < 0 || grad_dims->w < 0 || ch < 0 ||
        !(other_full || tte_is_channel_vector(other_dims, grad_dims)) ||
        !(output_full || tte_is_channel_vector(output_dims, grad_dims)) ||
        (!other_full && !output_full)) {
        return TTE_ERR_ARG;
    }
    if (!output_full) {
        for (c = 0; c < ch; c++) {
            output[c] = 0.0f;
        }
    }
    for (px = 0; px < pixels; px++) {
        const float *g = grad + px * ch;
        const int8_t *o = other + (other_full ? px * ch : 0);
        for (c = 0; c < ch; c++) {
            const float term = g[c] * ((float)(o[c] - zp) * scale);
            if (output_full) {
                output[px * ch + c] = term;
            } else {
                output[c] += term;
            }
        }
    }
    return TTE_OK;
}
