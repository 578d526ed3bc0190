/*
 * eval_category.h - scoring argument categories: the tally a casie_eval
 * keeps (eval_category.c).
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_EVAL_CATEGORY_H
#define CASIE_EVAL_CATEGORY_H

#include "internal.h"

/* Counts per category of matched
 * arguments by gold category (gold), correct ones (right), and by
 * predicted category (pred), for [0] Purpose and [1] CAPEC. */
typedef struct casie__cat_counts {
    long gold[CASIE_N_CAPEC], right[CASIE_N_CAPEC], pred[CASIE_N_CAPEC];
} casie__cat_counts;
typedef struct casie__cat_tally {
    casie__cat_counts k[2];
} casie__cat_tally;
int casie__eval_category_add(casie__cat_tally *t, const casie_doc *gold, const casie_doc *pred);

#endif /* CASIE_EVAL_CATEGORY_H */
