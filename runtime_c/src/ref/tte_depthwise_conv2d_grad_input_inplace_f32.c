/*
 * Title:       tte_depthwise_conv2d_grad_input_inplace_f32.c
 * Description: DEPTHWISE_CONV2D input gradient (depth multiplier 1) whose output may
 *              overwrite the incoming gradient, computed one channel at a time through a
 *              one-channel float32 scratch plane.
 *
 * Layout:      grad float32 NHWC [N, OH, OW, C]; weights int8 1HWC [1, KH, KW, C] with
 *              float32 scales [C]; output float32 NHWC [N, H, W, C] at grad's address (in
 *              place) or disjoint from it; scratch: one gradient channel as an [OH, OW]
 *              float32 plane (OH * OW * 4 bytes).
 * Quantization: w_real = float32(w[0, kh, kw, c]) * scale[c] (symmetric weights).
 *   dx[y, x, c] = +0, then for kh, for kw over the taps with y + pad_top - kh = oy * stride_h
 *   and x + pad_left - kw = ox * stride_w inside the grad: dx += grad[oy, ox, c] * w_real
 *   (reference/backward/depthwise_conv2d_grad_input.py); bit-identical to
 *   tte_depthwise_conv2d_grad_input_f32 (same products, same order per element).
 *
 * Why overwriting is safe: for each image b, then each channel c, the plane grad[b, :, :, c]
 * is copied into scratch before dx[b, :, :, c] is written.  Output element (b, p, c),
 * p = y * W + x, sits at element (b * H * W + p) * C + c: a channel-c slot of flat grad pixel
 * b * H * W + p < (b + 1) * OH * OW (as H * W <= OH * OW), so of an image whose channel c is
 * already in scratch or fully consumed; no other channel is touched.  passes/inplace.py only
 * aliases dx onto a grad at least as large (stride 1 with "same" padding in practice); the
 * planner reserves one padded grad channel (passes/lifetimes.py scratch_bytes), at least the
 * OH * OW floats used here.
 */
#include "tte_kernels.h"

int32_t tte_depthwise_conv2d_grad_input_inplace_f32_scratch_bytes(const tte_dims *input_dims,
                                                                  const tte_dims *filter_dims,
                                                                  const tte_dims *output_dims)
{
    (void)filter_dims;
    (void)output_dims;
    return input_dims->h * input_dims->w * (int32_t)sizeof(float);
}

#define MAX_TAPS 49

/* One channel with stride 1: the reaching taps of dx[y, x] are kh in [y + pad_top - OH + 1,
 * y + pad_top] and kw likewise, clipped to the kernel, visited in the same increasing (kh, kw)
 * order as the general loop, with the dequantized weights computed once per channel (the same
 * float32 products), so every element gets the same sum bit for bit. */
static void plane_stride1(const tte_conv_grad_params *p, const float *g, int32_t out_h,
                          int32_t out_w, const int8_t *w, int32_t ch, float scale, int32_t k_h,
                          int32_t k_w, int32_t in_h, int32_t in_w, float *dx, int32_t dx_stride)
{
    float wr[MAX_TAPS];
    int32_t y, x, kh, kw, i;
    for (i = 0; i < k_h * k_w; i++) {
        wr[i] = (float)w[i * ch] * scale;
    }
    for (y = 0; y < in_h; y++) {
        const int32_t ty0 = y + p->pad_top; /* ty = ty0 - kh */
        const int32_t kh_lo = ty0 - out_h + 1 > 0 ? ty0 - out_h + 1 : 0;
        const int32_t kh_hi = ty0 + 1 < k_h ? ty0 + 1 : k_h;
        for (x = 0; x < in_w; x++) {
            const int32_t tx0 = x + p->pad_left;
            const int32_t kw_lo = tx0 - out_w + 1 > 0 ? tx0 - out_w + 1 : 0;
            const int32_t kw_hi = tx0 + 1 < k_w ? tx0 + 1 : k_w;
            float acc = 0.0f;
            for (kh = kh_lo; kh < kh_hi; kh++) {
                const float *gr = g + (ty0 - kh) * out_w + tx0;
                const float *wk = wr + kh * k_w;
                for (kw = kw_lo; kw < kw_hi; kw++) {
                    acc = acc + gr[-kw] * wk[kw];
                }
            }
            dx[(y * in_w + x) * dx_stride] = acc;
        }
    }
}

tte_status tte_depthwise_conv2d_grad_input_inplace_f32(
    const tte_ctx *ctx, const tte_conv_grad_params *p, const tte_dims *grad_dims,
    const float *grad, const tte_dims *filter_dims, const int8_t *filter,
    const float *filter_scale, const tte_dims *output_dims, float *output)
{
    const int32_t in_h = output_dims->h, in_w = output_dims->w, ch = output_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    const int32_t g_plane = out_h * out_w, x_plane = in_h * in_w;
    float *scratch;
    int32_t b, c, i, y, x, kh, kw;

    if (filter_dims->n != 1 || filter_dims->c != ch || grad_dims->c != ch ||
        output_dims->n != grad_dims->n || sh < 1 || sw < 1 || k_h < 1 || k_w < 1 ||
        p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0 ||
        in_h + p->pad_top + p->pad_bottom < k_h || in_w + p->pad_left + p->pad_right < k_w ||
        out_h != (in_h + p->pad_top + p->pad_bottom - k_h) / sh + 1 ||
        out_w != (in_w + p->pad_left + p->pad_right - k_w) / sw + 1 || x_plane > g_plane) {
        return TTE_ERR_ARG;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < g_plane * (int32_t)sizeof(float)) {
        return TTE_ERR_SCRATCH;
    }
    scratch = (float *)ctx->buf;

    for (b = 0; b < grad_dims->n; b++) {
        const float *g_b = grad + b * g_plane * ch;
        float *dx_b = output + b * x_plane * ch;
        for (c = 0; c < ch; c++) {
            const float scale = filter_scale[c];
            for (i = 0; i < g_plane; i++) {
                scratch[i] = g_b[i * ch + c];
            }
            if (sh == 1 && sw == 1 && k_h * k_w <= MAX_TAPS) {
                plane_stride1(p, scratch, out_h, out_w, filter + c, ch, scale, k_h, k_w, in_h,
                              in_w, dx_b + c, ch);
                continue;
            }
            for (y = 0; y < in_h; y++) {
                for (x = 0; x < in_w; x++) {
                    float acc = 0.0f;
                    for (kh = 0; kh < k_h; kh++) {
                        const int32_t ty = y + p->pad_top - kh;
                        if (ty < 0 || ty % sh != 0 || ty / sh >= out_h) {
                            continue;
                        }
                        for (kw = 0; kw < k_w; kw++) {
                            const int32_t tx = x + p->pad_left - kw;
                            if (tx < 0 || tx % sw != 0 || tx / sw >= out_w) {
                                continue;
                            }
                            acc = acc + scratch[(ty / sh) * out_w + tx / sw] *
                                            ((float)filter[(kh * k_w + kw) * ch + c] * scale);
                        }
                    }
                    dx_b[(y * in_w + x) * ch + c] = acc;
                }
            }
        }
    }
    return TTE_OK;
}
