/*
 * category_model.c - adding the argument category classifier (category.c)
 * to a model file that was trained without it.
 *
 * The classifier reads only what the model's taggers read too (tokens,
 * clusters, word vectors), so it is trained on its own and written as one
 * more section: the new file is the old one's sections, copied byte for
 * byte, plus CATG.  The events extracted are the same.
 *
 * Not here: the classifier (category.c).
 */
#include "internal.h"
#include "category.h"
#include "feats.h"
#include "model.h"
#include "model_file.h"
#include "train_params.h"

#include <stdio.h>
#include <string.h>

/* Accuracy of the classifier on the gold arguments of docs (their spans
 * and roles given), logged per kind. */
static int log_gold_accuracy(const casie_model *m, casie_doc *const *docs, int n, const casie_train_params *p,
                             casie_error *err) {
    long right[2] = {0, 0}, total[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        casie_doc *d = docs[i];
        int rc = casie_doc_analyze(d, err);
        if (rc) return rc;
        casie__tokfeat *tf = casie__doc_tokfeats(d, &m->clusters);
        if (!tf) return casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory");
        /* keep the gold categories aside, predict, compare, put them back */
        size_t na = 0, k = 0;
        for (int h = 0; h < d->n_hoppers; h++)
            for (int e = 0; e < d->hoppers[h].n_events; e++)
                na += (size_t)d->hoppers[h].events[e].n_args;
        const char **gold = malloc(sizeof *gold * (na + 1));
        double *gs = malloc(sizeof *gs * (na + 1));
        if (!gold || !gs) rc = CASIE_ERR_NOMEM;
        for (int h = 0; h < d->n_hoppers && !rc; h++)
            for (int e = 0; e < d->hoppers[h].n_events; e++)
                for (int j = 0; j < d->hoppers[h].events[e].n_args; j++, k++)
                    gold[k] = d->hoppers[h].events[e].args[j].category,
                    gs[k] = d->hoppers[h].events[e].args[j].category_score;
        if (!rc) rc = casie__category_predict(m, d, tf);
        k = 0;
        for (int h = 0; h < d->n_hoppers && gold && gs; h++)
            for (int e = 0; e < d->hoppers[h].n_events; e++)
                for (int j = 0; j < d->hoppers[h].events[e].n_args; j++, k++) {
                    casie_arg *a = &d->hoppers[h].events[e].args[j];
                    int kind = casie_role_category(a->role);
                    if (!rc && kind && gold[k]) {
                        total[kind - 1]++;
                        right[kind - 1] += a->category && !strcmp(a->category, gold[k]);
                    }
                    a->category = gold[k], a->category_score = gs[k];
                }
        free(gold);
        free(gs);
        if (rc) {
            free(tf);
            return casie__error(err, rc, -1, "out of memory");
        }
        free(tf);
    }
    if (p && p->log) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "categories on %d held-out documents (gold spans): purpose %.1f%% of %ld, capec %.1f%% of %ld", n,
                 total[0] ? 100.0 * (double)right[0] / (double)total[0] : 0.0, total[0],
                 total[1] ? 100.0 * (double)right[1] / (double)total[1] : 0.0, total[1]);
        p->log(p->log_user, msg);
    }
    return CASIE_OK;
}

int casie__category_attach(casie_model *m, casie_doc *const *train, int n_train, casie_doc *const *dev, int n_dev,
                           const casie_train_params *p, casie_error *err) {
    casie__category *c = NULL;
    int rc = casie__category_train(m, train, n_train, p, &c, err);
    if (rc) return rc;
    casie__category_free(m->cat);
    m->cat = c;
    return n_dev > 0 ? log_gold_accuracy(m, dev, n_dev, p, err) : CASIE_OK;
}

int casie_model_add_categories(const char *in_path, const char *out_path, casie_doc *const *train, int n_train,
                               casie_doc *const *dev, int n_dev, const casie_train_params *params, casie_error *err) {
    if (!in_path || !out_path || (!train && n_train))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1,
                            "casie_model_add_categories: no model, output or documents");
    int rc = params ? casie__train_params_check(params, err) : CASIE_OK;
    if (rc) return rc;
    casie_model *m = casie_model_load(in_path, err);
    if (!m) return err ? err->code : CASIE_ERR_IO;
    rc = casie__category_attach(m, train, n_train, dev, n_dev, params, err);
    casie__section *secs = NULL;
    if (!rc && !(secs = calloc((size_t)m->file.n_secs + 1, sizeof *secs)))
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", in_path);
    if (!rc) {
        int n = 0;
        for (int i = 0; i < m->file.n_secs; i++)
            if (strcmp(m->file.secs[i].tag, "CATG")) secs[n++] = m->file.secs[i];
        const void *data;
        size_t size;
        casie__category_bytes(m->cat, &data, &size);
        secs[n] = (casie__section){"CATG", data, size};
        rc = casie__model_file_write(out_path, secs, n + 1, err);
    }
    free(secs);
    casie_model_free(m);
    return rc;
}
