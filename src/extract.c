/*
 * extract.c - running a model over a document: triggers (sequence tagging),
 * arguments (sequence tagging per trigger), entity types, realis, and
 * coreference into hoppers.
 *
 * Not here: training (train.c), the model file (model.c).  Everything here is
 * read-only on the model, so one model serves many threads.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

#define NEG (-1e30f)

casie_extract_params casie_extract_default_params(void) {
    casie_extract_params p = {0.0f, 0.0f, 0};
    return p;
}

int casie__span_tokens(const casie_doc *doc, int32_t s, int32_t e, int *tb, int *te) {
    int lo = 0, hi = doc->n_tokens;
    while (lo < hi) { /* first token ending after s */
        int mid = (lo + hi) / 2;
        if (doc->tokens[mid].end <= s) lo = mid + 1;
        else hi = mid;
    }
    int b = lo, k = lo;
    while (k < doc->n_tokens && doc->tokens[k].start < e) k++;
    if (k <= b) return 0;
    *tb = b;
    *te = k;
    return 1;
}

/* ---- label structure ---- */

/* BIO: I-x may follow only B-x or I-x.  Labels: 0 = O, 1+2k = B-k, 2+2k = I-k. */
static void bio_masks(int n_types, int L, uint8_t *allowed, uint8_t *start_ok) {
    for (int p = 0; p < L; p++)
        for (int l = 0; l < L; l++) {
            int ok = 1;
            if (l > 0 && (l - 1) % 2 == 1) { /* I-k */
                int k = (l - 1) / 2;
                ok = (p == 1 + 2 * k || p == 2 + 2 * k);
            }
            if (l > 0 && (l - 1) / 2 >= n_types) ok = 0;
            if (p > 0 && (p - 1) / 2 >= n_types) ok = 0;
            allowed[p * L + l] = (uint8_t)ok;
        }
    for (int l = 0; l < L; l++) start_ok[l] = (uint8_t)(l == 0 || ((l - 1) % 2 == 0 && (l - 1) / 2 < n_types));
}

void casie__trig_masks(uint8_t *allowed, uint8_t *start_ok) {
    bio_masks(CASIE_N_SUBTYPES, CASIE_TRIG_LABELS, allowed, start_ok);
}

void casie__arg_masks(const casie_model *m, int subtype, uint8_t *allowed, uint8_t *start_ok) {
    bio_masks(m->n_slots[subtype], CASIE_ARG_LABELS, allowed, start_ok);
}

/* ---- building events ---- */

typedef struct evlist {
    casie_event *ev;
    int n, cap;
} evlist;

static int evlist_push(evlist *l, casie_event *e) {
    size_t cap = (size_t)l->cap;
    if (casie__grow((void **)&l->ev, &cap, (size_t)l->n + 1, sizeof(casie_event))) return CASIE_ERR_NOMEM;
    l->cap = (int)cap;
    l->ev[l->n++] = *e;
    return CASIE_OK;
}

/* Spans of a BIO label sequence: calls back with [b, e) token range and type. */
typedef struct span {
    int b, e, type;
    float score;
} span;

static int bio_spans(const int *lab, const float *P, int L, int n, span *out) {
    int ns = 0;
    for (int i = 0; i < n;) {
        if (lab[i] == 0 || (lab[i] - 1) % 2 == 1) {
            i++;
            continue;
        }
        int k = (lab[i] - 1) / 2, j = i + 1;
        float sc = P ? P[i * L + lab[i]] : 1.0f;
        while (j < n && lab[j] == 2 + 2 * k) {
            if (P && P[j * L + lab[j]] < sc) sc = P[j * L + lab[j]];
            j++;
        }
        out[ns++] = (span){i, j, k, sc};
        i = j;
    }
    return ns;
}

/* Buffers for tagging one token range: emissions, marginals, labels, spans;
 * sized once per document for its longest sentence and the widest label set. */
typedef struct scratch {
    float *E;   /* (n, L) emission scores */
    float *P;   /* (n, L) marginals */
    int *lab;   /* (n,) */
    span *sp;   /* (n,) */
} scratch;

static int scratch_alloc(scratch *s, const casie_doc *doc) {
    size_t n = 1;
    for (int k = 0; k < doc->n_sents; k++) {
        size_t len = (size_t)(doc->sents[k].tok_end - doc->sents[k].tok_begin);
        if (len > n) n = len;
    }
    const size_t L = CASIE_ARG_LABELS > CASIE_TRIG_LABELS ? CASIE_ARG_LABELS : CASIE_TRIG_LABELS;
    s->E = malloc(sizeof(float) * n * L);
    s->P = malloc(sizeof(float) * n * L);
    s->lab = malloc(sizeof(int) * n);
    s->sp = malloc(sizeof(span) * n);
    return s->E && s->P && s->lab && s->sp ? CASIE_OK : CASIE_ERR_NOMEM;
}

static void scratch_free(scratch *s) {
    free(s->E);
    free(s->P);
    free(s->lab);
    free(s->sp);
}

/* Decodes s->E (n tokens) into labelled spans with confidence scores in
 * s->sp; returns how many, or CASIE_ERR_NOMEM. */
static int tag_spans(const casie__linear *m, scratch *s, int n, const uint8_t *allowed, const uint8_t *start_ok,
                     float temp) {
    if (casie__viterbi(m, s->E, n, allowed, start_ok, s->lab)) return CASIE_ERR_NOMEM;
    int any = 0;
    for (int i = 0; i < n; i++) any |= s->lab[i];
    if (!any) return 0;
    if (casie__marginals(m, s->E, n, allowed, start_ok, temp, s->P)) return CASIE_ERR_NOMEM;
    return bio_spans(s->lab, s->P, (int)m->n_labels, n, s->sp);
}

/* Triggers of one document (a flat list, one hopper per event for now). */
static int find_triggers(const casie_model *m, casie_doc *doc, const casie__tokfeat *tf, float threshold,
                         scratch *sc, evlist *out) {
    const int L = CASIE_TRIG_LABELS;
    uint64_t feats[CASIE_MAX_FEATS];
    uint8_t allowed[CASIE_TRIG_LABELS * CASIE_TRIG_LABELS], start_ok[CASIE_TRIG_LABELS];
    casie__trig_masks(allowed, start_ok);
    for (int s = 0; s < doc->n_sents; s++) {
        int b = doc->sents[s].tok_begin, e = doc->sents[s].tok_end, n = e - b;
        if (n <= 0) continue;
        memset(sc->E, 0, sizeof(float) * (size_t)n * L);
        for (int i = b; i < e; i++) {
            int nf = casie__trig_feats(tf, b, e, i, feats);
            float *row = sc->E + (size_t)(i - b) * L;
            casie__linear_score(&m->trig, feats, nf, row);
            for (int l = 1; l < L; l++) row[l] += m->trig_bias;
        }
        int ns = tag_spans(&m->trig, sc, n, allowed, start_ok, m->trig_temp);
        if (ns < 0) return ns;
        for (int k = 0; k < ns; k++) {
            const span *sp = &sc->sp[k];
            if (sp->score < threshold) continue;
            casie_event ev = {0};
            ev.subtype = sp->type;
            ev.realis = CASIE_REALIS_ACTUAL;
            ev.start = doc->tokens[b + sp->b].start;
            ev.end = doc->tokens[b + sp->e - 1].end;
            ev.score = sp->score;
            if (!(ev.text = casie__doc_substr(doc, ev.start, ev.end)) || evlist_push(out, &ev)) {
                free(ev.text);
                return CASIE_ERR_NOMEM;
            }
        }
    }
    return CASIE_OK;
}

/* ---- arguments, entity types, realis ---- */

static int find_arguments(const casie_model *m, const casie_doc *doc, const casie__tokfeat *tf, const uint8_t *is_trig,
                          scratch *sc, casie_event *ev, float threshold) {
    const int L = CASIE_ARG_LABELS;
    int tb, te;
    if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) return CASIE_OK;
    int s = doc->tokens[tb].sent;
    int b = doc->sents[s].tok_begin, e = doc->sents[s].tok_end;
    if (te > e) te = e;
    if (b < tb - CASIE_ARG_WINDOW) b = tb - CASIE_ARG_WINDOW;
    if (e > te + CASIE_ARG_WINDOW) e = te + CASIE_ARG_WINDOW;
    int n = e - b;
    uint64_t feats[CASIE_MAX_FEATS];
    uint8_t allowed[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start_ok[CASIE_ARG_LABELS];
    casie__arg_masks(m, ev->subtype, allowed, start_ok);
    memset(sc->E, 0, sizeof(float) * (size_t)n * L);
    casie__arg_ctx c = {tf, b, e, tb, te, ev->subtype, is_trig};
    for (int i = b; i < e; i++) {
        float *row = sc->E + (size_t)(i - b) * L;
        if (i >= tb && i < te) { /* an argument never overlaps its trigger */
            for (int l = 1; l < L; l++) row[l] = NEG;
            continue;
        }
        int nf = casie__arg_feats(&c, i, feats);
        casie__linear_score(&m->arg, feats, nf, row);
        for (int l = 1; l < L; l++) row[l] += m->arg_bias;
    }
    int ns = tag_spans(&m->arg, sc, n, allowed, start_ok, m->arg_temp);
    if (ns <= 0) return ns;
    if (!(ev->args = calloc((size_t)ns, sizeof(casie_arg)))) return CASIE_ERR_NOMEM;
    for (int k = 0; k < ns; k++) {
        const span *sp = &sc->sp[k];
        if (sp->score < threshold) continue;
        casie_arg *a = &ev->args[ev->n_args];
        int ab = b + sp->b, ae = b + sp->e;
        a->role = m->slot_role[ev->subtype][sp->type];
        a->start = doc->tokens[ab].start;
        a->end = doc->tokens[ae - 1].end;
        a->score = sp->score;
        float es[CASIE_N_ENTITY_TYPES] = {0};
        int nf = casie__ent_feats(tf, doc->n_tokens, ab, ae, a->role, ev->subtype, feats);
        casie__linear_score(&m->ent, feats, nf, es);
        int best = 0;
        for (int t = 1; t < CASIE_N_ENTITY_TYPES; t++)
            if (es[t] > es[best]) best = t;
        a->entity = best;
        if (!(a->text = casie__doc_substr(doc, a->start, a->end))) return CASIE_ERR_NOMEM;
        ev->n_args++;
    }
    return CASIE_OK;
}

static void find_realis(const casie_model *m, const casie_doc *doc, const casie__tokfeat *tf, casie_event *ev) {
    int tb, te;
    if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) return;
    int s = doc->tokens[tb].sent;
    uint64_t feats[CASIE_MAX_FEATS];
    int nf = casie__realis_feats(tf, doc->sents[s].tok_begin, doc->sents[s].tok_end, tb, te, ev->subtype, feats);
    float sc[CASIE_N_REALIS] = {0};
    casie__linear_score(&m->realis, feats, nf, sc);
    int best = 0;
    for (int r = 1; r < CASIE_N_REALIS; r++)
        if (sc[r] > sc[best]) best = r;
    ev->realis = best;
}

/* ---- coreference ---- */

static uint64_t dist_bucket(int d) {
    if (d < 0) d = -d;
    return d <= 3 ? (uint64_t)d : d <= 6 ? 4 : d <= 12 ? 5 : 6;
}

int casie__coref_feats(const casie_doc *doc, const casie__tokfeat *tf, const casie_event *a, const casie_event *b,
                       uint64_t *out) {
    int n = 0, ab, ae, bb, be;
    if (!casie__span_tokens(doc, a->start, a->end, &ab, &ae) || !casie__span_tokens(doc, b->start, b->end, &bb, &be))
        return 0;
    uint64_t same = a->subtype == b->subtype;
    uint64_t pair = (uint64_t)(a->subtype * 8 + b->subtype);
    uint64_t sd = dist_bucket(doc->tokens[bb].sent - doc->tokens[ab].sent);
    uint64_t as = tf[ae - 1].s, bs = tf[be - 1].s;
    out[n++] = casie__hc(1, 0);
    out[n++] = casie__hc(2, pair);
    out[n++] = casie__hc(3, same * 16 + sd);
    out[n++] = casie__hc(4, same * 2 + (as == bs));
    out[n++] = casie__hc(casie__hc(5, pair), casie__hc(as, bs));
    out[n++] = casie__hc(6, (uint64_t)(a->realis * 4 + b->realis) + same * 16);
    out[n++] = casie__hc(casie__hc(7, same), bs);
    out[n++] = casie__hc(casie__hc(8, same), as);
    /* shared argument texts */
    int shared = 0;
    for (int i = 0; i < a->n_args; i++)
        for (int j = 0; j < b->n_args; j++)
            if (a->args[i].role == b->args[j].role && a->args[i].text && b->args[j].text &&
                strcmp(a->args[i].text, b->args[j].text) == 0)
                shared++;
    out[n++] = casie__hc(9, same * 8 + (uint64_t)(shared > 3 ? 3 : shared));
    out[n++] = casie__hc(10, same * 64 + (uint64_t)(doc->tokens[ab].sent == 0) * 2 + (doc->tokens[bb].sent == 0));
    CASIE_UNUSED(tf);
    return n;
}

/* Best-first clustering: each event joins the cluster of its best-scoring
 * earlier event when that link scores positive. */
static int cluster_events(const casie_model *m, const casie_doc *doc, const casie__tokfeat *tf, evlist *l, int *cl) {
    uint64_t feats[64];
    for (int j = 0; j < l->n; j++) {
        cl[j] = j;
        float best = 0;
        for (int i = j > CASIE_COREF_WINDOW ? j - CASIE_COREF_WINDOW : 0; i < j; i++) {
            float sc[2] = {0, 0};
            int nf = casie__coref_feats(doc, tf, &l->ev[i], &l->ev[j], feats);
            casie__linear_score(&m->coref, feats, nf, sc);
            if (sc[1] - sc[0] > best) {
                best = sc[1] - sc[0];
                cl[j] = cl[i];
            }
        }
    }
    return CASIE_OK;
}

static int cmp_event_pos(const void *x, const void *y) {
    const casie_event *a = x, *b = y;
    return a->start != b->start ? (a->start < b->start ? -1 : 1) : (a->end < b->end ? -1 : a->end > b->end);
}

/* Moves the events of l into doc's hoppers by cluster id. */
static int build_hoppers(casie_doc *doc, evlist *l, const int *cl) {
    int nh = 0;
    int *hid = malloc(sizeof(int) * ((size_t)l->n + 1)); /* cluster id -> hopper */
    casie_hopper *H = calloc((size_t)l->n + 1, sizeof(casie_hopper));
    if (!hid || !H) {
        free(hid);
        free(H);
        return CASIE_ERR_NOMEM;
    }
    for (int i = 0; i < l->n; i++) hid[i] = -1;
    for (int i = 0; i < l->n; i++) {
        if (hid[cl[i]] < 0) hid[cl[i]] = nh++;
        casie_hopper *h = &H[hid[cl[i]]];
        if (!h->events) {
            int cnt = 0;
            for (int k = 0; k < l->n; k++) cnt += cl[k] == cl[i];
            h->events = calloc((size_t)cnt, sizeof(casie_event));
            if (!h->events) {
                for (int k = 0; k < nh; k++) free(H[k].events);
                free(H);
                free(hid);
                return CASIE_ERR_NOMEM;
            }
        }
        h->events[h->n_events++] = l->ev[i];
    }
    casie_doc_clear_events(doc);
    doc->hoppers = H;
    doc->n_hoppers = nh;
    free(hid);
    l->n = 0; /* ownership moved */
    return CASIE_OK;
}

/* Takes every event out of doc's hoppers into a flat list (doc order). */
static int take_events(casie_doc *doc, evlist *l) {
    for (int h = 0; h < doc->n_hoppers; h++) {
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            if (evlist_push(l, &doc->hoppers[h].events[i])) return CASIE_ERR_NOMEM;
            doc->hoppers[h].events[i] = (casie_event){0};
        }
    }
    casie_doc_clear_events(doc);
    if (l->n > 1) qsort(l->ev, (size_t)l->n, sizeof(casie_event), cmp_event_pos);
    return CASIE_OK;
}

static int after_triggers(const casie_model *m, casie_doc *doc, const casie__tokfeat *tf,
                          const casie_extract_params *p, scratch *sc, evlist *l) {
    int rc = CASIE_ERR_NOMEM;
    uint8_t *is_trig = calloc((size_t)doc->n_tokens + 1, 1);
    int *cl = malloc(sizeof(int) * ((size_t)l->n + 1));
    if (!is_trig || !cl) goto done;
    for (int k = 0; k < l->n; k++) {
        int tb, te;
        if (casie__span_tokens(doc, l->ev[k].start, l->ev[k].end, &tb, &te))
            for (int t = tb; t < te; t++) is_trig[t] = 1;
    }
    for (int k = 0; k < l->n; k++) {
        casie_event *ev = &l->ev[k];
        casie__event_clear_args(ev);
        if ((rc = find_arguments(m, doc, tf, is_trig, sc, ev, p->argument_threshold))) goto done;
        find_realis(m, doc, tf, ev);
    }
    cluster_events(m, doc, tf, l, cl);
    rc = build_hoppers(doc, l, cl);
done:
    free(is_trig);
    free(cl);
    return rc;
}

int casie_extract(const casie_model *m, casie_doc *doc, const casie_extract_params *params, casie_error *err) {
    casie_extract_params p = params ? *params : casie_extract_default_params();
    if (!m || !doc) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_extract: no model or document");
    int rc = casie_doc_analyze(doc, err);
    if (rc) return rc;
    evlist l = {0};
    scratch sc = {0};
    casie__tokfeat *tf = casie__doc_tokfeats(doc, &m->clusters);
    rc = tf ? scratch_alloc(&sc, doc) : CASIE_ERR_NOMEM;
    if (!rc) {
        if (p.given_triggers) { /* the document's events are the triggers */
            rc = take_events(doc, &l);
        } else {
            casie_doc_clear_events(doc);
            rc = find_triggers(m, doc, tf, p.trigger_threshold, &sc, &l);
        }
    }
    if (!rc) rc = after_triggers(m, doc, tf, &p, &sc, &l);
    for (int i = 0; i < l.n; i++) casie__event_free(&l.ev[i]);
    free(l.ev);
    scratch_free(&sc);
    free(tf);
    if (rc) casie__error(err, rc, -1, "%s: out of memory during extraction", doc->id ? doc->id : "document");
    return rc;
}
