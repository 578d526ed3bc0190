/*
 * encoder_grad.h - the training side of the transformer encoder: float32
 * forward and backward passes of one post-layer-norm BERT/MPNet layer, the
 * operations they are made of, the layer's float32 parameter block (made
 * from and quantized back to the encoder's int8 rows) and AdamW.
 *
 * Internal to the library: names start with casie__ and may change freely.
 * Every function here is plain C over caller-owned arrays, in a fixed order
 * of summation (no threads, no CPU dispatch), so that the same inputs give
 * the same bits on every x86-64 CPU.  Backward functions accumulate (+=)
 * into parameter gradients; what they do with the input's gradient is said
 * at each.
 */
#ifndef CASIE_ENCODER_GRAD_H
#define CASIE_ENCODER_GRAD_H

#include "internal.h"
#include "encoder.h"

/* ---- the operations (encoder_grad.c) ------------------------------------ */

/* C (M, N), row stride ldc, += A (M, K) B (K, N), B's row stride ldb; A's
 * element (m, k) at a[m * sam + k * sak] (sak = 1: row-major; sam = 1: A is
 * the transpose of a row-major (K, M)).  Each C element sums its K terms in
 * increasing k, one multiply and one add each, whatever the blocking. */
void casie__grad_gemm(int M, int N, int K, const float *a, size_t sam, size_t sak, const float *b, size_t ldb, float *c,
                      size_t ldc);

/* y (n, out) = x (n, in) w^T + b, w (out, in) row-major as the int8
 * matrices are, b (out,) or NULL.  wt: scratch of in * out floats. */
void casie__grad_linear_forward(const float *x, int n, int in, const float *w, const float *b, int out, float *y,
                                float *wt);
/* dx (n, in) += dy (n, out) w (dx NULL: skipped); dw (out, in) += dy^T x;
 * db (out,) += the sum of dy's rows (db NULL: skipped). */
void casie__grad_linear_backward(const float *dy, const float *x, const float *w, int n, int in, int out, float *dx,
                                 float *dw, float *db);

/* y (n, H) = layer norm of x (n, H), gamma g, beta b, as the inference
 * kernel computes it: (x - mean) * (1 / sqrtf(var + eps)) * g + b; keeps
 * each row's mean and 1 / sqrtf(var + eps) in mean, rstd (n,).  y may be x. */
void casie__grad_layernorm_forward(const float *x, int n, int H, const float *g, const float *b, float eps, float *y,
                                   float *mean, float *rstd);
/* dx (n, H) = the gradient through the norm of dy (written, not added;
 * dx may be dy); dg, db (H,) += ... .  x: the forward's input. */
void casie__grad_layernorm_backward(const float *dy, const float *x, const float *mean, const float *rstd, int n, int H,
                                    const float *g, float *dx, float *dg, float *db);

/* y (n,) = GELU(x), the erf form (erf within 2e-7); y may be x. */
void casie__grad_gelu_forward(const float *x, size_t n, float *y);
/* dx (n,) = dy * GELU'(x) (written; dx may be dy). */
void casie__grad_gelu_backward(const float *dy, const float *x, size_t n, float *dx);

/* y (n,) = a + b; the backward of a sum is the gradient itself, to each
 * side: da (n,) += dy, db likewise (either NULL: skipped). */
void casie__grad_residual_forward(const float *a, const float *b, size_t n, float *y);
void casie__grad_residual_backward(const float *dy, size_t n, float *da, float *db);

/* Multi-head self-attention over qkv (n, 3H) (the query, key and value
 * projections side by side, head h's columns [h dh, (h + 1) dh) of each):
 * for each head, att (n, n) = softmax over keys of q k^T / sqrt(dh) +
 * bias[h] (bias (n_heads, n, n) or NULL), keys with mask 0 excluded
 * (mask (n,) or NULL; when every key is masked all count, as the inference
 * kernel does), and ctx (n, H) columns of head h = att v.  Keeps att
 * (n_heads, n, n), the probabilities, for the backward pass.  Scratch:
 * kt (dh * n floats). */
void casie__grad_attention_forward(const float *qkv, int n, int H, int n_heads, const float *bias, const uint8_t *mask,
                                   float *att, float *ctx, float *kt);
/* dqkv (n, 3H) = the gradient of qkv from dctx (n, H) (written); bias is
 * frozen (no gradient), masked keys get none.  Scratch: dp (n * n floats)
 * and vt (dh * n floats). */
void casie__grad_attention_backward(const float *dctx, const float *qkv, const float *att, int n, int H, int n_heads,
                                    float *dqkv, float *dp, float *vt);

/* Softmax cross-entropy of one row of logits z (n,) against `label`: d (n,)
 * = scale (softmax(z) - onehot(label)), the gradient of scale times the
 * loss (written); returns softmax(z)[label] (the loss is -log of it).  The
 * exponential is this file's own, the same bits on every CPU. */
float casie__grad_softmax_xent(const float *z, int n, int label, float scale, float *d);

/* ---- a layer's parameters ------------------------------------------------ */

/* The tensors of casie__enc_layer_f32's block, in block order. */
enum {
    CASIE__EL_QKV,   /* (3H, H) query, key and value projections stacked */
    CASIE__EL_B_QKV, /* (3H,) */
    CASIE__EL_OUT,   /* (H, H) attention output */
    CASIE__EL_B_OUT, /* (H,) */
    CASIE__EL_LN1_G, /* (H,) layer norm after attention + residual */
    CASIE__EL_LN1_B, /* (H,) */
    CASIE__EL_FF1,   /* (I, H) */
    CASIE__EL_B_FF1, /* (I,) */
    CASIE__EL_FF2,   /* (H, I) */
    CASIE__EL_B_FF2, /* (H,) */
    CASIE__EL_LN2_G, /* (H,) layer norm after feed-forward + residual */
    CASIE__EL_LN2_B, /* (H,) */
    CASIE__EL_N_TENSORS,
};

/* One layer's parameters in float32, one contiguous block (the same
 * struct serves as its gradients and AdamW's moments: same layout).  The
 * pointers are views into mem at off[]: every tensor starts at a multiple
 * of 16 floats. */
typedef struct casie__enc_layer_f32 {
    int H, n_heads, I;
    float eps;                        /* the layer norms' */
    size_t off[CASIE__EL_N_TENSORS];  /* each tensor's first float in mem */
    size_t size[CASIE__EL_N_TENSORS]; /* and its floats */
    size_t n_params;                  /* mem's floats, padding included (zero) */
    float *mem;                       /* (n_params,) owned, 64-byte aligned */
    float *qkv, *b_qkv, *out, *b_out, *ln1_g, *ln1_b, *ff1, *b_ff1, *ff2, *b_ff2, *ln2_g, *ln2_b;
} casie__enc_layer_f32;

/* Allocates L's block for the shapes, all zero; CASIE_OK, or
 * CASIE_ERR_INVALID_ARG / CASIE_ERR_NOMEM (L then holds nothing to free).
 * casie__enc_layer_f32_free frees the block (NULL or freed: nothing). */
int casie__enc_layer_f32_init(casie__enc_layer_f32 *L, int H, int n_heads, int I, float eps, casie_error *err);
void casie__enc_layer_f32_free(casie__enc_layer_f32 *L);
/* L (initialized for cfg's shapes) = the int8 layer q dequantized
 * (q[r][c] * scale[r]); biases and norms copied. */
void casie__enc_layer_f32_from_q8(casie__enc_layer_f32 *L, const casie__enc_layer *q);

/* An int8 layer that owns its arrays, laid out as an encoder file's (rows
 * padded to 64 bytes with zeros, row sums), usable wherever the encoder's
 * layers are (layer's pointers are views into mem). */
typedef struct casie__enc_layer_q8 {
    casie__enc_layer layer;
    void *mem;
} casie__enc_layer_q8;
/* Q = L quantized as encoder_import.c quantizes a checkpoint (int8 rows,
 * scale absmax / 127); casie__enc_layer_q8_free frees it (NULL-safe). */
int casie__enc_layer_q8_from_f32(casie__enc_layer_q8 *Q, const casie__enc_layer_f32 *L, casie_error *err);
void casie__enc_layer_q8_free(casie__enc_layer_q8 *Q);

/* The bias casie__grad_attention_forward reads for MPNet's relative
 * positions over n pieces: bias (n_heads, n, n), bias[h][i][j] = the
 * encoder's bias of head h for j - i.  Only for an encoder with rel_bias;
 * scratch rel: (n_heads * (2n - 1)) floats. */
void casie__enc_grad_rel_bias(const casie_encoder *enc, int n, float *bias, float *rel);

/* ---- a layer's activations, forward and backward ------------------------- */

/* What one layer's forward pass keeps for its backward pass, and the
 * backward pass's scratch, for up to cap pieces (one block, owned). */
typedef struct casie__enc_layer_acts {
    int cap, n;           /* n: the pieces of the last forward pass */
    const float *bias;    /* borrowed from the forward call: (n_heads, n, n) or NULL */
    uint8_t *mask;        /* (cap,) a copy of the forward's mask (all 1 when it had none) */
    float *x;             /* (n, H) the layer's input */
    float *qkv;           /* (n, 3H) */
    float *att;           /* (n_heads, n, n) attention probabilities */
    float *ctx;           /* (n, H) attention context (the output projection's input) */
    float *r1;            /* (n, H) x + attention output: the first norm's input */
    float *mean1, *rstd1; /* (n,) */
    float *h1;            /* (n, H) first norm's output: FF1's input, second residual */
    float *ff_pre;        /* (n, I) FF1's output: GELU's input */
    float *ff_act;        /* (n, I) GELU's output: FF2's input */
    float *r2;            /* (n, H) h1 + FF2 output: the second norm's input */
    float *mean2, *rstd2; /* (n,) */
    float *out;           /* (n, H) the layer's output */
    float *wt;            /* scratch: a weight transposed, max(3H H, I H) floats */
    float *d_h, *d_h2;    /* scratch (n, H) */
    float *d_ff;          /* scratch (n, I) */
    float *d_qkv;         /* scratch (n, 3H) */
    float *d_p;           /* scratch (n, n) */
    float *kt;            /* scratch (dh, n) */
    void *mem;
} casie__enc_layer_acts;

/* A's block for L's shapes and up to cap pieces; CASIE_OK or an error
 * (A then holds nothing to free).  casie__enc_layer_acts_free: NULL-safe. */
int casie__enc_layer_acts_init(casie__enc_layer_acts *A, const casie__enc_layer_f32 *L, int cap, casie_error *err);
void casie__enc_layer_acts_free(casie__enc_layer_acts *A);

/* The layer over x (n, H), 1 <= n <= A->cap, as casie__encoder_forward
 * runs it (attention with bias and mask, output projection, residual,
 * norm, FF1, GELU, FF2, residual, norm) in float32; the output is A->out
 * (n, H).  bias: (n_heads, n, n) or NULL, borrowed until the backward pass;
 * mask (n,) or NULL. */
void casie__enc_layer_f32_forward(const casie__enc_layer_f32 *L, const float *x, int n, const float *bias,
                                  const uint8_t *mask, casie__enc_layer_acts *A);
/* The backward pass of A's last forward pass: dx (n, H) = the gradient of
 * the input (written; NULL: not computed) from dout (n, H); G (L's layout)
 * += the parameters' gradients.  The mask and bias are the forward's. */
void casie__enc_layer_f32_backward(const casie__enc_layer_f32 *L, const float *dout, casie__enc_layer_acts *A,
                                   float *dx, casie__enc_layer_f32 *G);

/* ---- the optimizer ------------------------------------------------------- */

/* One AdamW step (t counted from 1) over p (n,) with gradients g and moments
 * m, v (same layout, zero before the first step): bias-corrected moments
 * and weight decay decoupled from the gradient, p -= lr (m^ / (sqrt(v^) +
 * eps) + wd p). */
void casie__adamw_update(float *p, const float *g, float *m, float *v, size_t n, int t, float lr, float beta1,
                         float beta2, float eps, float wd);
/* The global L2 norm of g (n,), summed in double in a fixed order. */
double casie__grad_norm(const float *g, size_t n);

#endif /* CASIE_ENCODER_GRAD_H */
