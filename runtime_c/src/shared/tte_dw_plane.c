/*
 * tte_dw_plane.c: tte_dw_plane_s8 (include/internal/tte_dw_plane.h, whose comment says what it computes)
 * and its fast paths, compiled once for every kernel that convolves a plane (the fused expand +
 * depthwise and the in-place depthwise conv).  Internal to runtime_c: not a kernel of the API.
 */
#include <stdint.h>
#include <string.h>

#include "internal/tte_checks.h"
#include "internal/tte_dsp.h"
#include "internal/tte_dw_plane.h"
#include "internal/tte_requant.h"
#include "tte_types.h"

/** The clipped-window loop: any kernel size, any geometry (the fallback of tte_dw_plane_s8). */
static void tte_dw_plane_generic_s8(const tte_dw_plane_geom *g, const int8_t *plane,
                                    const int8_t *w, int32_t w_stride, int32_t bias,
                                    int32_t mult, int32_t shift, int8_t *out, int32_t out_stride)
{
    const int32_t in_h = g->in_h, in_w = g->in_w, k_h = g->k_h, k_w = g->k_w;
    const int32_t in_off = g->input_offset, zp = g->output_offset;
    const int32_t lo = g->act_min, hi = g->act_max;
    const int32_t w_row = k_w * w_stride;
    int32_t oy, ox, ky, kx;
    for (oy = 0; oy < g->out_h; oy++) {
        const int32_t iy0 = oy * g->stride_h - g->pad_top;
        const tte_span taps_y = tte_window_taps(iy0, k_h, in_h);
        for (ox = 0; ox < g->out_w; ox++) {
            const int32_t ix0 = ox * g->stride_w - g->pad_left;
            const tte_span taps_x = tte_window_taps(ix0, k_w, in_w);
            const int32_t cols = taps_x.hi - taps_x.lo;
            int32_t acc = bias;
            for (ky = taps_y.lo; cols > 0 && ky < taps_y.hi; ky++) {
                /* first valid tap of this window row, in the plane and in the weights */
                const int8_t *x = plane + (iy0 + ky) * in_w + ix0 + taps_x.lo;
                const int8_t *wr = w + ky * w_row + taps_x.lo * w_stride;
                for (kx = 0; kx < cols; kx++) {
                    acc += (x[kx] + in_off) * wr[kx * w_stride];
                }
            }
            out[(oy * g->out_w + ox) * out_stride] =
                tte_clamp_s8(tte_requantize_fast(acc, mult, shift) + zp, lo, hi);
        }
    }
}

/* ---- the fast path: an int16 ring of padded rows, dual 16-bit multiply-adds ---------------
 *
 * Each plane row a window needs is widened once into a ring of k rows of int16 holding
 * x + input_offset (in [-255, 255]), with zeros for the padding: a padded tap then contributes
 * exactly nothing and every output pixel reads a full window with no clipping.  The ring is
 * zeroed once per plane and a row only rewrites its interior, so the padding columns cost
 * nothing per row; a padding row clears a slot's interior, and only when a plane row was there.
 * The taps of a window row go in pairs (w[2p], w[2p + 1]), the odd last tap paired with a zero
 * weight, each pair one SMLAD on two adjacent ring values (a word read at any int16 offset);
 * four output pixels per pass (at stride 1 they share their loads), finished two at a time in
 * the lanes of one word.  Ring rows are wide enough for whole passes of four and the zero-
 * weighted partner of the last tap.
 *
 * Same integer result as tte_dw_plane_generic_s8: every product and sum is exact whatever the
 * order the taps are added in, since |x + input_offset| <= 255 and |w| <= 128 keep each SMLAD
 * term within 2 * 255 * 128 and |acc| <= |bias| + 255 * 128 * k * k at every step, inside the
 * int32 bound of tte_kernels.h. */
#define TTE_DW_RING_BYTES 1024
#define TTE_DW_RING_LEN (TTE_DW_RING_BYTES / 2)
#define TTE_DW_MAX_K 7
#define TTE_DW_MAX_PAIRS ((TTE_DW_MAX_K + 1) / 2)

/* Two int16 values at p (any alignment) as one word, low lane first; and the store back. */
static inline int32_t tte_dw_read2_(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void tte_dw_write2_(int16_t *p, int32_t v) { memcpy(p, &v, sizeof v); }

/* dst[i] = src[i] + off for i < n: four values per word read (SXTAB16 adds the offset to
 * bytes 0, 2 and 1, 3; the two halves are then re-interleaved). */
static void tte_dw_widen_row_(int16_t *dst, const int8_t *src, int32_t n, int32_t off)
{
    const int32_t off2 = tte_pack16(off, off);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t v = tte_read_s8x4(src + i);
        const int32_t even = tte_sxtab16(off2, v); /* x0 + off, x2 + off */
        const int32_t odd = tte_sxtab16_ror8(off2, v); /* x1 + off, x3 + off */
        tte_dw_write2_(dst + i, tte_pkhbt(even, odd));
        tte_dw_write2_(dst + i + 2, tte_pkhtb(even, odd));
    }
    for (; i < n; i++) {
        dst[i] = (int16_t)(src[i] + off);
    }
}

/* Output stage of the fast path: the zero point and clamp in both 16-bit lanes, so that two
 * outputs finish together (tte_dsp.h tte_offset_clamp_s8x2). */
typedef struct {
    tte_requant_ch r;
    int32_t zp2, lo2, hi2, out_stride;
} tte_dw_out_stage_;

/* Outputs a and b as the low and high lanes of one word (the fast path has shift < -1). */
static inline int32_t tte_dw_finish2_(int32_t a, int32_t b, const tte_dw_out_stage_ *o)
{
    return tte_offset_clamp_s8x2(tte_requant_ch_apply(a, &o->r, 1),
                                 tte_requant_ch_apply(b, &o->r, 1), o->zp2, o->lo2, o->hi2);
}

/* Padded row r of the plane into its ring slot: the widened plane row, or zeros when r falls
 * in the top or bottom padding.  A slot is zeroed with the ring, so only a slot that has held
 * a plane row (r >= k_h) needs its interior cleared again. */
static void tte_dw_fill_slot_(const tte_dw_plane_geom *g, const int8_t *plane, int32_t r,
                              int16_t *slot)
{
    const int32_t iy = r - g->pad_top;
    if (iy >= 0 && iy < g->in_h) {
        tte_dw_widen_row_(slot + g->pad_left, plane + iy * g->in_w, g->in_w, g->input_offset);
    } else if (r >= g->k_h) {
        memset(slot + g->pad_left, 0, (size_t)g->in_w * sizeof *slot);
    }
}

/* The stack work area of one plane: the ring, its slots (slots[i] = slots[i + K] = ring row i,
 * so that the K rows of a window starting at slot f are slots[f .. f + K - 1] with no
 * wrap-around), the weight pairs wp[ky * P + p] (P = (K + 1) / 2) and the output stage.  Each
 * plane function holds its own: a frame this size keeps the compiler from inlining the six of
 * them into one function, whose register allocation is worse. */
typedef struct {
    int16_t ring[TTE_DW_RING_LEN];
    int16_t *slots[2 * TTE_DW_MAX_K];
    int32_t wp[TTE_DW_MAX_K * TTE_DW_MAX_PAIRS];
    tte_dw_out_stage_ o;
} tte_dw_work_;

/* The work area of a plane with a k x k kernel, ring rows pw values wide: weight pairs, slots,
 * a zeroed ring and the output stage. */
static void tte_dw_setup_(tte_dw_work_ *wk, const tte_dw_plane_geom *g, int32_t k,
                          int32_t pw, const int8_t *w, int32_t w_stride, int32_t mult,
                          int32_t shift, int32_t out_stride)
{
    const int32_t pairs = (k + 1) / 2;
    int32_t ky, p;
    for (ky = 0; ky < k; ky++) {
        const int8_t *wr = w + ky * k * w_stride;
        for (p = 0; p < pairs; p++) {
            const int32_t hi = 2 * p + 1 < k ? wr[(2 * p + 1) * w_stride] : 0;
            wk->wp[ky * pairs + p] = tte_pack16(wr[2 * p * w_stride], hi);
        }
        wk->slots[ky] = wk->slots[ky + k] = wk->ring + ky * pw;
    }
    memset(wk->ring, 0, (size_t)(k * pw) * sizeof wk->ring[0]);
    wk->o.r = tte_requant_ch_of(mult, shift);
    wk->o.zp2 = tte_pack16(g->output_offset, g->output_offset);
    wk->o.lo2 = tte_pack16(g->act_min, g->act_min);
    wk->o.hi2 = tte_pack16(g->act_max, g->act_max);
    wk->o.out_stride = out_stride;
}

/* The first n < 4 of the four outputs in the lanes of v01 and v23 (the last pass of a row). */
static void tte_dw_store_part_(int8_t *out, int32_t os, int32_t n, int32_t v01, int32_t v23)
{
    const int8_t v[4] = {(int8_t)v01, (int8_t)(v01 >> 16), (int8_t)v23, (int8_t)(v23 >> 16)};
    int32_t i;
    for (i = 0; i < n; i++) {
        out[i * os] = v[i];
    }
}

/* The fast path over one plane for a K x K kernel at stride S: output row oy reads the K ring
 * slots from slots[first] on (padded rows oy * S ..), each filled just before its first use;
 * weight pairs wp[ky * P + p] (P = (K + 1) / 2); acc starting at bias.  Four output pixels per
 * pass, their taps unrolled (the rows too where KH is the constant K); a row of out_w % 4 != 0
 * ends with a pass whose extra pixels read the ring's spare columns and are not stored.  KH is
 * K itself for 3x3 kernels, whose row loop costs the most relative to its body, and the same
 * value read at run time for 5x5 and 7x7, which keeps their code small. */
#define TTE_DW_PLANE_FN(NAME, K, S, KH)                                                        \
    static void NAME(const tte_dw_plane_geom *g, const int8_t *plane, int32_t pw,              \
                     const int8_t *w, int32_t w_stride, int32_t bias, int32_t mult,            \
                     int32_t shift, int8_t *out, int32_t out_stride)                           \
    {                                                                                          \
        tte_dw_work_ wk;                                                                       \
        int16_t *const *slots = wk.slots;                                                      \
        const int32_t *wp = wk.wp;                                                             \
        const tte_dw_out_stage_ *o = &wk.o;                                                    \
        const int32_t n = g->out_w, os = out_stride;                                           \
        int32_t oy, ox, ky, p, first = 0, filled = 0;                                          \
        tte_dw_setup_(&wk, g, (K), pw, w, w_stride, mult, shift, out_stride);                  \
        for (oy = 0; oy < g->out_h; oy++, out += n * os) {                                     \
            int16_t *const *rows = slots + first;                                              \
            for (; filled < oy * (S) + (K); filled++) {                                        \
                tte_dw_fill_slot_(g, plane, filled, slots[filled % (K)]);                      \
            }                                                                                  \
            for (ox = 0; ox < n; ox += 4) {                                                    \
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;                            \
                for (ky = 0; ky < (KH); ky++) {                                                \
                    const int16_t *x = rows[ky] + ox * (S);                                    \
                    const int32_t *wr = wp + ky * (((K) + 1) / 2);                             \
                    for (p = 0; p < ((K) + 1) / 2; p++) {                                      \
                        const int32_t wv = wr[p];                                              \
                        a0 = tte_smlad(tte_dw_read2_(x + 2 * p), wv, a0);                      \
                        a1 = tte_smlad(tte_dw_read2_(x + 2 * p + (S)), wv, a1);                \
                        a2 = tte_smlad(tte_dw_read2_(x + 2 * p + 2 * (S)), wv, a2);            \
                        a3 = tte_smlad(tte_dw_read2_(x + 2 * p + 3 * (S)), wv, a3);            \
                    }                                                                          \
                }                                                                              \
                a0 = tte_dw_finish2_(a0, a1, o);                                               \
                a2 = tte_dw_finish2_(a2, a3, o);                                               \
                if (n - ox < 4) {                                                              \
                    tte_dw_store_part_(out + ox * os, os, n - ox, a0, a2);                     \
                    break;                                                                     \
                }                                                                              \
                out[ox * os] = (int8_t)a0;                                                     \
                out[(ox + 1) * os] = (int8_t)(a0 >> 16);                                       \
                out[(ox + 2) * os] = (int8_t)a2;                                               \
                out[(ox + 3) * os] = (int8_t)(a2 >> 16);                                       \
            }                                                                                  \
            first += (S);                                                                      \
            first -= first >= (K) ? (K) : 0;                                                   \
        }                                                                                      \
    }

TTE_DW_PLANE_FN(tte_dw_plane_k3s1_, 3, 1, 3)
TTE_DW_PLANE_FN(tte_dw_plane_k3s2_, 3, 2, 3)
TTE_DW_PLANE_FN(tte_dw_plane_k5s1_, 5, 1, g->k_h)
TTE_DW_PLANE_FN(tte_dw_plane_k5s2_, 5, 2, g->k_h)
TTE_DW_PLANE_FN(tte_dw_plane_k7s1_, 7, 1, g->k_h)
TTE_DW_PLANE_FN(tte_dw_plane_k7s2_, 7, 2, g->k_h)
#undef TTE_DW_PLANE_FN

void tte_dw_plane_s8(const tte_dw_plane_geom *g, const int8_t *plane,
                     const int8_t *w, int32_t w_stride, int32_t bias, int32_t mult,
                     int32_t shift, int8_t *out, int32_t out_stride)
{
    const int32_t k = g->k_w, s = g->stride_w;
    /* ring row width: every window of the output, rounded up to whole passes of four, plus
     * the zero-weighted partner of its last tap; and the plane row at its left padding */
    const int32_t need_w = ((g->out_w + 3) / 4 * 4 - 1) * s + k + 1;
    const int32_t pw = need_w > g->pad_left + g->in_w ? need_w : g->pad_left + g->in_w;

    /* the fast path needs a ring that fits and a requantization with shift < -1 (every real
     * layer has one), then a function for its kernel size and stride: square 3x3, 5x5 or 7x7
     * kernels at stride 1 or 2 both ways.  A switch of direct calls rather than a function
     * pointer, so that the compiler's call graph, and with it the worst-case stack
     * (targets/stack.py), is static. */
    if (k > TTE_DW_MAX_K || k * pw > TTE_DW_RING_LEN || shift >= -1) {
        tte_dw_plane_generic_s8(g, plane, w, w_stride, bias, mult, shift, out, out_stride);
        return;
    }
    switch (g->k_h == k && g->stride_h == s ? k * 2 + s : 0) {
    case 7:
        tte_dw_plane_k3s1_(g, plane, pw, w, w_stride, bias, mult, shift, out, out_stride);
        break;
    case 8:
        tte_dw_plane_k3s2_(g, plane, pw, w, w_stride, bias, mult, shift, out, out_stride);
        break;
    case 11:
        tte_dw_plane_k5s1_(g, plane, pw, w, w_stride, bias, mult, shift, out, out_stride);
        break;
    case 12:
        tte_dw_plane_k5s2_(g, plane, pw, w, w_stride, bias, mult, shift, out, out_stride);
        break;
    case 15:
        tte_dw_plane_k7s1_(g, plane, pw, w, w_stride, bias, mult, shift, out, out_stride);
        break;
    case 16:
        tte_dw_plane_k7s2_(g, plane, pw, w, w_stride, bias, mult, shift, out, out_stride);
        break;
    default:
        tte_dw_plane_generic_s8(g, plane, w, w_stride, bias, mult, shift, out, out_stride);
        break;
    }
}
