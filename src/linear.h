/*
 * linear.h - linear models over hashed features.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_LINEAR_H
#define CASIE_LINEAR_H

#include "internal.h"
#include "cpu.h"

/* ---- linear learners over hashed features (linear.c) ---- */
/* Weights of a linear model over hashed features: a feature hash h selects
 * the row (h & (n_rows-1)); each row holds one weight per label, padded to
 * `stride` so that a row is one or two cache lines.  Sequence models add a
 * label transition matrix and start scores. */
typedef struct casie__linear {
    uint32_t n_rows;    /* power of two */
    uint32_t n_labels;  /* used labels */
    uint32_t stride;    /* floats per row (n_labels rounded up to 8) */
    float *w;           /* (n_rows, stride), or NULL when wh is used */
    const uint16_t *wh; /* (n_rows, stride) bfloat16 weights of a loaded model (mapped) */
    float *trans;       /* (n_labels, n_labels) from -> to, sequence models only */
    float *start;       /* (n_labels,) */
    /* training only (NULL after casie__linear_finish): */
    float *uw, *utrans, *ustart; /* sums of c * update, for averaging */
    long c;                      /* update clock */
    int owned;                   /* 1: arrays malloc'd; 0: borrowed from a mapping */
    uint32_t fv;                 /* the feature version its weights were trained with */
} casie__linear;
int casie__linear_init(casie__linear *m, uint32_t n_rows, uint32_t n_labels, int sequence, int training);
void casie__linear_free(casie__linear *m);
/* Replaces w by the averaged weights and drops training state. */
void casie__linear_finish(casie__linear *m);
/* Rounds trained weights to what a saved model holds (bfloat16). */
void casie__linear_round_bf16(casie__linear *m);
uint16_t casie__f32_to_bf16(float f);
/* scores[l] += sum over feats of w[row(f), l] for l < n_labels: this CPU's
 * copy, through cpu.h's table. */
static inline void casie__linear_score(const casie__linear *m, const uint64_t *feats, int n_feats, float *scores) {
    casie__kernels_best()->linear_score(m, feats, n_feats, scores);
}
/* w[row(f), label] += delta for every f; keeps averaging sums. */
void casie__linear_update(casie__linear *m, const uint64_t *feats, int n_feats, int label, float delta);
/* Best label sequence under emission scores E (n, L) and m's transitions,
 * restricted by allowed (L*L from->to, may be NULL) and start_ok (L, may be
 * NULL).  Writes labels into out (n,).  CASIE_ERR_NOMEM when its scratch
 * cannot be allocated (out untouched). */
int casie__viterbi(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                   int *out);
/* log sum exp of x (n,), -1e30 when every x is. */
float casie__logsumexp(const float *x, int n);
/* Marginals p(y_i = l) (n, L) under the same model, softmax scale `temp`;
 * CASIE_ERR_NOMEM when its scratch cannot be allocated. */
int casie__marginals(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                     float temp, float *P);

#endif /* CASIE_LINEAR_H */
