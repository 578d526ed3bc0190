/*
 * train_dev.c - scoring the model being trained on the dev documents: its
 * predictions on a few threads, the F1 of every metric, the Brier score of
 * its confidences.  Used after every network epoch and while tuning.
 *
 * Not here: what is done with the scores (train_nn.c, train_tune.c).
 */
#include "train.h"
#include "extract.h"

#include <pthread.h>

/* Predictions for dev documents first, first + step, ... (mode as for
 * dev_scores), on one thread. */
typedef struct dev_job {
    const casie_model *m;
    casie_doc *const *dev;
    casie_doc **out;
    int n_dev, first, step, mode, rc;
    casie_error err;
} dev_job;

static void *dev_predict(void *arg) {
    dev_job *j = arg;
    casie_extract_params xp = casie_extract_default_params();
    xp.given_triggers = j->mode == 1;
    for (int i = j->first; i < j->n_dev && !j->rc; i += j->step) {
        casie_doc *d = NULL;
        if (j->mode == 1) {
            size_t len;
            char *js = casie_doc_to_json(j->dev[i], CASIE_JSON_COMPACT, &len, &j->err);
            if (js) d = casie_doc_from_json(js, len, j->dev[i]->id, &j->err);
            casie_free(js);
        } else {
            d = casie_doc_from_text(j->dev[i]->text, j->dev[i]->text_len, j->dev[i]->id, &j->err);
        }
        if (!d) j->rc = j->err.code ? j->err.code : CASIE_ERR_NOMEM;
        if (!j->rc)
            j->rc = j->mode == 2 ? casie__extract_triggers(j->m, d, &j->err) : casie_extract(j->m, d, &xp, &j->err);
        j->out[i] = d;
    }
    return NULL;
}

#define DEV_THREADS 8

/* Predictions for every dev document (mode as for dev_scores) into out
 * (n_dev, zeroed), shared among up to `threads` threads; on failure some
 * may be NULL, and the caller frees what is there. */
static int dev_predictions(const casie_model *m, casie_doc *const *dev, int n_dev, int mode, int threads,
                           casie_doc **out, casie_error *err) {
    dev_job jobs[DEV_THREADS];
    pthread_t th[DEV_THREADS];
    int nt = threads < 1 ? 1 : threads > DEV_THREADS ? DEV_THREADS : threads, started = 1, rc = CASIE_OK;
    for (int k = 0; k < nt; k++)
        jobs[k] = (dev_job){m, dev, out, n_dev, k, nt, mode, CASIE_OK, {0}};
    while (started < nt && !pthread_create(&th[started], NULL, dev_predict, &jobs[started]))
        started++;
    dev_predict(&jobs[0]);
    for (int k = started; k < nt; k++)
        dev_predict(&jobs[k]); /* threads that did not start */
    for (int k = 1; k < started; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < nt && !rc; k++)
        if ((rc = jobs[k].rc) && err) *err = jobs[k].err;
    return rc;
}

int casie__dev_scores(const casie_model *m, casie_doc *const *dev, int n_dev, int mode, int threads, double *f1,
                      casie_error *err) {
    casie_doc **out = calloc((size_t)n_dev + 1, sizeof *out);
    casie_eval *ev = casie_eval_new();
    int rc = out && ev ? dev_predictions(m, dev, n_dev, mode, threads, out, err)
                       : casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory scoring the dev documents");
    for (int i = 0; i < n_dev && !rc; i++)
        rc = casie_eval_add(ev, dev[i], out[i], err);
    for (int i = 0; out && i < n_dev; i++)
        casie_doc_free(out[i]);
    free(out);
    double p, r;
    for (int k = 0; !rc && k < CASIE_N_METRICS; k++)
        casie_prf(casie_eval_counts(ev, k, -1, -1), &p, &r, &f1[k]);
    casie_eval_free(ev);
    return rc;
}

/* The Brier score: mean (score - correct)^2, correct meaning an exact gold
 * match. */
int casie__dev_brier(const casie_model *m, casie_doc *const *dev, int n_dev, int stage, int threads, double *brier,
                     casie_error *err) {
    double sum = 0;
    long n = 0;
    casie_doc **out = calloc((size_t)n_dev + 1, sizeof *out);
    int rc = out ? dev_predictions(m, dev, n_dev, 0, threads, out, err)
                 : casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory scoring the dev documents");
    for (int i = 0; i < n_dev && !rc; i++) {
        const casie_doc *g = dev[i], *d = out[i];
        for (int h = 0; h < d->n_hoppers; h++)
            for (int k = 0; k < d->hoppers[h].n_events; k++) {
                const casie_event *e = &d->hoppers[h].events[k];
                for (int a = stage == 0 ? -1 : 0; a < (stage == 0 ? 0 : e->n_args); a++) {
                    int ok = 0;
                    for (int gh = 0; gh < g->n_hoppers && !ok; gh++)
                        for (int gk = 0; gk < g->hoppers[gh].n_events && !ok; gk++) {
                            const casie_event *ge = &g->hoppers[gh].events[gk];
                            if (ge->subtype != e->subtype) continue;
                            if (a < 0)
                                ok = ge->start == e->start && ge->end == e->end;
                            else
                                for (int ga = 0; ga < ge->n_args && !ok; ga++)
                                    ok = ge->args[ga].start == e->args[a].start && ge->args[ga].end == e->args[a].end &&
                                         ge->args[ga].role == e->args[a].role;
                        }
                    double s = a < 0 ? e->score : e->args[a].score;
                    sum += (s - ok) * (s - ok);
                    n++;
                }
            }
    }
    for (int i = 0; out && i < n_dev; i++)
        casie_doc_free(out[i]);
    free(out);
    *brier = n ? sum / (double)n : 0;
    return rc;
}
