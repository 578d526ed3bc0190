/*
 * train_perc.c - the sparse half of every stage: averaged perceptrons over
 * hashed features.  The trigger and argument taggers are structured
 * perceptrons over BIO label sequences (one epoch loop serves both); entity
 * types, realis and coreference are multiclass perceptrons.
 *
 * Not here: the features (features.c), the networks (train_nn.c).
 */
#include "train.h"
#include "coref_feats.h"
#include "feats.h"
#include "tagging.h"
#include "linear.h"
#include "model.h"

#include <string.h>

/* One structured perceptron step on a sequence: decode, compare, update.
 * Returns the token errors, or -1 when out of memory. */
static int seq_step(casie__linear *m, const uint64_t *F, const int *off, int n, const int *gold, float *E, int *pred,
                    const uint8_t *allowed, const uint8_t *start_ok) {
    const int L = (int)m->n_labels;
    memset(E, 0, sizeof(float) * (size_t)n * L);
    for (int i = 0; i < n; i++)
        casie__linear_score(m, F + off[i], off[i + 1] - off[i], E + (size_t)i * L);
    if (casie__viterbi(m, E, n, allowed, start_ok, pred)) return -1;
    int wrong = 0;
    for (int i = 0; i < n; i++)
        wrong += pred[i] != gold[i];
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

/* A growing feature buffer: F holds every position's features. */
typedef struct fbuf {
    uint64_t *F;
    size_t n, cap;
} fbuf;

static int fbuf_reserve(fbuf *b, size_t more) {
    return casie__grow((void **)&b->F, &b->cap, b->n + more, sizeof(uint64_t));
}

/* ---- the sequence taggers' epochs ---- */

/* One training sequence: its tokens [b, e) of a document, their gold
 * labels (e - b) and the label masks to decode with. */
typedef struct seq_item {
    int b, e;
    const int *gold;
    const uint8_t *allowed, *start_ok;
} seq_item;

/* A structured perceptron stage: n_items sequences; begin makes item k
 * current (0: it is skipped), feats gives token i's features in it. */
typedef struct seq_stage {
    const char *name; /* in the log */
    casie__linear *lin;
    int n_items, own_epochs; /* this learner's own epochs parameter (used when epochs is 0) */
    uint64_t seed;           /* of the shuffles */
    int (*begin)(void *ctx, int k, seq_item *it);
    int (*feats)(void *ctx, int i, uint64_t *out);
    void *ctx;
} seq_stage;

/* The longest sentence of the training documents (at least 1). */
static int longest_sentence(const trainer *t) {
    int maxn = 1;
    for (int d = 0; d < t->n_docs; d++)
        for (int s = 0; s < t->docs[d]->n_sents; s++) {
            int n = t->docs[d]->sents[s].tok_end - t->docs[d]->sents[s].tok_begin;
            if (n > maxn) maxn = n;
        }
    return maxn;
}

/* Epochs of perceptron steps over the items in a fresh shuffled order each
 * time, then the averaged weights. */
static int seq_epochs(trainer *t, const seq_stage *st) {
    const int L = (int)st->lin->n_labels, maxn = longest_sentence(t);
    int rc = CASIE_ERR_NOMEM;
    int *order = malloc(sizeof(int) * ((size_t)st->n_items + 1)), *pred = malloc(sizeof(int) * (size_t)maxn);
    int *off = malloc(sizeof(int) * ((size_t)maxn + 1));
    float *E = malloc(sizeof(float) * (size_t)maxn * L);
    fbuf fb = {0};
    if (!order || !pred || !off || !E) goto done;
    for (int i = 0; i < st->n_items; i++)
        order[i] = i;
    uint64_t rng = st->seed;
    int epochs = casie__epochs_or(t, st->own_epochs);
    for (int ep = 0; ep < epochs; ep++) {
        casie__shuffle(order, st->n_items, &rng);
        long wrong = 0, total = 0;
        for (int it = 0; it < st->n_items; it++) {
            seq_item s;
            if (!st->begin(st->ctx, order[it], &s)) continue;
            int n = s.e - s.b;
            fb.n = 0;
            for (int i = s.b; i < s.e; i++) {
                if (fbuf_reserve(&fb, CASIE_MAX_FEATS)) goto done;
                off[i - s.b] = (int)fb.n;
                fb.n += (size_t)st->feats(st->ctx, i, fb.F + fb.n);
            }
            off[n] = (int)fb.n;
            int w = seq_step(st->lin, fb.F, off, n, s.gold, E, pred, s.allowed, s.start_ok);
            if (w < 0) goto done; /* out of memory */
            wrong += w;
            total += n;
        }
        casie__train_log(t, "%s: epoch %d/%d, token errors %ld of %ld (%.2f%%)", st->name, ep + 1, epochs, wrong, total,
                         100.0 * (double)wrong / (double)(total ? total : 1));
    }
    casie__linear_finish(st->lin);
    rc = CASIE_OK;
done:
    free(order);
    free(pred);
    free(off);
    free(E);
    free(fb.F);
    return rc;
}

/* ---- triggers: one item per sentence ---- */

typedef struct trig_items {
    const trainer *t;
    int *item_doc, *item_sent; /* (n_items,) */
    int **gold;                /* (n_docs,) each (n_tokens,) */
    uint8_t allowed[CASIE_TRIG_LABELS * CASIE_TRIG_LABELS], start_ok[CASIE_TRIG_LABELS];
    const casie__tokfeat *tf; /* the current item's */
    int b, e;
} trig_items;

static int trig_begin(void *ctx, int k, seq_item *it) {
    trig_items *c = ctx;
    const casie_doc *doc = c->t->docs[c->item_doc[k]];
    const casie_sentence *se = &doc->sents[c->item_sent[k]];
    c->b = it->b = se->tok_begin, c->e = it->e = se->tok_end;
    c->tf = c->t->tf[c->item_doc[k]];
    it->gold = c->gold[c->item_doc[k]] + it->b;
    it->allowed = c->allowed, it->start_ok = c->start_ok;
    return it->e > it->b;
}

static int trig_feats(void *ctx, int i, uint64_t *out) {
    const trig_items *c = ctx;
    return casie__trig_feats(c->tf, c->b, c->e, i, c->t->m->trig.fv, out);
}

int casie__train_triggers_perc(trainer *t) {
    trig_items c = {t, NULL, NULL, NULL, {0}, {0}, NULL, 0, 0};
    casie__trig_masks(c.allowed, c.start_ok);
    int n_items = 0, rc = CASIE_ERR_NOMEM, k = 0;
    for (int d = 0; d < t->n_docs; d++)
        n_items += t->docs[d]->n_sents;
    c.item_doc = malloc(sizeof(int) * ((size_t)n_items + 1));
    c.item_sent = malloc(sizeof(int) * ((size_t)n_items + 1));
    c.gold = casie__trigger_golds(t);
    if (c.item_doc && c.item_sent && c.gold) {
        for (int d = 0; d < t->n_docs; d++)
            for (int s = 0; s < t->docs[d]->n_sents; s++)
                c.item_doc[k] = d, c.item_sent[k] = s, k++;
        const seq_stage st = {"triggers",         &t->m->trig, n_items,    t->p->trig_epochs,
                              t->p->seed * 2 + 1, trig_begin,  trig_feats, &c};
        rc = seq_epochs(t, &st);
    }
    casie__trigger_golds_free(t, c.gold);
    free(c.item_doc);
    free(c.item_sent);
    return rc;
}

/* ---- arguments: one item per gold event, over the role slots of its subtype ---- */

typedef struct arg_items {
    const trainer *t;
    evref *evs;        /* (n_items,) */
    uint8_t **is_trig; /* (n_docs,) casie__trigger_tokens */
    int *gold;         /* (longest sentence,) the current item's */
    uint8_t allowed[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start_ok[CASIE_ARG_LABELS];
    casie__arg_ctx ac; /* the current item's */
} arg_items;

static int arg_begin(void *ctx, int k, seq_item *it) {
    arg_items *c = ctx;
    const trainer *t = c->t;
    evref r = c->evs[k];
    const casie_doc *doc = t->docs[r.doc];
    const casie_event *ev = casie__ev_at(t, r);
    int tb, te;
    if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) return 0;
    casie__arg_window(doc, tb, &te, &it->b, &it->e);
    casie__arg_masks(t->m, ev->subtype, c->allowed, c->start_ok);
    casie__arg_gold(t->m, doc, ev, tb, te, it->b, it->e, c->gold);
    c->ac = (casie__arg_ctx){t->tf[r.doc], it->b, it->e, tb, te, ev->subtype, c->is_trig[r.doc]};
    it->gold = c->gold;
    it->allowed = c->allowed, it->start_ok = c->start_ok;
    return 1;
}

static int arg_feats(void *ctx, int i, uint64_t *out) { return casie__arg_feats(&((arg_items *)ctx)->ac, i, out); }

int casie__train_args_perc(trainer *t) {
    arg_items c;
    memset(&c, 0, sizeof c);
    c.t = t;
    int n_ev = casie__collect_events(t, &c.evs), rc = CASIE_ERR_NOMEM;
    if (n_ev < 0) return CASIE_ERR_NOMEM;
    c.gold = malloc(sizeof(int) * (size_t)longest_sentence(t));
    c.is_trig = casie__trigger_tokens(t);
    if (c.gold && c.is_trig) {
        const seq_stage st = {"arguments",        &t->m->arg, n_ev,      t->p->arg_epochs,
                              t->p->seed * 2 + 3, arg_begin,  arg_feats, &c};
        rc = seq_epochs(t, &st);
    }
    casie__trigger_tokens_free(t, c.is_trig);
    free(c.evs);
    free(c.gold);
    return rc;
}

/* ---- entity types, realis, coreference ---- */

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
 * on the gold arguments (and the encoder's vectors, when the model has an
 * encoder). */
static int train_coref(trainer *t, casie__linear *m) {
    uint64_t f[CASIE_COREF_FEATS];
    const int epochs = casie__epochs_or(t, t->p->coref_epochs);
    for (int ep = 0; ep < epochs; ep++) {
        long w = 0, tot = 0;
        for (int d = 0; d < t->n_docs; d++) {
            const casie_doc *doc = t->docs[d];
            casie__coref_vecs cv;
            if (casie__coref_vecs_init(&cv, doc, casie__coref_xv(t->m, t->xv ? t->xv[d] : NULL), t->m->xdim))
                return CASIE_ERR_NOMEM;
            for (int h1 = 0; h1 < doc->n_hoppers; h1++)
                for (int i1 = 0; i1 < doc->hoppers[h1].n_events; i1++)
                    for (int h2 = h1; h2 < doc->n_hoppers; h2++)
                        for (int i2 = (h2 == h1 ? i1 + 1 : 0); i2 < doc->hoppers[h2].n_events; i2++) {
                            const casie_event *a = &doc->hoppers[h1].events[i1], *b = &doc->hoppers[h2].events[i2];
                            if (a->start > b->start) {
                                const casie_event *x = a;
                                a = b, b = x;
                            }
                            int nf = casie__coref_feats(doc, t->tf[d], &cv, a, b, f);
                            if (!nf) continue;
                            w += class_step(m, f, nf, h1 == h2);
                            tot++;
                        }
            casie__coref_vecs_free(&cv);
        }
        casie__train_log(t, "coreference: epoch %d/%d, pair errors %ld of %ld", ep + 1, epochs, w, tot);
    }
    casie__linear_finish(m);
    return CASIE_OK;
}

/* Entity types and realis: multiclass perceptrons over the gold events and
 * their arguments; then coreference. */
int casie__train_classifiers(trainer *t) {
    casie_model *m = t->m;
    evref *evs = NULL;
    int n_ev = casie__collect_events(t, &evs), rc = CASIE_ERR_NOMEM;
    int *order = NULL;
    uint64_t f[CASIE_MAX_FEATS];
    if (n_ev < 0) return CASIE_ERR_NOMEM;
    if (!(order = malloc(sizeof(int) * ((size_t)n_ev + 1)))) goto done;
    for (int i = 0; i < n_ev; i++)
        order[i] = i;
    uint64_t rng = t->p->seed * 2 + 5;
    int epochs = casie__epochs_or(t, t->p->ent_realis_epochs);
    for (int ep = 0; ep < epochs; ep++) {
        casie__shuffle(order, n_ev, &rng);
        long ew = 0, et = 0, rw = 0, rt = 0;
        for (int it = 0; it < n_ev; it++) {
            evref r = evs[order[it]];
            const casie_doc *doc = t->docs[r.doc];
            const casie_event *ev = casie__ev_at(t, r);
            int tb, te;
            if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) continue;
            int s = doc->tokens[tb].sent;
            int nf = casie__realis_feats(t->tf[r.doc], doc->sents[s].tok_begin, doc->sents[s].tok_end, tb, te,
                                         ev->subtype, m->realis.fv, f);
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
        casie__train_log(t, "realis (sparse): epoch %d/%d, errors %ld of %ld; entity types: errors %ld of %ld", ep + 1,
                         epochs, rw, rt, ew, et);
    }
    casie__linear_finish(&m->realis);
    casie__linear_finish(&m->ent);
    rc = train_coref(t, &m->coref);
done:
    free(evs);
    free(order);
    return rc;
}
