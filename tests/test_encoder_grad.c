/*
 * test_encoder_grad.c - the training side of the encoder
 * (src/encoder_grad.c): every operation's backward pass and a whole layer's
 * against finite differences, the whole layer against PyTorch's autograd
 * (tests/make_encoder_grad_fixture.py, tests/data/encoder_grad/layers.bin),
 * the float layer made from an encoder's int8 layer against
 * casie__encoder_forward, quantize(dequantize(layer)), the product's fixed
 * order of summation, and AdamW.
 *
 * The finite differences.  The passes run in float32; each check's loss is
 * sum(c * output) for a fixed random c, summed in double, and each gradient
 * entry g is compared with the five-point difference
 *     num = (8 (L(p + e) - L(p - e)) - (L(p + 2e) - L(p - 2e))) / 12e
 * by err = |num - g| / max(floor, |num| + |g|), the measure tests/test_nn.c
 * uses.  The loss's float32 rounding (~3e-6 for a loss of size ~10 through
 * a whole layer) divided by e is the noise; the difference's own error is
 * O(e^4).  With e = 1e-2 and the plain central difference the noise
 * reached 2e-2 on the whole layer's smallest gradients (|g| ~ 1e-3, the
 * query and key weights); e = 5e-2 with five points brings the worst of
 * every check to 3.3e-3 (each check prints its own).  The bound is 1e-2
 * with floor 1e-2.  A wrong sign, a missed term or a
 * swapped index costs O(1).
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/encoder.h"
#include "../src/encoder_grad.h"
#include "../src/encoder_kernels.h"
#include "../src/cpu.h"

#include <math.h>

#define TINY_DIR "tests/data/encoder/tiny"
#define TINY_MPNET_DIR "tests/data/encoder/tiny-mpnet"
#define FIXTURE "tests/data/encoder_grad/layers.bin"

static const double FD_EPS = 5e-2, FD_FLOOR = 1e-2, FD_BOUND = 1e-2;

static float frand(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)((*s >> 11) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

static void fill(float *x, size_t n, float scale, uint64_t *s) {
    for (size_t i = 0; i < n; i++)
        x[i] = scale * frand(s);
}

static double dot(const float *a, const float *c, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * c[i];
    return s;
}

static float *alloc_f(size_t n) {
    float *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* ---- finite differences ------------------------------------------------- */

/* loss(user) for the current values: sum(c * output) */
typedef double (*loss_fn)(void *user);

/* Every entry of p (n,) perturbed by +-FD_EPS against the analytic g (n,):
 * the worst error (the measure in the header). */
static double fd_check(float *p, const float *g, size_t n, loss_fn loss, void *user) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const float p0 = p[i];
        double l[4];
        for (int k = 0; k < 4; k++) { /* at p0 + e, p0 - e, p0 + 2e, p0 - 2e */
            const float e = (float)FD_EPS * (k < 2 ? 1.0f : 2.0f);
            p[i] = k % 2 ? p0 - e : p0 + e;
            l[k] = loss(user);
        }
        p[i] = p0;
        const double num = (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12 * FD_EPS);
        const double err = fabs(num - g[i]) / fmax(FD_FLOOR, fabs(num) + fabs(g[i]));
        worst = err > worst ? err : worst;
    }
    return worst;
}

static void report(const char *what, double worst) {
    printf("# %-34s worst relative error %.2e (bound %.0e)\n", what, worst, FD_BOUND);
    assert_true(worst < FD_BOUND);
}

/* ---- the product -------------------------------------------------------- */

/* C += A B for shapes past every block edge (K > 256, N > 256, M and N not
 * multiples of the tile), A plain and transposed, on every level this CPU
 * runs: the same bits as one plain loop of fused multiply-adds over k in
 * increasing order. */
static void test_gemm_order(void **state) {
    (void)state;
    const int M = 7, N = 300, K = 530;
    uint64_t s = 3;
    float *a = alloc_f((size_t)M * K), *b = alloc_f((size_t)K * N), *c = alloc_f((size_t)M * N);
    float *c2 = alloc_f((size_t)M * N), *at = alloc_f((size_t)K * M);
    fill(a, (size_t)M * K, 1, &s), fill(b, (size_t)K * N, 1, &s), fill(c, (size_t)M * N, 1, &s);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++)
            at[(size_t)k * M + m] = a[(size_t)m * K + k];
    memcpy(c2, c, sizeof(float) * M * N);
    float *want = alloc_f((size_t)M * N);
    for (int m = 0; m < M; m++)
        for (int j = 0; j < N; j++) {
            float v = c[(size_t)m * N + j];
            for (int k = 0; k < K; k++)
                v = fmaf(a[(size_t)m * K + k], b[(size_t)k * N + j], v);
            want[(size_t)m * N + j] = v;
        }
    float *c0 = alloc_f((size_t)M * N);
    memcpy(c0, c, sizeof(float) * M * N);
    int levels = 0;
    for (int level = CASIE_SIMD_PLAIN; level < CASIE_SIMD_LEVELS; level++) { /* every level this CPU runs */
        const casie__kernels *kt = casie__kernels_at(level);
        if (!kt) continue;
        memcpy(c, c0, sizeof(float) * M * N), memcpy(c2, c0, sizeof(float) * M * N);
        kt->grad_gemm(M, N, K, a, K, 1, b, N, c, N);
        kt->grad_gemm(M, N, K, at, 1, M, b, N, c2, N);
        assert_memory_equal(c, want, sizeof(float) * M * N);
        assert_memory_equal(c2, want, sizeof(float) * M * N);
        levels++;
    }
    assert_int_equal(levels, casie__cpu_level() + 1);
    memcpy(c, c0, sizeof(float) * M * N);
    casie__grad_gemm(M, N, K, a, K, 1, b, N, c, N); /* this CPU's */
    assert_memory_equal(c, want, sizeof(float) * M * N);
    free(a), free(b), free(c), free(c0), free(c2), free(at), free(want);
}

/* ---- each operation ----------------------------------------------------- */

typedef struct lin_case {
    int n, in, out;
    float *x, *w, *b, *y, *wt, *c;
} lin_case;

static double lin_loss(void *u) {
    lin_case *t = u;
    casie__grad_linear_forward(t->x, t->n, t->in, t->w, t->b, t->out, t->y, t->wt);
    return dot(t->y, t->c, (size_t)t->n * t->out);
}

static void test_linear_backward(void **state) {
    (void)state;
    lin_case t = {5, 11, 9, 0, 0, 0, 0, 0, 0};
    uint64_t s = 5;
    size_t nx = (size_t)t.n * t.in, nw = (size_t)t.out * t.in, ny = (size_t)t.n * t.out;
    t.x = alloc_f(nx), t.w = alloc_f(nw), t.b = alloc_f((size_t)t.out), t.y = alloc_f(ny), t.wt = alloc_f(nw);
    t.c = alloc_f(ny);
    fill(t.x, nx, 1, &s), fill(t.w, nw, 0.5f, &s), fill(t.b, (size_t)t.out, 0.5f, &s), fill(t.c, ny, 1, &s);
    float *dx = alloc_f(nx), *dw = alloc_f(nw), *db = alloc_f((size_t)t.out);
    lin_loss(&t);
    casie__grad_linear_backward(t.c, t.x, t.w, t.n, t.in, t.out, dx, dw, db);
    report("linear: d input", fd_check(t.x, dx, nx, lin_loss, &t));
    report("linear: d weight", fd_check(t.w, dw, nw, lin_loss, &t));
    report("linear: d bias", fd_check(t.b, db, (size_t)t.out, lin_loss, &t));
    free(t.x), free(t.w), free(t.b), free(t.y), free(t.wt), free(t.c), free(dx), free(dw), free(db);
}

typedef struct ln_case {
    int n, H;
    float *x, *g, *b, *y, *mean, *rstd, *c;
} ln_case;

static double ln_loss(void *u) {
    ln_case *t = u;
    casie__grad_layernorm_forward(t->x, t->n, t->H, t->g, t->b, 1e-5f, t->y, t->mean, t->rstd);
    return dot(t->y, t->c, (size_t)t->n * t->H);
}

/* H 13 (eight lanes and a remainder) and 24 */
static void test_layernorm_backward(void **state) {
    (void)state;
    for (int H = 13; H <= 24; H += 11) {
        ln_case t = {4, H, 0, 0, 0, 0, 0, 0, 0};
        uint64_t s = 7;
        size_t nx = (size_t)t.n * H;
        t.x = alloc_f(nx), t.g = alloc_f((size_t)H), t.b = alloc_f((size_t)H), t.y = alloc_f(nx);
        t.mean = alloc_f((size_t)t.n), t.rstd = alloc_f((size_t)t.n), t.c = alloc_f(nx);
        fill(t.x, nx, 2, &s), fill(t.b, (size_t)H, 0.3f, &s), fill(t.c, nx, 1, &s);
        for (int i = 0; i < H; i++)
            t.g[i] = 1.0f + 0.3f * frand(&s);
        float *dx = alloc_f(nx), *dg = alloc_f((size_t)H), *db = alloc_f((size_t)H);
        ln_loss(&t);
        casie__grad_layernorm_backward(t.c, t.x, t.mean, t.rstd, t.n, H, t.g, dx, dg, db);
        report(H == 13 ? "layer norm (H 13): d input" : "layer norm (H 24): d input",
               fd_check(t.x, dx, nx, ln_loss, &t));
        report("layer norm: d gain", fd_check(t.g, dg, (size_t)H, ln_loss, &t));
        report("layer norm: d bias", fd_check(t.b, db, (size_t)H, ln_loss, &t));
        /* in place: dx may be dy */
        float *d2 = alloc_f(nx), *dg2 = alloc_f((size_t)H), *db2 = alloc_f((size_t)H);
        memcpy(d2, t.c, nx * sizeof *d2);
        casie__grad_layernorm_backward(d2, t.x, t.mean, t.rstd, t.n, H, t.g, d2, dg2, db2);
        assert_memory_equal(d2, dx, nx * sizeof *d2);
        free(t.x), free(t.g), free(t.b), free(t.y), free(t.mean), free(t.rstd), free(t.c);
        free(dx), free(dg), free(db), free(d2), free(dg2), free(db2);
    }
}

/* GELU against libm's erf in double (the forward within 4e-7 * (1 + |x|))
 * and its derivative against finite differences of the float forward. */
static void test_gelu(void **state) {
    (void)state;
    enum { N = 241 };
    float x[N], y[N], c[N], dx[N];
    double worst_f = 0;
    for (int i = 0; i < N; i++) {
        x[i] = -12.0f + 0.1f * (float)i;
        c[i] = 1.0f;
    }
    casie__grad_gelu_forward(x, N, y);
    for (int i = 0; i < N; i++) {
        double v = x[i], want = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
        worst_f = fmax(worst_f, fabs(y[i] - want) / (1.0 + fabs(v)));
    }
    printf("# GELU vs libm erf: worst |diff| / (1 + |x|) %.2e (bound 4e-7)\n", worst_f);
    assert_true(worst_f < 4e-7);
    casie__grad_gelu_backward(c, x, N, dx);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        /* the derivative in double from the exact GELU: a float difference
         * quotient over |x| up to 12 would measure rounding, not slope */
        double v = x[i], want = 0.5 * (1.0 + erf(v / sqrt(2.0))) + v * exp(-0.5 * v * v) / sqrt(2.0 * M_PI);
        worst = fmax(worst, fabs(dx[i] - want));
    }
    printf("# GELU': worst |diff| vs the exact derivative %.2e (bound 1e-6)\n", worst);
    assert_true(worst < 1e-6);
}

static void test_residual(void **state) {
    (void)state;
    float a[3] = {1, 2, 3}, b[3] = {0.5f, -2, 4}, y[3], dy[3] = {1, -1, 2}, da[3] = {1, 1, 1}, db[3] = {0};
    casie__grad_residual_forward(a, b, 3, y);
    assert_true(y[0] == 1.5f && y[1] == 0.0f && y[2] == 7.0f);
    casie__grad_residual_backward(dy, 3, da, db);
    assert_true(da[0] == 2 && da[1] == 0 && da[2] == 3 && db[0] == 1 && db[1] == -1 && db[2] == 2);
}

typedef struct att_case {
    int n, H, nh;
    float *qkv, *bias, *att, *ctx, *kt, *c;
    const uint8_t *mask;
} att_case;

static double att_loss(void *u) {
    att_case *t = u;
    casie__grad_attention_forward(t->qkv, t->n, t->H, t->nh, t->bias, t->mask, t->att, t->ctx, t->kt);
    return dot(t->ctx, t->c, (size_t)t->n * t->H);
}

/* n 7 with the last 2 masked, H 16, 4 heads: with and without the bias,
 * and with every key masked (all count) */
static void test_attention_backward(void **state) {
    (void)state;
    static const uint8_t MASK[7] = {1, 1, 1, 1, 1, 0, 0}, NONE[7] = {0};
    const char *names[3] = {"attention: d qkv, no bias", "attention: d qkv, bias", "attention: d qkv, all masked"};
    for (int v = 0; v < 3; v++) {
        att_case t = {7, 16, 4, 0, 0, 0, 0, 0, 0, v == 2 ? NONE : MASK};
        uint64_t s = 11 + (uint64_t)v;
        size_t nq = (size_t)t.n * 3 * t.H, nc = (size_t)t.n * t.H, nb = (size_t)t.nh * t.n * t.n;
        t.qkv = alloc_f(nq), t.att = alloc_f(nb), t.ctx = alloc_f(nc), t.kt = alloc_f(nc), t.c = alloc_f(nc);
        fill(t.qkv, nq, 1.5f, &s), fill(t.c, nc, 1, &s);
        if (v) {
            t.bias = alloc_f(nb);
            fill(t.bias, nb, 1, &s);
        }
        float *dqkv = alloc_f(nq), *dp = alloc_f((size_t)t.n * t.n), *vt = alloc_f(nc);
        att_loss(&t);
        for (int h = 0; h < t.nh; h++) /* masked keys get no weight */
            for (int i = 0; v < 2 && i < t.n; i++)
                assert_true(t.att[((size_t)h * t.n + i) * t.n + 5] == 0.0f);
        casie__grad_attention_backward(t.c, t.qkv, t.att, t.n, t.H, t.nh, dqkv, dp, vt);
        report(names[v], fd_check(t.qkv, dqkv, nq, att_loss, &t));
        for (int i = 5; v < 2 && i < 7; i++) /* nor any gradient: their k and v */
            for (int d = t.H; d < 3 * t.H; d++)
                assert_true(dqkv[(size_t)i * 3 * t.H + d] == 0.0f);
        free(t.qkv), free(t.bias), free(t.att), free(t.ctx), free(t.kt), free(t.c), free(dqkv), free(dp), free(vt);
    }
}

/* ---- a whole layer ------------------------------------------------------ */

typedef struct layer_case {
    casie__enc_layer_f32 *L;
    casie__enc_layer_acts *A;
    float *x, *bias, *c;
    const uint8_t *mask;
    int n;
} layer_case;

static double layer_loss(void *u) {
    layer_case *t = u;
    casie__enc_layer_f32_forward(t->L, t->x, t->n, t->bias, t->mask, t->A);
    return dot(t->A->out, t->c, (size_t)t->n * t->L->H);
}

static void random_layer(casie__enc_layer_f32 *L, uint64_t *s) {
    fill(L->mem, L->n_params, 0.3f, s);
    for (int i = 0; i < L->H; i++)
        L->ln1_g[i] = 1.0f + 0.2f * frand(s), L->ln2_g[i] = 1.0f + 0.2f * frand(s);
}

/* H 16, 4 heads, I 32, 7 pieces of which 2 are padding, with and without
 * a bias: every parameter and every input value. */
static void test_layer_backward(void **state) {
    (void)state;
    static const uint8_t MASK[7] = {1, 1, 1, 1, 1, 0, 0};
    const int H = 16, NH = 4, I = 32, n = 7;
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        casie__enc_layer_f32 L, G;
        casie__enc_layer_acts A;
        casie_error err = {0};
        assert_int_equal(casie__enc_layer_f32_init(&L, H, NH, I, 1e-5f, &err), CASIE_OK);
        assert_int_equal(casie__enc_layer_f32_init(&G, H, NH, I, 1e-5f, &err), CASIE_OK);
        assert_int_equal(casie__enc_layer_acts_init(&A, &L, n, &err), CASIE_OK);
        uint64_t s = 21 + (uint64_t)with_bias;
        random_layer(&L, &s);
        layer_case t = {&L, &A, alloc_f((size_t)n * H), NULL, alloc_f((size_t)n * H), MASK, n};
        fill(t.x, (size_t)n * H, 1, &s), fill(t.c, (size_t)n * H, 1, &s);
        if (with_bias) {
            t.bias = alloc_f((size_t)NH * n * n);
            fill(t.bias, (size_t)NH * n * n, 1, &s);
        }
        float *dx = alloc_f((size_t)n * H);
        layer_loss(&t);
        casie__enc_layer_f32_backward(&L, t.c, &A, dx, &G);
        double worst_p = 0;
        for (int k = 0; k < CASIE__EL_N_TENSORS; k++)
            worst_p = fmax(worst_p, fd_check(L.mem + L.off[k], G.mem + G.off[k], L.size[k], layer_loss, &t));
        report(with_bias ? "layer with bias: d parameters" : "layer: d parameters", worst_p);
        report(with_bias ? "layer with bias: d input" : "layer: d input",
               fd_check(t.x, dx, (size_t)n * H, layer_loss, &t));
        /* the same bits again: backward accumulates, so twice is 2x */
        casie__enc_layer_f32 G2;
        assert_int_equal(casie__enc_layer_f32_init(&G2, H, NH, I, 1e-5f, &err), CASIE_OK);
        float *dx2 = alloc_f((size_t)n * H);
        layer_loss(&t);
        casie__enc_layer_f32_backward(&L, t.c, &A, dx2, &G2);
        assert_memory_equal(dx, dx2, sizeof(float) * n * H);
        assert_memory_equal(G.mem, G2.mem, sizeof(float) * G.n_params);
        free(t.x), free(t.c), free(t.bias), free(dx), free(dx2);
        casie__enc_layer_f32_free(&L), casie__enc_layer_f32_free(&G), casie__enc_layer_f32_free(&G2);
        casie__enc_layer_acts_free(&A);
    }
}

/* ---- against PyTorch ---------------------------------------------------- */

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* n floats at *at (little-endian), bounds-checked against end */
static const unsigned char *take_f(const unsigned char **at, const unsigned char *end, size_t n, float *to) {
    const unsigned char *p = *at;
    assert_true((size_t)(end - p) >= 4 * n);
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(p + 4 * i);
        memcpy(to + i, &u, 4);
    }
    *at = p + 4 * n;
    return p;
}

/* max |a - b| / max |b| over n values */
static double rel_inf(const float *a, const float *b, size_t n) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / fmax(m, 1e-30);
}

/* The layer's output, d input and every parameter's gradient against the
 * fixture's (float64 autograd, stored as float32), per tensor as
 * max |C - torch| / max |torch|.  float32 over a few dozen terms per sum
 * gives about 1e-6 (measured: 4.7e-7 at most); the bound, 2e-5, leaves room for other compilers' and
 * CPUs' rounding (there is none today: the bits are fixed) while a missed
 * term or a wrong scale costs 1e-2 and more.  The fixture must be there:
 * a missing file fails the test. */
static void test_against_torch(void **state) {
    (void)state;
    FILE *f = fopen(FIXTURE, "rb");
    if (!f)
        fail_msg("%s is missing: make it with build/ft-venv/bin/python tests/make_encoder_grad_fixture.py", FIXTURE);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len >= 16 && len < sizeof buf);
    assert_memory_equal(buf, "CASIEEGF", 8);
    assert_int_equal(get_u32(buf + 8), 1);
    const int n_cases = (int)get_u32(buf + 12);
    assert_int_equal(n_cases, 2);
    const unsigned char *at = buf + 16, *end = buf + len;
    for (int cs = 0; cs < n_cases; cs++) {
        assert_true(end - at >= 24);
        const int H = (int)get_u32(at), NH = (int)get_u32(at + 4), I = (int)get_u32(at + 8), n = (int)get_u32(at + 12);
        const int has_bias = (int)get_u32(at + 16);
        float eps;
        take_f(&(const unsigned char *){at + 20}, end, 1, &eps);
        at += 24;
        assert_true(H >= 1 && H <= 64 && NH >= 1 && I >= 1 && I <= 256 && n >= 1 && n <= 64);
        uint8_t mask[64];
        assert_true(end - at >= n);
        memcpy(mask, at, (size_t)n);
        at += ((size_t)n + 3) & ~(size_t)3;
        casie__enc_layer_f32 L, G, T;
        casie__enc_layer_acts A;
        casie_error err = {0};
        assert_int_equal(casie__enc_layer_f32_init(&L, H, NH, I, eps, &err), CASIE_OK);
        assert_int_equal(casie__enc_layer_f32_init(&G, H, NH, I, eps, &err), CASIE_OK);
        assert_int_equal(casie__enc_layer_f32_init(&T, H, NH, I, eps, &err), CASIE_OK);
        assert_int_equal(casie__enc_layer_acts_init(&A, &L, n, &err), CASIE_OK);
        for (int k = 0; k < CASIE__EL_N_TENSORS; k++)
            take_f(&at, end, L.size[k], L.mem + L.off[k]);
        const size_t nH = (size_t)n * H, nb = (size_t)NH * n * n;
        float *x = alloc_f(nH), *bias = has_bias ? alloc_f(nb) : NULL, *dout = alloc_f(nH), *out = alloc_f(nH);
        float *dx_t = alloc_f(nH), *dx = alloc_f(nH);
        take_f(&at, end, nH, x);
        if (bias) take_f(&at, end, nb, bias);
        take_f(&at, end, nH, dout);
        take_f(&at, end, nH, out);
        take_f(&at, end, nH, dx_t);
        for (int k = 0; k < CASIE__EL_N_TENSORS; k++)
            take_f(&at, end, T.size[k], T.mem + T.off[k]);
        casie__enc_layer_f32_forward(&L, x, n, bias, mask, &A);
        casie__enc_layer_f32_backward(&L, dout, &A, dx, &G);
        static const char *const NAMES[CASIE__EL_N_TENSORS] = {"qkv", "b_qkv", "out", "b_out", "ln1_g", "ln1_b",
                                                               "ff1", "b_ff1", "ff2", "b_ff2", "ln2_g", "ln2_b"};
        double e_out = rel_inf(A.out, out, nH), e_dx = rel_inf(dx, dx_t, nH), worst = fmax(e_out, e_dx);
        const char *worst_name = e_out > e_dx ? "out" : "dx";
        for (int k = 0; k < CASIE__EL_N_TENSORS; k++) {
            double e = rel_inf(G.mem + G.off[k], T.mem + T.off[k], G.size[k]);
            if (e > worst) worst = e, worst_name = NAMES[k];
        }
        printf("# torch %s: out %.2e, d input %.2e, worst tensor %s %.2e (bound 2e-5)\n", has_bias ? "MPNet" : "BERT",
               e_out, e_dx, worst_name, worst);
        assert_true(worst < 2e-5);
        free(x), free(bias), free(dout), free(out), free(dx_t), free(dx);
        casie__enc_layer_f32_free(&L), casie__enc_layer_f32_free(&G), casie__enc_layer_f32_free(&T);
        casie__enc_layer_acts_free(&A);
    }
    assert_true(at == end);
}

/* ---- against the int8 encoder ------------------------------------------ */

static casie_encoder *import_tiny(const char *dir, const char *name, char *path, size_t cap) {
    char tmpl[] = "/tmp/casie_eg_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    snprintf(path, cap, "%s/%s.enc", tmpl, name);
    casie_error err = {0};
    if (casie_encoder_import(dir, path, &err)) fail_msg("import %s: %s", dir, err.message);
    casie_encoder *e = casie_encoder_load(path, &err);
    if (!e) fail_msg("load %s: %s", path, err.message);
    return e;
}

static void drop_tiny(casie_encoder *e, char *path) {
    casie_encoder_free(e);
    assert_int_equal(unlink(path), 0);
    *strrchr(path, '/') = 0;
    assert_int_equal(rmdir(path), 0);
}

/* 12 pieces, the last 3 padding */
enum { SEQ = 12 };
static const uint8_t SEQ_MASK[SEQ] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};

static void seq_ids(const casie_encoder *e, int32_t *ids) {
    for (int i = 0; i < SEQ; i++)
        ids[i] = (int32_t)((5 + 7 * i) % e->cfg.n_vocab);
    ids[0] = e->cfg.cls_id, ids[8] = e->cfg.sep_id;
    ids[9] = ids[10] = ids[11] = e->cfg.pad_id;
}

/* Each layer of the tiny BERT and MPNet encoders, dequantized and run in
 * float32 over the int8 pass's input to that layer, against the int8
 * pass's output of it.  They differ by the int8 rounding of the
 * activations (each matrix product's input rounded to absmax/254 per row),
 * in units of the normed states: measured 0.019 (BERT) and 0.020 (MPNet) at
 * most, 0.0042 on average; the bounds are 0.04 and 0.01 (test_encoder.c's
 * figures for the whole pass are 0.032 and 0.008).  A layer run without
 * the mask or without the bias is off by more than 0.2. */
static void check_encoder_layers(const char *dir, const char *label) {
    char path[256];
    casie_encoder *e = import_tiny(dir, label, path, sizeof path);
    const casie_encoder_config *c = &e->cfg;
    const int H = c->hidden, L_n = c->n_layers, NH = c->n_heads;
    int32_t ids[SEQ];
    seq_ids(e, ids);
    const size_t nH = (size_t)SEQ * H;
    float *hs = alloc_f(nH * (size_t)(L_n + 1));
    casie_error err = {0};
    assert_int_equal(casie__encoder_forward(e, ids, SEQ_MASK, SEQ, (2ull << L_n) - 1, CASIE_Q8_PLAIN, hs, NULL, &err),
                     CASIE_OK);
    float *bias = NULL, *rel = NULL;
    if (e->rel_bias) {
        bias = alloc_f((size_t)NH * SEQ * SEQ), rel = alloc_f((size_t)NH * (2 * SEQ - 1));
        casie__enc_grad_rel_bias(e, SEQ, bias, rel);
        /* bias[h][i][j] is the bias of j - i: rel's table read back */
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < SEQ; i++)
                for (int j = 0; j < SEQ; j++)
                    assert_true(bias[((size_t)h * SEQ + i) * SEQ + j] ==
                                rel[(size_t)h * (2 * SEQ - 1) + j - i + SEQ - 1]);
    }
    casie__enc_layer_f32 L;
    casie__enc_layer_acts A;
    assert_int_equal(casie__enc_layer_f32_init(&L, H, NH, c->intermediate, c->layer_norm_eps, &err), CASIE_OK);
    assert_int_equal(casie__enc_layer_acts_init(&A, &L, SEQ, &err), CASIE_OK);
    double worst = 0, total = 0, off_mask = 1e9, off_bias = 1e9;
    for (int l = 0; l < L_n; l++) {
        casie__enc_layer_f32_from_q8(&L, &e->layers[l]);
        const float *in = hs + (size_t)l * nH, *want = hs + (size_t)(l + 1) * nH;
        casie__enc_layer_f32_forward(&L, in, SEQ, bias, SEQ_MASK, &A);
        for (size_t i = 0; i < nH; i++) {
            double d = fabs((double)A.out[i] - want[i]);
            worst = fmax(worst, d), total += d;
        }
        double w = 0;
        casie__enc_layer_f32_forward(&L, in, SEQ, bias, NULL, &A);
        for (size_t i = 0; i < nH; i++)
            w = fmax(w, fabs((double)A.out[i] - want[i]));
        off_mask = fmin(off_mask, w);
        if (bias) {
            w = 0;
            casie__enc_layer_f32_forward(&L, in, SEQ, NULL, SEQ_MASK, &A);
            for (size_t i = 0; i < nH; i++)
                w = fmax(w, fabs((double)A.out[i] - want[i]));
            off_bias = fmin(off_bias, w);
        }
    }
    const double mean = total / ((double)nH * L_n);
    printf("# %s layers in float vs int8: max |diff| %.4f, mean %.5f; without mask %.3f, without bias %.3f\n", label,
           worst, mean, off_mask, bias ? off_bias : 0.0);
    assert_true(worst < 0.04);
    assert_true(mean < 0.01);
    assert_true(off_mask > 0.2);
    if (bias) assert_true(off_bias > 0.2);
    free(hs), free(bias), free(rel);
    casie__enc_layer_f32_free(&L);
    casie__enc_layer_acts_free(&A);
    drop_tiny(e, path);
}

static void test_matches_encoder(void **state) {
    (void)state;
    check_encoder_layers(TINY_DIR, "tiny-bert");
    check_encoder_layers(TINY_MPNET_DIR, "tiny-mpnet");
}

static void same_q8(const casie__q8mat *a, const casie__q8mat *b, int *scales_equal) {
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->cols, b->cols);
    assert_int_equal(a->stride, b->stride);
    assert_memory_equal(a->q, b->q, (size_t)a->rows * a->stride);
    assert_memory_equal(a->sum, b->sum, (size_t)a->rows * sizeof *a->sum);
    for (int r = 0; r < a->rows; r++) {
        assert_true(fabsf(a->scale[r] - b->scale[r]) <= 2e-7f * a->scale[r]);
        *scales_equal &= a->scale[r] == b->scale[r];
    }
}

/* quantize(dequantize(layer)): the same int8 values, row sums, biases and
 * norms; scales within 2e-7 relative (absmax is 127 * scale rounded to
 * float, then divided by 127 again); and the encoder run with the
 * requantized layers gives the same states within 1e-5. */
static void check_round_trip(const char *dir, const char *label) {
    char path[256];
    casie_encoder *e = import_tiny(dir, label, path, sizeof path);
    const casie_encoder_config *c = &e->cfg;
    const int H = c->hidden, I = c->intermediate, L_n = c->n_layers;
    casie_error err = {0};
    casie__enc_layer_f32 L;
    assert_int_equal(casie__enc_layer_f32_init(&L, H, c->n_heads, I, c->layer_norm_eps, &err), CASIE_OK);
    casie__enc_layer_q8 Q[8];
    casie__enc_layer layers[8];
    assert_true(L_n <= 8);
    int scales_equal = 1;
    for (int l = 0; l < L_n; l++) {
        const casie__enc_layer *a = &e->layers[l];
        casie__enc_layer_f32_from_q8(&L, a);
        assert_int_equal(casie__enc_layer_q8_from_f32(&Q[l], &L, &err), CASIE_OK);
        const casie__enc_layer *b = &Q[l].layer;
        same_q8(&a->qkv, &b->qkv, &scales_equal);
        same_q8(&a->out, &b->out, &scales_equal);
        same_q8(&a->ff1, &b->ff1, &scales_equal);
        same_q8(&a->ff2, &b->ff2, &scales_equal);
        assert_memory_equal(a->b_qkv, b->b_qkv, 3 * (size_t)H * 4);
        assert_memory_equal(a->b_out, b->b_out, (size_t)H * 4);
        assert_memory_equal(a->ln1_g, b->ln1_g, (size_t)H * 4);
        assert_memory_equal(a->ln1_b, b->ln1_b, (size_t)H * 4);
        assert_memory_equal(a->b_ff1, b->b_ff1, (size_t)I * 4);
        assert_memory_equal(a->b_ff2, b->b_ff2, (size_t)H * 4);
        assert_memory_equal(a->ln2_g, b->ln2_g, (size_t)H * 4);
        assert_memory_equal(a->ln2_b, b->ln2_b, (size_t)H * 4);
        layers[l] = Q[l].layer;
    }
    int32_t ids[SEQ];
    seq_ids(e, ids);
    const size_t cnt = (size_t)SEQ * H * (size_t)(L_n + 1);
    float *h0 = alloc_f(cnt), *h1 = alloc_f(cnt);
    casie_encoder copy = *e;
    copy.layers = layers;
    const uint64_t all = (2ull << L_n) - 1;
    double worst = 0;
    for (int k = CASIE_Q8_PLAIN; k <= CASIE_Q8_VNNI; k++) {
        if (!casie__q8_supported(k)) continue;
        assert_int_equal(casie__encoder_forward(e, ids, SEQ_MASK, SEQ, all, k, h0, NULL, &err), CASIE_OK);
        assert_int_equal(casie__encoder_forward(&copy, ids, SEQ_MASK, SEQ, all, k, h1, NULL, &err), CASIE_OK);
        for (size_t i = 0; i < cnt; i++)
            worst = fmax(worst, fabs((double)h0[i] - h1[i]));
    }
    printf("# %s round trip: scales %s, states within %.2e (bound 1e-5)\n", label,
           scales_equal ? "identical" : "within 2e-7", worst);
    assert_true(worst < 1e-5);
    for (int l = 0; l < L_n; l++)
        casie__enc_layer_q8_free(&Q[l]);
    free(h0), free(h1);
    casie__enc_layer_f32_free(&L);
    drop_tiny(e, path);
}

static void test_quantize_round_trip(void **state) {
    (void)state;
    check_round_trip(TINY_DIR, "tiny-bert");
    check_round_trip(TINY_MPNET_DIR, "tiny-mpnet");
}

/* ---- AdamW ------------------------------------------------------------- */

/* Three steps against the formula in double: within 1e-6 relative. */
static void test_adamw(void **state) {
    (void)state;
    enum { N = 6 };
    float p[N] = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f, -0.25f}, m[N] = {0}, v[N] = {0};
    double P[N], Mm[N] = {0}, V[N] = {0};
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    for (int i = 0; i < N; i++)
        P[i] = p[i];
    for (int t = 1; t <= 3; t++) {
        float g[N];
        for (int i = 0; i < N; i++)
            g[i] = (float)(0.3 * (i - 2) * t + 0.1 * (i % 2 ? -1 : 1));
        casie__adamw_update(p, g, m, v, N, t, (float)lr, (float)b1, (float)b2, (float)eps, (float)wd);
        for (int i = 0; i < N; i++) {
            Mm[i] = b1 * Mm[i] + (1 - b1) * g[i];
            V[i] = b2 * V[i] + (1 - b2) * (double)g[i] * g[i];
            double mh = Mm[i] / (1 - pow(b1, t)), vh = V[i] / (1 - pow(b2, t));
            P[i] -= lr * (mh / (sqrt(vh) + eps) + wd * P[i]);
        }
    }
    for (int i = 0; i < N; i++)
        assert_true(fabs(p[i] - P[i]) <= 1e-6 * fmax(1.0, fabs(P[i])));
    float g1[3] = {3, 4, 0};
    assert_true(fabs(casie__grad_norm(g1, 3) - 5.0) < 1e-12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_order),
        cmocka_unit_test(test_linear_backward),
        cmocka_unit_test(test_layernorm_backward),
        cmocka_unit_test(test_gelu),
        cmocka_unit_test(test_residual),
        cmocka_unit_test(test_attention_backward),
        cmocka_unit_test(test_layer_backward),
        cmocka_unit_test(test_against_torch),
        cmocka_unit_test(test_matches_encoder),
        cmocka_unit_test(test_quantize_round_trip),
        cmocka_unit_test(test_adamw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
