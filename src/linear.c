/*
 * linear.c - linear models over hashed features: averaged perceptron updates,
 * scoring, Viterbi decoding and forward-backward marginals.
 *
 * Not here: which features exist (features.c) or what the labels mean
 * (train.c, extract.c).  Everything is deterministic; nothing is global.
 */
#include "internal.h"
#include "feats.h"
#include "linear.h"
#include "cpu.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define NEG_INF (-1e30f)

int casie__linear_init(casie__linear *m, uint32_t n_rows, uint32_t n_labels, int sequence, int training) {
    memset(m, 0, sizeof *m);
    m->n_rows = n_rows;
    m->n_labels = n_labels;
    m->stride = (n_labels + 3u) & ~3u;
    m->owned = 1;
    m->fv = CASIE_FEATURE_VERSION;
    size_t nw = (size_t)n_rows * m->stride;
    if (!(m->w = calloc(nw, sizeof(float)))) goto fail;
    if (sequence) {
        if (!(m->trans = calloc((size_t)n_labels * n_labels, sizeof(float)))) goto fail;
        if (!(m->start = calloc(n_labels, sizeof(float)))) goto fail;
    }
    if (training) {
        if (!(m->uw = calloc(nw, sizeof(float)))) goto fail;
        if (sequence) {
            if (!(m->utrans = calloc((size_t)n_labels * n_labels, sizeof(float)))) goto fail;
            if (!(m->ustart = calloc(n_labels, sizeof(float)))) goto fail;
        }
    }
    m->c = 1;
    return CASIE_OK;
fail:
    casie__linear_free(m);
    return CASIE_ERR_NOMEM;
}

void casie__linear_free(casie__linear *m) {
    if (m->owned) {
        free(m->w);
        free(m->trans);
        free(m->start);
    }
    free(m->uw);
    free(m->utrans);
    free(m->ustart);
    memset(m, 0, sizeof *m);
}

static void average(float *w, float *u, size_t n, long c) {
    float inv = 1.0f / (float)c;
    for (size_t i = 0; i < n; i++)
        w[i] -= u[i] * inv;
}

void casie__linear_finish(casie__linear *m) {
    if (m->uw) average(m->w, m->uw, (size_t)m->n_rows * m->stride, m->c);
    if (m->utrans) average(m->trans, m->utrans, (size_t)m->n_labels * m->n_labels, m->c);
    if (m->ustart) average(m->start, m->ustart, m->n_labels, m->c);
    free(m->uw);
    free(m->utrans);
    free(m->ustart);
    m->uw = m->utrans = m->ustart = NULL;
}

static inline float bf16_to_f32(uint16_t h) { /* bfloat16 is a float's top half */
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The rows are scattered over a table of megabytes: every row is asked for
 * before the first is summed, so that their cache misses overlap. */
CASIE_INLINE void linear_score(const casie__linear *m, const uint64_t *feats, int n_feats, float *scores) {
    const uint32_t mask = m->n_rows - 1, L = m->n_labels, S = m->stride;
    if (m->wh) {
        for (int k = 0; k < n_feats; k++)
            __builtin_prefetch(m->wh + (size_t)(feats[k] & mask) * S);
        for (int k = 0; k < n_feats; k++) {
            const uint16_t *row = m->wh + (size_t)(feats[k] & mask) * S;
            for (uint32_t l = 0; l < L; l++)
                scores[l] += bf16_to_f32(row[l]);
        }
        return;
    }
    for (int k = 0; k < n_feats; k++) {
        const float *row = m->w + (size_t)(feats[k] & mask) * S;
        for (uint32_t l = 0; l < L; l++)
            scores[l] += row[l];
    }
}

/* its copies for cpu.c's table (the AVX-512 row takes the AVX2 one) */
CASIE_COPIES2(linear_score, (const casie__linear *m, const uint64_t *feats, int n_feats, float *scores),
              (m, feats, n_feats, scores))

void casie__linear_update(casie__linear *m, const uint64_t *feats, int n_feats, int label, float delta) {
    const uint32_t mask = m->n_rows - 1, S = m->stride;
    const float cd = (float)m->c * delta;
    for (int k = 0; k < n_feats; k++) {
        size_t i = (size_t)(feats[k] & mask) * S + (size_t)label;
        m->w[i] += delta;
        if (m->uw) m->uw[i] += cd;
    }
}

/* ---- sequence decoding ---- */

/* The allowed transitions as lists: pred[l * L + k], k < npred[l], are the
 * labels that may precede l, in increasing order (all of them without a
 * mask); succ and nsucc the same for the labels that may follow p.  Loops
 * over them visit the same labels in the same order as loops over all
 * labels that skip the masked ones, so sums and maxima keep their bits. */
typedef struct {
    uint16_t *pred, *npred, *succ, *nsucc;
} trans_lists;

static int make_lists(int L, const uint8_t *allowed, trans_lists *t) {
    uint16_t *mem = calloc(2 * (size_t)L * L + 2 * (size_t)L, sizeof(uint16_t));
    if (!mem) return CASIE_ERR_NOMEM;
    t->pred = mem, t->succ = mem + (size_t)L * L, t->npred = t->succ + (size_t)L * L, t->nsucc = t->npred + L;
    for (int p = 0; p < L; p++)
        for (int l = 0; l < L; l++) {
            if (allowed && !allowed[p * L + l]) continue;
            t->pred[l * L + t->npred[l]++] = (uint16_t)p;
            t->succ[p * L + t->nsucc[p]++] = (uint16_t)l;
        }
    return CASIE_OK;
}

int casie__viterbi(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                   int *out) {
    const int L = (int)m->n_labels;
    if (n <= 0) return CASIE_OK;
    float *delta = malloc(sizeof(float) * (size_t)n * L * 2); /* scores and back pointers */
    int *bp = malloc(sizeof(int) * (size_t)n * L);
    trans_lists tl = {0};
    if (!delta || !bp || make_lists(L, allowed, &tl)) { /* an error, not a worse answer */
        free(delta);
        free(bp);
        return CASIE_ERR_NOMEM;
    }
    for (int l = 0; l < L; l++)
        delta[l] = (start_ok && !start_ok[l]) ? NEG_INF : E[l] + (m->start ? m->start[l] : 0);
    for (int i = 1; i < n; i++) {
        for (int l = 0; l < L; l++) {
            float best = NEG_INF * 2;
            int arg = 0;
            for (int k = 0; k < tl.npred[l]; k++) {
                int p = tl.pred[l * L + k];
                float s = delta[(i - 1) * L + p] + (m->trans ? m->trans[p * L + l] : 0);
                if (s > best) best = s, arg = p;
            }
            delta[i * L + l] = best + E[i * L + l];
            bp[i * L + l] = arg;
        }
    }
    int b = 0;
    for (int l = 1; l < L; l++)
        if (delta[(n - 1) * L + l] > delta[(n - 1) * L + b]) b = l;
    for (int i = n - 1; i >= 0; i--) {
        out[i] = b;
        if (i > 0) b = bp[i * L + b];
    }
    free(delta);
    free(bp);
    free(tl.pred);
    return CASIE_OK;
}

float casie__logsumexp(const float *x, int n) {
    float mx = NEG_INF;
    for (int i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (mx <= NEG_INF) return NEG_INF;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += exp((double)(x[i] - mx));
    return mx + (float)log(s);
}

static int marginals_log(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                         float temp, float *P);

/* Forward-backward in probability space with per-position scaling: one exp
 * per label and position instead of one per label pair.  Falls back to the
 * log-space version when a scaled row underflows. */
int casie__marginals(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                     float temp, float *P) {
    const int L = (int)m->n_labels;
    if (n <= 0) return CASIE_OK;
    double *psi = malloc(sizeof(double) * (size_t)n * L), *A = malloc(sizeof(double) * (size_t)n * L);
    double *B = malloc(sizeof(double) * (size_t)n * L), *T = calloc((size_t)L * L, sizeof(double));
    trans_lists tl = {0};
    int ok = psi && A && B && T && !make_lists(L, allowed, &tl);
    if (!ok) {
        free(psi), free(A), free(B), free(T), free(tl.pred);
        return CASIE_ERR_NOMEM;
    }
    /* the masked transitions stay 0, and the sums below skip them: adding
     * their zero terms changed no bit */
    for (int l = 0; l < L; l++)
        for (int k = 0; k < tl.npred[l]; k++) {
            int p = tl.pred[l * L + k];
            T[p * L + l] = exp((double)temp * (m->trans ? m->trans[p * L + l] : 0));
        }
    for (int i = 0; i < n; i++) {
        float mx = E[i * L];
        for (int l = 1; l < L; l++)
            if (E[i * L + l] > mx) mx = E[i * L + l];
        /* a label no transition reaches (and no start) has forward weight 0
         * whatever its psi, so its psi is not computed */
        for (int l = 0; l < L; l++)
            psi[i * L + l] = tl.npred[l] || (i == 0 && (!start_ok || start_ok[l]))
                                 ? exp((double)temp * (double)(E[i * L + l] - mx))
                                 : 0.0;
    }
    for (int i = 0; ok && i < n; i++) { /* forward, each row normalized */
        double c = 0;
        for (int l = 0; l < L; l++) {
            double a;
            if (i == 0) {
                a = (start_ok && !start_ok[l]) ? 0.0 : exp((double)temp * (m->start ? m->start[l] : 0));
            } else {
                a = 0;
                for (int k = 0; k < tl.npred[l]; k++) {
                    int p = tl.pred[l * L + k];
                    a += A[(i - 1) * L + p] * T[p * L + l];
                }
            }
            A[i * L + l] = a * psi[i * L + l];
            c += A[i * L + l];
        }
        if (!(c > 1e-280) || !isfinite(c))
            ok = 0;
        else
            for (int l = 0; l < L; l++)
                A[i * L + l] /= c;
    }
    for (int i = n - 1; ok && i >= 0; i--) { /* backward, each row normalized */
        double c = 0;
        for (int p = 0; p < L; p++) {
            double b = 1.0;
            if (i < n - 1) {
                b = 0;
                for (int k = 0; k < tl.nsucc[p]; k++) {
                    int l = tl.succ[p * L + k];
                    b += T[p * L + l] * psi[(i + 1) * L + l] * B[(i + 1) * L + l];
                }
            }
            B[i * L + p] = b;
            c += b;
        }
        if (!(c > 1e-280) || !isfinite(c))
            ok = 0;
        else
            for (int p = 0; p < L; p++)
                B[i * L + p] /= c;
    }
    for (int i = 0; ok && i < n; i++) {
        double z = 0;
        for (int l = 0; l < L; l++)
            z += A[i * L + l] * B[i * L + l];
        if (!(z > 0)) {
            ok = 0;
            break;
        }
        for (int l = 0; l < L; l++)
            P[i * L + l] = (float)(A[i * L + l] * B[i * L + l] / z);
    }
    free(psi);
    free(A);
    free(B);
    free(T);
    free(tl.pred);
    return ok ? CASIE_OK : marginals_log(m, E, n, allowed, start_ok, temp, P);
}

static int marginals_log(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                         float temp, float *P) {
    const int L = (int)m->n_labels;
    int rc = CASIE_ERR_NOMEM;
    if (n <= 0) return CASIE_OK;
    float *A = malloc(sizeof(float) * (size_t)n * L), *B = malloc(sizeof(float) * (size_t)n * L);
    float *tmp = malloc(sizeof(float) * (size_t)L);
    if (!A || !B || !tmp) goto done;
    for (int l = 0; l < L; l++)
        A[l] = (start_ok && !start_ok[l]) ? NEG_INF : temp * (E[l] + (m->start ? m->start[l] : 0));
    for (int i = 1; i < n; i++)
        for (int l = 0; l < L; l++) {
            for (int p = 0; p < L; p++)
                tmp[p] = (allowed && !allowed[p * L + l])
                             ? NEG_INF
                             : A[(i - 1) * L + p] + temp * (m->trans ? m->trans[p * L + l] : 0);
            A[i * L + l] = casie__logsumexp(tmp, L) + temp * E[i * L + l];
        }
    for (int l = 0; l < L; l++)
        B[(n - 1) * L + l] = 0;
    for (int i = n - 2; i >= 0; i--)
        for (int p = 0; p < L; p++) {
            for (int l = 0; l < L; l++)
                tmp[l] = (allowed && !allowed[p * L + l])
                             ? NEG_INF
                             : temp * ((m->trans ? m->trans[p * L + l] : 0) + E[(i + 1) * L + l]) + B[(i + 1) * L + l];
            B[i * L + p] = casie__logsumexp(tmp, L);
        }
    float Z = casie__logsumexp(A + (size_t)(n - 1) * L, L);
    for (int i = 0; i < n; i++)
        for (int l = 0; l < L; l++) {
            float v = A[i * L + l] + B[i * L + l] - Z;
            /* a probability, whatever the weights: a model whose scores
             * overflow the floats (a fuzzed one did) makes v NaN or above
             * 0, which would be a NaN or infinite confidence */
            P[i * L + l] = !(v >= -80) ? 0.0f : v >= 0 ? 1.0f : (float)exp((double)v);
        }
    rc = CASIE_OK;
done:
    free(A);
    free(B);
    free(tmp);
    return rc;
}

static inline uint16_t f32_to_bf16(float f) {
    union {
        float f;
        uint32_t u;
    } v = {f};
    if ((v.u & 0x7f800000u) == 0x7f800000u) return (uint16_t)(v.u >> 16);
    return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

uint16_t casie__f32_to_bf16(float f) { return f32_to_bf16(f); }

void casie__linear_round_bf16(casie__linear *m) {
    if (!m->w) return;
    size_t n = (size_t)m->n_rows * m->stride;
    for (size_t i = 0; i < n; i++)
        m->w[i] = bf16_to_f32(f32_to_bf16(m->w[i]));
}
