/*
 * encoder_kernels.h - the encoder's int8 kernels.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_ENCODER_KERNELS_H
#define CASIE_ENCODER_KERNELS_H

#include "internal.h"
#include "cpu.h"

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
    /* NULL, or the same weights packed for the VNNI kernel (panels of 16
     * rows, 4 bytes of each in turn, each byte + 128: casie__q8_pack) */
    const uint8_t *panel;
} casie__q8mat;

/* The encoder's kernel levels: cpu.h's, by the names casie__encoder_forward's
 * `kernel` argument, xvec.c and bench/encoder.c use.  Every level gives the
 * same int32 sums, so the same floats, bit for bit (tests compare them). */
enum {
    CASIE_Q8_BEST = CASIE_SIMD_BEST,
    CASIE_Q8_PLAIN = CASIE_SIMD_PLAIN,
    CASIE_Q8_AVX2 = CASIE_SIMD_AVX2,
    CASIE_Q8_VNNI = CASIE_SIMD_AVX512,
};
/* Whether this CPU runs level k; the best level it runs. */
static inline int casie__q8_supported(int k) { return k >= CASIE_SIMD_PLAIN && casie__kernels_at(k) != NULL; }
static inline int casie__q8_best(void) { return casie__cpu_level(); }
/* Quantizes w (rows, cols) into rows [r0, r0 + rows) of m: int8 with a
 * scale per row (absmax / 127), the row sums when m has them (an import's
 * weights, encoder_import.c). */
void casie__q8_quantize_weights(const float *w, int rows, int cols, const casie__q8mat *m, int r0);
/* The bytes of m's packed panels, and the packing into panel (64-byte
 * aligned, casie__q8_panel_bytes of them): for each panel of 16 rows
 * (rows past m->rows are zeros), for each group of 4 columns, the 4 bytes
 * of each of its 16 rows, every byte read as unsigned w + 128. */
size_t casie__q8_panel_bytes(const casie__q8mat *m);
void casie__q8_pack(const casie__q8mat *m, uint8_t *panel);

/* The hot kernels, in cpu.h's table (casie__kernels: one copy per level):
 * - q8_quantize(x, n, cols, stride, q, scale): quantizes each row of x
 *   (n, cols) to int8 with one scale (absmax / 127): q (n, stride) with
 *   zero padding, scale (n,);
 * - q8_matmul(xq, xs, n, w, bias, y, ldy): y (n, w->rows), row stride ldy
 *   = xq's scale * w's scale * (xq . w) + bias (bias may be NULL), over xq
 *   (n, w->stride) from q8_quantize;
 * - gelu(x, n): x (n,) = GELU(x), the erf form (erf within 4e-7);
 * - add_layernorm(x, add, n, H, g, b, eps, d): x (n, H) = layer norm of
 *   x + add (add may be NULL), gamma g, beta b; d (H,) scratch;
 * - attend(q, k, v, ld, n, dh, mask, rel, ctx, ldc, kt, p): one head's
 *   attention, ctx (n, ldc) columns [0, dh) = softmax(q k^T / sqrt(dh) +
 *   bias over unmasked keys) v, with q, k, v (n, ld) views of the fused
 *   projection; the bias of query i and key j is rel[j - i + n - 1] when
 *   rel is not NULL (MPNet), else 0.  Scratch: kt (dh, n8) and p (4, n8),
 *   n8 = n rounded up to 16. */

#endif /* CASIE_ENCODER_KERNELS_H */
