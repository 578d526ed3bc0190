/*
 * dev_score.h - a model's trigger and argument F1 on the corpus's dev split,
 * end to end, for the tests that hold the committed models to their
 * documented figures (test_model.c, test_model_encoder.c).
 */
#ifndef CASIE_TEST_DEV_SCORE_H
#define CASIE_TEST_DEV_SCORE_H

#include "test_common.h"

#include <pthread.h>

typedef struct dev_score_job {
    const casie_model *m;
    const casie_corpus *dv;
    casie_doc **out;
    int first, step, rc;
} dev_score_job;

static void *dev_score_worker(void *arg) {
    dev_score_job *j = arg;
    for (int i = j->first; i < j->dv->n_docs && !j->rc; i += j->step) {
        casie_error err = {0};
        const casie_doc *g = j->dv->docs[i];
        casie_doc *d = casie_doc_from_text(g->text, g->text_len, g->id, &err);
        if (!d || casie_extract(j->m, d, NULL, &err)) j->rc = 1;
        j->out[i] = d;
    }
    return NULL;
}

/* trig_c and arg_c of m over dv's documents extracted from their text, on
 * two threads sharing the model; fails the test on any error. */
static inline void dev_score(const casie_model *m, const casie_corpus *dv, double *trig_c, double *arg_c) {
    casie_doc **out = calloc((size_t)dv->n_docs + 1, sizeof *out);
    assert_non_null(out);
    dev_score_job j[2] = {{m, dv, out, 0, 2, 0}, {m, dv, out, 1, 2, 0}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, dev_score_worker, &j[1]), 0);
    dev_score_worker(&j[0]);
    pthread_join(th, NULL);
    assert_int_equal(j[0].rc + j[1].rc, 0);
    casie_eval *ev = casie_eval_new();
    assert_non_null(ev);
    casie_error err = {0};
    for (int i = 0; i < dv->n_docs; i++) {
        assert_int_equal(casie_eval_add(ev, dv->docs[i], out[i], &err), CASIE_OK);
        casie_doc_free(out[i]);
    }
    double p, r;
    casie_prf(casie_eval_counts(ev, CASIE_METRIC_TRIG_C, -1, -1), &p, &r, trig_c);
    casie_prf(casie_eval_counts(ev, CASIE_METRIC_ARG_C, -1, -1), &p, &r, arg_c);
    casie_eval_free(ev);
    free(out);
}

/* Holds m to its documented dev figures: trig_c and arg_c on the corpus's
 * whole dev split at most 3 points under want_trig_c and want_arg_c
 * (printed with `name`). */
static inline void dev_score_floor(const casie_model *m, const char *corpus, const char *name, double want_trig_c,
                                   double want_arg_c) {
    casie_corpus *dv = test_split(corpus, "dev", 0);
    assert_non_null(dv);
    double trig_c, arg_c;
    dev_score(m, dv, &trig_c, &arg_c);
    print_message("%s on dev: trig_c %.2f arg_c %.2f\n", name, trig_c, arg_c);
    assert_true(trig_c >= want_trig_c - 3.0);
    assert_true(arg_c >= want_arg_c - 3.0);
    casie_corpus_free(dv);
}

#endif
