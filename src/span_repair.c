/*
 * span_repair.c - putting a drifting annotation span back on its text: the
 * occurrence of the span's text nearest to its stated offset, found in
 * bounded time however the offsets lie.
 *
 * Not here: reading the spans (doc_json_read.c), which decides what to do
 * with one that cannot be placed (doc->issues).
 */
#include "internal.h"
#include "doc.h"

#include <string.h>

int casie__span_matches(const casie_doc *d, long s, long e, const char *text, size_t tlen) {
    if (s < 0 || e < s || e > d->n_cp) return 0;
    size_t b0 = (size_t)d->cp_byte[s], b1 = (size_t)d->cp_byte[e];
    return b1 - b0 == tlen && memcmp(d->text + b0, text, tlen) == 0;
}

/* Span repair looks for a span's text within REPAIR_WINDOW code points of
 * its stated start first (every drift in the CASIE corpus is within 2), and
 * only then in the whole text, while the document's whole-text searches
 * have read less than REPAIR_FULL_TEXTS times its text plus
 * REPAIR_FULL_BYTES; a span still unplaced is listed as an issue.  So
 * reading costs at most about 2 * REPAIR_WINDOW code points plus the span's
 * length per span, plus that budget, whatever the offsets say (the search
 * used to visit every occurrence in the text for every span: quadratic on
 * repetitive text). */
#define REPAIR_WINDOW 1024
#define REPAIR_FULL_TEXTS 16
#define REPAIR_FULL_BYTES ((size_t)16 << 20)

/* KMP failure function of t (tlen bytes, at most a document's) into fail (tlen,). */
static void kmp_table(const char *t, size_t tlen, uint32_t *fail) {
    fail[0] = 0;
    for (uint32_t i = 1, k = 0; i < tlen; i++) {
        while (k > 0 && t[i] != t[k])
            k = fail[k - 1];
        if (t[i] == t[k]) k++;
        fail[i] = k;
    }
}

/* Start (code points) of the occurrence of t (tlen bytes, ncp code points)
 * nearest to s among those starting in code points [lo, hi], earlier on
 * ties; -1 when there is none.  One pass over the bytes from lo: an
 * occurrence of valid UTF-8 in valid UTF-8 begins and ends on code point
 * boundaries, so its start is the code points counted so far minus ncp. */
static long nearest_in(const casie_doc *d, long s, int32_t lo, int32_t hi, const char *t, size_t tlen, long ncp,
                       const uint32_t *fail) {
    long last = (long)hi + ncp < d->n_cp ? (long)hi + ncp : d->n_cp;
    const char *x = d->text;
    size_t b = (size_t)d->cp_byte[lo], b1 = (size_t)d->cp_byte[last], k = 0;
    long cp = lo, best = -1, best_dist = 0;
    for (; b < b1; b++) {
        cp += ((unsigned char)x[b] & 0xC0) != 0x80; /* code points in [0, b] */
        while (k > 0 && x[b] != t[k])
            k = fail[k - 1];
        if (x[b] == t[k]) k++;
        if (k < tlen) continue;
        k = fail[k - 1];
        long at = cp - ncp, dist = at > s ? at - s : s - at;
        if (at > hi) break;
        if (best >= 0 && at > s && dist >= best_dist) break; /* only farther ones follow */
        if (best < 0 || dist < best_dist) {
            best = at;
            best_dist = dist;
        }
    }
    return best;
}

int casie__span_nearest(const casie_doc *d, long s, const char *t, size_t tlen, long ncp, size_t *full_searched,
                        long *at) {
    *at = -1;
    if (tlen == 0 || tlen > d->text_len || ncp > d->n_cp) return CASIE_OK;
    uint32_t *fail = malloc(tlen * sizeof *fail);
    if (!fail) return CASIE_ERR_NOMEM;
    kmp_table(t, tlen, fail);
    long c = s < 0 ? 0 : s > d->n_cp ? d->n_cp : s;
    int32_t lo = (int32_t)(c > REPAIR_WINDOW ? c - REPAIR_WINDOW : 0);
    int32_t hi = (int32_t)(c + REPAIR_WINDOW < d->n_cp ? c + REPAIR_WINDOW : d->n_cp);
    *at = nearest_in(d, s, lo, hi, t, tlen, ncp, fail);
    /* one in the window is nearer than any outside it; else a whole pass */
    if (*at < 0 && (lo > 0 || hi + ncp < d->n_cp) &&
        *full_searched + d->text_len <= REPAIR_FULL_TEXTS * d->text_len + REPAIR_FULL_BYTES) {
        *full_searched += d->text_len;
        *at = nearest_in(d, s, 0, d->n_cp, t, tlen, ncp, fail);
    }
    free(fail);
    return CASIE_OK;
}
