/*
 * train_nn.c - the neural half of the trigger and argument taggers:
 * BiLSTM-CRF networks over token vectors, trained with Adam on each
 * sentence piece (triggers) or trigger window (arguments, with realis from
 * a second head).  One epoch driver serves both: shuffle, step through
 * the items, average the weights from the second epoch on, score on dev
 * after every epoch and keep the best.
 *
 * Not here: the network itself (nn.c), the sparse half (train_perc.c).
 */
#include "train.h"
#include "feats.h"
#include "tagging.h"
#include "model.h"
#include "nn.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

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
    if (!cur.nn) return casie__error(&t->err, CASIE_ERR_NOMEM, -1, "out of memory checking %s on dev", stage);
    memcpy(cur.nn, nt->n_avg ? nt->avg : nt->n->own, sizeof(float) * nt->n->n_params);
    if (nt->n == &m->trig_nn || nt->n == &m->trig_nn2) {
        mm.trig = m->trig;   /* the perceptron, trained before on this thread */
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
    int rc = casie__dev_scores(&mm, t->dev, t->n_dev, mode, 1, f1, &t->err);
    if (rc) {
        best_free(&cur);
        return rc;
    }
    for (int k = 0; k < n_metrics; k++)
        cur.score += f1[metrics[k]];
    char line[256];
    int k = snprintf(line, sizeof line, "%s: epoch %d, dev%s", stage, ep + 1, mode == 1 ? " (given triggers)" : "");
    for (int i = 0; i < n_metrics && k > 0 && (size_t)k < sizeof line; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, " %s %.2f", casie_metric_name(metrics[i]), f1[metrics[i]]);
    casie__train_log(t, "%s%s", line, cur.score > best->score ? " (best so far)" : "");
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

/* ---- one network's training ---- */

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
    if (casie__nn_train_init(&f->nt, nn, p->lr, p->dropout, seed) ||
        casie__nn_train_reserve(&f->nt, (int)n, (int)n + 1))
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

/* A network stage: n_items training spans; fill puts item k's token
 * vectors in f->nt.X and returns its length (0: skipped); after the
 * encoder's forward pass, heads runs the heads forward and back (adding
 * the CRF loss to *loss, any other to *loss2), leaving the state gradients
 * in f->nt.dHs. */
typedef struct net_stage {
    const char *name;
    casie__nnet *nn;
    int n_items, own_epochs;     /* this learner's own epochs parameter (used when epochs is 0) */
    uint64_t fit_seed, rng_seed; /* of dropout and initialisation; of the shuffles */
    int dev_mode;                /* as for casie__dev_scores */
    const int *metrics;          /* kept on dev: the best sum of these */
    int n_metrics;
    const char *loss2; /* with a second loss: its name in the log (per item) */
    int (*fill)(void *ctx, int k, net_fit *f);
    void (*heads)(void *ctx, net_fit *f, int n, double *loss, double *loss2);
    void *ctx;
} net_stage;

static int net_epochs(trainer *t, const net_stage *st) {
    net_fit f;
    best_epoch best = {-1, 0, NULL};
    int rc = CASIE_ERR_NOMEM, *order = malloc(sizeof(int) * ((size_t)st->n_items + 1));
    memset(&f, 0, sizeof f);
    if (!order || fit_init(&f, st->nn, t->p, CASIE_NN_CHUNK, st->fit_seed)) goto done;
    for (int i = 0; i < st->n_items; i++)
        order[i] = i;
    uint64_t rng = st->rng_seed;
    /* the weights are averaged over the steps from this epoch on (0-based),
     * or from the first when there are no more; with dev documents, the best
     * epoch's average is kept */
    const int epochs = casie__epochs_or(t, st->own_epochs), average_from = t->p->nn_average_from - 1;
    for (int ep = 0; ep < epochs; ep++) {
        if (ep == average_from || (ep == 0 && epochs <= average_from)) f.nt.averaging = 1;
        casie__shuffle(order, st->n_items, &rng);
        double loss = 0, loss2 = 0;
        long total = 0;
        for (int it = 0; it < st->n_items; it++) {
            int n = st->fill(st->ctx, order[it], &f);
            if (n <= 0) continue;
            memset(f.E, 0, sizeof(float) * (size_t)n * (size_t)st->nn->L);
            casie__nn_train_encode(&f.nt, n);
            st->heads(st->ctx, &f, n, &loss, &loss2);
            casie__nn_train_encode_bwd(&f.nt, n);
            casie__nn_train_step(&f.nt);
            total += n;
        }
        if (st->loss2)
            casie__train_log(t, "%s: epoch %d/%d, loss %.4f per token; %s: loss %.4f per event", st->name, ep + 1,
                             epochs, loss / (double)(total ? total : 1), st->loss2,
                             loss2 / (double)(st->n_items ? st->n_items : 1));
        else
            casie__train_log(t, "%s: epoch %d/%d, loss %.4f per token", st->name, ep + 1, epochs,
                             loss / (double)(total ? total : 1));
        if (t->dev && t->n_dev > 0 &&
            (rc = epoch_check(t, ep, st->name, &f.nt, st->dev_mode, st->metrics, st->n_metrics, &best)))
            goto done;
    }
    install_best(&best, &f.nt);
    rc = CASIE_OK;
done:
    free(order);
    fit_free(&f);
    best_free(&best);
    return rc;
}

/* ---- triggers: pieces of at most CASIE_NN_CHUNK tokens of each sentence ---- */

typedef struct trig_spans {
    const trainer *t;
    int *item_doc, *item_b, *item_e; /* (n_items,) */
    int **gold;                      /* (n_docs,) each (n_tokens,) */
    uint8_t allowed[CASIE_TRIG_LABELS * CASIE_TRIG_LABELS], start_ok[CASIE_TRIG_LABELS];
    int d, b; /* the current item's document and first token */
} trig_spans;

static int trig_fill(void *ctx, int k, net_fit *f) {
    trig_spans *c = ctx;
    const casie_model *m = c->t->m;
    const int D = f->nt.n->D, d = c->item_doc[k], b = c->item_b[k], e = c->item_e[k];
    c->d = d, c->b = b;
    for (int i = b; i < e; i++) {
        float *x = f->nt.X + (size_t)(i - b) * D;
        casie__tokvec(&c->t->tf[d][i], &m->emb, x);
        if (c->t->xv) memcpy(x + D - m->xdim, c->t->xv[d] + (size_t)i * m->xdim, sizeof(float) * (size_t)m->xdim);
    }
    return e - b;
}

/* Each token's label scores from its own states, under a CRF. */
static void trig_heads(void *ctx, net_fit *f, int n, double *loss, double *loss2) {
    CASIE_UNUSED(loss2);
    trig_spans *c = ctx;
    const casie__nnet *nn = f->nt.n;
    const int L = CASIE_TRIG_LABELS, H = nn->H;
    for (int i = 0; i < n; i++) {
        memcpy(f->nt.U + (size_t)i * nn->U, f->nt.Hs + (size_t)i * 2 * H, sizeof(float) * 2 * (size_t)H);
        casie__nn_train_head_fwd(&f->nt, i, 0, f->E + (size_t)i * L);
    }
    *loss += fit_crf(f, n, c->gold[c->d] + c->b, c->allowed, c->start_ok);
    for (int i = 0; i < n; i++) {
        casie__nn_train_head_bwd(&f->nt, i, 0, f->dE + (size_t)i * L, f->du);
        float *dh = f->nt.dHs + (size_t)i * 2 * H;
        for (int j = 0; j < 2 * H; j++)
            dh[j] += f->du[j];
    }
}

static int train_trigger_net(trainer *t, int which) {
    const uint64_t seed = t->p->seed + (uint64_t)which * 1000003u;
    trig_spans c = {t, NULL, NULL, NULL, NULL, {0}, {0}, 0, 0};
    casie__trig_masks(c.allowed, c.start_ok);
    int n_items = 0, rc = CASIE_ERR_NOMEM, k = 0;
    for (int d = 0; d < t->n_docs; d++)
        for (int s = 0; s < t->docs[d]->n_sents; s++) {
            int n = t->docs[d]->sents[s].tok_end - t->docs[d]->sents[s].tok_begin;
            n_items += (n + CASIE_NN_CHUNK - 1) / CASIE_NN_CHUNK;
        }
    c.item_doc = malloc(sizeof(int) * ((size_t)n_items + 1));
    c.item_b = malloc(sizeof(int) * ((size_t)n_items + 1));
    c.item_e = malloc(sizeof(int) * ((size_t)n_items + 1));
    c.gold = casie__trigger_golds(t);
    if (!c.item_doc || !c.item_b || !c.item_e || !c.gold) goto done;
    for (int d = 0; d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        for (int s = 0; s < doc->n_sents; s++)
            for (int b = doc->sents[s].tok_begin; b < doc->sents[s].tok_end; b += CASIE_NN_CHUNK) {
                c.item_doc[k] = d, c.item_b[k] = b;
                c.item_e[k] = b + CASIE_NN_CHUNK < doc->sents[s].tok_end ? b + CASIE_NN_CHUNK : doc->sents[s].tok_end;
                k++;
            }
    }
    const net_stage st = {which ? "triggers (network 2)" : "triggers (network)",
                          which ? &t->m->trig_nn2 : &t->m->trig_nn,
                          n_items,
                          t->p->trig_nn_epochs,
                          seed * 2 + 1,
                          seed * 2 + 7,
                          2,
                          trig_metric,
                          1,
                          NULL,
                          trig_fill,
                          trig_heads,
                          &c};
    rc = net_epochs(t, &st);
done:
    casie__trigger_golds_free(t, c.gold);
    free(c.item_doc);
    free(c.item_b);
    free(c.item_e);
    return rc;
}

/* ---- arguments and realis: the window of each gold event's trigger ---- */

typedef struct arg_spans {
    const trainer *t;
    evref *evs;        /* (n_items,) */
    uint8_t **is_trig; /* (n_docs,) casie__trigger_tokens */
    int gold[CASIE_NN_CHUNK];
    uint8_t allowed[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start_ok[CASIE_ARG_LABELS];
    const casie_event *ev; /* the current item's, its trigger [tb, te) in its window from b */
    int tb, te, b;
} arg_spans;

/* Token vectors plus where each token lies relative to the trigger. */
static int arg_fill(void *ctx, int k, net_fit *f) {
    arg_spans *c = ctx;
    const trainer *t = c->t;
    const casie_model *m = t->m;
    const int D = f->nt.n->D, D0 = D - CASIE_ARGVEC_REL;
    evref r = c->evs[k];
    const casie_doc *doc = t->docs[r.doc];
    const casie_event *ev = casie__ev_at(t, r);
    int tb, te, b, e;
    if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) return 0;
    casie__arg_window(doc, tb, &te, &b, &e);
    casie__arg_masks(m, ev->subtype, c->allowed, c->start_ok);
    casie__arg_gold(m, doc, ev, tb, te, b, e, c->gold);
    for (int i = b; i < e; i++) {
        float *x = f->nt.X + (size_t)(i - b) * D;
        casie__tokvec(&t->tf[r.doc][i], &m->emb, x);
        if (t->xv) memcpy(x + D0 - m->xdim, t->xv[r.doc] + (size_t)i * m->xdim, sizeof(float) * (size_t)m->xdim);
        casie__argvec_rel(i, tb, te, ev->subtype, c->is_trig[r.doc][i] && (i < tb || i >= te), x + D0);
    }
    c->ev = ev, c->tb = tb, c->te = te, c->b = b;
    return e - b;
}

/* Head 0 scores role slots per token from its states and the trigger's
 * last token's (a CRF); head 1 scores realis from the trigger's first and
 * last token's states (a softmax). */
static void arg_heads(void *ctx, net_fit *f, int n, double *loss, double *rloss) {
    arg_spans *c = ctx;
    const casie__nnet *nn = f->nt.n;
    const casie_event *ev = c->ev;
    const int L = CASIE_ARG_LABELS, H = nn->H, b = c->b, tb = c->tb, te = c->te;
    const int th = te - 1 - b, tf0 = tb - b; /* the trigger's last and first token */
    for (int i = 0; i < n; i++) {
        float *u = f->nt.U + (size_t)i * nn->U;
        memcpy(u, f->nt.Hs + (size_t)i * 2 * H, sizeof(float) * 2 * (size_t)H);
        memcpy(u + 2 * H, f->nt.Hs + (size_t)th * 2 * H, sizeof(float) * 2 * (size_t)H);
        casie__nn_train_head_fwd(&f->nt, i, 0, f->E + (size_t)i * L);
        if (i + b >= tb && i + b < te) /* an argument never overlaps its trigger */
            for (int l = 1; l < L; l++)
                f->E[(size_t)i * L + l] = -1e30f;
    }
    *loss += fit_crf(f, n, c->gold, c->allowed, c->start_ok);
    { /* realis: softmax over head 1 */
        float rs[CASIE_N_REALIS] = {0}, dr[CASIE_N_REALIS];
        float *u = f->nt.U + (size_t)n * nn->U;
        memcpy(u, f->nt.Hs + (size_t)tf0 * 2 * H, sizeof(float) * 2 * (size_t)H);
        memcpy(u + 2 * H, f->nt.Hs + (size_t)th * 2 * H, sizeof(float) * 2 * (size_t)H);
        casie__nn_train_head_fwd(&f->nt, n, 1, rs);
        float mx = rs[0], z = 0;
        for (int l = 1; l < CASIE_N_REALIS; l++)
            mx = rs[l] > mx ? rs[l] : mx;
        for (int l = 0; l < CASIE_N_REALIS; l++)
            z += (dr[l] = expf(rs[l] - mx));
        for (int l = 0; l < CASIE_N_REALIS; l++)
            dr[l] = dr[l] / z - (l == ev->realis);
        *rloss -= logf(dr[ev->realis] + 1.0f + 1e-12f);
        casie__nn_train_head_bwd(&f->nt, n, 1, dr, f->du);
        float *d0 = f->nt.dHs + (size_t)tf0 * 2 * H, *d1 = f->nt.dHs + (size_t)th * 2 * H;
        for (int j = 0; j < 2 * H; j++)
            d0[j] += f->du[j], d1[j] += f->du[2 * H + j];
    }
    for (int i = 0; i < n; i++) {
        if (i + b >= tb && i + b < te) continue;
        casie__nn_train_head_bwd(&f->nt, i, 0, f->dE + (size_t)i * L, f->du);
        float *dh = f->nt.dHs + (size_t)i * 2 * H, *dt = f->nt.dHs + (size_t)th * 2 * H;
        for (int j = 0; j < 2 * H; j++)
            dh[j] += f->du[j], dt[j] += f->du[2 * H + j];
    }
}

static int train_argument_net(trainer *t, int which) {
    const uint64_t seed = t->p->seed + (uint64_t)which * 1000003u;
    arg_spans c;
    memset(&c, 0, sizeof c);
    c.t = t;
    int n_ev = casie__collect_events(t, &c.evs), rc = CASIE_ERR_NOMEM;
    if (n_ev < 0) return CASIE_ERR_NOMEM;
    if ((c.is_trig = casie__trigger_tokens(t))) {
        const net_stage st = {which ? "arguments (network 2)" : "arguments (network)",
                              which ? &t->m->arg_nn2 : &t->m->arg_nn,
                              n_ev,
                              t->p->arg_nn_epochs,
                              seed * 2 + 3,
                              seed * 2 + 9,
                              1,
                              arg_metrics,
                              2,
                              "realis",
                              arg_fill,
                              arg_heads,
                              &c};
        rc = net_epochs(t, &st);
    }
    casie__trigger_tokens_free(t, c.is_trig);
    free(c.evs);
    return rc;
}

/* ---- a stage's networks, side by side ---- */

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
    if (!rc && j.t.rc) {
        rc = j.t.rc;
        t->err = j.t.err;
    }
    return rc;
}

int casie__train_trigger_nets(trainer *t) { return train_nets(t, train_trigger_net, t->m->trig_nn2.p != NULL); }

int casie__train_argument_nets(trainer *t) { return train_nets(t, train_argument_net, t->m->arg_nn2.p != NULL); }
