/*
 * Title:       tte_softmax_cross_entropy_f32.c
 * Description: Softmax cross-entropy of one image with label smoothing: float32 loss and
 *              logits gradient from the real logits (tte_real_logits_f32).
 *
 * Layout:      logits float32 [K]; label int32 [1]; grad float32 [K]; loss float32 [1].
 * Quantization: none, the logits are real.  In float32, one rounding per operation
 *   (reference/backward/softmax_cross_entropy.py), with l_k = logits[k]:
 *   m = max(l) (the first largest); d_k = l_k - m; e_k = tte_expf(d_k); S = +0 + e_0 + ... + e_{K-1};
 *   t_k = e / K, plus (1 - e) at the label; loss = tte_logf(S) - t_0 d_0 - ... - t_{K-1} d_{K-1};
 *   grad_k = e_k / S - t_k.
 *
 * The exponentials are parked in grad_output until S is known, so no scratch is needed.
 */
#include "internal/tte_checks.h"
#include "internal/tte_mathf.h"
#include "tte_kernels.h"

TTE_NO_SCRATCH(tte_softmax_cross_entropy_f32)

tte_status tte_softmax_cross_entropy_f32(const tte_ctx *ctx, const tte_softmax_ce_params *p,
                                         const tte_dims *logits_dims, const float *logits,
                                         const int32_t *label, float *grad_output,
                                         float *loss_output)
{
    const int32_t k = logits_dims->h * logits_dims->w * logits_dims->c;
    const float smoothing = p->label_smoothing;
    float max, total = 0.0f, share, loss;
    int32_t i;
    (void)ctx;

    if (logits_dims->n != 1 || k < 1 || label[0] < 0 || label[0] >= k) {
        return TTE_ERR_ARG;
    }
    max = logits[0];
    for (i = 1; i < k; i++) {
        max = logits[i] > max ? logits[i] : max;
    }
    for (i = 0; i < k; i++) {
        grad_output[i] = tte_expf(logits[i] - max);
        total = total + grad_output[i];
    }
    share = smoothing / (float)k;
    loss = tte_logf(total);
    for (i = 0; i < k; i++) {
        const float t = i == label[0] ? (1.0f - smoothing) + share : share;
        loss = loss - t * (logits[i] - max);
        grad_output[i] = grad_output[i] / total - t;
    }
    loss_output[0] = loss;
    return TTE_OK;
}
