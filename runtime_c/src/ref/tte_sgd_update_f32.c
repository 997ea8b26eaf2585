/*
 * Title:       tte_sgd_update_f32.c
 * Description: SGD step in place on float32 master weights, for the trained columns only, and
 *              the int8 image of those columns that the forward pass reads.
 *
 * Layout:      param float [rows, h, w, C] (OHWI / 1HWC weights, FC [out, 1, 1, in], bias);
 *              grad float32 [rows, h, w, n] of the trained columns; grad_scale float32 per
 *              tensor, row or column (tte_scale_mode); channels int32 [n].
 * Quantization: the gradient is real dL/dP; grad_scale carries it into the stored (int8)
 *   domain, with the QAS factor folded in.  step = lr * (grad * grad_scale[k]) in float32
 *   (with a velocity v: v = momentum * v + grad * grad_scale[k], step = lr * v), after the
 *   step clip when p->step_clip > 0 (tte_kernels.h);
 *   new P = P - step, one rounding, moved outward not past +-TTE_MASTER_LIMIT (a NaN result
 *   leaves P; tte_train_common.h); then image = saturate_int8(roundf(new P)),
 *   ties away from zero: what the forward reads (reference/backward/sgd_update.py and
 *   training/trainer.py); tte_train_common.h's tte_s8_of_master.
 *
 * Element-wise over the gradient; untouched columns keep their value.  With `rows` the
 * gradient holds only that block of rows and only those rows change.  No scratch memory.
 */
#include "internal/tte_checks.h"
#include "internal/tte_mathf.h"
#include "internal/tte_train_common.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_sgd_update_f32)

/* The master moved by the step, outward not past +-TTE_MASTER_LIMIT (nor past where it already
 * is); a NaN result keeps the old value (tte_train_common.h). */
static float apply_step(float old, float step)
{
    const float moved = old - step;
    const float lo = old < -TTE_MASTER_LIMIT ? old : -TTE_MASTER_LIMIT;
    const float hi = old > TTE_MASTER_LIMIT ? old : TTE_MASTER_LIMIT;
    return tte_f32_is_nan(moved) ? old : moved < lo ? lo : moved > hi ? hi : moved;
}

tte_status tte_sgd_update_f32(const tte_ctx *ctx, const tte_sgd_params *p,
                              const tte_dims *param_dims, const tte_dims *grad_dims,
                              const float *grad, const float *grad_scale,
                              const int32_t *channels, const tte_rows *rows, float *param_inout, int8_t *image_output,
                              float *velocity_inout)
{
    int32_t begin, end;
    (void)ctx;

    if (!tte_sgd_args_ok(p, param_dims, grad_dims, channels, rows, &begin, &end)) {
        return TTE_ERR_ARG;
    }
#define APPLY_STEP(at, step) \
    (param_inout[at] = apply_step(param_inout[at], (step)), image_output[at] = tte_s8_of_master(param_inout[at]))
#define ABS_MASTER(at) tte_abs_f32(param_inout[at])
    TTE_SGD_FOR_EACH(p, param_dims, grad_dims, grad, grad_scale, channels, velocity_inout, begin, end, APPLY_STEP,
                     ABS_MASTER);
#undef APPLY_STEP
#undef ABS_MASTER
    return TTE_OK;
}
