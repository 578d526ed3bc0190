/*
 * encoder_grad.c - training the encoder's layers: the float32 forward pass
 * of one post-layer-norm BERT/MPNet layer that keeps its activations, its
 * backward pass, each operation's forward and backward side by side (as
 * llm.c's train_gpt2.c lays them out), the float32 parameter block made from
 * and quantized back to the int8 layers, and AdamW.
 *
 * Not here: the int8 inference pass (encoder.c, encoder_kernels.c), the
 * relative position buckets (encoder.c), what a trained layer is trained on.
 *
 * The float math mirrors casie__encoder_forward: the same order of
 * operations, scale 1/sqrt(dh), the bias added to the scaled scores, masked
 * keys out of the softmax (all counted when every key is masked), the norms'
 * 1/sqrtf(var + eps).  It differs only where inference quantizes: weights
 * here are float, activations are not rounded to int8, and erf and exp are
 * this file's own polynomials.
 *
 * Determinism: every sum runs in one fixed order (a product's terms in
 * increasing k, whatever the blocking), each product's term is one fused
 * multiply-add (fmaf's single rounding, which the AVX2 tile's vfmadd gives
 * bit for bit: tests/test_encoder_grad.c compares every level with one
 * plain loop of fmaf), other vector code is element-wise and contracts
 * nothing (-ffp-contract=off, the Makefile), so every x86-64 CPU gives the
 * same bits; only the product is dispatched (its copies are in
 * encoder_kernels.c, reached through cpu.h's table).
 * Speed: bench/bench_grad.c.
 */
#include "internal.h"
#include "encoder_grad.h"
#include "encoder.h"
#include "encoder_kernels.h"
#include "cpu.h"

#include <float.h>
#include <math.h>
#include <string.h>

static size_t up16(size_t x) { return (x + 15) & ~(size_t)15; }

/* ======================================================================== */
/* The product                                                              */
/* ======================================================================== */

void casie__grad_gemm(int M, int N, int K, const float *a, size_t sam, size_t sak, const float *b, size_t ldb, float *c,
                      size_t ldc) {
    casie__kernels_best()->grad_gemm(M, N, K, a, sam, sak, b, ldb, c, ldc);
}

/* t (cols, rows) = the transpose of s (rows, cols), in blocks of 32 */
static void transpose(const float *s, int rows, int cols, size_t lds, float *t, size_t ldt) {
    for (int r0 = 0; r0 < rows; r0 += 32)
        for (int c0 = 0; c0 < cols; c0 += 32) {
            const int r1 = rows - r0 < 32 ? rows : r0 + 32, c1 = cols - c0 < 32 ? cols : c0 + 32;
            for (int r = r0; r < r1; r++)
                for (int c = c0; c < c1; c++)
                    t[(size_t)c * ldt + r] = s[(size_t)r * lds + c];
        }
}

/* ======================================================================== */
/* Linear: y = x w^T + b                                                    */
/* ======================================================================== */

void casie__grad_linear_forward(const float *x, int n, int in, const float *w, const float *b, int out, float *y,
                                float *wt) {
    transpose(w, out, in, (size_t)in, wt, (size_t)out); /* wt (in, out) */
    for (int i = 0; i < n; i++) {
        float *yi = y + (size_t)i * out;
        if (b)
            memcpy(yi, b, (size_t)out * sizeof *yi);
        else
            memset(yi, 0, (size_t)out * sizeof *yi);
    }
    casie__grad_gemm(n, out, in, x, (size_t)in, 1, wt, (size_t)out, y, (size_t)out);
}

void casie__grad_linear_backward(const float *dy, const float *x, const float *w, int n, int in, int out, float *dx,
                                 float *dw, float *db) {
    if (dx) casie__grad_gemm(n, in, out, dy, (size_t)out, 1, w, (size_t)in, dx, (size_t)in);
    casie__grad_gemm(out, in, n, dy, 1, (size_t)out, x, (size_t)in, dw, (size_t)in);
    if (db)
        for (int i = 0; i < n; i++) {
            const float *di = dy + (size_t)i * out;
            for (int o = 0; o < out; o++)
                db[o] += di[o];
        }
}

/* ======================================================================== */
/* Layer norm                                                               */
/* ======================================================================== */

/* sum of x (n,) in eight lanes, then the lanes pairwise */
static float sum8(const float *x, int n) {
    float s8[8] = {0};
    int j0 = 0;
    for (; j0 + 8 <= n; j0 += 8)
        for (int l = 0; l < 8; l++)
            s8[l] += x[j0 + l];
    for (int j = j0; j < n; j++)
        s8[j - j0] += x[j];
    return ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
}

/* sum of x (n,) times y (n,), the same way */
static float dot8(const float *x, const float *y, int n) {
    float s8[8] = {0};
    int j0 = 0;
    for (; j0 + 8 <= n; j0 += 8)
        for (int l = 0; l < 8; l++)
            s8[l] += x[j0 + l] * y[j0 + l];
    for (int j = j0; j < n; j++)
        s8[j - j0] += x[j] * y[j];
    return ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
}

void casie__grad_layernorm_forward(const float *x, int n, int H, const float *g, const float *b, float eps, float *y,
                                   float *mean, float *rstd) {
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * H;
        float *yi = y + (size_t)i * H;
        const float mu = sum8(xi, H) / (float)H;
        float s8[8] = {0};
        int j0 = 0;
        for (; j0 + 8 <= H; j0 += 8)
            for (int l = 0; l < 8; l++)
                s8[l] += (xi[j0 + l] - mu) * (xi[j0 + l] - mu);
        for (int j = j0; j < H; j++)
            s8[j - j0] += (xi[j] - mu) * (xi[j] - mu);
        const float var = (((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]))) / (float)H;
        const float inv = 1.0f / sqrtf(var + eps);
        for (int c = 0; c < H; c++)
            yi[c] = (xi[c] - mu) * inv * g[c] + b[c];
        mean[i] = mu;
        rstd[i] = inv;
    }
}

/* With xh = (x - mean) rstd and dn = dy g: dx = rstd (dn - mean(dn) -
 * xh mean(dn xh)); dg += dy xh, db += dy. */
void casie__grad_layernorm_backward(const float *dy, const float *x, const float *mean, const float *rstd, int n, int H,
                                    const float *g, float *dx, float *dg, float *db) {
    for (int i = 0; i < n; i++) {
        const float *di = dy + (size_t)i * H, *xi = x + (size_t)i * H;
        float *oi = dx + (size_t)i * H;
        const float mu = mean[i], rs = rstd[i];
        float s1[8] = {0}, s2[8] = {0};
        int j0 = 0;
        for (; j0 + 8 <= H; j0 += 8)
            for (int l = 0; l < 8; l++) {
                const float dn = di[j0 + l] * g[j0 + l], xh = (xi[j0 + l] - mu) * rs;
                s1[l] += dn;
                s2[l] += dn * xh;
            }
        for (int j = j0; j < H; j++) {
            const float dn = di[j] * g[j], xh = (xi[j] - mu) * rs;
            s1[j - j0] += dn;
            s2[j - j0] += dn * xh;
        }
        const float m1 = (((s1[0] + s1[1]) + (s1[2] + s1[3])) + ((s1[4] + s1[5]) + (s1[6] + s1[7]))) / (float)H;
        const float m2 = (((s2[0] + s2[1]) + (s2[2] + s2[3])) + ((s2[4] + s2[5]) + (s2[6] + s2[7]))) / (float)H;
        for (int c = 0; c < H; c++) {
            const float xh = (xi[c] - mu) * rs, d = di[c];
            dg[c] += d * xh;
            db[c] += d;
            oi[c] = rs * (d * g[c] - m1 - xh * m2);
        }
    }
}

/* ======================================================================== */
/* GELU                                                                     */
/* ======================================================================== */

/* e^x for x <= 0, within 2e-7 relative: x = k ln2 + r, |r| <= ln2/2, e^r by
 * its Taylor polynomial of degree 7 (remainder under 6e-9), 2^k from the
 * exponent bits; clamped below at -87 (e^-87 ~ 1.6e-38, still normal). */
static inline float exp_le0(float x) {
    x = x < -87.0f ? -87.0f : x;
    float k = x * 1.44269504088896341f;
    k = (k + 12582912.0f) - 12582912.0f;  /* to the nearest integer: 1.5 * 2^23 */
    float r = x - k * 0.693145751953125f; /* ln2 = 0.693145751953125 + 1.4286068e-6 */
    r = r - k * 1.42860682030941723e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float s;
    memcpy(&s, &bits, 4);
    return p * s;
}

/* erf(z) = 1 - t e^(-z^2 + P(t)), t = 1 / (1 + |z|/2), for z >= 0 and odd:
 * the Chebyshev fit of erfc of Numerical Recipes (relative error under
 * 1.2e-7), about 2e-7 in float. */
static inline float erf_f(float z) {
    const float a = z < 0.0f ? -z : z, t = 1.0f / (1.0f + 0.5f * a);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float e = 1.0f - t * exp_le0(p - a * a);
    return z < 0.0f ? -e : e;
}

void casie__grad_gelu_forward(const float *x, size_t n, float *y) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = 0.5f * v * (1.0f + erf_f(v * 0.70710678118654752f));
    }
}

/* GELU'(x) = (1 + erf(x / sqrt 2)) / 2 + x e^(-x^2 / 2) / sqrt(2 pi) */
void casie__grad_gelu_backward(const float *dy, const float *x, size_t n, float *dx) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float cdf = 0.5f * (1.0f + erf_f(v * 0.70710678118654752f));
        const float pdf = 0.39894228040143268f * exp_le0(-0.5f * v * v);
        dx[i] = dy[i] * (cdf + v * pdf);
    }
}

/* ======================================================================== */
/* Residual                                                                 */
/* ======================================================================== */

void casie__grad_residual_forward(const float *a, const float *b, size_t n, float *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}

void casie__grad_residual_backward(const float *dy, size_t n, float *da, float *db) {
    if (da)
        for (size_t i = 0; i < n; i++)
            da[i] += dy[i];
    if (db)
        for (size_t i = 0; i < n; i++)
            db[i] += dy[i];
}

/* ======================================================================== */
/* Attention                                                                */
/* ======================================================================== */

void casie__grad_attention_forward(const float *qkv, int n, int H, int n_heads, const float *bias, const uint8_t *mask,
                                   float *att, float *ctx, float *kt) {
    const int dh = H / n_heads;
    const size_t ld = 3 * (size_t)H, nn = (size_t)n * (size_t)n;
    const float scale = 1.0f / sqrtf((float)dh);
    int n_real = 0;
    for (int j = 0; j < n; j++)
        n_real += !mask || mask[j];
    const uint8_t *keep = mask && n_real ? mask : NULL; /* every key masked: all count */
    for (int i = 0; i < n; i++)
        memset(ctx + (size_t)i * H, 0, (size_t)H * sizeof *ctx);
    for (int h = 0; h < n_heads; h++) {
        const float *q = qkv + (size_t)h * dh, *k = q + H, *v = q + 2 * (size_t)H;
        float *s = att + (size_t)h * nn;
        /* scores: q k^T over d in increasing order, then scaled and biased */
        transpose(k, n, dh, ld, kt, (size_t)n);
        memset(s, 0, nn * sizeof *s);
        casie__grad_gemm(n, n, dh, q, ld, 1, kt, (size_t)n, s, (size_t)n);
        for (int i = 0; i < n; i++) {
            float *si = s + (size_t)i * n;
            const float *bi = bias ? bias + (size_t)h * nn + (size_t)i * n : NULL;
            float mx = -FLT_MAX;
            for (int j = 0; j < n; j++) {
                float x = si[j] * scale;
                x = bi ? x + bi[j] : x;
                si[j] = x;
                if ((!keep || keep[j]) && x > mx) mx = x;
            }
            float sum = 0.0f;
            for (int j = 0; j < n; j++) {
                const float e = !keep || keep[j] ? exp_le0(si[j] - mx) : 0.0f;
                si[j] = e;
                sum += e;
            }
            const float inv = 1.0f / sum;
            for (int j = 0; j < n; j++)
                si[j] *= inv;
        }
        casie__grad_gemm(n, dh, n, s, (size_t)n, 1, v, ld, ctx + (size_t)h * dh, (size_t)H);
    }
}

/* Per head, with p the probabilities and dp = dctx v^T: ds = p (dp -
 * sum_j p dp), dv = p^T dctx, dq = ds k / sqrt(dh), dk = ds^T q / sqrt(dh). */
void casie__grad_attention_backward(const float *dctx, const float *qkv, const float *att, int n, int H, int n_heads,
                                    float *dqkv, float *dp, float *vt) {
    const int dh = H / n_heads;
    const size_t ld = 3 * (size_t)H, nn = (size_t)n * (size_t)n;
    const float scale = 1.0f / sqrtf((float)dh);
    for (int i = 0; i < n; i++)
        memset(dqkv + (size_t)i * ld, 0, ld * sizeof *dqkv);
    for (int h = 0; h < n_heads; h++) {
        const float *q = qkv + (size_t)h * dh, *k = q + H, *v = q + 2 * (size_t)H;
        const float *p = att + (size_t)h * nn, *dc = dctx + (size_t)h * dh;
        float *dq = dqkv + (size_t)h * dh, *dk = dq + H, *dv = dq + 2 * (size_t)H;
        transpose(v, n, dh, ld, vt, (size_t)n);
        memset(dp, 0, nn * sizeof *dp);
        casie__grad_gemm(n, n, dh, dc, (size_t)H, 1, vt, (size_t)n, dp, (size_t)n);
        casie__grad_gemm(n, dh, n, p, 1, (size_t)n, dc, (size_t)H, dv, ld);
        for (int i = 0; i < n; i++) {
            const float *pi = p + (size_t)i * n;
            float *di = dp + (size_t)i * n;
            const float s = dot8(pi, di, n);
            for (int j = 0; j < n; j++)
                di[j] = pi[j] * (di[j] - s) * scale;
        }
        casie__grad_gemm(n, dh, n, dp, (size_t)n, 1, k, ld, dq, ld);
        casie__grad_gemm(n, dh, n, dp, 1, (size_t)n, q, ld, dk, ld);
    }
}

/* ======================================================================== */
/* Softmax cross-entropy                                                    */
/* ======================================================================== */

float casie__grad_softmax_xent(const float *z, int n, int label, float scale, float *d) {
    float mx = -FLT_MAX, sum = 0.0f;
    for (int j = 0; j < n; j++)
        mx = z[j] > mx ? z[j] : mx;
    for (int j = 0; j < n; j++) {
        d[j] = exp_le0(z[j] - mx);
        sum += d[j];
    }
    const float inv = 1.0f / sum, p_gold = d[label] * inv;
    for (int j = 0; j < n; j++)
        d[j] = scale * (d[j] * inv - (j == label ? 1.0f : 0.0f));
    return p_gold;
}

/* ======================================================================== */
/* The parameter block                                                      */
/* ======================================================================== */

static void bind_f32(casie__enc_layer_f32 *L) {
    float **at[CASIE__EL_N_TENSORS] = {&L->qkv, &L->b_qkv, &L->out, &L->b_out, &L->ln1_g, &L->ln1_b,
                                       &L->ff1, &L->b_ff1, &L->ff2, &L->b_ff2, &L->ln2_g, &L->ln2_b};
    for (int t = 0; t < CASIE__EL_N_TENSORS; t++)
        *at[t] = L->mem + L->off[t];
}

int casie__enc_layer_f32_init(casie__enc_layer_f32 *L, int H, int n_heads, int I, float eps, casie_error *err) {
    memset(L, 0, sizeof *L);
    if (H < 1 || n_heads < 1 || H % n_heads || I < 1 || H > 65536 || I > 1 << 20 || !(eps > 0.0f))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder layer: hidden %d, %d heads, intermediate %d", H,
                            n_heads, I);
    const size_t h = (size_t)H, i = (size_t)I;
    const size_t size[CASIE__EL_N_TENSORS] = {3 * h * h, 3 * h, h * h, h, h, h, i * h, i, h * i, h, h, h};
    size_t at = 0;
    for (int t = 0; t < CASIE__EL_N_TENSORS; t++) {
        L->off[t] = at;
        L->size[t] = size[t];
        at = up16(at + size[t]);
    }
    if (!(L->mem = aligned_alloc(64, at * sizeof(float))))
        return casie__error(err, CASIE_ERR_NOMEM, -1, "encoder layer: out of memory (%zu floats)", at);
    memset(L->mem, 0, at * sizeof(float));
    L->H = H, L->n_heads = n_heads, L->I = I, L->eps = eps, L->n_params = at;
    bind_f32(L);
    return CASIE_OK;
}

void casie__enc_layer_f32_free(casie__enc_layer_f32 *L) {
    if (!L) return;
    free(L->mem);
    L->mem = NULL;
}

static void dequantize(const casie__q8mat *m, float *w) {
    for (int r = 0; r < m->rows; r++) {
        const int8_t *q = m->q + (size_t)r * m->stride;
        float *wr = w + (size_t)r * m->cols;
        const float s = m->scale[r];
        for (int c = 0; c < m->cols; c++)
            wr[c] = (float)q[c] * s;
    }
}

void casie__enc_layer_f32_from_q8(casie__enc_layer_f32 *L, const casie__enc_layer *q) {
    const size_t H = (size_t)L->H, I = (size_t)L->I, f = sizeof(float);
    dequantize(&q->qkv, L->qkv);
    memcpy(L->b_qkv, q->b_qkv, 3 * H * f);
    dequantize(&q->out, L->out);
    memcpy(L->b_out, q->b_out, H * f);
    memcpy(L->ln1_g, q->ln1_g, H * f);
    memcpy(L->ln1_b, q->ln1_b, H * f);
    dequantize(&q->ff1, L->ff1);
    memcpy(L->b_ff1, q->b_ff1, I * f);
    dequantize(&q->ff2, L->ff2);
    memcpy(L->b_ff2, q->b_ff2, H * f);
    memcpy(L->ln2_g, q->ln2_g, H * f);
    memcpy(L->ln2_b, q->ln2_b, H * f);
}

/* The int8 block: each array at the next multiple of 64 bytes. */
typedef struct q8_carver {
    unsigned char *base;
    size_t at;
} q8_carver;

static void *carve(q8_carver *c, size_t bytes) {
    size_t off = (c->at + 63) & ~(size_t)63;
    c->at = off + bytes;
    return c->base ? c->base + off : NULL;
}

static void carve_q8(q8_carver *c, casie__q8mat *m, int rows, int cols) {
    m->rows = rows, m->cols = cols, m->stride = (cols + 63) & ~63;
    m->q = carve(c, (size_t)rows * (size_t)m->stride);
    m->scale = carve(c, (size_t)rows * 4);
    m->sum = carve(c, (size_t)rows * 4);
    m->panel = NULL;
}

static const float *carve_floats(q8_carver *c, const float *from, size_t n) {
    float *to = carve(c, n * sizeof *to);
    if (to) memcpy(to, from, n * sizeof *to);
    return to;
}

/* Lays out (base NULL: measures) Q's block and fills it from L. */
static size_t fill_q8(casie__enc_layer_q8 *Q, const casie__enc_layer_f32 *L, unsigned char *base) {
    q8_carver c = {base, 0};
    casie__enc_layer *q = &Q->layer;
    const int H = L->H, I = L->I;
    carve_q8(&c, &q->qkv, 3 * H, H);
    q->b_qkv = carve_floats(&c, L->b_qkv, 3 * (size_t)H);
    carve_q8(&c, &q->out, H, H);
    q->b_out = carve_floats(&c, L->b_out, (size_t)H);
    q->ln1_g = carve_floats(&c, L->ln1_g, (size_t)H);
    q->ln1_b = carve_floats(&c, L->ln1_b, (size_t)H);
    carve_q8(&c, &q->ff1, I, H);
    q->b_ff1 = carve_floats(&c, L->b_ff1, (size_t)I);
    carve_q8(&c, &q->ff2, H, I);
    q->b_ff2 = carve_floats(&c, L->b_ff2, (size_t)H);
    q->ln2_g = carve_floats(&c, L->ln2_g, (size_t)H);
    q->ln2_b = carve_floats(&c, L->ln2_b, (size_t)H);
    if (base) {
        casie__q8_quantize_weights(L->qkv, 3 * H, H, &q->qkv, 0);
        casie__q8_quantize_weights(L->out, H, H, &q->out, 0);
        casie__q8_quantize_weights(L->ff1, I, H, &q->ff1, 0);
        casie__q8_quantize_weights(L->ff2, H, I, &q->ff2, 0);
    }
    return c.at;
}

int casie__enc_layer_q8_from_f32(casie__enc_layer_q8 *Q, const casie__enc_layer_f32 *L, casie_error *err) {
    memset(Q, 0, sizeof *Q);
    size_t bytes = (fill_q8(Q, L, NULL) + 63) & ~(size_t)63;
    if (!(Q->mem = aligned_alloc(64, bytes)))
        return casie__error(err, CASIE_ERR_NOMEM, -1, "encoder layer: out of memory (%zu bytes)", bytes);
    memset(Q->mem, 0, bytes); /* the rows' padding */
    fill_q8(Q, L, Q->mem);
    return CASIE_OK;
}

void casie__enc_layer_q8_free(casie__enc_layer_q8 *Q) {
    if (!Q) return;
    free(Q->mem);
    memset(Q, 0, sizeof *Q);
}

void casie__enc_grad_rel_bias(const casie_encoder *enc, int n, float *bias, float *rel) {
    const int nh = enc->cfg.n_heads;
    const size_t w = 2 * (size_t)n - 1;
    casie__encoder_rel_bias(enc, n, rel);
    for (int h = 0; h < nh; h++)
        for (int i = 0; i < n; i++) {
            float *bi = bias + ((size_t)h * n + i) * n;
            const float *r = rel + (size_t)h * w + (size_t)(n - 1 - i); /* offset j - i + n - 1 at j */
            memcpy(bi, r, (size_t)n * sizeof *bi);
        }
}

/* ======================================================================== */
/* The layer                                                                */
/* ======================================================================== */

int casie__enc_layer_acts_init(casie__enc_layer_acts *A, const casie__enc_layer_f32 *L, int cap, casie_error *err) {
    memset(A, 0, sizeof *A);
    if (cap < 1 || cap > 65536) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder layer: %d pieces", cap);
    const size_t N = (size_t)cap, H = (size_t)L->H, I = (size_t)L->I, nh = (size_t)L->n_heads, dh = H / nh;
    const size_t wt = 3 * H * H > I * H ? 3 * H * H : I * H;
    struct {
        float **p;
        size_t n;
    } parts[] = {
        {&A->x, N * H},   {&A->qkv, N * 3 * H}, {&A->att, nh * N * N}, {&A->ctx, N * H},       {&A->r1, N * H},
        {&A->mean1, N},   {&A->rstd1, N},       {&A->h1, N * H},       {&A->ff_pre, N * I},    {&A->ff_act, N * I},
        {&A->r2, N * H},  {&A->mean2, N},       {&A->rstd2, N},        {&A->out, N * H},       {&A->wt, wt},
        {&A->d_h, N * H}, {&A->d_h2, N * H},    {&A->d_ff, N * I},     {&A->d_qkv, N * 3 * H}, {&A->d_p, N * N},
        {&A->kt, dh * N},
    };
    const size_t n_parts = sizeof parts / sizeof parts[0];
    size_t total = up16(N); /* the mask's bytes, as floats */
    for (size_t k = 0; k < n_parts; k++)
        total += up16(parts[k].n);
    float *mem = aligned_alloc(64, total * sizeof *mem);
    if (!mem) return casie__error(err, CASIE_ERR_NOMEM, -1, "encoder layer: out of memory for %d pieces", cap);
    A->mem = mem;
    A->mask = (uint8_t *)mem;
    size_t at = up16(N);
    for (size_t k = 0; k < n_parts; k++) {
        *parts[k].p = mem + at;
        at += up16(parts[k].n);
    }
    A->cap = cap;
    return CASIE_OK;
}

void casie__enc_layer_acts_free(casie__enc_layer_acts *A) {
    if (!A) return;
    free(A->mem);
    memset(A, 0, sizeof *A);
}

void casie__enc_layer_f32_forward(const casie__enc_layer_f32 *L, const float *x, int n, const float *bias,
                                  const uint8_t *mask, casie__enc_layer_acts *A) {
    const int H = L->H, I = L->I;
    const size_t nH = (size_t)n * (size_t)H;
    A->n = n;
    A->bias = bias;
    for (int i = 0; i < n; i++)
        A->mask[i] = mask ? mask[i] != 0 : 1;
    memcpy(A->x, x, nH * sizeof *x);
    /* self-attention, output projection, residual, norm */
    casie__grad_linear_forward(A->x, n, H, L->qkv, L->b_qkv, 3 * H, A->qkv, A->wt);
    casie__grad_attention_forward(A->qkv, n, H, L->n_heads, bias, A->mask, A->att, A->ctx, A->kt);
    casie__grad_linear_forward(A->ctx, n, H, L->out, L->b_out, H, A->d_h, A->wt);
    casie__grad_residual_forward(A->x, A->d_h, nH, A->r1);
    casie__grad_layernorm_forward(A->r1, n, H, L->ln1_g, L->ln1_b, L->eps, A->h1, A->mean1, A->rstd1);
    /* feed-forward, residual, norm */
    casie__grad_linear_forward(A->h1, n, H, L->ff1, L->b_ff1, I, A->ff_pre, A->wt);
    casie__grad_gelu_forward(A->ff_pre, (size_t)n * (size_t)I, A->ff_act);
    casie__grad_linear_forward(A->ff_act, n, I, L->ff2, L->b_ff2, H, A->d_h, A->wt);
    casie__grad_residual_forward(A->h1, A->d_h, nH, A->r2);
    casie__grad_layernorm_forward(A->r2, n, H, L->ln2_g, L->ln2_b, L->eps, A->out, A->mean2, A->rstd2);
}

void casie__enc_layer_f32_backward(const casie__enc_layer_f32 *L, const float *dout, casie__enc_layer_acts *A,
                                   float *dx, casie__enc_layer_f32 *G) {
    const int n = A->n, H = L->H, I = L->I;
    const size_t nH = (size_t)n * (size_t)H;
    float *dr2 = A->d_h, *dh1 = A->d_h2;
    /* second norm; its residual sends dr2 both to h1 and to FF2's output */
    casie__grad_layernorm_backward(dout, A->r2, A->mean2, A->rstd2, n, H, L->ln2_g, dr2, G->ln2_g, G->ln2_b);
    memcpy(dh1, dr2, nH * sizeof *dh1);
    /* FF2, GELU, FF1 (adding to dh1) */
    memset(A->d_ff, 0, (size_t)n * (size_t)I * sizeof *A->d_ff);
    casie__grad_linear_backward(dr2, A->ff_act, L->ff2, n, I, H, A->d_ff, G->ff2, G->b_ff2);
    casie__grad_gelu_backward(A->d_ff, A->ff_pre, (size_t)n * (size_t)I, A->d_ff);
    casie__grad_linear_backward(A->d_ff, A->h1, L->ff1, n, H, I, dh1, G->ff1, G->b_ff1);
    /* first norm; its residual sends dr1 both to x and to the output projection */
    float *dr1 = A->d_h, *dctx = A->d_h2;
    casie__grad_layernorm_backward(dh1, A->r1, A->mean1, A->rstd1, n, H, L->ln1_g, dr1, G->ln1_g, G->ln1_b);
    if (dx) memcpy(dx, dr1, nH * sizeof *dx);
    memset(dctx, 0, nH * sizeof *dctx);
    casie__grad_linear_backward(dr1, A->ctx, L->out, n, H, H, dctx, G->out, G->b_out);
    /* attention (the bias is frozen), then the projections to q, k, v */
    casie__grad_attention_backward(dctx, A->qkv, A->att, n, H, L->n_heads, A->d_qkv, A->d_p, A->kt);
    casie__grad_linear_backward(A->d_qkv, A->x, L->qkv, n, H, 3 * H, dx, G->qkv, G->b_qkv);
}

/* ======================================================================== */
/* AdamW                                                                    */
/* ======================================================================== */

/* b^t by squaring, in double: the same on every CPU */
static double pow_int(double b, int t) {
    double r = 1.0;
    for (; t > 0; t >>= 1, b *= b)
        if (t & 1) r *= b;
    return r;
}

void casie__adamw_update(float *p, const float *g, float *m, float *v, size_t n, int t, float lr, float beta1,
                         float beta2, float eps, float wd) {
    const float c1 = (float)(1.0 / (1.0 - pow_int(beta1, t))), c2 = (float)(1.0 / (1.0 - pow_int(beta2, t)));
    for (size_t i = 0; i < n; i++) {
        const float gi = g[i];
        const float mi = beta1 * m[i] + (1.0f - beta1) * gi, vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi, v[i] = vi;
        p[i] -= lr * (mi * c1 / (sqrtf(vi * c2) + eps) + wd * p[i]);
    }
}

double casie__grad_norm(const float *g, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return sqrt(s);
}
