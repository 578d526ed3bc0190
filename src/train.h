/*
 * train.h - what the training files share (train*.c): the trainer, the
 * stages' entry points, and the helpers more than one of them uses.
 *
 * Internal to training: nothing outside train*.c includes it.
 */
#ifndef CASIE_TRAIN_H
#define CASIE_TRAIN_H

#include "internal.h"
#include "feats.h"
#include "hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* One training run: the documents, the model being filled, the parameters
 * (checked and complete: casie__train_params_check).  A stage on another
 * thread works on a copy, and reports its failure in its own rc and err. */
typedef struct trainer {
    casie_model *m;
    casie_doc *const *docs;
    int n_docs;
    casie_doc *const *dev; /* scored after every epoch to keep the best one (may be NULL) */
    int n_dev;
    casie__tokfeat **tf; /* (n_docs,) */
    float *const *xv;    /* (n_docs,) each document's encoder inputs (n_tokens, m->xdim), or NULL: none */
    const casie_train_params *p;
    struct timespec t0;
    int rc;
    casie_error err; /* why rc, when the failure has more to say than "out of memory" */
} trainer;

/* A progress line through p->log, with the time since training began.
 * Here, not in train.c, so that the stages log without calling back up into
 * the pipeline that calls them. */
static inline void casie__train_log(const trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void casie__train_log(const trainer *t, const char *fmt, ...) {
    if (!t->p->log) return;
    char buf[512];
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double el = (double)(now.tv_sec - t->t0.tv_sec) + (double)(now.tv_nsec - t->t0.tv_nsec) * 1e-9;
    int k = snprintf(buf, sizeof buf, "[%7.1fs] ", el);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + k, sizeof buf - (size_t)k, fmt, ap);
    va_end(ap);
    t->p->log(t->p->log_user, buf);
}

/* Fisher-Yates with the generator of internal.h: the same seed, the same order. */
static inline void casie__shuffle(int *a, int n, uint64_t *s) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(casie__rng_next(s) % (uint64_t)(i + 1));
        int x = a[i];
        a[i] = a[j];
        a[j] = x;
    }
}

/* The epochs of a learner: the epochs parameter's, or when it is 0 the
 * learner's own (its *_epochs parameter). */
static inline int casie__epochs_or(const trainer *t, int own) { return t->p->epochs > 0 ? t->p->epochs : own; }

/* ---- what is learnt from (train_gold.c) ---- */
/* A gold event, as document, hopper and event index. */
typedef struct evref {
    int doc, hop, ev;
} evref;
static inline const casie_event *casie__ev_at(const trainer *t, evref r) {
    return &t->docs[r.doc]->hoppers[r.hop].events[r.ev];
}
/* Every gold event of the training documents into *out (malloc'd); the
 * count, or -1 when out of memory. */
int casie__collect_events(const trainer *t, evref **out);
/* BIO subtype labels of a document's tokens from its gold triggers, or NULL. */
int *casie__trigger_gold(const casie_doc *doc);
/* BIO slot labels gold[0 .. e-b) of an event's arguments over its window. */
void casie__arg_gold(const casie_model *m, const casie_doc *doc, const casie_event *ev, int tb, int te, int b, int e,
                     int *gold);
/* casie__trigger_gold of every training document (n_docs arrays), or NULL. */
int **casie__trigger_golds(const trainer *t);
void casie__trigger_golds_free(const trainer *t, int **g);
/* Per document, 1 on the tokens of every gold trigger (n_docs arrays), or NULL. */
uint8_t **casie__trigger_tokens(const trainer *t);
void casie__trigger_tokens_free(const trainer *t, uint8_t **is_trig);
/* The role slots of each subtype: its roles, most frequent first. */
void casie__choose_slots(trainer *t);

/* ---- the stages (train_perc.c, train_nn.c) ---- */
int casie__train_triggers_perc(trainer *t);
int casie__train_args_perc(trainer *t);
/* Entity types, realis (sparse) and coreference. */
int casie__train_classifiers(trainer *t);
/* The trigger or argument network(s), side by side when there are two and
 * threads allow. */
int casie__train_trigger_nets(trainer *t);
int casie__train_argument_nets(trainer *t);

/* ---- scoring on dev (train_dev.c) ---- */
/* F1 of every metric (f1[CASIE_N_METRICS]) over the dev documents, with
 * the model as it is: mode 0 extracts from the text, 1 on copies of the
 * gold documents (given triggers), 2 only finds triggers. */
int casie__dev_scores(const casie_model *m, casie_doc *const *dev, int n_dev, int mode, int threads, double *f1,
                      casie_error *err);
/* Brier score of the trigger (stage 0) or argument (stage 1) confidences. */
int casie__dev_brier(const casie_model *m, casie_doc *const *dev, int n_dev, int stage, int threads, double *brier,
                     casie_error *err);

/* ---- tuning on dev (train_tune.c) ---- */
int casie__tune(trainer *t, casie_doc *const *dev, int n_dev, casie_error *err);

/* ---- word clusters and vectors (word_vectors.c) ---- */
/* Reads the clusters file, and the vectors of its first n_emb words from
 * the glove100.bin file emb_path (NULL: none), into m. */
int casie__clusters_load(casie_model *m, const char *path, const char *emb_path, int n_emb, casie_error *err);

#endif
