/*
 * nn_ops.h - the small float kernels of the neural taggers, inlined into
 * each copy of the kernels that use them (nn.c at inference, nn_train.c in
 * training): dot products and matrix-vector products in a fixed order of
 * summation, the activations, one LSTM step.  Only nn.c and nn_train.c
 * include it.
 */
#ifndef CASIE_NN_OPS_H
#define CASIE_NN_OPS_H

#include "internal.h"
#include "hash.h"

#include <math.h>
#include <string.h>

/* [0, 1) from the generator's top 24 bits */
static inline float casie__nn_rng_unit(uint64_t *s) { return (float)(casie__rng_next(s) >> 40) * (1.0f / 16777216.0f); }

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

#endif /* CASIE_NN_OPS_H */
