/*
 * encoder_q8.c - the encoder's int8 matrix products with a scale per row
 * (plain C, AVX2, AVX-512 VNNI) and the per-row int8 quantization of
 * weights and activations.
 *
 * Not here: the float kernels (encoder_kernels.c), the layers and the order
 * they run in (encoder.c).
 *
 * Every kernel computes the same exact int32 dot products of int8 rows and
 * then the same float expression of them (q8_matmul's epilogue), so all
 * kernels give the same bits; tests/test_encoder.c and tests/test_cpu.c
 * check it.  The SIMD kernels differ only in how they sum:
 * - AVX2 multiplies |x| (unsigned) by w with x's sign (vpsignb), pairs of
 *   products summed to int16 by vpmaddubsw: |x|, |w| <= 127 keep every pair
 *   within 2 * 127 * 127 = 32258, so the int16 sums never saturate;
 * - VNNI over rows reads x + 128 as unsigned bytes (vpdpbusd sums four
 *   products straight into int32, nothing saturates) and subtracts
 *   128 * sum(w), the row sums stored with the weights;
 * - VNNI over packed panels (casie__q8_pack, done when an encoder is
 *   loaded) reads w + 128 as the unsigned bytes, each of x's groups of four
 *   bytes broadcast to the 16 rows of a panel, and subtracts 128 * sum(x).
 */
#include "internal.h"
#include "encoder_kernels.h"
#include "cpu.h"

#include <math.h>
#include <string.h>

#if CASIE_X86
#include <immintrin.h>
#endif

/* ======================================================================== */
/* Quantization: weights at import, activations on the fly                 */
/* ======================================================================== */

CASIE_INLINE void q8_quantize(const float *x, int n, int cols, int stride, int8_t *q, float *scale) {
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * cols;
        int8_t *qi = q + (size_t)i * stride;
        /* the largest magnitude: for floats without their sign, the bit
         * patterns order as the values do (a NaN above infinity), and an
         * integer maximum vectorizes */
        uint32_t mb = 0;
        for (int c = 0; c < cols; c++) {
            uint32_t bits;
            memcpy(&bits, xi + c, 4);
            bits &= 0x7fffffffu;
            mb = bits > mb ? bits : mb;
        }
        float m;
        memcpy(&m, &mb, 4);
        if (!(m > 0.0f) || !isfinite(m)) { /* a zero (or broken) row: all zero */
            memset(qi, 0, (size_t)stride);
            scale[i] = 0.0f;
            continue;
        }
        float inv = 127.0f / m;
        const int tiny = isinf(inv); /* m under 127 / FLT_MAX: 0 * inf would be NaN, so divide */
        for (int c = 0; c < cols; c++) {
            float v = tiny ? xi[c] / m * 127.0f : xi[c] * inv; /* |v| <= 127 (up to rounding: clamped below) */
            int r = (int)(v + (v >= 0.0f ? 0.5f : -0.5f));
            r = r > 127 ? 127 : r < -127 ? -127 : r;
            qi[c] = (int8_t)r;
        }
        memset(qi + cols, 0, (size_t)(stride - cols));
        scale[i] = m / 127.0f;
    }
}

/* Quantizes w (rows, cols) into rows [r0, r0 + rows) of m: int8 with a scale
 * per row (absmax / 127), the row sums when m has them (encoder_import.c,
 * once per weight matrix). */
void casie__q8_quantize_weights(const float *w, int rows, int cols, const casie__q8mat *m, int r0) {
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t)r * cols;
        int8_t *q = (int8_t *)m->q + (size_t)(r0 + r) * m->stride;
        float mx = 0.0f;
        for (int c = 0; c < cols; c++)
            mx = fabsf(wr[c]) > mx ? fabsf(wr[c]) : mx;
        int32_t sum = 0;
        float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
        /* an absmax under 127 / FLT_MAX (subnormal) makes inv infinite: then
         * divide, lest 0 * inf be NaN and its conversion to int undefined */
        int tiny = isinf(inv);
        for (int c = 0; c < cols; c++) {
            float v = tiny ? wr[c] / mx * 127.0f : wr[c] * inv;
            int k = (int)(v + (v >= 0.0f ? 0.5f : -0.5f));
            k = k > 127 ? 127 : k < -127 ? -127 : k;
            q[c] = (int8_t)k;
            sum += k;
        }
        ((float *)m->scale)[r0 + r] = mx / 127.0f;
        if (m->sum) ((int32_t *)m->sum)[r0 + r] = sum;
    }
}

size_t casie__q8_panel_bytes(const casie__q8mat *m) { return (size_t)((m->rows + 15) / 16) * 16 * (size_t)m->stride; }

void casie__q8_pack(const casie__q8mat *m, uint8_t *panel) {
    const int S = m->stride, np = (m->rows + 15) / 16;
    for (int p = 0; p < np; p++)
        for (int c = 0; c < S; c += 4) {
            uint8_t *to = panel + ((size_t)p * S + (size_t)c) * 16;
            for (int r = 0; r < 16; r++) {
                const int row = p * 16 + r;
                for (int k = 0; k < 4; k++)
                    to[r * 4 + k] = row < m->rows ? (uint8_t)(m->q[(size_t)row * S + c + k] ^ 0x80) : 0x80;
            }
        }
}

/* ======================================================================== */
/* Dot products: acc (ni, nr) = x rows [i0, i0+ni) . w rows [r0, r0+nr)      */
/* ======================================================================== */

/* Each kernel fills acc[a * nr + b] = sum_c xq[i0+a][c] * w[r0+b][c] for a
 * block of at most 4 tokens and up to 64 rows. */
enum { TOK_BLOCK = 4, ROW_BLOCK = 64 };

static void dots_plain(const int8_t *xq, int i0, int ni, const casie__q8mat *w, int r0, int nr, int32_t *acc) {
    int S = w->stride;
    for (int a = 0; a < ni; a++) {
        const int8_t *x = xq + (size_t)(i0 + a) * S;
        for (int b = 0; b < nr; b++) {
            const int8_t *wr = w->q + (size_t)(r0 + b) * S;
            int32_t s = 0;
            for (int c = 0; c < S; c++)
                s += (int32_t)x[c] * (int32_t)wr[c];
            acc[a * nr + b] = s;
        }
    }
}

#if CASIE_X86
CASIE_TARGET_AVX2 static inline int32_t hsum_256(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* the sums of the lanes of a, b, c, d */
CASIE_TARGET_AVX2 static inline __m128i hsum4_256(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

/* sum of x . w over 32 bytes into acc: |x| times w with x's sign */
#define AVX2_STEP(acc, ax, x, w)                                                                                       \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w, x)), ones))

CASIE_TARGET_AVX2 static void dots_avx2(const int8_t *xq, int i0, int ni, const casie__q8mat *w, int r0, int nr,
                                        int32_t *acc) {
    const int S = w->stride;
    const __m256i ones = _mm256_set1_epi16(1);
    int a = 0;
    /* two tokens by four rows at a time: 8 accumulators, 4 x registers */
    for (; a + 2 <= ni; a += 2) {
        const int8_t *x0 = xq + (size_t)(i0 + a) * S, *x1 = x0 + S;
        int b = 0;
        for (; b + 4 <= nr; b += 4) {
            const int8_t *w0 = w->q + (size_t)(r0 + b) * S, *w1 = w0 + S, *w2 = w1 + S, *w3 = w2 + S;
            __m256i s00 = _mm256_setzero_si256(), s01 = s00, s02 = s00, s03 = s00;
            __m256i s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (int c = 0; c < S; c += 32) {
                __m256i vx0 = _mm256_loadu_si256((const __m256i *)(x0 + c));
                __m256i vx1 = _mm256_loadu_si256((const __m256i *)(x1 + c));
                __m256i ax0 = _mm256_sign_epi8(vx0, vx0), ax1 = _mm256_sign_epi8(vx1, vx1);
                __m256i vw = _mm256_loadu_si256((const __m256i *)(w0 + c));
                AVX2_STEP(s00, ax0, vx0, vw);
                AVX2_STEP(s10, ax1, vx1, vw);
                vw = _mm256_loadu_si256((const __m256i *)(w1 + c));
                AVX2_STEP(s01, ax0, vx0, vw);
                AVX2_STEP(s11, ax1, vx1, vw);
                vw = _mm256_loadu_si256((const __m256i *)(w2 + c));
                AVX2_STEP(s02, ax0, vx0, vw);
                AVX2_STEP(s12, ax1, vx1, vw);
                vw = _mm256_loadu_si256((const __m256i *)(w3 + c));
                AVX2_STEP(s03, ax0, vx0, vw);
                AVX2_STEP(s13, ax1, vx1, vw);
            }
            _mm_storeu_si128((__m128i *)(acc + a * nr + b), hsum4_256(s00, s01, s02, s03));
            _mm_storeu_si128((__m128i *)(acc + (a + 1) * nr + b), hsum4_256(s10, s11, s12, s13));
        }
        for (; b < nr; b++)
            for (int k = 0; k < 2; k++) {
                const int8_t *x = k ? x1 : x0, *wr = w->q + (size_t)(r0 + b) * S;
                __m256i s = _mm256_setzero_si256();
                for (int c = 0; c < S; c += 32) {
                    __m256i vx = _mm256_loadu_si256((const __m256i *)(x + c));
                    __m256i ax = _mm256_sign_epi8(vx, vx), vw = _mm256_loadu_si256((const __m256i *)(wr + c));
                    AVX2_STEP(s, ax, vx, vw);
                }
                acc[(a + k) * nr + b] = hsum_256(s);
            }
    }
    for (; a < ni; a++) {
        const int8_t *x = xq + (size_t)(i0 + a) * S;
        for (int b = 0; b < nr; b++) {
            const int8_t *wr = w->q + (size_t)(r0 + b) * S;
            __m256i s = _mm256_setzero_si256();
            for (int c = 0; c < S; c += 32) {
                __m256i vx = _mm256_loadu_si256((const __m256i *)(x + c));
                __m256i ax = _mm256_sign_epi8(vx, vx), vw = _mm256_loadu_si256((const __m256i *)(wr + c));
                AVX2_STEP(s, ax, vx, vw);
            }
            acc[a * nr + b] = hsum_256(s);
        }
    }
}
#undef AVX2_STEP

/* the sums of the lanes of a, b, c, d */
CASIE_TARGET_AVX512 static inline __m128i hsum4_512(__m512i a, __m512i b, __m512i c, __m512i d) {
    __m256i a2 = _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
    __m256i b2 = _mm256_add_epi32(_mm512_castsi512_si256(b), _mm512_extracti64x4_epi64(b, 1));
    __m256i c2 = _mm256_add_epi32(_mm512_castsi512_si256(c), _mm512_extracti64x4_epi64(c, 1));
    __m256i d2 = _mm256_add_epi32(_mm512_castsi512_si256(d), _mm512_extracti64x4_epi64(d, 1));
    __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a2, b2), _mm256_hadd_epi32(c2, d2));
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

/* x . w over whole rows: x read as x + 128 (unsigned bytes), then 128 * sum(w)
 * subtracted */
CASIE_TARGET_AVX512 static void dots_vnni(const int8_t *xq, int i0, int ni, const casie__q8mat *w, int r0, int nr,
                                          int32_t *acc) {
    const int S = w->stride;
    const __m512i flip = _mm512_set1_epi8((char)0x80); /* x ^ 0x80 = x + 128 as an unsigned byte */
    int a = 0;
    for (; a + 4 <= ni; a += 4) {
        const int8_t *x0 = xq + (size_t)(i0 + a) * S, *x1 = x0 + S, *x2 = x1 + S, *x3 = x2 + S;
        int b = 0;
        for (; b + 4 <= nr; b += 4) {
            const int8_t *w0 = w->q + (size_t)(r0 + b) * S;
            __m512i s[4][4];
            for (int u = 0; u < 4; u++)
                for (int v = 0; v < 4; v++)
                    s[u][v] = _mm512_setzero_si512();
            for (int c = 0; c < S; c += 64) {
                __m512i u0 = _mm512_xor_si512(_mm512_loadu_si512(x0 + c), flip);
                __m512i u1 = _mm512_xor_si512(_mm512_loadu_si512(x1 + c), flip);
                __m512i u2 = _mm512_xor_si512(_mm512_loadu_si512(x2 + c), flip);
                __m512i u3 = _mm512_xor_si512(_mm512_loadu_si512(x3 + c), flip);
                for (int v = 0; v < 4; v++) {
                    __m512i vw = _mm512_loadu_si512(w0 + (size_t)v * S + c);
                    s[0][v] = _mm512_dpbusd_epi32(s[0][v], u0, vw);
                    s[1][v] = _mm512_dpbusd_epi32(s[1][v], u1, vw);
                    s[2][v] = _mm512_dpbusd_epi32(s[2][v], u2, vw);
                    s[3][v] = _mm512_dpbusd_epi32(s[3][v], u3, vw);
                }
            }
            __m128i off = _mm_slli_epi32(_mm_loadu_si128((const __m128i *)(w->sum + r0 + b)), 7);
            for (int u = 0; u < 4; u++)
                _mm_storeu_si128((__m128i *)(acc + (a + u) * nr + b),
                                 _mm_sub_epi32(hsum4_512(s[u][0], s[u][1], s[u][2], s[u][3]), off));
        }
        for (; b < nr; b++)
            for (int u = 0; u < 4; u++) {
                const int8_t *x = x0 + (size_t)u * S, *wr = w->q + (size_t)(r0 + b) * S;
                __m512i s = _mm512_setzero_si512();
                for (int c = 0; c < S; c += 64)
                    s = _mm512_dpbusd_epi32(s, _mm512_xor_si512(_mm512_loadu_si512(x + c), flip),
                                            _mm512_loadu_si512(wr + c));
                acc[(a + u) * nr + b] = _mm512_reduce_add_epi32(s) - 128 * w->sum[r0 + b];
            }
    }
    for (; a < ni; a++) {
        const int8_t *x = xq + (size_t)(i0 + a) * S;
        for (int b = 0; b < nr; b++) {
            const int8_t *wr = w->q + (size_t)(r0 + b) * S;
            __m512i s = _mm512_setzero_si512();
            for (int c = 0; c < S; c += 64)
                s = _mm512_dpbusd_epi32(s, _mm512_xor_si512(_mm512_loadu_si512(x + c), flip),
                                        _mm512_loadu_si512(wr + c));
            acc[a * nr + b] = _mm512_reduce_add_epi32(s) - 128 * w->sum[r0 + b];
        }
    }
}

/* ---- VNNI over packed panels ---- */

/* Tiles: acc (tokens, panels, 16 rows) = sum over the columns of
 * (w + 128) . x for tokens at x (row stride S) and panels at pw (panel
 * stride ps bytes).  Each step reads 4 bytes of each token, broadcast to
 * every lane, and 64 bytes of each panel.  The big tile, 6 tokens by 4
 * panels, makes 24 products for 10 loads, its 24 sums, 4 panels and a
 * broadcast in the 32 registers. */
enum { PANEL_TM = 6, PANEL_TP = 4 };

#define BX(t) _mm512_set1_epi32(load4(x + (size_t)(t)*S + c))
#define DP4(t)                                                                                                         \
    b = BX(t);                                                                                                         \
    s##t##0 = _mm512_dpbusd_epi32(s##t##0, w0, b), s##t##1 = _mm512_dpbusd_epi32(s##t##1, w1, b);                      \
    s##t##2 = _mm512_dpbusd_epi32(s##t##2, w2, b), s##t##3 = _mm512_dpbusd_epi32(s##t##3, w3, b)
#define ST4(t)                                                                                                         \
    _mm512_storeu_si512(acc + (t * 4 + 0) * 16, s##t##0), _mm512_storeu_si512(acc + (t * 4 + 1) * 16, s##t##1);        \
    _mm512_storeu_si512(acc + (t * 4 + 2) * 16, s##t##2), _mm512_storeu_si512(acc + (t * 4 + 3) * 16, s##t##3)

/* the four panels' 64 bytes of columns c..c+3, and the broadcast's register */
#define W4(c)                                                                                                          \
    const uint8_t *q = pw + (size_t)(c)*16;                                                                            \
    const __m512i w0 = _mm512_load_si512(q), w1 = _mm512_load_si512(q + ps);                                           \
    const __m512i w2 = _mm512_load_si512(q + 2 * ps), w3 = _mm512_load_si512(q + 3 * ps);                              \
    __m512i b

static inline int32_t load4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

CASIE_TARGET_AVX512 __attribute__((noinline)) static void tile_6x4(const int8_t *x, int S, const uint8_t *pw, size_t ps,
                                                                   int32_t *acc) {
    __m512i s00 = _mm512_setzero_si512(), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    __m512i s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
    __m512i s40 = s00, s41 = s00, s42 = s00, s43 = s00, s50 = s00, s51 = s00, s52 = s00, s53 = s00;
    for (int c = 0; c < S; c += 4) {
        W4(c);
        DP4(0);
        DP4(1);
        DP4(2);
        DP4(3);
        DP4(4);
        DP4(5);
    }
    ST4(0);
    ST4(1);
    ST4(2);
    ST4(3);
    ST4(4);
    ST4(5);
}

/* one token by four panels */
CASIE_TARGET_AVX512 __attribute__((noinline)) static void tile_1x4(const int8_t *x, int S, const uint8_t *pw, size_t ps,
                                                                   int32_t *acc) {
    __m512i s00 = _mm512_setzero_si512(), s01 = s00, s02 = s00, s03 = s00;
    for (int c = 0; c < S; c += 4) {
        W4(c);
        DP4(0);
    }
    ST4(0);
}
#undef BX
#undef W4
#undef DP4
#undef ST4

/* one token by one panel */
CASIE_TARGET_AVX512 static void tile_1x1(const int8_t *x, int S, const uint8_t *pw, int32_t *acc) {
    __m512i s = _mm512_setzero_si512();
    for (int c = 0; c < S; c += 4)
        s = _mm512_dpbusd_epi32(s, _mm512_load_si512(pw + (size_t)c * 16), _mm512_set1_epi32(load4(x + c)));
    _mm512_storeu_si512(acc, s);
}

/* q8_matmul's epilogue for token i and the 16 rows of panel p from their
 * sums (w + 128) . x: the same two statements, 16 rows at a time (the rows
 * past w->rows masked off). */
CASIE_TARGET_AVX512 static void panel_out(const int32_t *acc, int32_t xsum, float sx, const casie__q8mat *w, int p,
                                          const float *bias, float *yi) {
    const int r = p * 16;
    const __mmask16 m = w->rows - r >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (w->rows - r)) - 1);
    const __m512i dot = _mm512_sub_epi32(_mm512_loadu_si512(acc), _mm512_set1_epi32(128 * xsum));
    const __m512 s = _mm512_mul_ps(_mm512_set1_ps(sx), _mm512_maskz_loadu_ps(m, w->scale + r));
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(dot), s);
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + r));
    _mm512_mask_storeu_ps(yi + r, m, v);
}

/* q8_matmul over w's panels: a chunk of panels (about 768 KB of weights,
 * in the core's own cache) at a time, every token over it, six at a time. */
CASIE_TARGET_AVX512 static void matmul_panels(const int8_t *xq, const float *xs, int n, const casie__q8mat *w,
                                              const float *bias, float *y, int ldy) {
    const int S = w->stride, np = (w->rows + 15) / 16;
    const size_t ps = (size_t)16 * S;
    int chunk = (int)((768u << 10) / ps) & ~(PANEL_TP - 1);
    if (chunk < PANEL_TP) chunk = PANEL_TP;
    const __m512i ones = _mm512_set1_epi8(1);
    int32_t acc[PANEL_TM * PANEL_TP * 16];
    for (int p0 = 0; p0 < np; p0 += chunk) {
        const int p1 = np - p0 < chunk ? np : p0 + chunk;
        for (int i = 0; i < n; i += PANEL_TM) {
            const int tm = n - i < PANEL_TM ? n - i : PANEL_TM;
            const int8_t *x = xq + (size_t)i * S;
            int32_t xsum[PANEL_TM]; /* sum(x) of each token: 1 . x, four bytes a lane */
            for (int t = 0; t < tm; t++) {
                __m512i s = _mm512_setzero_si512();
                for (int c = 0; c < S; c += 64)
                    s = _mm512_dpbusd_epi32(s, ones, _mm512_loadu_si512(x + (size_t)t * S + c));
                xsum[t] = _mm512_reduce_add_epi32(s);
            }
            int p = p0;
            for (; p + PANEL_TP <= p1; p += PANEL_TP) {
                const uint8_t *pw = w->panel + (size_t)p * ps;
                if (tm == PANEL_TM)
                    tile_6x4(x, S, pw, ps, acc);
                else
                    for (int t = 0; t < tm; t++)
                        tile_1x4(x + (size_t)t * S, S, pw, ps, acc + t * PANEL_TP * 16);
                for (int t = 0; t < tm; t++)
                    for (int q = 0; q < PANEL_TP; q++)
                        panel_out(acc + (t * PANEL_TP + q) * 16, xsum[t], xs[i + t], w, p + q, bias,
                                  y + (size_t)(i + t) * ldy);
            }
            for (; p < p1; p++)
                for (int t = 0; t < tm; t++) {
                    tile_1x1(x + (size_t)t * S, S, w->panel + (size_t)p * ps, acc);
                    panel_out(acc, xsum[t], xs[i + t], w, p, bias, y + (size_t)(i + t) * ldy);
                }
        }
    }
}
#endif

/* ======================================================================== */
/* The product                                                              */
/* ======================================================================== */

/* y (n, w->rows), row stride ldy = xq's scale * w's scale * (xq . w) + bias
 * (bias may be NULL), over xq (n, w->stride) from q8_quantize; the dot
 * products of level simd (cpu.h). */
CASIE_INLINE void q8_matmul(int simd, const int8_t *xq, const float *xs, int n, const casie__q8mat *w,
                            const float *bias, float *y, int ldy) {
#if CASIE_X86
    if (simd == CASIE_SIMD_AVX512 && w->panel) {
        matmul_panels(xq, xs, n, w, bias, y, ldy);
        return;
    }
#endif
    int32_t acc[TOK_BLOCK * ROW_BLOCK];
    /* rows outermost in blocks: a block of weight rows (64 * stride bytes)
     * stays in cache while every token passes over it */
    for (int r0 = 0; r0 < w->rows; r0 += ROW_BLOCK) {
        int nr = w->rows - r0 < ROW_BLOCK ? w->rows - r0 : ROW_BLOCK;
        for (int i0 = 0; i0 < n; i0 += TOK_BLOCK) {
            int ni = n - i0 < TOK_BLOCK ? n - i0 : TOK_BLOCK;
            switch (simd) {
#if CASIE_X86
            case CASIE_SIMD_AVX2:
                dots_avx2(xq, i0, ni, w, r0, nr, acc);
                break;
            case CASIE_SIMD_AVX512:
                dots_vnni(xq, i0, ni, w, r0, nr, acc);
                break;
#endif
            default:
                dots_plain(xq, i0, ni, w, r0, nr, acc);
                break;
            }
            /* the same epilogue on every level: two statements, so that no
             * compiler fuses them into one rounding on one path and not on
             * another */
            for (int a = 0; a < ni; a++) {
                float *yi = y + (size_t)(i0 + a) * ldy + r0;
                float sx = xs[i0 + a];
                for (int b = 0; b < nr; b++) {
                    float v = (float)acc[a * nr + b] * (sx * w->scale[r0 + b]);
                    yi[b] = bias ? v + bias[r0 + b] : v;
                }
            }
        }
    }
}
CASIE_COPIES3(q8_quantize, (const float *x, int n, int cols, int stride, int8_t *q, float *scale),
              (x, n, cols, stride, q, scale))
CASIE_COPIES3_L(q8_matmul,
                (const int8_t *xq, const float *xs, int n, const casie__q8mat *w, const float *bias, float *y, int ldy),
                (xq, xs, n, w, bias, y, ldy))
