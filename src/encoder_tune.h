/*
 * encoder_tune.h - fine-tuning an encoder's top layers on the corpus's
 * trigger and argument labels (the "task-adaptive" stage).
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_ENCODER_TUNE_H
#define CASIE_ENCODER_TUNE_H

#include "internal.h"
#include "encoder.h"

/* ---- fine-tuning (encoder_tune.c) ---- */
typedef casie_encoder_tune_params casie__tune_params;
enum { CASIE__TUNE_MAX_THREADS = 64 };

/* casie_encoder_tune (include/casie.h): p checked first, docs analyzed
 * here when they are not, out_path refused when it exists. */
int casie__encoder_tune(const casie_encoder *enc, casie_doc *const *docs, int n_docs, const casie__tune_params *p,
                        const char *out_path, casie_error *err);

/* ---- its parameters (encoder_tune_params.c) ---- */
/* The read layers first..last (1-based, as casie__xspec_layers resolves
 * 0s) and every other parameter of p in its range, or CASIE_ERR_INVALID_ARG. */
int casie__tune_check_params(const casie__tune_params *p, const casie_encoder_config *c, int *first, int *last,
                             casie_error *err);

/* ---- its output (encoder_write.c) ---- */
/* Writes enc's file to out_path (never over anything: CASIE_ERR_IO, the
 * path untouched) with layers first..first+n-1 (1-based) replaced by
 * layers[0..n) (each of the encoder's shapes, casie__enc_layer_q8's), its
 * hash made again, its name marked; every other byte of every section as
 * in enc's file. */
int casie__encoder_write_layers(const casie_encoder *enc, int first, const casie__enc_layer *layers, int n,
                                const char *out_path, casie_error *err);

#endif /* CASIE_ENCODER_TUNE_H */
