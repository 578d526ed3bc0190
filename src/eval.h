/*
 * eval.h - the scores a casie_eval accumulates, shared by the span and role
 * metrics (eval.c) and the argument categories (eval_category.c).
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_EVAL_H
#define CASIE_EVAL_H

#include "internal.h"
#include "eval_category.h"

#define N_ST (CASIE_N_SUBTYPES + 1) /* [0] = all, [1 + s] = subtype s */
#define N_RO (CASIE_N_ROLES + 1)    /* [0] = all, [1 + r] = role r */

struct casie_eval {
    casie_counts c[CASIE_N_METRICS][N_ST][N_RO];
    long n_docs;
    casie__cat_tally cat; /* argument categories (eval_category.c) */
};

#endif /* CASIE_EVAL_H */
