/*
 * tagging.c - where annotations meet tokens, for training and extraction
 * alike: the tokens a character span covers, the window searched for a
 * trigger's arguments, and which BIO label sequences are well formed.
 *
 * Labels of a BIO tagger: 0 = O, 1 + 2k = B-k, 2 + 2k = I-k.
 * Not here: the taggers (extract.c, train_*.c).
 */
#include "internal.h"
#include "tagging.h"
#include "model.h"

int casie__span_tokens(const casie_doc *doc, int32_t s, int32_t e, int *tb, int *te) {
    int lo = 0, hi = doc->n_tokens;
    while (lo < hi) { /* first token ending after s */
        int mid = (lo + hi) / 2;
        if (doc->tokens[mid].end <= s)
            lo = mid + 1;
        else
            hi = mid;
    }
    int b = lo, k = lo;
    while (k < doc->n_tokens && doc->tokens[k].start < e)
        k++;
    if (k <= b) return 0;
    *tb = b;
    *te = k;
    return 1;
}

void casie__arg_window(const casie_doc *doc, int tb, int *te, int *b, int *e) {
    int s = doc->tokens[tb].sent;
    int lo = doc->sents[s].tok_begin, hi = doc->sents[s].tok_end;
    if (*te > hi) *te = hi;
    if (lo < tb - CASIE_ARG_WINDOW) lo = tb - CASIE_ARG_WINDOW;
    if (hi > *te + CASIE_ARG_WINDOW) hi = *te + CASIE_ARG_WINDOW;
    if (hi - lo > CASIE_NN_CHUNK) { /* a trigger of hundreds of tokens: keep its start in view */
        if (*te - lo > CASIE_NN_CHUNK) *te = lo + CASIE_NN_CHUNK;
        hi = lo + CASIE_NN_CHUNK;
    }
    *b = lo;
    *e = hi;
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
    for (int l = 0; l < L; l++)
        start_ok[l] = (uint8_t)(l == 0 || ((l - 1) % 2 == 0 && (l - 1) / 2 < n_types));
}

void casie__trig_masks(uint8_t *allowed, uint8_t *start_ok) {
    bio_masks(CASIE_N_SUBTYPES, CASIE_TRIG_LABELS, allowed, start_ok);
}

void casie__arg_masks(const casie_model *m, int subtype, uint8_t *allowed, uint8_t *start_ok) {
    bio_masks(m->n_slots[subtype], CASIE_ARG_LABELS, allowed, start_ok);
}
