/*
 * encoder_tune.c - fine-tuning an encoder's top layers on the corpus: the
 * "task-adaptive" stage, which writes an adapted encoder file.
 *
 * What is trained is what a model reads (xvec.c): each word piece's vector
 * is the mean of layers first..last of the window that encode_long takes it
 * from (windows of the encoder's length, stride three quarters of it, a
 * piece from the window where it lies farthest from a cut).  Two linear
 * heads over that vector, trigger BIO labels (O, B/I of 5 subtypes) and
 * argument-role BIO labels (O, B/I of 26 roles: a token's role in any
 * event), each piece taking its token's labels, give the softmax
 * cross-entropy; it flows back through the heads, the mean and the top
 * train_layers layers (encoder_grad.c, float32), which AdamW updates with
 * linear warm-up and decay and gradient-norm clipping.  At the end the
 * trained layers are quantized back to int8 rows and the encoder file is
 * written again with only their bytes changed (and its hash and name).
 *
 * The frozen layers run once (the int8 pass, casie__encoder_forward): each
 * window's input to the first trained layer and, for each piece the loss
 * reads, the mix of the frozen read layers are kept in memory for every
 * epoch.
 *
 * Deterministic: every window's gradient goes to the slot of its place in
 * the step's batch and the slots are added in that order, so the threads
 * change nothing; the products are encoder_grad.c's (the same bits on every
 * x86-64 CPU); the order of windows comes from the seed.
 *
 * Not here: a layer's passes and AdamW (encoder_grad.c), the int8 pass
 * (encoder.c), the container's writing (model_file.c).
 */
#include "internal.h"
#include "encoder.h"
#include "encoder_grad.h"
#include "encoder_tune.h"
#include "hash.h"
#include "tagging.h"
#include "train.h"
#include "wordpiece.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum {
    TL = 1 + 2 * CASIE_N_SUBTYPES, /* trigger labels: O, B-subtype, I-subtype */
    AL = 1 + 2 * CASIE_N_ROLES,    /* argument labels: O, B-role, I-role */
    MAX_THREADS = CASIE__TUNE_MAX_THREADS,
};

/* ======================================================================== */
/* The windows and their labels                                             */
/* ======================================================================== */

/* One window of one document, as encode_long cuts it, with what every
 * epoch reads of it. */
typedef struct twin {
    int doc, m;     /* m pieces with [CLS] and [SEP] */
    int32_t *ids;   /* (m,) */
    float *x;       /* (m, H) the first trained layer's input, from the int8 pass */
    int n_lab;      /* the pieces the loss reads: those this window gives their vectors */
    int32_t *pos;   /* (n_lab,) their places in the window (1..m-2) */
    uint8_t *trig;  /* (n_lab,) their tokens' trigger labels (0..TL-1) */
    uint8_t *arg;   /* (n_lab,) and argument labels (0..AL-1) */
    uint8_t *first; /* (n_lab,) 1: the first piece of its token (accuracy counts it) */
    float *frozen;  /* (n_lab, H) the mix of the frozen read layers, or NULL: none */
    int n_ev_t;     /* the pieces whose trigger label is not O */
    int n_ev_a;     /* and whose argument label is not O */
} twin;

static void twin_free(twin *w) {
    free(w->ids);
    free(w->x);
    free(w->pos);
    free(w->trig);
    free(w->arg);
    free(w->first);
    free(w->frozen);
}

/* BIO role labels of doc's tokens: each gold argument's tokens, in event
 * order; an argument overlapping one already labelled is left out. */
static int *arg_gold(const casie_doc *doc) {
    int *gold = calloc((size_t)doc->n_tokens + 1, sizeof *gold);
    for (int h = 0; gold && h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            const casie_event *ev = &doc->hoppers[h].events[i];
            for (int a = 0; a < ev->n_args; a++) {
                int tb, te, clash = 0, role = ev->args[a].role;
                if (role < 0 || role >= CASIE_N_ROLES ||
                    !casie__span_tokens(doc, ev->args[a].start, ev->args[a].end, &tb, &te))
                    continue;
                for (int x = tb; x < te; x++)
                    clash |= gold[x] != 0;
                if (clash) continue;
                gold[tb] = 1 + 2 * role;
                for (int x = tb + 1; x < te; x++)
                    gold[x] = 2 + 2 * role;
            }
        }
    return gold;
}

/* The windows of one document (appended to *wins, *n_wins of *cap), their
 * pieces labelled; at most `room` more.  Windows whose pieces have no token
 * are left out. */
static int doc_windows(const casie__wordpiece *wp, const casie_doc *doc, int d, int window, int stride, int room,
                       twin **wins, int *n_wins, int *cap, casie_error *err) {
    casie__pieces pc;
    memset(&pc, 0, sizeof pc);
    int *tg = casie__trigger_gold(doc), *ag = arg_gold(doc), *pick = NULL, rc = CASIE_OK;
    const char *name = doc->id ? doc->id : "document";
    if (!tg || !ag) goto nomem;
    if ((rc = casie__wordpiece_doc(wp, doc, &pc, err)) || pc.n == 0) goto done;
    const int n = pc.n, content = window - 2;
    const int n_win = n <= content ? 1 : 1 + (n - content + stride - 1) / stride;
    if (!(pick = malloc(sizeof *pick * (size_t)n))) goto nomem;
    /* encode_long's rule (encoder.c): the window where the piece's nearer
     * cut-off side is farthest, ties to the earlier */
    for (int i = 0; i < n; i++) {
        int best = -1, best_d = -1;
        for (int k = i / stride < n_win ? i / stride : n_win - 1; k >= 0; k--) {
            int s = k * stride, e = s + content < n ? s + content : n;
            if (i >= e) break;
            if (i < s) continue;
            int left = s == 0 ? INT_MAX : i - s, right = e == n ? INT_MAX : e - 1 - i;
            int dd = left < right ? left : right;
            if (dd >= best_d) best_d = dd, best = k;
        }
        pick[i] = best;
    }
    const int nt = doc->n_tokens < pc.n_tokens ? doc->n_tokens : pc.n_tokens;
    for (int k = 0; k < n_win && room > 0; k++) {
        int s = k * stride, e = s + content < n ? s + content : n, n_lab = 0;
        for (int i = s; i < e; i++) {
            int t = pc.tok[i];
            n_lab +=
                pick[i] == k && t >= 0 && t < nt && pc.tok_first[t] >= 0 && pc.tok_first[t] <= i && pc.tok_last[t] >= i;
        }
        if (!n_lab) continue;
        if (*n_wins == *cap) {
            int nc = *cap ? 2 * *cap : 64;
            twin *g = realloc(*wins, sizeof *g * (size_t)nc);
            if (!g) goto nomem;
            *wins = g, *cap = nc;
        }
        twin *w = &(*wins)[(*n_wins)++];
        memset(w, 0, sizeof *w);
        w->doc = d, w->m = e - s + 2, w->n_lab = n_lab;
        if (!(w->ids = malloc(sizeof *w->ids * (size_t)w->m)) || !(w->pos = malloc(sizeof *w->pos * (size_t)n_lab)) ||
            !(w->trig = malloc((size_t)n_lab)) || !(w->arg = malloc((size_t)n_lab)) ||
            !(w->first = malloc((size_t)n_lab)))
            goto nomem;
        w->ids[0] = wp->cls, w->ids[w->m - 1] = wp->sep;
        memcpy(w->ids + 1, pc.id + s, sizeof *w->ids * (size_t)(e - s));
        for (int i = s, j = 0; i < e; i++) {
            int t = pc.tok[i];
            if (!(pick[i] == k && t >= 0 && t < nt && pc.tok_first[t] >= 0 && pc.tok_first[t] <= i &&
                  pc.tok_last[t] >= i))
                continue;
            w->pos[j] = i - s + 1;
            w->trig[j] = (uint8_t)(tg[t] >= 0 && tg[t] < TL ? tg[t] : 0);
            w->arg[j] = (uint8_t)(ag[t] >= 0 && ag[t] < AL ? ag[t] : 0);
            w->first[j] = pc.tok_first[t] == i;
            w->n_ev_t += w->trig[j] != 0, w->n_ev_a += w->arg[j] != 0;
            j++;
        }
        room--;
    }
    goto done;
nomem:
    rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory for the tuning windows", name);
done:
    free(tg);
    free(ag);
    free(pick);
    casie__pieces_free(&pc);
    return rc;
}

/* ======================================================================== */
/* Jobs on threads                                                          */
/* ======================================================================== */

/* fn(ctx, thread, job) for jobs 0..n-1 on up to `threads` threads; the
 * first failure's error. */
typedef int (*job_fn)(void *ctx, int thread, int job, casie_error *err);
typedef struct jobs {
    job_fn fn;
    void *ctx;
    int n;
    _Atomic int next, rc, tid;
    casie_error err;
    pthread_mutex_t mu;
} jobs;

static void *job_worker(void *arg) {
    jobs *J = arg;
    const int th = atomic_fetch_add(&J->tid, 1);
    for (;;) {
        int j = atomic_fetch_add(&J->next, 1);
        if (j >= J->n || atomic_load(&J->rc)) return NULL;
        casie_error e;
        int rc = J->fn(J->ctx, th, j, &e);
        if (rc) {
            pthread_mutex_lock(&J->mu);
            if (!atomic_load(&J->rc)) J->err = e, atomic_store(&J->rc, rc);
            pthread_mutex_unlock(&J->mu);
            return NULL;
        }
    }
}

static int run_jobs(int n, int threads, job_fn fn, void *ctx, casie_error *err) {
    jobs J = {.fn = fn, .ctx = ctx, .n = n};
    atomic_init(&J.next, 0);
    atomic_init(&J.rc, 0);
    atomic_init(&J.tid, 0);
    pthread_mutex_init(&J.mu, NULL);
    pthread_t th[MAX_THREADS];
    int nt = 0;
    for (; nt < threads - 1 && nt < n - 1; nt++)
        if (pthread_create(&th[nt], NULL, job_worker, &J)) break;
    job_worker(&J);
    for (int k = 0; k < nt; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&J.mu);
    int rc = atomic_load(&J.rc);
    if (rc && err) *err = J.err;
    return rc;
}

/* ======================================================================== */
/* The state of a tuning                                                    */
/* ======================================================================== */

/* One thread's working memory. */
typedef struct tune_ws {
    casie__enc_layer_acts *A; /* (n_train,) each trained layer's activations */
    float *bias, *rel;        /* MPNet: (n_heads, cap, cap) and (n_heads, 2 cap - 1); else NULL */
    float *v, *dread;         /* (cap, H) read vectors of the loss's pieces, their gradients */
    float *d0, *d1;           /* (cap, H) gradients of the layers' outputs */
    float *z, *dz;            /* (TL + AL,) logits and their gradients */
    void *enc_work;           /* the int8 pass's work block */
    float *enc_out;           /* (n_sel, cap, H) its states */
} tune_ws;

/* One window's place in a step: its gradients and its counts. */
typedef struct tune_slot {
    casie__enc_layer_f32 *G; /* (n_train,) */
    float *gh;               /* (n_head,) */
    double loss_t, loss_a;
    double wloss_t, wloss_a, wsum_t, wsum_a; /* the loss weighted by event_weight, and the weights */
    long n_lab, n_tok, ok_tok, n_ev, ok_ev;  /* tokens (first pieces): all, right; of events, right */
} tune_slot;

typedef struct tune {
    const casie_encoder *enc;
    int H, cap, n_train, t0; /* trained: layers t0 .. t0 + n_train - 1 (1-based) */
    int first, last;         /* read */
    uint64_t frozen_mask;    /* the int8 pass's states: t0 - 1 and the frozen read layers */
    int n_sel;
    float w_read; /* each read layer's weight in the mean, 1 / (last - first + 1) */
    twin *win;
    int n_win;
    int *order;                      /* (n_win,) this epoch's */
    int step0;                       /* the step's first place in order */
    float scale_t, scale_a;          /* 1 / the step's pieces' weights, per head (1 / its pieces: weight 1) */
    float ev_w;                      /* the weight of a piece whose label is not O (event_weight) */
    casie__enc_layer_f32 *L, *M, *V; /* (n_train,) parameters and AdamW's moments */
    float *hp, *hm, *hv;             /* (n_head,) the heads: Wt (TL, H), bt (TL), Wa (AL, H), ba (AL) */
    size_t n_head;
    tune_ws *ws;     /* (threads,) */
    tune_slot *slot; /* (batch,) */
} tune;

static void ws_free(tune *T, tune_ws *W) {
    for (int k = 0; W->A && k < T->n_train; k++)
        casie__enc_layer_acts_free(&W->A[k]);
    free(W->A);
    free(W->bias);
    free(W->rel);
    free(W->v);
    free(W->dread);
    free(W->d0);
    free(W->d1);
    free(W->z);
    free(W->dz);
    free(W->enc_work);
    free(W->enc_out);
}

static int ws_init(tune *T, tune_ws *W, casie_error *err) {
    const casie_encoder_config *c = &T->enc->cfg;
    const size_t cH = (size_t)T->cap * (size_t)T->H, nh = (size_t)c->n_heads, cap = (size_t)T->cap;
    memset(W, 0, sizeof *W);
    if (!(W->A = calloc((size_t)T->n_train, sizeof *W->A))) goto nomem;
    for (int k = 0; k < T->n_train; k++) {
        int rc = casie__enc_layer_acts_init(&W->A[k], &T->L[k], T->cap, err);
        if (rc) return rc;
    }
    if (T->enc->rel_bias &&
        (!(W->bias = malloc(sizeof(float) * nh * cap * cap)) || !(W->rel = malloc(sizeof(float) * nh * (2 * cap - 1)))))
        goto nomem;
    if (!(W->v = malloc(sizeof(float) * cH)) || !(W->dread = malloc(sizeof(float) * cH)) ||
        !(W->d0 = malloc(sizeof(float) * cH)) || !(W->d1 = malloc(sizeof(float) * cH)) ||
        !(W->z = malloc(sizeof(float) * (TL + AL))) || !(W->dz = malloc(sizeof(float) * (TL + AL))) ||
        !(W->enc_work = aligned_alloc(64, casie__encoder_work_bytes(T->enc, T->cap))) ||
        !(W->enc_out = malloc(sizeof(float) * cH * (size_t)T->n_sel)))
        goto nomem;
    return CASIE_OK;
nomem:
    return casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory for a tuning thread's %d pieces", T->cap);
}

/* ======================================================================== */
/* The frozen pass                                                          */
/* ======================================================================== */

/* Window j through the int8 layers below the trained ones: its input to
 * them and its loss pieces' mix of the frozen read layers. */
static int frozen_window(void *ctx, int th, int j, casie_error *err) {
    tune *T = ctx;
    tune_ws *W = &T->ws[th];
    twin *w = &T->win[j];
    const int H = T->H, m = w->m;
    const size_t plane = (size_t)m * (size_t)H;
    int rc =
        casie__encoder_forward(T->enc, w->ids, NULL, m, T->frozen_mask, CASIE_Q8_BEST, W->enc_out, W->enc_work, err);
    if (rc) return rc;
    if (!(w->x = malloc(sizeof(float) * plane))) goto nomem;
    int t = 0; /* the planes in increasing state */
    for (int s = 0; s < T->t0; s++) {
        if (!((T->frozen_mask >> s) & 1)) continue;
        const float *h = W->enc_out + (size_t)t++ * plane;
        if (s == T->t0 - 1) memcpy(w->x, h, sizeof(float) * plane);
        if (s < T->first) continue;
        if (!w->frozen && !(w->frozen = calloc((size_t)w->n_lab * (size_t)H, sizeof(float)))) goto nomem;
        for (int i = 0; i < w->n_lab; i++) { /* as xvec.c mixes: weight times state, added in layer order */
            const float *hi = h + (size_t)w->pos[i] * H;
            float *f = w->frozen + (size_t)i * H;
            for (int d = 0; d < H; d++)
                f[d] += T->w_read * hi[d];
        }
    }
    return CASIE_OK;
nomem:
    return casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory caching the encoder's states");
}

/* ======================================================================== */
/* One window's forward and backward passes                                 */
/* ======================================================================== */

static int argmax(const float *z, int n) {
    int b = 0;
    for (int j = 1; j < n; j++)
        if (z[j] > z[b]) b = j;
    return b;
}

/* z (n,) = W (n, H) v + b, each a sum over d in increasing order. */
static void head_forward(const float *Wt, const float *b, int n, const float *v, int H, float *z) {
    for (int c = 0; c < n; c++) {
        const float *wc = Wt + (size_t)c * H;
        float s = 0.0f;
        for (int d = 0; d < H; d++)
            s += wc[d] * v[d];
        z[c] = s + b[c];
    }
}

/* dW (n, H) += dz v^T, db += dz; dv (H,) += W^T dz (over c in increasing order). */
static void head_backward(const float *Wt, int n, const float *v, int H, const float *dz, float *dW, float *db,
                          float *dv) {
    for (int c = 0; c < n; c++) {
        float *dwc = dW + (size_t)c * H;
        const float *wc = Wt + (size_t)c * H, g = dz[c];
        for (int d = 0; d < H; d++) {
            dwc[d] += g * v[d];
            dv[d] += wc[d] * g;
        }
        db[c] += g;
    }
}

static int train_window(void *ctx, int th, int j, casie_error *err) {
    (void)err;
    tune *T = ctx;
    tune_ws *W = &T->ws[th];
    tune_slot *S = &T->slot[j];
    const twin *w = &T->win[T->order[T->step0 + j]];
    const int H = T->H, n = w->m, N = T->n_train;
    const size_t nH = (size_t)n * (size_t)H;
    const float *bias = NULL;
    if (T->enc->rel_bias) {
        casie__enc_grad_rel_bias(T->enc, n, W->bias, W->rel);
        bias = W->bias;
    }
    /* the trained layers */
    const float *x = w->x;
    for (int k = 0; k < N; k++) {
        casie__enc_layer_f32_forward(&T->L[k], x, n, bias, NULL, &W->A[k]);
        x = W->A[k].out;
    }
    /* each loss piece's vector, its heads, their loss and gradients */
    const float *Wt = T->hp, *bt = Wt + (size_t)TL * H, *Wa = bt + TL, *ba = Wa + (size_t)AL * H;
    float *gWt = S->gh, *gbt = gWt + (size_t)TL * H, *gWa = gbt + TL, *gba = gWa + (size_t)AL * H;
    for (int i = 0; i < w->n_lab; i++) {
        float *v = W->v + (size_t)i * H, *dv = W->dread + (size_t)i * H;
        const size_t at = (size_t)w->pos[i] * H;
        if (w->frozen)
            memcpy(v, w->frozen + (size_t)i * H, sizeof(float) * (size_t)H);
        else
            memset(v, 0, sizeof(float) * (size_t)H);
        for (int k = 0; k < N; k++)
            if (T->t0 + k >= T->first)
                for (int d = 0; d < H; d++)
                    v[d] += T->w_read * W->A[k].out[at + d];
        float *zt = W->z, *za = W->z + TL, *dzt = W->dz, *dza = W->dz + TL;
        head_forward(Wt, bt, TL, v, H, zt);
        head_forward(Wa, ba, AL, v, H, za);
        const int yt = w->trig[i], ya = w->arg[i];
        if (w->first[i]) {
            const int ok = argmax(zt, TL) == yt;
            S->n_tok++, S->ok_tok += ok;
            if (yt) S->n_ev++, S->ok_ev += ok;
        }
        /* a piece inside an event weighs ev_w in its head's loss; the step's scale divides by the weights */
        const float wt = yt ? T->ev_w : 1.0f, wa = ya ? T->ev_w : 1.0f;
        const double lt = -log((double)casie__grad_softmax_xent(zt, TL, yt, T->scale_t * wt, dzt));
        const double la = -log((double)casie__grad_softmax_xent(za, AL, ya, T->scale_a * wa, dza));
        S->loss_t += lt, S->loss_a += la;
        S->wloss_t += wt * lt, S->wloss_a += wa * la, S->wsum_t += wt, S->wsum_a += wa;
        S->n_lab++;
        memset(dv, 0, sizeof(float) * (size_t)H);
        head_backward(Wt, TL, v, H, dzt, gWt, gbt, dv);
        head_backward(Wa, AL, v, H, dza, gWa, gba, dv);
        for (int d = 0; d < H; d++)
            dv[d] *= T->w_read;
    }
    /* down the trained layers: each read layer's output gets its pieces' gradients */
    float *dcur = W->d0, *dnext = W->d1;
    memset(dcur, 0, sizeof(float) * nH);
    for (int k = N - 1; k >= 0; k--) {
        if (T->t0 + k >= T->first)
            for (int i = 0; i < w->n_lab; i++) {
                float *dc = dcur + (size_t)w->pos[i] * H;
                const float *dv = W->dread + (size_t)i * H;
                for (int d = 0; d < H; d++)
                    dc[d] += dv[d];
            }
        casie__enc_layer_f32_backward(&T->L[k], dcur, &W->A[k], k ? dnext : NULL, &S->G[k]);
        float *tmp = dcur;
        dcur = dnext, dnext = tmp;
    }
    return CASIE_OK;
}

/* ======================================================================== */
/* Steps and epochs                                                         */
/* ======================================================================== */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void tlog(const casie__tune_params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tlog(const casie__tune_params *p, const char *fmt, ...) {
    if (!p->log) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->log(p->log_user, msg);
}

/* The step's peak fraction: linear warm-up over `warm` steps, then linear
 * decay to 1 / (total - warm + 1) at the last step (t from 1). */
static float schedule(long t, long total, long warm) {
    if (t <= warm) return (float)t / (float)warm;
    return (float)(total - t + 1) / (float)(total - warm + 1);
}

/* One step over windows order[step0 .. step0 + nb): their gradients in
 * their slots, added in slot order into slot 0, clipped, AdamW. */
static int step(tune *T, const casie__tune_params *p, int nb, long t, long total, long warm, casie_error *err) {
    long n_lab = 0, ev_t = 0, ev_a = 0;
    for (int j = 0; j < nb; j++) {
        tune_slot *S = &T->slot[j];
        for (int k = 0; k < T->n_train; k++)
            memset(S->G[k].mem, 0, sizeof(float) * S->G[k].n_params);
        memset(S->gh, 0, sizeof(float) * T->n_head);
        S->loss_t = S->loss_a = S->wloss_t = S->wloss_a = S->wsum_t = S->wsum_a = 0.0;
        S->n_lab = S->n_tok = S->ok_tok = S->n_ev = S->ok_ev = 0;
        const twin *w = &T->win[T->order[T->step0 + j]];
        n_lab += w->n_lab, ev_t += w->n_ev_t, ev_a += w->n_ev_a;
    }
    /* weight 1: the sums are n_lab exactly, so 1 / n_lab as without weights */
    const double W = (double)T->ev_w;
    T->scale_t = 1.0f / (float)((double)(n_lab - ev_t) + W * (double)ev_t);
    T->scale_a = 1.0f / (float)((double)(n_lab - ev_a) + W * (double)ev_a);
    int rc = run_jobs(nb, p->threads, train_window, T, err);
    if (rc) return rc;
    tune_slot *S0 = &T->slot[0];
    for (int j = 1; j < nb; j++) {
        for (int k = 0; k < T->n_train; k++) {
            float *g = S0->G[k].mem;
            const float *h = T->slot[j].G[k].mem;
            for (size_t i = 0; i < S0->G[k].n_params; i++)
                g[i] += h[i];
        }
        for (size_t i = 0; i < T->n_head; i++)
            S0->gh[i] += T->slot[j].gh[i];
    }
    double sq = 0.0;
    for (int k = 0; k < T->n_train; k++) {
        double g = casie__grad_norm(S0->G[k].mem, S0->G[k].n_params);
        sq += g * g;
    }
    double gh = casie__grad_norm(S0->gh, T->n_head);
    sq += gh * gh;
    const double norm = sqrt(sq);
    if (p->clip > 0.0f && norm > (double)p->clip) {
        const float c = (float)((double)p->clip / norm);
        for (int k = 0; k < T->n_train; k++)
            for (size_t i = 0; i < S0->G[k].n_params; i++)
                S0->G[k].mem[i] *= c;
        for (size_t i = 0; i < T->n_head; i++)
            S0->gh[i] *= c;
    }
    const float f = schedule(t, total, warm);
    for (int k = 0; k < T->n_train; k++)
        casie__adamw_update(T->L[k].mem, S0->G[k].mem, T->M[k].mem, T->V[k].mem, T->L[k].n_params, (int)t, p->lr * f,
                            0.9f, 0.999f, 1e-8f, p->weight_decay);
    casie__adamw_update(T->hp, S0->gh, T->hm, T->hv, T->n_head, (int)t, p->head_lr * f, 0.9f, 0.999f, 1e-8f,
                        p->weight_decay);
    return CASIE_OK;
}

/* What an epoch (or a tenth of one) adds up, slot by slot in order. */
typedef struct tally {
    double loss_t, loss_a, wloss_t, wloss_a, wsum_t, wsum_a;
    long n_lab, n_tok, ok_tok, n_ev, ok_ev;
} tally;

static void tally_add(tally *a, const tune *T, int nb) {
    for (int j = 0; j < nb; j++) {
        const tune_slot *S = &T->slot[j];
        a->loss_t += S->loss_t, a->loss_a += S->loss_a, a->n_lab += S->n_lab;
        a->wloss_t += S->wloss_t, a->wloss_a += S->wloss_a, a->wsum_t += S->wsum_t, a->wsum_a += S->wsum_a;
        a->n_tok += S->n_tok, a->ok_tok += S->ok_tok, a->n_ev += S->n_ev, a->ok_ev += S->ok_ev;
    }
}

/* ", weighted L": the loss the layers learn from, each head's weighted
 * per piece, where event_weight is not 1; else "". */
static const char *weighted(const tune *T, const tally *a, char *buf, size_t cap) {
    if (T->ev_w == 1.0f || !(a->wsum_t > 0.0) || !(a->wsum_a > 0.0)) return "";
    snprintf(buf, cap, ", weighted %.4f", a->wloss_t / a->wsum_t + a->wloss_a / a->wsum_a);
    return buf;
}

static int train_epochs(tune *T, const casie__tune_params *p, casie_error *err) {
    const int B = p->batch, steps = (T->n_win + B - 1) / B;
    const long total = (long)steps * p->epochs, warm = (long)(p->warmup * (float)total + 0.5f);
    const long warm1 = warm > 0 ? warm : 0;
    const int every = steps >= 10 ? steps / 10 : 1;
    uint64_t rng = casie__mix64(p->seed ^ 0x74756e65ull) | 1;
    long t = 0;
    for (int i = 0; i < T->n_win; i++)
        T->order[i] = i;
    for (int e = 1; e <= p->epochs; e++) {
        const double t0 = now_s();
        for (int i = T->n_win - 1; i > 0; i--) { /* Fisher-Yates */
            int r = (int)(casie__rng_next(&rng) % (uint64_t)(i + 1)), tmp = T->order[i];
            T->order[i] = T->order[r], T->order[r] = tmp;
        }
        tally ep = {0}, part = {0};
        char wb[40];
        for (int s = 0; s < steps; s++) {
            T->step0 = s * B;
            const int nb = T->n_win - T->step0 < B ? T->n_win - T->step0 : B;
            int rc = step(T, p, nb, ++t, total, warm1, err);
            if (rc) return rc;
            tally_add(&ep, T, nb);
            tally_add(&part, T, nb);
            if ((s + 1) % every == 0 && s + 1 < steps) {
                tlog(p, "epoch %d step %d/%d: loss %.4f (trigger %.4f, argument %.4f%s), %.1fs", e, s + 1, steps,
                     (part.loss_t + part.loss_a) / (double)part.n_lab, part.loss_t / (double)part.n_lab,
                     part.loss_a / (double)part.n_lab, weighted(T, &part, wb, sizeof wb), now_s() - t0);
                memset(&part, 0, sizeof part);
            }
        }
        tlog(p,
             "epoch %d: loss %.4f (trigger %.4f, argument %.4f%s), trigger accuracy %.4f (events' tokens %.4f), "
             "%.1fs",
             e, (ep.loss_t + ep.loss_a) / (double)ep.n_lab, ep.loss_t / (double)ep.n_lab, ep.loss_a / (double)ep.n_lab,
             weighted(T, &ep, wb, sizeof wb), ep.n_tok ? (double)ep.ok_tok / (double)ep.n_tok : 0.0,
             ep.n_ev ? (double)ep.ok_ev / (double)ep.n_ev : 0.0, now_s() - t0);
    }
    return CASIE_OK;
}

/* ======================================================================== */
/* The tuning                                                               */
/* ======================================================================== */

static void tune_free(tune *T, int threads, int batch) {
    for (int i = 0; T->win && i < T->n_win; i++)
        twin_free(&T->win[i]);
    free(T->win);
    free(T->order);
    for (int k = 0; k < T->n_train; k++) {
        if (T->L) casie__enc_layer_f32_free(&T->L[k]);
        if (T->M) casie__enc_layer_f32_free(&T->M[k]);
        if (T->V) casie__enc_layer_f32_free(&T->V[k]);
    }
    free(T->L);
    free(T->M);
    free(T->V);
    free(T->hp);
    free(T->hm);
    free(T->hv);
    for (int t = 0; T->ws && t < threads; t++)
        ws_free(T, &T->ws[t]);
    free(T->ws);
    for (int j = 0; T->slot && j < batch; j++) {
        for (int k = 0; T->slot[j].G && k < T->n_train; k++)
            casie__enc_layer_f32_free(&T->slot[j].G[k]);
        free(T->slot[j].G);
        free(T->slot[j].gh);
    }
    free(T->slot);
}

/* The parameters, moments and slots, the layers from the int8 ones, the
 * heads small and random from the seed. */
static int tune_alloc(tune *T, const casie__tune_params *p, casie_error *err) {
    const casie_encoder_config *c = &T->enc->cfg;
    const int N = T->n_train;
    int rc;
    T->n_head = (size_t)(TL + AL) * ((size_t)T->H + 1);
    if (!(T->L = calloc((size_t)N, sizeof *T->L)) || !(T->M = calloc((size_t)N, sizeof *T->M)) ||
        !(T->V = calloc((size_t)N, sizeof *T->V)) || !(T->hp = calloc(T->n_head, sizeof(float))) ||
        !(T->hm = calloc(T->n_head, sizeof(float))) || !(T->hv = calloc(T->n_head, sizeof(float))) ||
        !(T->ws = calloc((size_t)p->threads, sizeof *T->ws)) || !(T->slot = calloc((size_t)p->batch, sizeof *T->slot)))
        goto nomem;
    for (int k = 0; k < N; k++) {
        if ((rc =
                 casie__enc_layer_f32_init(&T->L[k], c->hidden, c->n_heads, c->intermediate, c->layer_norm_eps, err)) ||
            (rc =
                 casie__enc_layer_f32_init(&T->M[k], c->hidden, c->n_heads, c->intermediate, c->layer_norm_eps, err)) ||
            (rc = casie__enc_layer_f32_init(&T->V[k], c->hidden, c->n_heads, c->intermediate, c->layer_norm_eps, err)))
            return rc;
        casie__enc_layer_f32_from_q8(&T->L[k], &T->enc->layers[T->t0 - 1 + k]);
    }
    for (int j = 0; j < p->batch; j++) {
        tune_slot *S = &T->slot[j];
        if (!(S->G = calloc((size_t)N, sizeof *S->G)) || !(S->gh = calloc(T->n_head, sizeof(float)))) goto nomem;
        for (int k = 0; k < N; k++)
            if ((rc = casie__enc_layer_f32_init(&S->G[k], c->hidden, c->n_heads, c->intermediate, c->layer_norm_eps,
                                                err)))
                return rc;
    }
    /* the heads' weights uniform in +-sqrt(3) 0.02 (standard deviation 0.02, as BERT's), biases 0 */
    uint64_t rng = casie__mix64(p->seed ^ 0x68656164ull) | 1;
    const size_t H = (size_t)T->H;
    float *Wt = T->hp, *Wa = T->hp + (size_t)TL * H + TL;
    for (size_t i = 0; i < (size_t)TL * H; i++)
        Wt[i] = ((float)(casie__rng_next(&rng) >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * 0.034641f;
    for (size_t i = 0; i < (size_t)AL * H; i++)
        Wa[i] = ((float)(casie__rng_next(&rng) >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * 0.034641f;
    return CASIE_OK;
nomem:
    return casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory for the tuned layers");
}

int casie__encoder_tune(const casie_encoder *enc, casie_doc *const *docs, int n_docs, const casie__tune_params *p,
                        const char *out_path, casie_error *err) {
    if (!enc || !p || !out_path || !*out_path || n_docs < 0 || (n_docs && !docs))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_encoder_tune: no encoder, parameters or output");
    const casie_encoder_config *c = &enc->cfg;
    tune T;
    memset(&T, 0, sizeof T);
    int first = 0, last = 0, rc, cap = 0;
    if ((rc = casie__tune_check_params(p, c, &first, &last, err))) return rc;
    struct stat st;
    if (lstat(out_path, &st) == 0) return casie__error(err, CASIE_ERR_IO, -1, "%s: exists; not replaced", out_path);
    if (c->cls_id < 0 || c->sep_id < 0)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder %s: no [CLS] or [SEP]", c->name);
    T.enc = enc, T.H = c->hidden, T.first = first, T.last = last, T.n_train = p->train_layers;
    T.t0 = last - p->train_layers + 1;
    T.w_read = 1.0f / (float)(last - first + 1); /* xvec.c's mix */
    T.ev_w = p->event_weight;
    T.frozen_mask = 1ull << (T.t0 - 1);
    for (int l = first; l < T.t0; l++)
        T.frozen_mask |= 1ull << l;
    for (int l = 0; l < 64; l++)
        T.n_sel += (int)((T.frozen_mask >> l) & 1);
    /* the model's reading (casie__xspec_default): windows of the encoder's length, stride 3/4 */
    const int window = c->max_positions - c->pos_offset, stride = window * 3 / 4;
    T.cap = window;
    const double t_start = now_s();

    casie__wordpiece wp;
    if ((rc = casie__wordpiece_from_encoder(&wp, enc, err))) return rc;
    const int room0 = p->max_windows ? p->max_windows : INT_MAX;
    for (int d = 0; d < n_docs && T.n_win < room0; d++) {
        if ((rc = casie_doc_analyze(docs[d], err)) ||
            (rc = doc_windows(&wp, docs[d], d, window, stride, room0 - T.n_win, &T.win, &T.n_win, &cap, err)))
            goto done;
    }
    casie__wordpiece_free(&wp);
    if (!T.n_win) {
        rc = casie__error(err, CASIE_ERR_EMPTY, -1, "casie_encoder_tune: no word piece to train on in %d documents",
                          n_docs);
        goto done;
    }
    const int threads = p->threads;
    if ((rc = tune_alloc(&T, p, err))) goto done;
    for (int t = 0; t < threads; t++)
        if ((rc = ws_init(&T, &T.ws[t], err))) goto done;
    if (!(T.order = malloc(sizeof *T.order * (size_t)T.n_win))) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory");
        goto done;
    }
    long n_lab = 0, n_pieces = 0, ev_t = 0, ev_a = 0;
    for (int i = 0; i < T.n_win; i++)
        n_lab += T.win[i].n_lab, n_pieces += T.win[i].m, ev_t += T.win[i].n_ev_t, ev_a += T.win[i].n_ev_a;
    tlog(p, "%d documents, %d windows of up to %d pieces (%ld the loss reads); layers %d-%d read, %d-%d trained",
         n_docs, T.n_win, window, n_lab, first, last, T.t0, last);
    if (T.ev_w != 1.0f)
        tlog(p, "%ld pieces inside triggers, %ld inside arguments, their loss weighted %g", ev_t, ev_a, (double)T.ev_w);
    if ((rc = run_jobs(T.n_win, threads, frozen_window, &T, err))) goto done;
    tlog(p, "the frozen layers in %.1fs; %.0f MB of their states kept", now_s() - t_start,
         ((double)n_pieces + (T.first < T.t0 ? (double)n_lab : 0.0)) * T.H * 4 / 1e6);
    if ((rc = train_epochs(&T, p, err))) goto done;

    casie__enc_layer_q8 *Q = calloc((size_t)T.n_train, sizeof *Q);
    if (!Q) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory");
        goto done;
    }
    casie__enc_layer *ql = calloc((size_t)T.n_train, sizeof *ql);
    if (!ql) rc = casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory");
    for (int k = 0; k < T.n_train && !rc; k++)
        if (!(rc = casie__enc_layer_q8_from_f32(&Q[k], &T.L[k], err))) ql[k] = Q[k].layer;
    if (!rc) rc = casie__encoder_write_layers(enc, T.t0, ql, T.n_train, out_path, err);
    free(ql);
    for (int k = 0; k < T.n_train; k++)
        casie__enc_layer_q8_free(&Q[k]);
    free(Q);
    if (!rc) tlog(p, "wrote %s (%.1fs in all)", out_path, now_s() - t_start);
done:
    if (wp.text) casie__wordpiece_free(&wp);
    tune_free(&T, p->threads, p->batch);
    return rc;
}

int casie_encoder_tune(const casie_encoder *enc, casie_doc *const *docs, int n_docs,
                       const casie_encoder_tune_params *params, const char *out_path, casie_error *err) {
    return casie__encoder_tune(enc, docs, n_docs, params, out_path, err);
}
