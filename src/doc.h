/*
 * doc.h - the document object and span repair.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_DOC_H
#define CASIE_DOC_H

#include "internal.h"

/* ---- documents (doc.c) ---- */
/* Code point i of doc (0 <= i < n_cp). */
uint32_t casie__doc_cp(const casie_doc *doc, int32_t i);
/* malloc'd copy of code points [start, end) of doc's text, or NULL. */
char *casie__doc_substr(const casie_doc *doc, int32_t start, int32_t end);
/* The title and date of a plain-text article from its first lines, where
 * it has them (doc_meta.c).  CASIE_OK or CASIE_ERR_NOMEM. */
int casie__text_meta(casie_doc *doc);
/* A fresh empty document owning a copy of text (already normalized). */
casie_doc *casie__doc_new(void);
int casie__doc_set_text(casie_doc *doc, const char *bytes, size_t len, casie_error *err);

/* ---- span repair (span_repair.c) ---- */
/* Whether code points [s, e) of d select exactly text (tlen bytes). */
int casie__span_matches(const casie_doc *d, long s, long e, const char *text, size_t tlen);
/* *at: the start (code points) of the occurrence of t (tlen bytes, ncp code
 * points) nearest to s, earlier on ties; -1 when none was found.  Looks near
 * s first, then in the whole text while *full_searched (bytes read by
 * whole-text searches of this document, start at 0) allows.  CASIE_OK, or
 * CASIE_ERR_NOMEM (no message). */
int casie__span_nearest(const casie_doc *d, long s, const char *t, size_t tlen, long ncp, size_t *full_searched,
                        long *at);

/* Frees what an argument owns (its strings), not the struct itself. */
void casie__arg_free(casie_arg *a);
/* Frees an event's arguments (leaves it with none). */
void casie__event_clear_args(casie_event *e);
/* Frees everything an event owns and zeroes it (not the struct itself). */
void casie__event_free(casie_event *e);

#endif /* CASIE_DOC_H */
