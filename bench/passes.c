/*
 * passes.c - CPU seconds per extraction pass over the dev articles, end to
 * end and given the gold triggers: the best of several passes after one
 * that warms the caches, timed around casie_extract alone (the thread's CPU
 * clock, so another process on the other core disturbs it less than the
 * wall clock).  For comparing two builds or two models: run both, in turns.
 *
 *   bench/passes MODEL CORPUS_DIR [PASSES]
 */
#include "casie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, const casie_error *e) {
    fprintf(stderr, "passes: %s: %s\n", what, e->message);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: passes MODEL CORPUS_DIR [PASSES]\n");
        return 2;
    }
    casie_error err = {0};
    casie_model *m = casie_model_load(argv[1], &err);
    if (!m) die(argv[1], &err);
    char path[4096];
    snprintf(path, sizeof path, "%s/splits/dev.txt", argv[2]);
    int nd;
    char **ids = casie_read_ids(path, &nd, &err);
    if (!ids) die(path, &err);
    casie_corpus *dev = casie_corpus_read(argv[2], (const char *const *)ids, nd, &err);
    if (!dev) die(argv[2], &err);
    int passes = argc > 3 ? atoi(argv[3]) : 3;
    if (passes < 1) passes = 1;
    /* each pass extracts from fresh copies of the records */
    char **js = calloc((size_t)dev->n_docs, sizeof *js);
    size_t *len = calloc((size_t)dev->n_docs, sizeof *len);
    if (!js || !len) return 1;
    for (int i = 0; i < dev->n_docs; i++)
        if (!(js[i] = casie_doc_to_json(dev->docs[i], CASIE_JSON_COMPACT, &len[i], &err))) die("json", &err);
    for (int given = 0; given < 2; given++) {
        casie_extract_params xp = casie_extract_default_params();
        xp.given_triggers = given;
        double best = 1e30;
        for (int p = 0; p <= passes; p++) {
            double t = 0;
            for (int i = 0; i < dev->n_docs; i++) {
                casie_doc *d = casie_doc_from_json(js[i], len[i], dev->docs[i]->id, &err);
                if (!d) die(dev->docs[i]->id, &err);
                double t0 = cpu_now();
                if (casie_extract(m, d, &xp, &err)) die(dev->docs[i]->id, &err);
                t += cpu_now() - t0;
                casie_doc_free(d);
            }
            if (p > 0 && t < best) best = t; /* pass 0 warms the caches */
        }
        printf("%s: %.3f s per pass over %d dev articles (best of %d)\n", given ? "given triggers" : "end to end", best,
               dev->n_docs, passes);
    }
    for (int i = 0; i < dev->n_docs; i++) casie_free(js[i]);
    free(js);
    free(len);
    casie_strings_free(ids, nd);
    casie_corpus_free(dev);
    casie_model_free(m);
    return 0;
}
