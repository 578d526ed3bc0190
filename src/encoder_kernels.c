/*
 * encoder_kernels.c - the transformer encoder's float kernels: GELU, layer
 * norm, one head's attention (scores, masked softmax, context), and the
 * float products the training side uses (grad_gemm), each in plain C and
 * in copies for AVX2 and AVX-512 (cpu.h's table).
 *
 * Not here: the int8 matrix products and the quantization (encoder_q8.c),
 * the layers themselves and the order they run in (encoder.c), or the
 * weights (encoder files).
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
 * j (context) in increasing order with one fused multiply-add per term (fmaf: one rounding), in
 * plain C as in AVX2, so both give the same bits. */
static void scores_plain(const float *const qi[4], const float *kt, int n8, int dh, float scale, float *p) {
    for (int j0 = 0; j0 < n8; j0 += 8)
        for (int a = 0; a < 4; a++) {
            float acc[8] = {0};
            for (int d = 0; d < dh; d++) {
                float qd = qi[a][d];
                const float *kd = kt + (size_t)d * n8 + j0;
                for (int l = 0; l < 8; l++)
                    acc[l] = fmaf(qd, kd[l], acc[l]);
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
                ci[d] = fmaf(pj, vj[d], ci[d]);
        }
    }
}

#if CASIE_X86
/* Four queries by W vectors of keys (W * L lanes) in registers: 4 W
 * independent sums, enough to hide the adds' latency.  Each sum still runs
 * over d in increasing order, one fused multiply-add per term. */
#define SCORES_TILE(V, L, W, ZERO, LOAD, SET1, FMA, MUL, STORE)                                                        \
    for (; j0 + (W) * (L) <= n8; j0 += (W) * (L)) {                                                                    \
        V acc[4][W];                                                                                                   \
        _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++)      \
            acc[a][w] = ZERO();                                                                                        \
        for (int d = 0; d < dh; d++) {                                                                                 \
            const float *kd = kt + (size_t)d * n8 + j0;                                                                \
            V kv[W];                                                                                                   \
            _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++) kv[w] = LOAD(kd + w * (L));                          \
            _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) {                                                      \
                const V qa = SET1(qi[a][d]);                                                                           \
                _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++) acc[a][w] = FMA(qa, kv[w], acc[a][w]);           \
            }                                                                                                          \
        }                                                                                                              \
        _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++)      \
            STORE(p + (size_t)a * n8 + j0 + w * (L), MUL(acc[a][w], sc));                                              \
    }

/* Four queries by W vectors of dimensions (from d0) over every key j: the
 * sums over j in increasing order, one fused multiply-add per term. */
#define CONTEXT_TILE(V, L, W, ZERO, LOAD, SET1, FMA, MUL, STORE)                                                       \
    for (; d0 + (W) * (L) <= dh; d0 += (W) * (L)) {                                                                    \
        V c[4][W];                                                                                                     \
        _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++)      \
            c[a][w] = ZERO();                                                                                          \
        for (int j = 0; j < n; j++) {                                                                                  \
            const float *vj = v + (size_t)j * ld + d0;                                                                 \
            V vv[W];                                                                                                   \
            _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++) vv[w] = LOAD(vj + w * (L));                          \
            _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) {                                                      \
                const V pa = SET1(p[(size_t)a * n8 + j]);                                                              \
                _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++) c[a][w] = FMA(pa, vv[w], c[a][w]);               \
            }                                                                                                          \
        }                                                                                                              \
        for (int a = 0; a < nq; a++)                                                                                   \
            _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++)                                                      \
                STORE(ctx + (size_t)a * ldc + d0 + w * (L), c[a][w]);                                                  \
    }

__attribute__((target("avx2,fma"))) static void scores_avx2(const float *const qi[4], const float *kt, int n8, int dh,
                                                            float scale, float *p) {
    const __m256 sc = _mm256_set1_ps(scale);
    int j0 = 0;
    SCORES_TILE(__m256, 8, 2, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps,
                _mm256_storeu_ps)
    SCORES_TILE(__m256, 8, 1, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps,
                _mm256_storeu_ps)
}

/* dh a multiple of 8; four queries at once (rows past nq computed, not stored) */
__attribute__((target("avx2,fma"))) static void context_avx2(const float *p, int n8, int nq, const float *v, int ld,
                                                             int n, int dh, float *ctx, int ldc) {
    int d0 = 0;
    CONTEXT_TILE(__m256, 8, 2, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps,
                 _mm256_storeu_ps)
    CONTEXT_TILE(__m256, 8, 1, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps,
                 _mm256_storeu_ps)
}

/* the same in 16 lanes (n8 a multiple of 16; dh a multiple of 16) */
CASIE_TARGET_AVX512 static void scores_avx512(const float *const qi[4], const float *kt, int n8, int dh, float scale,
                                              float *p) {
    const __m512 sc = _mm512_set1_ps(scale);
    int j0 = 0;
    SCORES_TILE(__m512, 16, 4, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps,
                _mm512_storeu_ps)
    SCORES_TILE(__m512, 16, 1, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps,
                _mm512_storeu_ps)
}

CASIE_TARGET_AVX512 static void context_avx512(const float *p, int n8, int nq, const float *v, int ld, int n, int dh,
                                               float *ctx, int ldc) {
    int d0 = 0;
    CONTEXT_TILE(__m512, 16, 4, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps,
                 _mm512_storeu_ps)
    CONTEXT_TILE(__m512, 16, 1, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps,
                 _mm512_storeu_ps)
}
#undef SCORES_TILE
#undef CONTEXT_TILE
#endif

/* s[a][l] = the sum of p[a][j0 + l] over j0 = 0, 8, ..., n8 - 8, in that
 * order, for rows a < nq (plain) or all four (AVX2: rows past nq hold
 * finite scores, summed and not used). */
static void lane_sums_plain(const float *p, int n8, int nq, float s[4][8]) {
    for (int a = 0; a < nq; a++) {
        const float *pa = p + (size_t)a * n8;
        for (int l = 0; l < 8; l++)
            s[a][l] = 0.0f;
        for (int j0 = 0; j0 < n8; j0 += 8)
            for (int l = 0; l < 8; l++)
                s[a][l] += pa[j0 + l];
    }
}

#if CASIE_X86
CASIE_TARGET_AVX2 static void lane_sums_avx2(const float *p, int n8, float s[4][8]) {
    const size_t r = (size_t)n8;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int j0 = 0; j0 < n8; j0 += 8) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + j0));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + r + j0));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + 2 * r + j0));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + 3 * r + j0));
    }
    _mm256_storeu_ps(s[0], s0), _mm256_storeu_ps(s[1], s1), _mm256_storeu_ps(s[2], s2), _mm256_storeu_ps(s[3], s3);
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
    /* kt = k transposed, 16 keys at a time: their rows stay in cache while
     * each of the dh rows of kt takes 16 consecutive floats */
    for (int j0 = 0; j0 < n8; j0 += 16)
        for (int d = 0; d < dh; d++) {
            float *kd = kt + (size_t)d * n8;
            for (int j = j0; j < j0 + 16; j++)
                kd[j] = j < n ? k[(size_t)j * ld + d] : 0.0f;
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
            for (int j = 0; j < n8; j++)
                pa[j] = pa[j] == -FLT_MAX ? 0.0f : exp_neg(pa[j] - mx);
        }
        /* each row's sum in eight lanes, the four rows side by side (four
         * chains of adds, not one), then the row's total and its scaling */
        float s8[4][8];
#if CASIE_X86
        if (simd >= CASIE_SIMD_AVX2)
            lane_sums_avx2(p, n8, s8);
        else
#endif
            lane_sums_plain(p, n8, nq, s8);
        for (int a = 0; a < nq; a++) {
            const float *t = s8[a];
            float sum = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
            float inv = 1.0f / sum, *pa = p + (size_t)a * n8;
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

CASIE_COPIES3(gelu, (float *x, size_t n), (x, n))
CASIE_COPIES3(add_layernorm,
              (float *x, const float *add, int n, int H, const float *g, const float *b, float eps, float *d),
              (x, add, n, H, g, b, eps, d))
CASIE_COPIES3_L(attend,
                (const float *q, const float *k, const float *v, int ld, int n, int dh, const uint8_t *mask,
                 const float *rel, float *ctx, int ldc, float *kt, float *p),
                (q, k, v, ld, n, dh, mask, rel, ctx, ldc, kt, p))
