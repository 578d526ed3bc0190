/*
 * glove.h - the one reader of a glove100.bin word-vector file (written by
 * scripts/glove_convert.c, which documents the format): its header checked
 * against its length, its words and vectors found in place.  Header-only
 * (with internal.h's byte-order helpers), so that the build scripts
 * (scripts/glove_cluster.c) read the file with the very code training does
 * (word_vectors.c) without linking the library.
 */
#ifndef CASIE_GLOVE_H
#define CASIE_GLOVE_H

#include "internal.h"
#include "byte_order.h"

#include <string.h>

#define CASIE_GLOVE_MAX_DIM 1024

typedef struct casie_glove {
    uint32_t n_words, dim;
    const char *words;        /* n_words NUL-terminated words, most frequent first */
    const unsigned char *vec; /* (n_words, dim) little-endian f32: casie_glove_value */
} casie_glove;

/* The words and vectors of the file's bytes buf[0 .. len), pointing into
 * buf; 0, or -1 when they are not a glove100.bin file (a bad magic, a
 * dimension of 0 or over CASIE_GLOVE_MAX_DIM, a word blob not padded to 4
 * bytes, a length that is not the header's, a word blob without its words). */
static inline int casie_glove_parse(const void *buf, size_t len, casie_glove *g) {
    const unsigned char *p = buf;
    memset(g, 0, sizeof *g);
    if (len < 24 || memcmp(p, "CSGLOVE1", 8)) return -1;
    uint32_t n = casie__get_u32le(p + 8), dim = casie__get_u32le(p + 12), wl = casie__get_u32le(p + 16);
    if (dim == 0 || dim > CASIE_GLOVE_MAX_DIM || wl % 4 || (uint64_t)24 + wl + (uint64_t)n * dim * 4 != len) return -1;
    /* every word NUL-terminated inside the blob */
    const char *w = (const char *)p + 24, *end = w + wl;
    for (uint32_t i = 0; i < n; i++) {
        const char *z = memchr(w, 0, (size_t)(end - w));
        if (!z) return -1;
        w = z + 1;
    }
    g->n_words = n, g->dim = dim;
    g->words = (const char *)p + 24;
    g->vec = p + 24 + wl;
    return 0;
}

/* Component d of word i's vector. */
static inline float casie_glove_value(const casie_glove *g, uint32_t i, uint32_t d) {
    uint32_t u = casie__get_u32le(g->vec + 4 * ((size_t)i * g->dim + d));
    float x;
    memcpy(&x, &u, 4);
    return x;
}

#endif
