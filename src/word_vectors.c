/*
 * word_vectors.c - the word clusters and word vectors a model is trained
 * with: the clusters file (word, then three cluster ids, coarse to fine) into
 * the model's hash table, and the vectors of its most frequent words from a
 * glove100.bin file (read by glove.h, as scripts/glove_cluster.c reads it)
 * as int8 rows with a scale each.
 */
#include "train.h"

#include "glove.h"
#include "feats.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Words read from the clusters file, most frequent first: 3/4 of a table of
 * 2^17 slots (the rest of a longer file is left out). */
#define CLUSTER_WORDS 98304

/* A glove100.bin file read whole: its bytes and what glove.h finds in them. */
typedef struct glove_file {
    char *buf;
    size_t len;
    casie_glove g;
} glove_file;

static int glove_open(glove_file *f, const char *path, casie_error *err) {
    memset(f, 0, sizeof *f);
    if (!(f->buf = casie__read_file(path, &f->len, err))) return err ? err->code : CASIE_ERR_IO;
    if (casie_glove_parse(f->buf, f->len, &f->g)) {
        free(f->buf);
        f->buf = NULL;
        return casie__error(err, CASIE_ERR_PARSE, -1, "%s: not a glove100.bin word-vector file", path);
    }
    return CASIE_OK;
}

/* Word vectors for the first n_emb lines of the clusters file: glove100.bin
 * lists its words in the same (frequency) order, which is checked word by
 * word.  Each row is stored as int8 with a scale. */
int casie__clusters_load(casie_model *m, const char *path, const char *emb_path, int n_emb, casie_error *err) {
    size_t len;
    glove_file gf = {0};
    const casie_glove *g = &gf.g;
    char *buf = casie__read_file(path, &len, err);
    if (!buf) return err ? err->code : CASIE_ERR_IO;
    long lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    if (lines > CLUSTER_WORDS) lines = CLUSTER_WORDS;
    uint32_t n = 1024;
    while ((uint64_t)n * 3 < (uint64_t)lines * 4)
        n *= 2; /* load at most 0.75 */
    casie__cluster_entry *slots = calloc(n, sizeof *slots);
    int rc = CASIE_OK;
    if (!slots) {
        free(buf);
        return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    }
    if (emb_path) {
        if ((rc = glove_open(&gf, emb_path, err))) goto fail;
        if ((uint32_t)n_emb > g->n_words) n_emb = (int)g->n_words;
        if ((long)n_emb > lines) n_emb = (int)lines;
        m->emb_scale_owned = calloc((size_t)n_emb + 1, sizeof(float));
        m->emb_v_owned = calloc((size_t)n_emb * g->dim + 1, 1);
        if (!m->emb_scale_owned || !m->emb_v_owned) {
            rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", emb_path);
            goto fail;
        }
    }
    const char *gw = g->words;
    char *p = buf, *end = buf + len;
    long lineno = 0;
    while (p < end && lineno < lines) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        lineno++;
        char *tab = memchr(p, '\t', (size_t)(nl - p));
        unsigned c0, c1, c2;
        if (tab && sscanf(tab + 1, "%u\t%u\t%u", &c0, &c1, &c2) == 3 && c0 < 0xffff && c1 < 0xffff && c2 < 0xffff) {
            uint64_t key = casie__word_hash(p, (size_t)(tab - p));
            if (!key) key = 1;
            uint32_t i = (uint32_t)key & (n - 1);
            while (slots[i].key && slots[i].key != key)
                i = (i + 1) & (n - 1);
            slots[i].key = key;
            slots[i].c[0] = (uint16_t)c0, slots[i].c[1] = (uint16_t)c1, slots[i].c[2] = (uint16_t)c2;
            long r = lineno - 1;
            if (emb_path && r < n_emb) {
                size_t wlen = strlen(gw);
                if (wlen != (size_t)(tab - p) || memcmp(gw, p, wlen)) {
                    rc =
                        casie__error(err, CASIE_ERR_PARSE, lineno,
                                     "%s:%ld: word differs from word %ld of %s (both must be in GloVe frequency order)",
                                     path, lineno, r + 1, emb_path);
                    goto fail;
                }
                gw += wlen + 1;
                float v[CASIE_GLOVE_MAX_DIM];
                for (uint32_t d = 0; d < g->dim; d++)
                    v[d] = casie_glove_value(g, (uint32_t)r, d);
                float mx = 0;
                for (uint32_t d = 0; d < g->dim; d++)
                    mx = fabsf(v[d]) > mx ? fabsf(v[d]) : mx;
                float sc = mx > 0 ? mx / 127.0f : 1.0f;
                m->emb_scale_owned[r] = sc;
                for (uint32_t d = 0; d < g->dim; d++)
                    m->emb_v_owned[(size_t)r * g->dim + d] = (int8_t)lrintf(v[d] / sc);
                slots[i].pad = (uint16_t)(r + 1);
            }
        } else if (nl > p) {
            rc = casie__error(err, CASIE_ERR_PARSE, lineno,
                              "%s:%ld: expected word and three cluster ids, tab-separated", path, lineno);
            goto fail;
        }
        p = nl + 1;
    }
    free(buf);
    free(gf.buf);
    m->clusters_owned = slots;
    m->clusters.slots = slots;
    m->clusters.n_slots = n;
    if (emb_path) {
        m->emb.n_words = (uint32_t)n_emb;
        m->emb.dim = g->dim;
        m->emb.scale = m->emb_scale_owned;
        m->emb.v = m->emb_v_owned;
    }
    return CASIE_OK;
fail:
    free(buf);
    free(gf.buf);
    free(slots);
    free(m->emb_scale_owned);
    free(m->emb_v_owned);
    m->emb_scale_owned = NULL;
    m->emb_v_owned = NULL;
    return rc;
}
