/*
 * TRAINING (float32)
 * tte_train_common.h: small helpers the float32 training kernels share (internal).
 *
 * tte_channels_ok: a trained-channel list is NULL (all `limit` channels, so n == limit) or n
 * strictly increasing indices below `limit`.
 * tte_rows_range: the rows [*begin, *end) a call covers: all `total` rows when rows is NULL,
 * else the block, which must lie inside them (0 when it does not).
 * tte_sgd_args_ok: the arguments of a tte_sgd_update_* call agree (dims, scale mode, step clip,
 *   channels, rows), and the rows [*begin, *end) it covers.
 * tte_sgd_direction / tte_sgd_step: the step of one gradient element, lr * (grad *
 * grad_scale[k]) with k chosen by the update's scale mode (docs/numerics.md: two float32
 * roundings, in that order); with a velocity v, lr * v after v = momentum * v + grad *
 * grad_scale[k] (tte_sgd_step stores v; tte_sgd_direction, for the step clip's first pass, does not).
 * TTE_SGD_FOR_EACH: the element loop of every tte_sgd_update_* kernel, with the step clip.
 * tte_uniform_draw / tte_round_step: the rounding of an int8 / int32 update's step, to nearest
 * or stochastic.
 * tte_s8_of_master / tte_master_to_s8: the int8 weight the forward pass reads for a float32
 * master, roundf (ties away from zero) saturated to int8: in tte_sgd_update_f32, and in the
 * generated tte_set_trainable after it loads masters.
 */
#ifndef TTE_TRAIN_COMMON_H
#define TTE_TRAIN_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* How far an update may move a stored parameter outward, whatever the rate and gradient (the
 * same in reference/backward/sgd_update.py): an int32 bias not past +-2^30, so that training
 * cannot push a kernel's int32 accumulator (bias + input_offset * sum w + sum x * w) into
 * overflow for any layer of fewer than 2^15 taps x channels; a float32 master not past +-2^15
 * LSB (its int8 image saturates from +-127.5 on), so it stays finite.  A value the model already
 * holds beyond a limit (a dead channel's bias at -2^31) is kept and may only move inward.  A
 * step that is NaN leaves the parameter as it is rather than reach an undefined conversion. */
#define TTE_BIAS_LIMIT 1073741824
#define TTE_MASTER_LIMIT 32768.0f

#include "internal/tte_mathf.h"
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

static inline int32_t tte_rows_range(const tte_rows *rows, int32_t total, int32_t *begin, int32_t *end)
{
    if (rows == NULL) {
        *begin = 0;
        *end = total;
        return 1;
    }
    *begin = rows->begin;
    *end = rows->begin + rows->count;
    return rows->begin >= 0 && rows->count >= 1 && rows->count <= total - rows->begin;
}

static inline int32_t tte_sgd_args_ok(const tte_sgd_params *p, const tte_dims *param_dims,
                                      const tte_dims *grad_dims, const int32_t *channels, const tte_rows *rows,
                                      int32_t *begin, int32_t *end)
{
    return grad_dims->n == param_dims->n && grad_dims->h == param_dims->h && grad_dims->w == param_dims->w &&
           param_dims->n >= 0 && param_dims->h * param_dims->w >= 0 &&
           !tte_f32_is_nan(p->step_clip) && p->step_clip >= 0.0f &&
           p->scale_mode >= TTE_SCALE_PER_TENSOR &&
           p->scale_mode <= TTE_SCALE_PER_COLUMN && tte_channels_ok(channels, grad_dims->c, param_dims->c) &&
           tte_rows_range(rows, param_dims->n, begin, end);
}

/* The direction of one gradient element's step, g_bar = grad * grad_scale[k] with k chosen by
 * the update's scale mode, or with a velocity v: momentum * v + g_bar, NaN when that is not
 * finite; the velocity is read, not stored. */
static inline float tte_sgd_direction(const tte_sgd_params *p, const float *grad_scale, int32_t row, int32_t col,
                                      float g, const float *velocity)
{
    const int32_t k = p->scale_mode == TTE_SCALE_PER_ROW      ? row
                      : p->scale_mode == TTE_SCALE_PER_COLUMN ? col
                                                              : 0;
    const float g_bar = g * grad_scale[k];
    float v;
    if (velocity == NULL) {
        return g_bar;
    }
    v = p->momentum * *velocity + g_bar;
    if ((tte_f32_bits(v) & 0x7F800000u) == 0x7F800000u) { /* NaN or +-Inf, by its bits under any -O */
        return tte_f32_from_bits(0x7FC00000u);            /* a quiet NaN */
    }
    return v;
}

/* With a velocity (momentum), a velocity that would not be finite is not stored and the step
 * is NaN, so that neither it nor the parameter moves: a NaN or Inf gradient never settles in a
 * velocity, where it would stop the parameter for good. */
static inline float tte_sgd_step(const tte_sgd_params *p, const float *grad_scale, int32_t row, int32_t col,
                                 float g, float *velocity)
{
    const float d = tte_sgd_direction(p, grad_scale, row, col, g, velocity);
    if (velocity != NULL && !tte_f32_is_nan(d)) {
        *velocity = d;
    }
    return p->lr * d;
}

/* |x| of a parameter value as float32 (an int32 converted first, as the reference does). */
static inline float tte_abs_f32(float x)
{
    return x < 0.0f ? -x : x;
}

/* The element loop of every tte_sgd_update_* kernel, after its argument checks: for rows
 * [begin, end), each of their h * w positions and each trained column j (channels[j], or j when
 * channels is NULL), in that order, runs APPLY(at, step): `at` is the element's offset in the
 * parameter [rows, h, w, C], `step` its tte_sgd_step from the gradient [end - begin, h, w, n]
 * and, when velocity is not NULL, the element's velocity (velocity [rows, h, w, n], all rows).
 * With p->step_clip > 0 a first pass over each row finds its largest |step| (NaN ignored, by
 * its bits) and its largest |P| (MAGNITUDE(at): |P[at]| as float32), and the steps of a row
 * over the bound are scaled, and the velocities that row stored with them (tte_kernels.h,
 * SGD_UPDATE).  A macro rather than a
 * function taking callbacks, so that each kernel's own APPLY and MAGNITUDE, on its own
 * parameter type, are inlined into the loop. */
#define TTE_SGD_FOR_EACH(p, param_dims, grad_dims, grad, grad_scale, channels, velocity, begin, end, APPLY, \
                         MAGNITUDE)                                                                   \
    do {                                                                                          \
        const int32_t mid_ = (param_dims)->h * (param_dims)->w, cols_ = (param_dims)->c;             \
        const int32_t n_ = (grad_dims)->c;                                                        \
        int32_t r_, m_, j_;                                                                       \
        for (r_ = (begin); r_ < (end); r_++) {                                                    \
            float clip_ = 1.0f;                                                                   \
            if ((p)->step_clip > 0.0f) {                                                          \
                float largest_ = 0.0f, weight_ = 0.0f, bound_;                                    \
                for (m_ = 0; m_ < mid_; m_++) {                                                   \
                    const float *g_ = (grad) + ((r_ - (begin)) * mid_ + m_) * n_;                 \
                    for (j_ = 0; j_ < n_; j_++) {                                                 \
                        const int32_t col_ = (channels) == NULL ? j_ : (channels)[j_];            \
                        const float *v_ = (velocity) == NULL ? NULL : (velocity) + (r_ * mid_ + m_) * n_ + j_; \
                        const float d_ = tte_sgd_direction((p), (grad_scale), r_, col_, g_[j_], v_); \
                        const float s_ = tte_abs_f32((p)->lr * d_);                               \
                        const float w_ = MAGNITUDE((r_ * mid_ + m_) * cols_ + col_);              \
                        largest_ = !tte_f32_is_nan(s_) && s_ > largest_ ? s_ : largest_;          \
                        weight_ = w_ > weight_ ? w_ : weight_;                                    \
                    }                                                                             \
                }                                                                                 \
                bound_ = (p)->step_clip * (weight_ > 1.0f ? weight_ : 1.0f);                       \
                clip_ = largest_ > bound_ ? bound_ / largest_ : 1.0f;                             \
            }                                                                                     \
            for (m_ = 0; m_ < mid_; m_++) {                                                       \
                const float *g_ = (grad) + ((r_ - (begin)) * mid_ + m_) * n_;                     \
                for (j_ = 0; j_ < n_; j_++) {                                                     \
                    const int32_t col_ = (channels) == NULL ? j_ : (channels)[j_];                \
                    float *v_ = (velocity) == NULL ? NULL : (velocity) + (r_ * mid_ + m_) * n_ + j_;  \
                    const float step_ = tte_sgd_step((p), (grad_scale), r_, col_, g_[j_], v_);    \
                    if (clip_ != 1.0f && v_ != NULL && !tte_f32_is_nan(step_)) {                  \
                        *v_ = *v_ * clip_; /* the velocity it stored, scaled as the step */        \
                    }                                                                             \
                    APPLY((r_ * mid_ + m_) * cols_ + col_, clip_ == 1.0f ? step_ : step_ * clip_); \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    } while (0)

/* Draw n of stochastic rounding, uniform on [0, 1) in steps of 2^-24: an integer hash of the
 * counter n (xor-shift-multiply rounds, whose multipliers come from a published search for
 * well-mixing 32-bit hashes), its top 24 bits scaled exactly.  A hash of a counter rather than
 * a generator's state, so that the reference (reference/backward/sgd_update.py) makes any
 * run of draws at once; the counter is the whole state, and a checkpoint saves it. */
static inline float tte_uniform_draw(uint32_t n)
{
    uint32_t x = n;
    x ^= x >> 16;
    x *= 0x21F0AAADu;
    x ^= x >> 15;
    x *= 0x735A2D97u;
    x ^= x >> 15;
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

/* The whole number an int8 / int32 update subtracts for `step`: roundf (ties away from zero)
 * with draws NULL; else floor(step) + 1 with probability step - floor(step) (both exact in
 * float32), taking draw *draws and advancing the counter, also for a NaN step, so that every
 * element takes one draw.  In expectation, the stochastic one is the step itself: a step
 * smaller than half a unit still moves the parameter, now and then. */
static inline float tte_round_step(float step, uint32_t *draws)
{
    float whole;
    if (draws == NULL) {
        return tte_roundf(step);
    }
    whole = tte_floorf(step);
    return tte_uniform_draw((*draws)++) < step - whole ? whole + 1.0f : whole;
}

/* Clamped before the conversion, so that huge or non-finite masters saturate instead of
 * overflowing the cast. */
static inline int8_t tte_s8_of_master(float master)
{
    const float r = tte_roundf(master);
    return (int8_t)(r >= 127.0f ? 127 : r <= -128.0f ? -128 : (int32_t)r);
}

static inline void tte_master_to_s8(const float *master, int8_t *image, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        image[i] = tte_s8_of_master(master[i]);
    }
}

/* The sums of a depthwise weight gradient (both tte_depthwise_conv2d_grad_weight kernels):
 * dw[kh, kw, j] starts at +0 and adds gz[pixel, c] * x_real[tap, xc] for every output pixel in
 * row-major order, with c = channels[j] (j when channels is NULL) and xc = c for an input holding
 * all channels (in_c == ch) or xc = j for one holding only the trained channels (in_c == n). */
static inline void tte_dw_grad_weight_sums(const tte_conv_grad_params *p, int32_t in_h, int32_t in_w,
                                           int32_t in_c, const int8_t *input, int32_t out_h, int32_t out_w,
                                           int32_t ch, const float *grad, const int32_t *channels, int32_t k_h,
                                           int32_t k_w, int32_t n, float *output)
{
    const int32_t gathered = in_c != ch;
    int32_t kh, kw, oy, ox, j;
    for (kh = 0; kh < k_h; kh++) {
        for (kw = 0; kw < k_w; kw++) {
            float *dw = output + (kh * k_w + kw) * n;
            for (j = 0; j < n; j++) {
                dw[j] = 0.0f;
            }
            for (oy = 0; oy < out_h; oy++) {
                const int32_t y = oy * p->stride_h + kh - p->pad_top;
                if (y < 0 || y >= in_h) {
                    continue;
                }
                for (ox = 0; ox < out_w; ox++) {
                    const int32_t x = ox * p->stride_w + kw - p->pad_left;
                    const int8_t *row;
                    const float *g;
                    if (x < 0 || x >= in_w) {
                        continue;
                    }
                    row = input + (y * in_w + x) * in_c;
                    g = grad + (oy * out_w + ox) * ch;
                    for (j = 0; j < n; j++) {
                        const int32_t c = channels == NULL ? j : channels[j];
                        const int32_t xc = gathered ? j : c;
                        dw[j] = dw[j] + g[c] * ((float)((int32_t)row[xc] - p->input_zero_point) * p->input_scale);
                    }
                }
            }
        }
    }
}

#endif /* TTE_TRAIN_COMMON_H */
