/*
 * encoder_kernels.c - the transformer encoder's numeric kernels: int8
 * matrix products with a scale per row (plain C, AVX2, AVX-512 VNNI), the
 * per-row int8 quantization of weights and activations, GELU, layer norm,
 * and one head's attention (scores, masked softmax, context).
 *
 * Not here: the layers themselves and the order they run in (encoder.c),
 * or the weights (encoder files).
 *
 * Every kernel computes the same exact int32 dot products of int8 rows and
 * then the same float expression of them (q8_matmul's epilogue), so all
 * kernels give the same bits; tests/test_encoder.c checks it.  The SIMD kernels differ only in how they sum:
 * - AVX2 multiplies |x| (unsigned) by w with x's sign (vpsignb), pairs of
 *   products summed to int16 by vpmaddubsw: |x|, |w| <= 127 keep every pair
 *   within 2 * 127 * 127 = 32258, so the int16 sums never saturate;
 * - VNNI reads x + 128 as unsigned bytes (vpdpbusd sums four products
 *   straight into int32, nothing saturates) and subtracts 128 * sum(w),
 *   the row sums stored with the weights.
 */
#include "internal.h"
#include "encoder_kernels.h"
#include "cpu.h"

#include <float.h>
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
#endif

/* ======================================================================== */
/* The product                                                              */
/* ======================================================================== */

/* y (n, w->rows), row stride ldy = xq's scale * w's scale * (xq . w) + bias
 * (bias may be NULL), over xq (n, w->stride) from q8_quantize; the dot
 * products of level simd (cpu.h). */
CASIE_INLINE void q8_matmul(int simd, const int8_t *xq, const float *xs, int n, const casie__q8mat *w,
                            const float *bias, float *y, int ldy) {
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

/* ======================================================================== */
/* GELU                                                                     */
/* ======================================================================== */

/* erf(x) = x P(x^2) / Q(x^2) on |x| <= 3.92 (beyond, erf rounds to +-1 in
 * float): a rational least-squares fit to erf (Sanathanan-Koerner iteration
 * in double over Chebyshev and uniform nodes of [0, 3.92]); max error
 * 6.4e-8 in double, 3.3e-7 evaluated in float (Horner), against libm's erf. */
static const float ERF_P[7] = {1.128378868e+00f, 2.017082125e-01f,  5.080900341e-02f, 3.786243964e-03f,
                               1.446123060e-04f, -1.982169124e-06f, 2.011109679e-08f};
static const float ERF_Q[5] = {1.000000000e+00f, 5.120891929e-01f, 1.157382876e-01f, 1.451091748e-02f,
                               9.791704360e-04f};

CASIE_INLINE void gelu(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float z = v * 0.70710678118654752f;
        z = z > 3.92f ? 3.92f : z;
        z = z < -3.92f ? -3.92f : z;
        float t = z * z;
        float p = ERF_P[6];
        p = p * t + ERF_P[5];
        p = p * t + ERF_P[4];
        p = p * t + ERF_P[3];
        p = p * t + ERF_P[2];
        p = p * t + ERF_P[1];
        p = p * t + ERF_P[0];
        float q = ERF_Q[4];
        q = q * t + ERF_Q[3];
        q = q * t + ERF_Q[2];
        q = q * t + ERF_Q[1];
        q = q * t + ERF_Q[0];
        float e = z * p / q;
        e = e > 1.0f ? 1.0f : e;
        e = e < -1.0f ? -1.0f : e;
        x[i] = 0.5f * v * (1.0f + e);
    }
}

/* ======================================================================== */
/* Layer norm                                                               */
/* ======================================================================== */

/* sum of x (n,) in eight lanes, then the lanes pairwise: one fixed order
 * that the compiler can vectorize */
static inline float sum8(const float *x, int n) {
    float s8[8] = {0};
    int j0 = 0;
    for (; j0 + 8 <= n; j0 += 8)
        for (int l = 0; l < 8; l++)
            s8[l] += x[j0 + l];
    for (int j = j0; j < n; j++)
        s8[j - j0] += x[j];
    return ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
}

/* x (n, H) = layer norm of x + add (add may be NULL), gamma g, beta b;
 * d (H,) scratch */
CASIE_INLINE void add_layernorm(float *x, const float *add, int n, int H, const float *g, const float *b, float eps,
                                float *d) {
    for (int i = 0; i < n; i++) {
        float *xi = x + (size_t)i * H;
        if (add) {
            const float *ai = add + (size_t)i * H;
            for (int c = 0; c < H; c++)
                xi[c] += ai[c];
        }
        float mean = sum8(xi, H) / (float)H;
        for (int c = 0; c < H; c++)
            d[c] = (xi[c] - mean) * (xi[c] - mean);
        float var = sum8(d, H) / (float)H;
        float inv = 1.0f / sqrtf(var + eps);
        for (int c = 0; c < H; c++)
            xi[c] = (xi[c] - mean) * inv * g[c] + b[c];
    }
}

/* ======================================================================== */
/* Attention                                                                */
/* ======================================================================== */

/* e^x for x <= 0 (softmax after subtracting the maximum), within 3.5e-7
 * relative: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial of
 * degree 6, 2^n from the exponent bits.  Clamped below at -87 (2^-125.5). */
static inline float exp_neg(float x) {
    x = x < -87.0f ? -87.0f : x;
    float n = x * 1.44269504088896341f;
    n = (n + 12582912.0f) - 12582912.0f;  /* round to nearest: 1.5 * 2^23 */
    float r = x - n * 0.693145751953125f; /* ln2 in two parts, so r is exact enough */
    r = r - n * 1.42860682030941723e-06f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &bits, 4);
    return p * s;
}

/* The two products of attention, for a block of up to 4 queries:
 * scores p (4, n8) = q kt for keys [0, n8), and one query's context
 * c (dh,) = sum over keys j of p[j] v[j].  Each sum runs over d (scores) or
 * j (context) in increasing order with a multiply and an add per term, in
 * plain C as in AVX2, so both give the same bits. */
static void scores_plain(const float *const qi[4], const float *kt, int n8, int dh, float scale, float *p) {
    for (int j0 = 0; j0 < n8; j0 += 8)
        for (int a = 0; a < 4; a++) {
            float acc[8] = {0};
            for (int d = 0; d < dh; d++) {
                float qd = qi[a][d];
                const float *kd = kt + (size_t)d * n8 + j0;
                for (int l = 0; l < 8; l++)
                    acc[l] += qd * kd[l];
            }
            for (int l = 0; l < 8; l++)
                p[(size_t)a * n8 + j0 + l] = acc[l] * scale;
        }
}

/* ctx rows [0, nq) (stride ldc) from the probabilities p (4, n8) */
static void context_plain(const float *p, int n8, int nq, const float *v, int ld, int n, int dh, float *ctx, int ldc) {
    for (int a = 0; a < nq; a++) {
        const float *pa = p + (size_t)a * n8;
        float *ci = ctx + (size_t)a * ldc;
        for (int d = 0; d < dh; d++)
            ci[d] = 0.0f;
        for (int j = 0; j < n; j++) {
            float pj = pa[j];
            const float *vj = v + (size_t)j * ld;
            for (int d = 0; d < dh; d++)
                ci[d] += pj * vj[d];
        }
    }
}

#if CASIE_X86
CASIE_TARGET_AVX2 static void scores_avx2(const float *const qi[4], const float *kt, int n8, int dh, float scale,
                                          float *p) {
    const __m256 sc = _mm256_set1_ps(scale);
    for (int j0 = 0; j0 < n8; j0 += 8) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < dh; d++) {
            __m256 kd = _mm256_loadu_ps(kt + (size_t)d * n8 + j0);
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_set1_ps(qi[0][d]), kd));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_set1_ps(qi[1][d]), kd));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_set1_ps(qi[2][d]), kd));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_set1_ps(qi[3][d]), kd));
        }
        _mm256_storeu_ps(p + j0, _mm256_mul_ps(a0, sc));
        _mm256_storeu_ps(p + (size_t)n8 + j0, _mm256_mul_ps(a1, sc));
        _mm256_storeu_ps(p + 2 * (size_t)n8 + j0, _mm256_mul_ps(a2, sc));
        _mm256_storeu_ps(p + 3 * (size_t)n8 + j0, _mm256_mul_ps(a3, sc));
    }
}

/* dh a multiple of 8; four queries at once (rows past nq computed, not stored) */
CASIE_TARGET_AVX2 static void context_avx2(const float *p, int n8, int nq, const float *v, int ld, int n, int dh,
                                           float *ctx, int ldc) {
    for (int d0 = 0; d0 < dh; d0 += 8) {
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        for (int j = 0; j < n; j++) {
            __m256 vj = _mm256_loadu_ps(v + (size_t)j * ld + d0);
            c0 = _mm256_add_ps(c0, _mm256_mul_ps(_mm256_set1_ps(p[j]), vj));
            c1 = _mm256_add_ps(c1, _mm256_mul_ps(_mm256_set1_ps(p[(size_t)n8 + j]), vj));
            c2 = _mm256_add_ps(c2, _mm256_mul_ps(_mm256_set1_ps(p[2 * (size_t)n8 + j]), vj));
            c3 = _mm256_add_ps(c3, _mm256_mul_ps(_mm256_set1_ps(p[3 * (size_t)n8 + j]), vj));
        }
        __m256 c[4] = {c0, c1, c2, c3};
        for (int a = 0; a < nq; a++)
            _mm256_storeu_ps(ctx + (size_t)a * ldc + d0, c[a]);
    }
}

/* the same in 16 lanes (n8 a multiple of 16; dh a multiple of 16) */
CASIE_TARGET_AVX512 static void scores_avx512(const float *const qi[4], const float *kt, int n8, int dh, float scale,
                                              float *p) {
    const __m512 sc = _mm512_set1_ps(scale);
    for (int j0 = 0; j0 < n8; j0 += 16) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < dh; d++) {
            __m512 kd = _mm512_loadu_ps(kt + (size_t)d * n8 + j0);
            a0 = _mm512_add_ps(a0, _mm512_mul_ps(_mm512_set1_ps(qi[0][d]), kd));
            a1 = _mm512_add_ps(a1, _mm512_mul_ps(_mm512_set1_ps(qi[1][d]), kd));
            a2 = _mm512_add_ps(a2, _mm512_mul_ps(_mm512_set1_ps(qi[2][d]), kd));
            a3 = _mm512_add_ps(a3, _mm512_mul_ps(_mm512_set1_ps(qi[3][d]), kd));
        }
        _mm512_storeu_ps(p + j0, _mm512_mul_ps(a0, sc));
        _mm512_storeu_ps(p + (size_t)n8 + j0, _mm512_mul_ps(a1, sc));
        _mm512_storeu_ps(p + 2 * (size_t)n8 + j0, _mm512_mul_ps(a2, sc));
        _mm512_storeu_ps(p + 3 * (size_t)n8 + j0, _mm512_mul_ps(a3, sc));
    }
}

CASIE_TARGET_AVX512 static void context_avx512(const float *p, int n8, int nq, const float *v, int ld, int n, int dh,
                                               float *ctx, int ldc) {
    for (int d0 = 0; d0 < dh; d0 += 16) {
        __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        for (int j = 0; j < n; j++) {
            __m512 vj = _mm512_loadu_ps(v + (size_t)j * ld + d0);
            c0 = _mm512_add_ps(c0, _mm512_mul_ps(_mm512_set1_ps(p[j]), vj));
            c1 = _mm512_add_ps(c1, _mm512_mul_ps(_mm512_set1_ps(p[(size_t)n8 + j]), vj));
            c2 = _mm512_add_ps(c2, _mm512_mul_ps(_mm512_set1_ps(p[2 * (size_t)n8 + j]), vj));
            c3 = _mm512_add_ps(c3, _mm512_mul_ps(_mm512_set1_ps(p[3 * (size_t)n8 + j]), vj));
        }
        __m512 c[4] = {c0, c1, c2, c3};
        for (int a = 0; a < nq; a++)
            _mm512_storeu_ps(ctx + (size_t)a * ldc + d0, c[a]);
    }
}
#endif

/* One head's attention: ctx (n, ldc) columns [0, dh) = softmax(q k^T /
 * sqrt(dh) + bias over unmasked keys) v, with q, k, v (n, ld) views of the
 * fused projection; the bias of query i and key j is rel[j - i + n - 1]
 * when rel is not NULL (MPNet), else 0.  Scratch: kt (dh, n8) and p (4, n8), n8 = n rounded up to 16.
 * Four queries at a time; the maxima and sums run in eight lanes (the same
 * order on every build, so the same bits).  The products on level simd
 * (cpu.h): plain C, AVX2, AVX-512. */
CASIE_INLINE void attend(int simd, const float *q, const float *k, const float *v, int ld, int n, int dh,
                         const uint8_t *mask, const float *rel, float *ctx, int ldc, float *kt, float *p) {
    const int n8 = (n + 15) & ~15;
    for (int d = 0; d < dh; d++) {
        float *kd = kt + (size_t)d * n8;
        for (int j = 0; j < n; j++)
            kd[j] = k[(size_t)j * ld + d];
        for (int j = n; j < n8; j++)
            kd[j] = 0.0f;
    }
    int n_real = 0;
    for (int j = 0; j < n; j++)
        n_real += !mask || mask[j];
    const float scale = 1.0f / sqrtf((float)dh);
    for (int i0 = 0; i0 < n; i0 += 4) {
        const int nq = n - i0 < 4 ? n - i0 : 4;
        const float *qi[4];
        for (int a = 0; a < 4; a++)
            qi[a] = q + (size_t)(i0 + (a < nq ? a : 0)) * ld;
#if CASIE_X86
        if (simd == CASIE_SIMD_AVX512)
            scores_avx512(qi, kt, n8, dh, scale, p);
        else if (simd == CASIE_SIMD_AVX2)
            scores_avx2(qi, kt, n8, dh, scale, p);
        else
#endif
            scores_plain(qi, kt, n8, dh, scale, p);
        for (int a = 0; a < nq; a++) {
            float *pa = p + (size_t)a * n8;
            /* MPNet: the bias of key j's offset from query i0 + a */
            if (rel)
                for (int j = 0; j < n; j++)
                    pa[j] += rel[j - (i0 + a) + n - 1];
            /* keys that do not count: padding past n, and masked ones (unless
             * every key is masked: then all n count, as BERT's additive mask
             * gives) */
            for (int j = n; j < n8; j++)
                pa[j] = -FLT_MAX;
            if (mask && n_real)
                for (int j = 0; j < n; j++)
                    pa[j] = mask[j] ? pa[j] : -FLT_MAX;
            /* the maximum, over integers that order as the floats do (the
             * magnitude bits, negated for negative values): it vectorizes */
            int32_t mi = INT32_MIN;
            for (int j = 0; j < n8; j++) {
                int32_t bits;
                memcpy(&bits, pa + j, 4);
                bits = bits < 0 ? (int32_t)(0x80000000u - (uint32_t)bits) : bits;
                mi = bits > mi ? bits : mi;
            }
            float mx;
            mi = mi < 0 ? (int32_t)(0x80000000u - (uint32_t)mi) : mi;
            memcpy(&mx, &mi, 4);
            float s8[8] = {0};
            for (int j0 = 0; j0 < n8; j0 += 8)
                for (int l = 0; l < 8; l++) {
                    float e = pa[j0 + l] == -FLT_MAX ? 0.0f : exp_neg(pa[j0 + l] - mx);
                    pa[j0 + l] = e;
                    s8[l] += e;
                }
            float sum = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
            float inv = 1.0f / sum;
            for (int j = 0; j < n; j++)
                pa[j] *= inv;
        }
        float *ci = ctx + (size_t)i0 * ldc;
#if CASIE_X86
        if (simd == CASIE_SIMD_AVX512 && dh % 16 == 0)
            context_avx512(p, n8, nq, v, ld, n, dh, ci, ldc);
        else if (simd >= CASIE_SIMD_AVX2 && dh % 8 == 0)
            context_avx2(p, n8, nq, v, ld, n, dh, ci, ldc);
        else
#endif
            context_plain(p, n8, nq, v, ld, n, dh, ci, ldc);
    }
}

/* ======================================================================== */
/* One copy of each kernel per level (cpu.c's table)                        */
/* ======================================================================== */

/* ======================================================================== */
/* The training side's product (encoder_grad.c calls it through cpu.h)      */
/* ======================================================================== */

/* Tiles of C: TM rows by TN columns in registers over a block of KB terms;
 * NB columns of B (KB by NB floats, 256 KB) stay in cache while every row
 * passes over them.  Every element of C takes its terms in increasing k,
 * each as one fused multiply-add (fmaf: one rounding), whatever the tile and
 * the level: fmaf is exact to the last bit, so the plain copy (fmaf in C),
 * the AVX2 copy (vfmadd, 8 lanes) and the AVX-512 row (which takes the AVX2
 * copy) give the same bits, and a model trains the same on every x86-64
 * CPU. */
enum { TM = 6, TN = 16, KB = 256, NB = 256 };

/* c rows [m, m + TM), columns [j, j + TN) over k in [k0, k1), one by one */
static inline void tile_plain(const float *a, size_t sam, size_t sak, const float *b, size_t ldb, float *c, size_t ldc,
                              int m, int j, int k0, int k1) {
    float acc[TM][TN];
    for (int t = 0; t < TM; t++)
        memcpy(acc[t], c + (size_t)(m + t) * ldc + j, sizeof acc[t]);
    const float *a0 = a + (size_t)m * sam;
    for (int k = k0; k < k1; k++) {
        const float *bk = b + (size_t)k * ldb + j, *ak = a0 + (size_t)k * sak;
        for (int t = 0; t < TM; t++)
            for (int l = 0; l < TN; l++)
                acc[t][l] = fmaf(ak[(size_t)t * sam], bk[l], acc[t][l]);
    }
    for (int t = 0; t < TM; t++)
        memcpy(c + (size_t)(m + t) * ldc + j, acc[t], sizeof acc[t]);
}

#if CASIE_X86
/* the same in AVX2 registers: 12 accumulators of 8 lanes */
__attribute__((target("avx2,fma"))) static void tile_avx2(const float *a, size_t sam, size_t sak, const float *b,
                                                          size_t ldb, float *c, size_t ldc, int m, int j, int k0,
                                                          int k1) {
    __m256 lo[TM], hi[TM];
    for (int t = 0; t < TM; t++) {
        lo[t] = _mm256_loadu_ps(c + (size_t)(m + t) * ldc + j);
        hi[t] = _mm256_loadu_ps(c + (size_t)(m + t) * ldc + j + 8);
    }
    const float *a0 = a + (size_t)m * sam;
    for (int k = k0; k < k1; k++) {
        const float *bk = b + (size_t)k * ldb + j, *ak = a0 + (size_t)k * sak;
        const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
        for (int t = 0; t < TM; t++) {
            const __m256 x = _mm256_broadcast_ss(ak + (size_t)t * sam);
            lo[t] = _mm256_fmadd_ps(x, b0, lo[t]);
            hi[t] = _mm256_fmadd_ps(x, b1, hi[t]);
        }
    }
    for (int t = 0; t < TM; t++) {
        _mm256_storeu_ps(c + (size_t)(m + t) * ldc + j, lo[t]);
        _mm256_storeu_ps(c + (size_t)(m + t) * ldc + j + 8, hi[t]);
    }
}
#else
#define tile_avx2 tile_plain
#endif

CASIE_INLINE void grad_gemm(int simd, int M, int N, int K, const float *a, size_t sam, size_t sak, const float *b,
                            size_t ldb, float *c, size_t ldc) {
    for (int j0 = 0; j0 < N; j0 += NB) {
        const int j1 = N - j0 < NB ? N : j0 + NB;
        for (int k0 = 0; k0 < K; k0 += KB) {
            const int k1 = K - k0 < KB ? K : k0 + KB;
            int m = 0;
            for (; m + TM <= M; m += TM) {
                int j = j0;
                for (; j + TN <= j1; j += TN)
                    if (simd >= CASIE_SIMD_AVX2)
                        tile_avx2(a, sam, sak, b, ldb, c, ldc, m, j, k0, k1);
                    else
                        tile_plain(a, sam, sak, b, ldb, c, ldc, m, j, k0, k1);
                for (; j < j1; j++) /* the columns left over: the same sums one by one */
                    for (int t = 0; t < TM; t++) {
                        float s = c[(size_t)(m + t) * ldc + j];
                        for (int k = k0; k < k1; k++)
                            s = fmaf(a[(size_t)(m + t) * sam + (size_t)k * sak], b[(size_t)k * ldb + j], s);
                        c[(size_t)(m + t) * ldc + j] = s;
                    }
            }
            for (; m < M; m++) { /* the rows left over: row m of C, term by term */
                float *cm = c + (size_t)m * ldc;
                for (int k = k0; k < k1; k++) {
                    const float x = a[(size_t)m * sam + (size_t)k * sak];
                    const float *bk = b + (size_t)k * ldb;
                    for (int j = j0; j < j1; j++)
                        cm[j] = fmaf(x, bk[j], cm[j]);
                }
            }
        }
    }
}
CASIE_COPIES2_L(grad_gemm,
                (int M, int N, int K, const float *a, size_t sam, size_t sak, const float *b, size_t ldb, float *c,
                 size_t ldc),
                (M, N, K, a, sam, sak, b, ldb, c, ldc))

CASIE_COPIES3(q8_quantize, (const float *x, int n, int cols, int stride, int8_t *q, float *scale),
              (x, n, cols, stride, q, scale))
CASIE_COPIES3_L(q8_matmul,
                (const int8_t *xq, const float *xs, int n, const casie__q8mat *w, const float *bias, float *y, int ldy),
                (xq, xs, n, w, bias, y, ldy))
CASIE_COPIES3(gelu, (float *x, size_t n), (x, n))
CASIE_COPIES3(add_layernorm,
              (float *x, const float *add, int n, int H, const float *g, const float *b, float eps, float *d),
              (x, add, n, H, g, b, eps, d))
CASIE_COPIES3_L(attend,
                (const float *q, const float *k, const float *v, int ld, int n, int dh, const uint8_t *mask,
                 const float *rel, float *ctx, int ldc, float *kt, float *p),
                (q, k, v, ld, n, dh, mask, rel, ctx, ldc, kt, p))
