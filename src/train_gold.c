/*
 * train_gold.c - what the taggers learn from: the gold BIO labels of
 * triggers and arguments, the gold events, the tokens of gold triggers, and
 * the role slots each subtype's arguments are tagged with.
 */
#include "train.h"
#include "tagging.h"
#include "model.h"

#include <string.h>

/* BIO subtype labels of a document's tokens from its gold triggers
 * (overlapping triggers and triggers across sentences are left out). */
int *casie__trigger_gold(const casie_doc *doc) {
    int *gold = calloc((size_t)doc->n_tokens + 1, sizeof(int));
    for (int h = 0; gold && h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            const casie_event *ev = &doc->hoppers[h].events[i];
            int tb, te, clash = 0;
            if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) continue;
            for (int x = tb; x < te; x++)
                clash |= gold[x] != 0;
            if (clash || doc->tokens[tb].sent != doc->tokens[te - 1].sent) continue;
            gold[tb] = 1 + 2 * ev->subtype;
            for (int x = tb + 1; x < te; x++)
                gold[x] = 2 + 2 * ev->subtype;
        }
    return gold;
}

int **casie__trigger_golds(const trainer *t) {
    int **g = calloc((size_t)t->n_docs + 1, sizeof(int *));
    for (int d = 0; g && d < t->n_docs; d++)
        if (!(g[d] = casie__trigger_gold(t->docs[d]))) {
            casie__trigger_golds_free(t, g);
            return NULL;
        }
    return g;
}

void casie__trigger_golds_free(const trainer *t, int **g) {
    for (int d = 0; g && d < t->n_docs; d++)
        free(g[d]);
    free(g);
}

/* Most frequent first, ties by role index; at most CASIE_MAX_SLOTS. */
void casie__choose_slots(trainer *t) {
    long cnt[CASIE_N_SUBTYPES][CASIE_N_ROLES] = {{0}};
    for (int d = 0; d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        for (int h = 0; h < doc->n_hoppers; h++)
            for (int i = 0; i < doc->hoppers[h].n_events; i++) {
                const casie_event *ev = &doc->hoppers[h].events[i];
                for (int a = 0; a < ev->n_args; a++)
                    cnt[ev->subtype][ev->args[a].role]++;
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
        for (int k = n; k < CASIE_MAX_SLOTS; k++)
            t->m->slot_role[s][k] = -1;
    }
}

static int slot_of(const casie_model *m, int subtype, int role) {
    for (int k = 0; k < m->n_slots[subtype]; k++)
        if (m->slot_role[subtype][k] == role) return k;
    return -1;
}

/* BIO slot labels gold[0 .. e-b) of an event's arguments over its window
 * [b, e) (trigger tokens [tb, te)); arguments outside the window, or
 * overlapping the trigger or each other, are left out. */
void casie__arg_gold(const casie_model *m, const casie_doc *doc, const casie_event *ev, int tb, int te, int b, int e,
                     int *gold) {
    for (int i = 0; i < e - b; i++)
        gold[i] = 0;
    for (int a = 0; a < ev->n_args; a++) {
        int ab, ae, slot = slot_of(m, ev->subtype, ev->args[a].role), clash = 0;
        if (slot < 0 || !casie__span_tokens(doc, ev->args[a].start, ev->args[a].end, &ab, &ae)) continue;
        if (ab < b || ae > e) continue;
        for (int x = ab; x < ae; x++)
            clash |= gold[x - b] != 0 || (x >= tb && x < te);
        if (clash) continue;
        gold[ab - b] = 1 + 2 * slot;
        for (int x = ab + 1; x < ae; x++)
            gold[x - b] = 2 + 2 * slot;
    }
}

/* Per document, 1 on the tokens of every gold trigger (n_docs arrays). */
uint8_t **casie__trigger_tokens(const trainer *t) {
    uint8_t **is_trig = calloc((size_t)t->n_docs + 1, sizeof(uint8_t *));
    for (int d = 0; is_trig && d < t->n_docs; d++) {
        const casie_doc *doc = t->docs[d];
        if (!(is_trig[d] = calloc((size_t)doc->n_tokens + 1, 1))) {
            casie__trigger_tokens_free(t, is_trig);
            return NULL;
        }
        for (int h = 0; h < doc->n_hoppers; h++)
            for (int i = 0; i < doc->hoppers[h].n_events; i++) {
                int tb, te;
                if (casie__span_tokens(doc, doc->hoppers[h].events[i].start, doc->hoppers[h].events[i].end, &tb, &te))
                    for (int x = tb; x < te; x++)
                        is_trig[d][x] = 1;
            }
    }
    return is_trig;
}

int casie__collect_events(const trainer *t, evref **out) {
    int n = 0;
    for (int d = 0; d < t->n_docs; d++)
        for (int h = 0; h < t->docs[d]->n_hoppers; h++)
            n += t->docs[d]->hoppers[h].n_events;
    evref *r = malloc(sizeof(evref) * ((size_t)n + 1));
    if (!r) return -1;
    n = 0;
    for (int d = 0; d < t->n_docs; d++)
        for (int h = 0; h < t->docs[d]->n_hoppers; h++)
            for (int i = 0; i < t->docs[d]->hoppers[h].n_events; i++)
                r[n++] = (evref){d, h, i};
    *out = r;
    return n;
}

void casie__trigger_tokens_free(const trainer *t, uint8_t **is_trig) {
    for (int d = 0; is_trig && d < t->n_docs; d++)
        free(is_trig[d]);
    free(is_trig);
}
