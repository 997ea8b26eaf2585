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
 * With `rows`, only output channels [begin, begin + count) are made, into an output that
 * holds just them (a fused update's block).  No scratch memory.
 *
 * A 1x1 kernel with stride 1 and no padding (every pointwise conv) pairs grad pixel p with
 * input pixel p, so dw[o, j] = sum over p in order of grad[p, o] * x_real[p, channels[j]]:
 * per block of 4 trained channels the inputs x_real are dequantized once into a stack panel
 * (TTE_GW_PANEL_PIXELS pixels at a time, 2.5 KB) that every output channel reads, and a
 * tile of 4 output channels x 4 trained channels is kept in 16 float registers across the
 * pixel loop.  With more pixels than the panel holds, the partial sums go to dw between
 * panels and come back, as float32 both ways.  Every element still starts at +0 and adds
 * the same rounded products in the same pixel order, so the result is bit-identical.
 */
#include "internal/tte_checks.h"
#include "internal/tte_train_common.h"
#include "tte_kernels.h"

/* Dequantized inputs of one block of 4 trained channels for up to this many pixels: [p][4]
 * floats on the stack (2.5 KB). */
#define TTE_GW_PANEL_PIXELS 160

/* dw[o .. o + 3, j .. j + jn - 1] (rows n apart) over pixels [p0, p0 + rows) of the panel:
 * continues the partial sums in dw when p0 > 0. */
static void tile_4x4(const float *g, int32_t out_c, const float *panel, int32_t p0, int32_t rows,
                     float *dw, int32_t n, int32_t jn)
{
    float a[4][4];
    int32_t p, r, k;
    for (r = 0; r < 4; r++) {
        for (k = 0; k < 4; k++) {
            a[r][k] = p0 > 0 && k < jn ? dw[r * n + k] : 0.0f;
        }
    }
    for (p = 0; p < rows; p++, g += out_c, panel += 4) {
        const float x0 = panel[0], x1 = panel[1], x2 = panel[2], x3 = panel[3];
        const float g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3];
        a[0][0] = a[0][0] + g0 * x0;
        a[0][1] = a[0][1] + g0 * x1;
        a[0][2] = a[0][2] + g0 * x2;
        a[0][3] = a[0][3] + g0 * x3;
        a[1][0] = a[1][0] + g1 * x0;
        a[1][1] = a[1][1] + g1 * x1;
        a[1][2] = a[1][2] + g1 * x2;
        a[1][3] = a[1][3] + g1 * x3;
        a[2][0] = a[2][0] + g2 * x0;
        a[2][1] = a[2][1] + g2 * x1;
        a[2][2] = a[2][2] + g2 * x2;
        a[2][3] = a[2][3] + g2 * x3;
        a[3][0] = a[3][0] + g3 * x0;
        a[3][1] = a[3][1] + g3 * x1;
        a[3][2] = a[3][2] + g3 * x2;
        a[3][3] = a[3][3] + g3 * x3;
    }
    for (r = 0; r < 4; r++) {
        for (k = 0; k < jn; k++) {
            dw[r * n + k] = a[r][k];
        }
    }
}

/* dw[o - o_begin, j] for output channels o in [o_begin, o_end) of a 1x1 / stride 1 / no-pad
 * conv over n_pix pixels (see the file comment). */
static void grad_weight_1x1(const int8_t *input, int32_t in_c, int32_t zp, float scale,
                            const float *grad, int32_t n_pix, int32_t out_c, int32_t o_begin,
                            int32_t o_end, const int32_t *channels, int32_t n, float *output)
{
    float panel[TTE_GW_PANEL_PIXELS * 4];
    int32_t j, p0, p, k, o;
    for (j = 0; j < n; j += 4) {
        const int32_t jn = n - j < 4 ? n - j : 4;
        for (p0 = 0; p0 < n_pix; p0 += TTE_GW_PANEL_PIXELS) {
            const int32_t rows = n_pix - p0 < TTE_GW_PANEL_PIXELS ? n_pix - p0 : TTE_GW_PANEL_PIXELS;
            const float *g = grad + p0 * out_c;
            for (p = 0; p < rows; p++) {
                const int8_t *row = input + (p0 + p) * in_c;
                for (k = 0; k < 4; k++) {
                    const int32_t c = k >= jn ? -1 : channels == NULL ? j + k : channels[j + k];
                    panel[4 * p + k] = c < 0 ? 0.0f : (float)((int32_t)row[c] - zp) * scale;
                }
            }
            for (o = o_begin; o + 4 <= o_end; o += 4) {
                tile_4x4(g + o, out_c, panel, p0, rows, output + (o - o_begin) * n + j, n, jn);
            }
            for (; o < o_end; o++) {
                float *dw = output + (o - o_begin) * n + j;
                for (k = 0; k < jn; k++) {
                    float a = p0 > 0 ? dw[k] : 0.0f;
                    for (p = 0; p < rows; p++) {
                        a = a + g[p * out_c + o] * panel[4 * p + k];
                    }
                    dw[k] = a;
                }
            }
        }
    }
}

TTE_NO_SCRATCH(tte_conv2d_grad_weight_f32)

tte_status tte_conv2d_grad_weight_f32(const tte_ctx *ctx, const tte_conv_grad_params *p,
                                      const tte_dims *input_dims, const int8_t *input,
                                      const tte_dims *grad_dims, const float *grad,
                                      const int32_t *channels, const tte_rows *rows,
                                      const tte_dims *output_dims, float *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = grad_dims->h, out_w = grad_dims->w, out_c = grad_dims->c;
    const int32_t k_h = output_dims->h, k_w = output_dims->w, n = output_dims->c;
    const int32_t sh = p->stride_h, sw = p->stride_w;
    const int32_t zp = p->input_zero_point;
    const float scale = p->input_scale;
    int32_t o, kh, kw, oy, ox, j, o_begin, o_end;
    (void)ctx;

    if (input_dims->n != 1 || grad_dims->n != 1 || output_dims->n != out_c ||
        !tte_axis_ok(in_h, k_h, sh, p->pad_top, p->pad_bottom, out_h) ||
        !tte_axis_ok(in_w, k_w, sw, p->pad_left, p->pad_right, out_w) ||
        !tte_channels_ok(channels, n, in_c) || !tte_rows_range(rows, out_c, &o_begin, &o_end)) {
        return TTE_ERR_ARG;
    }
    if (k_h == 1 && k_w == 1 && sh == 1 && sw == 1 && p->pad_top == 0 && p->pad_left == 0 &&
        p->pad_bottom == 0 && p->pad_right == 0) {
        grad_weight_1x1(input, in_c, zp, scale, grad, out_h * out_w, out_c, o_begin, o_end, channels, n,
                        output);
        return TTE_OK;
    }

    for (o = o_begin; o < o_end; o++) {
        for (kh = 0; kh < k_h; kh++) {
            for (kw = 0; kw < k_w; kw++) {
                float *dw = output + (((o - o_begin) * k_h + kh) * k_w + kw) * n;
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
