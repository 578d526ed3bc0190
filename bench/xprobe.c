/*
 * xprobe.c - which of an encoder's layers carry what the taggers need: a
 * linear probe per reading of the layers, trained on one list of documents
 * and scored on another (two slices of the training split; dev is not read).
 *
 * Each token's vector for layer l is the mean over its word pieces of the
 * encoder's output after layer l (0: the embeddings), as xvec.c pools them.
 * Two probes per reading, each a softmax over the token's vector alone:
 *   trig  the token's BIO trigger label (O, B-subtype, I-subtype: 11);
 *   role  the role of an argument span covering the token (O + 26 roles),
 *         a proxy for what the argument networks read.
 * Readings: every single layer, means of runs of layers, and a learned
 * softmax mix of all layers (trained jointly with the trig probe).  Scores:
 * micro F1 over the non-O labels of the scoring tokens.
 *
 *   xprobe CORPUS ENCODER FIT_IDS SCORE_IDS [EPOCHS=4]
 *
 * Built and run by hand (docs/EXPERIMENTS.md, "Which layers"); not part of
 * make: it holds every layer of every token in memory (about 5 GB for the
 * 627 documents of the training slice).
 */
#include "internal.h"
#include "encoder_kernels.h"
#include "encoder.h"
#include "model.h"
#include "tagging.h"
#include "wordpiece.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NL_MAX 13

typedef struct tokset {
    int n, L, H;
    float *x;  /* (n, L, H) */
    int *trig; /* (n,) */
    int *role; /* (n,) */
} tokset;

typedef struct pool_ctx {
    const casie_doc *doc;
    const casie__pieces *pc;
    int L, H, n_tokens;
    float *out; /* (n_tokens, L, H) */
} pool_ctx;

static void pool_piece(void *user, int i, const float *const *h) {
    pool_ctx *c = user;
    for (int32_t t = c->pc->tok[i]; t >= 0 && t < c->n_tokens && c->doc->tokens[t].start < c->pc->end[i]; t++) {
        if (c->pc->tok_first[t] < 0 || c->pc->tok_first[t] > i || c->pc->tok_last[t] < i) continue;
        float *o = c->out + (size_t)t * (size_t)(c->L * c->H);
        for (int l = 0; l < c->L; l++)
            for (int j = 0; j < c->H; j++)
                o[l * c->H + j] += h[l][j];
    }
}

static void labels(const casie_doc *doc, int *trig, int *role) {
    memset(trig, 0, sizeof(int) * (size_t)doc->n_tokens);
    memset(role, 0, sizeof(int) * (size_t)doc->n_tokens);
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            const casie_event *ev = &doc->hoppers[h].events[i];
            int tb, te, clash = 0;
            if (casie__span_tokens(doc, ev->start, ev->end, &tb, &te)) {
                for (int x = tb; x < te; x++)
                    clash |= trig[x] != 0;
                if (!clash) {
                    trig[tb] = 1 + 2 * ev->subtype;
                    for (int x = tb + 1; x < te; x++)
                        trig[x] = 2 + 2 * ev->subtype;
                }
            }
            for (int a = 0; a < ev->n_args; a++)
                if (casie__span_tokens(doc, ev->args[a].start, ev->args[a].end, &tb, &te))
                    for (int x = tb; x < te; x++)
                        if (!role[x]) role[x] = 1 + ev->args[a].role;
        }
}

typedef struct job {
    casie_doc **docs;
    int n;
    const casie_encoder *enc;
    const casie__wordpiece *wp;
    float *x;       /* the token set's (n, L, H) */
    const long *at; /* each document's first token there */
    _Atomic int next;
} job;

static void *encode_worker(void *arg) {
    job *j = arg;
    const int H = casie_encoder_get_config(j->enc)->hidden, L = casie_encoder_get_config(j->enc)->n_layers + 1;
    casie__pieces pc;
    memset(&pc, 0, sizeof pc);
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n) break;
        const casie_doc *doc = j->docs[i];
        float *out = j->x + (size_t)j->at[i] * L * H;
        casie_error e;
        if (casie__wordpiece_doc(j->wp, doc, &pc, &e)) {
            fprintf(stderr, "xprobe: %s\n", e.message);
            exit(1);
        }
        pool_ctx c = {doc, &pc, L, H, doc->n_tokens < pc.n_tokens ? doc->n_tokens : pc.n_tokens, out};
        if (pc.n && casie__encoder_encode_long_each(j->enc, pc.id, pc.n, 512, 384, (1ull << L) - 1, CASIE_Q8_BEST, 1,
                                                    pool_piece, &c, &e)) {
            fprintf(stderr, "xprobe: %s\n", e.message);
            exit(1);
        }
        for (int32_t t = 0; t < c.n_tokens; t++) {
            int32_t a = pc.tok_first[t], b = pc.tok_last[t];
            if (a < 0 || b < a) continue;
            float inv = 1.0f / (float)(b - a + 1), *o = out + (size_t)t * L * H;
            for (int k = 0; k < L * H; k++)
                o[k] *= inv;
        }
    }
    casie__pieces_free(&pc);
    return NULL;
}

static tokset load(const char *corpus, const char *ids_path, const casie_encoder *enc, const casie__wordpiece *wp) {
    casie_error e;
    int n_ids;
    char **ids = casie_read_ids(ids_path, &n_ids, &e);
    if (!ids) fprintf(stderr, "xprobe: %s\n", e.message), exit(1);
    casie_corpus *c = casie_corpus_read(corpus, (const char *const *)ids, n_ids, &e);
    if (!c) fprintf(stderr, "xprobe: %s\n", e.message), exit(1);
    for (int i = 0; i < c->n_docs; i++)
        if (casie_doc_analyze(c->docs[i], &e)) fprintf(stderr, "xprobe: %s\n", e.message), exit(1);
    tokset s = {0};
    s.H = casie_encoder_get_config(enc)->hidden;
    s.L = casie_encoder_get_config(enc)->n_layers + 1;
    long *at = malloc(sizeof(long) * ((size_t)c->n_docs + 1));
    for (int i = 0; i < c->n_docs; i++)
        at[i] = s.n, s.n += c->docs[i]->n_tokens;
    s.x = calloc((size_t)s.n * s.L * s.H + 1, sizeof(float));
    s.trig = malloc(sizeof(int) * (size_t)s.n);
    s.role = malloc(sizeof(int) * (size_t)s.n);
    if (!s.x || !s.trig || !s.role) fprintf(stderr, "xprobe: out of memory\n"), exit(1);
    job j = {.docs = c->docs, .n = c->n_docs, .enc = enc, .wp = wp, .x = s.x, .at = at};
    atomic_init(&j.next, 0);
    pthread_t th;
    pthread_create(&th, NULL, encode_worker, &j);
    encode_worker(&j);
    pthread_join(th, NULL);
    for (int i = 0; i < c->n_docs; i++)
        labels(c->docs[i], s.trig + at[i], s.role + at[i]);
    free(at);
    casie_corpus_free(c);
    casie_strings_free(ids, n_ids);
    return s;
}

/* A reading of the layers: fixed weights w[l], or learned (softmax of a[l]). */
typedef struct reading {
    char name[32];
    float w[NL_MAX];
    int learned;
} reading;

static float scale_of[NL_MAX]; /* 1 / rms of each layer over the fit tokens */

static void featurize(const tokset *s, int t, const float *w, float *f) {
    const float *x = s->x + (size_t)t * s->L * s->H;
    memset(f, 0, sizeof(float) * (size_t)s->H);
    for (int l = 0; l < s->L; l++)
        if (w[l] != 0.0f)
            for (int j = 0; j < s->H; j++)
                f[j] += w[l] * scale_of[l] * x[l * s->H + j];
}

static void softmax(float *z, int k) {
    float mx = z[0], sum = 0;
    for (int i = 1; i < k; i++)
        mx = z[i] > mx ? z[i] : mx;
    for (int i = 0; i < k; i++)
        sum += z[i] = expf(z[i] - mx);
    for (int i = 0; i < k; i++)
        z[i] /= sum;
}

/* Trains a softmax probe (K classes) on fit over reading r, scores F1 on
 * score; a learned reading's weights are updated too (and printed). */
static double probe(const tokset *fit, const tokset *sc, const int *yfit, const int *ysc, int K, reading *r,
                    int epochs) {
    const int H = fit->H, L = fit->L, D = H + 1;
    float *W = calloc((size_t)K * D, sizeof(float)), *f = malloc(sizeof(float) * H), p[32], g[32];
    float a[NL_MAX] = {0}, w[NL_MAX];
    int *order = malloc(sizeof(int) * (size_t)fit->n);
    for (int i = 0; i < fit->n; i++)
        order[i] = i;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int ep = 0; ep < epochs; ep++) {
        for (int i = fit->n - 1; i > 0; i--) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            int k = (int)(seed % (uint64_t)(i + 1)), tmp = order[i];
            order[i] = order[k], order[k] = tmp;
        }
        float lr = 0.02f / (1.0f + ep);
        for (int ii = 0; ii < fit->n; ii++) {
            int t = order[ii];
            if (r->learned) {
                memcpy(w, a, sizeof w);
                softmax(w, L);
            } else
                memcpy(w, r->w, sizeof w);
            featurize(fit, t, w, f);
            for (int k = 0; k < K; k++) {
                const float *Wk = W + (size_t)k * D;
                float z = Wk[H];
                for (int j = 0; j < H; j++)
                    z += Wk[j] * f[j];
                p[k] = z;
            }
            softmax(p, K);
            for (int k = 0; k < K; k++)
                g[k] = p[k] - (k == yfit[t]);
            if (r->learned) { /* d loss / d a[l] through w = softmax(a) */
                const float *x = fit->x + (size_t)t * L * H;
                float dw[NL_MAX], dot = 0;
                for (int l = 0; l < L; l++) {
                    float s = 0;
                    for (int k = 0; k < K; k++) {
                        const float *Wk = W + (size_t)k * D;
                        float u = 0;
                        for (int j = 0; j < H; j++)
                            u += Wk[j] * x[l * H + j];
                        s += g[k] * u * scale_of[l];
                    }
                    dw[l] = s;
                    dot += w[l] * s;
                }
                for (int l = 0; l < L; l++)
                    a[l] -= lr * 0.1f * w[l] * (dw[l] - dot);
            }
            for (int k = 0; k < K; k++) {
                float *Wk = W + (size_t)k * D;
                for (int j = 0; j < H; j++)
                    Wk[j] -= lr * g[k] * f[j];
                Wk[H] -= lr * g[k];
            }
        }
    }
    if (r->learned) {
        memcpy(r->w, a, sizeof a);
        softmax(r->w, L);
    }
    long tp = 0, n_pred = 0, n_gold = 0;
    for (int t = 0; t < sc->n; t++) {
        featurize(sc, t, r->w, f);
        int best = 0;
        float bz = -1e30f;
        for (int k = 0; k < K; k++) {
            const float *Wk = W + (size_t)k * D;
            float z = Wk[H];
            for (int j = 0; j < H; j++)
                z += Wk[j] * f[j];
            if (z > bz) bz = z, best = k;
        }
        n_pred += best != 0;
        n_gold += ysc[t] != 0;
        tp += best != 0 && best == ysc[t];
    }
    free(W), free(f), free(order);
    double P = n_pred ? (double)tp / n_pred : 0, R = n_gold ? (double)tp / n_gold : 0;
    return P + R > 0 ? 200 * P * R / (P + R) : 0;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: xprobe CORPUS ENCODER FIT_IDS SCORE_IDS [EPOCHS]\n");
        return 2;
    }
    int epochs = argc > 5 ? atoi(argv[5]) : 4;
    casie_error e;
    casie_encoder *enc = casie_encoder_load(argv[2], &e);
    if (!enc) return fprintf(stderr, "xprobe: %s\n", e.message), 1;
    casie__wordpiece wp;
    if (casie__wordpiece_from_encoder(&wp, enc, &e)) return fprintf(stderr, "xprobe: %s\n", e.message), 1;
    tokset fit = load(argv[1], argv[3], enc, &wp), sc = load(argv[1], argv[4], enc, &wp);
    const int L = fit.L;
    if (L > NL_MAX) return fprintf(stderr, "xprobe: %d layers, at most %d\n", L - 1, NL_MAX - 1), 1;
    fprintf(stderr, "xprobe: %d fit tokens, %d scoring tokens, %d layers + embeddings\n", fit.n, sc.n, L - 1);
    for (int l = 0; l < L; l++) {
        double ss = 0;
        for (int t = 0; t < fit.n; t++)
            for (int j = 0; j < fit.H; j++) {
                double v = fit.x[((size_t)t * L + l) * fit.H + j];
                ss += v * v;
            }
        scale_of[l] = (float)(1.0 / sqrt(ss / ((double)fit.n * fit.H) + 1e-12));
    }
    reading rd[40];
    int nr = 0;
    for (int l = 0; l < L; l++) {
        memset(&rd[nr], 0, sizeof rd[nr]);
        snprintf(rd[nr].name, sizeof rd[nr].name, "layer %d", l);
        rd[nr++].w[l] = 1;
    }
    /* runs for a 6-layer encoder, and for a 12-layer one */
    static const int runs[][2] = {{1, 3},  {2, 4},  {2, 5},  {3, 5},  {1, 6},  {3, 6},  {4, 6},
                                  {0, 6},  {4, 7},  {5, 8},  {6, 9},  {7, 10}, {8, 11}, {9, 12},
                                  {5, 10}, {3, 12}, {5, 12}, {7, 12}, {1, 12}, {4, 9}};
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        if (runs[k][1] >= L || (L > 7 && k < 8)) continue;
        memset(&rd[nr], 0, sizeof rd[nr]);
        snprintf(rd[nr].name, sizeof rd[nr].name, "mean %d-%d", runs[k][0], runs[k][1]);
        for (int l = runs[k][0]; l <= runs[k][1]; l++)
            rd[nr].w[l] = 1.0f / (float)(runs[k][1] - runs[k][0] + 1);
        nr++;
    }
    memset(&rd[nr], 0, sizeof rd[nr]);
    snprintf(rd[nr].name, sizeof rd[nr].name, "learned mix");
    rd[nr++].learned = 1;
    printf("| reading | trig F1 | role F1 |\n|---|---|---|\n");
    for (int k = 0; k < nr; k++) {
        double f_trig = probe(&fit, &sc, fit.trig, sc.trig, CASIE_TRIG_LABELS, &rd[k], epochs);
        rd[k].learned = 0; /* the role probe reads the mix the trig probe learned */
        double f_role = probe(&fit, &sc, fit.role, sc.role, 1 + CASIE_N_ROLES, &rd[k], epochs);
        printf("| %s | %.2f | %.2f |\n", rd[k].name, f_trig, f_role);
        if (k == nr - 1) {
            printf("learned weights:");
            for (int l = 0; l < L; l++)
                printf(" %d:%.3f", l, rd[k].w[l]);
            printf("\n");
        }
        fflush(stdout);
    }
    return 0;
}
