/*
 * eval.c - scoring predicted events against gold events.
 *
 * Each metric turns a document's events into a set of tuples (so duplicates
 * count once); a predicted tuple in the gold set is a true positive, the rest
 * are false positives, gold tuples not predicted are false negatives.  Counts
 * are summed over documents (micro average).
 *
 *   trig_i        (trigger span)
 *   trig_c        (trigger span, subtype)
 *   arg_i         (subtype, argument span)
 *   arg_c         (subtype, role, argument span)
 *   arg_c_linked  (trigger span, subtype, role, argument span)
 *   realis        (trigger span, subtype, realis)
 *   ent_type      (argument span, entity type)
 *   coref         {trigger span, trigger span}: unordered pairs of distinct
 *                 trigger spans of events in one hopper
 *   coref_muc     MUC (Vilain et al. 1995) over trigger spans, each span a
 *                 mention of its first hopper: tp counts the links both
 *                 sides share (mentions in common minus the blocks the two
 *                 clusterings cut them into), fn and fp the rest of each
 *                 side's links (mentions minus clusters).  Merging every
 *                 event of a subtype into one hopper scores high here and
 *                 low on coref; a good clustering must score on both.
 *
 * Breakdowns filter before matching: the counts for subtype S (role R) score
 * only the tuples that come from events of subtype S (arguments of role R),
 * on both sides.  A tuple's subtype is its event's; a coref pair has the
 * subtype of its two events when they agree, else none (it then counts only
 * in the totals).  Role filters apply to arg_i, arg_c and arg_c_linked.
 *
 * Not here: reading documents (gold drift is repaired when they are read).
 */
#include "internal.h"
#include "eval.h"

#include <string.h>

enum { KEY_LEN = 6 };

typedef struct tuple {
    int32_t k[KEY_LEN]; /* identity; unused slots are 0 */
    int8_t subtype;     /* for filtering; -1: none */
    int8_t role;        /* for filtering; -1: none */
} tuple;

typedef struct tset {
    tuple *t;
    size_t n, cap;
} tset;

static const char *const METRIC_NAMES[CASIE_N_METRICS] = {"trig_i", "trig_c",   "arg_i", "arg_c",    "arg_c_linked",
                                                          "realis", "ent_type", "coref", "coref_muc"};

const char *casie_metric_name(int metric) {
    return metric >= 0 && metric < CASIE_N_METRICS ? METRIC_NAMES[metric] : NULL;
}

static int has_roles(int metric) {
    return metric == CASIE_METRIC_ARG_I || metric == CASIE_METRIC_ARG_C || metric == CASIE_METRIC_ARG_C_LINKED;
}

casie_eval *casie_eval_new(void) { return calloc(1, sizeof(casie_eval)); }

void casie_eval_free(casie_eval *ev) { free(ev); }

static int push(tset *s, int subtype, int role, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f) {
    if (casie__grow((void **)&s->t, &s->cap, s->n + 1, sizeof *s->t)) return CASIE_ERR_NOMEM;
    tuple *t = &s->t[s->n++];
    t->k[0] = a, t->k[1] = b, t->k[2] = c, t->k[3] = d, t->k[4] = e, t->k[5] = f;
    t->subtype = (int8_t)subtype;
    t->role = (int8_t)role;
    return CASIE_OK;
}

static int key_cmp(const tuple *x, const tuple *y) {
    for (int i = 0; i < KEY_LEN; i++)
        if (x->k[i] != y->k[i]) return x->k[i] < y->k[i] ? -1 : 1;
    return 0;
}

static int tuple_cmp(const void *a, const void *b) {
    const tuple *x = a, *y = b;
    int c = key_cmp(x, y);
    if (c) return c;
    if (x->subtype != y->subtype) return x->subtype < y->subtype ? -1 : 1;
    return (x->role > y->role) - (x->role < y->role);
}

/* The tuples of every metric for one document (doc may be NULL: none). */
static int doc_tuples(const casie_doc *doc, tset *sets) {
    if (!doc) return CASIE_OK;
    int rc = 0;
    for (int h = 0; h < doc->n_hoppers; h++) {
        const casie_hopper *hop = &doc->hoppers[h];
        for (int i = 0; i < hop->n_events; i++) {
            const casie_event *e = &hop->events[i];
            int st = e->subtype >= 0 && e->subtype < CASIE_N_SUBTYPES ? e->subtype : -1;
            rc |= push(&sets[CASIE_METRIC_TRIG_I], st, -1, e->start, e->end, 0, 0, 0, 0);
            rc |= push(&sets[CASIE_METRIC_TRIG_C], st, -1, e->start, e->end, e->subtype, 0, 0, 0);
            rc |= push(&sets[CASIE_METRIC_REALIS], st, -1, e->start, e->end, e->subtype, e->realis, 0, 0);
            for (int j = 0; j < e->n_args; j++) {
                const casie_arg *a = &e->args[j];
                int ro = a->role >= 0 && a->role < CASIE_N_ROLES ? a->role : -1;
                rc |= push(&sets[CASIE_METRIC_ARG_I], st, ro, e->subtype, a->start, a->end, 0, 0, 0);
                rc |= push(&sets[CASIE_METRIC_ARG_C], st, ro, e->subtype, a->role, a->start, a->end, 0, 0);
                rc |= push(&sets[CASIE_METRIC_ARG_C_LINKED], st, ro, e->start, e->end, e->subtype, a->role, a->start,
                           a->end);
                rc |= push(&sets[CASIE_METRIC_ENT_TYPE], st, ro, a->start, a->end, a->entity, 0, 0, 0);
            }
            for (int j = i + 1; j < hop->n_events; j++) {
                const casie_event *o = &hop->events[j];
                if (o->start == e->start && o->end == e->end) continue; /* the same span twice */
                int first = e->start < o->start || (e->start == o->start && e->end < o->end);
                const casie_event *x = first ? e : o, *y = first ? o : e;
                rc |= push(&sets[CASIE_METRIC_COREF], o->subtype == e->subtype ? st : -1, -1, x->start, x->end,
                           y->start, y->end, 0, 0);
            }
        }
    }
    if (rc) return CASIE_ERR_NOMEM;
    for (int m = 0; m < CASIE_N_METRICS; m++)
        if (sets[m].n > 1) qsort(sets[m].t, sets[m].n, sizeof *sets[m].t, tuple_cmp);
    return CASIE_OK;
}

/* Copies the tuples of s passing the filter into out, one per identity. */
static size_t filter_unique(const tset *s, int subtype, int role, const tuple **out) {
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const tuple *t = &s->t[i];
        if (subtype >= 0 && t->subtype != subtype) continue;
        if (role >= 0 && t->role != role) continue;
        if (n && key_cmp(out[n - 1], t) == 0) continue;
        out[n++] = t;
    }
    return n;
}

static casie_counts match(const tuple *const *g, size_t ng, const tuple *const *p, size_t np) {
    casie_counts c = {0, 0, 0};
    size_t i = 0, j = 0;
    while (i < ng && j < np) {
        int d = key_cmp(g[i], p[j]);
        if (d == 0)
            c.tp++, i++, j++;
        else if (d < 0)
            c.fn++, i++;
        else
            c.fp++, j++;
    }
    c.fn += (long)(ng - i);
    c.fp += (long)(np - j);
    return c;
}

/* ---- MUC ---- */

typedef struct mention {
    int32_t start, end;
    int32_t cluster; /* hopper index */
    int32_t seq;     /* document order, to keep a span's first hopper */
    int8_t subtype;
} mention;

static int mention_cmp(const void *a, const void *b) {
    const mention *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int int_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The distinct trigger spans of doc, sorted, each with its first hopper
 * (*out NULL and *n 0 for an empty document). */
static int doc_mentions(const casie_doc *doc, mention **out, size_t *n) {
    size_t total = 0, k = 0;
    *out = NULL, *n = 0;
    if (!doc) return CASIE_OK;
    for (int h = 0; h < doc->n_hoppers; h++)
        total += (size_t)doc->hoppers[h].n_events;
    if (!total) return CASIE_OK;
    mention *m = malloc(total * sizeof *m);
    if (!m) return CASIE_ERR_NOMEM;
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            const casie_event *e = &doc->hoppers[h].events[i];
            m[k] = (mention){e->start, e->end, h, (int32_t)k,
                             (int8_t)(e->subtype >= 0 && e->subtype < CASIE_N_SUBTYPES ? e->subtype : -1)};
            k++;
        }
    qsort(m, total, sizeof *m, mention_cmp);
    size_t u = 0;
    for (size_t i = 0; i < total; i++)
        if (!u || m[u - 1].start != m[i].start || m[u - 1].end != m[i].end) m[u++] = m[i];
    *out = m, *n = u;
    return CASIE_OK;
}

static long distinct(int64_t *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, int_cmp);
    long d = 0;
    for (size_t i = 0; i < n; i++)
        d += !i || v[i] != v[i - 1];
    return d;
}

/* MUC counts of one document for one subtype filter (-1: all); scratch
 * holds ng + np values. */
static casie_counts muc_counts(const mention *g, size_t ng, const mention *p, size_t np, int subtype,
                               int64_t *scratch) {
    casie_counts c = {0, 0, 0};
    size_t kg = 0, kp = 0, kc = 0; /* mentions on each side, and in common */
    /* each side's clusters */
    for (size_t i = 0; i < ng; i++)
        if (subtype < 0 || g[i].subtype == subtype) scratch[kg++] = g[i].cluster;
    long cg = distinct(scratch, kg);
    for (size_t i = 0; i < np; i++)
        if (subtype < 0 || p[i].subtype == subtype) scratch[kp++] = p[i].cluster;
    long cp = distinct(scratch, kp);
    /* mentions in common, and the blocks (gold cluster, predicted cluster) */
    size_t i = 0, j = 0;
    while (i < ng && j < np) {
        if (subtype >= 0 && g[i].subtype != subtype) {
            i++;
            continue;
        }
        if (subtype >= 0 && p[j].subtype != subtype) {
            j++;
            continue;
        }
        if (g[i].start != p[j].start)
            g[i].start < p[j].start ? i++ : j++;
        else if (g[i].end != p[j].end)
            g[i].end < p[j].end ? i++ : j++;
        else
            scratch[kc++] = (int64_t)g[i++].cluster << 32 | (uint32_t)p[j++].cluster;
    }
    long tp = (long)kc - distinct(scratch, kc);
    c.tp = tp;
    c.fn = ((long)kg - cg) - tp;
    c.fp = ((long)kp - cp) - tp;
    return c;
}

static int add_muc(casie_eval *ev, const casie_doc *gold, const casie_doc *pred) {
    mention *g = NULL, *p = NULL;
    size_t ng, np;
    int64_t *scratch = NULL;
    int rc = doc_mentions(gold, &g, &ng);
    if (!rc) rc = doc_mentions(pred, &p, &np);
    if (!rc && !(scratch = malloc((ng + np + 1) * sizeof *scratch))) rc = CASIE_ERR_NOMEM;
    for (int s = 0; s < N_ST && !rc; s++) {
        casie_counts c = muc_counts(g, ng, p, np, s - 1, scratch);
        casie_counts *acc = &ev->c[CASIE_METRIC_COREF_MUC][s][0];
        acc->tp += c.tp;
        acc->fp += c.fp;
        acc->fn += c.fn;
    }
    free(g);
    free(p);
    free(scratch);
    return rc;
}

int casie_eval_add(casie_eval *ev, const casie_doc *gold, const casie_doc *pred, casie_error *err) {
    if (!ev || !gold)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_eval_add: no evaluator or gold document");
    tset g[CASIE_N_METRICS], p[CASIE_N_METRICS];
    const tuple **gs = NULL, **ps = NULL;
    memset(g, 0, sizeof g);
    memset(p, 0, sizeof p);
    int rc = doc_tuples(gold, g);
    if (!rc) rc = doc_tuples(pred, p);
    size_t most = 1;
    for (int m = 0; m < CASIE_N_METRICS && !rc; m++) {
        if (g[m].n > most) most = g[m].n;
        if (p[m].n > most) most = p[m].n;
    }
    if (!rc && (!(gs = malloc(most * sizeof *gs)) || !(ps = malloc(most * sizeof *ps)))) rc = CASIE_ERR_NOMEM;
    if (rc) {
        casie__error(err, rc, -1, "%s: out of memory scoring", gold->id ? gold->id : "document");
        goto done;
    }
    for (int m = 0; m < CASIE_METRIC_COREF_MUC; m++) {
        int n_roles = has_roles(m) ? N_RO : 1;
        for (int s = 0; s < N_ST; s++)
            for (int r = 0; r < n_roles; r++) {
                size_t ng = filter_unique(&g[m], s - 1, r - 1, gs);
                size_t np = filter_unique(&p[m], s - 1, r - 1, ps);
                casie_counts c = match(gs, ng, ps, np);
                casie_counts *acc = &ev->c[m][s][r];
                acc->tp += c.tp;
                acc->fp += c.fp;
                acc->fn += c.fn;
            }
    }
    if ((rc = add_muc(ev, gold, pred)) || (rc = casie__eval_category_add(&ev->cat, gold, pred))) {
        casie__error(err, rc, -1, "%s: out of memory scoring", gold->id ? gold->id : "document");
        goto done;
    }
    ev->n_docs++;
done:
    for (int m = 0; m < CASIE_N_METRICS; m++) {
        free(g[m].t);
        free(p[m].t);
    }
    free(gs);
    free(ps);
    return rc;
}

casie_counts casie_eval_counts(const casie_eval *ev, int metric, int subtype, int role) {
    casie_counts zero = {0, 0, 0};
    if (!ev || metric < 0 || metric >= CASIE_N_METRICS || subtype < -1 || subtype >= CASIE_N_SUBTYPES || role < -1 ||
        role >= CASIE_N_ROLES)
        return zero;
    if (!has_roles(metric)) role = -1;
    return ev->c[metric][subtype + 1][role + 1];
}

void casie_prf(casie_counts c, double *p, double *r, double *f1) {
    double P = c.tp + c.fp > 0 ? 100.0 * (double)c.tp / (double)(c.tp + c.fp) : 0.0;
    double R = c.tp + c.fn > 0 ? 100.0 * (double)c.tp / (double)(c.tp + c.fn) : 0.0;
    double F = P + R > 0 ? 2 * P * R / (P + R) : 0.0;
    if (p) *p = P;
    if (r) *r = R;
    if (f1) *f1 = F;
}
