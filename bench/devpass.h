/*
 * devpass.h - what bench/passes.c and bench/ablate.c share: the dev
 * articles as JSON records, and timed extraction passes over them.
 *
 * A pass extracts from fresh copies of the records and is timed around
 * casie_extract alone, on the thread's CPU clock (another process on the
 * other core disturbs it less than the wall clock); dev_pass returns the
 * best of PASSES passes after one that warms the caches.
 */
#ifndef CASIE_BENCH_DEVPASS_H
#define CASIE_BENCH_DEVPASS_H

#include "casie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *devpass_prog = "bench";

/* what: the file or document; left out when the message names it already */
static void devpass_die(const char *what, const casie_error *e) {
    if (strstr(e->message, what))
        fprintf(stderr, "%s: %s\n", devpass_prog, e->message);
    else
        fprintf(stderr, "%s: %s: %s\n", devpass_prog, what, e->message);
    exit(1);
}

static double devpass_cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct devset {
    casie_corpus *dev;
    char **ids;
    int n_ids;
    char **js;    /* (n_docs,) each gold document as a compact JSON record */
    size_t *len;  /* (n_docs,) */
    size_t bytes; /* of article text */
} devset;

/* CORPUS_DIR/splits/dev.txt's documents; exits with a message on failure. */
static void devset_load(devset *s, const char *corpus) {
    casie_error err = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/splits/dev.txt", corpus);
    memset(s, 0, sizeof *s);
    if (!(s->ids = casie_read_ids(path, &s->n_ids, &err))) devpass_die(path, &err);
    if (!(s->dev = casie_corpus_read(corpus, (const char *const *)s->ids, s->n_ids, &err))) devpass_die(corpus, &err);
    s->js = calloc((size_t)s->dev->n_docs, sizeof *s->js);
    s->len = calloc((size_t)s->dev->n_docs, sizeof *s->len);
    if (!s->js || !s->len) {
        fprintf(stderr, "%s: out of memory\n", devpass_prog);
        exit(1);
    }
    for (int i = 0; i < s->dev->n_docs; i++) {
        if (!(s->js[i] = casie_doc_to_json(s->dev->docs[i], CASIE_JSON_COMPACT, &s->len[i], &err)))
            devpass_die(s->dev->docs[i]->id, &err);
        s->bytes += s->dev->docs[i]->text_len;
    }
}

static void devset_free(devset *s) {
    for (int i = 0; s->dev && i < s->dev->n_docs; i++)
        casie_free(s->js[i]);
    free(s->js);
    free(s->len);
    casie_strings_free(s->ids, s->n_ids);
    casie_corpus_free(s->dev);
}

/* Best CPU seconds of PASSES passes (after a warm-up) with or without the
 * gold triggers; the warm-up pass's output is scored into ev when not NULL. */
static double dev_pass(const casie_model *m, const devset *s, int given, int passes, casie_eval *ev) {
    casie_error err = {0};
    casie_extract_params xp = casie_extract_default_params();
    xp.given_triggers = given;
    double best = 1e30;
    for (int p = 0; p <= passes; p++) {
        double t = 0;
        for (int i = 0; i < s->dev->n_docs; i++) {
            const casie_doc *g = s->dev->docs[i];
            casie_doc *d = casie_doc_from_json(s->js[i], s->len[i], g->id, &err);
            if (!d) devpass_die(g->id, &err);
            double t0 = devpass_cpu_now();
            if (casie_extract(m, d, &xp, &err)) devpass_die(g->id, &err);
            t += devpass_cpu_now() - t0;
            if (p == 0 && ev && casie_eval_add(ev, g, d, &err)) devpass_die(g->id, &err);
            casie_doc_free(d);
        }
        if (p > 0 && t < best) best = t;
    }
    return best;
}

/* The command line both programs take, MODEL CORPUS_DIR [PASSES]: loads
 * the model and the dev set, returns PASSES (default 3); exits with the
 * usage or a message on failure. */
static int devpass_args(int argc, char **argv, casie_model **m, devset *s) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL CORPUS_DIR [PASSES]\n", devpass_prog);
        exit(2);
    }
    casie_error err = {0};
    if (!(*m = casie_model_load(argv[1], &err))) devpass_die(argv[1], &err);
    devset_load(s, argv[2]);
    int passes = argc > 3 ? atoi(argv[3]) : 3;
    return passes < 1 ? 1 : passes;
}

#endif /* CASIE_BENCH_DEVPASS_H */
