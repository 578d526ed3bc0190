/*
 * event_conflict.c - when two events cannot be one: a hard constraint of
 * the coreference clustering (extract.c), kept apart from its learnt scores.
 *
 * The pairwise coreference perceptron weighs arguments that differ, but it
 * learnt on the corpus, where most events share few arguments, so it will
 * still merge a patch for one CVE id with a patch for another when their
 * triggers and sentences look alike (an advisory listing fixes).  Two events
 * are never one when
 * - both have CVE arguments and no CVE id of one is an id of the other
 *   (compared in their normal form: CVE–2018–0986 is CVE-2018-0986), or
 * - both give a patch number or a vulnerable version, and these share no
 *   number or name ("0.6.10" and "2.17.1" are two patches).
 * A name's words are its tokens that are capitalised (not as the first word
 * of their sentence), numbers, versions or CVE ids.
 *
 * Victims, patches, products and releasers named differently do not count:
 * on dev, given gold triggers, each such rule cut coreference pair recall
 * by a further 2 to 7 points for at most 1.3 points of precision, since the
 * corpus's hoppers often gather a patch day's fixes or a breach's victims
 * (docs/ACCURACY.md, "Hoppers").  Neither is it free for CVE ids: 7 of dev's gold hoppers hold
 * events with different ids.  An analyst reading a hopper as one
 * vulnerability is worth that price.
 *
 * Not here: the pairwise features and the clustering (extract.c).
 */
#include "internal.h"
#include "cve_id.h"
#include "event_conflict.h"
#include "feats.h"
#include "hash.h"
#include "tagging.h"

#include <string.h>

/* Up to cap words (their lowercased hashes) of the names among ev's
 * arguments in role `role`; the count, and in *n_args how many arguments
 * fill the role. */
static int name_words(const casie_doc *doc, const casie__tokfeat *tf, const casie_event *ev, int role, uint64_t *out,
                      int cap, int *n_args) {
    int n = 0;
    *n_args = 0;
    for (int i = 0; i < ev->n_args; i++) {
        const casie_arg *a = &ev->args[i];
        int b, e;
        if (a->role != role) continue;
        (*n_args)++;
        if (!casie__span_tokens(doc, a->start, a->end, &b, &e)) continue;
        for (int k = b; k < e && n < cap; k++) {
            const casie_token *t = &doc->tokens[k];
            int first = k == doc->sents[t->sent].tok_begin;
            int named = (t->flags & (CASIE_TOK_NUMBER | CASIE_TOK_VERSION | CASIE_TOK_CVE)) ||
                        (!first && (tf[k].cap == 1 || tf[k].cap == 2));
            if (named) out[n++] = tf[k].w;
        }
    }
    return n;
}

static int share(const uint64_t *x, int nx, const uint64_t *y, int ny) {
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++)
            if (x[i] == y[j]) return 1;
    return 0;
}

/* The normal forms of ev's CVE arguments, up to cap; the count. */
static int cve_ids(const casie_event *ev, int role, char (*out)[24], int cap) {
    int n = 0;
    for (int i = 0; i < ev->n_args && n < cap; i++)
        if (ev->args[i].role == role && ev->args[i].text && casie__cve_normalize(ev->args[i].text, out[n], 24)) n++;
    return n;
}

int casie__events_conflict(const casie_doc *doc, const casie__tokfeat *tf, const casie_event *a, const casie_event *b) {
    static const char *const ONE_THING[] = {"Patch-Number", "Vulnerable_System_Version"};
    char ca[8][24], cb[8][24];
    int role = casie_role_from_name("CVE");
    int na = cve_ids(a, role, ca, 8), nb = cve_ids(b, role, cb, 8);
    if (na && nb) {
        int common = 0;
        for (int i = 0; i < na && !common; i++)
            for (int j = 0; j < nb && !common; j++)
                common = strcmp(ca[i], cb[j]) == 0;
        if (!common) return 1;
    }
    for (size_t r = 0; r < sizeof ONE_THING / sizeof *ONE_THING; r++) {
        uint64_t wa[32], wb[32];
        int aa, ab;
        role = casie_role_from_name(ONE_THING[r]);
        int nwa = name_words(doc, tf, a, role, wa, 32, &aa), nwb = name_words(doc, tf, b, role, wb, 32, &ab);
        if (nwa && nwb && !share(wa, nwa, wb, nwb)) return 1;
    }
    return 0;
}

/* ---- the clusters' members that can conflict ---- */

/* What a conflict with ev turns on, as one number: 0 when ev has no CVE
 * id, patch number or vulnerable version, else a hash of their normal
 * forms (the same for two events whose conflicts are the same). */
static uint64_t key_of(const casie_doc *doc, const casie__tokfeat *tf, const casie_event *ev) {
    const int cve = casie_role_from_name("CVE"), pn = casie_role_from_name("Patch-Number"),
              ver = casie_role_from_name("Vulnerable_System_Version");
    uint64_t key = 0;
    for (int a = 0; a < ev->n_args; a++) {
        const casie_arg *g = &ev->args[a];
        char id[24];
        if (g->role == cve && g->text && casie__cve_normalize(g->text, id, sizeof id)) {
            uint64_t h = 1469598103934665603ull; /* FNV-1a of the id, summed: order does not matter */
            for (const char *p = id; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ull;
            key += h | 1;
        } else if ((g->role == pn || g->role == ver) && tf) {
            uint64_t w[32];
            int na, nw = name_words(doc, tf, ev, g->role, w, 32, &na);
            for (int i = 0; i < nw; i++)
                key += casie__hc((uint64_t)g->role, w[i]) | 1;
        }
    }
    return key;
}

int casie__conflicts_init(casie__conflicts *c, const casie_doc *doc, const casie__tokfeat *tf, const casie_event *ev,
                          int n) {
    c->head = malloc(sizeof(int) * ((size_t)n + 1));
    c->next = malloc(sizeof(int) * ((size_t)n + 1));
    c->key = malloc(sizeof(uint64_t) * ((size_t)n + 1));
    if (!c->head || !c->next || !c->key) {
        casie__conflicts_free(c);
        return CASIE_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++)
        c->head[i] = -1, c->next[i] = -1, c->key[i] = key_of(doc, tf, &ev[i]);
    return CASIE_OK;
}

int casie__conflicts_check(const casie__conflicts *c, const casie_doc *doc, const casie__tokfeat *tf,
                           const casie_event *ev, int cluster, int j) {
    if (!c->key[j]) return 0;
    for (int k = c->head[cluster]; k >= 0; k = c->next[k])
        if (casie__events_conflict(doc, tf, &ev[k], &ev[j])) return 1;
    return 0;
}

void casie__conflicts_add(casie__conflicts *c, int cluster, int j) {
    if (!c->key[j]) return;
    for (int k = c->head[cluster]; k >= 0; k = c->next[k]) /* one member per kind of conflict is enough */
        if (c->key[k] == c->key[j]) return;
    c->next[j] = c->head[cluster];
    c->head[cluster] = j;
}

void casie__conflicts_free(casie__conflicts *c) {
    free(c->head), free(c->next), free(c->key);
    c->head = c->next = NULL, c->key = NULL;
}
