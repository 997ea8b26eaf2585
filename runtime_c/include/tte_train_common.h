/*
 * TRAINING (float32)
 * tte_train_common.h: small helpers the float32 training kernels share (internal).
 *
 * tte_channels_ok: a trained-channel list is NULL (all `limit` channels, so n == limit) or n
 * strictly increasing indices below `limit`.
 * tte_sgd_args_ok: the arguments of a tte_sgd_update_* call agree (dims, scale mode, channels).
 * tte_sgd_step: the step of one gradient element, lr * (grad * grad_scale[k]) with k chosen by
 * the update's scale mode (docs/numerics.md: two float32 roundings, in that order).
 */
#ifndef TTE_TRAIN_COMMON_H
#define TTE_TRAIN_COMMON_H

#include <stddef.h>

#include "tte_types.h"

static inline int32_t tte_channels_ok(const int32_t *channels, int32_t n, int32_t limit)
{
    int32_t j;
    if (channels == NULL) {
        return n == limit;
    }
    for (j = 0; j < n; j++) {
        if (channels[j] < 0 || channels[j] >= limit || (j > 0 && channels[j] <= channels[j - 1])) {
            return 0;
        }
    }
    return 1;
}

static inline int32_t tte_sgd_args_ok(const tte_sgd_params *p, const tte_dims *param_dims,
                                      const tte_dims *grad_dims, const int32_t *channels)
{
    return grad_dims->n == param_dims->n && grad_dims->h == param_dims->h && grad_dims->w == param_dims->w &&
           param_dims->n >= 0 && param_dims->h * param_dims->w >= 0 && p->scale_mode >= TTE_SCALE_PER_TENSOR &&
           p->scale_mode <= TTE_SCALE_PER_COLUMN && tte_channels_ok(channels, grad_dims->c, param_dims->c);
}

static inline float tte_sgd_step(const tte_sgd_params *p, const float *grad_scale, int32_t row, int32_t col,
                                 float g)
{
    const int32_t k = p->scale_mode == TTE_SCALE_PER_ROW      ? row
                      : p->scale_mode == TTE_SCALE_PER_COLUMN ? col
                                                              : 0;
    return p->lr * (g * grad_scale[k]);
}

#endif /* TTE_TRAIN_COMMON_H */
