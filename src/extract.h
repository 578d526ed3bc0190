/*
 * extract.h - extraction internals.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_EXTRACT_H
#define CASIE_EXTRACT_H

#include "internal.h"

/* ---- extraction (extract.c) ---- */
/* Only the trigger stage of casie_extract (each event its own hopper); reads
 * nothing of the model but trig, trig_nn, emb, clusters and trig_bias. */
int casie__extract_triggers(const casie_model *m, casie_doc *doc, casie_error *err);
/* Frees one extraction scratch (what a model's pool holds). */
void casie__extract_scratch_free(void *scratch);

#endif /* CASIE_EXTRACT_H */
