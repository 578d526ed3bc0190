/*
 * coref_feats.h - coreference pair features.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_COREF_FEATS_H
#define CASIE_COREF_FEATS_H

#include "internal.h"
#include "feats.h"

/* ---- coreference pair features (coref_feats.c) ---- */
/* A document's encoder vectors as the coreference features read them: xv
 * (n_tokens, xdim), or NULL for none, and buf: scratch and each sentence's
 * mean vector, made once by casie__coref_vecs_init. */
typedef struct casie__coref_vecs {
    const float *xv;
    int xdim;
    float *buf;
} casie__coref_vecs;
int casie__coref_vecs_init(casie__coref_vecs *cv, const casie_doc *doc, const float *xv, int xdim);
void casie__coref_vecs_free(casie__coref_vecs *cv);
/* The features of the pair of events a, b (a first) into out
 * (CASIE_COREF_FEATS at most); returns how many.  cv: the document's
 * encoder vectors for a coreference model of feature version 5 or later
 * over an encoder (casie__coref_xv), else NULL or cv->xv NULL.  Not
 * reentrant on one cv (its scratch). */
int casie__coref_feats(const casie_doc *doc, const casie__tokfeat *tf, const casie__coref_vecs *cv,
                       const casie_event *a, const casie_event *b, uint64_t *out);
/* xv when m's coreference model reads the encoder's vectors, else NULL. */
const float *casie__coref_xv(const casie_model *m, const float *xv);

#endif /* CASIE_COREF_FEATS_H */
