/*
 * nn.c - the neural half of the taggers: a bidirectional LSTM over the token
 * vectors of a span of text and a one-hidden-layer head that turns its
 * states into label scores; their layout, initialisation and inference.
 *
 * Not here: training them (nn_train.c), the small kernels both share
 * (nn_ops.h), what a token's vector holds (features.c), Viterbi decoding and
 * marginals (linear.c), what the labels mean (train.c, extract.c).
 * Inference (encode, head) only reads the network, so one network serves many
 * threads; training state lives in a casie__nn_train owned by one thread.
 */
#include "internal.h"
#include "nn.h"
#include "nn_ops.h"
#include "cpu.h"

#include <math.h>
#include <string.h>

#if CASIE_X86
#include <immintrin.h>
#endif

/* ---- parameter layout ---- */
/* One contiguous block, in this order:
 *   Wf (4H, D+H)  bf (4H)     forward LSTM: gates i, f, g, o over [x; h_prev]
 *   Wb (4H, D+H)  bb (4H)     backward LSTM
 *   W1 (K, U)     b1 (K)      head hidden layer (tanh)
 *   W2 (L, K)     b2 (L)      head output: label scores
 *   W3 (K, U) b3 (K) W4 (L2, K) b4 (L2)   a second head, when L2 > 0
 *   T (L, L)      S (L)       CRF transitions (from -> to) and start scores */
static void layout(casie__nnet *n) {
    size_t G = 4 * (size_t)n->H, I = (size_t)n->D + (size_t)n->H, o = 0;
    n->o_wf = o, o += G * I;
    n->o_bf = o, o += G;
    n->o_wb = o, o += G * I;
    n->o_bb = o, o += G;
    for (int h = 0; h < 2; h++) {
        size_t L = (size_t)(h ? n->L2 : n->L);
        n->o_w1[h] = o, o += L ? (size_t)n->K * (size_t)n->U : 0;
        n->o_b1[h] = o, o += L ? (size_t)n->K : 0;
        n->o_w2[h] = o, o += L * (size_t)n->K;
        n->o_b2[h] = o, o += L;
    }
    n->o_trans = o, o += (size_t)n->L * (size_t)n->L;
    n->o_start = o, o += (size_t)n->L;
    n->n_params = o;
}

int casie__nnet_dims(casie__nnet *n, int D, int H, int U, int K, int L, int L2) {
    memset(n, 0, sizeof *n);
    if (D < 1 || D > 4096 || H < 1 || H > 1024 || U < 1 || U > 8192 || K < 1 || K > 1024 || L < 1 || L > 64 || L2 < 0 ||
        L2 > 64)
        return CASIE_ERR_INVALID_ARG;
    n->D = D, n->H = H, n->U = U, n->K = K, n->L = L, n->L2 = L2;
    layout(n);
    return CASIE_OK;
}

static void glorot(float *w, size_t rows, size_t cols, uint64_t *rng) {
    float a = sqrtf(6.0f / (float)(rows + cols));
    for (size_t i = 0; i < rows * cols; i++)
        w[i] = (2.0f * casie__nn_rng_unit(rng) - 1.0f) * a;
}

int casie__nnet_init(casie__nnet *n, int D, int H, int U, int K, int L, int L2, uint64_t seed) {
    int rc = casie__nnet_dims(n, D, H, U, K, L, L2);
    if (rc) return rc;
    float *p = calloc(n->n_params, sizeof(float));
    if (!p) return CASIE_ERR_NOMEM;
    uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 77;
    size_t G = 4 * (size_t)H, I = (size_t)D + (size_t)H;
    glorot(p + n->o_wf, G, I, &rng);
    glorot(p + n->o_wb, G, I, &rng);
    for (int k = 0; k < H; k++)
        p[n->o_bf + H + k] = p[n->o_bb + H + k] = 1.0f; /* forget gates open */
    for (int h = 0; h < (L2 ? 2 : 1); h++) {
        glorot(p + n->o_w1[h], (size_t)K, (size_t)U, &rng);
        glorot(p + n->o_w2[h], (size_t)(h ? L2 : L), (size_t)K, &rng);
    }
    n->own = p;
    n->p = p;
    return CASIE_OK;
}

void casie__nnet_free(casie__nnet *n) {
    free(n->own);
    memset(n, 0, sizeof *n);
}

size_t casie__nnet_work(const casie__nnet *n) {
    /* the encoder's z, c, c_prev, int32 sums (4H) and int16 states; the
     * head's hidden layer after the first D + 7H floats; project_q's */
    size_t enc = 6u * (size_t)n->H + 4u * (size_t)n->H + ((size_t)n->H + 2) / 2;
    size_t head = (size_t)(n->D + n->H) + 6u * (size_t)n->H;
    size_t proj = 8u * (size_t)n->H + ((size_t)n->D + 2) / 2; /* project_q's int32 sums and int16 vector */
    size_t most = enc > head ? enc : head;
    return (most > proj ? most : proj) + 2u * (size_t)n->K; /* the head's hidden layer and head_from_q's sums */
}

void casie__nnet_cols_transpose(const casie__nnet *n, int c0, float *C) {
    const int G = 4 * n->H, I = n->D + n->H;
    for (int col = c0; col < n->D; col++)
        for (int dir = 0; dir < 2; dir++) {
            const float *W = n->p + (dir ? n->o_wb : n->o_wf) + col;
            float *out = C + (size_t)(col - c0) * 2 * G + (size_t)dir * G;
            for (int r = 0; r < G; r++)
                out[r] = W[(size_t)r * I];
        }
}

INLINE void nnet_add_tcol(const float *col, float v, int n, float *z) {
    for (int r = 0; r < n; r++)
        z[r] += v * col[r];
}

/* Tiles of add_tcols in plain C: TCOLS_T tokens by TCOLS_R elements of z
 * (16 KB, kept in the L1 cache while the columns stream past). */
enum { TCOLS_T = 16, TCOLS_R = 256 };

#if CASIE_X86
/* The SIMD copies keep a tile of z in registers over every column: 4
 * tokens by W vectors of L lanes (16 sums on AVX-512, 8 on AVX2), loaded
 * once, each column's term added in column order (a multiply, then an add:
 * the plain copy's bits), stored once.  What no tile covers (tokens past a
 * multiple of 4, elements past a multiple of W * L) goes a vector, then an
 * element, at a time, in the same order. */
#define TCOLS_TILE(V, L, W, LOAD, STORE, SET1, ADD, MUL)                                                               \
    for (; r0 + (W) * (L) <= n; r0 += (W) * (L)) {                                                                     \
        int t = 0;                                                                                                     \
        for (; t + 4 <= T; t += 4) {                                                                                   \
            V a[4][W];                                                                                                 \
            _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++)  \
                a[u][w] = LOAD(z + (size_t)(t + u) * zs + r0 + w * (L));                                               \
            const float *xt = x + (size_t)t * xs;                                                                      \
            for (int j = 0; j < nc; j++) {                                                                             \
                const float *col = C + (size_t)j * (size_t)n + r0;                                                     \
                V c[W];                                                                                                \
                _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++) c[w] = LOAD(col + w * (L));                      \
                _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) {                                                  \
                    const V v = SET1(xt[(size_t)u * xs + (size_t)j]);                                                  \
                    _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++) a[u][w] = ADD(a[u][w], MUL(v, c[w]));        \
                }                                                                                                      \
            }                                                                                                          \
            _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++)  \
                STORE(z + (size_t)(t + u) * zs + r0 + w * (L), a[u][w]);                                               \
        }                                                                                                              \
        for (; t < T; t++)                                                                                             \
            _Pragma("GCC unroll 4") for (int w = 0; w < (W); w++) {                                                    \
                V a1 = LOAD(z + (size_t)t * zs + r0 + w * (L));                                                        \
                for (int j = 0; j < nc; j++)                                                                           \
                    a1 = ADD(                                                                                          \
                        a1, MUL(SET1(x[(size_t)t * xs + (size_t)j]), LOAD(C + (size_t)j * (size_t)n + r0 + w * (L)))); \
                STORE(z + (size_t)t * zs + r0 + w * (L), a1);                                                          \
            }                                                                                                          \
    }

/* the elements past the tiles, one at a time */
static void tcols_tail(const float *C, int nc, int n, int r0, const float *x, size_t xs, int T, float *z, size_t zs) {
    for (int t = 0; t < T; t++)
        for (int r = r0; r < n; r++) {
            float s = z[(size_t)t * zs + r];
            for (int j = 0; j < nc; j++) {
                const float p = x[(size_t)t * xs + (size_t)j] * C[(size_t)j * (size_t)n + r];
                s = s + p;
            }
            z[(size_t)t * zs + r] = s;
        }
}

CASIE_TARGET_AVX2 static void tcols_avx2(const float *C, int nc, int n, const float *x, size_t xs, int T, float *z,
                                         size_t zs) {
    int r0 = 0;
    TCOLS_TILE(__m256, 8, 2, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps)
    TCOLS_TILE(__m256, 8, 1, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps)
    tcols_tail(C, nc, n, r0, x, xs, T, z, zs);
}

CASIE_TARGET_AVX512 static void tcols_avx512(const float *C, int nc, int n, const float *x, size_t xs, int T, float *z,
                                             size_t zs) {
    int r0 = 0;
    TCOLS_TILE(__m512, 16, 4, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps)
    TCOLS_TILE(__m512, 16, 1, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps)
    TCOLS_TILE(__m256, 8, 1, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps)
    tcols_tail(C, nc, n, r0, x, xs, T, z, zs);
}
#undef TCOLS_TILE
#endif

INLINE void nnet_add_tcols(int simd, const float *C, int nc, int n, const float *x, size_t xs, int T, float *z,
                           size_t zs) {
#if CASIE_X86
    if (simd == CASIE_SIMD_AVX512) {
        tcols_avx512(C, nc, n, x, xs, T, z, zs);
        return;
    }
    if (simd == CASIE_SIMD_AVX2) {
        tcols_avx2(C, nc, n, x, xs, T, z, zs);
        return;
    }
#endif
    (void)simd;
    for (int t0 = 0; t0 < T; t0 += TCOLS_T) {
        int t1 = t0 + TCOLS_T < T ? t0 + TCOLS_T : T;
        for (int r0 = 0; r0 < n; r0 += TCOLS_R) {
            int r1 = r0 + TCOLS_R < n ? r0 + TCOLS_R : n;
            for (int j = 0; j < nc; j++) {
                const float *col = C + (size_t)j * (size_t)n;
                for (int t = t0; t < t1; t++) {
                    float v = x[(size_t)t * xs + (size_t)j], *zt = z + (size_t)t * zs;
                    for (int r = r0; r < r1; r++)
                        zt[r] += v * col[r];
                }
            }
        }
    }
}

INLINE void nnet_sum2(const float *a, const float *b, int n, float *z) {
    for (int r = 0; r < n; r++)
        z[r] = a[r] + b[r];
}

/* ---- the recurrence at inference, in 16-bit integers ----
 * Extraction is bound by the recurrent weights' traffic: a direction's 4H x H
 * floats (64 KB at H 64) do not fit the L1 cache, and every step reads them
 * all.  So extraction keeps them as int16 (half the bytes), with one scale
 * per output row, and the previous states as int16 too: the products sum
 * exactly in int32 (vpmaddwd on AVX2, plain C elsewhere: the same bits), and
 * the sum times the row's scale is added to the input projection in float.
 * The bounds keep every int32 sum from overflowing: |state| <= QH and
 * |weight| <= qmax(H) with QH * qmax * Hp < 2^31.  Layout per direction:
 * Hp/2 pairs of rows k, each pair (4H, 2) interleaved (pairs of the same
 * output side by side, as vpmaddwd multiplies them), then 4H scales. */
#define QH 8191 /* a state in [-1, 1] is round(h * QH) */

static int rec_hp(const casie__nnet *n) { return (n->H + 1) & ~1; }
static int rec_qmax(const casie__nnet *n) {
    long q = 2147483647L / ((long)QH * rec_hp(n));
    return q > 32767 ? 32767 : (int)q;
}
/* bytes of one direction's block: weights, then scales (4-aligned) */
static size_t rec_dir_bytes(const casie__nnet *n) {
    return (size_t)rec_hp(n) * 4 * (size_t)n->H * sizeof(int16_t) + 4 * (size_t)n->H * sizeof(float);
}
size_t casie__nnet_rec_bytes(const casie__nnet *n) { return 2 * rec_dir_bytes(n); }

/* Quantizes the columns [k0, k0 + nk) of the rows of W0 and then of W1
 * (NULL: none), rows rows each, row stride ld, into q (nkp/2 pairs of
 * columns, each (G, 2) with G the rows in all) with a step per row such that
 * |q| <= qmax; scale[r] = step / div. */
static void quantize_rows(const float *W0, const float *W1, size_t ld, int rows, int k0, int nk, int nkp, int qmax,
                          float div, int16_t *q, float *scale) {
    const int G = W1 ? 2 * rows : rows;
    for (int r = 0; r < G; r++) {
        const float *w = (r < rows ? W0 + (size_t)r * ld : W1 + (size_t)(r - rows) * ld) + k0;
        float mx = 0.0f;
        for (int k = 0; k < nk; k++)
            mx = fmaxf(mx, fabsf(w[k]));
        float step = mx > 0.0f ? mx / (float)qmax : 0.0f;
        scale[r] = step / div;
        for (int k = 0; k < nkp; k++) {
            long iv = k < nk && step > 0.0f ? lrintf(w[k] / step) : 0;
            q[((size_t)(k / 2) * G + (size_t)r) * 2 + (size_t)(k & 1)] = (int16_t)(iv > qmax    ? qmax
                                                                                   : iv < -qmax ? -qmax
                                                                                                : iv);
        }
    }
}

void casie__nnet_rec_quantize(const casie__nnet *n, void *R) {
    const int D = n->D, H = n->H, G = 4 * H, Hp = rec_hp(n);
    for (int dir = 0; dir < 2; dir++) {
        unsigned char *blk = (unsigned char *)R + (size_t)dir * rec_dir_bytes(n);
        quantize_rows(n->p + (dir ? n->o_wb : n->o_wf), NULL, (size_t)(D + H), G, D, H, Hp, rec_qmax(n), (float)QH,
                      (int16_t *)blk, (float *)(blk + (size_t)Hp * G * sizeof(int16_t)));
    }
}

/* acc (G,) = sum over k of hq[k] * q[k][r], exactly */
static void rec_sums_c(const int16_t *q, const int16_t *hq, int Hp, int G, int32_t *acc) {
    for (int r = 0; r < G; r++)
        acc[r] = 0;
    for (int k2 = 0; k2 < Hp / 2; k2++) {
        const int16_t *w = q + (size_t)k2 * G * 2;
        const int32_t h0 = hq[2 * k2], h1 = hq[2 * k2 + 1];
        for (int r = 0; r < G; r++)
            acc[r] += h0 * w[2 * r] + h1 * w[2 * r + 1];
    }
}

#if CASIE_X86
CASIE_TARGET_AVX2 static void rec_sums_avx2(const int16_t *q, const int16_t *hq, int Hp, int G, int32_t *acc) {
    int r0 = 0;
    for (; r0 + 64 <= G; r0 += 64) { /* eight vectors of sums in registers */
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k2 = 0; k2 < Hp / 2; k2++) {
            const __m256i *w = (const __m256i *)(q + ((size_t)k2 * G + (size_t)r0) * 2);
            int32_t pair;
            memcpy(&pair, hq + 2 * k2, sizeof pair);
            const __m256i x = _mm256_set1_epi32(pair);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x, _mm256_loadu_si256(w)));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x, _mm256_loadu_si256(w + 1)));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(x, _mm256_loadu_si256(w + 2)));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(x, _mm256_loadu_si256(w + 3)));
            a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(x, _mm256_loadu_si256(w + 4)));
            a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(x, _mm256_loadu_si256(w + 5)));
            a6 = _mm256_add_epi32(a6, _mm256_madd_epi16(x, _mm256_loadu_si256(w + 6)));
            a7 = _mm256_add_epi32(a7, _mm256_madd_epi16(x, _mm256_loadu_si256(w + 7)));
        }
        __m256i *o = (__m256i *)(acc + r0);
        _mm256_storeu_si256(o, a0), _mm256_storeu_si256(o + 1, a1), _mm256_storeu_si256(o + 2, a2);
        _mm256_storeu_si256(o + 3, a3), _mm256_storeu_si256(o + 4, a4), _mm256_storeu_si256(o + 5, a5);
        _mm256_storeu_si256(o + 6, a6), _mm256_storeu_si256(o + 7, a7);
    }
    for (; r0 + 8 <= G; r0 += 8) {
        __m256i a = _mm256_setzero_si256();
        for (int k2 = 0; k2 < Hp / 2; k2++) {
            int32_t pair;
            memcpy(&pair, hq + 2 * k2, sizeof pair);
            a = _mm256_add_epi32(
                a, _mm256_madd_epi16(_mm256_set1_epi32(pair),
                                     _mm256_loadu_si256((const __m256i *)(q + ((size_t)k2 * G + (size_t)r0) * 2))));
        }
        _mm256_storeu_si256((__m256i *)(acc + r0), a);
    }
    for (int r = r0; r < G; r++) {
        int32_t a = 0;
        for (int k2 = 0; k2 < Hp / 2; k2++) {
            const int16_t *w = q + ((size_t)k2 * G + (size_t)r) * 2;
            a += (int32_t)hq[2 * k2] * w[0] + (int32_t)hq[2 * k2 + 1] * w[1];
        }
        acc[r] = a;
    }
}
#else
#define rec_sums_avx2 rec_sums_c
#endif

/* rec_sums on level simd (cpu.h): vpmaddwd from AVX2 on */
INLINE void rec_sums(int simd, const int16_t *q, const int16_t *hq, int Hp, int G, int32_t *acc) {
    (simd >= CASIE_SIMD_AVX2 ? rec_sums_avx2 : rec_sums_c)(q, hq, Hp, G, acc);
}

/* The word vector's share of the input projection in integers too: the
 * vectors are int8 with a scale per word (casie__emb), the first nc columns
 * of both directions' weights int16 with a scale per row, so a projection
 * is rec_sums over nc/2 pairs and 8H rows, times the two scales.  Layout:
 * the pairs, then the 8H scales. */
static int proj_ncp(int nc) { return (nc + 1) & ~1; }
static int proj_qmax(int nc) {
    long q = nc > 0 ? 2147483647L / (128L * proj_ncp(nc)) : 32767; /* |int8| <= 128 */
    return q > 32767 ? 32767 : (int)q;
}
size_t casie__nnet_proj_bytes(const casie__nnet *n, int nc) {
    return (size_t)proj_ncp(nc) * 8 * (size_t)n->H * sizeof(int16_t) + 8 * (size_t)n->H * sizeof(float);
}

void casie__nnet_proj_quantize(const casie__nnet *n, int nc, void *P) {
    const int G2 = 8 * n->H, ncp = proj_ncp(nc);
    quantize_rows(n->p + n->o_wf, n->p + n->o_wb, (size_t)(n->D + n->H), 4 * n->H, 0, nc, ncp, proj_qmax(nc), 1.0f,
                  (int16_t *)P, (float *)((unsigned char *)P + (size_t)ncp * G2 * sizeof(int16_t)));
}

INLINE void nnet_project_q(int simd, const casie__nnet *n, const void *P, int nc, const int8_t *v, float vscale,
                           float *z, float *work) {
    const int G2 = 8 * n->H, ncp = proj_ncp(nc);
    int32_t *acc = (int32_t *)work;     /* (8H,) */
    int16_t *x = (int16_t *)(acc + G2); /* (ncp,) */
    for (int j = 0; j < nc; j++)
        x[j] = v[j];
    if (ncp > nc) x[nc] = 0;
    const float *scale = (const float *)((const unsigned char *)P + (size_t)ncp * G2 * sizeof(int16_t));
    rec_sums(simd, (const int16_t *)P, x, ncp, G2, acc);
    for (int r = 0; r < G2; r++)
        z[r] = (float)acc[r] * scale[r] * vscale;
}

/* e^x for eight lanes: 2^n e^r with n = round(x / ln 2) and a degree-5
 * polynomial for e^r, |r| <= ln2 / 2, interpolating e^r at the six
 * Chebyshev nodes of that interval (relative error under 2.6e-7 over
 * [-87, 87] in float, as the degree-6 Taylor polynomial it replaced); x is
 * clamped so that 2^n stays a normal float.  n is rounded by adding and
 * subtracting 1.5 * 2^23, which leaves the nearest integer in a float. */
typedef int32_t v8i __attribute__((vector_size(32)));
#define V8(c)                                                                                                          \
    { c, c, c, c, c, c, c, c }
INLINE v8f exp8(v8f x) {
    const v8f hi = V8(88.0f), lo = -hi, magic = V8(12582912.0f), c5 = V8(0.008369148490818804f);
    v8i m = x > hi;
    x = (v8f)(((v8i)x & ~m) | ((v8i)hi & m));
    m = x < lo;
    x = (v8f)(((v8i)x & ~m) | ((v8i)lo & m));
    v8f nf = (x * 1.44269504088896341f + magic) - magic;
    v8i ni = __builtin_convertvector(nf, v8i);
    v8f r = x - nf * 0.693145751953125f - nf * 1.428606765330187e-06f;
    v8f p = c5 * r + 0.04191750724963238f;
    p = p * r + 0.1666650526040855f;
    p = p * r + 0.499988693783032f;
    p = p * r + 1.00000001077157f;
    p = p * r + 1.0000000754548972f;
    return p * (v8f)((ni + 127) << 23);
}
#undef V8
INLINE v8f sigm8(v8f x) { return 1.0f / (1.0f + exp8(-x)); }
INLINE v8f tanh8(v8f x) { return 2.0f / (1.0f + exp8(-2.0f * x)) - 1.0f; }
INLINE void st8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

/* round(h * QH), halves away from zero (|h| <= 1: the gates bound it), for
 * one state and for eight, with the same arithmetic */
INLINE int16_t quant_state(float h) {
    float v = h * (float)QH;
    return (int16_t)(int)(v + (v >= 0.0f ? 0.5f : -0.5f));
}
typedef short v8s __attribute__((vector_size(16)));
INLINE void quant_state8(v8f h, int16_t *out) {
    v8f v = h * (float)QH;
    v8f half = (v8f)(((v8i)v & INT32_MIN) | 0x3f000000); /* 0.5 with v's sign (-0.0: -0.5, 0 either way) */
    v8s q = __builtin_convertvector(__builtin_convertvector(v + half, v8i), v8s);
    memcpy(out, &q, sizeof q);
}

/* The recurrence from the input projections Zx with R from
 * casie__nnet_rec_quantize: z = zx + scale * (the integer sums over the
 * previous states); gates eight lanes at a time. */
INLINE void nnet_encode_proj(int simd, const casie__nnet *n, const void *R, const float *Zx, int len, float *Hs,
                             int16_t *Hq, float *work) {
    const int H = n->H, G = 4 * H, Hp = rec_hp(n);
    float *z = work, *c = z + G, *cp = c + H;
    int32_t *acc = (int32_t *)(cp + H); /* (G,), casie__nnet_work counts it */
    int16_t *hq = (int16_t *)(acc + G); /* (Hp,) */
    const int vec = H % 8 == 0;
    for (int dir = 0; dir < 2; dir++) {
        const unsigned char *blk = (const unsigned char *)R + (size_t)dir * rec_dir_bytes(n);
        const int16_t *q = (const int16_t *)blk;
        const float *scale = (const float *)(blk + (size_t)Hp * G * sizeof(int16_t));
        for (int s = 0; s < len; s++) {
            int t = dir ? len - 1 - s : s;
            const float *zx = Zx + ((size_t)t * 2 + (size_t)dir) * G;
            float *h = Hs + (size_t)t * 2 * H + (size_t)dir * H;
            if (s) {
                rec_sums(simd, q, hq, Hp, G, acc); /* hq: the previous step's states */
                for (int r = 0; r < G; r++)
                    z[r] = zx[r] + (float)acc[r] * scale[r];
            } else {
                memcpy(z, zx, sizeof(float) * (size_t)G);
            }
            int k = 0;
            if (vec)
                for (; k < H; k += 8) {
                    v8f ig = sigm8(ld8(z + k)), fg = sigm8(ld8(z + H + k)), gg = tanh8(ld8(z + 2 * H + k));
                    v8f og = sigm8(ld8(z + 3 * H + k));
                    v8f cv = ig * gg;
                    if (s) cv += fg * ld8(cp + k);
                    st8(c + k, cv);
                    v8f hv = og * tanh8(cv);
                    st8(h + k, hv);
                    quant_state8(hv, hq + k);
                }
            for (; k < H; k++) {
                float ig = sigm(z[k]), fg = sigm(z[H + k]), gg = tanh_(z[2 * H + k]), og = sigm(z[3 * H + k]);
                c[k] = fg * (s ? cp[k] : 0.0f) + ig * gg;
                h[k] = og * tanh_(c[k]);
                hq[k] = quant_state(h[k]);
            }
            if (Hp > H) hq[H] = 0;
            if (Hq) memcpy(Hq + (size_t)t * 2 * H + (size_t)dir * H, hq, sizeof(int16_t) * (size_t)H);
            memcpy(cp, c, sizeof(float) * (size_t)H);
        }
    }
}

INLINE void head_out(const casie__nnet *n, int h, float *a, float *out) {
    const int K = n->K, L = h ? n->L2 : n->L;
    int k = 0;
    for (; k + 8 <= K; k += 8)
        st8(a + k, tanh8(ld8(a + k)));
    for (; k < K; k++)
        a[k] = tanh_(a[k]);
    const float *W2 = n->p + n->o_w2[h], *b2 = n->p + n->o_b2[h];
    float y[64]; /* L <= 64 (casie__nnet_dims) */
    matvec_ld(W2, (size_t)K, b2, a, L, K, y);
    for (int l = 0; l < L; l++)
        out[l] += y[l];
}

INLINE void nnet_head(const casie__nnet *n, int h, const float *u, float *out, float *work) {
    float *a = work + (n->D + n->H) + 6 * n->H;
    matvec(n->p + n->o_w1[h], n->p + n->o_b1[h], u, n->K, n->U, a);
    head_out(n, h, a, out);
}

INLINE void nnet_head_base(const casie__nnet *n, int h, const float *tail, int c0, float *base) {
    const float *W1 = n->p + n->o_w1[h] + c0, *b1 = n->p + n->o_b1[h];
    matvec_ld(W1, (size_t)n->U, b1, tail, n->K, n->U - c0, base);
}

/* Head h's first layer over the c0 varying inputs in integers, as the
 * recurrence: int16 weights with a scale per row (pairs of columns
 * interleaved, then the K scales), times the int16 states. */
static int head_qmax(int c0) {
    long q = c0 > 0 ? 2147483647L / ((long)QH * c0) : 32767;
    return q > 32767 ? 32767 : (int)q;
}
size_t casie__nnet_head_bytes(const casie__nnet *n, int c0) {
    return (size_t)c0 * (size_t)n->K * sizeof(int16_t) + (size_t)n->K * sizeof(float);
}

void casie__nnet_head_quantize(const casie__nnet *n, int h, int c0, void *Q) {
    quantize_rows(n->p + n->o_w1[h], NULL, (size_t)n->U, n->K, 0, c0, c0, head_qmax(c0), (float)QH, (int16_t *)Q,
                  (float *)((unsigned char *)Q + (size_t)c0 * n->K * sizeof(int16_t)));
}

INLINE void nnet_head_from_q(int simd, const casie__nnet *n, int h, const void *Q, const float *base, const int16_t *uq,
                             int c0, float *out, float *work) {
    const int K = n->K;
    float *a = work + (n->D + n->H) + 6 * n->H;
    int32_t *acc = (int32_t *)(a + K);
    const float *scale = (const float *)((const unsigned char *)Q + (size_t)c0 * K * sizeof(int16_t));
    rec_sums(simd, (const int16_t *)Q, uq, c0, K, acc);
    for (int k = 0; k < K; k++)
        a[k] = base[k] + (float)acc[k] * scale[k];
    head_out(n, h, a, out);
}

/* ---- one copy of each kernel per level (cpu.c's table: the AVX-512 row
 * takes the AVX2 copies, but for add_tcols) ---- */
CASIE_COPIES2(nnet_add_tcol, (const float *col, float v, int n, float *z), (col, v, n, z))
CASIE_COPIES3_L(nnet_add_tcols, (const float *C, int nc, int n, const float *x, size_t xs, int T, float *z, size_t zs),
                (C, nc, n, x, xs, T, z, zs))
CASIE_COPIES2(nnet_sum2, (const float *a, const float *b, int n, float *z), (a, b, n, z))
CASIE_COPIES2_L(nnet_project_q,
                (const casie__nnet *n, const void *P, int nc, const int8_t *v, float vscale, float *z, float *work),
                (n, P, nc, v, vscale, z, work))
CASIE_COPIES2_L(nnet_encode_proj,
                (const casie__nnet *n, const void *R, const float *Zx, int len, float *Hs, int16_t *Hq, float *work),
                (n, R, Zx, len, Hs, Hq, work))
CASIE_COPIES2(nnet_head, (const casie__nnet *n, int h, const float *u, float *out, float *work), (n, h, u, out, work))
CASIE_COPIES2(nnet_head_base, (const casie__nnet *n, int h, const float *tail, int c0, float *base),
              (n, h, tail, c0, base))
CASIE_COPIES2_L(nnet_head_from_q,
                (const casie__nnet *n, int h, const void *Q, const float *base, const int16_t *uq, int c0, float *out,
                 float *work),
                (n, h, Q, base, uq, c0, out, work))
