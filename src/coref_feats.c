/*
 * coref_feats.c - the features of a pair of events that the coreference
 * model scores (whether the later event joins the earlier one's hopper):
 * their subtypes, distance, trigger words, realis, the arguments they share
 * or contradict, how the later event's sentence opens, and, for a model over
 * an encoder, how alike the encoder finds their triggers and their arguments.
 *
 * Used in training on gold events and in extraction on predicted ones.
 * Not here: the clustering that uses the scores (extract.c).
 */
#include "internal.h"
#include "coref_feats.h"
#include "feats.h"
#include "hash.h"
#include "tagging.h"
#include "model.h"

#include <math.h>
#include <string.h>
#include <strings.h>

/* Sentences between two events' triggers, bucketed: exact up to 3, then
 * 4-6, 7-12 and farther.  Not the argument features' token_gap_bucket
 * (features.c): that one counts tokens, on a finer scale; one function for
 * both would change one model's features. */
static uint64_t sent_gap_bucket(int d) {
    if (d < 0) d = -d;
    return d <= 3 ? (uint64_t)d : d <= 6 ? 4 : d <= 12 ? 5 : 6;
}

/* An argument's head (its last token that is not punctuation) in *head, and
 * in *named whether any of its tokens is capitalised or a number; 0 when its
 * span is not on the document's tokens. */
static int arg_head(const casie_doc *doc, const casie__tokfeat *tf, const casie_arg *a, int *head, int *named) {
    int b, e;
    if (!casie__span_tokens(doc, a->start, a->end, &b, &e)) return 0;
    *head = e - 1;
    while (*head > b && (doc->tokens[*head].flags & CASIE_TOK_PUNCT))
        (*head)--;
    *named = 0;
    for (int k = b; k < e && !*named; k++)
        *named = tf[k].cap == 1 || tf[k].cap == 2 ||
                 (doc->tokens[k].flags & (CASIE_TOK_NUMBER | CASIE_TOK_MONEY | CASIE_TOK_VERSION | CASIE_TOK_CVE));
    return 1;
}

/* The cosine of x and y (xdim floats) in one of 20 buckets of 0.1
 * (-1 .. 1); 0 when either is zero. */
static uint64_t cos_bucket(const float *x, const float *y, int xdim) {
    double dot = 0, nx = 0, ny = 0;
    for (int k = 0; k < xdim; k++)
        dot += (double)x[k] * y[k], nx += (double)x[k] * x[k], ny += (double)y[k] * y[k];
    double c = nx > 0 && ny > 0 ? dot / sqrt(nx * ny) : 0;
    int q = (int)floor((c + 1) * 10);
    return (uint64_t)(q < 0 ? 0 : q > 19 ? 19 : q);
}

/* The mean of cv's rows [b, e) into out. */
static void row_mean(const casie__coref_vecs *cv, int b, int e, float *out) {
    memset(out, 0, sizeof(float) * (size_t)cv->xdim);
    for (int i = b; i < e; i++)
        for (int k = 0; k < cv->xdim; k++)
            out[k] += cv->xv[(size_t)i * (size_t)cv->xdim + (size_t)k];
}

int casie__coref_vecs_init(casie__coref_vecs *cv, const casie_doc *doc, const float *xv, int xdim) {
    *cv = (casie__coref_vecs){.xv = xv, .xdim = xdim};
    if (!xv) return CASIE_OK;
    /* three rows of scratch, then a row per sentence */
    cv->buf = malloc(sizeof(float) * (size_t)xdim * ((size_t)doc->n_sents + 3));
    if (!cv->buf) return CASIE_ERR_NOMEM;
    for (int s = 0; s < doc->n_sents; s++)
        row_mean(cv, doc->sents[s].tok_begin, doc->sents[s].tok_end, cv->buf + (size_t)(s + 3) * (size_t)xdim);
    return CASIE_OK;
}

void casie__coref_vecs_free(casie__coref_vecs *cv) {
    free(cv->buf);
    cv->buf = NULL;
}

/* How alike the encoder finds the two triggers (by subtype pair, and by
 * the sentences between them: alike triggers far apart are less often one
 * event than alike triggers of one paragraph), the two sentences, and the
 * most alike pair of argument heads in one role ("the hospital" and
 * "Hancock Health" read alike in context, "the hospital" and "the bank" do
 * not); at most five features. */
static int encoder_feats(const casie_doc *doc, const casie__tokfeat *tf, const casie__coref_vecs *cv,
                         const casie_event *a, const casie_event *b, int ab, int ae, int bb, int be, uint64_t same,
                         uint64_t pair, uint64_t *out) {
    const int D = cv->xdim;
    float *va = cv->buf, *vb = cv->buf + D, *sent = cv->buf + 3 * (size_t)D;
    int n = 0, sa = doc->tokens[ab].sent, sb = doc->tokens[bb].sent;
    uint64_t gap = (uint64_t)(sb - sa > 3 ? 3 : sb - sa);
    row_mean(cv, ab, ae, va);
    row_mean(cv, bb, be, vb);
    uint64_t tc = cos_bucket(va, vb, D);
    out[n++] = casie__hc(44, same * 32 + tc);
    out[n++] = casie__hc(casie__hc(45, pair), tc);
    out[n++] = casie__hc(48, (same * 4 + gap) * 32 + tc);
    out[n++] = casie__hc(47, same * 32 + cos_bucket(sent + (size_t)sa * D, sent + (size_t)sb * D, D));
    int best = -1;
    for (int i = 0; i < a->n_args; i++)
        for (int j = 0; j < b->n_args; j++) {
            int ha, na, hb, nb;
            if (a->args[i].role != b->args[j].role || !arg_head(doc, tf, &a->args[i], &ha, &na) ||
                !arg_head(doc, tf, &b->args[j], &hb, &nb))
                continue;
            int c = (int)cos_bucket(cv->xv + (size_t)ha * D, cv->xv + (size_t)hb * D, D);
            if (c > best) best = c;
        }
    if (best >= 0) out[n++] = casie__hc(46, same * 32 + (uint64_t)best);
    return n;
}

int casie__coref_feats(const casie_doc *doc, const casie__tokfeat *tf, const casie__coref_vecs *cv,
                       const casie_event *a, const casie_event *b, uint64_t *out) {
    int n = 0, ab, ae, bb, be;
    if (!casie__span_tokens(doc, a->start, a->end, &ab, &ae) || !casie__span_tokens(doc, b->start, b->end, &bb, &be))
        return 0;
    uint64_t same = a->subtype == b->subtype;
    uint64_t pair = (uint64_t)(a->subtype * 8 + b->subtype);
    uint64_t sd = sent_gap_bucket(doc->tokens[bb].sent - doc->tokens[ab].sent);
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
    /* roles both events fill, and how many of those with different texts
     * (two victims named differently suggest two events) */
    int both = 0, clash = 0;
    for (int r = 0; r < CASIE_N_ROLES; r++) {
        const char *ta = NULL, *tb_ = NULL;
        for (int i = 0; i < a->n_args && !ta; i++)
            if (a->args[i].role == r) ta = a->args[i].text ? a->args[i].text : "";
        for (int j = 0; j < b->n_args && !tb_; j++)
            if (b->args[j].role == r) tb_ = b->args[j].text ? b->args[j].text : "";
        if (!ta || !tb_) continue;
        both++;
        if (strcasecmp(ta, tb_) != 0) {
            clash++;
            out[n++] = casie__hc(casie__hc(13, same), (uint64_t)r); /* this role differs */
        }
    }
    out[n++] = casie__hc(11, same * 16 + (uint64_t)(both > 3 ? 3 : both) * 4 + (uint64_t)(clash > 3 ? 3 : clash));
    out[n++] = casie__hc(12, same * 64 + (uint64_t)(a->realis * 4 + b->realis) * 4 + (uint64_t)(clash > 1 ? 2 : clash));
    out[n++] = casie__hc(10, same * 64 + (uint64_t)(doc->tokens[ab].sent == 0) * 2 + (doc->tokens[bb].sent == 0));
    if (cv && cv->xv) n += encoder_feats(doc, tf, cv, a, b, ab, ae, bb, be, same, pair, out + n);
    /* each pair of arguments in one role: do their head words agree, and is
     * each a name or a number ("Kansas Heart Hospital" against "Hancock
     * Health" is another victim, "the hospital" may be the same).  Up to
     * here at most 17 + CASIE_N_ROLES (26) features; this loop stops two
     * short of CASIE_COREF_FEATS to leave room for the opening's two. */
    for (int i = 0; i < a->n_args; i++)
        for (int j = 0; j < b->n_args && n < CASIE_COREF_FEATS - 2; j++) {
            int ha, na, hb, nb;
            if (a->args[i].role != b->args[j].role || !arg_head(doc, tf, &a->args[i], &ha, &na) ||
                !arg_head(doc, tf, &b->args[j], &hb, &nb))
                continue;
            uint64_t match = tf[ha].w == tf[hb].w;
            out[n++] = casie__hc(casie__hc(40, same),
                                 (uint64_t)a->args[i].role * 16 + match * 4 + (uint64_t)na * 2 + (uint64_t)nb);
        }
    /* how the later event's sentence opens: "For example", "In 2016" and
     * "Last year" bring in another event */
    const casie_sentence *bsent = &doc->sents[doc->tokens[bb].sent];
    int o = bsent->tok_begin;
    out[n++] = casie__hc(casie__hc(42, same), tf[o].w);
    if (o + 1 < bsent->tok_end) out[n++] = casie__hc(casie__hc(43, same), casie__hc(tf[o].w, tf[o + 1].w));
    return n;
}

const float *casie__coref_xv(const casie_model *m, const float *xv) {
    return m->xdim > 0 && m->coref.fv >= 5 ? xv : NULL;
}
