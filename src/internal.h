/*
 * internal.h - what the library's files share and nobody outside sees.
 *
 * Not part of the API: names here start with casie__ and may change freely.
 */
#ifndef CASIE_INTERNAL_H
#define CASIE_INTERNAL_H

#include "casie.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#define CASIE_UNUSED(x) ((void)(x))

/* Upper bounds on untrusted input. */
#define CASIE_MAX_DOC_BYTES ((size_t)256 << 20) /* one document's text */
#define CASIE_MAX_JSON_DEPTH 64                 /* nesting of a JSON record */

/* ---- errors (common.c) ---- */
/* Fills err (if not NULL) with code, position and a printf-style message;
 * returns code so that `return casie__error(err, ...)` reads naturally. */
int casie__error(casie_error *err, int code, long position, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- memory and strings (common.c) ---- */
char *casie__strdup(const char *s);             /* NULL in, NULL out */
char *casie__strndup(const char *s, size_t n);  /* always NUL-terminates */
/* Reads a whole file; NUL-terminated; *len without the NUL. */
char *casie__read_file(const char *path, size_t *len, casie_error *err);

/* Growable array helper: ensures *cap >= need, elements of size `size`. */
int casie__grow(void **p, size_t *cap, size_t need, size_t size);

/* ---- UTF-8 (utf8.c) ---- */
/* Decodes `len` bytes.  Each byte that does not begin a valid, shortest-form
 * UTF-8 sequence (or a surrogate / > U+10FFFF) becomes U+FFFD and counts as one
 * code point; NUL bytes are kept as U+0000.  Outputs the repaired text
 * (malloc'd, NUL-terminated), its byte length, and cp_byte (n_cp+1 entries). */
int casie__utf8_normalize(const char *in, size_t len, char **out, size_t *out_len, int32_t **cp_byte,
                          int32_t *n_cp);
/* Decodes one code point of valid UTF-8 at s (as produced above); sets *adv. */
uint32_t casie__utf8_get(const char *s, int *adv);
/* Encodes cp into buf (>= 4 bytes); returns the byte count. */
int casie__utf8_put(uint32_t cp, char *buf);

/* ---- documents (doc.c) ---- */
/* Code point i of doc (0 <= i < n_cp). */
uint32_t casie__doc_cp(const casie_doc *doc, int32_t i);
/* malloc'd copy of code points [start, end) of doc's text, or NULL. */
char *casie__doc_substr(const casie_doc *doc, int32_t start, int32_t end);
/* A fresh empty document owning a copy of text (already normalized). */
casie_doc *casie__doc_new(void);
int casie__doc_set_text(casie_doc *doc, const char *bytes, size_t len, casie_error *err);

/* ---- tokenizer and sentence splitter (tokenize.c) ---- */
/* Fills doc->sents and doc->tokens from doc->text; replaces earlier ones. */
int casie__tokenize(casie_doc *doc, casie_error *err);

/* ---- model file container (model_io.c; format in docs/FORMAT.md) ---- */
/* A model file is a header, a section table and 32-byte aligned sections,
 * each with a 4-character tag and a checksum. */
typedef struct casie__section {
    char tag[5];      /* 4 characters + NUL, e.g. "META", "TRIG" */
    const void *data; /* borrowed: points into the caller's buffer or the mapping */
    uint64_t size;    /* bytes */
} casie__section;

/* Writes sections in order, atomically (temp file + rename). */
int casie__model_file_write(const char *path, const casie__section *secs, int n_secs, casie_error *err);

typedef struct casie__model_file {
    void *map;             /* the mapped (or owned) file bytes */
    size_t size;
    int owned;             /* 1: map was malloc'd (parse from memory), 0: mmap'd */
    casie__section *secs;  /* (n_secs,) data points into map */
    int n_secs;
} casie__model_file;

/* Maps and validates a file: magic, version, table bounds, alignment, every
 * checksum.  On failure mf is left empty and nothing needs closing. */
int casie__model_file_open(const char *path, casie__model_file *mf, casie_error *err);
/* The same over a memory buffer (copied), for tests and fuzzing. */
int casie__model_file_parse(const void *buf, size_t size, casie__model_file *mf, casie_error *err);
/* The section with this tag, or NULL. */
const casie__section *casie__model_file_find(const casie__model_file *mf, const char *tag);
void casie__model_file_close(casie__model_file *mf);

#endif /* CASIE_INTERNAL_H */
