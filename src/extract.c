/*
 * extract.c - running a model over a document: triggers (sequence tagging),
 * arguments (sequence tagging per trigger), entity types, realis, and
 * coreference into hoppers.
 *
 * Not here: training (train*.c), the model file (model.c) and the caches and
 * scratch pool a loaded model keeps (model_cache.c), spans and BIO labels
 * (tagging.c), the coreference pair features (coref_feats.c).  Everything
 * here is read-only on the model, so one model serves many threads.
 */
#include "internal.h"
#include "actors.h"
#include "category.h"
#include "coref_feats.h"
#include "cve_rule.h"
#include "doc.h"
#include "event_conflict.h"
#include "extract.h"
#include "feats.h"
#include "tagging.h"
#include "linear.h"
#include "model.h"
#include "nn.h"
#include "xvec.h"

#include <pthread.h>

#include <math.h>
#include <string.h>

#define NEG (-1e30f)

casie_extract_params casie_extract_default_params(void) {
    casie_extract_params p = {0.0f, 0.0f, 0, 1};
    return p;
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
    float *E;    /* (n, L) emission scores */
    float *P;    /* (n, L) marginals */
    int *lab;    /* (n,) */
    span *sp;    /* (n,) */
    float *Hs;   /* (CASIE_NN_CHUNK, 2H) encoder states */
    float *u;    /* (U,) head input */
    float *work; /* network scratch */
    float *Zx;   /* (CASIE_NN_CHUNK, 2, 4H) input projections of the span being encoded */
    /* the argument network's projections of the token vectors alone, for
     * tokens [zc_b, zc_e): shared by the windows of nearby triggers */
    float *Zc[2]; /* (ZC_CAP, 2, 4H), one per argument network */
    int zc_b[2], zc_e[2];
    /* what extraction derives from each network's weights (trig_nn,
     * trig_nn2, arg_nn, arg_nn2): the loaded model's (casie__projcache), or
     * for a model in training this document's own, in own[] */
    const casie__derived *wt[CASIE__N_NETS];
    casie__derived own[CASIE__N_NETS];
    int16_t *Hq;     /* (CASIE_NN_CHUNK, 2H) the encoder states in int16, for the quantized heads */
    float *base;     /* (K,) the argument head's share of the trigger's states */
    size_t n_cap;    /* E, P, lab and sp hold this many tokens */
    const float *xv; /* (n_tokens, m->xdim) the document's encoder inputs, or NULL (xvec.c) */
} scratch;

#define ZC_CAP (2 * CASIE_NN_CHUNK)

/* ---- the networks' input projections ---- */

/* floats of the word vector at the start of a token vector */
static int emb_dim(const casie__emb *e) { return e->n_words ? (int)e->dim : 0; }

/* z (2, 4H) = bias + W x for token f's vector x (casie__tokvec), as the
 * word vector's share plus the bias (cached, or computed into z from the
 * quantized columns P, with work as scratch) plus the columns C of the
 * indicator inputs that are 1; enc_proj then adds the encoder inputs'. */
static void token_proj(const casie_model *m, const casie__nnet *nn, const casie__projcache *pc, const float *C,
                       const void *P, const casie__tokfeat *f, float *z, float *work) {
    const casie__emb *e = &m->emb;
    const int G = 4 * nn->H, dim = emb_dim(e);
    const float *bias[2] = {nn->p + nn->o_bf, nn->p + nn->o_bb};
    if (dim && f->emb && f->emb <= e->n_words) {
        int row = f->emb - 1;
        float *slot = NULL;
        const float *ze = NULL;
        if (pc->z && row < pc->rows) {
            unsigned char st = atomic_load_explicit(&pc->state[row], memory_order_acquire), empty = 0;
            if (st == 2)
                ze = pc->z + (size_t)row * 2 * G;
            else if (st == 0 && atomic_compare_exchange_strong_explicit(&pc->state[row], &empty, 1,
                                                                        memory_order_acq_rel, memory_order_acquire))
                slot = pc->z + (size_t)row * 2 * G;
        }
        if (ze) {
            memcpy(z, ze, sizeof(float) * 2 * (size_t)G);
        } else {
            float *out = slot ? slot : z;
            casie__nnet_project_q(nn, P, dim, e->v + (size_t)row * e->dim, e->scale[row], out, work);
            for (int dir = 0; dir < 2; dir++)
                casie__nnet_add_tcol(bias[dir], 1.0f, G, out + (size_t)dir * G);
            if (slot) {
                atomic_store_explicit(&pc->state[row], 2, memory_order_release);
                memcpy(z, slot, sizeof(float) * 2 * (size_t)G);
            }
        }
    } else {
        for (int dir = 0; dir < 2; dir++)
            memcpy(z + (size_t)dir * G, bias[dir], sizeof(float) * (size_t)G);
    }
    /* the indicators, in casie__tokvec's order */
    if (f->cap < CASIE_TV_UNKNOWN - CASIE_TV_CAP)
        casie__nnet_add_tcol(C + (size_t)(CASIE_TV_CAP + f->cap) * 2 * G, 1.0f, 2 * G, z);
    if (f->emb == 0) casie__nnet_add_tcol(C + (size_t)CASIE_TV_UNKNOWN * 2 * G, 1.0f, 2 * G, z);
    for (int b = 0; b < CASIE_TV_N_FLAGS; b++)
        if ((f->flags >> b) & 1u) casie__nnet_add_tcol(C + (size_t)(CASIE_TV_FLAGS + b) * 2 * G, 1.0f, 2 * G, z);
}

/* Z (i1 - i0, 2, 4H) += the encoder inputs' share of tokens i0..i1 - 1
 * (their columns in C times their values), when the document has them:
 * token_proj's last step, for many tokens at once. */
static void enc_proj(const casie_model *m, const casie__nnet *nn, const float *C, const float *xv, int i0, int i1,
                     float *Z) {
    if (!xv || i1 <= i0) return;
    const size_t G2 = 8 * (size_t)nn->H, X = (size_t)m->xdim;
    casie__nnet_add_tcols(C + CASIE_TOKVEC_EXTRA * G2, m->xdim, (int)G2, xv + (size_t)i0 * X, X, i1 - i0, Z, G2);
}

static void scratch_destroy(scratch *s) {
    if (!s) return;
    free(s->E);
    free(s->P);
    free(s->lab);
    free(s->sp);
    free(s->Hs);
    free(s->u);
    free(s->work);
    free(s->Zx);
    free(s->base);
    free(s->Hq);
    for (int q = 0; q < 2; q++)
        free(s->Zc[q]);
    for (int k = 0; k < CASIE__N_NETS; k++)
        casie__derived_free(&s->own[k]);
    free(s);
}

void casie__extract_scratch_free(void *s) { scratch_destroy(s); }

/* The buffers sized by the model's networks. */
static scratch *scratch_new(const casie_model *m) {
    scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    /* arg_nn2 has arg_nn's shape and trig_nn2 trig_nn's (the loader checks it) */
    const casie__nnet *a = &m->arg_nn, *t = &m->trig_nn;
    size_t H = (size_t)(a->H > t->H ? a->H : t->H);
    size_t U = (size_t)(a->U > t->U ? a->U : t->U),
           W = casie__nnet_work(a) > casie__nnet_work(t) ? casie__nnet_work(a) : casie__nnet_work(t);
    s->Hs = malloc(sizeof(float) * CASIE_NN_CHUNK * 2 * (H ? H : 1));
    s->u = malloc(sizeof(float) * (U ? U : 1));
    s->work = malloc(sizeof(float) * (W ? W : 1));
    s->Zx = malloc(sizeof(float) * CASIE_NN_CHUNK * 8 * (H ? H : 1));
    s->base = malloc(sizeof(float) * (size_t)(a->K > 0 ? a->K : 1));
    s->Hq = malloc(sizeof(int16_t) * CASIE_NN_CHUNK * 2 * (H ? H : 1));
    int ok = s->Hs && s->u && s->work && s->Zx && s->base && s->Hq;
    const casie__nnet *an[2] = {&m->arg_nn, &m->arg_nn2};
    for (int q = 0; q < 2; q++)
        if (an[q]->p && !(s->Zc[q] = malloc(sizeof(float) * ZC_CAP * 8 * H))) ok = 0;
    if (!ok) {
        scratch_destroy(s);
        return NULL;
    }
    return s;
}

/* A scratch for one extraction over doc: from the model's pool or new, with
 * room for doc's longest sentence and the weights' derived forms in place;
 * NULL when out of memory. */
static scratch *scratch_get(const casie_model *m, const casie_doc *doc) {
    scratch *s = m->pool ? casie__pool_take(m->pool) : NULL;
    if (!s && !(s = scratch_new(m))) return NULL;
    size_t n = 1;
    for (int k = 0; k < doc->n_sents; k++) {
        size_t len = (size_t)(doc->sents[k].tok_end - doc->sents[k].tok_begin);
        if (len > n) n = len;
    }
    if (n > s->n_cap) { /* grown, never shrunk */
        const size_t L = CASIE_ARG_LABELS > CASIE_TRIG_LABELS ? CASIE_ARG_LABELS : CASIE_TRIG_LABELS;
        free(s->E), free(s->P), free(s->lab), free(s->sp);
        s->E = malloc(sizeof(float) * n * L);
        s->P = malloc(sizeof(float) * n * L);
        s->lab = malloc(sizeof(int) * n);
        s->sp = malloc(sizeof(span) * n);
        s->n_cap = s->E && s->P && s->lab && s->sp ? n : 0;
        if (!s->n_cap) {
            scratch_destroy(s);
            return NULL;
        }
    }
    s->zc_b[0] = s->zc_b[1] = s->zc_e[0] = s->zc_e[1] = 0; /* nothing projected yet */
    s->xv = NULL;
    for (int k = 0; k < CASIE__N_NETS; k++) {
        s->wt[k] = NULL;
        if (!m->nets[k].p) continue;
        if (m->pc[k].w.R) { /* made once when the model was loaded */
            s->wt[k] = &m->pc[k].w;
            continue;
        }
        if (casie__derive_weights(&m->nets[k], &m->emb, CASIE__NET_IS_ARG(k), &s->own[k])) { /* in training */
            scratch_destroy(s);
            return NULL;
        }
        s->wt[k] = &s->own[k];
    }
    return s;
}

/* Back to the pool (its per-document weights freed), or freed. */
static void scratch_put(const casie_model *m, scratch *s) {
    if (!s) return;
    for (int k = 0; k < CASIE__N_NETS; k++)
        casie__derived_free(&s->own[k]);
    if (!m->pool || casie__pool_give(m->pool, s)) scratch_destroy(s);
}

/* The transitions a tagger decodes with: mix * the perceptron's plus the
 * network's, in a view of the linear model (trans and start point into the
 * caller's arrays of L*L and L floats). */
static casie__linear mixed_view(const casie__linear *lin, const casie__nnet *nn, const casie__nnet *nn2, float mix,
                                float *trans, float *start) {
    casie__linear v = *lin;
    const int L = (int)lin->n_labels;
    for (int i = 0; i < L * L; i++)
        trans[i] = mix * (lin->trans ? lin->trans[i] : 0) + (nn->p ? nn->p[nn->o_trans + i] : 0) +
                   (nn2 && nn2->p ? nn2->p[nn2->o_trans + i] : 0);
    for (int i = 0; i < L; i++)
        start[i] = mix * (lin->start ? lin->start[i] : 0) + (nn->p ? nn->p[nn->o_start + i] : 0) +
                   (nn2 && nn2->p ? nn2->p[nn2->o_start + i] : 0);
    v.trans = trans;
    v.start = start;
    return v;
}

/* Sparse emission scores of one position, times mix (skipped at 0). */
static void mixed_score(const casie__linear *lin, float mix, const uint64_t *feats, int nf, float *row) {
    if (mix == 0.0f || !lin->n_rows) return;
    float tmp[CASIE_ARG_LABELS > CASIE_TRIG_LABELS ? CASIE_ARG_LABELS : CASIE_TRIG_LABELS] = {0};
    casie__linear_score(lin, feats, nf, tmp);
    for (uint32_t l = 0; l < lin->n_labels; l++)
        row[l] += mix * tmp[l];
}

/* Decodes s->E (n tokens) into labelled spans with confidence scores in
 * s->sp; returns how many, or CASIE_ERR_NOMEM. */
static int tag_spans(const casie__linear *m, scratch *s, int n, const uint8_t *allowed, const uint8_t *start_ok,
                     float temp) {
    if (casie__viterbi(m, s->E, n, allowed, start_ok, s->lab)) return CASIE_ERR_NOMEM;
    int any = 0;
    for (int i = 0; i < n; i++)
        any |= s->lab[i];
    if (!any) return 0;
    if (casie__marginals(m, s->E, n, allowed, start_ok, temp, s->P)) return CASIE_ERR_NOMEM;
    return bio_spans(s->lab, s->P, (int)m->n_labels, n, s->sp);
}

/* Triggers of one document (a flat list, one hopper per event for now). */
static int find_triggers(const casie_model *m, casie_doc *doc, const casie__tokfeat *tf, float threshold, scratch *sc,
                         evlist *out) {
    const int L = CASIE_TRIG_LABELS;
    uint64_t feats[CASIE_MAX_FEATS];
    uint8_t allowed[CASIE_TRIG_LABELS * CASIE_TRIG_LABELS], start_ok[CASIE_TRIG_LABELS];
    float trans[CASIE_TRIG_LABELS * CASIE_TRIG_LABELS], start[CASIE_TRIG_LABELS];
    casie__trig_masks(allowed, start_ok);
    const casie__linear view = mixed_view(&m->trig, &m->trig_nn, &m->trig_nn2, m->trig_mix, trans, start);
    const casie__nnet *nets[2] = {&m->trig_nn, &m->trig_nn2};
    const casie__projcache *pcs[2] = {&m->pc[CASIE__NET_TRIG], &m->pc[CASIE__NET_TRIG2]};
    for (int s = 0; s < doc->n_sents; s++) {
        int b = doc->sents[s].tok_begin, e = doc->sents[s].tok_end, n = e - b;
        if (n <= 0) continue;
        memset(sc->E, 0, sizeof(float) * (size_t)n * L);
        for (int i = b; i < e; i++) {
            float *row = sc->E + (size_t)(i - b) * L;
            if (m->trig_mix != 0.0f)
                mixed_score(&m->trig, m->trig_mix, feats, casie__trig_feats(tf, b, e, i, m->trig.fv, feats), row);
            for (int l = 1; l < L; l++)
                row[l] += m->trig_bias;
        }
        for (int q = 0; q < 2; q++) { /* each network's scores are added */
            const casie__nnet *nn = nets[q];
            for (int c0 = b; nn->p && c0 < e; c0 += CASIE_NN_CHUNK) { /* the encoder, piece by piece */
                int c1 = c0 + CASIE_NN_CHUNK < e ? c0 + CASIE_NN_CHUNK : e;
                for (int i = c0; i < c1; i++)
                    token_proj(m, nn, pcs[q], sc->wt[q]->C, sc->wt[q]->P, &tf[i], sc->Zx + (size_t)(i - c0) * 8 * nn->H,
                               sc->work);
                enc_proj(m, nn, sc->wt[q]->C, sc->xv, c0, c1, sc->Zx);
                casie__nnet_encode_proj(nn, sc->wt[q]->R, sc->Zx, c1 - c0, sc->Hs, sc->Hq, sc->work);
                for (int i = c0; i < c1; i++)
                    casie__nnet_head_from_q(nn, 0, sc->wt[q]->Q, nn->p + nn->o_b1[0],
                                            sc->Hq + (size_t)(i - c0) * 2 * nn->H, 2 * nn->H,
                                            sc->E + (size_t)(i - b) * L, sc->work);
            }
        }
        int ns = tag_spans(&view, sc, n, allowed, start_ok, m->trig_temp);
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

static void find_realis(const casie_model *m, const casie_doc *doc, const casie__tokfeat *tf, casie_event *ev,
                        float *sc);

/* Arguments and realis of one event (the two share the event's encoding). */
static int find_arguments(const casie_model *m, const casie_doc *doc, const casie__tokfeat *tf, const uint8_t *is_trig,
                          scratch *sc, casie_event *ev, float threshold) {
    float rs[CASIE_N_REALIS] = {0};
    const int L = CASIE_ARG_LABELS;
    int tb, te;
    if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) return CASIE_OK;
    int b, e;
    casie__arg_window(doc, tb, &te, &b, &e);
    int n = e - b;
    uint64_t feats[CASIE_MAX_FEATS];
    uint8_t allowed[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start_ok[CASIE_ARG_LABELS];
    casie__arg_masks(m, ev->subtype, allowed, start_ok);
    memset(sc->E, 0, sizeof(float) * (size_t)n * L);
    casie__arg_ctx c = {tf, b, e, tb, te, ev->subtype, is_trig};
    for (int i = b; i < e; i++) {
        float *row = sc->E + (size_t)(i - b) * L;
        if (i >= tb && i < te) { /* an argument never overlaps its trigger */
            for (int l = 1; l < L; l++)
                row[l] = NEG;
            continue;
        }
        if (m->arg_mix != 0.0f) mixed_score(&m->arg, m->arg_mix, feats, casie__arg_feats(&c, i, feats), row);
        for (int l = 1; l < L; l++)
            row[l] += m->arg_bias;
    }
    const casie__nnet *nets[2] = {&m->arg_nn, &m->arg_nn2};
    const casie__projcache *pcs[2] = {&m->pc[CASIE__NET_ARG], &m->pc[CASIE__NET_ARG2]};
    for (int q = 0; q < 2; q++) { /* each network's scores are added */
        const casie__nnet *nn = nets[q];
        if (!nn->p) continue;
        const int D0 = nn->D - CASIE_ARGVEC_REL, H = nn->H, th = te - 1 - b, G2 = 8 * H, dim0 = emb_dim(&m->emb);
        float *Zc = sc->Zc[q];
        const casie__derived *w = sc->wt[2 + q];
        const float *Ca = w->C;
        if (b < sc->zc_b[q] || e > sc->zc_e[q]) { /* project the token vectors of the tokens from b on */
            int ce = b + ZC_CAP < doc->n_tokens ? b + ZC_CAP : doc->n_tokens;
            for (int i = b; i < ce; i++)
                token_proj(m, nn, pcs[q], Ca, w->P, &tf[i], Zc + (size_t)(i - b) * G2, sc->work);
            enc_proj(m, nn, Ca, sc->xv, b, ce, Zc);
            sc->zc_b[q] = b, sc->zc_e[q] = ce;
        }
        /* plus this trigger's relation inputs (casie__argvec_rel): the sum
         * of the side, distance and subtype columns from the table, and the
         * column of another trigger's tokens */
        const float *other = Ca + (size_t)(D0 - dim0 + CASIE_AV_OTHER_TRIG) * G2;
        for (int i = b; i < e; i++) {
            float *z = sc->Zx + (size_t)(i - b) * G2;
            int side, bk;
            casie__argvec_side(i, tb, te, &side, &bk);
            casie__nnet_sum2(Zc + (size_t)(i - sc->zc_b[q]) * G2,
                             w->T + (size_t)((side * CASIE_ARGVEC_BUCKETS + bk) * CASIE_N_SUBTYPES + ev->subtype) * G2,
                             G2, z);
            if (is_trig && is_trig[i] && (i < tb || i >= te)) casie__nnet_add_tcol(other, 1.0f, G2, z);
        }
        casie__nnet_encode_proj(nn, w->R, sc->Zx, n, sc->Hs, sc->Hq, sc->work);
        memcpy(sc->u, sc->Hs + (size_t)(tb - b) * 2 * H, sizeof(float) * 2 * (size_t)H);
        memcpy(sc->u + 2 * H, sc->Hs + (size_t)th * 2 * H, sizeof(float) * 2 * (size_t)H);
        if (nn->L2 == CASIE_N_REALIS) casie__nnet_head(nn, 1, sc->u, rs, sc->work);
        /* each token's head input is [its states; the trigger's last
         * states]: the second half's share is computed once */
        casie__nnet_head_base(nn, 0, sc->Hs + (size_t)th * 2 * H, 2 * H, sc->base);
        for (int i = b; i < e; i++) {
            if (i >= tb && i < te) continue;
            casie__nnet_head_from_q(nn, 0, w->Q, sc->base, sc->Hq + (size_t)(i - b) * 2 * H, 2 * H,
                                    sc->E + (size_t)(i - b) * L, sc->work);
        }
    }
    find_realis(m, doc, tf, ev, rs);
    float trans[CASIE_ARG_LABELS * CASIE_ARG_LABELS], start[CASIE_ARG_LABELS];
    const casie__linear view = mixed_view(&m->arg, &m->arg_nn, &m->arg_nn2, m->arg_mix, trans, start);
    int ns = tag_spans(&view, sc, n, allowed, start_ok, m->arg_temp);
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

/* Realis from the sparse features plus the network's scores sc (in place). */
static void find_realis(const casie_model *m, const casie_doc *doc, const casie__tokfeat *tf, casie_event *ev,
                        float *sc) {
    int tb, te;
    if (!casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) return;
    int s = doc->tokens[tb].sent;
    uint64_t feats[CASIE_MAX_FEATS];
    if (m->realis_mix != 0.0f && m->realis.n_rows) {
        int nf = casie__realis_feats(tf, doc->sents[s].tok_begin, doc->sents[s].tok_end, tb, te, ev->subtype,
                                     m->realis.fv, feats);
        float sp[CASIE_N_REALIS] = {0};
        casie__linear_score(&m->realis, feats, nf, sp);
        for (int r = 0; r < CASIE_N_REALIS; r++)
            sc[r] += m->realis_mix * sp[r];
    }
    int best = 0;
    for (int r = 1; r < CASIE_N_REALIS; r++)
        if (sc[r] > sc[best]) best = r;
    ev->realis = best;
}

/* ---- coreference ---- */

/* Best-first clustering: each event joins the cluster of its best-scoring
 * earlier event when that link scores positive and no event of that cluster
 * conflicts with it. */
static int cluster_events(const casie_model *m, const casie_doc *doc, const casie__tokfeat *tf, const float *xv,
                          evlist *l, int *cl) {
    uint64_t feats[CASIE_COREF_FEATS];
    casie__conflicts cf;
    casie__coref_vecs cv;
    if (casie__coref_vecs_init(&cv, doc, xv, m->xdim)) return CASIE_ERR_NOMEM;
    if (casie__conflicts_init(&cf, doc, tf, l->ev, l->n)) {
        casie__coref_vecs_free(&cv);
        return CASIE_ERR_NOMEM;
    }
    for (int j = 0; j < l->n; j++) {
        cl[j] = j;
        float best = 0;
        for (int i = j > CASIE_COREF_WINDOW ? j - CASIE_COREF_WINDOW : 0; i < j; i++) {
            float sc[2] = {0, 0};
            int nf = casie__coref_feats(doc, tf, &cv, &l->ev[i], &l->ev[j], feats);
            casie__linear_score(&m->coref, feats, nf, sc);
            /* the pair weights were learnt on gold realis, where a Generic
             * event seldom shares a hopper; a predicted Generic one often
             * is not Generic, so its links get an offset of their own */
            float x = sc[1] - sc[0] + m->coref_bias;
            if (l->ev[i].realis == CASIE_REALIS_GENERIC || l->ev[j].realis == CASIE_REALIS_GENERIC)
                x += m->coref_generic;
            if (x > best && !casie__conflicts_check(&cf, doc, tf, l->ev, cl[i], j)) {
                best = x;
                cl[j] = cl[i];
            }
        }
        casie__conflicts_add(&cf, cl[j], j);
    }
    casie__conflicts_free(&cf);
    casie__coref_vecs_free(&cv);
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
    for (int i = 0; i < l->n; i++)
        hid[i] = -1;
    for (int i = 0; i < l->n; i++) {
        if (hid[cl[i]] < 0) hid[cl[i]] = nh++;
        casie_hopper *h = &H[hid[cl[i]]];
        if (!h->events) {
            int cnt = 0;
            for (int k = 0; k < l->n; k++)
                cnt += cl[k] == cl[i];
            h->events = calloc((size_t)cnt, sizeof(casie_event));
            if (!h->events) {
                for (int k = 0; k < nh; k++)
                    free(H[k].events);
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

static int after_triggers(const casie_model *m, casie_doc *doc, const casie__tokfeat *tf, const casie_extract_params *p,
                          scratch *sc, evlist *l) {
    int rc = CASIE_ERR_NOMEM;
    uint8_t *is_trig = calloc((size_t)doc->n_tokens + 1, 1);
    int *cl = malloc(sizeof(int) * ((size_t)l->n + 1));
    if (!is_trig || !cl) goto done;
    for (int k = 0; k < l->n; k++) {
        int tb, te;
        if (casie__span_tokens(doc, l->ev[k].start, l->ev[k].end, &tb, &te))
            for (int t = tb; t < te; t++)
                is_trig[t] = 1;
    }
    for (int k = 0; k < l->n; k++) {
        casie_event *ev = &l->ev[k];
        casie__event_clear_args(ev);
        if ((rc = find_arguments(m, doc, tf, is_trig, sc, ev, p->argument_threshold))) goto done;
    }
    if ((rc = casie__cve_args(doc, l->ev, l->n, p->argument_threshold))) goto done;
    casie__actor_roles(doc, l->ev, l->n);
    if ((rc = cluster_events(m, doc, tf, casie__coref_xv(m, sc->xv), l, cl))) goto done;
    rc = build_hoppers(doc, l, cl);
    if (!rc) rc = casie__category_predict(m, doc, tf); /* argument categories (category.c) */
done:
    free(is_trig);
    free(cl);
    return rc;
}

/* Per byte of text: 128 bytes cover the worst inputs measured with the fast
 * model, its JSON answer included (docs/HARDENING.md).  A model with an
 * encoder keeps xdim floats per token, and the worst text has a token per
 * byte (a run of commas: 1,685 bytes per byte measured for xdim 384, 3,216
 * for 768; news text about 330 and 657): 128 + 4 xdim more.  Fixed: one
 * extraction's scratch, and one encoder window's states and work. */
size_t casie_extract_memory(const casie_model *m, size_t n) {
    size_t per = 128 + (m && m->xdim > 0 ? 128 + 4 * (size_t)m->xdim : 0);
    size_t fixed = ((size_t)8 << 20) + (m && m->xdim > 0 ? (size_t)24 << 20 : 0);
    return n > (SIZE_MAX - fixed) / per ? SIZE_MAX : per * n + fixed;
}

/* The pipeline over doc: its triggers (found, or with given_triggers the
 * document's own events), then arguments, realis, entity types and
 * coreference, or with only_triggers nothing more (each event its own
 * hopper). */
static int extract_run(const casie_model *m, casie_doc *doc, const casie_extract_params *p, int only_triggers,
                       casie_error *err) {
    int rc = casie_doc_analyze(doc, err);
    if (rc) return rc;
    evlist l = {0};
    int *cl = NULL;
    float *xown = NULL;
    casie__tokfeat *tf = casie__doc_tokfeats(doc, &m->clusters);
    scratch *sc = tf ? scratch_get(m, doc) : NULL;
    rc = sc ? CASIE_OK : CASIE_ERR_NOMEM;
    if (!rc && (rc = casie__doc_xvec(m, doc, p->threads > 1 ? p->threads : 1, &sc->xv, &xown, err))) {
        scratch_put(m, sc);
        free(tf);
        return rc;
    }
    if (!rc) {
        if (p->given_triggers) { /* the document's events are the triggers */
            rc = take_events(doc, &l);
        } else {
            casie_doc_clear_events(doc);
            rc = find_triggers(m, doc, tf, p->trigger_threshold, sc, &l);
        }
    }
    if (!rc && !only_triggers) {
        rc = after_triggers(m, doc, tf, p, sc, &l);
    } else if (!rc) {
        if (!(cl = malloc(sizeof(int) * ((size_t)l.n + 1)))) rc = CASIE_ERR_NOMEM;
        for (int i = 0; !rc && i < l.n; i++)
            cl[i] = i;
        if (!rc) rc = build_hoppers(doc, &l, cl);
    }
    for (int i = 0; i < l.n; i++)
        casie__event_free(&l.ev[i]);
    free(l.ev);
    free(cl);
    scratch_put(m, sc);
    free(xown);
    free(tf);
    if (rc) casie__error(err, rc, -1, "%s: out of memory during extraction", doc->id ? doc->id : "document");
    return rc;
}

int casie_extract(const casie_model *m, casie_doc *doc, const casie_extract_params *params, casie_error *err) {
    casie_extract_params p = params ? *params : casie_extract_default_params();
    if (!m || !doc) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_extract: no model or document");
    if (p.threads < 0 || p.threads > 64)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_extract: %d threads, expected 1..64", p.threads);
    return extract_run(m, doc, &p, 0, err);
}

int casie__extract_triggers(const casie_model *m, casie_doc *doc, casie_error *err) {
    const casie_extract_params p = casie_extract_default_params(); /* threshold 0, triggers found */
    return extract_run(m, doc, &p, 1, err);
}
