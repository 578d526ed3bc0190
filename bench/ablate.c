/*
 * ablate.c - what each part of a model costs and what it buys: the dev
 * figures and the CPU seconds of one extraction pass over the dev articles
 * with the model's networks switched off a group at a time.
 *
 *   bench/ablate MODEL CORPUS_DIR [PASSES]
 *
 * A group switched off leaves its sparse model alone, with weight 1 and bias
 * 0 (argmax and Viterbi do not depend on the scale); realis then comes from
 * the realis perceptron alone.  The confidence scores keep the model's tuned
 * softmax scales, so they are not calibrated in the ablated rows, which do
 * not use them.  Times are the thread's CPU clock around casie_extract, the
 * best of PASSES passes (default 3) after one that warms the caches.
 */
#include "internal.h"

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
    fprintf(stderr, "ablate: %s: %s\n", what, e->message);
    exit(1);
}

/* One pass (or several, timed) over dev; adds the first pass to ev. */
static double run(const casie_model *m, const casie_corpus *dev, char **js, const size_t *len, int given, int passes,
                  casie_eval *ev) {
    casie_error err = {0};
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
            if (p == 0 && casie_eval_add(ev, dev->docs[i], d, &err)) die(dev->docs[i]->id, &err);
            casie_doc_free(d);
        }
        if (p > 0 && t < best) best = t;
    }
    return best;
}

static double f1(casie_eval *ev, int metric) {
    double p, r, f;
    casie_prf(casie_eval_counts(ev, metric, -1, -1), &p, &r, &f);
    return f;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: ablate MODEL CORPUS_DIR [PASSES]\n");
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
    char **js = calloc((size_t)dev->n_docs, sizeof *js);
    size_t *len = calloc((size_t)dev->n_docs, sizeof *len), bytes = 0;
    if (!js || !len) return 1;
    for (int i = 0; i < dev->n_docs; i++) {
        if (!(js[i] = casie_doc_to_json(dev->docs[i], CASIE_JSON_COMPACT, &len[i], &err))) die("json", &err);
        bytes += strlen(dev->docs[i]->text);
    }
    /* the fields switched below, and their values in the model */
    const struct {
        const float *trig_nn, *trig_nn2, *arg_nn, *arg_nn2;
        float trig_mix, trig_bias, arg_mix, arg_bias, realis_mix;
    } full = {m->trig_nn.p, m->trig_nn2.p, m->arg_nn.p,  m->arg_nn2.p,   m->trig_mix,
              m->trig_bias, m->arg_mix,    m->arg_bias, m->realis_mix};
    static const char *const NAMES[4] = {"sparse models only", "+ trigger network(s)", "+ argument networks only",
                                         "whole model"};
    printf("| %s: %d dev articles, %.0f KB | trig_c | arg_c | realis | ent_type | coref_muc | given: arg_c / realis / "
           "coref_muc | CPU s per pass (given triggers) | extraction MB/s |\n",
           argv[1], dev->n_docs, (double)bytes / 1e3);
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < 4; c++) {
        int trig_nets = c & 1, arg_nets = c & 2;
        m->trig_nn.p = trig_nets ? full.trig_nn : NULL;
        m->trig_nn2.p = trig_nets ? full.trig_nn2 : NULL;
        m->trig_mix = trig_nets ? full.trig_mix : 1.0f;
        m->trig_bias = trig_nets ? full.trig_bias : 0.0f;
        m->arg_nn.p = arg_nets ? full.arg_nn : NULL;
        m->arg_nn2.p = arg_nets ? full.arg_nn2 : NULL;
        m->arg_mix = arg_nets ? full.arg_mix : 1.0f;
        m->arg_bias = arg_nets ? full.arg_bias : 0.0f;
        m->realis_mix = arg_nets ? full.realis_mix : 1.0f;
        /* scratch is sized for the networks in use: none kept from before */
        casie__pool_free(m->pool);
        if (!(m->pool = casie__pool_new())) return 1;
        casie_eval *e2e = casie_eval_new(), *given = casie_eval_new();
        if (!e2e || !given) return 1;
        double t = run(m, dev, js, len, 0, passes, e2e), tg = run(m, dev, js, len, 1, passes, given);
        printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f / %.2f / %.2f | %.3f (%.3f) | %.2f |\n", NAMES[c],
               f1(e2e, CASIE_METRIC_TRIG_C), f1(e2e, CASIE_METRIC_ARG_C), f1(e2e, CASIE_METRIC_REALIS),
               f1(e2e, CASIE_METRIC_ENT_TYPE), f1(e2e, CASIE_METRIC_COREF_MUC), f1(given, CASIE_METRIC_ARG_C),
               f1(given, CASIE_METRIC_REALIS), f1(given, CASIE_METRIC_COREF_MUC), t, tg, (double)bytes / 1e6 / t);
        fflush(stdout);
        casie_eval_free(e2e);
        casie_eval_free(given);
    }
    for (int i = 0; i < dev->n_docs; i++) casie_free(js[i]);
    free(js);
    free(len);
    casie_strings_free(ids, nd);
    casie_corpus_free(dev);
    casie_model_free(m);
    return 0;
}
