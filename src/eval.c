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

#define N_ST (CASIE_N_SUBTYPES + 1) /* [0] = all, [1 + s] = subtype s */
#define N_RO (CASIE_N_ROLES + 1)    /* [0] = all, [1 + r] = role r */

struct casie_eval {
    casie_counts c[CASIE_N_METRICS][N_ST][N_RO];
    long n_docs;
};

static const char *const METRIC_NAMES[CASIE_N_METRICS] = {"trig_i",       "trig_c", "arg_i",    "arg_c",
                                                          "arg_c_linked", "realis", "ent_type", "coref"};

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
        if (d == 0) c.tp++, i++, j++;
        else if (d < 0) c.fn++, i++;
        else c.fp++, j++;
    }
    c.fn += (long)(ng - i);
    c.fp += (long)(np - j);
    return c;
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
    for (int m = 0; m < CASIE_N_METRICS; m++) {
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
