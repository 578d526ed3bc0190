/*
 * doc_json.h - reading and writing documents as JSON.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_DOC_JSON_H
#define CASIE_DOC_JSON_H

#include "internal.h"

/* ---- reading and writing documents as JSON (doc_json_read.c, doc_json_write.c) ---- */
/* The members of an argument and of its role object that the reader takes
 * apart; any others are kept as JSON text (casie_arg.extra, role_extra). */
extern const char *const casie__arg_known[];
extern const char *const casie__role_known[];

#endif /* CASIE_DOC_JSON_H */
