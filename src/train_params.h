/*
 * train_params.h - training parameters.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_TRAIN_PARAMS_H
#define CASIE_TRAIN_PARAMS_H

#include "internal.h"

/* ---- training parameters (train_params.c) ---- */
/* Each parameter in its range (INVALID_ARG naming the first that is not). */
int casie__train_params_check(const casie_train_params *p, casie_error *err);
/* Adds to the JSON object o, by name, each parameter that the model's
 * metadata names only when it is not its default (each learner's epochs, the
 * category classifier's numbers: the table says which) and that is not; 0,
 * or -1 when out of memory. */
struct json_t;
int casie__train_params_changed(const casie_train_params *p, struct json_t *o);

#endif /* CASIE_TRAIN_PARAMS_H */
