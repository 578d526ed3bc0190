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

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Table sizes (rows are powers of two; see docs/FORMAT.md for the layout). */
#define TRIG_ROWS (1u << 17)
#define ARG_ROWS (1u << 17)
#define ENT_ROWS (1u << 16)
#define REALIS_ROWS (1u << 15)
#define COREF_ROWS (1u << 14)

casie_train_params casie_train_default_params(void) {
    casie_train_params p;
    memset(&p, 0, sizeof p);
    p.seed = 1;
    p.threads = 2;
    p.runs = 1;
    return p;
}

typedef struct trainer {
    casie_model *m;
    casie_doc *const *docs;
    int n_docs;
    casie__tokfeat **tf; /* (n_docs,) */
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

/* A small deterministic generator (xorshift64*) for shuffling. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}
static void shuffle(int *a, int n, uint64_t *s) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_next(s) % (uint64_t)(i + 1));
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

/* ---- triggers ---- */

static int train_triggers(trainer *t) {
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
        if (!(gold[d] = calloc((size_t)doc->n_tokens + 1, sizeof(int)))) goto done;
        for (int h = 0; h < doc->n_hoppers; h++)
            for (int i = 0; i < doc->hoppers[h].n_events; i++) {
                const casie_event *ev = &doc->hoppers[h].events[i];
                int tb, te, clash = 0;
                if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) continue;
                for (int x = tb; x < te; x++) clash |= gold[d][x] != 0;
                if (clash || doc->tokens[tb].sent != doc->tokens[te - 1].sent) continue;
                gold[d][tb] = 1 + 2 * ev->subtype;
                for (int x = tb + 1; x < te; x++) gold[d][x] = 2 + 2 * ev->subtype;
            }
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

static int train_arguments(trainer *t) {
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
    is_trig = calloc((size_t)t->n_docs + 1, sizeof(uint8_t *));
    if (!order || !gold || !pred || !off || !E || !is_trig) goto done;
    for (int d = 0; d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        if (!(is_trig[d] = calloc((size_t)doc->n_tokens + 1, 1))) goto done;
        for (int h = 0; h < doc->n_hoppers; h++)
            for (int i = 0; i < doc->hoppers[h].n_events; i++) {
                int tb, te;
                if (casie__span_tokens(doc, doc->hoppers[h].events[i].start, doc->hoppers[h].events[i].end, &tb, &te))
                    for (int x = tb; x < te; x++) is_trig[d][x] = 1;
            }
    }
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
            int s = doc->tokens[tb].sent, b = doc->sents[s].tok_begin, e = doc->sents[s].tok_end;
            if (te > e) te = e;
            if (b < tb - CASIE_ARG_WINDOW) b = tb - CASIE_ARG_WINDOW;
            if (e > te + CASIE_ARG_WINDOW) e = te + CASIE_ARG_WINDOW;
            int n = e - b;
            uint8_t allowed[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start_ok[CASIE_ARG_LABELS];
            casie__arg_masks(m, ev->subtype, allowed, start_ok);
            for (int i = 0; i < n; i++) gold[i] = 0;
            for (int a = 0; a < ev->n_args; a++) {
                int ab, ae, slot = slot_of(m, ev->subtype, ev->args[a].role), clash = 0;
                if (slot < 0 || !casie__span_tokens(doc, ev->args[a].start, ev->args[a].end, &ab, &ae)) continue;
                if (ab < b || ae > e) continue; /* outside the sentence: not learnable here */
                for (int x = ab; x < ae; x++) clash |= gold[x - b] != 0 || (x >= tb && x < te);
                if (clash) continue;
                gold[ab - b] = 1 + 2 * slot;
                for (int x = ab + 1; x < ae; x++) gold[x - b] = 2 + 2 * slot;
            }
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
        logf_(t, "realis: epoch %d/%d, errors %ld of %ld; entity types: errors %ld of %ld", ep + 1, epochs, rw, rt,
              ew, et);
    }
    casie__linear_finish(&m->realis);
    casie__linear_finish(&m->ent);
    /* coreference: every pair of events in a document */
    epochs = epochs_or(t, 6);
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
                            w += class_step(&m->coref, f, nf, h1 == h2);
                            tot++;
                        }
        }
        logf_(t, "coreference: epoch %d/%d, pair errors %ld of %ld", ep + 1, epochs, w, tot);
    }
    casie__linear_finish(&m->coref);
    rc = CASIE_OK;
done:
    free(evs);
    free(order);
    return rc;
}

static void *trig_thread(void *arg) {
    trainer *t = arg;
    t->rc = train_triggers(t);
    return NULL;
}

/* ---- clusters ---- */

static int load_clusters(casie_model *m, const char *path, casie_error *err) {
    size_t len;
    char *buf = casie__read_file(path, &len, err);
    if (!buf) return err ? err->code : CASIE_ERR_IO;
    long lines = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    uint32_t n = 1024;
    while ((uint64_t)n * 3 < (uint64_t)lines * 4) n *= 2; /* load at most 0.75 */
    casie__cluster_entry *slots = calloc(n, sizeof *slots);
    if (!slots) {
        free(buf);
        return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    }
    char *p = buf, *end = buf + len;
    long lineno = 0;
    while (p < end) {
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
        } else if (nl > p) {
            free(buf);
            free(slots);
            return casie__error(err, CASIE_ERR_PARSE, lineno, "%s:%ld: expected word and three cluster ids, tab-separated", path,
                                lineno);
        }
        p = nl + 1;
    }
    free(buf);
    m->clusters_owned = slots;
    m->clusters.slots = slots;
    m->clusters.n_slots = n;
    return CASIE_OK;
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

int casie__model_alloc(casie_model **out, int training);

/* Trains every stage of t->m once (triggers on a second thread when allowed). */
static int train_run(trainer *t) {
    int rc;
    if (t->p->threads >= 2) {
        trainer t2 = *t;
        pthread_t th;
        if (pthread_create(&th, NULL, trig_thread, &t2)) {
            rc = train_triggers(t);
            if (!rc) rc = train_arguments(t);
            if (!rc) rc = train_classifiers(t);
        } else {
            rc = train_arguments(t);
            if (!rc) rc = train_classifiers(t);
            pthread_join(th, NULL);
            if (!rc) rc = t2.rc;
        }
    } else {
        rc = train_triggers(t);
        if (!rc) rc = train_arguments(t);
        if (!rc) rc = train_classifiers(t);
    }
    return rc;
}

/* F1 of one metric over dev documents, extracting with the model as it is
 * (given_triggers: on copies of the gold documents, else on the text). */
static int dev_f1(const casie_model *m, casie_doc *const *dev, int n_dev, int metric, int given, double *f1,
                  casie_error *err) {
    casie_eval *ev = casie_eval_new();
    casie_extract_params xp = casie_extract_default_params();
    xp.given_triggers = given;
    int rc = ev ? CASIE_OK : CASIE_ERR_NOMEM;
    for (int i = 0; i < n_dev && !rc; i++) {
        casie_doc *d = NULL;
        if (given) {
            size_t len;
            char *js = casie_doc_to_json(dev[i], CASIE_JSON_COMPACT, &len, err);
            if (js) d = casie_doc_from_json(js, len, dev[i]->id, err);
            casie_free(js);
        } else {
            d = casie_doc_from_text(dev[i]->text, dev[i]->text_len, dev[i]->id, err);
        }
        if (!d) rc = err && err->code ? err->code : CASIE_ERR_NOMEM;
        if (!rc) rc = casie_extract(m, d, &xp, err);
        if (!rc) rc = casie_eval_add(ev, dev[i], d, err);
        casie_doc_free(d);
    }
    double p, r;
    if (!rc) casie_prf(casie_eval_counts(ev, metric, -1, -1), &p, &r, f1);
    casie_eval_free(ev);
    return rc;
}

/* Brier score of the trigger (stage 0) or argument (stage 1) confidences on
 * dev: mean (score - correct)^2, correct meaning an exact gold match. */
static int dev_brier(const casie_model *m, casie_doc *const *dev, int n_dev, int stage, double *brier,
                     casie_error *err) {
    double sum = 0;
    long n = 0;
    int rc = CASIE_OK;
    casie_extract_params xp = casie_extract_default_params();
    for (int i = 0; i < n_dev && !rc; i++) {
        const casie_doc *g = dev[i];
        casie_doc *d = casie_doc_from_text(g->text, g->text_len, g->id, err);
        if (!d) return err && err->code ? err->code : CASIE_ERR_NOMEM;
        rc = casie_extract(m, d, &xp, err);
        for (int h = 0; !rc && h < d->n_hoppers; h++)
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
        casie_doc_free(d);
    }
    *brier = n ? sum / (double)n : 0;
    return rc;
}

/* Picks the decoding biases that maximise trig_c (end to end) and arg_c
 * (given gold triggers) on the dev documents. */
static int tune_biases(trainer *t, casie_doc *const *dev, int n_dev, casie_error *err) {
    static const float GRID[] = {0.0f, 2.0f, 4.0f, 6.0f, 8.0f, 12.0f, 16.0f, 24.0f};
    casie_model *m = t->m;
    for (int stage = 0; stage < 2; stage++) {
        float best_b = 0;
        double best = -1;
        for (size_t g = 0; g < sizeof GRID / sizeof GRID[0]; g++) {
            double f1;
            if (stage == 0) m->trig_bias = GRID[g];
            else m->arg_bias = GRID[g];
            int rc = dev_f1(m, dev, n_dev, stage == 0 ? CASIE_METRIC_TRIG_C : CASIE_METRIC_ARG_C, stage == 1, &f1, err);
            if (rc) return rc;
            logf_(t, "tuning %s bias %.2f: dev %s %.2f", stage == 0 ? "trigger" : "argument", (double)GRID[g],
                  stage == 0 ? "trig_c" : "arg_c (given triggers)", f1);
            if (f1 > best) best = f1, best_b = GRID[g];
        }
        if (stage == 0) m->trig_bias = best_b;
        else m->arg_bias = best_b;
    }
    /* confidence calibration: the softmax scale with the best Brier score */
    static const float TEMPS[] = {0.25f, 0.12f, 0.06f, 0.03f, 0.015f, 0.008f, 0.004f};
    for (int stage = 0; stage < 2; stage++) {
        float best_t = 1.0f;
        double best = 1e9;
        for (size_t g = 0; g < sizeof TEMPS / sizeof TEMPS[0]; g++) {
            double b;
            if (stage == 0) m->trig_temp = TEMPS[g];
            else m->arg_temp = TEMPS[g];
            int rc = dev_brier(m, dev, n_dev, stage, &b, err);
            if (rc) return rc;
            logf_(t, "calibrating %s confidence, scale %.3f: Brier score %.4f", stage == 0 ? "trigger" : "argument",
                  (double)TEMPS[g], b);
            if (b < best) best = b, best_t = TEMPS[g];
        }
        if (stage == 0) m->trig_temp = best_t;
        else m->arg_temp = best_t;
    }
    return CASIE_OK;
}

casie_model *casie_train(casie_doc *const *train, int n_train, casie_doc *const *dev, int n_dev,
                         const casie_train_params *params, casie_error *err) {
    casie_train_params p = params ? *params : casie_train_default_params();
    casie_model *m = NULL;
    trainer t = {0};
    if (!train || n_train <= 0) {
        casie__error(err, CASIE_ERR_EMPTY, -1, "no training documents");
        return NULL;
    }
    if (p.threads < 1 || p.threads > 64) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "threads must be 1..64, not %d", p.threads);
        return NULL;
    }
    if (p.runs < 1 || p.runs > 64) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "runs must be 1..64, not %d", p.runs);
        return NULL;
    }
    if (p.epochs < 0 || p.epochs > 1000) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "epochs must be 0..1000, not %d", p.epochs);
        return NULL;
    }
    if (casie__model_alloc(&m, 1)) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory allocating the model");
        return NULL;
    }
    t.m = m;
    t.docs = train;
    t.n_docs = n_train;
    t.p = &p;
    clock_gettime(CLOCK_MONOTONIC, &t.t0);
    if (p.clusters && load_clusters(m, p.clusters, err)) goto fail;
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
    choose_slots(&t);
    int rc = CASIE_OK;
    for (int r = 0; r < p.runs && !rc; r++) {
        casie_train_params pr = p;
        pr.seed = p.seed + (uint64_t)r;
        trainer tr = t;
        tr.p = &pr;
        if (r > 0) { /* a further run: a fresh model sharing the slots and clusters */
            if (casie__model_alloc(&tr.m, 1)) goto nomem;
            memcpy(tr.m->n_slots, m->n_slots, sizeof m->n_slots);
            memcpy(tr.m->slot_role, m->slot_role, sizeof m->slot_role);
            tr.m->clusters = m->clusters;
            logf_(&t, "run %d of %d (seed %llu)", r + 1, p.runs, (unsigned long long)pr.seed);
        }
        rc = train_run(&tr);
        if (r > 0) {
            if (!rc) {
                casie__linear_add(&m->trig, &tr.m->trig);
                casie__linear_add(&m->arg, &tr.m->arg);
                casie__linear_add(&m->ent, &tr.m->ent);
                casie__linear_add(&m->realis, &tr.m->realis);
                casie__linear_add(&m->coref, &tr.m->coref);
            }
            casie_model_free(tr.m);
        }
    }
    if (rc) goto nomem;
    if (p.runs > 1) {
        float k = 1.0f / (float)p.runs;
        casie__linear_scale(&m->trig, k);
        casie__linear_scale(&m->arg, k);
        casie__linear_scale(&m->ent, k);
        casie__linear_scale(&m->realis, k);
        casie__linear_scale(&m->coref, k);
    }
    /* predictions of this model and of its saved file are the same */
    casie__linear_round_bf16(&m->trig);
    casie__linear_round_bf16(&m->arg);
    casie__linear_round_bf16(&m->ent);
    casie__linear_round_bf16(&m->realis);
    casie__linear_round_bf16(&m->coref);
    if (dev && n_dev > 0 && (rc = tune_biases(&t, dev, n_dev, err))) goto fail;
    char meta[1024];
    snprintf(meta, sizeof meta,
             "{\"casie_version\":\"%s\",\"seed\":%llu,\"runs\":%d,\"epochs\":%d,\"n_train\":%d,\"n_dev\":%d,"
             "\"train_hash\":\"%016llx\",\"dev_hash\":\"%016llx\",\"corpus\":\"%s\",\"clusters\":%s,"
             "\"trig_bias\":%.2f,\"arg_bias\":%.2f,"
             "\"rows\":{\"trig\":%u,\"arg\":%u,\"ent\":%u,\"realis\":%u,\"coref\":%u}}",
             CASIE_VERSION_STRING, (unsigned long long)p.seed, p.runs, p.epochs, n_train, n_dev,
             (unsigned long long)corpus_hash(train, n_train),
             (unsigned long long)(dev && n_dev > 0 ? corpus_hash(dev, n_dev) : 0),
             p.corpus_tag ? p.corpus_tag : "", p.clusters ? "true" : "false", (double)m->trig_bias,
             (double)m->arg_bias, m->trig.n_rows, m->arg.n_rows,
             m->ent.n_rows, m->realis.n_rows, m->coref.n_rows);
    for (char *c = meta; *c; c++) /* a corpus tag is a path: keep the JSON valid */
        if (*c == '\\' || (unsigned char)*c < 0x20) *c = '_';
    if (!(m->meta = casie__strdup(meta))) goto nomem;
    logf_(&t, "training done");
    for (int d = 0; d < n_train; d++) free(t.tf[d]);
    free(t.tf);
    return m;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory while training");
fail:
    if (t.tf)
        for (int d = 0; d < n_train; d++) free(t.tf[d]);
    free(t.tf);
    casie_model_free(m);
    return NULL;
}

int casie__model_alloc(casie_model **out, int training) {
    casie_model *m = calloc(1, sizeof *m);
    if (!m) return CASIE_ERR_NOMEM;
    if (casie__linear_init(&m->trig, TRIG_ROWS, CASIE_TRIG_LABELS, 1, training) ||
        casie__linear_init(&m->arg, ARG_ROWS, CASIE_ARG_LABELS, 1, training) ||
        casie__linear_init(&m->ent, ENT_ROWS, CASIE_N_ENTITY_TYPES, 0, training) ||
        casie__linear_init(&m->realis, REALIS_ROWS, CASIE_N_REALIS, 0, training) ||
        casie__linear_init(&m->coref, COREF_ROWS, 2, 0, training)) {
        casie_model_free(m);
        return CASIE_ERR_NOMEM;
    }
    m->trig_temp = m->arg_temp = 1.0f;
    *out = m;
    return CASIE_OK;
}
