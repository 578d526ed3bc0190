/*
 * encoder_kernels.h - the encoder's int8 kernels.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_ENCODER_KERNELS_H
#define CASIE_ENCODER_KERNELS_H

#include "internal.h"

/* ---- int8 kernels (encoder_kernels.c) ---- */
/* An int8 matrix with a float scale per row: W[r][c] ~= q[r][c] * scale[r].
 * Rows are padded with zeros to `stride` bytes (a multiple of 64); every q
 * lies in [-127, 127]; sum[r] is the sum of row r's q (the VNNI kernel reads
 * activations as unsigned bytes offset by 128 and subtracts 128 * sum). */
typedef struct casie__q8mat {
    int32_t rows, cols, stride;
    const int8_t *q;    /* (rows, stride) */
    const float *scale; /* (rows,) */
    const int32_t *sum; /* (rows,) */
} casie__q8mat;

/* The int8 kernels (encoder_kernels.c).  Each gives the same int32 sums,
 * so the same floats, bit for bit (tests compare them). */
enum { CASIE_Q8_PLAIN = 0, CASIE_Q8_AVX2 = 1, CASIE_Q8_VNNI = 2, CASIE_Q8_BEST = -1 };
/* Whether this CPU runs kernel k; the best one it runs. */
int casie__q8_supported(int k);
int casie__q8_best(void);
/* Quantizes w (rows, cols) into rows [r0, r0 + rows) of m: int8 with a
 * scale per row (absmax / 127), the row sums when m has them (an import's
 * weights, encoder_import.c). */
void casie__q8_quantize_weights(const float *w, int rows, int cols, const casie__q8mat *m, int r0);
/* Quantizes each row of x (n, cols) to int8 with one scale (absmax / 127):
 * q (n, stride) with zero padding, scale (n,). */
void casie__q8_quantize(const float *x, int n, int cols, int stride, int8_t *q, float *scale);
/* y (n, w->rows), row stride ldy = xq's scale * w's scale * (xq . w) + bias
 * (bias may be NULL), over xq (n, w->stride) from casie__q8_quantize. */
void casie__q8_matmul(int kernel, const int8_t *xq, const float *xs, int n, const casie__q8mat *w, const float *bias,
                      float *y, int ldy);
/* x (n,) = GELU(x), the erf form (erf within 4e-7). */
void casie__gelu(float *x, size_t n);
/* x (n, H) = layer norm of x + add (add may be NULL), gamma g, beta b;
 * d (H,) scratch. */
void casie__add_layernorm(float *x, const float *add, int n, int H, const float *g, const float *b, float eps,
                          float *d);
/* One head's attention: ctx (n, ldc) columns [0, dh) = softmax(q k^T /
 * sqrt(dh) + bias over unmasked keys) v, with q, k, v (n, ld) views of the
 * fused projection; the bias of query i and key j is rel[j - i + n - 1]
 * when rel is not NULL (MPNet), else 0.  Scratch: kt (dh, n8) and p (4,
 * n8), n8 = n rounded up to 16.  simd: 0 plain C, 1 AVX2, 2 AVX-512. */
void casie__attend(const float *q, const float *k, const float *v, int ld, int n, int dh, const uint8_t *mask,
                   const float *rel, float *ctx, int ldc, float *kt, float *p, int simd);

#endif /* CASIE_ENCODER_KERNELS_H */
