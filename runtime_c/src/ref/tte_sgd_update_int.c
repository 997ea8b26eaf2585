/*
 * Title:       tte_sgd_update_int.c
 * Description: SGD step in place on an integer parameter, for the trained columns only:
 *              int8 weights or int32 biases.
 *
 * Layout:      param int8_t or int32_t [rows, h, w, C] (OHWI / 1HWC weights, FC [out, 1, 1, in],
 *              bias); grad float32 [rows, h, w, n] of the trained columns; grad_scale float32
 *              per tensor, row or column (tte_scale_mode); channels int32 [n].
 * Quantization: the gradient is real dL/dP; grad_scale carries it into the stored domain, with
 *   the QAS factor folded in.  step = lr * (grad * grad_scale[k]) in float32 (with a velocity v:
 *   v = momentum * v + grad * grad_scale[k], step = lr * v); r = tte_round_step(step), to nearest
 *   or stochastically with a draws counter (tte_train_common.h), after the step clip when
 *   p->step_clip > 0 (tte_kernels.h); then
 *   int8:  new P = saturate_int8(P - r)
 *   int32: new P = clamp(P - clamp(r, -2^32, 2^32), min(P, -L), max(P, L)), L = TTE_BIAS_LIMIT
 *   and a NaN step leaves P (reference/backward/sgd_update.py).
 *
 * Element-wise over the gradient; untouched columns keep their value.  With `rows` the
 * gradient holds only that block of rows and only those rows change.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_mathf.h"
#include "internal/tte_train_common.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_sgd_update_int)

/* P - round(step), saturated to int8.  Any |step| >= 512 saturates whatever P is, so the
 * rounded step is clamped to +-512 first (exact: it is a whole number) and converted to int32:
 * a float-to-int64 conversion would call a double-precision library routine on the M7. */
static int8_t step_s8(int8_t value, float step, uint32_t *draws)
{
    const float r = tte_round_step(step, draws);
    if (tte_f32_is_nan(step)) {
        return value; /* a NaN step changes nothing (tte_train_common.h) */
    }
    const int32_t delta = r >= 512.0f ? 512 : r <= -512.0f ? -512 : (int32_t)r;
    const int32_t v = (int32_t)value - delta;
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

/* P - round(step), the rounded step clamped to +-2^32 as the reference does, saturated.  The
 * whole-number float r is converted as r = hi * 2^16 + lo with two float-to-int32 conversions
 * (both parts exact: r / 2^16 scales by a power of two, and the remainder is an integer below
 * 2^16 on r's own grid), because a float-to-int64 conversion would call a double-precision
 * library routine on the M7. */
static int32_t step_s32(int32_t value, float step, uint32_t *draws)
{
    const float r = tte_round_step(step, draws);
    if (tte_f32_is_nan(step)) {
        return value; /* a NaN step changes nothing (tte_train_common.h) */
    }
    const float clamped = r >= 4294967296.0f ? 4294967296.0f : r <= -4294967296.0f ? -4294967296.0f : r;
    const int32_t hi = (int32_t)(clamped * (1.0f / 65536.0f));
    const int32_t lo = (int32_t)(clamped - (float)hi * 65536.0f);
    const int64_t delta = (int64_t)hi * 65536 + lo;
    const int64_t v = (int64_t)value - delta;
    /* outward not past +-TTE_BIAS_LIMIT, or past where the value already is */
    const int64_t low = value < -TTE_BIAS_LIMIT ? value : -TTE_BIAS_LIMIT;
    const int64_t high = value > TTE_BIAS_LIMIT ? value : TTE_BIAS_LIMIT;
    return (int32_t)(v < low ? low : v > high ? high : v);
}

tte_status tte_sgd_update_int(const tte_ctx *ctx, const tte_sgd_params *p, const tte_dims *param_dims,
                              const tte_dims *grad_dims, const float *grad, const float *grad_scale,
                              const int32_t *channels, const tte_rows *rows, int8_t *param_s8_inout,
                              int32_t *param_s32_inout, uint32_t *draws_inout, float *velocity_inout)
{
    int32_t begin, end;
    (void)ctx;

    if ((param_s8_inout == NULL) == (param_s32_inout == NULL) ||
        !tte_sgd_args_ok(p, param_dims, grad_dims, channels, rows, &begin, &end)) {
        return TTE_ERR_ARG;
    }
    /* one loop per type, chosen once a call, so that each step function is inlined */
#define STEP_S8(at, step) (param_s8_inout[at] = step_s8(param_s8_inout[at], (step), draws_inout))
#define STEP_S32(at, step) (param_s32_inout[at] = step_s32(param_s32_inout[at], (step), draws_inout))
#define ABS_S8(at) tte_abs_f32((float)param_s8_inout[at])
#define ABS_S32(at) tte_abs_f32((float)param_s32_inout[at])
    if (param_s8_inout != NULL) {
        TTE_SGD_FOR_EACH(p, param_dims, grad_dims, grad, grad_scale, channels, velocity_inout, begin, end, STEP_S8,
                         ABS_S8);
    } else {
        TTE_SGD_FOR_EACH(p, param_dims, grad_dims, grad, grad_scale, channels, velocity_inout, begin, end, STEP_S32,
                         ABS_S32);
    }
#undef STEP_S8
#undef STEP_S32
#undef ABS_S8
#undef ABS_S32
    return TTE_OK;
}
