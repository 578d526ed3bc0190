/*
 * test_encoder_tune.c - fine-tuning an encoder's top layers
 * (src/encoder_tune.c) on the tiny BERT and MPNet test encoders and four
 * tiny documents written for the test (tests/data/tune/): the loss goes
 * down over the epochs; the written encoder loads, has a new hash and
 * name, the same vocabulary, embeddings and untrained layers byte for
 * byte, other bytes in the trained ones, and runs; two runs (one and two
 * threads) write the same bytes; event_weight 1 is the default, bit for
 * bit, and another weight changes the result; an existing output is
 * refused and left as it was; bad parameters are refused before any work.
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/encoder.h"
#include "../src/encoder_kernels.h"
#include "../src/model_file.h"

#include <math.h>
#include <sys/stat.h>

#define TINY_DIR "tests/data/encoder/tiny"
#define TINY_MPNET_DIR "tests/data/encoder/tiny-mpnet"

static const char *const DOCS[] = {"breach", "patch", "phish", "ransom"};
enum { N_DOCS = 4, MAX_EPOCHS = 16 };

typedef struct fixture {
    char dir[64];
    char enc_path[128];
    casie_encoder *enc;
    casie_doc *docs[N_DOCS];
} fixture;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void setup_with(fixture *F, const char *enc_dir) {
    memset(F, 0, sizeof *F);
    snprintf(F->dir, sizeof F->dir, "/tmp/casie_tune_XXXXXX");
    assert_non_null(mkdtemp(F->dir));
    snprintf(F->enc_path, sizeof F->enc_path, "%s/in.enc", F->dir);
    casie_error err = {0};
    if (casie_encoder_import(enc_dir, F->enc_path, &err)) fail_msg("import %s: %s", enc_dir, err.message);
    if (!(F->enc = casie_encoder_load(F->enc_path, &err))) fail_msg("load: %s", err.message);
    for (int i = 0; i < N_DOCS; i++) {
        char path[128];
        size_t len;
        snprintf(path, sizeof path, "tests/data/tune/%s.json", DOCS[i]);
        char *js = read_file(path, &len);
        F->docs[i] = casie_doc_from_json(js, len, DOCS[i], &err);
        free(js);
        if (!F->docs[i]) fail_msg("%s: %s", path, err.message);
    }
}

static void out_path(const fixture *F, const char *name, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", F->dir, name);
}

static void teardown(fixture *F, const char *const *outs, int n_outs) {
    for (int i = 0; i < N_DOCS; i++)
        casie_doc_free(F->docs[i]);
    casie_encoder_free(F->enc);
    assert_int_equal(unlink(F->enc_path), 0);
    for (int i = 0; i < n_outs; i++) {
        char p[160];
        out_path(F, outs[i], p, sizeof p);
        assert_int_equal(unlink(p), 0);
    }
    assert_int_equal(rmdir(F->dir), 0);
}

/* The per-epoch losses the log reports. */
typedef struct losses {
    double loss[MAX_EPOCHS];
    int n;
} losses;

static void grab_loss(void *user, const char *msg) {
    losses *l = user;
    int e;
    double x;
    if (sscanf(msg, "epoch %d: loss %lf", &e, &x) == 2 && l->n < MAX_EPOCHS) l->loss[l->n++] = x;
}

static casie_encoder_tune_params tiny_params(losses *l) {
    casie_encoder_tune_params p = casie_encoder_tune_default_params();
    p.enc_first = 1, p.enc_last = 2;
    p.train_layers = 1;
    p.epochs = 8;
    p.batch = 2;
    p.lr = 3e-3f, p.head_lr = 3e-2f;
    p.warmup = 0.0f;
    p.log = grab_loss, p.log_user = l;
    return p;
}

static void run_tune(fixture *F, const casie_encoder_tune_params *p, const char *name) {
    char path[160];
    out_path(F, name, path, sizeof path);
    casie_error err = {0};
    if (casie_encoder_tune(F->enc, F->docs, N_DOCS, p, path, &err)) fail_msg("tune: %s", err.message);
}

static void check_loss_falls(const losses *l, int epochs, const char *what) {
    assert_int_equal(l->n, epochs);
    printf("# %s: loss %.4f -> %.4f\n", what, l->loss[0], l->loss[l->n - 1]);
    for (int e = 0; e < l->n; e++)
        assert_true(isfinite(l->loss[e]));
    assert_true(l->loss[l->n - 1] < 0.8 * l->loss[0]);
}

static const casie__section *section(const casie_encoder *e, const char *tag) {
    const casie__section *s = casie__model_file_find(&e->file, tag);
    assert_non_null(s);
    return s;
}

/* Bytes [a, b) of WGTS: a layer's, from its first array to the next layer's. */
static size_t layer_start(const casie_encoder *e, int l) {
    const unsigned char *base = section(e, "WGTS")->data;
    return l < e->cfg.n_layers ? (size_t)((const unsigned char *)e->layers[l].qkv.q - base)
                               : (size_t)section(e, "WGTS")->size;
}

/* The tuned file against the one it came from: trained layers t0-1 ..
 * last-1 (0-based) changed, every other byte the same. */
static void check_written(const fixture *F, const char *name, int t0, int last) {
    char path[160];
    out_path(F, name, path, sizeof path);
    casie_error err = {0};
    casie_encoder *t = casie_encoder_load(path, &err);
    if (!t) fail_msg("load tuned: %s", err.message);
    const casie_encoder_config *a = casie_encoder_get_config(F->enc), *b = casie_encoder_get_config(t);
    assert_true(a->hash != b->hash);
    assert_true(strcmp(a->name, b->name) != 0);
    assert_int_equal(strncmp(a->name, b->name, strlen(a->name)), 0);
    assert_int_equal(a->n_layers, b->n_layers);
    /* ECFG the same but for the hash */
    const casie__section *ca = section(F->enc, "ECFG"), *cb = section(t, "ECFG");
    assert_int_equal(ca->size, cb->size);
    assert_memory_equal(ca->data, cb->data, CASIE__ECFG_HASH);
    assert_memory_equal((const char *)ca->data + CASIE__ECFG_HASH + 8, (const char *)cb->data + CASIE__ECFG_HASH + 8,
                        ca->size - CASIE__ECFG_HASH - 8);
    const casie__section *va = section(F->enc, "VOCB"), *vb = section(t, "VOCB");
    assert_int_equal(va->size, vb->size);
    assert_memory_equal(va->data, vb->data, va->size);
    const casie__section *wa = section(F->enc, "WGTS"), *wb = section(t, "WGTS");
    assert_int_equal(wa->size, wb->size);
    const unsigned char *pa = wa->data, *pb = wb->data;
    for (int l = 0; l <= a->n_layers; l++) { /* region l: embeddings (l = 0) or layer l */
        size_t s = l ? layer_start(F->enc, l - 1) : 0, e = layer_start(F->enc, l);
        int trained = l >= t0 && l <= last;
        if (trained)
            assert_true(memcmp(pa + s, pb + s, e - s) != 0);
        else
            assert_memory_equal(pa + s, pb + s, e - s);
    }
    /* and it runs */
    int32_t ids[8] = {a->cls_id, 5, 6, 7, 8, 9, 10, a->sep_id};
    float *out = malloc(sizeof(float) * 8 * (size_t)a->hidden);
    assert_non_null(out);
    assert_int_equal(casie__encoder_forward(t, ids, NULL, 8, 1ull << a->n_layers, CASIE_Q8_BEST, out, NULL, &err), 0);
    for (int i = 0; i < 8 * a->hidden; i++)
        assert_true(isfinite(out[i]));
    free(out);
    casie_encoder_free(t);
}

static int same_file(const char *p, const char *q) {
    size_t n, m;
    char *a = read_file(p, &n), *b = read_file(q, &m);
    int same = n == m && memcmp(a, b, n) == 0;
    free(a);
    free(b);
    return same;
}

/* BERT: layer 2 trained, layers 1-2 read (layer 1's mix from the int8
 * pass); two runs on one and two threads write the same bytes. */
static void test_tune_bert(void **state) {
    (void)state;
    fixture F;
    setup_with(&F, TINY_DIR);
    losses l1 = {0}, l2 = {0};
    casie_encoder_tune_params p = tiny_params(&l1);
    run_tune(&F, &p, "a.enc");
    check_loss_falls(&l1, p.epochs, "tiny BERT, layer 2");
    check_written(&F, "a.enc", 2, 2);
    p.threads = 2, p.log_user = &l2;
    run_tune(&F, &p, "b.enc");
    assert_memory_equal(l1.loss, l2.loss, sizeof l1.loss);
    char pa[160], pb[160];
    out_path(&F, "a.enc", pa, sizeof pa);
    out_path(&F, "b.enc", pb, sizeof pb);
    assert_true(same_file(pa, pb));
    static const char *const outs[] = {"a.enc", "b.enc"};
    teardown(&F, outs, 2);
}

/* MPNet (the relative position bias): both layers trained, from the
 * embeddings up. */
static void test_tune_mpnet(void **state) {
    (void)state;
    fixture F;
    setup_with(&F, TINY_MPNET_DIR);
    losses l = {0};
    casie_encoder_tune_params p = tiny_params(&l);
    p.train_layers = 2;
    run_tune(&F, &p, "m.enc");
    check_loss_falls(&l, p.epochs, "tiny MPNet, layers 1-2");
    check_written(&F, "m.enc", 1, 2);
    static const char *const outs[] = {"m.enc"};
    teardown(&F, outs, 1);
}

/* event_weight: 1 writes the default's bytes and logs its losses; 5 (the
 * pieces inside events weighing five times the others) other ones, still
 * falling. */
static void test_event_weight(void **state) {
    (void)state;
    fixture F;
    setup_with(&F, TINY_DIR);
    losses l0 = {0}, l1 = {0}, l5 = {0};
    casie_encoder_tune_params p = tiny_params(&l0);
    assert_true(p.event_weight == 1.0f);
    run_tune(&F, &p, "d.enc");
    p.event_weight = 1.0f, p.log_user = &l1;
    run_tune(&F, &p, "w1.enc");
    p.event_weight = 5.0f, p.log_user = &l5;
    run_tune(&F, &p, "w5.enc");
    check_loss_falls(&l5, p.epochs, "tiny BERT, event weight 5");
    assert_memory_equal(l0.loss, l1.loss, sizeof l0.loss);
    assert_memory_not_equal(l0.loss, l5.loss, sizeof l0.loss);
    char pd[160], p1[160], p5[160];
    out_path(&F, "d.enc", pd, sizeof pd);
    out_path(&F, "w1.enc", p1, sizeof p1);
    out_path(&F, "w5.enc", p5, sizeof p5);
    assert_true(same_file(pd, p1));
    assert_false(same_file(pd, p5));
    check_written(&F, "w5.enc", 2, 2);
    static const char *const outs[] = {"d.enc", "w1.enc", "w5.enc"};
    teardown(&F, outs, 3);
}

/* An existing output is refused, untouched; bad parameters before any work. */
static void test_refusals(void **state) {
    (void)state;
    fixture F;
    setup_with(&F, TINY_DIR);
    losses l = {0};
    casie_encoder_tune_params p = tiny_params(&l);
    char path[160];
    out_path(&F, "there.enc", path, sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("keep me\n", f);
    fclose(f);
    casie_error err = {0};
    assert_int_equal(casie_encoder_tune(F.enc, F.docs, N_DOCS, &p, path, &err), CASIE_ERR_IO);
    assert_non_null(strstr(err.message, "exists"));
    size_t n;
    char *kept = read_file(path, &n);
    assert_string_equal(kept, "keep me\n");
    free(kept);
    assert_int_equal(l.n, 0);

    char fresh[160];
    out_path(&F, "never.enc", fresh, sizeof fresh);
    const struct { int field, value; } BAD[] = {{0, 3}, {1, 0}, {2, 0}, {3, 0}, {4, 0}};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        casie_encoder_tune_params q = p;
        if (BAD[i].field == 0) q.train_layers = BAD[i].value; /* more than the last layer read */
        if (BAD[i].field == 1) q.epochs = BAD[i].value;
        if (BAD[i].field == 2) q.batch = BAD[i].value;
        if (BAD[i].field == 3) q.threads = BAD[i].value;
        if (BAD[i].field == 4) q.enc_last = 3; /* the encoder has 2 */
        assert_int_equal(casie_encoder_tune(F.enc, F.docs, N_DOCS, &q, fresh, &err), CASIE_ERR_INVALID_ARG);
    }
    casie_encoder_tune_params q = p;
    q.lr = 0.0f;
    assert_int_equal(casie_encoder_tune(F.enc, F.docs, N_DOCS, &q, fresh, &err), CASIE_ERR_INVALID_ARG);
    q = p;
    q.event_weight = 0.0f;
    assert_int_equal(casie_encoder_tune(F.enc, F.docs, N_DOCS, &q, fresh, &err), CASIE_ERR_INVALID_ARG);
    struct stat st;
    assert_int_not_equal(lstat(fresh, &st), 0);
    assert_int_equal(casie_encoder_tune(F.enc, F.docs, 0, &p, fresh, &err), CASIE_ERR_EMPTY);
    static const char *const outs[] = {"there.enc"};
    teardown(&F, outs, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tune_bert),
        cmocka_unit_test(test_tune_mpnet),
        cmocka_unit_test(test_event_weight),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
