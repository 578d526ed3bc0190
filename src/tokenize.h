/*
 * tokenize.h - the tokenizer and sentence splitter.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_TOKENIZE_H
#define CASIE_TOKENIZE_H

#include "internal.h"

/* ---- tokenizer and sentence splitter (tokenize.c) ---- */
/* Fills doc->sents and doc->tokens from doc->text; replaces earlier ones. */
int casie__tokenize(casie_doc *doc, casie_error *err);

#endif /* CASIE_TOKENIZE_H */
