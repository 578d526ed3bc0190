/*
 * test_model_encoder.c - a model whose networks read a transformer encoder:
 * trained with the tiny random BERT of tests/data/encoder/tiny on the golden
 * fixture documents, it predicts the same before and after a save and load;
 * loading finds the encoder beside the model, in its encoders/ folder or at
 * the load parameters' encoder path (never $CASIE_ENCODER: that is the
 * CLI's), and refuses a missing or different encoder, or one whose
 * positions are fewer than the model's window; a model without
 * an encoder has no XENC section and its networks take the plain token
 * vectors.
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/feats.h"
#include "../src/model.h"
#include "../src/model_file.h"

#include <pthread.h>
#include <sys/stat.h>

static char tmpdir[64];
static char enc_path[256]; /* the tiny encoder, imported */

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/casie_test_menc_XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(enc_path, sizeof enc_path, "%s/tiny.enc", tmpdir);
    casie_error err = {0};
    if (casie_encoder_import("tests/data/encoder/tiny", enc_path, &err)) {
        fprintf(stderr, "import: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *extract_json(const casie_model *m, const char *text) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, strlen(text), "t", &err);
    assert_non_null(d);
    if (casie_extract(m, d, NULL, &err)) fail_msg("extract: %s", err.message);
    char *js = casie_doc_to_json(d, CASIE_JSON_SCORES | CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    casie_doc_free(d);
    return js;
}

static const char *const TEXT =
    "Hackers broke into the payment network of Halvorsen Markets and stole the card numbers of 310,000 "
    "shoppers. Velta Software released an emergency update that patches CVE-2025-10442.";

/* A tiny model over encoder, reading the mean of its layers first..last
 * (0, 0: the default); NULL with *err when training refuses. */
/* casie_model_load_with an encoder path (what $CASIE_ENCODER gives the CLI). */
static casie_model *load_with_encoder(const char *path, const char *encoder, casie_error *err) {
    casie_model_load_params p = casie_model_default_load_params();
    p.encoder_path = encoder;
    return casie_model_load_with(path, &p, err);
}

static casie_model *train_tiny_layers(const char *encoder, int first, int last, casie_error *err) {
    casie_doc *docs[2] = {test_gold_doc("breach"), test_gold_doc("patch")};
    casie_train_params p = casie_train_default_params();
    p.epochs = 2;
    p.threads = 2;
    p.hidden = 8;
    p.head = 8;
    p.encoder = encoder;
    p.enc_first = first;
    p.enc_last = last;
    casie_model *m = casie_train(docs, 2, docs, 2, &p, err);
    for (int i = 0; i < 2; i++)
        casie_doc_free(docs[i]);
    return m;
}

static casie_model *train_tiny(const char *encoder) {
    casie_error err = {0};
    casie_model *m = train_tiny_layers(encoder, 0, 0, &err);
    if (!m) fail_msg("train: %s", err.message);
    return m;
}

/* Which layers the networks read: by default the last four (the tiny
 * encoder's two, and not its embeddings); enc_first..enc_last otherwise,
 * kept through a save; a range the encoder does not have is refused. */
static void layer_choice(void **state) {
    (void)state;
    casie_error err = {0};
    casie_model *m = train_tiny(enc_path);
    assert_true(m->xs.mix[0] == 0.0f && m->xs.mix[1] == 0.5f && m->xs.mix[2] == 0.5f);
    casie_model_free(m);
    m = train_tiny_layers(enc_path, 1, 1, &err);
    if (!m) fail_msg("train: %s", err.message);
    assert_true(m->xs.mix[0] == 0.0f && m->xs.mix[1] == 1.0f && m->xs.mix[2] == 0.0f);
    char path[320];
    snprintf(path, sizeof path, "%s/layer1.model", tmpdir);
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model *l = load_with_encoder(path, enc_path, &err);
    if (!l) fail_msg("load: %s", err.message);
    assert_memory_equal(l->xs.mix, m->xs.mix, sizeof m->xs.mix);
    char *a = extract_json(m, TEXT), *b = extract_json(l, TEXT);
    assert_string_equal(a, b);
    casie_free(a), casie_free(b);
    casie_model_free(l);
    casie_model_free(m);
    const int bad[][2] = {{1, 3}, {2, 1}, {3, 0}};
    for (int k = 0; k < 3; k++) {
        assert_null(train_tiny_layers(enc_path, bad[k][0], bad[k][1], &err));
        assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
        assert_non_null(strstr(err.message, "layers 1..2"));
    }
}

static void trained_equals_loaded(void **state) {
    (void)state;
    casie_model *m = train_tiny(enc_path);
    assert_int_equal(m->xdim, 32);
    assert_int_equal(m->trig_nn.D, casie__tokvec_dim(&m->emb) + 32);
    assert_int_equal(m->arg_nn.D, casie__tokvec_dim(&m->emb) + 32 + CASIE_ARGVEC_REL);
    char *before = extract_json(m, TEXT);
    char dir[256], path[320], cmd[1024];
    casie_error err = {0};
    /* the encoder beside the model */
    snprintf(dir, sizeof dir, "%s/beside", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/m.model", dir);
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/tiny.enc'", enc_path, dir);
    assert_int_equal(system(cmd), 0);
    casie_model *l = casie_model_load(path, &err);
    if (!l) fail_msg("load: %s", err.message);
    assert_int_equal(l->xdim, 32);
    char *after = extract_json(l, TEXT);
    assert_string_equal(before, after);
    casie_free(after);
    casie_model_free(l);
    /* in the model's encoders/ folder */
    snprintf(cmd, sizeof cmd, "mkdir '%s/encoders' && mv '%s/tiny.enc' '%s/encoders/'", dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    assert_non_null(l = casie_model_load(path, &err));
    after = extract_json(l, TEXT);
    assert_string_equal(before, after);
    casie_free(after);
    casie_model_free(l);
    /* missing: refused, naming the encoder */
    snprintf(cmd, sizeof cmd, "rm -r '%s/encoders'", dir);
    assert_int_equal(system(cmd), 0);
    assert_null(casie_model_load(path, &err));
    assert_int_equal(err.code, CASIE_ERR_ENCODER);
    assert_non_null(strstr(err.message, "tiny.enc"));
    /* the library reads no environment: $CASIE_ENCODER is the CLI's */
    setenv("CASIE_ENCODER", enc_path, 1);
    assert_null(casie_model_load(path, &err));
    assert_int_equal(err.code, CASIE_ERR_ENCODER);
    unsetenv("CASIE_ENCODER");
    /* named by the load parameters */
    assert_non_null(l = load_with_encoder(path, enc_path, &err));
    after = extract_json(l, TEXT);
    assert_string_equal(before, after);
    casie_free(after);
    casie_model_free(l);
    /* another encoder (one vocabulary entry changed): refused */
    char other[320];
    snprintf(other, sizeof other, "%s/other", tmpdir);
    snprintf(cmd, sizeof cmd, "cp -r tests/data/encoder/tiny '%s' && sed -i '$s/$/x/' '%s/vocab.txt'", other, other);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/other.enc", tmpdir);
    assert_int_equal(casie_encoder_import(other, path, &err), CASIE_OK);
    char model_path[320];
    snprintf(model_path, sizeof model_path, "%s/m.model", dir);
    assert_null(load_with_encoder(model_path, path, &err));
    assert_int_equal(err.code, CASIE_ERR_ENCODER);
    assert_non_null(strstr(err.message, "not the one the model was trained with"));
    casie_free(before);
    casie_model_free(m);
}

/* Models by name: the default is the accurate model when its encoder is
 * there, else the fast one with a note saying why. */
static void models_by_name(void **state) {
    (void)state;
    char dir[256], path[512], cmd[1024];
    snprintf(dir, sizeof dir, "%s/named", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    casie_error err = {0};
    casie_model *acc = train_tiny(enc_path), *fast = train_tiny(NULL);
    snprintf(path, sizeof path, "%s/casie-accurate.model", dir);
    assert_int_equal(casie_model_save(acc, path, &err), CASIE_OK);
    snprintf(path, sizeof path, "%s/casie-fast.model", dir);
    assert_int_equal(casie_model_save(fast, path, &err), CASIE_OK);
    casie_model_free(acc);
    casie_model_free(fast);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/tiny.enc'", enc_path, dir);
    assert_int_equal(system(cmd), 0);
    const char *dirs[] = {dir, NULL};
    casie_model *m = casie_model_open(NULL, dirs, &err);
    assert_non_null(m);
    assert_int_equal(m->xdim, 32); /* the accurate one */
    assert_string_equal(err.message, "");
    casie_model_free(m);
    assert_non_null(m = casie_model_open("fast", dirs, &err));
    assert_int_equal(m->xdim, 0);
    casie_model_free(m);
    assert_int_equal(casie_model_find("accurate", dirs, path, sizeof path), CASIE_OK);
    assert_non_null(strstr(path, "/named/casie-accurate.model"));
    /* an empty name is refused, not taken for the default */
    assert_null(casie_model_open("", dirs, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "empty model name"));
    /* without its encoder: the fast one, and why */
    snprintf(cmd, sizeof cmd, "rm '%s/tiny.enc'", dir);
    assert_int_equal(system(cmd), 0);
    assert_non_null(m = casie_model_open("default", dirs, &err));
    assert_int_equal(m->xdim, 0);
    assert_int_equal(err.code, CASIE_OK);
    assert_non_null(strstr(err.message, "using the fast model"));
    assert_non_null(strstr(err.message, "tiny.enc"));
    casie_model_free(m);
    /* a model that reads an encoder is costlier per byte, and says so */
    assert_non_null(m = casie_model_open("fast", dirs, &err));
    casie_model *a = train_tiny(enc_path);
    assert_true(casie_extract_memory(a, 1 << 20) > casie_extract_memory(m, 1 << 20));
    assert_true(casie_model_has_encoder(a) && !casie_model_has_encoder(m) && !casie_model_has_encoder(NULL));
    assert_true(casie_extract_memory(m, 1 << 20) >= (size_t)128 << 20);
    assert_int_equal(casie_extract_memory(a, SIZE_MAX), SIZE_MAX);
    casie_model_free(a);
    casie_model_free(m);
    assert_null(casie_model_open("accurate", dirs, &err));
    assert_int_equal(err.code, CASIE_ERR_ENCODER);
    /* anything else is a path */
    snprintf(path, sizeof path, "%s/nosuch.model", dir);
    assert_null(casie_model_open(path, dirs, &err));
    assert_int_equal(err.code, CASIE_ERR_IO);
}

/* A model whose windows are longer than its encoder's positions is refused
 * at load, naming both files (it used to load, then fail every extraction). */
static void window_over_positions_refused(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/wide.model", tmpdir);
    casie_model *m = train_tiny(enc_path);
    int fit = m->xs.window;
    m->xs.window = fit + 8;
    casie_error err = {0};
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model_free(m);
    assert_null(load_with_encoder(path, enc_path, &err));
    assert_int_equal(err.code, CASIE_ERR_ENCODER);
    assert_non_null(strstr(err.message, "wide.model"));
    assert_non_null(strstr(err.message, "tiny.enc"));
    char want[64];
    snprintf(want, sizeof want, "windows of %d pieces", fit + 8);
    assert_non_null(strstr(err.message, want));
}

/* Without an encoder: no XENC section, the networks' plain widths. */
static void no_encoder_no_section(void **state) {
    (void)state;
    casie_model *m = train_tiny(NULL);
    assert_int_equal(m->xdim, 0);
    assert_int_equal(m->trig_nn.D, casie__tokvec_dim(&m->emb));
    char path[256];
    snprintf(path, sizeof path, "%s/plain.model", tmpdir);
    casie_error err = {0};
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie__model_file mf;
    assert_int_equal(casie__model_file_open(path, &mf, &err), CASIE_OK);
    assert_null(casie__model_file_find(&mf, "XENC"));
    casie__model_file_close(&mf);
    casie_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trained_equals_loaded),
        cmocka_unit_test(no_encoder_no_section),
        cmocka_unit_test(models_by_name),
        cmocka_unit_test(layer_choice),
        cmocka_unit_test(window_over_positions_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
