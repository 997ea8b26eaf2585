/*
 * Title:       tte_sgd_update_s8.c
 * Description: SGD step in place on int8 weights, for the trained columns only.
 *
 * Layout:      param int8_t [rows, h, w, C] (OHWI / 1HWC weights, FC [out, 1, 1, in], bias);
 *              grad float32 [rows, h, w, n] of the trained columns; grad_scale float32 per
 *              tensor, row or column (tte_scale_mode); channels int32 [n].
 * Quantization: the gradient is real dL/dP; grad_scale carries it into the stored (int8)
 *   domain, with the QAS factor folded in.  step = lr * (grad * grad_scale[k]) in float32
 *   (with a velocity v: v = momentum * v + grad * grad_scale[k], step = lr * v);
 *   new P = saturate_int8(P - (int64) clamp(tte_round_step(step), -2^32, 2^32)): rounded to
 *   nearest, or stochastically with a draws counter (tte_train_common.h).
 *   (reference/backward/sgd_update.py).
 *
 * Element-wise over the gradient; untouched columns keep their value.  With `rows` the
 * gradient holds only that block of rows and only those rows change.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_mathf.h"
#include "internal/tte_train_common.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_sgd_update_s8)

/* P - round(step), saturated to int8.  Any |step| >= 512 saturates whatever P is, so the
 * rounded step is clamped to +-512 first (exact: it is a whole number) and converted to int32:
 * a float-to-int64 conversion would call a double-precision library routine on the M7. */
static int8_t apply_step(int8_t value, float step, uint32_t *draws)
{
    const float r = tte_round_step(step, draws);
    if (step != step) {
        return value; /* a NaN step changes nothing (tte_train_common.h) */
    }
    const int32_t delta = r >= 512.0f ? 512 : r <= -512.0f ? -512 : (int32_t)r;
    const int32_t v = (int32_t)value - delta;
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

tte_status tte_sgd_update_s8(const tte_ctx *ctx, const tte_sgd_params *p,
                             const tte_dims *param_dims, const tte_dims *grad_dims,
                             const float *grad, const float *grad_scale,
                             const int32_t *channels, const tte_rows *rows, int8_t *param_inout,
                             uint32_t *draws_inout, float *velocity_inout)
{
    int32_t begin, end;
    (void)ctx;

    if (!tte_sgd_args_ok(p, param_dims, grad_dims, channels, rows, &begin, &end)) {
        return TTE_ERR_ARG;
    }
#define APPLY_STEP(at, step) (param_inout[at] = apply_step(param_inout[at], (step), draws_inout))
    TTE_SGD_FOR_EACH(p, param_dims, grad_dims, grad, grad_scale, channels, velocity_inout, begin, end, APPLY_STEP);
#undef APPLY_STEP
    return TTE_OK;
}
