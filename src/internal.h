/*
 * internal.h - what the library's files share and nobody outside sees.
 *
 * Not part of the API: names here start with casie__ and may change freely.
 */
#ifndef CASIE_INTERNAL_H
#define CASIE_INTERNAL_H

#include "casie.h"

/* The hot loops (nn.c, linear.c's scores, encoder_kernels.c) are built
 * once per SIMD level and picked through one table (cpu.h, cpu.c).  None
 * uses fused multiply-add (ISO C mode leaves contraction off), so every
 * level gives the same bits. */

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define CASIE_UNUSED(x) ((void)(x))

/* Upper bounds on untrusted input. */
#define CASIE_MAX_DOC_BYTES ((size_t)256 << 20) /* one document's text */
#define CASIE_MAX_JSON_DEPTH 64                 /* nesting of a JSON record */

/* ---- errors (common.c) ---- */
/* Fills err (if not NULL) with code, position and a printf-style message;
 * returns code so that `return casie__error(err, ...)` reads naturally. */
int casie__error(casie_error *err, int code, long position, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- memory and strings (common.c) ---- */
char *casie__strdup(const char *s);            /* NULL in, NULL out */
char *casie__strndup(const char *s, size_t n); /* always NUL-terminates */
/* A document id from a path: its base name without extension
 * ("path/to/10012.txt" -> "10012"); malloc'd, NULL when out of memory. */
char *casie__path_id(const char *path);
/* Whether path names a regular file (following links). */
int casie__is_file(const char *path);
/* Reads a whole file; NUL-terminated; *len without the NUL. */
char *casie__read_file(const char *path, size_t *len, casie_error *err);

/* Growable array helper: ensures *cap >= need, elements of size `size`. */
int casie__grow(void **p, size_t *cap, size_t need, size_t size);

/* ---- UTF-8 (utf8.c) ---- */
/* Decodes `len` bytes.  Each byte that does not begin a valid, shortest-form
 * UTF-8 sequence (or a surrogate / > U+10FFFF) becomes U+FFFD and counts as one
 * code point; NUL bytes are kept as U+0000.  Outputs the repaired text
 * (malloc'd, NUL-terminated), its byte length, and cp_byte (n_cp+1 entries). */
int casie__utf8_normalize(const char *in, size_t len, char **out, size_t *out_len, int32_t **cp_byte, int32_t *n_cp);
/* Decodes one code point of valid UTF-8 at s (as produced above); sets *adv. */
uint32_t casie__utf8_get(const char *s, int *adv);
/* Encodes cp into buf (>= 4 bytes); returns the byte count. */
int casie__utf8_put(uint32_t cp, char *buf);
/* Length (1-4) of the valid, shortest-form sequence at s (n >= 1 bytes
 * there), or 0 when s[0] does not begin one: the one definition of valid
 * UTF-8 that repairing, checking and JSON writing share. */
int casie__utf8_valid_len(const char *s, size_t n);

#endif /* CASIE_INTERNAL_H */
