/*
 * test_model_bytes.c - training gives the recorded model, byte for byte, and
 * a loaded model saves as the very file it was loaded from.
 *
 * Training is deterministic (same seed and data, same bytes), so a change to
 * the training code that is not meant to change what it learns must leave
 * the saved file as it was.  Small models are trained on the two golden
 * fixture documents (tests/data/golden/gold/) in several configurations that
 * between them reach every trainer: the perceptrons, one and two networks
 * per stage, on one thread and on two, dev checks and tuning, word clusters
 * and vectors (small files written here), and a tiny encoder's inputs.
 * Each model is reduced to one digest line (tests/data/train/tiny.digest):
 * a 64-bit hash of every section but META, then META with its casie_version
 * left out (so that a release does not change it).
 * A change that is meant to change training re-records them with
 *   CASIE_GOLDEN_UPDATE=1 build/tests/test_model_bytes
 * and says in its commit why.
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/model_file.h"

#include <jansson.h>

#define DIGESTS "tests/data/train/tiny.digest"

static char tmpdir[64];
static char enc_path[256], clusters_path[256], vectors_path[256];
static char *digests; /* the lines made so far */
static size_t digests_len;

/* Words of the fixture documents, in a made-up frequency order. */
static const char *const WORDS[] = {"the",     "of",     "and",       "hackers", "stole",    "data",
                                    "attack",  "breach", "patch",     "update",  "released", "vulnerability",
                                    "company", "said",   "customers", "card",    "network",  "software"};
#define N_WORDS ((int)(sizeof WORDS / sizeof *WORDS))
#define DIM 4

static void put_u32(FILE *f, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, f);
}

/* A clusters file (every word) and a glove100.bin-format vectors file (all
 * but the last two words), both in WORDS order. */
static int write_word_files(void) {
    FILE *c = fopen(clusters_path, "w"), *v = fopen(vectors_path, "wb");
    if (!c || !v) return -1;
    for (int i = 0; i < N_WORDS; i++)
        fprintf(c, "%s\t%d\t%d\t%d\n", WORDS[i], i % 3, i % 5, i % 7);
    uint32_t nv = N_WORDS - 2, wl = 0;
    for (uint32_t i = 0; i < nv; i++)
        wl += (uint32_t)strlen(WORDS[i]) + 1;
    uint32_t pad = (4 - wl % 4) % 4;
    fwrite("CSGLOVE1", 1, 8, v);
    put_u32(v, nv);
    put_u32(v, DIM);
    put_u32(v, wl + pad);
    put_u32(v, 0); /* reserved */
    for (uint32_t i = 0; i < nv; i++)
        fwrite(WORDS[i], 1, strlen(WORDS[i]) + 1, v);
    for (uint32_t i = 0; i < pad; i++)
        fputc(0, v);
    for (uint32_t i = 0; i < nv; i++)
        for (int d = 0; d < DIM; d++) {
            float x = (float)((int)(i * 7 + (uint32_t)d * 3) % 11 - 5) / 4.0f;
            uint32_t u;
            memcpy(&u, &x, 4);
            put_u32(v, u);
        }
    return fclose(c) | fclose(v);
}

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/casie_test_mbytes_XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(enc_path, sizeof enc_path, "%s/tiny.enc", tmpdir);
    snprintf(clusters_path, sizeof clusters_path, "%s/clusters.tsv", tmpdir);
    snprintf(vectors_path, sizeof vectors_path, "%s/vectors.bin", tmpdir);
    casie_error err = {0};
    if (casie_encoder_import("tests/data/encoder/tiny", enc_path, &err)) {
        fprintf(stderr, "import: %s\n", err.message);
        return -1;
    }
    return write_word_files();
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    free(digests);
    return system(cmd) == 0 ? 0 : -1;
}

static uint64_t fnv1a(const void *p, size_t n, uint64_t h) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Trains with p on the two fixture documents (dev: the same two, or none),
 * saves, and appends "name hash meta" to the digests. */
static void train_digest(const char *name, casie_train_params p, int with_dev) {
    casie_doc *docs[2] = {test_gold_doc("breach"), test_gold_doc("patch")};
    casie_error err = {0};
    casie_model *m = casie_train(docs, 2, with_dev ? docs : NULL, with_dev ? 2 : 0, &p, &err);
    if (!m) fail_msg("%s: train: %s", name, err.message);
    char path[320];
    snprintf(path, sizeof path, "%s/%s.model", tmpdir, name);
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model_free(m);
    for (int i = 0; i < 2; i++)
        casie_doc_free(docs[i]);
    casie__model_file mf;
    assert_int_equal(casie__model_file_open(path, &mf, &err), CASIE_OK);
    uint64_t h = 0xcbf29ce484222325ull;
    char *meta = NULL;
    for (int i = 0; i < mf.n_secs; i++) {
        const casie__section *s = &mf.secs[i];
        if (!strcmp(s->tag, "META")) {
            json_t *o = json_loadb(s->data, (size_t)s->size, 0, NULL);
            assert_non_null(o);
            json_object_del(o, "casie_version");
            meta = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
            json_decref(o);
            continue;
        }
        h = fnv1a(s->tag, 4, h);
        h = fnv1a(s->data, (size_t)s->size, h);
    }
    casie__model_file_close(&mf);
    assert_non_null(meta);
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %016llx %s\n", name, (unsigned long long)h, meta);
    free(meta);
    assert_true(n > 0 && (size_t)n < sizeof line);
    char *grown = realloc(digests, digests_len + (size_t)n + 1);
    assert_non_null(grown);
    digests = grown;
    memcpy(digests + digests_len, line, (size_t)n + 1);
    digests_len += (size_t)n;
}

static casie_train_params small(void) {
    casie_train_params p = casie_train_default_params();
    p.epochs = 2;
    p.hidden = 8;
    p.head = 8;
    p.corpus_tag = "golden \"breach\" and patch";
    return p;
}

static void trained_models_as_recorded(void **state) {
    (void)state;
    casie_train_params p = small(); /* two threads, dev checks and tuning */
    train_digest("dev-two-threads", p, 1);
    p = small(); /* one thread, two networks per stage, no dev */
    p.threads = 1;
    p.trig_nets = 2;
    p.arg_nets = 2;
    p.seed = 7;
    train_digest("one-thread-two-nets", p, 0);
    p = small(); /* word clusters and vectors */
    p.clusters = clusters_path;
    p.embeddings = vectors_path;
    p.emb_words = 100;
    p.epochs = 1;
    p.lr = 0.01f;
    train_digest("clusters-vectors", p, 1);
    p = small(); /* an encoder's inputs, one network per stage */
    p.encoder = enc_path;
    p.arg_nets = 1;
    p.epochs = 1;
    train_digest("encoder", p, 1);

    const char *u = getenv("CASIE_GOLDEN_UPDATE");
    if (u && !strcmp(u, "1")) {
        FILE *f = fopen(DIGESTS, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(digests, 1, digests_len, f), digests_len);
        assert_int_equal(fclose(f), 0);
        print_message("recorded %s\n", DIGESTS);
        return;
    }
    FILE *f = fopen(DIGESTS, "rb");
    if (!f) fail_msg("no recorded %s", DIGESTS);
    char want[8192];
    size_t n = fread(want, 1, sizeof want - 1, f);
    fclose(f);
    want[n] = 0;
    if (strcmp(want, digests))
        fail_msg("trained models differ from %s:\nrecorded:\n%snow:\n%s", DIGESTS, want, digests);
}

/* The committed models load and save as the same bytes: the file format
 * is the same on the way in and the way out. */
static void resave_identical(const char *model) {
    casie_error err = {0};
    if (access(model, R_OK) != 0) skip();
    casie_model *m = casie_model_load(model, &err);
    if (!m && err.code == CASIE_ERR_ENCODER) {
        print_message("%s: no encoder installed: %s\n", model, err.message);
        skip();
    }
    if (!m) fail_msg("%s: %s", model, err.message);
    char path[320], cmd[1024];
    snprintf(path, sizeof path, "%s/resaved.model", tmpdir);
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model_free(m);
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", model, path);
    assert_int_equal(system(cmd), 0);
}

static void fast_model_resaves_identical(void **state) {
    (void)state;
    resave_identical("models/casie-fast.model");
}

static void accurate_model_resaves_identical(void **state) {
    (void)state;
    resave_identical("models/casie-accurate.model");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trained_models_as_recorded),
        cmocka_unit_test(fast_model_resaves_identical),
        cmocka_unit_test(accurate_model_resaves_identical),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
