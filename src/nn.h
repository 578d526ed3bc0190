/*
 * nn.h - the neural taggers.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_NN_H
#define CASIE_NN_H

#include "internal.h"
#include "cpu.h"

/* ---- neural taggers (nn.c) ---- */
/* The hot functions below (static inline) pass each call on to this CPU's
 * copy through cpu.h's table; a test runs another level's copy through
 * casie__kernels_at.  Every copy gives the same bits. */
/* A bidirectional LSTM over token vectors (D each, H states per direction)
 * and a head: a tanh hidden layer (K) over a U-vector built by the caller
 * from the states, then L label scores.  Parameters are one float block
 * (layout in nn.c), owned (training) or borrowed from a mapped model. */
typedef struct casie__nnet {
    int32_t D, H, U, K, L;
    int32_t L2; /* labels of a second head over the same kind of input (0: none) */
    size_t n_params;
    size_t o_wf, o_bf, o_wb, o_bb, o_w1[2], o_b1[2], o_w2[2], o_b2[2]; /* offsets into p; [1]: second head */
    size_t o_trans, o_start; /* CRF transitions (L, L) and start scores (L) over head 0's labels */
    const float *p;          /* (n_params,) */
    float *own;              /* p when owned, else NULL */
} casie__nnet;

/* Sets dims and layout without parameters (loading); CASIE_ERR_INVALID_ARG
 * when a dimension is out of range. */
int casie__nnet_dims(casie__nnet *n, int D, int H, int U, int K, int L, int L2);
/* Dims plus freshly initialised owned parameters (Glorot, deterministic). */
int casie__nnet_init(casie__nnet *n, int D, int H, int U, int K, int L, int L2, uint64_t seed);
void casie__nnet_free(casie__nnet *n);
/* Floats of scratch that encode and head need. */
size_t casie__nnet_work(const casie__nnet *n);
/* Inference.  States Hs (len, 2H), [forward; backward], in two steps so
 * that input projections can be shared: the caller fills Zx (len, 2, 4H)
 * with bias + W x_t for each token (project_q, cols_transpose, add_tcol
 * below), then encode_proj runs the recurrences from Zx with R, the
 * recurrent weights quantized by rec_quantize (rec_bytes bytes, int16 with a
 * scale per row, nn.c; made when a model is loaded, or per document for a
 * model in training, so that it never outlives a change of the parameters). */
/* C ((D - c0), 2, 4H) = the input columns c0.. of both directions'
 * weights, transposed; add_tcol adds v * one of them (n = 8H floats) to a
 * token's z (2, 4H). */
void casie__nnet_cols_transpose(const casie__nnet *n, int c0, float *C);
static inline void casie__nnet_add_tcol(const float *col, float v, int n, float *z) {
    casie__kernels_best()->nnet_add_tcol(col, v, n, z);
}
/* The same for T tokens at once: z_t (n,) += sum_j x_t[j] C[j] for the nc
 * columns C[j] = C + j n (as cols_transpose lays them out), x_t = x + t xs,
 * z_t = z + t zs.  Each element of z_t receives its terms in increasing j,
 * one product and one sum each, as nc calls of add_tcol would give them, so
 * the bits are those; the tokens are taken in tiles, so that a column is read
 * once per tile instead of once per token. */
static inline void casie__nnet_add_tcols(const float *C, int nc, int n, const float *x, size_t xs, int T, float *z,
                                         size_t zs) {
    casie__kernels_best()->nnet_add_tcols(C, nc, n, x, xs, T, z, zs);
}
/* z (n,) = a + b */
static inline void casie__nnet_sum2(const float *a, const float *b, int n, float *z) {
    casie__kernels_best()->nnet_sum2(a, b, n, z);
}
/* z (2, 4H) = W[:, 0:nc] x for one token, both directions, no bias, for
 * x = vscale * v (an int8 word vector, casie__emb), with the columns
 * quantized by proj_quantize (proj_bytes bytes, int16 with a scale per row,
 * nn.c); work: casie__nnet_work floats. */
size_t casie__nnet_proj_bytes(const casie__nnet *n, int nc);
void casie__nnet_proj_quantize(const casie__nnet *n, int nc, void *P);
static inline void casie__nnet_project_q(const casie__nnet *n, const void *P, int nc, const int8_t *v, float vscale,
                                         float *z, float *work) {
    casie__kernels_best()->nnet_project_q(n, P, nc, v, vscale, z, work);
}
size_t casie__nnet_rec_bytes(const casie__nnet *n);
void casie__nnet_rec_quantize(const casie__nnet *n, void *R);
static inline void casie__nnet_encode_proj(const casie__nnet *n, const void *R, const float *Zx, int len, float *Hs,
                                           int16_t *Hq, float *work) {
    casie__kernels_best()->nnet_encode_proj(n, R, Zx, len, Hs, Hq, work);
}
/* out (L or L2,) += head h (0 or 1) of u (U,). */
static inline void casie__nnet_head(const casie__nnet *n, int h, const float *u, float *out, float *work) {
    casie__kernels_best()->nnet_head(n, h, u, out, work);
}
/* The same head in two parts, for inputs u = [varying (c0,); fixed (U - c0,)]:
 * base (K,) = b1 + W1[:, c0:] fixed, once; then for each varying part,
 * out += head from base + W1[:, :c0] u. */
static inline void casie__nnet_head_base(const casie__nnet *n, int h, const float *tail, int c0, float *base) {
    casie__kernels_best()->nnet_head_base(n, h, tail, c0, base);
}
/* head_from_q: out += head from base + W1[:, :c0] u, with the varying part
 * as int16 states uq (c0,) (encode_proj's Hq) and
 * head h's first c0 columns quantized by head_quantize (head_bytes bytes;
 * c0 even); with base = b1 and c0 = U it is the whole head 0 of a tagger. */
size_t casie__nnet_head_bytes(const casie__nnet *n, int c0);
void casie__nnet_head_quantize(const casie__nnet *n, int h, int c0, void *Q);
static inline void casie__nnet_head_from_q(const casie__nnet *n, int h, const void *Q, const float *base,
                                           const int16_t *uq, int c0, float *out, float *work) {
    casie__kernels_best()->nnet_head_from_q(n, h, Q, base, uq, c0, out, work);
}

/* Training state of one network: gradients, Adam moments and the caches of
 * the span being trained.  Use: reserve; fill X; train_encode; for each
 * head input k fill U[k] from Hs and train_head_fwd; after the loss,
 * train_head_bwd (adding du into dHs) for each k; train_encode_bwd; step. */
typedef struct casie__nn_train {
    casie__nnet *n;
    float lr, dropout;
    uint64_t rng;
    long step;
    float *g, *m, *v; /* (n_params,) */
    float *avg;       /* (n_params,) running average of the parameters, once averaging begins */
    long n_avg;       /* steps averaged so far (0: not averaging yet) */
    int averaging;    /* set by the caller: average every later step */
    float *X;         /* (len, D) inputs (dropout applied in place) */
    float *act;       /* (len, 2, 4H) gate activations */
    float *cell;      /* (len, 2H) */
    float *Hs, *dHs;  /* (len, 2H) states and their gradients */
    float *U, *A;     /* (n_heads, U) head inputs, (n_heads, K) hidden */
    size_t cap_x, cap_act, cap_cell, cap_hs, cap_dhs, cap_u, cap_a;
} casie__nn_train;

int casie__nn_train_init(casie__nn_train *t, casie__nnet *n, float lr, float dropout, uint64_t seed);
void casie__nn_train_free(casie__nn_train *t);
int casie__nn_train_reserve(casie__nn_train *t, int len, int n_heads);
static inline void casie__nn_train_encode(casie__nn_train *t, int len) {
    casie__kernels_best()->nn_train_encode(t, len);
}
static inline void casie__nn_train_head_fwd(casie__nn_train *t, int k, int h, float *out) {
    casie__kernels_best()->nn_train_head_fwd(t, k, h, out);
}
static inline void casie__nn_train_head_bwd(casie__nn_train *t, int k, int h, const float *dout, float *du) {
    casie__kernels_best()->nn_train_head_bwd(t, k, h, dout, du);
}
static inline void casie__nn_train_encode_bwd(casie__nn_train *t, int len) {
    casie__kernels_best()->nn_train_encode_bwd(t, len);
}
static inline void casie__nn_train_step(casie__nn_train *t) { casie__kernels_best()->nn_train_step(t); }
/* Replaces the network's parameters by their running average (if any). */
void casie__nn_train_finish(casie__nn_train *t);

/* Negative log-likelihood of gold (n,) under a CRF with emissions E (n, L);
 * writes dE = marginals - gold and adds expected - gold counts into dtrans
 * (L*L) and dstart (L).  work: (2n + 1) * L floats. */
static inline float casie__crf_loss(const float *E, int n, int L, const float *trans, const float *start,
                                    const uint8_t *allowed, const uint8_t *start_ok, const int *gold, float *dE,
                                    float *dtrans, float *dstart, float *work) {
    return casie__kernels_best()->crf_loss(E, n, L, trans, start, allowed, start_ok, gold, dE, dtrans, dstart, work);
}

#endif /* CASIE_NN_H */
