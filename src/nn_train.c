/*
 * nn_train.c - training the neural taggers (nn.c): the BiLSTM and its
 * heads forward and back over one span, with dropout, the linear-chain CRF
 * loss that trains them together with the sparse weights, Adam with a
 * clipped gradient and the running average of the parameters.
 *
 * Not here: the network's layout and inference (nn.c), the epochs and what
 * a span holds (train_nn.c).  A casie__nn_train is owned by one thread.
 */
#include "internal.h"
#include "linear.h"
#include "nn.h"
#include "nn_ops.h"
#include "cpu.h"

#include <math.h>
#include <string.h>

#define NEG_INF (-1e30f)

/* ---- training ---- */

int casie__nn_train_init(casie__nn_train *t, casie__nnet *n, float lr, float dropout, uint64_t seed) {
    memset(t, 0, sizeof *t);
    t->n = n;
    t->lr = lr;
    t->dropout = dropout;
    t->rng = seed * 0xd1342543de82ef95ull + 1;
    t->g = calloc(n->n_params, sizeof(float));
    t->m = calloc(n->n_params, sizeof(float));
    t->v = calloc(n->n_params, sizeof(float));
    t->avg = calloc(n->n_params, sizeof(float));
    if (!t->g || !t->m || !t->v || !t->avg) {
        casie__nn_train_free(t);
        return CASIE_ERR_NOMEM;
    }
    return CASIE_OK;
}

void casie__nn_train_free(casie__nn_train *t) {
    free(t->g);
    free(t->m);
    free(t->v);
    free(t->avg);
    free(t->X);
    free(t->act);
    free(t->cell);
    free(t->Hs);
    free(t->dHs);
    free(t->U);
    free(t->A);
    memset(t, 0, sizeof *t);
}

static int ensure(float **p, size_t *cap, size_t need) { return casie__grow((void **)p, cap, need, sizeof(float)); }

int casie__nn_train_reserve(casie__nn_train *t, int len, int n_heads) {
    const casie__nnet *n = t->n;
    size_t L = (size_t)(len > 0 ? len : 1), NH = (size_t)(n_heads > 0 ? n_heads : 1);
    if (ensure(&t->X, &t->cap_x, L * (size_t)n->D) || ensure(&t->act, &t->cap_act, L * 8 * (size_t)n->H) ||
        ensure(&t->cell, &t->cap_cell, L * 2 * (size_t)n->H) || ensure(&t->Hs, &t->cap_hs, L * 2 * (size_t)n->H) ||
        ensure(&t->dHs, &t->cap_dhs, L * 2 * (size_t)n->H) || ensure(&t->U, &t->cap_u, NH * (size_t)n->U) ||
        ensure(&t->A, &t->cap_a, NH * (size_t)n->K))
        return CASIE_ERR_NOMEM;
    return CASIE_OK;
}

/* Inverted dropout in place: each value zeroed with probability p, the
 * rest scaled by 1/(1-p). */
INLINE void dropout(float *x, size_t n, float p, uint64_t *rng) {
    if (p <= 0) return;
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        x[i] = casie__nn_rng_unit(rng) < p ? 0.0f : x[i] * keep;
}

INLINE void nn_train_encode(casie__nn_train *t, int len) {
    const casie__nnet *n = t->n;
    const int D = n->D, H = n->H;
    dropout(t->X, (size_t)len * D, t->dropout, &t->rng);
    float xh[4096 + 1024];
    for (int dir = 0; dir < 2; dir++) {
        const float *W = n->p + (dir ? n->o_wb : n->o_wf), *bias = n->p + (dir ? n->o_bb : n->o_bf);
        for (int s = 0; s < len; s++) {
            int t_ = dir ? len - 1 - s : s, prev = dir ? t_ + 1 : t_ - 1;
            const float *hp = s ? t->Hs + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            const float *cp = s ? t->cell + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            lstm_step(W, bias, D, H, t->X + (size_t)t_ * D, hp, cp, xh, t->act + ((size_t)t_ * 2 + (size_t)dir) * 4 * H,
                      t->cell + (size_t)t_ * 2 * H + (size_t)dir * H, t->Hs + (size_t)t_ * 2 * H + (size_t)dir * H);
        }
    }
    memset(t->dHs, 0, sizeof(float) * (size_t)len * 2 * H);
}

INLINE void nn_train_head_fwd(casie__nn_train *t, int k, int h, float *out) {
    const casie__nnet *n = t->n;
    const int L = h ? n->L2 : n->L;
    float *u = t->U + (size_t)k * n->U, *a = t->A + (size_t)k * n->K;
    dropout(u, (size_t)n->U, t->dropout, &t->rng);
    matvec(n->p + n->o_w1[h], n->p + n->o_b1[h], u, n->K, n->U, a);
    for (int j = 0; j < n->K; j++)
        a[j] = tanh_(a[j]);
    const float *W2 = n->p + n->o_w2[h], *b2 = n->p + n->o_b2[h];
    for (int l = 0; l < L; l++)
        out[l] += b2[l] + dot(W2 + (size_t)l * n->K, a, n->K);
}

INLINE void nn_train_head_bwd(casie__nn_train *t, int k, int h, const float *dout, float *du) {
    const casie__nnet *n = t->n;
    const int K = n->K, L = h ? n->L2 : n->L, U = n->U;
    const float *u = t->U + (size_t)k * U, *a = t->A + (size_t)k * K;
    float da[1024] = {0};
    outer_add(t->g + n->o_w2[h], dout, a, L, K);
    for (int l = 0; l < L; l++)
        t->g[n->o_b2[h] + l] += dout[l];
    matvec_t_add(n->p + n->o_w2[h], dout, L, K, da);
    for (int j = 0; j < K; j++)
        da[j] *= 1.0f - a[j] * a[j];
    outer_add(t->g + n->o_w1[h], da, u, K, U);
    for (int j = 0; j < K; j++)
        t->g[n->o_b1[h] + j] += da[j];
    memset(du, 0, sizeof(float) * (size_t)U);
    matvec_t_add(n->p + n->o_w1[h], da, K, U, du);
    for (int j = 0; j < U; j++) /* through the dropout mask: dropped inputs were zeroed */
        if (u[j] == 0.0f) du[j] = 0.0f;
}

INLINE void nn_train_encode_bwd(casie__nn_train *t, int len) {
    const casie__nnet *n = t->n;
    const int D = n->D, H = n->H, I = D + H;
    float xh[4096 + 1024], dz[4 * 1024], dh[1024], dc[1024], dhn[1024];
    for (int dir = 0; dir < 2; dir++) {
        const float *W = n->p + (dir ? n->o_wb : n->o_wf);
        float *gW = t->g + (dir ? n->o_wb : n->o_wf), *gb = t->g + (dir ? n->o_bb : n->o_bf);
        memset(dhn, 0, sizeof(float) * (size_t)H);
        memset(dc, 0, sizeof(float) * (size_t)H);
        for (int s = len - 1; s >= 0; s--) { /* reverse of the forward order */
            int t_ = dir ? len - 1 - s : s, prev = dir ? t_ + 1 : t_ - 1;
            const float *act = t->act + ((size_t)t_ * 2 + (size_t)dir) * 4 * H;
            const float *c = t->cell + (size_t)t_ * 2 * H + (size_t)dir * H;
            const float *cp = s ? t->cell + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            const float *hp = s ? t->Hs + (size_t)prev * 2 * H + (size_t)dir * H : NULL;
            const float *dH = t->dHs + (size_t)t_ * 2 * H + (size_t)dir * H;
            for (int k = 0; k < H; k++) {
                float ig = act[k], fg = act[H + k], gg = act[2 * H + k], og = act[3 * H + k];
                float tc = tanh_(c[k]);
                dh[k] = dH[k] + dhn[k];
                float dck = dc[k] + dh[k] * og * (1.0f - tc * tc);
                dz[k] = dck * gg * ig * (1.0f - ig);
                dz[H + k] = cp ? dck * cp[k] * fg * (1.0f - fg) : 0.0f;
                dz[2 * H + k] = dck * ig * (1.0f - gg * gg);
                dz[3 * H + k] = dh[k] * tc * og * (1.0f - og);
                dc[k] = dck * fg;
            }
            memcpy(xh, t->X + (size_t)t_ * D, sizeof(float) * (size_t)D);
            if (hp)
                memcpy(xh + D, hp, sizeof(float) * (size_t)H);
            else
                memset(xh + D, 0, sizeof(float) * (size_t)H);
            outer_add(gW, dz, xh, 4 * H, I);
            for (int k = 0; k < 4 * H; k++)
                gb[k] += dz[k];
            /* dh_prev = W[:, D:]^T dz */
            memset(dhn, 0, sizeof(float) * (size_t)H);
            for (int r = 0; r < 4 * H; r++) {
                float d = dz[r];
                if (d == 0.0f) continue;
                const float *w = W + (size_t)r * I + D;
                for (int k = 0; k < H; k++)
                    dhn[k] += w[k] * d;
            }
        }
    }
}

INLINE void nn_train_step(casie__nn_train *t) {
    casie__nnet *n = t->n;
    float *p = n->own;
    const size_t N = n->n_params;
    double norm = 0;
    for (size_t i = 0; i < N; i++)
        norm += (double)t->g[i] * t->g[i];
    norm = sqrt(norm);
    float scale = norm > 5.0 ? (float)(5.0 / norm) : 1.0f; /* clip the gradient norm at 5 */
    t->step++;
    const float b1 = 0.9f, b2 = 0.999f;
    float c1 = 1.0f - powf(b1, (float)t->step), c2 = 1.0f - powf(b2, (float)t->step);
    float a = t->lr * sqrtf(c2) / c1;
    for (size_t i = 0; i < N; i++) {
        float g = t->g[i] * scale;
        t->m[i] = b1 * t->m[i] + (1 - b1) * g;
        t->v[i] = b2 * t->v[i] + (1 - b2) * g * g;
        p[i] -= a * t->m[i] / (sqrtf(t->v[i]) + 1e-8f);
        t->g[i] = 0;
    }
    if (t->averaging) {
        float k = 1.0f / (float)++t->n_avg;
        for (size_t i = 0; i < N; i++)
            t->avg[i] += (p[i] - t->avg[i]) * k;
    }
}

void casie__nn_train_finish(casie__nn_train *t) {
    if (t->n_avg) memcpy(t->n->own, t->avg, sizeof(float) * t->n->n_params);
}

/* ---- CRF loss ---- */

INLINE float crf_loss(const float *E, int n, int L, const float *trans, const float *start, const uint8_t *allowed,
                      const uint8_t *start_ok, const int *gold, float *dE, float *dtrans, float *dstart, float *work) {
    float *A = work, *B = A + (size_t)n * L, *tmp = B + (size_t)n * L;
    for (int l = 0; l < L; l++)
        A[l] = (start_ok && !start_ok[l]) ? NEG_INF : E[l] + start[l];
    for (int i = 1; i < n; i++)
        for (int l = 0; l < L; l++) {
            for (int p = 0; p < L; p++)
                tmp[p] = (allowed && !allowed[p * L + l]) ? NEG_INF : A[(i - 1) * L + p] + trans[p * L + l];
            A[i * L + l] = casie__logsumexp(tmp, L) + E[i * L + l];
        }
    for (int l = 0; l < L; l++)
        B[(size_t)(n - 1) * L + l] = 0;
    for (int i = n - 2; i >= 0; i--)
        for (int p = 0; p < L; p++) {
            for (int l = 0; l < L; l++)
                tmp[l] = (allowed && !allowed[p * L + l]) ? NEG_INF
                                                          : trans[p * L + l] + E[(i + 1) * L + l] + B[(i + 1) * L + l];
            B[i * L + p] = casie__logsumexp(tmp, L);
        }
    float Z = casie__logsumexp(A + (size_t)(n - 1) * L, L);
    float gs = start[gold[0]] + E[gold[0]];
    for (int i = 1; i < n; i++)
        gs += trans[gold[i - 1] * L + gold[i]] + E[i * L + gold[i]];
    for (int i = 0; i < n; i++)
        for (int l = 0; l < L; l++) {
            float v = A[i * L + l] + B[i * L + l] - Z;
            dE[i * L + l] = (v < -60 ? 0.0f : expf(v)) - (gold[i] == l);
        }
    for (int l = 0; l < L; l++)
        dstart[l] += dE[l];
    for (int i = 1; i < n; i++) {
        for (int p = 0; p < L; p++) {
            float ap = A[(i - 1) * L + p];
            if (ap <= NEG_INF / 2) continue;
            for (int l = 0; l < L; l++) {
                if (allowed && !allowed[p * L + l]) continue;
                float v = ap + trans[p * L + l] + E[i * L + l] + B[i * L + l] - Z;
                if (v > -60) dtrans[p * L + l] += expf(v);
            }
        }
        dtrans[gold[i - 1] * L + gold[i]] -= 1.0f;
    }
    return Z - gs;
}

/* ---- one copy of each kernel per level (cpu.c's table) ---- */
/* clang-format off */
CASIE_COPIES2(nn_train_encode, (casie__nn_train *t, int len), (t, len))
CASIE_COPIES2(nn_train_head_fwd, (casie__nn_train *t, int k, int h, float *out), (t, k, h, out))
CASIE_COPIES2(nn_train_head_bwd, (casie__nn_train *t, int k, int h, const float *dout, float *du), (t, k, h, dout, du))
CASIE_COPIES2(nn_train_encode_bwd, (casie__nn_train *t, int len), (t, len))
CASIE_COPIES2(nn_train_step, (casie__nn_train *t), (t))
/* clang-format on */
CASIE_COPIES2_RET(float, crf_loss,
                  (const float *E, int n, int L, const float *trans, const float *start, const uint8_t *allowed,
                   const uint8_t *start_ok, const int *gold, float *dE, float *dtrans, float *dstart, float *work),
                  (E, n, L, trans, start, allowed, start_ok, gold, dE, dtrans, dstart, work))
