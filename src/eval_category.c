/*
 * eval_category.c - scoring argument categories (casie_arg.category).
 *
 * A category is scored where both sides found the argument: each side's
 * arguments of a kind's roles that carry a known category become distinct
 * (start, end, role) keys, the first category seen for a key standing for
 * it (an argument attached to several events is one key); a key on both
 * sides is a matched pair, correct when the categories agree.  Per gold
 * category the tally keeps the matched pairs and the correct ones, and per
 * predicted category the pairs predicted so; the majority baseline is the
 * largest gold count, the accuracy of always answering that category.
 *
 * Not here: the span and role metrics (eval.c), which hold the tally in
 * their casie_eval (eval.h).
 */
#include "internal.h"
#include "eval.h"
#include "eval_category.h"
#include "category.h"

#include <string.h>

typedef struct cat_key {
    int32_t start, end, role, cat;
    size_t seq; /* document order */
} cat_key;

static int key_cmp(const void *a, const void *b) {
    const cat_key *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->role > y->role) - (x->role < y->role);
}

static int key_seq_cmp(const void *a, const void *b) {
    int c = key_cmp(a, b);
    if (c) return c;
    const cat_key *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The distinct keys of doc's arguments of kind `kind` that carry a known
 * category (sorted, the first in document order kept for a repeated key). */
static int doc_keys(const casie_doc *doc, int kind, cat_key **out, size_t *n) {
    size_t total = 0, k = 0;
    *out = NULL, *n = 0;
    if (!doc) return CASIE_OK;
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++)
            total += (size_t)doc->hoppers[h].events[i].n_args;
    if (!total) return CASIE_OK;
    cat_key *v = malloc(total * sizeof *v);
    if (!v) return CASIE_ERR_NOMEM;
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            const casie_event *e = &doc->hoppers[h].events[i];
            for (int j = 0; j < e->n_args; j++) {
                const casie_arg *a = &e->args[j];
                int c = casie_role_category(a->role) == kind ? casie__arg_category(a) : -1;
                if (c >= 0) v[k] = (cat_key){a->start, a->end, a->role, c, k}, k++;
            }
        }
    if (k > 1) qsort(v, k, sizeof *v, key_seq_cmp); /* the first of equal keys first */
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (!u || key_cmp(&v[u - 1], &v[i])) v[u++] = v[i];
    *out = v, *n = u;
    return CASIE_OK;
}

int casie__eval_category_add(casie__cat_tally *t, const casie_doc *gold, const casie_doc *pred) {
    for (int kind = CASIE_CAT_PURPOSE; kind <= CASIE_CAT_CAPEC; kind++) {
        cat_key *g = NULL, *p = NULL;
        size_t ng = 0, np = 0;
        int rc = doc_keys(gold, kind, &g, &ng);
        if (!rc) rc = doc_keys(pred, kind, &p, &np);
        if (rc) {
            free(g);
            free(p);
            return rc;
        }
        casie__cat_counts *c = &t->k[kind - 1];
        size_t i = 0, j = 0;
        while (i < ng && j < np) {
            int d = key_cmp(&g[i], &p[j]);
            if (d < 0)
                i++;
            else if (d > 0)
                j++;
            else {
                c->gold[g[i].cat]++;
                c->pred[p[j].cat]++;
                c->right[g[i].cat] += g[i].cat == p[j].cat;
                i++, j++;
            }
        }
        free(g);
        free(p);
    }
    return CASIE_OK;
}

casie_category_counts casie_eval_category(const casie_eval *ev, int kind, int category) {
    const casie__cat_tally *t = ev ? &ev->cat : NULL;
    casie_category_counts r = {0, 0, 0, 0};
    int n = casie_category_count(kind);
    if (!t || !n || category < -1 || category >= n) return r;
    const casie__cat_counts *c = &t->k[kind - 1];
    for (int i = 0; i < n; i++) {
        if (category >= 0 && i != category) continue;
        r.matched += c->gold[i];
        r.correct += c->right[i];
        r.predicted += c->pred[i];
        if (c->gold[i] > r.majority) r.majority = c->gold[i];
    }
    return r;
}
