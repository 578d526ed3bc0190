/*
 * nn.c - the neural half of the taggers: a bidirectional LSTM over the token
 * vectors of a span of text, a one-hidden-layer head that turns its states
 * into label scores, the linear-chain CRF loss that trains them together with
 * the sparse weights, and Adam.
 *
 * Not here: what a token's vector holds (features.c), Viterbi decoding and
 * marginals (linear.c), what the labels mean (train.c, extract.c).
 * Inference (encode, head) only reads the network, so one network serves many
 * threads; training state lives in a casie__nn_train owned by one thread.
 */
#include "internal.h"
#include "hash.h"
#include "linear.h"
#include "nn.h"
#include "cpu.h"

#include <math.h>
#include <string.h>

#define NEG_INF (-1e30f)

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

static float rng_unit(uint64_t *s) { return (float)(casie__rng_next(s) >> 40) * (1.0f / 16777216.0f); } /* [0, 1) */

static void glorot(float *w, size_t rows, size_t cols, uint64_t *rng) {
    float a = sqrtf(6.0f / (float)(rows + cols));
    for (size_t i = 0; i < rows * cols; i++)
        w[i] = (2.0f * rng_unit(rng) - 1.0f) * a;
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

/* ---- small kernels ---- */

#define INLINE static inline __attribute__((always_inline))

INLINE float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }
/* tanh through expf: glibc's tanhf goes through expm1f, three times slower;
 * the absolute error stays below 1e-7. */
INLINE float tanh_(float x) { return 2.0f / (1.0f + expf(-2.0f * x)) - 1.0f; }

/* Eight-float vectors (GCC/Clang vector extensions): AVX registers in the
 * AVX2 copies, SSE pairs in the baseline, the same arithmetic in both. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi" /* v8f never crosses a call: every user is inlined */
#endif
typedef float v8f __attribute__((vector_size(32)));
INLINE v8f ld8(const float *p) {
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}
INLINE float hsum8(v8f a) { return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7])); }

/* w . x in eight interleaved partial sums: no reassociation, so results
 * stay the same on every run and in both copies. */
INLINE float dot(const float *restrict w, const float *restrict x, int c) {
    v8f acc = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= c; j += 8)
        acc += ld8(w + j) * ld8(x + j);
    float s = hsum8(acc);
    for (; j < c; j++)
        s += w[j] * x[j];
    return s;
}

/* The dots of four rows of W (row stride ld) with x into y[0..3], each
 * summed exactly as dot sums it: the rows share x's loads and their four
 * chains of additions overlap. */
INLINE void dot4(const float *restrict W, size_t ld, const float *restrict x, int c, float *restrict y) {
    const float *w0 = W, *w1 = W + ld, *w2 = W + 2 * ld, *w3 = W + 3 * ld;
    v8f a0 = {0, 0, 0, 0, 0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
    int j = 0;
    for (; j + 8 <= c; j += 8) {
        v8f xj = ld8(x + j);
        a0 += ld8(w0 + j) * xj, a1 += ld8(w1 + j) * xj, a2 += ld8(w2 + j) * xj, a3 += ld8(w3 + j) * xj;
    }
    float s0 = hsum8(a0), s1 = hsum8(a1), s2 = hsum8(a2), s3 = hsum8(a3);
    for (; j < c; j++)
        s0 += w0[j] * x[j], s1 += w1[j] * x[j], s2 += w2[j] * x[j], s3 += w3[j] * x[j];
    y[0] = s0, y[1] = s1, y[2] = s2, y[3] = s3;
}

/* y (r,) = W (r, c) x (c,) (row stride ld) plus b[i] when b */
INLINE void matvec_ld(const float *restrict W, size_t ld, const float *restrict b, const float *restrict x, int r,
                      int c, float *restrict y) {
    int i = 0;
    for (; i + 4 <= r; i += 4) {
        dot4(W + (size_t)i * ld, ld, x, c, y + i);
        if (b) y[i] += b[i], y[i + 1] += b[i + 1], y[i + 2] += b[i + 2], y[i + 3] += b[i + 3];
    }
    for (; i < r; i++)
        y[i] = dot(W + (size_t)i * ld, x, c) + (b ? b[i] : 0.0f);
}

/* y (r,) = W (r, c) x (c,) + b */
INLINE void matvec(const float *restrict W, const float *restrict b, const float *restrict x, int r, int c,
                   float *restrict y) {
    matvec_ld(W, (size_t)c, b, x, r, c, y);
}

/* x (c,) += W^T (c, r) d (r,) */
INLINE void matvec_t_add(const float *restrict W, const float *restrict d, int r, int c, float *restrict x) {
    for (int i = 0; i < r; i++) {
        const float *w = W + (size_t)i * c;
        float di = d[i];
        if (di == 0.0f) continue;
        for (int j = 0; j < c; j++)
            x[j] += w[j] * di;
    }
}

/* G (r, c) += d (r,) x^T (c,) */
INLINE void outer_add(float *restrict G, const float *restrict d, const float *restrict x, int r, int c) {
    for (int i = 0; i < r; i++) {
        float di = d[i];
        if (di == 0.0f) continue;
        float *g = G + (size_t)i * c;
        for (int j = 0; j < c; j++)
            g[j] += di * x[j];
    }
}

/* One LSTM step: z (4H) from [x; hp] then the gates in place (i f g o
 * activated), c and h out. */
INLINE void lstm_step(const float *W, const float *bias, int D, int H, const float *x, const float *hp, const float *cp,
                      float *xh, float *z, float *c, float *h) {
    memcpy(xh, x, sizeof(float) * (size_t)D);
    if (hp)
        memcpy(xh + D, hp, sizeof(float) * (size_t)H);
    else
        memset(xh + D, 0, sizeof(float) * (size_t)H);
    matvec(W, bias, xh, 4 * H, D + H, z);
    for (int k = 0; k < H; k++) {
        float ig = sigm(z[k]), fg = sigm(z[H + k]), gg = tanh_(z[2 * H + k]), og = sigm(z[3 * H + k]);
        z[k] = ig, z[H + k] = fg, z[2 * H + k] = gg, z[3 * H + k] = og;
        c[k] = fg * (cp ? cp[k] : 0.0f) + ig * gg;
        h[k] = og * tanh_(c[k]);
    }
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
#include <immintrin.h>
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

/* ---- training ---- */

int casie__nn_train_init(casie__nn_train *t, casie__nnet *n, float lr, float dropout, uint64_t seed) {
    memset(t, 0, sizeof *t);
    t->n = n;
    t->lr = lr;
    t->dropout = dropout;
    t->rng = seed * 0xd1342543de82ef95ull + 1;
    t->g = calloc(n->n_params, sizeof(float));
    t->m = calloc(n->n_params, sizeof(float));
    t->v = calloc(n->n_params, sizeof(float));
    t->avg = calloc(n->n_params, sizeof(float));
    if (!t->g || !t->m || !t->v || !t->avg) {
        casie__nn_train_free(t);
        return CASIE_ERR_NOMEM;
    }
    return CASIE_OK;
}

void casie__nn_train_free(casie__nn_train *t) {
    free(t->g);
    free(t->m);
    free(t->v);
    free(t->avg);
    free(t->X);
    free(t->act);
    free(t->cell);
    free(t->Hs);
    free(t->dHs);
    free(t->U);
    free(t->A);
    memset(t, 0, sizeof *t);
}

static int ensure(float **p, size_t *cap, size_t need) { return casie__grow((void **)p, cap, need, sizeof(float)); }

int casie__nn_train_reserve(casie__nn_train *t, int len, int n_heads) {
    const casie__nnet *n = t->n;
    size_t L = (size_t)(len > 0 ? len : 1), NH = (size_t)(n_heads > 0 ? n_heads : 1);
    if (ensure(&t->X, &t->cap_x, L * (size_t)n->D) || ensure(&t->act, &t->cap_act, L * 8 * (size_t)n->H) ||
        ensure(&t->cell, &t->cap_cell, L * 2 * (size_t)n->H) || ensure(&t->Hs, &t->cap_hs, L * 2 * (size_t)n->H) ||
        ensure(&t->dHs, &t->cap_dhs, L * 2 * (size_t)n->H) || ensure(&t->U, &t->cap_u, NH * (size_t)n->U) ||
        ensure(&t->A, &t->cap_a, NH * (size_t)n->K))
        return CASIE_ERR_NOMEM;
    return CASIE_OK;
}

/* Inverted dropout in place: each value zeroed with probability p, the
 * rest scaled by 1/(1-p). */
INLINE void dropout(float *x, size_t n, float p, uint64_t *rng) {
    if (p <= 0) return;
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        x[i] = rng_unit(rng) < p ? 0.0f : x[i] * keep;
}

INLINE void nn_train_encode(casie__nn_train *t, int len) {
    const casie__nnet *n = t->n;
    const int D = n->D, H = n->H;
    dropout(t->X, (size_t)len * D, t->dropout, &t->rng);
    float xh[4096 + 1024];
    for (int dir = 0; dir < 2; dir++) {
        const float *W = n->p + (dir ? n->o_wb : n->o_wf), *bias = n->p + (dir ? n->o_bb : n->o_bf);
        for (int s = 0; s < len; s++) {
            int t_ = dir ? len - 1 - s : s, prev = dir ? t_ + 1 : t_ - 1;
            const float *hp = s ? t->Hs + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            const float *cp = s ? t->cell + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            lstm_step(W, bias, D, H, t->X + (size_t)t_ * D, hp, cp, xh, t->act + ((size_t)t_ * 2 + (size_t)dir) * 4 * H,
                      t->cell + (size_t)t_ * 2 * H + (size_t)dir * H, t->Hs + (size_t)t_ * 2 * H + (size_t)dir * H);
        }
    }
    memset(t->dHs, 0, sizeof(float) * (size_t)len * 2 * H);
}

INLINE void nn_train_head_fwd(casie__nn_train *t, int k, int h, float *out) {
    const casie__nnet *n = t->n;
    const int L = h ? n->L2 : n->L;
    float *u = t->U + (size_t)k * n->U, *a = t->A + (size_t)k * n->K;
    dropout(u, (size_t)n->U, t->dropout, &t->rng);
    matvec(n->p + n->o_w1[h], n->p + n->o_b1[h], u, n->K, n->U, a);
    for (int j = 0; j < n->K; j++)
        a[j] = tanh_(a[j]);
    const float *W2 = n->p + n->o_w2[h], *b2 = n->p + n->o_b2[h];
    for (int l = 0; l < L; l++)
        out[l] += b2[l] + dot(W2 + (size_t)l * n->K, a, n->K);
}

INLINE void nn_train_head_bwd(casie__nn_train *t, int k, int h, const float *dout, float *du) {
    const casie__nnet *n = t->n;
    const int K = n->K, L = h ? n->L2 : n->L, U = n->U;
    const float *u = t->U + (size_t)k * U, *a = t->A + (size_t)k * K;
    float da[1024] = {0};
    outer_add(t->g + n->o_w2[h], dout, a, L, K);
    for (int l = 0; l < L; l++)
        t->g[n->o_b2[h] + l] += dout[l];
    matvec_t_add(n->p + n->o_w2[h], dout, L, K, da);
    for (int j = 0; j < K; j++)
        da[j] *= 1.0f - a[j] * a[j];
    outer_add(t->g + n->o_w1[h], da, u, K, U);
    for (int j = 0; j < K; j++)
        t->g[n->o_b1[h] + j] += da[j];
    memset(du, 0, sizeof(float) * (size_t)U);
    matvec_t_add(n->p + n->o_w1[h], da, K, U, du);
    for (int j = 0; j < U; j++) /* through the dropout mask: dropped inputs were zeroed */
        if (u[j] == 0.0f) du[j] = 0.0f;
}

INLINE void nn_train_encode_bwd(casie__nn_train *t, int len) {
    const casie__nnet *n = t->n;
    const int D = n->D, H = n->H, I = D + H;
    float xh[4096 + 1024], dz[4 * 1024], dh[1024], dc[1024], dhn[1024];
    for (int dir = 0; dir < 2; dir++) {
        const float *W = n->p + (dir ? n->o_wb : n->o_wf);
        float *gW = t->g + (dir ? n->o_wb : n->o_wf), *gb = t->g + (dir ? n->o_bb : n->o_bf);
        memset(dhn, 0, sizeof(float) * (size_t)H);
        memset(dc, 0, sizeof(float) * (size_t)H);
        for (int s = len - 1; s >= 0; s--) { /* reverse of the forward order */
            int t_ = dir ? len - 1 - s : s, prev = dir ? t_ + 1 : t_ - 1;
            const float *act = t->act + ((size_t)t_ * 2 + (size_t)dir) * 4 * H;
            const float *c = t->cell + (size_t)t_ * 2 * H + (size_t)dir * H;
            const float *cp = s ? t->cell + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            const float *hp = s ? t->Hs + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            const float *dH = t->dHs + (size_t)t_ * 2 * H + (size_t)dir * H;
            for (int k = 0; k < H; k++) {
                float ig = act[k], fg = act[H + k], gg = act[2 * H + k], og = act[3 * H + k];
                float tc = tanh_(c[k]);
                dh[k] = dH[k] + dhn[k];
                float dck = dc[k] + dh[k] * og * (1.0f - tc * tc);
                dz[k] = dck * gg * ig * (1.0f - ig);
                dz[H + k] = cp ? dck * cp[k] * fg * (1.0f - fg) : 0.0f;
                dz[2 * H + k] = dck * ig * (1.0f - gg * gg);
                dz[3 * H + k] = dh[k] * tc * og * (1.0f - og);
                dc[k] = dck * fg;
            }
            memcpy(xh, t->X + (size_t)t_ * D, sizeof(float) * (size_t)D);
            if (hp)
                memcpy(xh + D, hp, sizeof(float) * (size_t)H);
            else
                memset(xh + D, 0, sizeof(float) * (size_t)H);
            outer_add(gW, dz, xh, 4 * H, I);
            for (int k = 0; k < 4 * H; k++)
                gb[k] += dz[k];
            /* dh_prev = W[:, D:]^T dz */
            memset(dhn, 0, sizeof(float) * (size_t)H);
            for (int r = 0; r < 4 * H; r++) {
                float d = dz[r];
                if (d == 0.0f) continue;
                const float *w = W + (size_t)r * I + D;
                for (int k = 0; k < H; k++)
                    dhn[k] += w[k] * d;
            }
        }
    }
}

INLINE void nn_train_step(casie__nn_train *t) {
    casie__nnet *n = t->n;
    float *p = n->own;
    const size_t N = n->n_params;
    double norm = 0;
    for (size_t i = 0; i < N; i++)
        norm += (double)t->g[i] * t->g[i];
    norm = sqrt(norm);
    float scale = norm > 5.0 ? (float)(5.0 / norm) : 1.0f; /* clip the gradient norm at 5 */
    t->step++;
    const float b1 = 0.9f, b2 = 0.999f;
    float c1 = 1.0f - powf(b1, (float)t->step), c2 = 1.0f - powf(b2, (float)t->step);
    float a = t->lr * sqrtf(c2) / c1;
    for (size_t i = 0; i < N; i++) {
        float g = t->g[i] * scale;
        t->m[i] = b1 * t->m[i] + (1 - b1) * g;
        t->v[i] = b2 * t->v[i] + (1 - b2) * g * g;
        p[i] -= a * t->m[i] / (sqrtf(t->v[i]) + 1e-8f);
        t->g[i] = 0;
    }
    if (t->averaging) {
        float k = 1.0f / (float)++t->n_avg;
        for (size_t i = 0; i < N; i++)
            t->avg[i] += (p[i] - t->avg[i]) * k;
    }
}

void casie__nn_train_finish(casie__nn_train *t) {
    if (t->n_avg) memcpy(t->n->own, t->avg, sizeof(float) * t->n->n_params);
}

/* ---- CRF loss ---- */

INLINE float crf_loss(const float *E, int n, int L, const float *trans, const float *start, const uint8_t *allowed,
                      const uint8_t *start_ok, const int *gold, float *dE, float *dtrans, float *dstart, float *work) {
    float *A = work, *B = A + (size_t)n * L, *tmp = B + (size_t)n * L;
    for (int l = 0; l < L; l++)
        A[l] = (start_ok && !start_ok[l]) ? NEG_INF : E[l] + start[l];
    for (int i = 1; i < n; i++)
        for (int l = 0; l < L; l++) {
            for (int p = 0; p < L; p++)
                tmp[p] = (allowed && !allowed[p * L + l]) ? NEG_INF : A[(i - 1) * L + p] + trans[p * L + l];
            A[i * L + l] = casie__logsumexp(tmp, L) + E[i * L + l];
        }
    for (int l = 0; l < L; l++)
        B[(size_t)(n - 1) * L + l] = 0;
    for (int i = n - 2; i >= 0; i--)
        for (int p = 0; p < L; p++) {
            for (int l = 0; l < L; l++)
                tmp[l] = (allowed && !allowed[p * L + l]) ? NEG_INF
                                                          : trans[p * L + l] + E[(i + 1) * L + l] + B[(i + 1) * L + l];
            B[i * L + p] = casie__logsumexp(tmp, L);
        }
    float Z = casie__logsumexp(A + (size_t)(n - 1) * L, L);
    float gs = start[gold[0]] + E[gold[0]];
    for (int i = 1; i < n; i++)
        gs += trans[gold[i - 1] * L + gold[i]] + E[i * L + gold[i]];
    for (int i = 0; i < n; i++)
        for (int l = 0; l < L; l++) {
            float v = A[i * L + l] + B[i * L + l] - Z;
            dE[i * L + l] = (v < -60 ? 0.0f : expf(v)) - (gold[i] == l);
        }
    for (int l = 0; l < L; l++)
        dstart[l] += dE[l];
    for (int i = 1; i < n; i++) {
        for (int p = 0; p < L; p++) {
            float ap = A[(i - 1) * L + p];
            if (ap <= NEG_INF / 2) continue;
            for (int l = 0; l < L; l++) {
                if (allowed && !allowed[p * L + l]) continue;
                float v = ap + trans[p * L + l] + E[i * L + l] + B[i * L + l] - Z;
                if (v > -60) dtrans[p * L + l] += expf(v);
            }
        }
        dtrans[gold[i - 1] * L + gold[i]] -= 1.0f;
    }
    return Z - gs;
}

/* ---- one copy of each kernel per level (cpu.c's table: the AVX-512 row
 * takes the AVX2 copies) ---- */
CASIE_COPIES2(nnet_add_tcol, (const float *col, float v, int n, float *z), (col, v, n, z))
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
/* clang-format off */
CASIE_COPIES2(nn_train_encode, (casie__nn_train *t, int len), (t, len))
CASIE_COPIES2(nn_train_head_fwd, (casie__nn_train *t, int k, int h, float *out), (t, k, h, out))
CASIE_COPIES2(nn_train_head_bwd, (casie__nn_train *t, int k, int h, const float *dout, float *du), (t, k, h, dout, du))
CASIE_COPIES2(nn_train_encode_bwd, (casie__nn_train *t, int len), (t, len))
CASIE_COPIES2(nn_train_step, (casie__nn_train *t), (t))
/* clang-format on */
CASIE_COPIES2_RET(float, crf_loss,
                  (const float *E, int n, int L, const float *trans, const float *start, const uint8_t *allowed,
                   const uint8_t *start_ok, const int *gold, float *dE, float *dtrans, float *dstart, float *work),
                  (E, n, L, trans, start, allowed, start_ok, gold, dE, dtrans, dstart, work))
