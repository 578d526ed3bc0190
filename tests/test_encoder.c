/*
 * test_encoder.c - the transformer encoder (src/encoder*.c, docs/FORMAT.md
 * Part 3): import, load, the forward pass against reference hidden states
 * computed by an independent numpy implementation (tests/encoder_reference.py),
 * the forward pass the same on every SIMD level (the kernels one by one:
 * test_cpu.c), the windowed pass, and every kind of bad encoder file and bad
 * checkpoint refused.
 *
 * The bound against the reference.  The encoder stores each weight row as
 * int8 with scale absmax/127 and quantizes each activation row the same way
 * on the fly, so both factors of every matrix product are off by up to half
 * a step (absmax/254, about 0.4% of the row's largest entry), and the word
 * embeddings by as much.  The layer norms rescale the states to unit
 * variance, so the error is measured in those units: a numpy run with the
 * same int8 rounding (weights and activations) reproduces the C figures, so
 * they are the quantization's, not the code's.  Measured on the tiny random
 * BERT (weights of standard deviation 0.15, as harsh as a trained model's):
 * 0.012 at most after the embeddings, 0.032 at most and 0.008 on average
 * over all 3 layers x 23 pieces x 32 values.  The test allows 0.06 at most
 * and 0.015 on average; ignoring the padding mask moves the states by more
 * than 0.2 (test_mask_matters).  The real encoder's bound is stated at its
 * test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "encoder.h"
#include "encoder_kernels.h"
#include "cpu.h"
#include "hash.h"
#include "model_file.h"
#include "wordpiece.h"
#include "cli_common.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TINY_DIR "tests/data/encoder/tiny"
#define TINY_MPNET_DIR "tests/data/encoder/tiny-mpnet"
#define REAL_ENC "models/encoders/minilm-l6.enc"
#define REAL_REF "tests/data/encoder/minilm-l6.ref"
#define MPNET_ENC "models/encoders/mpnet-base.enc"
#define MPNET_REF "tests/data/encoder/mpnet-base.ref"

static char g_dir[64];
static char g_tiny[128]; /* the tiny fixture imported, once */

static const char *tmp_path(const char *name) {
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void write_all(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void copy_file(const char *from, const char *to) {
    size_t n;
    unsigned char *b = read_all(from, &n);
    write_all(to, b, n);
    free(b);
}

static int setup(void **state) {
    (void)state;
    strcpy(g_dir, "/tmp/casie_enc_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    snprintf(g_tiny, sizeof g_tiny, "%s/tiny.enc", g_dir);
    if (cli_setup(state)) return -1;
    casie_error err = {0};
    if (casie_encoder_import(TINY_DIR, g_tiny, &err)) {
        fprintf(stderr, "import: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (cli_teardown(state)) return -1;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the reference file ------------------------------------------------ */

typedef struct ref_seq {
    int n;
    int32_t ids[64];
    uint8_t mask[64];
    float *h; /* (layers, n, H) */
} ref_seq;

typedef struct ref_file {
    int n_seq, layers, H;
    ref_seq seq[4];
} ref_file;

static void read_ref(const char *path, ref_file *r) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f)); /* comment */
    assert_int_equal(fscanf(f, " sequences %d layers %d hidden %d", &r->n_seq, &r->layers, &r->H), 3);
    assert_true(r->n_seq >= 1 && r->n_seq <= 4);
    for (int s = 0; s < r->n_seq; s++) {
        ref_seq *q = &r->seq[s];
        assert_int_equal(fscanf(f, " ids %d", &q->n), 1);
        assert_true(q->n >= 1 && q->n <= 64);
        for (int i = 0; i < q->n; i++)
            assert_int_equal(fscanf(f, " %d", &q->ids[i]), 1);
        assert_int_equal(fscanf(f, " mask"), 0);
        for (int i = 0; i < q->n; i++) {
            int m;
            assert_int_equal(fscanf(f, " %d", &m), 1);
            q->mask[i] = (uint8_t)m;
        }
        size_t cnt = (size_t)r->layers * q->n * r->H;
        q->h = malloc(cnt * sizeof *q->h);
        assert_non_null(q->h);
        for (size_t k = 0; k < cnt; k++)
            assert_int_equal(fscanf(f, " %f", &q->h[k]), 1);
    }
    fclose(f);
}

static void free_ref(ref_file *r) {
    for (int s = 0; s < r->n_seq; s++)
        free(r->seq[s].h);
}

static uint64_t all_layers(const casie_encoder *e) { return (2ull << e->cfg.n_layers) - 1; }

/* ---- against the reference --------------------------------------------- */

/* Every hidden state of the reference's sequences, on every kernel this CPU
 * runs, within the int8 weights' bound. */
static void compare_reference(const casie_encoder *e, const char *ref, const char *label) {
    casie_error err = {0};
    ref_file r;
    read_ref(ref, &r);
    assert_int_equal(r.layers, e->cfg.n_layers + 1);
    assert_int_equal(r.H, e->cfg.hidden);
    double worst = 0, total = 0;
    size_t count = 0;
    for (int k = CASIE_Q8_PLAIN; k <= CASIE_Q8_VNNI; k++) {
        if (!casie__q8_supported(k)) continue;
        for (int s = 0; s < r.n_seq; s++) {
            ref_seq *q = &r.seq[s];
            size_t cnt = (size_t)r.layers * q->n * r.H;
            float *out = malloc(cnt * sizeof *out);
            assert_non_null(out);
            assert_int_equal(casie__encoder_forward(e, q->ids, q->mask, q->n, all_layers(e), k, out, NULL, &err), 0);
            for (size_t i = 0; i < cnt; i++) {
                double d = fabs((double)out[i] - q->h[i]);
                worst = d > worst ? d : worst;
                total += d;
                count++;
            }
            free(out);
        }
    }
    print_message("%s vs numpy: max |diff| %.4f, mean %.5f over %zu values\n", label, worst, total / count, count);
    assert_true(worst < 0.06);
    assert_true(total / count < 0.015);
    free_ref(&r);
}

static void test_tiny_matches_reference(void **state) {
    (void)state;
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(g_tiny, &err);
    assert_non_null(e);
    const casie_encoder_config *c = casie_encoder_get_config(e);
    assert_string_equal(c->name, "casie-tiny-random-bert");
    assert_int_equal(c->n_layers, 2);
    assert_int_equal(c->hidden, 32);
    assert_int_equal(c->n_heads, 4);
    assert_int_equal(c->intermediate, 40);
    assert_int_equal(c->n_vocab, 48);
    assert_int_equal(c->lowercase, 1);
    assert_int_equal(c->cls_id, 2);
    assert_int_equal(c->sep_id, 3);
    assert_int_equal(c->pad_id, 0);
    assert_int_equal(c->unk_id, 1);
    assert_int_equal(c->arch, CASIE_ENCODER_BERT);
    assert_int_equal(c->rel_buckets, 0);
    assert_int_equal(c->pos_offset, 0);
    assert_null(e->rel_bias);
    size_t len;
    assert_string_equal(casie__encoder_piece(e, 7, &len), "##er");
    assert_int_equal(len, 4);
    assert_null(casie__encoder_piece(e, 48, NULL));
    assert_null(casie__encoder_piece(e, -1, NULL));

    compare_reference(e, TINY_DIR "/reference.txt", "tiny BERT");
    casie_encoder_free(e);
}

/* MPNet: the same fixture's shapes, its relative position bias and
 * positions from 2, against its own numpy reference (pieces 12 and more
 * apart reach the log-scaled buckets). */
static void test_tiny_mpnet_matches_reference(void **state) {
    (void)state;
    casie_error err = {0};
    const char *path = tmp_path("tiny-mpnet.enc");
    if (casie_encoder_import(TINY_MPNET_DIR, path, &err)) fail_msg("%s", err.message);
    casie_encoder *e = casie_encoder_load(path, &err);
    if (!e) fail_msg("%s", err.message);
    const casie_encoder_config *c = casie_encoder_get_config(e);
    assert_int_equal(c->arch, CASIE_ENCODER_MPNET);
    assert_int_equal(c->rel_buckets, 32);
    assert_int_equal(c->pos_offset, 2);
    assert_int_equal(c->n_layers, 2);
    assert_int_equal(c->hidden, 32);
    assert_int_equal(c->cls_id, 0);
    assert_int_equal(c->pad_id, 1);
    assert_int_equal(c->sep_id, 2);
    assert_non_null(e->rel_bias);
    compare_reference(e, TINY_MPNET_DIR "/reference.txt", "tiny MPNet");
    /* without its relative bias it is another function */
    casie_encoder no_bias = *e;
    no_bias.rel_bias = NULL;
    ref_file r;
    read_ref(TINY_MPNET_DIR "/reference.txt", &r);
    size_t cnt = (size_t)r.layers * r.seq[0].n * r.H;
    float *out = malloc(cnt * sizeof *out);
    assert_int_equal(casie__encoder_forward(&no_bias, r.seq[0].ids, r.seq[0].mask, r.seq[0].n, all_layers(e),
                                            CASIE_Q8_PLAIN, out, NULL, &err),
                     0);
    double worst = 0;
    for (size_t i = (size_t)r.seq[0].n * r.H; i < cnt; i++)
        worst = fmax(worst, fabs((double)out[i] - r.seq[0].h[i]));
    assert_true(worst > 0.2);
    free(out);
    free_ref(&r);
    casie_encoder_free(e);
}

/* The padding mask matters: the same ids without it differ from the
 * reference far beyond the bound. */
static void test_mask_matters(void **state) {
    (void)state;
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(g_tiny, &err);
    assert_non_null(e);
    ref_file r;
    read_ref(TINY_DIR "/reference.txt", &r);
    ref_seq *q = &r.seq[1];
    assert_int_equal(q->mask[q->n - 1], 0);
    size_t cnt = (size_t)r.layers * q->n * r.H;
    float *out = malloc(cnt * sizeof *out);
    assert_int_equal(casie__encoder_forward(e, q->ids, NULL, q->n, all_layers(e), CASIE_Q8_PLAIN, out, NULL, &err), 0);
    double worst = 0;
    for (size_t i = (size_t)q->n * r.H; i < cnt; i++)
        worst = fmax(worst, fabs((double)out[i] - q->h[i]));
    assert_true(worst > 0.2);
    free(out);
    free_ref(&r);
    casie_encoder_free(e);
}

/* Selected layers come out in order, each equal to the full run's (a run
 * stops after the last layer asked for). */
static void test_layer_selection(void **state) {
    (void)state;
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(g_tiny, &err);
    assert_non_null(e);
    int32_t ids[7] = {2, 10, 11, 12, 13, 14, 3};
    size_t plane = 7 * 32;
    float all[3 * 7 * 32], sel[7 * 32];
    void *work = aligned_alloc(64, casie__encoder_work_bytes(e, 7));
    assert_non_null(work);
    assert_int_equal(casie__encoder_forward(e, ids, NULL, 7, 7, CASIE_Q8_BEST, all, work, &err), 0);
    for (int l = 0; l < 3; l++) {
        assert_int_equal(casie__encoder_forward(e, ids, NULL, 7, 1ull << l, CASIE_Q8_BEST, sel, work, &err), 0);
        assert_memory_equal(sel, all + l * plane, plane * sizeof(float));
    }
    /* bad arguments */
    assert_int_equal(casie__encoder_forward(e, ids, NULL, 7, 8, CASIE_Q8_BEST, sel, work, &err), CASIE_ERR_INVALID_ARG);
    ids[3] = 48;
    assert_int_equal(casie__encoder_forward(e, ids, NULL, 7, 1, CASIE_Q8_BEST, sel, work, &err), CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "piece 3 has id 48"));
    assert_int_equal(casie__encoder_forward(e, ids, NULL, 17, 1, CASIE_Q8_BEST, sel, work, &err),
                     CASIE_ERR_INVALID_ARG);
    free(work);
    casie_encoder_free(e);
}

/* ---- kernels (each kernel against plain C: test_cpu.c) ----------------- */

/* The whole forward pass: the same bits on every level, for the fixtures
 * (a head of 8: the 8-lane context) and the fetched encoders when there
 * (heads of 32 and 64: the 16-lane one), over a sequence with padding. */
static void test_forward_same_on_every_kernel(void **state) {
    (void)state;
    const char *paths[] = {g_tiny, tmp_path("same-mpnet.enc"), REAL_ENC, MPNET_ENC};
    casie_error err = {0};
    if (casie_encoder_import(TINY_MPNET_DIR, paths[1], &err)) fail_msg("%s", err.message);
    for (int f = 0; f < 4; f++) {
        if (access(paths[f], R_OK)) continue;
        casie_encoder *e = casie_encoder_load(paths[f], &err);
        assert_non_null(e);
        enum { N = 15 };
        int32_t ids[N];
        uint8_t mask[N];
        for (int i = 0; i < N; i++)
            ids[i] = (i * 7 + 3) % 48, mask[i] = i < 12;
        uint64_t layers = (2ull << e->cfg.n_layers) - 1;
        size_t cnt = (size_t)(e->cfg.n_layers + 1) * N * e->cfg.hidden;
        float *ref = malloc(cnt * sizeof *ref), *out = malloc(cnt * sizeof *out);
        assert_true(ref && out);
        assert_int_equal(casie__encoder_forward(e, ids, mask, N, layers, CASIE_Q8_PLAIN, ref, NULL, &err), 0);
        for (int k = CASIE_Q8_AVX2; k <= CASIE_Q8_VNNI; k++) {
            if (!casie__q8_supported(k)) continue;
            assert_int_equal(casie__encoder_forward(e, ids, mask, N, layers, k, out, NULL, &err), 0);
            assert_memory_equal(ref, out, cnt * sizeof *out);
        }
        free(ref), free(out);
        casie_encoder_free(e);
    }
}

static void test_quantize_and_gelu(void **state) {
    (void)state;
    const casie__kernels *K = casie__kernels_best();
    float x[5] = {0.5f, -1.0f, 0.25f, 0.0f, 0.0039f};
    int8_t q[64];
    float s;
    K->q8_quantize(x, 1, 5, 64, q, &s);
    assert_true(s == 1.0f / 127.0f);
    assert_int_equal(q[0], 64); /* 63.5 rounds away from zero */
    assert_int_equal(q[1], -127);
    assert_int_equal(q[2], 32);
    assert_int_equal(q[3], 0);
    assert_int_equal(q[4], 0);
    for (int c = 5; c < 64; c++)
        assert_int_equal(q[c], 0);
    float z[3] = {0, 0, 0};
    q[0] = 9;
    K->q8_quantize(z, 1, 3, 64, q, &s);
    assert_true(s == 0.0f);
    assert_int_equal(q[0], 0);
    /* a row of tiny (subnormal-range) values: 127 / m is infinite, and 0 *
     * inf gave NaN, then -127 for every element */
    float t[3] = {2.4e-38f, -1.2e-38f, 0.0f};
    K->q8_quantize(t, 1, 3, 64, q, &s);
    assert_true(s > 0.0f && isfinite(s));
    assert_int_equal(q[0], 127);
    assert_int_equal(q[1], -64); /* -63.5 rounds away from zero */
    assert_int_equal(q[2], 0);
    /* GELU against erf in double over [-10, 10] */
    double worst = 0;
    for (int i = -20000; i <= 20000; i++) {
        float v = (float)i / 2000.0f, g = v;
        K->gelu(&g, 1);
        double want = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
        double d = fabs(g - want) / (fabs(v) > 1 ? fabs(v) : 1.0);
        worst = d > worst ? d : worst;
    }
    print_message("GELU: max error %.3g (relative to max(|x|, 1))\n", worst);
    assert_true(worst < 4e-7);
}

/* ---- windows ----------------------------------------------------------- */

static void test_encode_long(void **state) {
    (void)state;
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(g_tiny, &err);
    assert_non_null(e);
    enum { N = 40, W = 12, ST = 5, C = W - 2, H = 32 };
    int32_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = 5 + (i * 11) % 43;
    static float out[2 * N * H], win[2 * W * H];
    assert_int_equal(casie__encoder_encode_long(e, ids, N, W, ST, 6, CASIE_Q8_BEST, 1, out, &err), 0);
    /* windows start at 0, 5, ..., 30 (the last covers 30..39); piece i must
     * equal the window farthest inside, found here by brute force */
    int n_win = 7;
    for (int i = 0; i < N; i++) {
        int best = -1, best_d = -1;
        for (int k = 0; k < n_win; k++) {
            int s = k * ST, en = s + C < N ? s + C : N;
            if (i < s || i >= en) continue;
            int l = s == 0 ? 1000 : i - s, r = en == N ? 1000 : en - 1 - i, d = l < r ? l : r;
            if (d > best_d) best_d = d, best = k;
        }
        int s = best * ST, en = s + C < N ? s + C : N, m = en - s + 2;
        int32_t wids[W];
        wids[0] = e->cfg.cls_id;
        memcpy(wids + 1, ids + s, (size_t)(en - s) * sizeof *wids);
        wids[m - 1] = e->cfg.sep_id;
        assert_int_equal(casie__encoder_forward(e, wids, NULL, m, 6, CASIE_Q8_BEST, win, NULL, &err), 0);
        for (int t = 0; t < 2; t++)
            assert_memory_equal(out + ((size_t)t * N + i) * H, win + ((size_t)t * m + (i - s + 1)) * H, H * 4);
    }
    /* a sequence that fits one window is the plain pass over [CLS] ids [SEP] */
    float one[5 * H], full[7 * H];
    int32_t ids7[7] = {2, 9, 10, 11, 12, 13, 3};
    assert_int_equal(casie__encoder_encode_long(e, ids7 + 1, 5, 16, 8, 4, CASIE_Q8_BEST, 1, one, &err), 0);
    assert_int_equal(casie__encoder_forward(e, ids7, NULL, 7, 4, CASIE_Q8_BEST, full, NULL, &err), 0);
    assert_memory_equal(one, full + H, sizeof one);
    assert_int_equal(casie__encoder_encode_long(e, ids, N, 17, 5, 4, CASIE_Q8_BEST, 1, out, &err),
                     CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__encoder_encode_long(e, ids, N, 12, 11, 4, CASIE_Q8_BEST, 1, out, &err),
                     CASIE_ERR_INVALID_ARG);
    casie_encoder_free(e);
}

/* A pass by a team of threads gives one thread's bits, whatever the team
 * (more members than pieces included), on every kernel level; a team out
 * of range is refused. */
static void test_forward_threads(void **state) {
    (void)state;
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(g_tiny, &err);
    assert_non_null(e);
    enum { N = 15, H = 32, NL = 3 };
    int32_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = i == 0 ? e->cfg.cls_id : i == N - 1 ? e->cfg.sep_id : 5 + (i * 7) % 40;
    static float one[NL * N * H], team[NL * N * H];
    const uint64_t layers = 1 | 2 | 4; /* embeddings, layers 1 and 2 */
    int compared = 0;
    for (int k = CASIE_Q8_PLAIN; k <= CASIE_Q8_VNNI; k++) {
        if (!casie__q8_supported(k)) continue;
        for (int n = 1; n <= N; n += 7) {
            int rc = casie__encoder_forward(e, ids, NULL, n, layers, k, one, NULL, &err);
            if (rc) print_message("%s\n", err.message);
            assert_int_equal(rc, 0);
            for (int t = 2; t <= 5; t++) {
                memset(team, 0, sizeof team);
                assert_int_equal(casie__encoder_forward_threads(e, ids, NULL, n, layers, k, t, team, NULL, &err), 0);
                assert_memory_equal(one, team, (size_t)NL * n * H * sizeof(float));
                compared++;
            }
        }
    }
    print_message("forward passes by teams of 2-5 threads compared: %d\n", compared);
    assert_true(compared >= 4 * 3);
    assert_int_equal(casie__encoder_forward_threads(e, ids, NULL, N, layers, CASIE_Q8_BEST, 0, team, NULL, &err),
                     CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__encoder_forward_threads(e, ids, NULL, N, layers, CASIE_Q8_BEST, 65, team, NULL, &err),
                     CASIE_ERR_INVALID_ARG);
    /* windows too: encode_long with a team */
    static float lone[2 * N * H], lteam[2 * N * H];
    assert_int_equal(casie__encoder_encode_long(e, ids + 1, N - 2, 12, 5, 6, CASIE_Q8_BEST, 1, lone, &err), 0);
    assert_int_equal(casie__encoder_encode_long(e, ids + 1, N - 2, 12, 5, 6, CASIE_Q8_BEST, 3, lteam, &err), 0);
    assert_memory_equal(lone, lteam, (size_t)2 * (N - 2) * H * sizeof(float));
    casie_encoder_free(e);
}

/* Threads sharing one encoder get what one thread gets. */
typedef struct thread_arg {
    const casie_encoder *e;
    float out[16 * 32 * 3];
    int rc;
} thread_arg;

static void *run_thread(void *p) {
    thread_arg *a = p;
    int32_t ids[16];
    for (int r = 0; r < 20 && !a->rc; r++) {
        for (int i = 0; i < 16; i++)
            ids[i] = (i * 5 + 1) % 48;
        a->rc = casie__encoder_forward(a->e, ids, NULL, 16, 7, CASIE_Q8_BEST, a->out, NULL, NULL);
    }
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(g_tiny, &err);
    assert_non_null(e);
    static thread_arg a[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        a[t].e = e;
        a[t].rc = 0;
        assert_int_equal(pthread_create(&th[t], NULL, run_thread, &a[t]), 0);
    }
    for (int t = 0; t < 3; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < 3; t++)
        assert_int_equal(a[t].rc, 0);
    assert_memory_equal(a[0].out, a[1].out, sizeof a[0].out);
    assert_memory_equal(a[0].out, a[2].out, sizeof a[0].out);
    casie_encoder_free(e);
}

/* ---- bad encoder files ------------------------------------------------- */

/* Rewrites the tiny encoder with section `tag` changed by fn, the checksums
 * recomputed (so that only the encoder's own checks can catch it). */
static void rewrite(const char *out, const char *tag, void (*fn)(unsigned char *data, uint64_t *size, void *u),
                    void *u) {
    casie__model_file mf;
    casie_error err = {0};
    assert_int_equal(casie__container_open(g_tiny, CASIE__FILE_ENCODER, &mf, &err), 0);
    casie__section secs[8];
    unsigned char *copies[8] = {0};
    assert_true(mf.n_secs <= 8);
    for (int i = 0; i < mf.n_secs; i++) {
        secs[i] = mf.secs[i];
        if (!strcmp(secs[i].tag, tag)) {
            copies[i] = malloc(secs[i].size + 64);
            memcpy(copies[i], secs[i].data, secs[i].size);
            fn(copies[i], &secs[i].size, u);
            secs[i].data = copies[i];
        }
    }
    assert_int_equal(casie__container_write(out, CASIE__FILE_ENCODER, secs, mf.n_secs, &err), 0);
    for (int i = 0; i < mf.n_secs; i++)
        free(copies[i]);
    casie__model_file_close(&mf);
}

static void set_u32(unsigned char *d, uint64_t *size, void *u) {
    (void)size;
    const uint32_t *kv = u; /* offset, value */
    d[kv[0]] = (unsigned char)kv[1], d[kv[0] + 1] = (unsigned char)(kv[1] >> 8);
    d[kv[0] + 2] = (unsigned char)(kv[1] >> 16), d[kv[0] + 3] = (unsigned char)(kv[1] >> 24);
}

static void set_byte(unsigned char *d, uint64_t *size, void *u) {
    (void)size;
    const uint32_t *kv = u;
    d[kv[0]] = (unsigned char)kv[1];
}

/* u: {count, offset, value, offset, value, ...} */
static void set_u32s(unsigned char *d, uint64_t *size, void *u) {
    const uint32_t *kv = u;
    for (uint32_t i = 0; i < kv[0]; i++)
        set_u32(d, size, (void *)(kv + 1 + 2 * i));
}

static void shrink(unsigned char *d, uint64_t *size, void *u) {
    (void)d;
    *size -= *(const uint32_t *)u;
}

static void expect_refused(const char *path, int code, const char *needle) {
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(path, &err);
    if (e) fail_msg("%s loaded; expected \"%s\"", path, needle);
    if (err.code != code || !strstr(err.message, needle))
        fail_msg("%s: code %d \"%s\"; expected %d \"%s\"", path, err.code, err.message, code, needle);
}

static void test_refuses_bad_files(void **state) {
    (void)state;
    size_t n;
    unsigned char *good = read_all(g_tiny, &n);
    const char *p = tmp_path("bad.enc");

    /* corrupt: a flipped byte in the weights (the section checksum) */
    good[n - 100] ^= 0x10;
    write_all(p, good, n);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "section WGTS checksum mismatch");
    good[n - 100] ^= 0x10;
    /* truncated, at every length from 0 to the whole file less one (sampled) */
    for (size_t len = 0; len < n; len += (len < 200 ? 1 : 997)) {
        write_all(p, good, len);
        casie_error err = {0};
        casie_encoder *e = casie_encoder_load(p, &err);
        assert_null(e);
        assert_int_equal(err.code, CASIE_ERR_MODEL_CORRUPT);
    }
    write_all(p, good, n - 1);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "truncated");
    /* a newer container */
    unsigned char v = good[8];
    good[8] = 2;
    write_all(p, good, n);
    expect_refused(p, CASIE_ERR_MODEL_VERSION, "encoder format version 2 is newer");
    good[8] = v;
    /* a model file is not an encoder, and the reverse */
    write_all(p, good, n);
    casie_error err = {0};
    assert_null(casie_model_load(p, &err));
    assert_int_equal(err.code, CASIE_ERR_MODEL_MAGIC);
    assert_non_null(strstr(err.message, "a casie encoder file, not a model file"));
    if (access("models/casie-fast.model", R_OK) == 0)
        expect_refused("models/casie-fast.model", CASIE_ERR_MODEL_MAGIC, "a casie model file, not a encoder file");
    expect_refused(TINY_DIR "/config.json", CASIE_ERR_MODEL_MAGIC, "not a casie encoder file");
    free(good);

    /* the encoder's own checks, behind valid checksums */
    uint32_t kv[2];
    kv[0] = 0, kv[1] = 3; /* ECFG enc_version */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_VERSION, "encoder layout version 3 is newer");
    kv[0] = 8, kv[1] = 64; /* hidden 64: the weights no longer fit the shapes */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "WGTS has");
    kv[0] = 12, kv[1] = 5; /* 5 heads do not divide 32 */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "not a multiple of n_heads");
    kv[0] = 4, kv[1] = 0; /* no layers */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "n_layers = 0");
    kv[0] = 28, kv[1] = 49; /* one more piece than the vocabulary has */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "VOCB");
    kv[0] = 40, kv[1] = 48; /* [CLS] out of range */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "cls_id 48");
    kv[0] = 72, kv[1] = 1; /* reserved in version 1: MPNet needs version 2 */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "reserved byte 72");
    /* version 2 names the architecture (0 BERT, its other fields 0) */
    uint32_t v2[] = {1, 0, 2};
    rewrite(p, "ECFG", set_u32s, v2);
    casie_encoder *e2 = casie_encoder_load(p, &err);
    if (!e2) fail_msg("%s", err.message);
    casie_encoder_free(e2);
    uint32_t arch7[] = {2, 0, 2, 72, 7}; /* an architecture casie does not know */
    rewrite(p, "ECFG", set_u32s, arch7);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "architecture 7");
    uint32_t bert_rel[] = {2, 0, 2, 76, 32}; /* relative buckets on a BERT */
    rewrite(p, "ECFG", set_u32s, bert_rel);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "32 relative position buckets");
    uint32_t odd[] = {4, 0, 2, 72, 1, 76, 31, 80, 2}; /* MPNet with an odd number of buckets */
    rewrite(p, "ECFG", set_u32s, odd);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "31 relative position buckets");
    uint32_t far[] = {2, 0, 2, 80, 14}; /* a first position past max_positions - 3 (16 - 3) */
    rewrite(p, "ECFG", set_u32s, far);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "first position 14");
    uint32_t res2[] = {2, 0, 2, 84, 1}; /* reserved in version 2 */
    rewrite(p, "ECFG", set_u32s, res2);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "reserved byte 84");
    kv[0] = 64, kv[1] = 2; /* unknown weight type */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "weight_type 2");
    kv[0] = 36, kv[1] = 2; /* unknown flag */
    rewrite(p, "ECFG", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "unknown flags");
    uint32_t cut = 4;
    rewrite(p, "WGTS", shrink, &cut);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "WGTS has");
    rewrite(p, "ECFG", shrink, &cut);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "ECFG has 92 bytes");
    /* the word embeddings start the weights: row 0, byte 0 */
    kv[0] = 0, kv[1] = 0x80; /* -128 */
    rewrite(p, "WGTS", set_byte, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "word embeddings row 0 has -128");
    kv[0] = 40, kv[1] = 1; /* padding (hidden 32, stride 64) */
    rewrite(p, "WGTS", set_byte, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "nonzero padding");
    /* layer 0's query/key/value rows follow the embeddings: change a weight
     * and its row sum no longer matches */
    {
        casie_encoder *e = casie_encoder_load(g_tiny, &err);
        assert_non_null(e);
        uint32_t off = (uint32_t)((const unsigned char *)e->layers[0].qkv.q - (const unsigned char *)e->word.q);
        int8_t q0 = e->layers[0].qkv.q[0];
        uint32_t soff = (uint32_t)((const unsigned char *)e->layers[0].qkv.scale - (const unsigned char *)e->word.q);
        casie_encoder_free(e);
        kv[0] = off, kv[1] = (uint32_t)(uint8_t)(q0 == 5 ? 6 : 5);
        rewrite(p, "WGTS", set_byte, kv);
        expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "query/key/value of layer 0 row 0 sums to");
        kv[0] = soff, kv[1] = 0xff800000u; /* scale -inf */
        rewrite(p, "WGTS", set_u32, kv);
        expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "query/key/value of layer 0 row 0 has scale");
        uint32_t boff = soff + 2 * 3 * 32 * 4; /* after the scales and sums: the biases */
        kv[0] = boff, kv[1] = 0x7fc00000u;     /* NaN */
        rewrite(p, "WGTS", set_u32, kv);
        expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "query/key/value bias of layer 0 value 0 is not finite");
    }
    kv[0] = 0, kv[1] = 0; /* VOCB offset 0 */
    rewrite(p, "VOCB", set_u32, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "VOCB offset 0");
    kv[0] = 4 * 49 + 1, kv[1] = 0; /* a NUL inside piece 0 ("[PAD]") */
    rewrite(p, "VOCB", set_byte, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "VOCB piece 0");
    kv[0] = 0, kv[1] = 'x'; /* NAME without its NUL: change the last byte */
    {
        casie_encoder *e = casie_encoder_load(g_tiny, &err);
        kv[0] = (uint32_t)strlen(e->cfg.name);
        casie_encoder_free(e);
    }
    rewrite(p, "NAME", set_byte, kv);
    expect_refused(p, CASIE_ERR_MODEL_CORRUPT, "NAME");
    /* and the untouched file still loads */
    casie_encoder *e = casie_encoder_load(g_tiny, &err);
    assert_non_null(e);
    casie_encoder_free(e);
}

/* ---- bad checkpoints --------------------------------------------------- */

/* A copy of checkpoint src in g_dir/name. */
static const char *make_ckpt_from(const char *src, const char *name) {
    static char d[256];
    snprintf(d, sizeof d, "%s/%s", g_dir, name);
    mkdir(d, 0755);
    const char *files[] = {"config.json", "vocab.txt", "model.safetensors", "tokenizer_config.json"};
    for (int i = 0; i < 4; i++) {
        char a[256], b[300];
        snprintf(a, sizeof a, "%s/%s", src, files[i]);
        snprintf(b, sizeof b, "%s/%s", d, files[i]);
        copy_file(a, b);
    }
    return d;
}

static const char *make_ckpt(const char *name) { return make_ckpt_from(TINY_DIR, name); }

/* Replaces the first `from` in dir/file by `to`. */
static void edit_file(const char *dir, const char *file, const char *from, const char *to) {
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    size_t n;
    unsigned char *b = read_all(p, &n);
    char *at = memmem(b, n, from, strlen(from));
    if (!at) fail_msg("%s: no \"%s\"", p, from);
    size_t pre = (size_t)(at - (char *)b), fl = strlen(from), tl = strlen(to);
    unsigned char *o = malloc(n - fl + tl);
    memcpy(o, b, pre);
    memcpy(o + pre, to, tl);
    memcpy(o + pre + tl, at + fl, n - pre - fl);
    write_all(p, o, n - fl + tl);
    free(o);
    free(b);
}

/* Rewrites dir's safetensors header with every "bert." prefix removed (the
 * data unchanged): the layout of checkpoints saved from BertModel itself. */
static void strip_prefix(const char *dir) {
    char p[300];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    size_t n;
    unsigned char *b = read_all(p, &n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | b[i];
    char *h = malloc(hl + 1), *o = malloc(hl + 1);
    memcpy(h, b + 8, hl);
    h[hl] = 0;
    size_t k = 0;
    for (size_t i = 0; i < hl;) {
        if (!strncmp(h + i, "\"bert.", 6)) {
            o[k++] = '"';
            i += 6;
        } else
            o[k++] = h[i++];
    }
    while (k % 8)
        o[k++] = ' ';
    unsigned char *nb = malloc(8 + k + (n - 8 - hl));
    for (int i = 0; i < 8; i++)
        nb[i] = (unsigned char)((uint64_t)k >> (8 * i));
    memcpy(nb + 8, o, k);
    memcpy(nb + 8 + k, b + 8 + hl, n - 8 - hl);
    write_all(p, nb, 8 + k + (n - 8 - hl));
    free(nb), free(h), free(o), free(b);
}

static void expect_import_fails(const char *dir, int code, const char *needle) {
    casie_error err = {0};
    int rc = casie_encoder_import(dir, tmp_path("out.enc"), &err);
    if (rc != code || !strstr(err.message, needle))
        fail_msg("%s: import gave %d \"%s\"; expected %d \"%s\"", dir, rc, err.message, code, needle);
}

static void test_import_refuses(void **state) {
    (void)state;
    const char *d = make_ckpt("c1");
    edit_file(d, "config.json", "\"bert\"", "\"roberta\"");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "model_type is \"roberta\", not \"bert\"");
    d = make_ckpt("c2");
    edit_file(d, "config.json", "\"gelu\"", "\"relu\"");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "hidden_act is relu");
    d = make_ckpt("c3");
    edit_file(d, "config.json", "\"intermediate_size\": 40", "\"intermediate_size\": 41");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "tensor encoder.layer.0.intermediate.dense.weight has shape [40,32]");
    d = make_ckpt("c4");
    edit_file(d, "model.safetensors", "bert.encoder.layer.1.output.dense.bias",
              "bert.encoder.layer.1.output.dense.bias");
    edit_file(d, "model.safetensors", "layer.1.output.LayerNorm.bias", "layer.1.output.LayerNorm.bia_");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "no tensor encoder.layer.1.output.LayerNorm.bias");
    d = make_ckpt("c5");
    edit_file(d, "model.safetensors", "\"dtype\":\"F32\"", "\"dtype\":\"I32\"");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "dtype I32");
    d = make_ckpt("c6");
    edit_file(d, "vocab.txt", "[MASK]\n", "");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "47 pieces, config.json's vocab_size is 48");
    d = make_ckpt("c7");
    edit_file(d, "config.json", "\"num_attention_heads\": 4", "\"num_attention_heads\": 5");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "not a multiple of num_attention_heads");
    d = make_ckpt("c8");
    edit_file(d, "config.json", "\"absolute\"", "\"relative_key\"");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "position_embedding_type");
    d = make_ckpt("c12");
    edit_file(d, "config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 49");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "\"num_hidden_layers\" must be an integer in 1..48");
    d = make_ckpt("c9");
    { /* a header length past the end of the file */
        char p[300];
        snprintf(p, sizeof p, "%s/model.safetensors", d);
        size_t n;
        unsigned char *b = read_all(p, &n);
        b[3] = 0x7f;
        write_all(p, b, n);
        free(b);
    }
    expect_import_fails(d, CASIE_ERR_PARSE, "header length");
    d = make_ckpt("c10");
    { /* data cut short: the offsets run past it */
        char p[300];
        snprintf(p, sizeof p, "%s/model.safetensors", d);
        size_t n;
        unsigned char *b = read_all(p, &n);
        write_all(p, b, n / 2);
        free(b);
    }
    expect_import_fails(d, CASIE_ERR_PARSE, "data_offsets outside the data");
    d = make_ckpt("c11");
    edit_file(d, "config.json", "{", "[");
    expect_import_fails(d, CASIE_ERR_PARSE, "config.json");
    expect_import_fails(g_dir, CASIE_ERR_IO, "config.json");

    /* accepted: names without the bert. prefix give the same encoder; an
     * uncased flag inferred from the vocabulary when tokenizer_config.json
     * is missing */
    d = make_ckpt("ok");
    strip_prefix(d);
    char tok[300];
    snprintf(tok, sizeof tok, "%s/tokenizer_config.json", d);
    unlink(tok);
    casie_error err = {0};
    const char *out = tmp_path("noprefix.enc");
    assert_int_equal(casie_encoder_import(d, out, &err), 0);
    casie_encoder *a = casie_encoder_load(out, &err), *b = casie_encoder_load(g_tiny, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->cfg.lowercase, 1);
    assert_true(a->cfg.hash == b->cfg.hash);
    casie_encoder_free(a);
    casie_encoder_free(b);
    /* importing is deterministic: the same bytes twice */
    size_t n1, n2;
    assert_int_equal(casie_encoder_import(TINY_DIR, out, &err), 0);
    unsigned char *x1 = read_all(out, &n1), *x2 = read_all(g_tiny, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(x1, x2, n1);
    free(x1), free(x2);
}

/* The bytes an import writes are pinned: a change to the writer (the ECFG
 * layout, the weights' order or rounding) that moves any of them fails
 * here, not only when models recorded against an encoder's hash refuse
 * it.  The sums are casie__hash_bytes of the whole file. */
static void test_import_bytes_pinned(void **state) {
    (void)state;
    static const struct {
        const char *dir;
        size_t size;
        uint64_t hash;
    } PINNED[] = {
        {TINY_DIR, 38016, 0x0cf4f6cd6027421dull},
        {TINY_MPNET_DIR, 38656, 0x0984e42b73b8424cull},
    };
    for (size_t i = 0; i < sizeof PINNED / sizeof PINNED[0]; i++) {
        casie_error err = {0};
        const char *out = tmp_path("pinned.enc");
        if (casie_encoder_import(PINNED[i].dir, out, &err)) fail_msg("%s: %s", PINNED[i].dir, err.message);
        size_t n;
        unsigned char *b = read_all(out, &n);
        uint64_t h = casie__hash_bytes(b, n, 0);
        free(b);
        if (n != PINNED[i].size || h != PINNED[i].hash)
            fail_msg("%s: imported %zu bytes, hash %#018llx; pinned %zu bytes, %#018llx", PINNED[i].dir, n,
                     (unsigned long long)h, PINNED[i].size, (unsigned long long)PINNED[i].hash);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The address space this process holds now, in bytes (VmSize). */
static unsigned long long vm_size(void) {
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1) break;
    fclose(f);
    assert_true(kb > 0);
    return kb << 10;
}

/* Imports dir in a child that may map at most 256 MB more than it holds
 * (not under valgrind, which maps memory its own way), within 10 s; the
 * import must fail with SCHEMA naming needle. */
static void expect_cheap_refusal(const char *dir, const char *needle) {
    double t0 = now_s();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *vg = getenv("CASIE_VALGRIND");
        if (!vg || strcmp(vg, "1")) {
            struct rlimit r;
            r.rlim_cur = r.rlim_max = (rlim_t)(vm_size() + (256ull << 20));
            if (setrlimit(RLIMIT_AS, &r) != 0) _exit(3);
        }
        casie_error err = {0};
        int rc = casie_encoder_import(dir, tmp_path("claim.enc"), &err);
        if (rc == CASIE_ERR_SCHEMA && strstr(err.message, needle)) _exit(0);
        fprintf(stderr, "%s: import gave %d \"%s\"; expected \"%s\"\n", dir, rc, err.message, needle);
        _exit(1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    double took = now_s() - t0;
    print_message("%s: refused in %.3f s\n", dir, took);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(took < 10);
}

/* config.json's claim is checked against the safetensors header before
 * anything as large as it is allocated: a 12-layer, 4096-wide claim on the
 * tiny checkpoint used to allocate and zero 8.1 GB (27 s) before finding the
 * first tensor's shape wrong, 48 layers 30 GB; now it is refused at once,
 * within a 256 MB address-space limit.  The configuration's own ranges are
 * the loader's (at most 48 layers, 4096 wide). */
static void test_import_checks_shapes_first(void **state) {
    (void)state;
    const char *d = make_ckpt("claim12");
    edit_file(d, "config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 12");
    edit_file(d, "config.json", "\"hidden_size\": 32", "\"hidden_size\": 4096");
    expect_cheap_refusal(d,
                         "tensor embeddings.word_embeddings.weight has shape [48,32], config.json implies [48, 4096]");
    d = make_ckpt("claim48");
    edit_file(d, "config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 48");
    edit_file(d, "config.json", "\"hidden_size\": 32", "\"hidden_size\": 4096");
    edit_file(d, "config.json", "\"intermediate_size\": 40", "\"intermediate_size\": 16384");
    expect_cheap_refusal(d, "has shape [48,32], config.json implies [48, 4096]");
    /* every tensor is checked before the first is read: the last layer's
     * missing tensor is found at no cost either */
    d = make_ckpt("claim-layers");
    edit_file(d, "config.json", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 48");
    expect_cheap_refusal(d, "no tensor encoder.layer.2.attention.self.query.weight");
    d = make_ckpt("claim-wide");
    edit_file(d, "config.json", "\"hidden_size\": 32", "\"hidden_size\": 4097");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "\"hidden_size\" must be an integer in 1..4096");
}

/* Replaces the first `from` in dir's safetensors header by `to`, the header
 * length rewritten, the data unchanged. */
static void edit_header(const char *dir, const char *from, const char *to) {
    char p[300];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    size_t n;
    unsigned char *b = read_all(p, &n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | b[i];
    char *at = memmem(b + 8, hl, from, strlen(from));
    if (!at) fail_msg("%s: no \"%s\" in the header", p, from);
    size_t fl = strlen(from), tl = strlen(to), nh = hl - fl + tl, pre = (size_t)(at - (char *)b);
    unsigned char *o = malloc(n - fl + tl);
    memcpy(o, b, pre);
    memcpy(o + pre, to, tl);
    memcpy(o + pre + tl, at + fl, n - pre - fl);
    for (int i = 0; i < 8; i++)
        o[i] = (unsigned char)((uint64_t)nh >> (8 * i));
    write_all(p, o, n - fl + tl);
    free(o);
    free(b);
}

/* Writes the safetensors file of dir with float value v at data byte off. */
static void set_weight(const char *dir, size_t off, float v) {
    char p[300];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    size_t n;
    unsigned char *b = read_all(p, &n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | b[i];
    assert_true(8 + hl + off + 4 <= n);
    memcpy(b + 8 + hl + off, &v, 4);
    write_all(p, b, n);
    free(b);
}

/* What a checkpoint's files may hold that no encoder can be made of, each
 * refused naming the file; and what real checkpoints need, accepted. */
static void test_import_refuses_bad_files(void **state) {
    (void)state;
    casie_error err = {0};
    casie_encoder *ref = casie_encoder_load(g_tiny, &err);
    assert_non_null(ref);
    /* vocab.txt with CRLF line ends reads as BERT's tokenizers read it: the
     * same encoder, byte for byte.  It used to keep the "\r" in every piece
     * (no [CLS], [SEP] or [UNK] then) and exit 0. */
    const char *d = make_ckpt("crlf");
    {
        char p[300];
        snprintf(p, sizeof p, "%s/vocab.txt", d);
        size_t n;
        unsigned char *b = read_all(p, &n), *o = malloc(2 * n);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (b[i] == '\n') o[k++] = '\r';
            o[k++] = b[i];
        }
        write_all(p, o, k);
        free(o), free(b);
    }
    const char *out = tmp_path("crlf.enc");
    if (casie_encoder_import(d, out, &err)) fail_msg("%s", err.message);
    casie_encoder *e = casie_encoder_load(out, &err);
    assert_non_null(e);
    assert_true(e->cfg.hash == ref->cfg.hash);
    assert_int_equal(e->cfg.cls_id, ref->cfg.cls_id);
    casie_encoder_free(e);
    /* a carriage return anywhere else: the tokenizers disagree on it */
    d = make_ckpt("cr");
    edit_file(d, "vocab.txt", "the\n", "t\rhe\n");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "vocab.txt: line 6: a carriage return");
    /* no [CLS], [SEP] or [UNK]: no sequence could be encoded */
    static const char *const NEEDED[3] = {"[CLS]", "[SEP]", "[UNK]"};
    for (int k = 0; k < 3; k++) {
        char from[16], msg[64];
        d = make_ckpt("nospecial");
        snprintf(from, sizeof from, "%s\n", NEEDED[k]);
        edit_file(d, "vocab.txt", from, "[OTHER]\n");
        snprintf(msg, sizeof msg, "vocab.txt: no %s piece", NEEDED[k]);
        expect_import_fails(d, CASIE_ERR_SCHEMA, msg);
    }
    d = make_ckpt_from(TINY_MPNET_DIR, "mpnet-nocls");
    edit_file(d, "vocab.txt", "<s>\n", "<t>\n");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "vocab.txt: no <s> piece");
    /* a special piece twice: the later id, as the tokenizers' maps keep it
     * (it took the first, which the tokenizer then refused as not its own) */
    d = make_ckpt("twice");
    edit_file(d, "vocab.txt", "[MASK]\n", "[CLS]\n");
    out = tmp_path("twice.enc");
    if (casie_encoder_import(d, out, &err)) fail_msg("%s", err.message);
    e = casie_encoder_load(out, &err);
    assert_non_null(e);
    assert_int_equal(e->cfg.cls_id, 4);
    casie__wordpiece wp;
    if (casie__wordpiece_from_encoder(&wp, e, &err)) fail_msg("%s", err.message);
    casie__wordpiece_free(&wp);
    casie_encoder_free(e);

    /* tensors sharing bytes, or unaligned to their values */
    d = make_ckpt("overlap");
    edit_file(d, "model.safetensors", "[6144,8192]", "[0,2048]   ");
    expect_import_fails(d, CASIE_ERR_PARSE, "overlap in the data");
    d = make_ckpt("unaligned");
    edit_file(d, "model.safetensors", "[6144,8192]", "[6146,8194]");
    expect_import_fails(d, CASIE_ERR_PARSE, "data_offsets start at 6146, not aligned to its 4-byte F32 values");
    d = make_ckpt("badsize");
    edit_file(d, "model.safetensors", "[6144,8192]", "[6144,8188]");
    expect_import_fails(d, CASIE_ERR_PARSE, "data_offsets [6144, 8188] do not hold its shape's values");
    /* a tensor the encoder does not read is checked all the same */
    d = make_ckpt("unused");
    edit_header(d, "{\"bert.", "{\"pooler.x\":{\"dtype\":\"I8\",\"shape\":[9],\"data_offsets\":[1,10]},\"bert.");
    expect_import_fails(d, CASIE_ERR_PARSE, "overlap in the data");

    /* tokenizer_config.json, when there, must read */
    d = make_ckpt("tok-bad");
    edit_file(d, "tokenizer_config.json", "true", "tru");
    expect_import_fails(d, CASIE_ERR_PARSE, "tokenizer_config.json: line 2");
    d = make_ckpt("tok-array");
    edit_file(d, "tokenizer_config.json", "{", "[");
    edit_file(d, "tokenizer_config.json", "}", "]");
    expect_import_fails(d, CASIE_ERR_PARSE, "tokenizer_config.json");
    d = make_ckpt("tok-notobj");
    {
        char p[300];
        snprintf(p, sizeof p, "%s/tokenizer_config.json", d);
        write_all(p, "[1, 2]", 6);
    }
    expect_import_fails(d, CASIE_ERR_SCHEMA, "tokenizer_config.json: not a JSON object");
    d = make_ckpt("tok-lower");
    edit_file(d, "tokenizer_config.json", "true", "\"yes\"");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "tokenizer_config.json: do_lower_case is not true or false");

    /* a layer norm epsilon that is 0 as a float: the loader refused the
     * file (found by fuzz_encoder_import) */
    d = make_ckpt("eps");
    edit_file(d, "config.json", "1e-12", "1e-50");
    expect_import_fails(d, CASIE_ERR_SCHEMA, "layer_norm_eps must be a number in (0, 1) (as a float)");

    /* a row of subnormal weights: 127 / absmax is infinite, and 0 * inf
     * gave NaN to convert to int (undefined; -127 here): now divided */
    d = make_ckpt("subnormal");
    for (int c = 0; c < 32; c++)
        set_weight(d, (size_t)(5 * 32 + c) * 4, c == 3 ? 1e-39f : c == 4 ? -5e-40f : 0.0f);
    out = tmp_path("subnormal.enc");
    if (casie_encoder_import(d, out, &err)) fail_msg("%s", err.message);
    e = casie_encoder_load(out, &err);
    if (!e) fail_msg("%s", err.message);
    const int8_t *row = e->word.q + 5 * (size_t)e->word.stride;
    assert_int_equal(row[3], 127);
    assert_int_equal(row[4], -64);
    assert_int_equal(row[0], 0);
    assert_int_equal(row[31], 0);
    casie_encoder_free(e);
    casie_encoder_free(ref);
}

/* A FIFO (or a directory) in place of any of the four files is refused at
 * once, named: opening a FIFO used to wait for a writer, forever (the alarm
 * ends the test then). */
static void test_import_refuses_fifos(void **state) {
    (void)state;
    const char *files[] = {"config.json", "vocab.txt", "model.safetensors", "tokenizer_config.json"};
    for (int i = 0; i < 4; i++) {
        for (int dir = 0; dir < 2; dir++) {
            const char *d = make_ckpt(dir ? "fifo-dir" : "fifo");
            char p[300];
            snprintf(p, sizeof p, "%s/%s", d, files[i]);
            assert_int_equal(unlink(p), 0);
            assert_int_equal(dir ? mkdir(p, 0700) : mkfifo(p, 0600), 0);
            casie_error err = {0};
            alarm(10);
            int rc = casie_encoder_import(d, tmp_path("fifo.enc"), &err);
            alarm(0);
            if (rc != CASIE_ERR_IO || !strstr(err.message, p) || !strstr(err.message, "not a regular file"))
                fail_msg("%s: import gave %d \"%s\"", p, rc, err.message);
            assert_int_equal(dir ? rmdir(p) : unlink(p), 0); /* make_ckpt writes it again */
        }
    }
}

/* Random damage to the safetensors file (mostly its JSON header) is refused
 * with an error or, when the damage leaves a valid checkpoint (a changed
 * weight), gives an encoder that loads: never a crash (ASan runs this). */
static void test_import_survives_damage(void **state) {
    (void)state;
    const char *d = make_ckpt("damage");
    char p[300];
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    size_t n;
    unsigned char *orig = read_all(p, &n), *b = malloc(n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | orig[i];
    uint64_t rng = 12345;
    int ok = 0, refused = 0;
    for (int it = 0; it < 300; it++) {
        memcpy(b, orig, n);
        int k = 1 + (int)(casie__rng_next(&rng) % 3);
        for (int j = 0; j < k; j++) {
            uint64_t r = casie__rng_next(&rng);
            size_t at = (size_t)((r >> 8) % (it % 4 == 3 ? n : 8 + hl)); /* header 3 times in 4 */
            static const unsigned char PICK[] = {'0', '9', '"', ',', ':', '[', ']', '{', '}', 0xff, 0, ' '};
            b[at] = (r & 1) ? (unsigned char)(r >> 40) : PICK[(r >> 40) % sizeof PICK];
        }
        write_all(p, b, n);
        casie_error err = {0};
        const char *out = tmp_path("damage.enc");
        if (casie_encoder_import(d, out, &err) == 0) {
            casie_encoder *e = casie_encoder_load(out, &err);
            if (!e) fail_msg("iteration %d: imported but does not load: %s", it, err.message);
            casie_encoder_free(e);
            ok++;
        } else {
            assert_true(err.code < 0 && err.message[0]);
            refused++;
        }
    }
    print_message("damaged checkpoints: %d imported, %d refused\n", ok, refused);
    assert_true(refused > 100);
    free(b);
    free(orig);
}

/* ---- the real encoder, when installed ---------------------------------- */

/* The reference: numpy over the real safetensors (float64), the first 8
 * dimensions of every piece's last-layer state and the mean over pieces.
 * Bound: all-MiniLM-L6-v2's last-layer states have a standard deviation of
 * 0.40 and reach 5; the inputs of its feed-forward layers reach 28 on a few
 * dimensions while their mean magnitude is 0.45, so a row's int8 step (its
 * absmax / 127) is coarse for the other dimensions: rounding activations
 * accounts for most of the error, the weights for a third, the word
 * embeddings for little (numpy runs with each rounding alone).  The same int8
 * rounding in numpy moves the states of these sentences by 0.02 on average
 * and 0.16 at most, each piece's vector keeping a cosine above 0.996 with
 * the reference.  So each sampled value must lie within 0.15 of the
 * reference and each sentence's mean vector keep a cosine above 0.997
 * (measured: 0.094 and 0.9979). */
/* A real encoder, when installed, against numpy's summary of it: the first
 * dims of each piece's last layer and the mean over the pieces. */
static void check_real_encoder(const char *enc_path, const char *ref_path, double min_cos) {
    if (access(enc_path, R_OK) != 0 || access(ref_path, R_OK) != 0) {
        print_message("%s not installed (scripts/fetch_encoder.sh): skipped\n", enc_path);
        skip();
    }
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(enc_path, &err);
    if (!e) fail_msg("%s", err.message);
    FILE *f = fopen(ref_path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    int n_sent, layers, H, dims;
    assert_int_equal(fscanf(f, " sentences %d layers %d hidden %d dims %d", &n_sent, &layers, &H, &dims), 4);
    assert_int_equal(layers, e->cfg.n_layers);
    assert_int_equal(H, e->cfg.hidden);
    double worst = 0, worst_cos = 1;
    for (int s = 0; s < n_sent; s++) {
        int n;
        int32_t ids[64];
        assert_int_equal(fscanf(f, " ids %d", &n), 1);
        assert_true(n > 0 && n <= 64);
        for (int i = 0; i < n; i++)
            assert_int_equal(fscanf(f, " %d", &ids[i]), 1);
        float *out = malloc((size_t)n * H * sizeof *out);
        assert_int_equal(casie__encoder_forward(e, ids, NULL, n, 1ull << layers, CASIE_Q8_BEST, out, NULL, &err), 0);
        for (int i = 0; i < n; i++)
            for (int d = 0; d < dims; d++) {
                float want;
                assert_int_equal(fscanf(f, " %f", &want), 1);
                worst = fmax(worst, fabs((double)out[(size_t)i * H + d] - want));
            }
        assert_int_equal(fscanf(f, " mean"), 0);
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < H; d++) {
            float want;
            assert_int_equal(fscanf(f, " %f", &want), 1);
            double m = 0;
            for (int i = 0; i < n; i++)
                m += out[(size_t)i * H + d];
            m /= n;
            dot += m * want, na += m * m, nb += (double)want * want;
        }
        worst_cos = fmin(worst_cos, dot / sqrt(na * nb));
        free(out);
    }
    fclose(f);
    print_message("%s vs numpy: max |diff| %.4f over the first %d dims, min cosine of the means %.6f\n", enc_path,
                  worst, dims, worst_cos);
    assert_true(worst < 0.15);
    assert_true(worst_cos > min_cos);
    casie_encoder_free(e);
}

static void test_real_encoder(void **state) {
    (void)state;
    check_real_encoder(REAL_ENC, REAL_REF, 0.997);
}

static void test_real_mpnet(void **state) {
    (void)state;
    /* twelve int8 layers to MiniLM's six: each piece's last state within
     * cosine 0.994-0.997 of numpy's (0.9964 the least for a mean) */
    check_real_encoder(MPNET_ENC, MPNET_REF, 0.995);
}

/* ---- the command line ------------------------------------------------- */

static void test_cli(void **state) {
    (void)state;
    char *out, *err, args[512];
    snprintf(args, sizeof args, "encoder import %s -o %s", TINY_DIR, tmp_path("cli.enc"));
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(err, "casie-tiny-random-bert, 2 layers x 32, 48 pieces"));
    free(out), free(err);
    snprintf(args, sizeof args, "encoder info %s", tmp_path("cli.enc"));
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "name casie-tiny-random-bert\n"));
    assert_non_null(strstr(out, "\nhidden 32\nheads 4\nintermediate 40\n"));
    assert_non_null(strstr(out, "\ncls 2\nsep 3\npad 0\nunk 1\n"));
    free(out), free(err);
    snprintf(args, sizeof args, "encoder import %s -o %s", g_dir, tmp_path("cli2.enc"));
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "casie: "));
    assert_non_null(strstr(err, "config.json"));
    free(out), free(err);
    /* -o FIFO: refused and left as it is (it was replaced by a regular file);
     * a link at FILE.tmp: not followed (its target was overwritten) */
    const char *fifo = tmp_path("out.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(args, sizeof args, "encoder import %s -o %s", TINY_DIR, fifo);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "out.fifo: exists and is not a regular file; not replaced"));
    free(out), free(err);
    struct stat sb;
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    char victim[300];
    snprintf(victim, sizeof victim, "%s", tmp_path("victim")); /* tmp_path's buffers are reused */
    write_all(victim, "precious", 8);
    char link[300];
    snprintf(link, sizeof link, "%s.tmp", tmp_path("linked.enc"));
    assert_int_equal(symlink(victim, link), 0);
    snprintf(args, sizeof args, "encoder import %s -o %s", TINY_DIR, tmp_path("linked.enc"));
    assert_int_equal(cli_run(args, &out, &err), 0);
    free(out), free(err);
    size_t vn;
    unsigned char *vb = read_all(victim, &vn);
    assert_int_equal(vn, 8);
    free(vb);
    snprintf(args, sizeof args, "encoder info %s/config.json", TINY_DIR);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "not a casie encoder file"));
    free(out), free(err);
    assert_int_equal(cli_run("encoder", &out, &err), 2);
    free(out), free(err);
    assert_int_equal(cli_run("encoder import " TINY_DIR, &out, &err), 2);
    free(out), free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_matches_reference),
        cmocka_unit_test(test_tiny_mpnet_matches_reference),
        cmocka_unit_test(test_mask_matters),
        cmocka_unit_test(test_layer_selection),
        cmocka_unit_test(test_forward_same_on_every_kernel),
        cmocka_unit_test(test_quantize_and_gelu),
        cmocka_unit_test(test_encode_long),
        cmocka_unit_test(test_forward_threads),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_refuses_bad_files),
        cmocka_unit_test(test_import_refuses),
        cmocka_unit_test(test_import_bytes_pinned),
        cmocka_unit_test(test_import_survives_damage),
        cmocka_unit_test(test_import_checks_shapes_first),
        cmocka_unit_test(test_import_refuses_bad_files),
        cmocka_unit_test(test_import_refuses_fifos),
        cmocka_unit_test(test_real_encoder),
        cmocka_unit_test(test_real_mpnet),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
