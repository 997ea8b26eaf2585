/*
 * Title:       tte_conv2d_grad_weight_f32.c
 * Description: CONV2D weight gradient for a subset of input channels (sparse update), from
 *              the saved int8 input dequantized on the fly.
 *
 * Layout:      input int8 NHWC [1, H, W, C_in]; grad float32 NHWC [1, OH, OW, C_out];
 *              channels int32 [n]; output float32 [C_out, KH, KW, n] (OHWI of the trained
 *              input channels).
 * Quantization: x_real = float32(x - input_zero_point) * input_scale.
 *   dw[o, kh, kw, j] = +0, then for each output pixel (oy, ox) in row-major order whose tap
 *   (y, x) = (oy * stride_h + kh - pad_top, ox * stride_w + kw - pad_left) is inside the
 *   input: dw += grad[oy, ox, o] * x_real[y, x, channels[j]]
 *   (reference/backward/conv2d_grad_weight.py; its padded taps add grad * 0 = +-0, which
 *   leaves a sum that started at +0 unchanged, so they are skipped).
 *
 * One output row dw[o, kh, kw, :] at a time, the pixel loops outside the channel loop.
 * No scratch memory.
 */
#include "tte_kernels.h"
#include "tte_train_common.h"

int32_t tte_conv2d_grad_weight_f32_scratch_bytes(const tte_dims *input_dims,
                                                 const tte_dims *filter_dims,
                                                 const tte_dims *output_dims)
{
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

tte_status tte_conv2d_grad_weight_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                      const tte_dims *input_dims, const int8_t *input,
                                      const tte_dims *grad_dims, const float *grad,
                                      const int32_t *channels, const tte_dims *output_dims,
                                      float *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w, out_c = grad_dims->c;
    const int32_t k_h = output_dims->h, k_w = output_dims->w, n = output_dims->c;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    const int32_t zp = p->input_zero_point;
    const float scale = p->input_scale;
    int32_t o, kh, kw, oy, ox, j;
    (void)ctx;

    if (input_dims->n != 1 || grad_dims->n != 1 || output_dims->n != out_c || sh < 1 ||
        sw < 1 || k_h < 1 || k_w < 1 || p->pad_top < 0 || p->pad_left < 0 ||
        p->pad_bottom < 0 || p->pad_right < 0 || in_h + p->pad_top + p->pad_bottom < k_h ||
        in_w + p->pad_left + p->pad_right < k_w ||
        out_h != (in_h + p->pad_top + p->pad_bottom - k_h) / sh + 1 ||
        out_w != (in_w + p->pad_left + p->pad_right - k_w) / sw + 1 ||
        !tte_channels_ok(channels, n, in_c)) {
        return TTE_ERR_ARG;
    }

    for (o = 0; o < out_c; o++) {
        for (kh = 0; kh < k_h; kh++) {
            for (kw = 0; kw < k_w; kw++) {
                float *dw = output + ((o * k_h + kh) * k_w + kw) * n;
                for (j = 0; j < n; j++) {
                    dw[j] = 0.0f;
                }
                for (oy = 0; oy < out_h; oy++) {
                    const int32_t y = oy * sh + kh - p->pad_top;
                    if (y < 0 || y >= in_h) {
                        continue;
                    }
                    for (ox = 0; ox < out_w; ox++) {
                        const int32_t x = ox * sw + kw - p->pad_left;
                        const int8_t *row;
                        float g;
                        if (x < 0 || x >= in_w) {
                            continue;
                        }
                        row = input + (y * in_w + x) * in_c;
                        g = grad[(oy * out_w + ox) * out_c + o];
                        for (j = 0; j < n; j++) {
                            const int32_t c = channels == NULL ? j : channels[j];
                            dw[j] = dw[j] + g * ((float)((int32_t)row[c] - zp) * scale);
                        }
                    }
                }
            }
        }
    }
    return TTE_OK;
}
