/*
 * train.c - learning every stage of a model from annotated documents with
 * averaged perceptrons over hashed features.
 *
 * Stages (each independent, trained on gold input): triggers (BIO sequence
 * over subtypes), arguments (BIO sequence over the role slots of the gold
 * trigger's subtype), entity types, realis, coreference pairs.
 * Not here: the file format (model.c), decoding (extract.c).
 */
#include "internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <math.h>

casie_train_params casie_train_default_params(void) {
    casie_train_params p;
    memset(&p, 0, sizeof p);
    p.seed = 1;
    p.threads = 2;
    return p;
}

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
} trainer;

static void logf_(const trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const trainer *t, const char *fmt, ...) {
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

static void shuffle(int *a, int n, uint64_t *s) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(casie__rng_next(s) % (uint64_t)(i + 1));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static int epochs_or(const trainer *t, int dflt) { return t->p->epochs > 0 ? t->p->epochs : dflt; }

/* One structured perceptron step on a sequence: decode, compare, update.
 * Returns the token errors, or -1 when out of memory. */
static int seq_step(casie__linear *m, const uint64_t *F, const int *off, int n, const int *gold, float *E, int *pred,
                    const uint8_t *allowed, const uint8_t *start_ok) {
    const int L = (int)m->n_labels;
    memset(E, 0, sizeof(float) * (size_t)n * L);
    for (int i = 0; i < n; i++) casie__linear_score(m, F + off[i], off[i + 1] - off[i], E + (size_t)i * L);
    if (casie__viterbi(m, E, n, allowed, start_ok, pred)) return -1;
    int wrong = 0;
    for (int i = 0; i < n; i++) wrong += pred[i] != gold[i];
    if (wrong) {
        float c = (float)m->c;
        for (int i = 0; i < n; i++) {
            if (pred[i] != gold[i]) {
                casie__linear_update(m, F + off[i], off[i + 1] - off[i], gold[i], 1.0f);
                casie__linear_update(m, F + off[i], off[i + 1] - off[i], pred[i], -1.0f);
            }
            if (i == 0) {
                if (pred[0] != gold[0]) {
                    m->start[gold[0]] += 1, m->ustart[gold[0]] += c;
                    m->start[pred[0]] -= 1, m->ustart[pred[0]] -= c;
                }
            } else if (pred[i] != gold[i] || pred[i - 1] != gold[i - 1]) {
                m->trans[gold[i - 1] * L + gold[i]] += 1, m->utrans[gold[i - 1] * L + gold[i]] += c;
                m->trans[pred[i - 1] * L + pred[i]] -= 1, m->utrans[pred[i - 1] * L + pred[i]] -= c;
            }
        }
    }
    m->c++;
    return wrong;
}


/* A growing feature buffer: F holds every position's features, off[i] where
 * position i starts. */
typedef struct fbuf {
    uint64_t *F;
    size_t n, cap;
} fbuf;

static int fbuf_reserve(fbuf *b, size_t more) { return casie__grow((void **)&b->F, &b->cap, b->n + more, sizeof(uint64_t)); }

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
        if (!j->rc) j->rc = j->mode == 2 ? casie__extract_triggers(j->m, d, &j->err) : casie_extract(j->m, d, &xp, &j->err);
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
    for (int k = 0; k < nt; k++) jobs[k] = (dev_job){m, dev, out, n_dev, k, nt, mode, CASIE_OK, {0}};
    while (started < nt && !pthread_create(&th[started], NULL, dev_predict, &jobs[started])) started++;
    dev_predict(&jobs[0]);
    for (int k = started; k < nt; k++) dev_predict(&jobs[k]); /* threads that did not start */
    for (int k = 1; k < started; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < nt && !rc; k++)
        if ((rc = jobs[k].rc) && err) *err = jobs[k].err;
    return rc;
}

/* F1 of every metric (f1[CASIE_N_METRICS]) over the dev documents, with
 * the model as it is: mode 0 extracts from the text, 1 on copies of the
 * gold documents (given triggers), 2 only finds triggers. */
static int dev_scores(const casie_model *m, casie_doc *const *dev, int n_dev, int mode, int threads, double *f1,
                      casie_error *err) {
    casie_doc **out = calloc((size_t)n_dev + 1, sizeof *out);
    casie_eval *ev = casie_eval_new();
    int rc = out && ev ? dev_predictions(m, dev, n_dev, mode, threads, out, err)
                       : casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory scoring the dev documents");
    for (int i = 0; i < n_dev && !rc; i++) rc = casie_eval_add(ev, dev[i], out[i], err);
    for (int i = 0; out && i < n_dev; i++) casie_doc_free(out[i]);
    free(out);
    double p, r;
    for (int k = 0; !rc && k < CASIE_N_METRICS; k++) casie_prf(casie_eval_counts(ev, k, -1, -1), &p, &r, &f1[k]);
    casie_eval_free(ev);
    return rc;
}

/* The best epoch so far of a network (its averaged parameters). */
typedef struct best_epoch {
    double score;
    int epoch;
    float *nn; /* (n_params,) */
} best_epoch;

static void best_free(best_epoch *b) {
    free(b->nn);
    b->nn = NULL;
}

static const int trig_metric[1] = {CASIE_METRIC_TRIG_C};
static const int arg_metrics[2] = {CASIE_METRIC_ARG_C, CASIE_METRIC_REALIS};

/* Scores the network as it would be if training stopped now, alone (the
 * sparse half mixed in at 0), on dev (mode as for dev_scores), and keeps it
 * when the sum of metrics beats the best so far. */
static int epoch_check(trainer *t, int ep, const char *stage, casie__nn_train *nt, int mode, const int *metrics,
                       int n_metrics, best_epoch *best) {
    /* a view of the model holding only what this stage's thread owns or what
     * nobody changes any more */
    const casie_model *m = t->m;
    casie_model mm;
    memset(&mm, 0, sizeof mm);
    mm.emb = m->emb;
    mm.clusters = m->clusters;
    memcpy(mm.n_slots, m->n_slots, sizeof mm.n_slots);
    memcpy(mm.slot_role, m->slot_role, sizeof mm.slot_role);
    mm.trig_temp = mm.arg_temp = 1.0f;
    mm.xdim = m->xdim; /* the encoder's inputs, read only */
    mm.xs = m->xs;
    mm.enc = m->enc;
    mm.wp = m->wp;
    mm.xcache = m->xcache;
    best_epoch cur = {0, ep, malloc(sizeof(float) * nt->n->n_params)};
    if (!cur.nn) return CASIE_ERR_NOMEM;
    memcpy(cur.nn, nt->n_avg ? nt->avg : nt->n->own, sizeof(float) * nt->n->n_params);
    if (nt->n == &m->trig_nn || nt->n == &m->trig_nn2) {
        mm.trig = m->trig; /* the perceptron, trained before on this thread */
        mm.trig_nn = *nt->n; /* this network alone, whichever of the two */
        mm.trig_nn.own = NULL;
        mm.trig_nn.p = cur.nn;
    } else { /* the sparse models trained before on this same thread */
        mm.arg = m->arg;
        mm.ent = m->ent;
        mm.realis = m->realis;
        mm.coref = m->coref;
        mm.arg_nn = *nt->n; /* this network alone, whichever of the two */
        mm.arg_nn.own = NULL;
        mm.arg_nn.p = cur.nn;
    }
    double f1[CASIE_N_METRICS];
    casie_error err = {0};
    int rc = dev_scores(&mm, t->dev, t->n_dev, mode, 1, f1, &err);
    if (rc) {
        best_free(&cur);
        return rc;
    }
    for (int k = 0; k < n_metrics; k++) cur.score += f1[metrics[k]];
    char line[256];
    int k = snprintf(line, sizeof line, "%s: epoch %d, dev%s", stage, ep + 1, mode == 1 ? " (given triggers)" : "");
    for (int i = 0; i < n_metrics && k > 0 && (size_t)k < sizeof line; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, " %s %.2f", casie_metric_name(metrics[i]), f1[metrics[i]]);
    logf_(t, "%s%s", line, cur.score > best->score ? " (best so far)" : "");
    if (cur.score > best->score) {
        best_free(best);
        *best = cur;
    } else {
        best_free(&cur);
    }
    return CASIE_OK;
}

/* Puts the best epoch's parameters into the network (or, without dev, the
 * average up to the last epoch). */
static void install_best(best_epoch *best, casie__nn_train *nt) {
    if (!best->nn) {
        casie__nn_train_finish(nt);
        return;
    }
    memcpy(nt->n->own, best->nn, sizeof(float) * nt->n->n_params);
    best_free(best);
}

/* ---- the neural taggers ---- */

/* The network's weights are averaged over the steps from this epoch on
 * (0-based); with dev documents, the best epoch's average is kept. */
#define AVERAGE_FROM 1
#define TRIG_NN_EPOCHS 17
#define ARG_NN_EPOCHS 24
/* Words read from the clusters file, most frequent first: 3/4 of a table of
 * 2^17 slots (the rest of a longer file is left out). */
#define CLUSTER_WORDS 98304

/* What one network needs while it trains: its state and span buffers. */
typedef struct net_fit {
    casie__nn_train nt;
    float *E, *dE, *work, *du; /* (maxn, L), (maxn, L), (2 maxn + 1) L, (U,) */
} net_fit;

static void fit_free(net_fit *f) {
    casie__nn_train_free(&f->nt);
    free(f->E);
    free(f->dE);
    free(f->work);
    free(f->du);
}

static int fit_init(net_fit *f, casie__nnet *nn, const casie_train_params *p, int maxn, uint64_t seed) {
    memset(f, 0, sizeof *f);
    const size_t L = (size_t)nn->L, n = (size_t)(maxn > 0 ? maxn : 1);
    if (casie__nn_train_init(&f->nt, nn, p->lr, p->dropout, seed) || casie__nn_train_reserve(&f->nt, (int)n, (int)n + 1))
        goto fail;
    f->E = malloc(sizeof(float) * n * L);
    f->dE = malloc(sizeof(float) * n * L);
    f->work = malloc(sizeof(float) * (2 * n + 1) * L);
    f->du = malloc(sizeof(float) * (size_t)nn->U);
    if (f->E && f->dE && f->work && f->du) return CASIE_OK;
fail:
    fit_free(f);
    return CASIE_ERR_NOMEM;
}

/* The CRF loss of the network's scores in f->E: f->dE for the heads, the
 * transition and start gradients straight into the network's. */
static float fit_crf(net_fit *f, int n, const int *gold, const uint8_t *allowed, const uint8_t *start_ok) {
    const casie__nnet *nn = f->nt.n;
    return casie__crf_loss(f->E, n, nn->L, nn->p + nn->o_trans, nn->p + nn->o_start, allowed, start_ok, gold, f->dE,
                           f->nt.g + nn->o_trans, f->nt.g + nn->o_start, f->work);
}

/* ---- triggers ---- */

/* BIO subtype labels of a document's tokens from its gold triggers
 * (overlapping triggers and triggers across sentences are left out). */
static int *trigger_gold(const casie_doc *doc) {
    int *gold = calloc((size_t)doc->n_tokens + 1, sizeof(int));
    for (int h = 0; gold && h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            const casie_event *ev = &doc->hoppers[h].events[i];
            int tb, te, clash = 0;
            if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) continue;
            for (int x = tb; x < te; x++) clash |= gold[x] != 0;
            if (clash || doc->tokens[tb].sent != doc->tokens[te - 1].sent) continue;
            gold[tb] = 1 + 2 * ev->subtype;
            for (int x = tb + 1; x < te; x++) gold[x] = 2 + 2 * ev->subtype;
        }
    return gold;
}

/* The sparse half of the trigger tagger: a structured averaged perceptron. */
static int train_triggers_perc(trainer *t) {
    casie_model *m = t->m;
    const int L = CASIE_TRIG_LABELS;
    uint8_t allowed[CASIE_TRIG_LABELS * CASIE_TRIG_LABELS], start_ok[CASIE_TRIG_LABELS];
    casie__trig_masks(allowed, start_ok);
    /* items = sentences; gold labels per token of the whole corpus */
    int n_items = 0, maxn = 1;
    for (int d = 0; d < t->n_docs; d++) n_items += t->docs[d]->n_sents;
    int *item_doc = malloc(sizeof(int) * ((size_t)n_items + 1)), *item_sent = malloc(sizeof(int) * ((size_t)n_items + 1));
    int *order = malloc(sizeof(int) * ((size_t)n_items + 1));
    int **gold = calloc((size_t)t->n_docs + 1, sizeof(int *));
    int rc = CASIE_ERR_NOMEM, k = 0;
    float *E = NULL;
    int *pred = NULL, *off = NULL;
    fbuf fb = {0};
    if (!item_doc || !item_sent || !order || !gold) goto done;
    for (int d = 0; d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        if (!(gold[d] = trigger_gold(doc))) goto done;
        for (int s = 0; s < doc->n_sents; s++) {
            item_doc[k] = d, item_sent[k] = s, order[k] = k;
            int n = doc->sents[s].tok_end - doc->sents[s].tok_begin;
            if (n > maxn) maxn = n;
            k++;
        }
    }
    E = malloc(sizeof(float) * (size_t)maxn * L);
    pred = malloc(sizeof(int) * (size_t)maxn);
    off = malloc(sizeof(int) * ((size_t)maxn + 1));
    if (!E || !pred || !off) goto done;
    uint64_t rng = t->p->seed * 2 + 1;
    int epochs = epochs_or(t, 12);
    for (int ep = 0; ep < epochs; ep++) {
        shuffle(order, n_items, &rng);
        long wrong = 0, total = 0;
        for (int it = 0; it < n_items; it++) {
            const casie_doc *doc = t->docs[item_doc[order[it]]];
            const casie_sentence *se = &doc->sents[item_sent[order[it]]];
            int b = se->tok_begin, e = se->tok_end, n = e - b;
            if (n <= 0) continue;
            fb.n = 0;
            for (int i = b; i < e; i++) {
                if (fbuf_reserve(&fb, CASIE_MAX_FEATS)) goto done;
                off[i - b] = (int)fb.n;
                fb.n += (size_t)casie__trig_feats(t->tf[item_doc[order[it]]], b, e, i, fb.F + fb.n);
            }
            off[n] = (int)fb.n;
            int w = seq_step(&m->trig, fb.F, off, n, gold[item_doc[order[it]]] + b, E, pred, allowed, start_ok);
            if (w < 0) goto done; /* out of memory */
            wrong += w;
            total += n;
        }
        logf_(t, "triggers: epoch %d/%d, token errors %ld of %ld (%.2f%%)", ep + 1, epochs, wrong, total,
              100.0 * (double)wrong / (double)(total ? total : 1));
    }
    casie__linear_finish(&m->trig);
    rc = CASIE_OK;
done:
    if (gold)
        for (int d = 0; d < t->n_docs; d++) free(gold[d]);
    free(gold);
    free(item_doc);
    free(item_sent);
    free(order);
    free(E);
    free(pred);
    free(off);
    free(fb.F);
    return rc;
}

/* The neural half of the trigger tagger: a BiLSTM-CRF over pieces of at most
 * CASIE_NN_CHUNK tokens of each sentence. */
static int train_triggers_nn(trainer *t, int which) {
    casie_model *m = t->m;
    casie__nnet *nn = which ? &m->trig_nn2 : &m->trig_nn;
    const uint64_t seed = t->p->seed + (uint64_t)which * 1000003u;
    const char *stage = which ? "triggers (network 2)" : "triggers (network)";
    const int L = CASIE_TRIG_LABELS, D = nn->D, H = nn->H;
    uint8_t allowed[CASIE_TRIG_LABELS * CASIE_TRIG_LABELS], start_ok[CASIE_TRIG_LABELS];
    casie__trig_masks(allowed, start_ok);
    int n_items = 0;
    for (int d = 0; d < t->n_docs; d++)
        for (int s = 0; s < t->docs[d]->n_sents; s++) {
            int n = t->docs[d]->sents[s].tok_end - t->docs[d]->sents[s].tok_begin;
            n_items += (n + CASIE_NN_CHUNK - 1) / CASIE_NN_CHUNK;
        }
    int *item_doc = malloc(sizeof(int) * ((size_t)n_items + 1)), *item_b = malloc(sizeof(int) * ((size_t)n_items + 1));
    int *item_e = malloc(sizeof(int) * ((size_t)n_items + 1)), *order = malloc(sizeof(int) * ((size_t)n_items + 1));
    int **gold = calloc((size_t)t->n_docs + 1, sizeof(int *));
    int rc = CASIE_ERR_NOMEM, k = 0;
    net_fit f;
    best_epoch best;
    memset(&f, 0, sizeof f);
    memset(&best, 0, sizeof best);
    best.score = -1;
    if (!item_doc || !item_b || !item_e || !order || !gold) goto done;
    if (fit_init(&f, nn, t->p, CASIE_NN_CHUNK, seed * 2 + 1)) goto done;
    for (int d = 0; d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        if (!(gold[d] = trigger_gold(doc))) goto done;
        for (int s = 0; s < doc->n_sents; s++)
            for (int b = doc->sents[s].tok_begin; b < doc->sents[s].tok_end; b += CASIE_NN_CHUNK) {
                item_doc[k] = d, item_b[k] = b, order[k] = k;
                item_e[k] = b + CASIE_NN_CHUNK < doc->sents[s].tok_end ? b + CASIE_NN_CHUNK : doc->sents[s].tok_end;
                k++;
            }
    }
    uint64_t rng = seed * 2 + 7;
    int epochs = epochs_or(t, TRIG_NN_EPOCHS);
    for (int ep = 0; ep < epochs; ep++) {
        if (ep == AVERAGE_FROM || (ep == 0 && epochs <= AVERAGE_FROM)) f.nt.averaging = 1;
        shuffle(order, n_items, &rng);
        double loss = 0;
        long total = 0;
        for (int it = 0; it < n_items; it++) {
            int d = item_doc[order[it]], b = item_b[order[it]], e = item_e[order[it]], n = e - b;
            if (n <= 0) continue;
            for (int i = b; i < e; i++) {
                float *x = f.nt.X + (size_t)(i - b) * D;
                casie__tokvec(&t->tf[d][i], &m->emb, x);
                if (t->xv) memcpy(x + D - m->xdim, t->xv[d] + (size_t)i * m->xdim, sizeof(float) * (size_t)m->xdim);
            }
            memset(f.E, 0, sizeof(float) * (size_t)n * L);
            casie__nn_train_encode(&f.nt, n);
            for (int i = 0; i < n; i++) {
                memcpy(f.nt.U + (size_t)i * nn->U, f.nt.Hs + (size_t)i * 2 * H, sizeof(float) * 2 * (size_t)H);
                casie__nn_train_head_fwd(&f.nt, i, 0, f.E + (size_t)i * L);
            }
            loss += fit_crf(&f, n, gold[d] + b, allowed, start_ok);
            for (int i = 0; i < n; i++) {
                casie__nn_train_head_bwd(&f.nt, i, 0, f.dE + (size_t)i * L, f.du);
                float *dh = f.nt.dHs + (size_t)i * 2 * H;
                for (int j = 0; j < 2 * H; j++) dh[j] += f.du[j];
            }
            casie__nn_train_encode_bwd(&f.nt, n);
            casie__nn_train_step(&f.nt);
            total += n;
        }
        logf_(t, "%s: epoch %d/%d, loss %.4f per token", stage, ep + 1, epochs, loss / (double)(total ? total : 1));
        if (t->dev && t->n_dev > 0 && (rc = epoch_check(t, ep, stage, &f.nt, 2, trig_metric, 1, &best)))
            goto done;
    }
    install_best(&best, &f.nt);
    rc = CASIE_OK;
done:
    if (gold)
        for (int d = 0; d < t->n_docs; d++) free(gold[d]);
    free(gold);
    free(item_doc);
    free(item_b);
    free(item_e);
    free(order);
    fit_free(&f);
    best_free(&best);
    return rc;
}

/* A stage's network 0 and, when the model has a second (two), network 1:
 * side by side when threads allow. */
typedef struct net_job {
    trainer t;
    int (*fit)(trainer *, int);
} net_job;

static void *second_net_thread(void *arg) {
    net_job *j = arg;
    j->t.rc = j->fit(&j->t, 1);
    return NULL;
}

static int train_nets(trainer *t, int (*fit)(trainer *, int), int two) {
    if (!two) return fit(t, 0);
    net_job j = {*t, fit};
    pthread_t th;
    int rc;
    if (t->p->threads < 2 || pthread_create(&th, NULL, second_net_thread, &j)) { /* one after the other */
        rc = fit(t, 0);
        return rc ? rc : fit(t, 1);
    }
    rc = fit(t, 0);
    pthread_join(th, NULL);
    return rc ? rc : j.t.rc;
}

static int train_triggers(trainer *t) {
    int rc = train_triggers_perc(t);
    return rc ? rc : train_nets(t, train_triggers_nn, t->m->trig_nn2.p != NULL);
}

/* ---- role slots ---- */

static void choose_slots(trainer *t) {
    long cnt[CASIE_N_SUBTYPES][CASIE_N_ROLES] = {{0}};
    for (int d = 0; d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        for (int h = 0; h < doc->n_hoppers; h++)
            for (int i = 0; i < doc->hoppers[h].n_events; i++) {
                const casie_event *ev = &doc->hoppers[h].events[i];
                for (int a = 0; a < ev->n_args; a++) cnt[ev->subtype][ev->args[a].role]++;
            }
    }
    for (int s = 0; s < CASIE_N_SUBTYPES; s++) {
        int n = 0;
        for (;;) { /* most frequent first, ties by role index */
            int best = -1;
            for (int r = 0; r < CASIE_N_ROLES; r++)
                if (cnt[s][r] > 0 && (best < 0 || cnt[s][r] > cnt[s][best])) best = r;
            if (best < 0 || n == CASIE_MAX_SLOTS) break;
            t->m->slot_role[s][n++] = best;
            cnt[s][best] = 0;
        }
        t->m->n_slots[s] = n;
        for (int k = n; k < CASIE_MAX_SLOTS; k++) t->m->slot_role[s][k] = -1;
    }
}

static int slot_of(const casie_model *m, int subtype, int role) {
    for (int k = 0; k < m->n_slots[subtype]; k++)
        if (m->slot_role[subtype][k] == role) return k;
    return -1;
}

/* ---- arguments, entity types, realis ---- */

typedef struct evref {
    int doc, hop, ev;
} evref;

static int collect_events(const trainer *t, evref **out) {
    int n = 0;
    for (int d = 0; d < t->n_docs; d++)
        for (int h = 0; h < t->docs[d]->n_hoppers; h++) n += t->docs[d]->hoppers[h].n_events;
    evref *r = malloc(sizeof(evref) * ((size_t)n + 1));
    if (!r) return -1;
    n = 0;
    for (int d = 0; d < t->n_docs; d++)
        for (int h = 0; h < t->docs[d]->n_hoppers; h++)
            for (int i = 0; i < t->docs[d]->hoppers[h].n_events; i++) r[n++] = (evref){d, h, i};
    *out = r;
    return n;
}

static const casie_event *ev_at(const trainer *t, evref r) { return &t->docs[r.doc]->hoppers[r.hop].events[r.ev]; }

/* BIO slot labels gold[0 .. e-b) of an event's arguments over its window
 * [b, e) (trigger tokens [tb, te)); arguments outside the window, or
 * overlapping the trigger or each other, are left out. */
static void arg_gold(const casie_model *m, const casie_doc *doc, const casie_event *ev, int tb, int te, int b, int e,
                     int *gold) {
    for (int i = 0; i < e - b; i++) gold[i] = 0;
    for (int a = 0; a < ev->n_args; a++) {
        int ab, ae, slot = slot_of(m, ev->subtype, ev->args[a].role), clash = 0;
        if (slot < 0 || !casie__span_tokens(doc, ev->args[a].start, ev->args[a].end, &ab, &ae)) continue;
        if (ab < b || ae > e) continue;
        for (int x = ab; x < ae; x++) clash |= gold[x - b] != 0 || (x >= tb && x < te);
        if (clash) continue;
        gold[ab - b] = 1 + 2 * slot;
        for (int x = ab + 1; x < ae; x++) gold[x - b] = 2 + 2 * slot;
    }
}

/* Per document, 1 on the tokens of every gold trigger (n_docs arrays). */
static uint8_t **trigger_tokens(const trainer *t) {
    uint8_t **is_trig = calloc((size_t)t->n_docs + 1, sizeof(uint8_t *));
    for (int d = 0; is_trig && d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        if (!(is_trig[d] = calloc((size_t)doc->n_tokens + 1, 1))) {
            for (int k = 0; k < d; k++) free(is_trig[k]);
            free(is_trig);
            return NULL;
        }
        for (int h = 0; h < doc->n_hoppers; h++)
            for (int i = 0; i < doc->hoppers[h].n_events; i++) {
                int tb, te;
                if (casie__span_tokens(doc, doc->hoppers[h].events[i].start, doc->hoppers[h].events[i].end, &tb, &te))
                    for (int x = tb; x < te; x++) is_trig[d][x] = 1;
            }
    }
    return is_trig;
}

/* The sparse half of the argument tagger: a structured averaged perceptron
 * over the role slots of the gold trigger's subtype. */
static int train_args_perc(trainer *t) {
    casie_model *m = t->m;
    const int L = CASIE_ARG_LABELS;
    evref *evs = NULL;
    int n_ev = collect_events(t, &evs), rc = CASIE_ERR_NOMEM, maxn = 1;
    int *order = NULL, *gold = NULL, *pred = NULL, *off = NULL;
    float *E = NULL;
    uint8_t **is_trig = NULL;
    fbuf fb = {0};
    if (n_ev < 0) return CASIE_ERR_NOMEM;
    for (int d = 0; d < t->n_docs; d++)
        for (int s = 0; s < t->docs[d]->n_sents; s++) {
            int n = t->docs[d]->sents[s].tok_end - t->docs[d]->sents[s].tok_begin;
            if (n > maxn) maxn = n;
        }
    order = malloc(sizeof(int) * ((size_t)n_ev + 1));
    gold = malloc(sizeof(int) * (size_t)maxn);
    pred = malloc(sizeof(int) * (size_t)maxn);
    off = malloc(sizeof(int) * ((size_t)maxn + 1));
    E = malloc(sizeof(float) * (size_t)maxn * L);
    is_trig = trigger_tokens(t);
    if (!order || !gold || !pred || !off || !E || !is_trig) goto done;
    for (int i = 0; i < n_ev; i++) order[i] = i;
    uint64_t rng = t->p->seed * 2 + 3;
    int epochs = epochs_or(t, 10);
    for (int ep = 0; ep < epochs; ep++) {
        shuffle(order, n_ev, &rng);
        long wrong = 0, total = 0;
        for (int it = 0; it < n_ev; it++) {
            evref r = evs[order[it]];
            const casie_doc *doc = t->docs[r.doc];
            const casie_event *ev = ev_at(t, r);
            int tb, te;
            if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) continue;
            int b, e;
            casie__arg_window(doc, tb, &te, &b, &e);
            int n = e - b;
            uint8_t allowed[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start_ok[CASIE_ARG_LABELS];
            casie__arg_masks(m, ev->subtype, allowed, start_ok);
            arg_gold(m, doc, ev, tb, te, b, e, gold);
            casie__arg_ctx c = {t->tf[r.doc], b, e, tb, te, ev->subtype, is_trig[r.doc]};
            fb.n = 0;
            for (int i = b; i < e; i++) {
                if (fbuf_reserve(&fb, CASIE_MAX_FEATS)) goto done;
                off[i - b] = (int)fb.n;
                fb.n += (size_t)casie__arg_feats(&c, i, fb.F + fb.n);
            }
            off[n] = (int)fb.n;
            int w = seq_step(&m->arg, fb.F, off, n, gold, E, pred, allowed, start_ok);
            if (w < 0) goto done; /* out of memory */
            wrong += w;
            total += n;
        }
        logf_(t, "arguments: epoch %d/%d, token errors %ld of %ld (%.2f%%)", ep + 1, epochs, wrong, total,
              100.0 * (double)wrong / (double)(total ? total : 1));
    }
    casie__linear_finish(&m->arg);
    rc = CASIE_OK;
done:
    if (is_trig)
        for (int d = 0; d < t->n_docs; d++) free(is_trig[d]);
    free(is_trig);
    free(evs);
    free(order);
    free(gold);
    free(pred);
    free(off);
    free(E);
    free(fb.F);
    return rc;
}

/* The neural half of the argument tagger, and realis: a BiLSTM over the
 * trigger's window (token vectors plus where each token lies relative to the
 * trigger); head 0 scores role slots per token from its states and the
 * trigger's last token's (a CRF), head 1 scores realis from the trigger's
 * first and last token's states. */
static int train_args_nn(trainer *t, int which) {
    casie_model *m = t->m;
    casie__nnet *nn = which ? &m->arg_nn2 : &m->arg_nn;
    const uint64_t seed = t->p->seed + (uint64_t)which * 1000003u;
    const char *stage = which ? "arguments (network 2)" : "arguments (network)";
    const int L = CASIE_ARG_LABELS, D = nn->D, D0 = D - CASIE_ARGVEC_REL, H = nn->H;
    evref *evs = NULL;
    int n_ev = collect_events(t, &evs), rc = CASIE_ERR_NOMEM;
    int *order = NULL, gold[CASIE_NN_CHUNK];
    uint8_t **is_trig = NULL;
    net_fit f;
    best_epoch best;
    memset(&f, 0, sizeof f);
    memset(&best, 0, sizeof best);
    best.score = -1;
    if (n_ev < 0) return CASIE_ERR_NOMEM;
    order = malloc(sizeof(int) * ((size_t)n_ev + 1));
    is_trig = trigger_tokens(t);
    if (!order || !is_trig) goto done;
    if (fit_init(&f, nn, t->p, CASIE_NN_CHUNK, seed * 2 + 3)) goto done;
    for (int i = 0; i < n_ev; i++) order[i] = i;
    uint64_t rng = seed * 2 + 9;
    int epochs = epochs_or(t, ARG_NN_EPOCHS);
    for (int ep = 0; ep < epochs; ep++) {
        if (ep == AVERAGE_FROM || (ep == 0 && epochs <= AVERAGE_FROM)) f.nt.averaging = 1;
        shuffle(order, n_ev, &rng);
        double loss = 0, rloss = 0;
        long total = 0;
        for (int it = 0; it < n_ev; it++) {
            evref r = evs[order[it]];
            const casie_doc *doc = t->docs[r.doc];
            const casie_event *ev = ev_at(t, r);
            int tb, te, b, e;
            if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) continue;
            casie__arg_window(doc, tb, &te, &b, &e);
            int n = e - b;
            uint8_t allowed[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start_ok[CASIE_ARG_LABELS];
            casie__arg_masks(m, ev->subtype, allowed, start_ok);
            arg_gold(m, doc, ev, tb, te, b, e, gold);
            for (int i = b; i < e; i++) {
                float *x = f.nt.X + (size_t)(i - b) * D;
                casie__tokvec(&t->tf[r.doc][i], &m->emb, x);
                if (t->xv)
                    memcpy(x + D0 - m->xdim, t->xv[r.doc] + (size_t)i * m->xdim, sizeof(float) * (size_t)m->xdim);
                casie__argvec_rel(i, tb, te, ev->subtype, is_trig[r.doc][i] && (i < tb || i >= te), x + D0);
            }
            memset(f.E, 0, sizeof(float) * (size_t)n * L);
            casie__nn_train_encode(&f.nt, n);
            const int th = te - 1 - b, tf0 = tb - b; /* the trigger's last and first token */
            for (int i = 0; i < n; i++) {
                float *u = f.nt.U + (size_t)i * nn->U;
                memcpy(u, f.nt.Hs + (size_t)i * 2 * H, sizeof(float) * 2 * (size_t)H);
                memcpy(u + 2 * H, f.nt.Hs + (size_t)th * 2 * H, sizeof(float) * 2 * (size_t)H);
                casie__nn_train_head_fwd(&f.nt, i, 0, f.E + (size_t)i * L);
                if (i + b >= tb && i + b < te) /* an argument never overlaps its trigger */
                    for (int l = 1; l < L; l++) f.E[(size_t)i * L + l] = -1e30f;
            }
            loss += fit_crf(&f, n, gold, allowed, start_ok);
            { /* realis: softmax over head 1 */
                float rs[CASIE_N_REALIS] = {0}, dr[CASIE_N_REALIS];
                float *u = f.nt.U + (size_t)n * nn->U;
                memcpy(u, f.nt.Hs + (size_t)tf0 * 2 * H, sizeof(float) * 2 * (size_t)H);
                memcpy(u + 2 * H, f.nt.Hs + (size_t)th * 2 * H, sizeof(float) * 2 * (size_t)H);
                casie__nn_train_head_fwd(&f.nt, n, 1, rs);
                float mx = rs[0], z = 0;
                for (int l = 1; l < CASIE_N_REALIS; l++) mx = rs[l] > mx ? rs[l] : mx;
                for (int l = 0; l < CASIE_N_REALIS; l++) z += (dr[l] = expf(rs[l] - mx));
                for (int l = 0; l < CASIE_N_REALIS; l++) dr[l] = dr[l] / z - (l == ev->realis);
                rloss -= logf(dr[ev->realis] + 1.0f + 1e-12f);
                casie__nn_train_head_bwd(&f.nt, n, 1, dr, f.du);
                float *d0 = f.nt.dHs + (size_t)tf0 * 2 * H, *d1 = f.nt.dHs + (size_t)th * 2 * H;
                for (int j = 0; j < 2 * H; j++) d0[j] += f.du[j], d1[j] += f.du[2 * H + j];
            }
            for (int i = 0; i < n; i++) {
                if (i + b >= tb && i + b < te) continue;
                casie__nn_train_head_bwd(&f.nt, i, 0, f.dE + (size_t)i * L, f.du);
                float *dh = f.nt.dHs + (size_t)i * 2 * H, *dt = f.nt.dHs + (size_t)th * 2 * H;
                for (int j = 0; j < 2 * H; j++) dh[j] += f.du[j], dt[j] += f.du[2 * H + j];
            }
            casie__nn_train_encode_bwd(&f.nt, n);
            casie__nn_train_step(&f.nt);
            total += n;
        }
        logf_(t, "%s: epoch %d/%d, loss %.4f per token; realis: loss %.4f per event", stage, ep + 1, epochs,
              loss / (double)(total ? total : 1), rloss / (double)(n_ev ? n_ev : 1));
        if (t->dev && t->n_dev > 0 && (rc = epoch_check(t, ep, stage, &f.nt, 1, arg_metrics, 2, &best)))
            goto done;
    }
    install_best(&best, &f.nt);
    rc = CASIE_OK;
done:
    if (is_trig)
        for (int d = 0; d < t->n_docs; d++) free(is_trig[d]);
    free(is_trig);
    free(evs);
    free(order);
    fit_free(&f);
    best_free(&best);
    return rc;
}

/* Multiclass perceptron step: returns 1 when the prediction was wrong. */
static int class_step(casie__linear *m, const uint64_t *f, int nf, int gold) {
    float sc[32] = {0};
    casie__linear_score(m, f, nf, sc);
    int best = 0;
    for (int l = 1; l < (int)m->n_labels; l++)
        if (sc[l] > sc[best]) best = l;
    if (best != gold) {
        casie__linear_update(m, f, nf, gold, 1.0f);
        casie__linear_update(m, f, nf, best, -1.0f);
    }
    m->c++;
    return best != gold;
}

/* Coreference: a perceptron over every pair of gold events in a document,
 * on the gold arguments. */
static void train_coref(trainer *t, casie__linear *m) {
    uint64_t f[CASIE_COREF_FEATS];
    const int epochs = epochs_or(t, 6);
    for (int ep = 0; ep < epochs; ep++) {
        long w = 0, tot = 0;
        for (int d = 0; d < t->n_docs; d++) {
            const casie_doc *doc = t->docs[d];
            for (int h1 = 0; h1 < doc->n_hoppers; h1++)
                for (int i1 = 0; i1 < doc->hoppers[h1].n_events; i1++)
                    for (int h2 = h1; h2 < doc->n_hoppers; h2++)
                        for (int i2 = (h2 == h1 ? i1 + 1 : 0); i2 < doc->hoppers[h2].n_events; i2++) {
                            const casie_event *a = &doc->hoppers[h1].events[i1], *b = &doc->hoppers[h2].events[i2];
                            if (a->start > b->start) {
                                const casie_event *x = a;
                                a = b, b = x;
                            }
                            int nf = casie__coref_feats(doc, t->tf[d], a, b, f);
                            if (!nf) continue;
                            w += class_step(m, f, nf, h1 == h2);
                            tot++;
                        }
        }
        logf_(t, "coreference: epoch %d/%d, pair errors %ld of %ld", ep + 1, epochs, w, tot);
    }
    casie__linear_finish(m);
}

static int train_classifiers(trainer *t) {
    casie_model *m = t->m;
    evref *evs = NULL;
    int n_ev = collect_events(t, &evs), rc = CASIE_ERR_NOMEM;
    int *order = NULL;
    uint64_t f[CASIE_MAX_FEATS];
    if (n_ev < 0) return CASIE_ERR_NOMEM;
    if (!(order = malloc(sizeof(int) * ((size_t)n_ev + 1)))) goto done;
    for (int i = 0; i < n_ev; i++) order[i] = i;
    uint64_t rng = t->p->seed * 2 + 5;
    int epochs = epochs_or(t, 8);
    for (int ep = 0; ep < epochs; ep++) {
        shuffle(order, n_ev, &rng);
        long ew = 0, et = 0, rw = 0, rt = 0;
        for (int it = 0; it < n_ev; it++) {
            evref r = evs[order[it]];
            const casie_doc *doc = t->docs[r.doc];
            const casie_event *ev = ev_at(t, r);
            int tb, te;
            if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) continue;
            int s = doc->tokens[tb].sent;
            int nf = casie__realis_feats(t->tf[r.doc], doc->sents[s].tok_begin, doc->sents[s].tok_end, tb, te,
                                         ev->subtype, f);
            rw += class_step(&m->realis, f, nf, ev->realis);
            rt++;
            for (int a = 0; a < ev->n_args; a++) {
                int ab, ae;
                if (!casie__span_tokens(doc, ev->args[a].start, ev->args[a].end, &ab, &ae)) continue;
                nf = casie__ent_feats(t->tf[r.doc], doc->n_tokens, ab, ae, ev->args[a].role, ev->subtype, f);
                ew += class_step(&m->ent, f, nf, ev->args[a].entity);
                et++;
            }
        }
        logf_(t, "realis (sparse): epoch %d/%d, errors %ld of %ld; entity types: errors %ld of %ld", ep + 1, epochs, rw,
              rt, ew, et);
    }
    casie__linear_finish(&m->realis);
    casie__linear_finish(&m->ent);
    train_coref(t, &m->coref);
    rc = CASIE_OK;
done:
    free(evs);
    free(order);
    return rc;
}

/* Arguments: the perceptron, the classifiers (entity types, realis and
 * coreference, which the networks' dev checks use), then the networks. */
static int train_arguments(trainer *t) {
    int rc = train_args_perc(t);
    if (!rc) rc = train_classifiers(t);
    return rc ? rc : train_nets(t, train_args_nn, t->m->arg_nn2.p != NULL);
}

static void *trig_thread(void *arg) {
    trainer *t = arg;
    t->rc = train_triggers(t);
    return NULL;
}

/* ---- clusters ---- */

/* Word vectors for the first n_emb lines of the clusters file: glove100.bin
 * lists its words in the same (frequency) order, which is checked word by
 * word.  Each row is stored as int8 with a scale. */
typedef struct glove_file {
    char *buf;
    size_t len;
    uint32_t n_words, dim;
    const char *words; /* NUL-separated */
    const float *vec;  /* (n_words, dim) */
} glove_file;

static int glove_open(glove_file *g, const char *path, casie_error *err) {
    memset(g, 0, sizeof *g);
    if (!(g->buf = casie__read_file(path, &g->len, err))) return err ? err->code : CASIE_ERR_IO;
    uint32_t wl = 0;
    if (g->len >= 24) {
        memcpy(&g->n_words, g->buf + 8, 4);
        memcpy(&g->dim, g->buf + 12, 4);
        memcpy(&wl, g->buf + 16, 4);
    }
    if (g->len < 24 || memcmp(g->buf, "CSGLOVE1", 8) || g->dim == 0 || g->dim > 1024 || wl % 4 ||
        (uint64_t)24 + wl + (uint64_t)g->n_words * g->dim * 4 != g->len) {
        free(g->buf);
        g->buf = NULL;
        return casie__error(err, CASIE_ERR_PARSE, -1, "%s: not a glove100.bin word-vector file", path);
    }
    g->words = g->buf + 24;
    g->vec = (const float *)(const void *)(g->buf + 24 + wl);
    return CASIE_OK;
}

static int load_clusters(casie_model *m, const char *path, const char *emb_path, int n_emb, casie_error *err) {
    size_t len;
    glove_file g = {0};
    char *buf = casie__read_file(path, &len, err);
    if (!buf) return err ? err->code : CASIE_ERR_IO;
    long lines = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    if (lines > CLUSTER_WORDS) lines = CLUSTER_WORDS;
    uint32_t n = 1024;
    while ((uint64_t)n * 3 < (uint64_t)lines * 4) n *= 2; /* load at most 0.75 */
    casie__cluster_entry *slots = calloc(n, sizeof *slots);
    int rc = CASIE_OK;
    if (!slots) {
        free(buf);
        return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    }
    if (emb_path) {
        if ((rc = glove_open(&g, emb_path, err))) goto fail;
        if ((uint32_t)n_emb > g.n_words) n_emb = (int)g.n_words;
        if ((long)n_emb > lines) n_emb = (int)lines;
        m->emb_scale_owned = calloc((size_t)n_emb + 1, sizeof(float));
        m->emb_v_owned = calloc((size_t)n_emb * g.dim + 1, 1);
        if (!m->emb_scale_owned || !m->emb_v_owned) {
            rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", emb_path);
            goto fail;
        }
    }
    const char *gw = g.words;
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
            while (slots[i].key && slots[i].key != key) i = (i + 1) & (n - 1);
            slots[i].key = key;
            slots[i].c[0] = (uint16_t)c0, slots[i].c[1] = (uint16_t)c1, slots[i].c[2] = (uint16_t)c2;
            long r = lineno - 1;
            if (emb_path && r < n_emb) {
                size_t wlen = strlen(gw);
                if (wlen != (size_t)(tab - p) || memcmp(gw, p, wlen)) {
                    rc = casie__error(err, CASIE_ERR_PARSE, lineno,
                                      "%s:%ld: word differs from word %ld of %s (both must be in GloVe frequency order)",
                                      path, lineno, r + 1, emb_path);
                    goto fail;
                }
                gw += wlen + 1;
                const float *v = g.vec + (size_t)r * g.dim;
                float mx = 0;
                for (uint32_t d = 0; d < g.dim; d++) mx = fabsf(v[d]) > mx ? fabsf(v[d]) : mx;
                float sc = mx > 0 ? mx / 127.0f : 1.0f;
                m->emb_scale_owned[r] = sc;
                for (uint32_t d = 0; d < g.dim; d++) m->emb_v_owned[(size_t)r * g.dim + d] = (int8_t)lrintf(v[d] / sc);
                slots[i].pad = (uint16_t)(r + 1);
            }
        } else if (nl > p) {
            rc = casie__error(err, CASIE_ERR_PARSE, lineno, "%s:%ld: expected word and three cluster ids, tab-separated",
                              path, lineno);
            goto fail;
        }
        p = nl + 1;
    }
    free(buf);
    free(g.buf);
    m->clusters_owned = slots;
    m->clusters.slots = slots;
    m->clusters.n_slots = n;
    if (emb_path) {
        m->emb.n_words = (uint32_t)n_emb;
        m->emb.dim = g.dim;
        m->emb.scale = m->emb_scale_owned;
        m->emb.v = m->emb_v_owned;
    }
    return CASIE_OK;
fail:
    free(buf);
    free(g.buf);
    free(slots);
    free(m->emb_scale_owned);
    free(m->emb_v_owned);
    m->emb_scale_owned = NULL;
    m->emb_v_owned = NULL;
    return rc;
}

/* ---- the whole pipeline ---- */

static uint64_t corpus_hash(casie_doc *const *docs, int n) {
    uint64_t h = 0x1234;
    for (int d = 0; d < n; d++) {
        const casie_doc *doc = docs[d];
        h = casie__hc(h, casie__hash_bytes(doc->id ? doc->id : "", doc->id ? strlen(doc->id) : 0, 1));
        h = casie__hc(h, casie__hash_bytes(doc->text, doc->text_len, 2));
        for (int k = 0; k < doc->n_hoppers; k++)
            for (int i = 0; i < doc->hoppers[k].n_events; i++) {
                const casie_event *ev = &doc->hoppers[k].events[i];
                h = casie__hc(h, (uint64_t)ev->start << 32 | (uint64_t)ev->end);
                h = casie__hc(h, (uint64_t)(ev->subtype * 16 + ev->realis) << 8 | (uint64_t)k);
                for (int a = 0; a < ev->n_args; a++)
                    h = casie__hc(h, ((uint64_t)ev->args[a].start << 32 | (uint64_t)ev->args[a].end) ^
                                         (uint64_t)(ev->args[a].role * 32 + ev->args[a].entity) << 56);
            }
    }
    return h;
}

/* Trains every stage of t->m once (triggers on a second thread when allowed). */
static int train_run(trainer *t) {
    int rc;
    if (t->p->threads >= 2) {
        trainer t2 = *t;
        pthread_t th;
        if (pthread_create(&th, NULL, trig_thread, &t2)) {
            rc = train_triggers(t);
            if (!rc) rc = train_arguments(t);
        } else {
            rc = train_arguments(t);
            pthread_join(th, NULL);
            if (!rc) rc = t2.rc;
        }
    } else {
        rc = train_triggers(t);
        if (!rc) rc = train_arguments(t);
    }
    return rc;
}

/* Brier score of the trigger (stage 0) or argument (stage 1) confidences on
 * dev: mean (score - correct)^2, correct meaning an exact gold match. */
static int dev_brier(const casie_model *m, casie_doc *const *dev, int n_dev, int stage, int threads, double *brier,
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
                            if (a < 0) ok = ge->start == e->start && ge->end == e->end;
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
    for (int i = 0; out && i < n_dev; i++) casie_doc_free(out[i]);
    free(out);
    *brier = n ? sum / (double)n : 0;
    return rc;
}

/* the sparse mixes tried */
static const float MIX[] = {0.0f, 0.01f, 0.02f, 0.03f, 0.05f, 0.075f, 0.1f, 0.15f, 0.2f, 0.4f, 1.0f};

/* The sparse mix and decoding bias of one tagger: the arguments' (stage 1)
 * by arg_c given gold triggers, the triggers' (stage 0) by trig_c + arg_c
 * end to end. */
static int tune_tagger(trainer *t, casie_doc *const *dev, int n_dev, int stage, casie_error *err) {
    static const float BIAS[] = {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f, 1.5f, 2.0f, 3.0f};
    casie_model *m = t->m;
    float best_m = 0, best_b = 0, *mix = stage ? &m->arg_mix : &m->trig_mix, *bias = stage ? &m->arg_bias : &m->trig_bias;
    double best = -1;
    for (size_t i = 0; i < sizeof MIX / sizeof MIX[0]; i++)
        for (size_t j = 0; j < sizeof BIAS / sizeof BIAS[0]; j++) {
            double f1[CASIE_N_METRICS], score;
            *mix = MIX[i], *bias = BIAS[j];
            int rc = dev_scores(m, dev, n_dev, stage ? 1 : 0, t->p->threads, f1, err);
            if (rc) return rc;
            if (stage) {
                score = f1[CASIE_METRIC_ARG_C];
                logf_(t, "tuning arguments: sparse mix %.2f, bias %.2f: dev arg_c (given triggers) %.2f",
                      (double)MIX[i], (double)BIAS[j], score);
            } else {
                score = f1[CASIE_METRIC_TRIG_C] + f1[CASIE_METRIC_ARG_C];
                logf_(t, "tuning triggers: sparse mix %.2f, bias %.2f: dev trig_c %.2f, arg_c %.2f", (double)MIX[i],
                      (double)BIAS[j], f1[CASIE_METRIC_TRIG_C], f1[CASIE_METRIC_ARG_C]);
            }
            if (score > best) best = score, best_m = MIX[i], best_b = BIAS[j];
        }
    *mix = best_m, *bias = best_b;
    logf_(t, "tuned %s: sparse mix %.2f, bias %.2f (dev %s %.2f)", stage ? "arguments" : "triggers", (double)best_m,
          (double)best_b, stage ? "arg_c given triggers" : "trig_c + arg_c", best);
    return CASIE_OK;
}

/* Picks, on the dev documents, how much of the sparse models to mix into
 * the networks' scores and the decoding biases.  Arguments by arg_c and
 * realis by realis, given gold triggers (the trigger stage's parameters do
 * not change those); then triggers by trig_c + arg_c end to end, since the
 * triggers found decide the arguments found; then the coreference
 * threshold and the confidence scales. */
static int tune_biases(trainer *t, casie_doc *const *dev, int n_dev, casie_error *err) {
    const int T = t->p->threads;
    casie_model *m = t->m;
    int rc = tune_tagger(t, dev, n_dev, 1, err);
    if (rc) return rc;
    { /* realis, before the triggers: its mix changes nothing they are tuned on */
        float best_r = 0;
        double best = -1;
        for (size_t i = 0; i < sizeof MIX / sizeof MIX[0]; i++) {
            double f1[CASIE_N_METRICS];
            m->realis_mix = MIX[i];
            if ((rc = dev_scores(m, dev, n_dev, 1, T, f1, err))) return rc;
            logf_(t, "tuning realis: sparse mix %.2f: dev realis (given triggers) %.2f", (double)MIX[i],
                  f1[CASIE_METRIC_REALIS]);
            if (f1[CASIE_METRIC_REALIS] > best) best = f1[CASIE_METRIC_REALIS], best_r = MIX[i];
        }
        m->realis_mix = best_r;
    }
    if ((rc = tune_tagger(t, dev, n_dev, 0, err))) return rc;
    /* coreference: the link threshold, and the offset of links with a
     * Generic event, with the best mean of the pairwise and MUC F1 given
     * gold triggers (pairs punish merging too much, MUC splitting too much) */
    {
        static const float CGRID[] = {-8.0f, -4.0f, -2.0f, 0.0f, 1.0f, 2.0f,  3.0f,
                                      4.0f,  5.0f,  6.0f,  7.0f, 8.0f, 10.0f, 12.0f};
        static const float GGRID[] = {0.0f, 3.0f, 6.0f, 9.0f};
        float best_c = 0, best_g = 0;
        double best = -1;
        for (size_t gg = 0; gg < sizeof GGRID / sizeof GGRID[0]; gg++)
            for (size_t g = 0; g < sizeof CGRID / sizeof CGRID[0]; g++) {
                double f1[CASIE_N_METRICS];
                m->coref_bias = CGRID[g];
                m->coref_generic = GGRID[gg];
                if ((rc = dev_scores(m, dev, n_dev, 1, T, f1, err))) return rc;
                double mean = (f1[CASIE_METRIC_COREF] + f1[CASIE_METRIC_COREF_MUC]) / 2;
                logf_(t,
                      "tuning coreference bias %.2f, Generic offset %.2f: dev (given triggers) coref %.2f, "
                      "coref_muc %.2f",
                      (double)CGRID[g], (double)GGRID[gg], f1[CASIE_METRIC_COREF], f1[CASIE_METRIC_COREF_MUC]);
                if (mean > best) best = mean, best_c = CGRID[g], best_g = GGRID[gg];
            }
        m->coref_bias = best_c;
        m->coref_generic = best_g;
    }
    /* confidence calibration: the softmax scale with the best Brier score */
    static const float TEMPS[] = {2.0f, 1.5f, 1.0f, 0.75f, 0.5f, 0.35f, 0.25f};
    for (int stage = 0; stage < 2; stage++) {
        float best_t = 1.0f;
        double best = 1e9;
        for (size_t g = 0; g < sizeof TEMPS / sizeof TEMPS[0]; g++) {
            double b;
            if (stage == 0) m->trig_temp = TEMPS[g];
            else m->arg_temp = TEMPS[g];
            if ((rc = dev_brier(m, dev, n_dev, stage, T, &b, err))) return rc;
            logf_(t, "calibrating %s confidence, scale %.3f: Brier score %.4f", stage == 0 ? "trigger" : "argument",
                  (double)TEMPS[g], b);
            if (b < best) best = b, best_t = TEMPS[g];
        }
        if (stage == 0) m->trig_temp = best_t;
        else m->arg_temp = best_t;
    }
    return CASIE_OK;
}

/* The model's metadata, a JSON object text built with jansson (every string
 * escaped: the corpus tag names split files, which may hold any character);
 * reals print as %g would, the tuned values rounded to hundredths; a seed
 * over INT64_MAX, which a JSON integer here cannot hold, is a string of its
 * digits.  NULL when out of memory. */
static char *train_metadata(const casie_train_params *p, const casie_model *m, casie_doc *const *train, int n_train,
                            casie_doc *const *dev, int n_dev) {
    char th[17], dh[17], digits[24], *tag = NULL;
    size_t tag_len;
    int32_t *cpb = NULL, ncp;
    const char *t = p->corpus_tag ? p->corpus_tag : "";
    if (casie__utf8_normalize(t, strlen(t), &tag, &tag_len, &cpb, &ncp)) return NULL; /* jansson takes UTF-8 only */
    free(cpb);
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)p->seed);
    json_t *seed = p->seed <= INT64_MAX ? json_integer((json_int_t)p->seed) : json_string(digits);
    snprintf(th, sizeof th, "%016llx", (unsigned long long)corpus_hash(train, n_train));
    snprintf(dh, sizeof dh, "%016llx", (unsigned long long)(dev && n_dev > 0 ? corpus_hash(dev, n_dev) : 0));
    const struct {
        const char *key;
        float v;
    } tuned[] = {{"trig_bias", m->trig_bias}, {"arg_bias", m->arg_bias},   {"coref_bias", m->coref_bias},
                 {"coref_generic", m->coref_generic}, {"trig_mix", m->trig_mix}, {"arg_mix", m->arg_mix},
                 {"realis_mix", m->realis_mix}};
    json_t *o = json_pack("{s:s, s:o, s:i, s:i, s:i, s:s, s:s, s:s, s:b, s:b, s:I, s:i, s:i, s:f, s:f, s:i, s:i, s:i}",
                          "casie_version", CASIE_VERSION_STRING, "seed", seed, "epochs", p->epochs,
                          "n_train", n_train, "n_dev", n_dev, "train_hash", th, "dev_hash", dh, "corpus",
                          tag, "clusters", p->clusters != NULL, "embeddings",
                          p->embeddings != NULL, "emb_words", (json_int_t)m->emb.n_words, "hidden", p->hidden, "head",
                          p->head, "lr", (double)p->lr, "dropout", (double)p->dropout, "arg_nets", p->arg_nets,
                          "trig_nets", p->trig_nets, "threads", p->threads);
    int bad = !o;
    for (size_t i = 0; i < sizeof tuned / sizeof tuned[0] && !bad; i++)
        bad = json_object_set_new(o, tuned[i].key, json_real(round((double)tuned[i].v * 100) / 100)) != 0;
    if (!bad)
        bad = json_object_set_new(o, "rows",
                                  json_pack("{s:I, s:I, s:I, s:I, s:I}", "trig", (json_int_t)m->trig.n_rows, "arg",
                                            (json_int_t)m->arg.n_rows, "ent", (json_int_t)m->ent.n_rows, "realis",
                                            (json_int_t)m->realis.n_rows, "coref", (json_int_t)m->coref.n_rows)) != 0;
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    free(tag);
    return text;
}

casie_model *casie_train(casie_doc *const *train, int n_train, casie_doc *const *dev, int n_dev,
                         const casie_train_params *params, casie_error *err) {
    casie_train_params p = params ? *params : casie_train_default_params();
    casie_model *m = NULL;
    trainer t = {0};
    casie__xcache xc = {0};
    casie_doc **all = NULL;
    if (!train || n_train <= 0) {
        casie__error(err, CASIE_ERR_EMPTY, -1, "no training documents");
        return NULL;
    }
    if (p.threads < 1 || p.threads > 64) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "threads must be 1..64, not %d", p.threads);
        return NULL;
    }
    if (p.epochs < 0 || p.epochs > 1000) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "epochs must be 0..1000, not %d", p.epochs);
        return NULL;
    }
    if (p.emb_words == 0) p.emb_words = 50000;
    if (p.hidden == 0) p.hidden = 64;
    if (p.head == 0) p.head = 64;
    if (p.lr == 0) p.lr = 0.001f;
    if (p.dropout == 0) p.dropout = 0.25f;
    if (p.dropout < 0) p.dropout = 0;
    if (p.arg_nets == 0) p.arg_nets = 2;
    if (p.trig_nets == 0) p.trig_nets = 1;
    if (p.arg_nets < 1 || p.arg_nets > 2 || p.trig_nets < 1 || p.trig_nets > 2) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "arg_nets and trig_nets must be 1 or 2, not %d and %d",
                     p.arg_nets, p.trig_nets);
        return NULL;
    }
    if (p.emb_words < 1 || p.emb_words > 65535 || p.hidden < 1 || p.hidden > 512 || p.head < 1 || p.head > 512 ||
        !(p.lr > 0 && p.lr < 1) || !(p.dropout < 0.9f)) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1,
                     "bad neural parameters (emb_words 1..65535, hidden and head 1..512, lr in (0,1), dropout < 0.9)");
        return NULL;
    }
    if (casie__model_alloc(&m, 1)) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory allocating the model");
        return NULL;
    }
    t.m = m;
    t.docs = train;
    t.n_docs = n_train;
    t.dev = dev;
    t.n_dev = dev ? n_dev : 0;
    t.p = &p;
    clock_gettime(CLOCK_MONOTONIC, &t.t0);
    if (p.clusters && load_clusters(m, p.clusters, p.embeddings, p.emb_words, err)) goto fail;
    if (p.encoder) { /* its layers as every network's extra inputs */
        casie_encoder *enc = casie_encoder_load(p.encoder, err);
        casie__xspec xs;
        if (!enc) goto fail;
        casie__xspec_default(&xs, enc, p.encoder);
        if (casie__xvec_use(m, enc, &xs, err)) {
            casie_encoder_free(enc);
            goto fail;
        }
    }
    {
        int D0 = casie__tokvec_dim(&m->emb) + m->xdim, H = p.hidden;
        if (casie__nnet_init(&m->trig_nn, D0, H, 2 * H, p.head, CASIE_TRIG_LABELS, 0, p.seed) ||
            casie__nnet_init(&m->arg_nn, D0 + CASIE_ARGVEC_REL, H, 4 * H, p.head, CASIE_ARG_LABELS, CASIE_N_REALIS,
                             p.seed + 1) ||
            (p.arg_nets > 1 && casie__nnet_init(&m->arg_nn2, D0 + CASIE_ARGVEC_REL, H, 4 * H, p.head, CASIE_ARG_LABELS,
                                                CASIE_N_REALIS, p.seed + 1000003)) ||
            (p.trig_nets > 1 &&
             casie__nnet_init(&m->trig_nn2, D0, H, 2 * H, p.head, CASIE_TRIG_LABELS, 0, p.seed + 2000003)))
            goto nomem;
    }
    t.tf = calloc((size_t)n_train, sizeof *t.tf);
    if (!t.tf) goto nomem;
    long ntok = 0, nev = 0;
    for (int d = 0; d < n_train; d++) {
        if (casie_doc_analyze(train[d], err)) goto fail;
        if (!(t.tf[d] = casie__doc_tokfeats(train[d], &m->clusters))) goto nomem;
        ntok += train[d]->n_tokens;
        for (int h = 0; h < train[d]->n_hoppers; h++) nev += train[d]->hoppers[h].n_events;
    }
    logf_(&t, "training on %d documents, %ld tokens, %ld events; %u clustered words", n_train, ntok, nev,
          m->clusters.n_slots ? m->clusters.n_slots / 2 : 0);
    if (m->xdim > 0) { /* the encoder runs once over the training and tuning documents */
        int n_all = n_train + t.n_dev;
        all = malloc(sizeof(casie_doc *) * (size_t)n_all);
        if (!all) goto nomem;
        memcpy(all, train, sizeof(casie_doc *) * (size_t)n_train);
        for (int d = 0; d < t.n_dev; d++) {
            if (casie_doc_analyze(dev[d], err)) goto fail;
            all[n_train + d] = dev[d];
        }
        if (casie__xcache_fill(&xc, m, all, n_all, p.threads, err)) goto fail;
        m->xcache = &xc;
        t.xv = xc.v;
        logf_(&t, "encoder %s: %d layers x %d, vectors of %d documents", m->xs.enc_file, m->xs.enc_layers, m->xdim,
              n_all);
    }
    choose_slots(&t);
    int rc = train_run(&t);
    if (rc) goto nomem;
    /* predictions of this model and of its saved file are the same */
    casie__linear_round_bf16(&m->trig);
    casie__linear_round_bf16(&m->arg);
    casie__linear_round_bf16(&m->ent);
    casie__linear_round_bf16(&m->realis);
    casie__linear_round_bf16(&m->coref);
    if (dev && n_dev > 0 && (rc = tune_biases(&t, dev, n_dev, err))) goto fail;
    if (!(m->meta = train_metadata(&p, m, train, n_train, dev, n_dev))) goto nomem;
    logf_(&t, "training done");
    for (int d = 0; d < n_train; d++) free(t.tf[d]);
    free(t.tf);
    m->xcache = NULL;
    casie__xcache_free(&xc);
    free(all);
    return m;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory while training");
fail:
    if (t.tf)
        for (int d = 0; d < n_train; d++) free(t.tf[d]);
    free(t.tf);
    casie__xcache_free(&xc);
    free(all);
    casie_model_free(m);
    return NULL;
}
