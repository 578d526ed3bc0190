/*
 * tagging.h - spans and labels shared by training and extraction.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_TAGGING_H
#define CASIE_TAGGING_H

#include "internal.h"

/* ---- spans and labels shared by training and extraction (tagging.c) ---- */
/* Token index range of a code-point span: tokens overlapping [s, e). */
int casie__span_tokens(const casie_doc *doc, int32_t s, int32_t e, int *tb, int *te);
/* The tokens [*b, *e) searched for arguments of trigger tokens [tb, te)
 * (clamped to its sentence, CASIE_ARG_WINDOW and CASIE_NN_CHUNK). */
void casie__arg_window(const casie_doc *doc, int tb, int *te, int *b, int *e);
/* BIO masks: allowed (L*L, from->to) and start_ok (L). */
void casie__trig_masks(uint8_t *allowed, uint8_t *start_ok);
void casie__arg_masks(const casie_model *m, int subtype, uint8_t *allowed, uint8_t *start_ok);

#endif /* CASIE_TAGGING_H */
