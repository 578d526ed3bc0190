/*
 * xvec.h - dense token inputs from an encoder.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_XVEC_H
#define CASIE_XVEC_H

#include "internal.h"
#include "model.h"
#include "wordpiece.h"

/* ---- dense token inputs from an encoder (xvec.c) ---- */
/* The default reading of an encoder: windows of its full length, a stride of
 * three quarters of that, the mean of its last four layers (or all of them,
 * when it has fewer). */
void casie__xspec_default(casie__xspec *xs, const casie_encoder *enc, const char *enc_file);
/* Makes xs read the mean of the encoder's layers first..last (1-based; a 0
 * last is its last layer, a 0 first the fourth layer from last, or 1);
 * INVALID_ARG, xs unchanged, for layers the encoder does not have. */
int casie__xspec_layers(casie__xspec *xs, int first, int last, casie_error *err);
/* Vectors (doc->n_tokens, hidden) of an analyzed doc: each token's is the
 * mean over its word pieces of xs's mix of the encoder's layers; zeros for a
 * token with no piece.  threads: the encoder's team for each window (the
 * same bits whatever the number). */
int casie__xvec_compute(const casie_encoder *enc, const struct casie__wordpiece *wp, const casie__xspec *xs,
                        const casie_doc *doc, int threads, float *out, casie_error *err);
/* m's vectors for doc: from m->xcache, else computed into a new array that
 * *owned also points to (the caller frees it).  *out NULL when m has none. */
int casie__doc_xvec(const casie_model *m, const casie_doc *doc, int threads, const float **out, float **owned,
                    casie_error *err);
uint64_t casie__xcache_key(const casie_doc *doc);
/* Fills a cache with the vectors of docs (analyzed), on `threads` threads;
 * casie__xcache_free frees what it holds. */
int casie__xcache_fill(casie__xcache *c, const casie_model *m, casie_doc *const *docs, int n, int threads,
                       casie_error *err);
void casie__xcache_free(casie__xcache *c);
/* Loads the encoder that model file `model_path` names in xs (enc_path when
 * not NULL or empty, else xs->enc_file beside the model or in its encoders/
 * folder) and checks it is the one the model was trained with. */
int casie__xvec_attach(casie_model *m, const char *model_path, const char *enc_path, casie_error *err);
/* Sets m up to read encoder enc (taking it over) with spec xs. */
int casie__xvec_use(casie_model *m, casie_encoder *enc, const casie__xspec *xs, casie_error *err);

#endif /* CASIE_XVEC_H */
