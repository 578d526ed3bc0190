/*
 * category.c - the argument category classifier: a Purpose argument's
 * subtype and a Capabilities / Attack-Pattern / Issues-Addressed argument's
 * CAPEC meta attack pattern (category_names.c), predicted from the
 * argument's span and its context.
 *
 * One multinomial logistic regression per kind of category, over
 *   - hashed sparse features: the span's words, stems, word clusters, stem
 *     bigrams, first and last stem; the stems of its sentence (bag of words,
 *     at most 40 tokens either side)
 *     and of the nearest tokens on each side; the trigger's stems; the role,
 *     the event subtype and the pair;
 *   - dense features: the mean word vector of the span and of its sentence
 *     (the model's own word vectors, casie__emb).
 * Trained with AdaGrad on the gold arguments of the training documents; its
 * step, epochs, L2 penalty and rows are training parameters (cat_*,
 * train_params.c) whose defaults were chosen on the last 140 training
 * documents held out (2^13..2^16 rows scored alike; an L2 penalty only
 * lowered the score, so it is 0).  The confidence is the softmax
 * probability of the chosen category.  It reads only the tokens, the
 * clusters and the word vectors of the model it belongs to, so it can be
 * trained and added to a model file without retraining the taggers
 * (casie_model_add_categories).
 *
 * The CATG section of the model file (docs/FORMAT.md):
 *   a 64-byte header {u32 version (1), feature_version, n_rows (a power of
 *   two), dim (dense inputs), n_labels[2], stride[2] (n_labels rounded up to
 *   8), then zeros}; then for the Purpose kind and the CAPEC kind in turn:
 *   bfloat16 sparse weights (n_rows, stride), zero padding to 32 bytes, f32
 *   dense weights (dim, stride).  Labels are casie_category_name's order.
 *
 * Not here: the names (category_names.c); scoring (eval_category.c).
 */
#include "internal.h"
#include "category.h"
#include "byte_order.h"
#include "feats.h"
#include "hash.h"
#include "tagging.h"
#include "linear.h"
#include "model.h"
#include "model_file.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CAT_VERSION 1
#define CAT_FEATURE_VERSION 1
#define CAT_MAX_FEATS 400
#define CAT_SPAN_MAX 24 /* span tokens read (the rest ignored) */
#define CAT_CTX 4       /* nearest tokens on each side of the span */
#define CAT_SENT_MAX 40 /* the sentence read: at most this many tokens on each side of the span */
#define CAT_HEADER 64

typedef struct casie__category {
    uint32_t n_rows, dim;
    uint32_t n_labels[2], stride[2];
    const uint16_t *w[2]; /* (n_rows, stride[k]) bfloat16 */
    const float *d[2];    /* (dim, stride[k]) */
    unsigned char *own;   /* the section bytes when trained here (else they are in the model's mapping) */
    size_t size;
    const unsigned char *bytes;
} casie__category;

static uint32_t stride_of(uint32_t n) { return (n + 7u) & ~7u; }

/* Byte offsets of each kind's blocks in a section of this shape. */
static size_t layout(uint32_t rows, uint32_t dim, const uint32_t stride[2], size_t w_at[2], size_t d_at[2]) {
    size_t at = CAT_HEADER;
    for (int k = 0; k < 2; k++) {
        w_at[k] = at;
        at += ((size_t)rows * stride[k] * 2 + 31) & ~(size_t)31;
        d_at[k] = at;
        at += ((size_t)dim * stride[k] * 4 + 31) & ~(size_t)31;
    }
    return at;
}

/* ======================================================================== */
/* Features                                                                 */
/* ======================================================================== */

typedef struct cat_input {
    uint64_t f[CAT_MAX_FEATS];
    int n;
    float *x; /* (dim,) dense inputs */
} cat_input;

enum {
    T_BIAS = 1,
    T_ROLE,
    T_SUB,
    T_ROLE_SUB,
    T_W,
    T_S,
    T_CL0,
    T_CL1,
    T_CL2,
    T_BI,
    T_FIRST,
    T_LAST,
    T_SENT,
    T_LEFT,
    T_RIGHT,
    T_TRIG,
    T_ROLE_S,
    T_NONE
};

static void add(cat_input *in, uint64_t h) {
    if (in->n < CAT_MAX_FEATS) in->f[in->n++] = h;
}
static void add2(cat_input *in, int t, uint64_t v) { add(in, casie__hc((uint64_t)t * 0x100000001b3ull, v)); }

/* Adds the word vector of token t (scaled by w) into x (dim,). */
static void add_vec(const casie__emb *e, const casie__tokfeat *f, float w, float *x) {
    if (!e->n_words || !f->emb || f->emb > e->n_words) return;
    const int8_t *v = e->v + (size_t)(f->emb - 1) * e->dim;
    float sc = w * e->scale[f->emb - 1];
    for (uint32_t j = 0; j < e->dim; j++)
        x[j] += sc * (float)v[j];
}

/* The inputs of an argument [ab, ae) (tokens) of role `role` for a trigger
 * [tb, te) of `subtype`, in sentence [sb, se). */
static void cat_features(const casie_model *m, const casie__tokfeat *tf, int sb, int se, int ab, int ae, int tb, int te,
                         int role, int subtype, cat_input *in) {
    in->n = 0;
    add2(in, T_BIAS, 1);
    add2(in, T_ROLE, (uint64_t)role);
    add2(in, T_SUB, (uint64_t)subtype);
    add2(in, T_ROLE_SUB, (uint64_t)(role * 8 + subtype));
    int end = ae - ab > CAT_SPAN_MAX ? ab + CAT_SPAN_MAX : ae;
    for (int t = ab; t < end; t++) {
        const casie__tokfeat *f = &tf[t];
        if (f->flags & CASIE_TOK_PUNCT) continue;
        add2(in, T_W, f->w);
        add2(in, T_S, f->s);
        add2(in, T_ROLE_S, casie__hc(f->s, (uint64_t)role));
        for (int c = 0; c < 3; c++)
            if (f->cl[c]) add2(in, T_CL0 + c, f->cl[c]);
        if (t + 1 < end) add2(in, T_BI, casie__hc(f->s, tf[t + 1].s));
    }
    add2(in, T_FIRST, tf[ab].s);
    add2(in, T_LAST, tf[ae - 1].s);
    for (int t = sb; t < se; t++)
        if ((t < ab || t >= ae) && !(tf[t].flags & CASIE_TOK_PUNCT)) add2(in, T_SENT, tf[t].s);
    for (int k = 1; k <= CAT_CTX; k++) {
        if (ab - k >= sb) add2(in, T_LEFT, tf[ab - k].s);
        if (ae - 1 + k < se) add2(in, T_RIGHT, tf[ae - 1 + k].s);
    }
    for (int t = tb; t < te && t - tb < 8; t++)
        add2(in, T_TRIG, tf[t].s);
    /* dense: the mean word vector of the span, then of the sentence */
    const uint32_t D = m->emb.n_words ? m->emb.dim : 0;
    if (!D) return;
    memset(in->x, 0, sizeof(float) * 2 * D);
    int ns = 0, nw = 0;
    for (int t = ab; t < ae; t++)
        ns += tf[t].emb != 0;
    for (int t = sb; t < se; t++)
        nw += tf[t].emb != 0;
    for (int t = ab; t < ae && ns; t++)
        add_vec(&m->emb, &tf[t], 1.0f / (float)ns, in->x);
    for (int t = sb; t < se && nw; t++)
        add_vec(&m->emb, &tf[t], 1.0f / (float)nw, in->x + D);
}

/* Token ranges of argument a of event ev in doc (the sentence cut to
 * CAT_SENT_MAX tokens either side); 0 when a lies on no token. */
static int arg_context(const casie_doc *doc, const casie_event *ev, const casie_arg *a, int *sb, int *se, int *ab,
                       int *ae, int *tb, int *te) {
    if (!casie__span_tokens(doc, a->start, a->end, ab, ae) || *ab >= *ae) return 0;
    if (!casie__span_tokens(doc, ev->start, ev->end, tb, te)) *tb = *te = 0;
    int s = doc->tokens[*ab].sent;
    *sb = s >= 0 && s < doc->n_sents ? doc->sents[s].tok_begin : *ab;
    *se = s >= 0 && s < doc->n_sents ? doc->sents[s].tok_end : *ae;
    if (*se < *ae) *se = *ae;
    if (*sb > *ab) *sb = *ab;
    /* bounded, so that a text without sentence ends costs no more per argument */
    if (*sb < *ab - CAT_SENT_MAX) *sb = *ab - CAT_SENT_MAX;
    if (*se > *ae + CAT_SENT_MAX) *se = *ae + CAT_SENT_MAX;
    return 1;
}

/* ======================================================================== */
/* Prediction                                                               */
/* ======================================================================== */

static void cat_scores(const casie__category *c, int k, const cat_input *in, float *sc) {
    const uint32_t L = c->n_labels[k], S = c->stride[k], mask = c->n_rows - 1;
    for (uint32_t l = 0; l < L; l++)
        sc[l] = 0;
    for (int i = 0; i < in->n; i++) {
        const uint16_t *row = c->w[k] + (size_t)(in->f[i] & mask) * S;
        for (uint32_t l = 0; l < L; l++)
            sc[l] += casie__bf16_to_f32(row[l]);
    }
    for (uint32_t j = 0; j < c->dim; j++) {
        float x = in->x[j];
        if (x == 0) continue;
        const float *row = c->d[k] + (size_t)j * S;
        for (uint32_t l = 0; l < L; l++)
            sc[l] += x * row[l];
    }
}

/* Softmax in place; returns the best label (its probability in *p). */
static int softmax_best(float *sc, int L, float *p) {
    float mx = sc[0];
    int best = 0;
    for (int l = 1; l < L; l++)
        if (sc[l] > mx) mx = sc[l], best = l;
    float z = 0;
    for (int l = 0; l < L; l++)
        z += sc[l] = expf(sc[l] - mx);
    for (int l = 0; l < L; l++)
        sc[l] /= z;
    *p = sc[best];
    return best;
}

int casie_model_has_categories(const casie_model *m) { return m && m->cat != NULL; }

int casie__category_predict(const casie_model *m, casie_doc *doc, const casie__tokfeat *tf) {
    const casie__category *c = m->cat;
    if (!c) return CASIE_OK;
    cat_input in;
    float sc[CASIE_N_CAPEC + 8];
    if (!(in.x = calloc((size_t)c->dim + 1, sizeof(float)))) return CASIE_ERR_NOMEM;
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            casie_event *ev = &doc->hoppers[h].events[i];
            for (int j = 0; j < ev->n_args; j++) {
                casie_arg *a = &ev->args[j];
                int kind = casie_role_category(a->role), sb, se, ab, ae, tb, te;
                a->category = NULL;
                a->category_score = -1;
                if (!kind) continue;
                if (!arg_context(doc, ev, a, &sb, &se, &ab, &ae, &tb, &te)) ab = ae = sb = se = tb = te = 0;
                int k = kind - 1;
                if (ae > ab)
                    cat_features(m, tf, sb, se, ab, ae, tb, te, a->role, ev->subtype, &in);
                else { /* no token: the role and subtype alone */
                    in.n = 0;
                    memset(in.x, 0, sizeof(float) * c->dim);
                    add2(&in, T_BIAS, 1);
                    add2(&in, T_ROLE, (uint64_t)a->role);
                    add2(&in, T_SUB, (uint64_t)ev->subtype);
                    add2(&in, T_ROLE_SUB, (uint64_t)(a->role * 8 + ev->subtype));
                }
                cat_scores(c, k, &in, sc);
                float p;
                int best = softmax_best(sc, (int)c->n_labels[k], &p);
                a->category = casie_category_name(kind, best);
                a->category_score = round((double)p * 1e4) / 1e4;
            }
        }
    free(in.x);
    return CASIE_OK;
}

/* ======================================================================== */
/* The section                                                              */
/* ======================================================================== */

void casie__category_free(casie__category *c) {
    if (!c) return;
    free(c->own);
    free(c);
}

void casie__category_bytes(const casie__category *c, const void **data, size_t *size) {
    *data = c->bytes;
    *size = c->size;
}

/* Points c's arrays into the section bytes p (size), checking them. */
static int cat_bind(casie__category *c, const unsigned char *p, size_t size, const casie_model *m, const char *path,
                    casie_error *err) {
    if (size < CAT_HEADER) goto bad;
    uint32_t ver = casie__get_u32le(p), fv = casie__get_u32le(p + 4);
    if (ver != CAT_VERSION || fv != CAT_FEATURE_VERSION)
        return casie__error(err, CASIE_ERR_MODEL_VERSION, -1, "%s: CATG section version %u/%u; this casie reads %u/%u",
                            path, ver, fv, CAT_VERSION, CAT_FEATURE_VERSION);
    c->n_rows = casie__get_u32le(p + 8);
    c->dim = casie__get_u32le(p + 12);
    for (int k = 0; k < 2; k++)
        c->n_labels[k] = casie__get_u32le(p + 16 + 4 * k), c->stride[k] = casie__get_u32le(p + 24 + 4 * k);
    for (int i = 32; i < CAT_HEADER; i++)
        if (p[i]) goto bad;
    if (!c->n_rows || (c->n_rows & (c->n_rows - 1)) || c->n_rows > (1u << 22) || c->n_labels[0] != CASIE_N_PURPOSES ||
        c->n_labels[1] != CASIE_N_CAPEC || c->dim != (m->emb.n_words ? 2 * m->emb.dim : 0))
        goto bad;
    for (int k = 0; k < 2; k++)
        if (c->stride[k] != stride_of(c->n_labels[k])) goto bad;
    size_t w_at[2], d_at[2];
    if (layout(c->n_rows, c->dim, c->stride, w_at, d_at) != size) goto bad;
    for (int k = 0; k < 2; k++) {
        c->w[k] = (const uint16_t *)(const void *)(p + w_at[k]);
        c->d[k] = (const float *)(const void *)(p + d_at[k]);
        uint16_t nf = 0;
        for (size_t i = 0, n = (size_t)c->n_rows * c->stride[k]; i < n; i++)
            nf |= (uint16_t)((c->w[k][i] & 0x7f80u) == 0x7f80u);
        for (size_t i = 0, n = (size_t)c->dim * c->stride[k]; i < n; i++)
            nf |= (uint16_t)!isfinite(c->d[k][i]);
        if (nf) goto bad;
    }
    c->bytes = p;
    c->size = size;
    return CASIE_OK;
bad:
    return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: bad CATG section", path);
}

int casie__category_load(casie_model *m, const casie__section *s, const char *path, casie_error *err) {
    casie__category *c = calloc(1, sizeof *c);
    if (!c) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    int rc = cat_bind(c, s->data, (size_t)s->size, m, path, err);
    if (rc) {
        free(c);
        return rc;
    }
    m->cat = c;
    return CASIE_OK;
}

/* ======================================================================== */
/* Training                                                                 */
/* ======================================================================== */

typedef struct cat_example {
    int kind, label;
    int n;       /* features */
    size_t f_at; /* into the feature pool */
    size_t x_at; /* into the dense pool */
} cat_example;

typedef struct cat_data {
    cat_example *ex;
    size_t n, cap;
    uint64_t *f;
    size_t nf, capf;
    float *x;
    size_t nx, capx;
} cat_data;

static void cat_data_free(cat_data *d) {
    free(d->ex);
    free(d->f);
    free(d->x);
    memset(d, 0, sizeof *d);
}

/* The examples of docs' gold arguments with a known category. */
static int cat_collect(const casie_model *m, casie_doc *const *docs, int n_docs, uint32_t dim, cat_data *d,
                       casie_error *err) {
    cat_input in;
    if (!(in.x = calloc((size_t)dim + 1, sizeof(float))))
        return casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory");
    int rc = CASIE_OK;
    for (int i = 0; i < n_docs && !rc; i++) {
        casie_doc *doc = docs[i];
        if ((rc = casie_doc_analyze(doc, err))) break;
        casie__tokfeat *tf = casie__doc_tokfeats(doc, &m->clusters);
        if (!tf) {
            rc = casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory");
            break;
        }
        for (int h = 0; h < doc->n_hoppers && !rc; h++)
            for (int e = 0; e < doc->hoppers[h].n_events && !rc; e++) {
                const casie_event *ev = &doc->hoppers[h].events[e];
                for (int j = 0; j < ev->n_args && !rc; j++) {
                    const casie_arg *a = &ev->args[j];
                    int label = casie__arg_category(a), sb, se, ab, ae, tb, te;
                    if (label < 0 || !arg_context(doc, ev, a, &sb, &se, &ab, &ae, &tb, &te)) continue;
                    cat_features(m, tf, sb, se, ab, ae, tb, te, a->role, ev->subtype, &in);
                    if (casie__grow((void **)&d->ex, &d->cap, d->n + 1, sizeof *d->ex) ||
                        casie__grow((void **)&d->f, &d->capf, d->nf + (size_t)in.n, sizeof *d->f) ||
                        casie__grow((void **)&d->x, &d->capx, d->nx + dim + 1, sizeof *d->x)) {
                        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory");
                        break;
                    }
                    d->ex[d->n++] = (cat_example){casie_role_category(a->role) - 1, label, in.n, d->nf, d->nx};
                    memcpy(d->f + d->nf, in.f, sizeof(uint64_t) * (size_t)in.n);
                    d->nf += (size_t)in.n;
                    if (dim) memcpy(d->x + d->nx, in.x, sizeof(float) * dim);
                    d->nx += dim;
                }
            }
        free(tf);
    }
    free(in.x);
    return rc;
}

/* Weights of one kind in training: w (rows, S) and dense v (dim, S), with
 * AdaGrad's sums of squared gradients beside them. */
typedef struct cat_weights {
    float *w, *gw, *v, *gv;
} cat_weights;

static void cat_train_kind(const cat_data *d, int k, uint32_t rows, uint32_t dim, uint32_t S, int L, int epochs,
                           const casie_train_params *p, cat_weights *cw, size_t *order) {
    const uint64_t seed = p->seed;
    const float lr = p->cat_lr, l2 = p->cat_l2;
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->ex[i].kind == k) order[n++] = i;
    uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 0x51ed2701u + (uint64_t)k;
    float sc[CASIE_N_CAPEC + 8];
    const uint32_t mask = rows - 1;
    for (int ep = 0; ep < epochs; ep++) {
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)(casie__rng_next(&rng) % i), t = order[i - 1];
            order[i - 1] = order[j], order[j] = t;
        }
        for (size_t q = 0; q < n; q++) {
            const cat_example *e = &d->ex[order[q]];
            const uint64_t *f = d->f + e->f_at;
            const float *x = d->x + e->x_at;
            for (int l = 0; l < L; l++)
                sc[l] = 0;
            for (int i = 0; i < e->n; i++) {
                const float *row = cw->w + (size_t)(f[i] & mask) * S;
                for (int l = 0; l < L; l++)
                    sc[l] += row[l];
            }
            for (uint32_t j = 0; j < dim; j++)
                for (int l = 0; l < L; l++)
                    sc[l] += x[j] * cw->v[(size_t)j * S + l];
            float prob;
            softmax_best(sc, L, &prob);
            sc[e->label] -= 1.0f; /* the gradient of the loss on the scores */
            for (int i = 0; i < e->n; i++) {
                size_t at = (size_t)(f[i] & mask) * S;
                for (int l = 0; l < L; l++) {
                    float g = sc[l] + l2 * cw->w[at + l];
                    cw->gw[at + l] += g * g;
                    cw->w[at + l] -= lr * g / sqrtf(cw->gw[at + l] + 1e-6f);
                }
            }
            for (uint32_t j = 0; j < dim; j++) {
                if (x[j] == 0) continue;
                size_t at = (size_t)j * S;
                for (int l = 0; l < L; l++) {
                    float g = sc[l] * x[j] + l2 * cw->v[at + l];
                    cw->gv[at + l] += g * g;
                    cw->v[at + l] -= lr * g / sqrtf(cw->gv[at + l] + 1e-6f);
                }
            }
        }
    }
}

int casie__category_train(const casie_model *m, casie_doc *const *docs, int n_docs, const casie_train_params *p,
                          casie__category **out, casie_error *err) {
    *out = NULL;
    casie_train_params dflt;
    if (!p) dflt = casie_train_default_params(), p = &dflt;
    const uint32_t rows = 1u << p->cat_row_bits, dim = m->emb.n_words ? 2 * m->emb.dim : 0;
    const uint32_t L[2] = {CASIE_N_PURPOSES, CASIE_N_CAPEC}, S[2] = {stride_of(L[0]), stride_of(L[1])};
    const int epochs = p->epochs > 0 ? p->epochs : p->cat_epochs;
    cat_data d = {0};
    cat_weights cw = {0};
    size_t *order = NULL;
    casie__category *c = NULL;
    int rc = cat_collect(m, docs, n_docs, dim, &d, err);
    if (rc) goto done;
    if (!d.n) {
        rc = casie__error(err, CASIE_ERR_EMPTY, -1, "no argument with a category to train on");
        goto done;
    }
    size_t w_at[2], d_at[2], size = layout(rows, dim, S, w_at, d_at);
    rc = CASIE_ERR_NOMEM;
    if (!(c = calloc(1, sizeof *c)) || !(c->own = calloc(1, size)) || !(order = malloc(sizeof *order * d.n)))
        goto nomem;
    casie__put_u32le(c->own, CAT_VERSION);
    casie__put_u32le(c->own + 4, CAT_FEATURE_VERSION);
    casie__put_u32le(c->own + 8, rows);
    casie__put_u32le(c->own + 12, dim);
    for (int k = 0; k < 2; k++)
        casie__put_u32le(c->own + 16 + 4 * k, L[k]), casie__put_u32le(c->own + 24 + 4 * k, S[k]);
    for (int k = 0; k < 2; k++) {
        size_t nw = (size_t)rows * S[k], nv = (size_t)dim * S[k] + 1;
        if (!(cw.w = calloc(nw, sizeof(float))) || !(cw.gw = calloc(nw, sizeof(float))) ||
            !(cw.v = calloc(nv, sizeof(float))) || !(cw.gv = calloc(nv, sizeof(float))))
            goto nomem;
        cat_train_kind(&d, k, rows, dim, S[k], (int)L[k], epochs, p, &cw, order);
        uint16_t *w = (uint16_t *)(void *)(c->own + w_at[k]);
        for (size_t i = 0; i < nw; i++)
            w[i] = casie__f32_to_bf16(cw.w[i]);
        memcpy(c->own + d_at[k], cw.v, sizeof(float) * (size_t)dim * S[k]);
        free(cw.w), free(cw.gw), free(cw.v), free(cw.gv);
        memset(&cw, 0, sizeof cw);
    }
    if ((rc = cat_bind(c, c->own, size, m, "trained classifier", err))) goto done;
    if (p->log) {
        char msg[160];
        snprintf(msg, sizeof msg, "categories: trained on %zu arguments (%d epochs, %u rows, %u dense inputs)", d.n,
                 epochs, rows, dim);
        p->log(p->log_user, msg);
    }
    *out = c;
    c = NULL;
    rc = CASIE_OK;
    goto done;
nomem:
    rc = casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory training the category classifier");
done:
    free(cw.w), free(cw.gw), free(cw.v), free(cw.gv);
    free(order);
    casie__category_free(c);
    cat_data_free(&d);
    return rc;
}
