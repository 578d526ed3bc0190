/*
 * test_cpu.c - the CPU probe and the table of kernels (src/cpu.c): the
 * level is what the CPU reports (capped by make SIMD=avx2), the same from
 * every thread; each row the CPU runs is complete and labelled, none above
 * it is given; and the encoder's kernels of every row give plain C's bits
 * on random inputs of awkward sizes.  The networks' kernels are compared
 * the same way in test_nn.c, the whole forward pass in test_encoder.c.
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/cpu.h"
#include "../src/encoder_kernels.h"
#include "../src/hash.h"

#include <pthread.h>

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

/* The level the kernel's view of the CPU implies (the flags of
 * /proc/cpuinfo, which it clears for what the OS does not save), capped as
 * make SIMD=avx2 caps it; -1 when there is no /proc/cpuinfo to read. */
static int cpuinfo_level(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    static char line[1 << 16];
    int level = -1;
    while (level < 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5)) continue;
        char *flags = strchr(line, ':');
        int avx2 = 0, f512 = 0, bw = 0, vnni = 0;
        for (char *w = strtok(flags ? flags + 1 : line, " \t\n"); w; w = strtok(NULL, " \t\n"))
            avx2 |= !strcmp(w, "avx2"), f512 |= !strcmp(w, "avx512f"), bw |= !strcmp(w, "avx512bw"),
                vnni |= !strcmp(w, "avx512_vnni");
        level = !avx2 ? CASIE_SIMD_PLAIN : f512 && bw && vnni ? CASIE_SIMD_AVX512 : CASIE_SIMD_AVX2;
    }
    fclose(f);
#if defined(CASIE_NO_AVX512)
    if (level > CASIE_SIMD_AVX2) level = CASIE_SIMD_AVX2;
#endif
#if !defined(__x86_64__)
    if (level >= 0) level = CASIE_SIMD_PLAIN; /* no x86 copies to run */
#endif
    return level;
}

static void *level_in_thread(void *arg) {
    *(int *)arg = casie__cpu_level();
    return NULL;
}

static void probe_and_rows(void **state) {
    (void)state;
    /* the first calls race from eight threads: one answer */
    pthread_t th[8];
    int got[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, level_in_thread, &got[i]), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    const int best = casie__cpu_level();
    printf("# level %d (0 plain C, 1 AVX2, 2 AVX-512 VNNI)\n", best);
    const int seen = cpuinfo_level();
    if (seen >= 0) assert_int_equal(best, seen);
    for (int i = 0; i < 8; i++)
        assert_int_equal(got[i], best);
    assert_ptr_equal(casie__kernels_best(), casie__kernels_at(best));
    assert_ptr_equal(casie__kernels_at(CASIE_SIMD_BEST), casie__kernels_at(best));
    assert_null(casie__kernels_at(-2));
    assert_null(casie__kernels_at(CASIE_SIMD_LEVELS));
    for (int level = CASIE_SIMD_PLAIN; level < CASIE_SIMD_LEVELS; level++) {
        const casie__kernels *k = casie__kernels_at(level);
        if (level > best) {
            assert_null(k);
            continue;
        }
        assert_non_null(k);
        assert_int_equal(k->level, level);
        assert_true(k->nnet_add_tcol && k->nnet_add_tcols && k->grad_gemm && k->nnet_sum2 && k->nnet_project_q &&
                    k->nnet_encode_proj && k->nnet_head && k->nnet_head_base && k->nnet_head_from_q &&
                    k->nn_train_encode && k->nn_train_head_fwd && k->nn_train_head_bwd && k->nn_train_encode_bwd &&
                    k->nn_train_step && k->crf_loss && k->linear_score && k->q8_quantize && k->q8_matmul && k->gelu &&
                    k->add_layernorm && k->attend);
        /* a row's own copies: no two levels share the encoder's */
        if (level > CASIE_SIMD_PLAIN) assert_true(k->q8_matmul != casie__kernels_at(level - 1)->q8_matmul);
    }
}

/* Random int8 matrices of awkward sizes: every level's row of cpu.h's
 * table (each one this CPU runs) gives the same bits as plain C. */
static void int8_products_agree(void **state) {
    (void)state;
    int ran = 0;
    const casie__kernels *plain = casie__kernels_at(CASIE_SIMD_PLAIN);
    assert_non_null(plain);
    static const int SIZES[][3] = {{1, 1, 1},     {3, 5, 31},   {4, 4, 64},    {5, 7, 65},   {9, 70, 200},
                                   {16, 64, 384}, {7, 130, 96}, {13, 3, 1536}, {2, 67, 127}, {20, 1040, 3072}};
    const int n_sizes = (int)(sizeof SIZES / sizeof SIZES[0]);
    int packed = 0;
    for (size_t t = 0; t < sizeof SIZES / sizeof SIZES[0]; t++) {
        int n = SIZES[t][0], rows = SIZES[t][1], cols = SIZES[t][2], S = (cols + 63) & ~63;
        int8_t *wq = calloc((size_t)rows * S, 1), *xq = calloc((size_t)n * S, 1), *xq2 = calloc((size_t)n * S, 1);
        float *ws = malloc(rows * sizeof *ws), *b = malloc(rows * sizeof *b), *x = malloc((size_t)n * cols * 4);
        float *xs = malloc(n * sizeof *xs), *xs2 = malloc(n * sizeof *xs2);
        int32_t *sum = calloc(rows, sizeof *sum);
        float *y[CASIE_SIMD_LEVELS];
        for (int k = 0; k < CASIE_SIMD_LEVELS; k++)
            y[k] = malloc((size_t)n * rows * sizeof(float));
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                /* extremes included: +-127 and 0 */
                int v = (int)(casie__rng_next(&g_rng) % 255) - 127;
                if (c % 17 == 0) v = (c & 1) ? 127 : -127;
                wq[(size_t)r * S + c] = (int8_t)v;
                sum[r] += v;
            }
            ws[r] = 0.001f * (float)(1 + r % 7);
            b[r] = 0.5f - (float)(r % 3);
        }
        for (int i = 0; i < n * cols; i++)
            x[i] = (float)((int)(casie__rng_next(&g_rng) % 2001) - 1000) / 97.0f;
        x[0] = 1000.0f; /* a large first activation quantizes to 127 */
        plain->q8_quantize(x, n, cols, S, xq, xs);
        casie__q8mat m = {rows, cols, S, wq, ws, sum, NULL};
        for (int k = 0; k < CASIE_SIMD_LEVELS; k++) {
            const casie__kernels *K = casie__kernels_at(k);
            if (!K) continue;
            assert_int_equal(K->level, k);
            K->q8_quantize(x, n, cols, S, xq2, xs2);
            assert_memory_equal(xq, xq2, (size_t)n * S);
            assert_memory_equal(xs, xs2, (size_t)n * sizeof *xs);
            K->q8_matmul(xq, xs, n, &m, b, y[k], rows);
            if (k) {
                assert_memory_equal(y[0], y[k], (size_t)n * rows * sizeof(float));
                ran++;
            }
            if (k == CASIE_SIMD_AVX512) { /* and over packed panels, as a loaded encoder's layers are */
                uint8_t *panel = aligned_alloc(64, casie__q8_panel_bytes(&m));
                assert_non_null(panel);
                casie__q8_pack(&m, panel);
                casie__q8mat mp = m;
                mp.panel = panel;
                memset(y[k], 0, (size_t)n * rows * sizeof(float));
                K->q8_matmul(xq, xs, n, &mp, b, y[k], rows);
                assert_memory_equal(y[0], y[k], (size_t)n * rows * sizeof(float));
                K->q8_matmul(xq, xs, n, &mp, NULL, y[k], rows); /* without a bias */
                for (int i = 0; i < n * rows; i++)
                    assert_true(y[k][i] + b[i % rows] == y[0][i]);
                free(panel);
                packed++;
            }
        }
        /* and the plain sums are the int32 dot products */
        for (int i = 0; i < n; i++)
            for (int r = 0; r < rows; r++) {
                int32_t s = 0;
                for (int c = 0; c < cols; c++)
                    s += xq[(size_t)i * S + c] * wq[(size_t)r * S + c];
                float v = (float)s * (xs[i] * ws[r]);
                assert_true(y[0][(size_t)i * rows + r] == v + b[r]);
            }
        free(wq), free(xq), free(xq2), free(ws), free(b), free(x), free(xs), free(xs2), free(sum);
        for (int k = 0; k < CASIE_SIMD_LEVELS; k++)
            free(y[k]);
    }
    printf("# int8 products compared with plain C: %d, over packed panels %d (level %d)\n", ran, packed,
           casie__cpu_level());
    assert_int_equal(ran, n_sizes * casie__cpu_level());
    assert_int_equal(packed, casie__cpu_level() == CASIE_SIMD_AVX512 ? n_sizes : 0);
}

/* GELU, layer norm and one head's attention on random values (head sizes
 * that take the 16- and 8-lane paths and neither; sequences of every tail;
 * with and without a padding mask and a relative bias): every level's
 * copy gives plain C's bits. */
static void float_kernels_agree(void **state) {
    (void)state;
    enum { MAXN = 37, MAXD = 64, LD = 3 * MAXD };
    static float qkv[MAXN * LD], rel[2 * MAXN], ctx[2][MAXN * MAXD], kt[MAXD * 48], p[4 * 48], x[2][MAXN * MAXD],
        d[MAXD], g[MAXD], b[MAXD];
    uint8_t mask[MAXN];
    for (int i = 0; i < MAXN * LD; i++)
        qkv[i] = (float)((int)(casie__rng_next(&g_rng) % 2001) - 1000) / 250.0f;
    for (int i = 0; i < 2 * MAXN; i++)
        rel[i] = (float)((int)(casie__rng_next(&g_rng) % 201) - 100) / 50.0f;
    for (int i = 0; i < MAXD; i++)
        g[i] = 1.0f + (float)(i % 5) / 8.0f, b[i] = (float)(i % 3) / 4.0f - 0.25f;
    for (int i = 0; i < MAXN; i++)
        mask[i] = i % 4 != 2;
    const casie__kernels *plain = casie__kernels_at(CASIE_SIMD_PLAIN);
    int ran = 0;
    for (int k = CASIE_SIMD_AVX2; k < CASIE_SIMD_LEVELS; k++) {
        const casie__kernels *K = casie__kernels_at(k);
        if (!K) continue;
        static const int DH[] = {5, 8, 16, 24, 64}, NS[] = {1, 4, 5, 16, 17, 37};
        for (size_t a = 0; a < sizeof DH / sizeof DH[0]; a++)
            for (size_t c = 0; c < sizeof NS / sizeof NS[0]; c++)
                for (int v = 0; v < 4; v++) {
                    const int dh = DH[a], n = NS[c];
                    const uint8_t *mk = v & 1 ? mask : NULL;
                    const float *rl = v & 2 ? rel + MAXN - n : NULL;
                    for (int t = 0; t < 2; t++)
                        (t ? K : plain)->attend(qkv, qkv + MAXD, qkv + 2 * MAXD, LD, n, dh, mk, rl, ctx[t], dh, kt, p);
                    assert_memory_equal(ctx[0], ctx[1], (size_t)n * dh * sizeof(float));
                    for (int t = 0; t < 2; t++) {
                        memcpy(x[t], qkv, (size_t)n * dh * sizeof(float));
                        (t ? K : plain)->add_layernorm(x[t], v & 1 ? ctx[0] : NULL, n, dh, g, b, 1e-5f, d);
                        (t ? K : plain)->gelu(x[t], (size_t)n * dh);
                    }
                    assert_memory_equal(x[0], x[1], (size_t)n * dh * sizeof(float));
                    ran++;
                }
    }
    printf("# attention, layer norm and GELU compared with plain C: %d cases\n", ran);
    assert_int_equal(ran, 5 * 6 * 4 * casie__cpu_level());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe_and_rows),
        cmocka_unit_test(int8_products_agree),
        cmocka_unit_test(float_kernels_agree),
    };
    return cmocka_run_group_tests_name("cpu", tests, NULL, NULL);
}
