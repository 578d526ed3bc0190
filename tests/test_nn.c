/*
 * test_nn.c - the neural tagger's arithmetic: analytic gradients of the
 * BiLSTM + head (both heads) and of the CRF loss agree with finite
 * differences; training-mode and inference-mode forward passes agree.
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/tagging.h"
#include "../src/model.h"
#include "../src/nn.h"
#include "../src/cpu.h"

#include <math.h>

enum { D = 5, H = 4, K = 3, L = 4, L2 = 3, N = 6 };

static float frand(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)((*s >> 11) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* Loss = sum over tokens of c1 . head0(u_i) + c2 . head1(u_0), with u_i =
 * [Hs_i; Hs_last] (U = 4H), through the training-mode passes.  With grad,
 * leaves the analytic gradient in t->g. */
static double loss_of(casie__nn_train *t, const float *X, const float *c1, const float *c2, int grad) {
    const casie__nnet *n = t->n;
    memcpy(t->X, X, sizeof(float) * N * D);
    casie__nn_train_encode(t, N);
    double loss = 0;
    float out[N][L], out2[L2] = {0};
    for (int i = 0; i < N; i++) {
        float *u = t->U + (size_t)i * n->U;
        memcpy(u, t->Hs + (size_t)i * 2 * H, sizeof(float) * 2 * H);
        memcpy(u + 2 * H, t->Hs + (size_t)(N - 1) * 2 * H, sizeof(float) * 2 * H);
        memset(out[i], 0, sizeof out[i]);
        casie__nn_train_head_fwd(t, i, 0, out[i]);
        for (int l = 0; l < L; l++)
            loss += c1[i * L + l] * out[i][l];
    }
    float *u = t->U + (size_t)N * n->U;
    memcpy(u, t->Hs, sizeof(float) * 2 * H);
    memcpy(u + 2 * H, t->Hs + (size_t)(N - 1) * 2 * H, sizeof(float) * 2 * H);
    casie__nn_train_head_fwd(t, N, 1, out2);
    for (int l = 0; l < L2; l++)
        loss += c2[l] * out2[l];
    if (grad) {
        float du[4 * H];
        for (int i = 0; i < N; i++) {
            casie__nn_train_head_bwd(t, i, 0, c1 + i * L, du);
            for (int j = 0; j < 2 * H; j++)
                t->dHs[i * 2 * H + j] += du[j], t->dHs[(N - 1) * 2 * H + j] += du[2 * H + j];
        }
        casie__nn_train_head_bwd(t, N, 1, c2, du);
        for (int j = 0; j < 2 * H; j++)
            t->dHs[j] += du[j], t->dHs[(N - 1) * 2 * H + j] += du[2 * H + j];
        casie__nn_train_encode_bwd(t, N);
    }
    return loss;
}

static void network_gradients_match_finite_differences(void **state) {
    (void)state;
    casie__nnet n;
    casie__nn_train t;
    assert_int_equal(casie__nnet_init(&n, D, H, 4 * H, K, L, L2, 7), CASIE_OK);
    assert_int_equal(casie__nn_train_init(&t, &n, 0.01f, 0.0f, 3), CASIE_OK);
    assert_int_equal(casie__nn_train_reserve(&t, N, N + 1), CASIE_OK);
    uint64_t s = 99;
    float X[N * D], c1[N * L], c2[L2];
    for (int i = 0; i < N * D; i++)
        X[i] = frand(&s);
    for (int i = 0; i < N * L; i++)
        c1[i] = frand(&s);
    for (int i = 0; i < L2; i++)
        c2[i] = frand(&s);
    for (size_t i = 0; i < n.n_params; i++)
        n.own[i] += 0.3f * frand(&s); /* away from the symmetric start */
    loss_of(&t, X, c1, c2, 1);
    float *g = malloc(sizeof(float) * n.n_params);
    assert_non_null(g);
    memcpy(g, t.g, sizeof(float) * n.n_params);
    int checked = 0;
    double worst = 0;
    for (size_t i = 0; i < n.n_params; i++) {
        const float e = 1e-2f, p0 = n.own[i];
        n.own[i] = p0 + e;
        double lp = loss_of(&t, X, c1, c2, 0);
        n.own[i] = p0 - e;
        double lm = loss_of(&t, X, c1, c2, 0);
        n.own[i] = p0;
        double num = (lp - lm) / (2 * e), err = fabs(num - g[i]) / fmax(1e-2, fabs(num) + fabs(g[i]));
        if (err > worst) worst = err;
        checked++;
    }
    printf("# %d parameters checked, worst relative error %.2e\n", checked, worst);
    assert_true(worst < 2e-2);
    free(g);
    casie__nn_train_free(&t);
    casie__nnet_free(&n);
}

/* The inference path (the int16 word-vector projection, encode_proj over
 * the int16 recurrent weights and states, vector gates, the head over the
 * int16 states) against the training forward pass in
 * float, for sizes that take the scalar path (H 4), the vector gates (H 8)
 * and the blocked recurrence (H 16, 32): within what the quantization costs
 * (a misplaced weight or scale costs far more). */
static void check_inference(int d, int h, int k, int l, int len) {
    const casie__kernels *plain = casie__kernels_at(CASIE_SIMD_PLAIN);
    casie__nnet n;
    casie__nn_train t;
    assert_int_equal(casie__nnet_init(&n, d, h, 2 * h, k, l, 0, 11), CASIE_OK);
    assert_int_equal(casie__nn_train_init(&t, &n, 0.01f, 0.0f, 3), CASIE_OK);
    assert_int_equal(casie__nn_train_reserve(&t, len, len), CASIE_OK);
    uint64_t s = 5;
    float *X = malloc(sizeof(float) * (size_t)(len * d)), *Hs = malloc(sizeof(float) * (size_t)(len * 2 * h));
    float *Zx = malloc(sizeof(float) * (size_t)(len * 8 * h)), *R = malloc(casie__nnet_rec_bytes(&n));
    float *work = malloc(sizeof(float) * casie__nnet_work(&n)), *a = malloc(sizeof(float) * (size_t)l),
          *b = malloc(sizeof(float) * (size_t)l);
    assert_true(X && Hs && Zx && R && work && a && b);
    /* as extraction projects a token: the first columns (the word vector,
     * int8 with a scale) at once, plus the bias, plus the rest column by
     * column; the training pass sees the same vector in floats */
    const int c0 = d / 2, G2 = 8 * h;
    const float vscale = 0.0123f;
    int8_t *V = malloc((size_t)(len * c0) + 1);
    float *C = malloc(sizeof(float) * (size_t)((d - c0) * G2));
    void *P = malloc(casie__nnet_proj_bytes(&n, c0));
    assert_true(V && C && P);
    for (int i = 0; i < len; i++)
        for (int j = 0; j < d; j++) {
            if (j < c0) {
                V[i * c0 + j] = (int8_t)lrintf(127 * frand(&s));
                X[i * d + j] = vscale * (float)V[i * c0 + j];
            } else {
                X[i * d + j] = 2 * frand(&s);
            }
        }
    casie__nnet_cols_transpose(&n, c0, C);
    casie__nnet_proj_quantize(&n, c0, P);
    for (int i = 0; i < len; i++) {
        float *z = Zx + (size_t)i * G2;
        casie__nnet_project_q(&n, P, c0, V + (size_t)i * c0, vscale, z, work);
        float zc[8 * 32]; /* h <= 32 here: the plain C copy, the same bits */
        plain->nnet_project_q(&n, P, c0, V + (size_t)i * c0, vscale, zc, work);
        assert_memory_equal(zc, z, sizeof(float) * (size_t)G2);
        for (int dir = 0; dir < 2; dir++)
            for (int r = 0; r < 4 * h; r++)
                z[dir * 4 * h + r] += n.p[(dir ? n.o_bb : n.o_bf) + (size_t)r];
        for (int j = c0; j < d; j++)
            casie__nnet_add_tcol(C + (size_t)(j - c0) * G2, X[(size_t)i * d + j], G2, z);
    }
    free(C), free(P), free(V);
    casie__nnet_rec_quantize(&n, R);
    int16_t *Hq = malloc(sizeof(int16_t) * (size_t)(len * 2 * h)),
            *Hqc = malloc(sizeof(int16_t) * (size_t)(len * 2 * h));
    void *Q = malloc(casie__nnet_head_bytes(&n, 2 * h));
    assert_true(Hq && Hqc && Q);
    casie__nnet_head_quantize(&n, 0, 2 * h, Q);
    casie__nnet_encode_proj(&n, R, Zx, len, Hs, Hq, work);
    { /* the plain C copies give the same bits as this CPU's */
        float *Hc = malloc(sizeof(float) * (size_t)(len * 2 * h));
        assert_non_null(Hc);
        plain->nnet_encode_proj(&n, R, Zx, len, Hc, Hqc, work);
        float hc[64] = {0}, ha[64] = {0}; /* l <= 64 */
        plain->nnet_head_from_q(&n, 0, Q, n.p + n.o_b1[0], Hqc, 2 * h, hc, work);
        casie__nnet_head_from_q(&n, 0, Q, n.p + n.o_b1[0], Hq, 2 * h, ha, work);
        assert_memory_equal(Hc, Hs, sizeof(float) * (size_t)(len * 2 * h));
        assert_memory_equal(Hqc, Hq, sizeof(int16_t) * (size_t)(len * 2 * h));
        assert_memory_equal(hc, ha, sizeof(float) * (size_t)l);
        free(Hc);
    }
    memcpy(t.X, X, sizeof(float) * (size_t)(len * d));
    casie__nn_train_encode(&t, len);
    float worst = 0;
    for (int i = 0; i < len * 2 * h; i++)
        worst = fmaxf(worst, fabsf(Hs[i] - t.Hs[i]));
    for (int i = 0; i < len; i++) {
        memset(a, 0, sizeof(float) * (size_t)l);
        memset(b, 0, sizeof(float) * (size_t)l);
        casie__nnet_head_from_q(&n, 0, Q, n.p + n.o_b1[0], Hq + i * 2 * h, 2 * h, a, work); /* as extraction */
        memcpy(t.U + (size_t)i * n.U, t.Hs + i * 2 * h, sizeof(float) * 2 * (size_t)h);
        casie__nn_train_head_fwd(&t, i, 0, b);
        for (int j = 0; j < l; j++)
            worst = fmaxf(worst, fabsf(a[j] - b[j]));
    }
    printf("# H %d: inference within %.1e of the training forward pass\n", h, (double)worst);
    assert_true(worst < 5e-4f);
    free(X), free(Hs), free(Zx), free(R), free(work), free(a), free(b), free(Hq), free(Hqc), free(Q);
    casie__nn_train_free(&t);
    casie__nnet_free(&n);
}

static void inference_matches_training_forward(void **state) {
    (void)state;
    check_inference(D, H, K, L, N);
    check_inference(7, 8, 5, 6, 9);
    check_inference(6, 5, 4, 3, 8); /* odd H: a padded pair of rows */
    check_inference(12, 16, 8, 11, 13);
    check_inference(10, 32, 16, 25, 40);
}

/* The CRF loss's dE, dtrans, dstart against finite differences, with BIO
 * masks in force. */
static void crf_gradients_match_finite_differences(void **state) {
    (void)state;
    enum { CL = CASIE_TRIG_LABELS, CN = 5 };
    uint8_t allowed[CL * CL], start_ok[CL];
    casie__trig_masks(allowed, start_ok);
    uint64_t s = 17;
    float E[CN * CL], trans[CL * CL], start[CL], dE[CN * CL], dtrans[CL * CL] = {0}, dstart[CL] = {0};
    float work[(2 * CN + 1) * CL], tmp[CN * CL], tt[CL * CL] = {0}, ts[CL] = {0};
    for (int i = 0; i < CN * CL; i++)
        E[i] = 2 * frand(&s);
    for (int i = 0; i < CL * CL; i++)
        trans[i] = frand(&s);
    for (int i = 0; i < CL; i++)
        start[i] = frand(&s);
    const int gold[CN] = {0, 1, 2, 0, 3}; /* O B-0 I-0 O B-1 */
    float loss = casie__crf_loss(E, CN, CL, trans, start, allowed, start_ok, gold, dE, dtrans, dstart, work);
    assert_true(loss > 0);
    double worst = 0;
    for (int i = 0; i < CN * CL + CL * CL + CL; i++) {
        float *p = i < CN * CL ? &E[i] : i < CN * CL + CL * CL ? &trans[i - CN * CL] : &start[i - CN * CL - CL * CL];
        float g = i < CN * CL ? dE[i] : i < CN * CL + CL * CL ? dtrans[i - CN * CL] : dstart[i - CN * CL - CL * CL];
        if (i >= CN * CL && i < CN * CL + CL * CL && !allowed[i - CN * CL]) continue;
        const float e = 1e-2f, p0 = *p;
        *p = p0 + e;
        double lp = casie__crf_loss(E, CN, CL, trans, start, allowed, start_ok, gold, tmp, tt, ts, work);
        *p = p0 - e;
        double lm = casie__crf_loss(E, CN, CL, trans, start, allowed, start_ok, gold, tmp, tt, ts, work);
        *p = p0;
        double num = (lp - lm) / (2 * e);
        if (fabs(num - g) > worst) worst = fabs(num - g);
    }
    printf("# CRF: worst absolute gradient error %.2e\n", worst);
    assert_true(worst < 5e-3);
}

/* One training step and the inference kernels through row k of cpu.h's
 * table: a BiLSTM (H 8: the vector gates) with dropout, a head, the CRF
 * loss, backward, Adam; then head, head_base, add_tcol, sum2 and the int16
 * path.  Fills out (what every row must give alike) and returns its
 * length in floats. */
static size_t run_level(const casie__kernels *k, float *out) {
    enum { SD = 9, SH = 8, SK = 6, SL = 5, SN = 7 };
    casie__nnet n;
    casie__nn_train t;
    assert_int_equal(casie__nnet_init(&n, SD, SH, 2 * SH, SK, SL, 0, 7), CASIE_OK);
    assert_int_equal(casie__nn_train_init(&t, &n, 0.01f, 0.2f, 3), CASIE_OK);
    assert_int_equal(casie__nn_train_reserve(&t, SN, SN), CASIE_OK);
    uint64_t s = 5;
    for (int i = 0; i < SN * SD; i++)
        t.X[i] = frand(&s);
    float E[SN * SL] = {0}, dE[SN * SL], work[(2 * SN + 1) * SL], du[2 * SH];
    const int gold[SN] = {0, 1, 2, 0, 3, 4, 0};
    k->nn_train_encode(&t, SN);
    for (int i = 0; i < SN; i++) {
        memcpy(t.U + (size_t)i * n.U, t.Hs + (size_t)i * 2 * SH, sizeof(float) * 2 * SH);
        k->nn_train_head_fwd(&t, i, 0, E + i * SL);
    }
    size_t o = 0;
    out[o++] = k->crf_loss(E, SN, SL, n.p + n.o_trans, n.p + n.o_start, NULL, NULL, gold, dE, t.g + n.o_trans,
                           t.g + n.o_start, work);
    for (int i = 0; i < SN; i++) {
        k->nn_train_head_bwd(&t, i, 0, dE + i * SL, du);
        for (int j = 0; j < 2 * SH; j++)
            t.dHs[i * 2 * SH + j] += du[j];
    }
    k->nn_train_encode_bwd(&t, SN);
    k->nn_train_step(&t);
    memcpy(out + o, n.p, sizeof(float) * n.n_params), o += n.n_params;
    /* inference over the stepped parameters */
    float *R = malloc(casie__nnet_rec_bytes(&n)), *nw = malloc(sizeof(float) * casie__nnet_work(&n));
    float Zx[SN * 8 * SH], Hs[SN * 2 * SH], C[(SD - 2) * 8 * SH], base[SK], sc[SL] = {0};
    int16_t Hq[SN * 2 * SH];
    assert_true(R && nw);
    casie__nnet_rec_quantize(&n, R);
    casie__nnet_cols_transpose(&n, 2, C);
    for (int i = 0; i < SN; i++) {
        k->nnet_sum2(C, C + 8 * SH, 8 * SH, Zx + i * 8 * SH);
        for (int j = 2; j < SD; j++)
            k->nnet_add_tcol(C + (j - 2) * 8 * SH, t.X[i * SD + j], 8 * SH, Zx + i * 8 * SH);
    }
    k->nnet_encode_proj(&n, R, Zx, SN, Hs, Hq, nw);
    k->nnet_head(&n, 0, t.U, sc, nw);
    k->nnet_head_base(&n, 0, t.U + SH, SH, base);
    memcpy(out + o, Hs, sizeof Hs), o += SN * 2 * SH;
    memcpy(out + o, sc, sizeof sc), o += SL;
    memcpy(out + o, base, sizeof base), o += SK;
    for (int i = 0; i < SN * 2 * SH; i++)
        out[o++] = (float)Hq[i];
    free(R), free(nw);
    casie__nn_train_free(&t);
    casie__nnet_free(&n);
    return o;
}

/* Every row of cpu.h's table this CPU runs (AVX2 and AVX-512 take the AVX2
 * copies of the networks) gives plain C's bits, training and inference. */
static void every_level_gives_the_same_bits(void **state) {
    (void)state;
    static float ref[4096], out[4096];
    size_t len = run_level(casie__kernels_at(CASIE_SIMD_PLAIN), ref);
    assert_true(len < 4096);
    int ran = 0;
    for (int level = CASIE_SIMD_AVX2; level < CASIE_SIMD_LEVELS; level++) {
        const casie__kernels *k = casie__kernels_at(level);
        if (!k) continue;
        assert_int_equal(run_level(k, out), len);
        assert_memory_equal(ref, out, len * sizeof(float));
        ran++;
    }
    printf("# %d levels above plain C compared over %zu values\n", ran, len);
    assert_int_equal(ran, casie__cpu_level());
}

/* add_tcols over many tokens gives, on every level, the bits of add_tcol
 * one column and one token at a time: sizes across its tiles (16 tokens,
 * 256 elements) and not multiples of them, values of every sign. */
static void column_tiles_give_one_column_bits(void **state) {
    (void)state;
    enum { NC = 37, NR = 600, T = 35, XS = 41, ZS = 608 };
    float *C = malloc(sizeof(float) * NC * NR), *x = malloc(sizeof(float) * T * XS);
    float *want = malloc(sizeof(float) * T * ZS), *got = malloc(sizeof(float) * T * ZS);
    assert_true(C && x && want && got);
    uint64_t s = 7;
    for (int i = 0; i < NC * NR; i++)
        s = s * 6364136223846793005ull + 1442695040888963407ull,
        C[i] = (float)((int64_t)(s >> 11) % 20001 - 10000) / 7919.0f;
    for (int i = 0; i < T * XS; i++)
        s = s * 6364136223846793005ull + 1442695040888963407ull,
        x[i] = (float)((int64_t)(s >> 13) % 3001 - 1500) / 1013.0f;
    int levels = 0;
    for (int level = CASIE_SIMD_PLAIN; level < CASIE_SIMD_LEVELS; level++) {
        const casie__kernels *k = casie__kernels_at(level);
        if (!k) continue;
        for (int i = 0; i < T * ZS; i++)
            want[i] = got[i] = (float)(i % 13) - 6.5f;
        for (int t = 0; t < T; t++)
            for (int j = 0; j < NC; j++)
                k->nnet_add_tcol(C + (size_t)j * NR, x[t * XS + j + 3], NR, want + (size_t)t * ZS);
        for (int T1 = 0; T1 < T; T1 += 19) /* in two calls of 19 and 16 tokens */
            k->nnet_add_tcols(C, NC, NR, x + (size_t)T1 * XS + 3, XS, T1 + 19 < T ? 19 : T - T1, got + (size_t)T1 * ZS,
                              ZS);
        assert_memory_equal(want, got, sizeof(float) * T * ZS);
        levels++;
    }
    assert_int_equal(levels, casie__cpu_level() + 1);
    free(C), free(x), free(want), free(got);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(column_tiles_give_one_column_bits),
        cmocka_unit_test(network_gradients_match_finite_differences),
        cmocka_unit_test(inference_matches_training_forward),
        cmocka_unit_test(crf_gradients_match_finite_differences),
        cmocka_unit_test(every_level_gives_the_same_bits),
    };
    return cmocka_run_group_tests_name("nn", tests, NULL, NULL);
}
