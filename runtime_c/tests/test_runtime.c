/*
 * C unit tests of runtime_c, runnable with only a C compiler: `make -C runtime_c test`.
 *
 * Each expected value is worked out by hand in the comment beside it, or comes from the naive
 * loop in this file (naive_conv_s8: the textbook NHWC convolution, one tap at a time, no
 * shortcut), never from the kernel under test.  The bit-for-bit comparisons against the numpy
 * reference, over many shapes, are in tests/c (pytest); these tests pin the arithmetic rules
 * themselves (rounding, saturation, padding, the SGD limits) where no Python is at hand.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tte_kernels.h"
#include "internal/tte_mathf.h"
#include "internal/tte_requant.h"
#include "internal/tte_train_common.h"

static int failures = 0;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, __func__, #cond); \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

#define CHECK_EQ_INT(got, want)                                                            \
    do {                                                                                   \
        const long long got_ = (long long)(got), want_ = (long long)(want);                \
        if (got_ != want_) {                                                               \
            fprintf(stderr, "%s:%d: %s: %s is %lld, expected %lld\n", __FILE__, __LINE__,  \
                    __func__, #got, got_, want_);                                          \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

/* A multiplier and shift that requantize by exactly 1: 2^30 is 0.5 in Q31, shift 1 doubles. */
#define ONE_MULT (1 << 30)
#define ONE_SHIFT 1

static void test_requantize_rounds_half_up(void)
{
    /* 0.5 * 5 = 2.5 -> 3; 0.5 * -5 = -2.5 -> -2 (half up); 0.5 * 7 = 3.5 -> 4 */
    CHECK_EQ_INT(tte_requantize(5, 1 << 30, 0), 3);
    CHECK_EQ_INT(tte_requantize(-5, 1 << 30, 0), -2);
    CHECK_EQ_INT(tte_requantize(7, 1 << 30, 0), 4);
    /* by 1: the value itself */
    CHECK_EQ_INT(tte_requantize(-1234, ONE_MULT, ONE_SHIFT), -1234);
    /* 0.75 (3 * 2^29) * 10 = 7.5 -> 8 */
    CHECK_EQ_INT(tte_requantize(10, 3 << 29, 0), 8);
}

static void test_roundf_ties_away_from_zero(void)
{
    CHECK(tte_roundf(0.5f) == 1.0f);
    CHECK(tte_roundf(-0.5f) == -1.0f);
    CHECK(tte_roundf(1.5f) == 2.0f);
    CHECK(tte_roundf(2.5f) == 3.0f);
    CHECK(tte_roundf(-2.5f) == -3.0f);
    CHECK(tte_roundf(0.49999997f) == 0.0f);
    CHECK(tte_roundf(8388609.0f) == 8388609.0f); /* already whole */
    CHECK(tte_roundf(-1e30f) == -1e30f);
}

/* The textbook convolution: out[n, oy, ox, o] over every tap, padding skipped, then the
 * per-channel requantization, output offset and clamp. */
static void naive_conv_s8(const tte_conv_params *p, const tte_per_channel_quant *q, const tte_dims *in_d,
                          const int8_t *in, const tte_dims *f_d, const int8_t *f, const int32_t *bias,
                          const tte_dims *out_d, int8_t *out, int depthwise)
{
    int32_t n, oy, ox, o, ky, kx, c;
    for (n = 0; n < out_d->n; n++) {
        for (oy = 0; oy < out_d->h; oy++) {
            for (ox = 0; ox < out_d->w; ox++) {
                for (o = 0; o < out_d->c; o++) {
                    int32_t acc = bias[o];
                    for (ky = 0; ky < f_d->h; ky++) {
                        for (kx = 0; kx < f_d->w; kx++) {
                            const int32_t iy = oy * p->stride_h - p->pad_top + ky;
                            const int32_t ix = ox * p->stride_w - p->pad_left + kx;
                            if (iy < 0 || iy >= in_d->h || ix < 0 || ix >= in_d->w) {
                                continue;
                            }
                            for (c = 0; c < (depthwise ? 1 : in_d->c); c++) {
                                const int32_t ic = depthwise ? o : c;
                                const int32_t x = in[((n * in_d->h + iy) * in_d->w + ix) * in_d->c + ic];
                                const int32_t w = depthwise ? f[(ky * f_d->w + kx) * f_d->c + o]
                                                            : f[((o * f_d->h + ky) * f_d->w + kx) * f_d->c + c];
                                acc += (x + p->input_offset) * w;
                            }
                        }
                    }
                    acc = tte_requantize(acc, q->multiplier[o], q->shift[o]) + p->output_offset;
                    acc = acc < p->act_min ? p->act_min : acc > p->act_max ? p->act_max : acc;
                    out[((n * out_d->h + oy) * out_d->w + ox) * out_d->c + o] = (int8_t)acc;
                }
            }
        }
    }
}

static void test_conv_1x1_by_hand(void)
{
    /* two pixels [1, 2], [3, -4]; zero point -1, so the kernel sees x + 1: [2, 3], [4, -3].
     * w = [[1, 1], [2, -1]], bias [10, 0]:
     *   pixel 0: 10 + 2 + 3 = 15, 4 - 3 = 1;   pixel 1: 10 + 4 - 3 = 11, 8 + 3 = 11
     * requantized by 1, output offset -3: 12, -2, 8, 8; act_max 10 clamps the 12. */
    const tte_conv_params p = {1, 1, 0, 0, 0, 0, 1, -3, -128, 10};
    const int32_t mult[2] = {ONE_MULT, ONE_MULT}, shift[2] = {ONE_SHIFT, ONE_SHIFT};
    const tte_per_channel_quant q = {mult, shift};
    const tte_dims in_d = {1, 1, 2, 2}, f_d = {2, 1, 1, 2}, out_d = {1, 1, 2, 2};
    const int8_t in[4] = {1, 2, 3, -4}, f[4] = {1, 1, 2, -1};
    const int32_t bias[2] = {10, 0};
    const int8_t want[4] = {10, -2, 8, 8};
    int8_t out[4] = {0};
    CHECK_EQ_INT(tte_conv2d_1x1_s8(NULL, &p, &q, &in_d, in, &f_d, f, bias, &out_d, out), TTE_OK);
    CHECK(memcmp(out, want, sizeof want) == 0);
}

/* A value in [-128, 127] from a fixed sequence, for the larger cases. */
static int8_t pattern(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (int8_t)(*state >> 24);
}

static void test_conv_1x1_matches_the_naive_loop(void)
{
    /* 5 pixels (odd), 3 output channels (odd), 11 input channels (not a multiple of 4): every
     * tail of the tiled kernel; real requantization multipliers */
    enum { P = 5, CI = 11, CO = 3 };
    const tte_conv_params p = {1, 1, 0, 0, 0, 0, 7, -5, -100, 90};
    const int32_t mult[CO] = {1518500250, 1073741824, 2000000000}, shift[CO] = {-7, -6, -8};
    const tte_per_channel_quant q = {mult, shift};
    const tte_dims in_d = {1, 1, P, CI}, f_d = {CO, 1, 1, CI}, out_d = {1, 1, P, CO};
    int8_t in[P * CI], f[CO * CI], got[P * CO], want[P * CO];
    const int32_t bias[CO] = {-300, 0, 1234};
    uint32_t s = 1;
    int i;
    for (i = 0; i < P * CI; i++) {
        in[i] = pattern(&s);
    }
    for (i = 0; i < CO * CI; i++) {
        f[i] = pattern(&s);
    }
    naive_conv_s8(&p, &q, &in_d, in, &f_d, f, bias, &out_d, want, 0);
    CHECK_EQ_INT(tte_conv2d_1x1_s8(NULL, &p, &q, &in_d, in, &f_d, f, bias, &out_d, got), TTE_OK);
    CHECK(memcmp(got, want, sizeof want) == 0);
}

static void test_depthwise_3x3_padding_by_hand(void)
{
    /* one channel 1..9 on a 3x3 map, all-ones 3x3 filter, padding 1: each output is the sum of
     * its in-map neighbours, e.g. the corner 1 + 2 + 4 + 5 = 12, the centre 45 */
    const tte_conv_params p = {1, 1, 1, 1, 1, 1, 0, 0, -128, 127};
    const int32_t mult[1] = {ONE_MULT}, shift[1] = {ONE_SHIFT};
    const tte_per_channel_quant q = {mult, shift};
    const tte_dims in_d = {1, 3, 3, 1}, f_d = {1, 3, 3, 1}, out_d = {1, 3, 3, 1};
    const int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, f[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int32_t bias[1] = {0};
    const int8_t want[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    int8_t out[9] = {0};
    CHECK_EQ_INT(tte_depthwise_conv2d_s8(NULL, &p, &q, &in_d, in, &f_d, f, bias, &out_d, out), TTE_OK);
    CHECK(memcmp(out, want, sizeof want) == 0);
}

static void test_depthwise_matches_the_naive_loop(void)
{
    /* 5x5 kernels, stride 2, uneven padding, 6 channels, a nonzero input offset */
    enum { H = 9, W = 7, C = 6, K = 5, OH = 5, OW = 4 };
    const tte_conv_params p = {2, 2, 2, 2, 2, 2, -3, 4, -128, 127};
    int32_t mult[C], shift[C], bias[C];
    const tte_per_channel_quant q = {mult, shift};
    const tte_dims in_d = {1, H, W, C}, f_d = {1, K, K, C}, out_d = {1, OH, OW, C};
    int8_t in[H * W * C], f[K * K * C], got[OH * OW * C], want[OH * OW * C];
    uint32_t s = 7;
    int i;
    for (i = 0; i < C; i++) {
        mult[i] = 1200000000 + 100000000 * i;
        shift[i] = -6 - (i % 3);
        bias[i] = 500 * i - 1000;
    }
    for (i = 0; i < H * W * C; i++) {
        in[i] = pattern(&s);
    }
    for (i = 0; i < K * K * C; i++) {
        f[i] = pattern(&s);
    }
    naive_conv_s8(&p, &q, &in_d, in, &f_d, f, bias, &out_d, want, 1);
    CHECK_EQ_INT(tte_depthwise_conv2d_s8(NULL, &p, &q, &in_d, in, &f_d, f, bias, &out_d, got), TTE_OK);
    CHECK(memcmp(got, want, sizeof want) == 0);
}

static void test_bad_dims_are_refused_and_write_nothing(void)
{
    /* the filter's input channels (3) disagree with the input's (2) */
    const tte_conv_params p = {1, 1, 0, 0, 0, 0, 0, 0, -128, 127};
    const int32_t mult[1] = {ONE_MULT}, shift[1] = {ONE_SHIFT};
    const tte_per_channel_quant q = {mult, shift};
    const tte_dims in_d = {1, 1, 1, 2}, f_d = {1, 1, 1, 3}, out_d = {1, 1, 1, 1};
    const int8_t in[2] = {1, 1}, f[3] = {1, 1, 1};
    const int32_t bias[1] = {0};
    int8_t out[1] = {42};
    CHECK_EQ_INT(tte_conv2d_1x1_s8(NULL, &p, &q, &in_d, in, &f_d, f, bias, &out_d, out), TTE_ERR_ARG);
    CHECK_EQ_INT(out[0], 42);
}

static void test_sgd_int8_saturates_and_ignores_nan(void)
{
    /* lr 1, one scale of 1: P - round(grad), saturated to int8.
     *   -128 - 1 -> -128 (saturated);  0 - round(0.5) = -1 (ties away from zero);
     *   127 - (-1000) -> 127;  a NaN step leaves 5 as it is */
    const tte_sgd_params p = {1.0f, TTE_SCALE_PER_TENSOR, 0.0f, 0.0f};
    const tte_dims d = {1, 1, 1, 4};
    const float scale[1] = {1.0f};
    float grad[4] = {1.0f, 0.5f, -1000.0f, 0.0f};
    int8_t param[4] = {-128, 0, 127, 5};
    const int8_t want[4] = {-128, -1, 127, 5};
    grad[3] = nanf("");
    CHECK_EQ_INT(tte_sgd_update_int(NULL, &p, &d, &d, grad, scale, NULL, NULL, param, NULL, NULL, NULL), TTE_OK);
    CHECK(memcmp(param, want, sizeof want) == 0);
}

static void test_sgd_int32_keeps_to_the_bias_limit(void)
{
    /* lr 1, scale 1, L = TTE_BIAS_LIMIT = 2^30:
     *   L - 1 - (-10) would pass L: stops at L;
     *   -2^31 (already beyond -L, a dead channel's bias) - 5: stays at -2^31, never wraps;
     *   0 - 1e20 (the step clamped to 2^32): stops at -L;
     *   100 - 0.5 -> 99 (round(0.5) = 1) */
    const tte_sgd_params p = {1.0f, TTE_SCALE_PER_TENSOR, 0.0f, 0.0f};
    const tte_dims d = {1, 1, 1, 4};
    const float scale[1] = {1.0f}, grad[4] = {-10.0f, 5.0f, 1e20f, 0.5f};
    int32_t param[4] = {TTE_BIAS_LIMIT - 1, INT32_MIN, 0, 100};
    CHECK_EQ_INT(tte_sgd_update_int(NULL, &p, &d, &d, grad, scale, NULL, NULL, NULL, param, NULL, NULL), TTE_OK);
    CHECK_EQ_INT(param[0], TTE_BIAS_LIMIT);
    CHECK_EQ_INT(param[1], INT32_MIN);
    CHECK_EQ_INT(param[2], -TTE_BIAS_LIMIT);
    CHECK_EQ_INT(param[3], 99);
}

static void test_sgd_int_takes_exactly_one_parameter(void)
{
    /* neither or both of the int8 and int32 parameters: refused, and neither moves */
    const tte_sgd_params p = {1.0f, TTE_SCALE_PER_TENSOR, 0.0f, 0.0f};
    const tte_dims d = {1, 1, 1, 1};
    const float scale[1] = {1.0f}, grad[1] = {3.0f};
    int8_t weight[1] = {7};
    int32_t bias[1] = {7};
    CHECK_EQ_INT(tte_sgd_update_int(NULL, &p, &d, &d, grad, scale, NULL, NULL, NULL, NULL, NULL, NULL), TTE_ERR_ARG);
    CHECK_EQ_INT(tte_sgd_update_int(NULL, &p, &d, &d, grad, scale, NULL, NULL, weight, bias, NULL, NULL), TTE_ERR_ARG);
    CHECK_EQ_INT(weight[0], 7);
    CHECK_EQ_INT(bias[0], 7);
}

static void test_sgd_updates_only_the_trained_columns(void)
{
    /* a [2, 3] weight whose columns 0 and 2 train (channels {0, 2}); per-row scales 1 and 2,
     * lr 1: row 0 moves by round(grad), row 1 by round(2 * grad); column 1 keeps its value */
    const tte_sgd_params p = {1.0f, TTE_SCALE_PER_ROW, 0.0f, 0.0f};
    const tte_dims pd = {2, 1, 1, 3}, gd = {2, 1, 1, 2};
    const float scale[2] = {1.0f, 2.0f}, grad[4] = {1.0f, -2.0f, 1.5f, 0.25f};
    const int32_t channels[2] = {0, 2};
    int8_t param[6] = {10, 20, 30, 40, 50, 60};
    /* 10 - 1 = 9, 30 + 2 = 32; 40 - round(3) = 37, 60 - round(0.5) = 59 */
    const int8_t want[6] = {9, 20, 32, 37, 50, 59};
    CHECK_EQ_INT(tte_sgd_update_int(NULL, &p, &pd, &gd, grad, scale, channels, NULL, param, NULL, NULL, NULL), TTE_OK);
    CHECK(memcmp(param, want, sizeof want) == 0);
}

static void test_floorf(void)
{
    CHECK(tte_floorf(2.5f) == 2.0f);
    CHECK(tte_floorf(-2.5f) == -3.0f);
    CHECK(tte_floorf(-3.0f) == -3.0f);
    CHECK(tte_floorf(-0.25f) == -1.0f);
    CHECK(tte_floorf(0.75f) == 0.0f);
    CHECK(tte_floorf(16777216.0f) == 16777216.0f);
}

static void test_uniform_draws_lie_in_the_unit_interval_and_spread(void)
{
    /* 2^16 draws: all in [0, 1), multiples of 2^-24, and each of 16 equal bins holds its 4096
     * within 5 % (a binomial's standard deviation here is 62, so 205 is over 3 of them) */
    int32_t bins[16] = {0};
    uint32_t n;
    int32_t i;
    for (n = 0; n < 65536u; n++) {
        const float u = tte_uniform_draw(n * 2654435761u);
        CHECK(u >= 0.0f && u < 1.0f);
        CHECK(u * 16777216.0f == (float)(int32_t)(u * 16777216.0f));
        bins[(int32_t)(u * 16.0f)]++;
    }
    for (i = 0; i < 16; i++) {
        CHECK(bins[i] > 4096 - 205 && bins[i] < 4096 + 205);
    }
}

static void test_stochastic_rounding_takes_one_draw_an_element_and_is_unbiased(void)
{
    /* whole steps need no luck: 3 - 2 = 1, -4 - (-1) = -3 whatever the draws; a NaN step leaves
     * its element, but takes its draw all the same */
    const tte_sgd_params p = {1.0f, TTE_SCALE_PER_TENSOR, 0.0f, 0.0f};
    const tte_dims d = {1, 1, 1, 3};
    const float scale[1] = {1.0f};
    float grad[3] = {2.0f, -1.0f, 0.0f};
    int8_t param[3] = {3, -4, 9};
    uint32_t draws = 1000u;
    int32_t k, total = 0;
    grad[2] = nanf("");
    CHECK_EQ_INT(tte_sgd_update_int(NULL, &p, &d, &d, grad, scale, NULL, NULL, param, NULL, &draws, NULL), TTE_OK);
    CHECK_EQ_INT(param[0], 1);
    CHECK_EQ_INT(param[1], -3);
    CHECK_EQ_INT(param[2], 9);
    CHECK_EQ_INT(draws, 1003u);
    /* a step of 0.25, 4000 times from 0: to nearest it never moves; stochastically it moves by
     * one about 1000 times (binomial standard deviation 27; 1000 +- 120 is over 4 of them) */
    {
        const tte_dims one = {1, 1, 1, 1};
        const float quarter[1] = {0.25f};
        int32_t value[1];
        for (k = 0; k < 4000; k++) {
            value[0] = 0;
            CHECK_EQ_INT(tte_sgd_update_int(NULL, &p, &one, &one, quarter, scale, NULL, NULL, NULL, value, &draws, NULL), TTE_OK);
            total -= value[0];
        }
    }
    CHECK(total > 880 && total < 1120);
    CHECK_EQ_INT(draws, 5003u);
}

int main(void)
{
    test_requantize_rounds_half_up();
    test_roundf_ties_away_from_zero();
    test_conv_1x1_by_hand();
    test_conv_1x1_matches_the_naive_loop();
    test_depthwise_3x3_padding_by_hand();
    test_depthwise_matches_the_naive_loop();
    test_bad_dims_are_refused_and_write_nothing();
    test_sgd_int8_saturates_and_ignores_nan();
    test_sgd_int_takes_exactly_one_parameter();
    test_sgd_int32_keeps_to_the_bias_limit();
    test_sgd_updates_only_the_trained_columns();
    test_floorf();
    test_uniform_draws_lie_in_the_unit_interval_and_spread();
    test_stochastic_rounding_takes_one_draw_an_element_and_is_unbiased();
    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("runtime_c: all tests passed\n");
    return 0;
}
