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

#endif /* CASIE_TRAIN_PARAMS_H */
