/*
 * test_model.c - training, saving, loading and extracting: a small model
 * trained on a few dozen documents gives identical predictions after a save
 * and load; training is deterministic (test_figures holds the committed models to their
 * dev figures); a loaded model's
 * extraction scratch, kept between documents, leaves no trace in the next.
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/coref_feats.h"
#include "../src/feats.h"
#include "../src/tagging.h"
#include "../src/model.h"
#include "../src/model_file.h"
#include "../src/train_params.h"

#include <math.h>
#include <pthread.h>

static char tmpdir[64];

static char *doc_json(casie_doc *d) {
    casie_error err = {0};
    char *js = casie_doc_to_json(d, CASIE_JSON_SCORES | CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    return js;
}

/* Extracts every document of c with m (from the text, or given its gold
 * triggers); returns the concatenated JSON. */
static char *predict_mode(const casie_model *m, const casie_corpus *c, int given) {
    size_t cap = 1 << 20, n = 0;
    char *all = malloc(cap);
    assert_non_null(all);
    all[0] = 0;
    for (int i = 0; i < c->n_docs; i++) {
        casie_error err = {0};
        casie_doc *d;
        casie_extract_params xp = casie_extract_default_params();
        if (given) {
            char *g = doc_json(c->docs[i]);
            d = casie_doc_from_json(g, strlen(g), c->docs[i]->id, &err);
            casie_free(g);
            xp.given_triggers = 1;
        } else {
            d = casie_doc_from_text(c->docs[i]->text, c->docs[i]->text_len, c->docs[i]->id, &err);
        }
        assert_non_null(d);
        assert_int_equal(casie_extract(m, d, &xp, &err), CASIE_OK);
        char *js = doc_json(d);
        size_t k = strlen(js);
        while (n + k + 2 > cap)
            assert_non_null(all = realloc(all, cap *= 2));
        memcpy(all + n, js, k + 1);
        n += k;
        casie_free(js);
        casie_doc_free(d);
    }
    return all;
}

static char *predict_all(const casie_model *m, const casie_corpus *c) { return predict_mode(m, c, 0); }

/* Rewrites the model file at `from` into `to` with its TUNE section replaced
 * by `size` bytes of `tune` (checksums valid), and loads that. */
static casie_model *load_with_tune(const char *from, const char *to, const unsigned char *tune, size_t size,
                                   casie_error *err) {
    casie__model_file mf;
    assert_int_equal(casie__model_file_open(from, &mf, err), CASIE_OK);
    for (int i = 0; i < mf.n_secs; i++)
        if (!strcmp(mf.secs[i].tag, "TUNE")) mf.secs[i].data = tune, mf.secs[i].size = size;
    assert_int_equal(casie__model_file_write(to, mf.secs, mf.n_secs, err), CASIE_OK);
    casie__model_file_close(&mf);
    return casie_model_load(to, err);
}

static void small_model_round_trip(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    casie_corpus *tr = test_split(corpus, "train", 40), *dv = test_split(corpus, "dev", 10);
    assert_non_null(tr);
    assert_non_null(dv);
    casie_train_params p = casie_train_default_params();
    p.epochs = 3;
    p.threads = 2;
    casie_error err = {0};
    casie_model *m = casie_train(tr->docs, tr->n_docs, NULL, 0, &p, &err);
    assert_non_null(m);
    char path[128], path2[128];
    snprintf(path, sizeof path, "%s/a.model", tmpdir);
    snprintf(path2, sizeof path2, "%s/b.model", tmpdir);
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model *l = casie_model_load(path, &err);
    assert_non_null(l);
    char *a = predict_all(m, dv), *b = predict_all(l, dv);
    assert_string_equal(a, b);
    assert_true(strstr(a, "\"nugget\"") != NULL); /* it found something */
    /* same seed, same data, same bytes */
    casie_model *m2 = casie_train(tr->docs, tr->n_docs, NULL, 0, &p, &err);
    assert_non_null(m2);
    assert_int_equal(casie_model_save(m2, path2, &err), CASIE_OK);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", path, path2);
    assert_int_equal(system(cmd), 0);
    /* the coreference offsets travel with the model */
    m->coref_bias = 3.5f, m->coref_generic = 4.5f;
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model *l2 = casie_model_load(path, &err);
    assert_non_null(l2);
    assert_true(l2->coref_bias == 3.5f && l2->coref_generic == 4.5f);
    casie_model_free(l2);
    /* TUNE is 64 bytes ending in zeros: the 32 of feature version 2 files, or
     * a reserved byte set, is refused; the same bytes rewritten load */
    {
        unsigned char tune[64];
        casie__model_file mf;
        assert_int_equal(casie__model_file_open(path, &mf, &err), CASIE_OK);
        const casie__section *ts = casie__model_file_find(&mf, "TUNE");
        assert_true(ts && ts->size == 64);
        memcpy(tune, ts->data, 64);
        casie__model_file_close(&mf);
        assert_null(load_with_tune(path, path2, tune, 32, &err));
        assert_non_null(strstr(err.message, "bad TUNE section"));
        tune[40] = 1;
        assert_null(load_with_tune(path, path2, tune, 64, &err));
        assert_non_null(strstr(err.message, "nonzero reserved bytes"));
        tune[40] = 0;
        assert_non_null(l2 = load_with_tune(path, path2, tune, 64, &err));
        assert_true(l2->coref_generic == 4.5f);
        casie_model_free(l2);
    }
    /* a non-finite weight under valid checksums is refused, sparse or neural */
    casie_model_free(l);
    m->trig.w[5] = NAN;
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    assert_null(l = casie_model_load(path, &err));
    assert_non_null(strstr(err.message, "non-finite weight in a linear section"));
    m->trig.w[5] = 0;
    m->arg_nn.own[3] = INFINITY;
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    assert_null(l = casie_model_load(path, &err));
    assert_non_null(strstr(err.message, "non-finite neural tagger weight"));
    m->arg_nn.own[3] = 0;
    assert_non_null(m->arg_nn2.p); /* two argument networks by default */
    m->arg_nn2.own[7] = NAN;
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    assert_null(l = casie_model_load(path, &err));
    assert_non_null(strstr(err.message, "non-finite neural tagger weight"));
    m->arg_nn2.own[7] = 0;
    assert_null(m->trig_nn2.p); /* one trigger network by default */

    free(a);
    free(b);
    casie_model_free(m);
    casie_model_free(m2);
    casie_model_free(l);
    casie_corpus_free(tr);
    casie_corpus_free(dv);
}

/* With one network per stage the file has no NAR2 or NTR2 section, loads,
 * and predicts as the model in memory does; each second network changes the
 * predictions of its stage. */
static void one_network_each(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    casie_corpus *tr = test_split(corpus, "train", 30), *dv = test_split(corpus, "dev", 8);
    assert_non_null(tr);
    assert_non_null(dv);
    casie_train_params p = casie_train_default_params();
    p.epochs = 2;
    p.arg_nets = 1;
    p.trig_nets = 1;
    casie_error err = {0};
    casie_model *m = casie_train(tr->docs, tr->n_docs, NULL, 0, &p, &err);
    assert_non_null(m);
    assert_null(m->arg_nn2.p);
    assert_null(m->trig_nn2.p);
    char path[128];
    snprintf(path, sizeof path, "%s/one.model", tmpdir);
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model *l = casie_model_load(path, &err);
    assert_non_null(l);
    assert_null(l->arg_nn2.p);
    assert_null(l->trig_nn2.p);
    char *a = predict_mode(m, dv, 1), *b = predict_mode(l, dv, 1);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"argument\""));
    char *t1 = predict_mode(m, dv, 0), *t1l = predict_mode(l, dv, 0);
    assert_string_equal(t1, t1l);
    p.arg_nets = 2;
    casie_model *m2 = casie_train(tr->docs, tr->n_docs, NULL, 0, &p, &err);
    assert_non_null(m2);
    assert_null(m2->trig_nn2.p);
    char *c = predict_mode(m2, dv, 1);
    assert_string_not_equal(a, c); /* the argument scores at least */
    p.arg_nets = 1;
    p.trig_nets = 2;
    casie_model *m3 = casie_train(tr->docs, tr->n_docs, NULL, 0, &p, &err);
    assert_non_null(m3);
    assert_null(m3->arg_nn2.p);
    assert_non_null(m3->trig_nn2.p);
    char *a3 = predict_mode(m3, dv, 1), *t3 = predict_mode(m3, dv, 0);
    assert_string_equal(a3, a); /* given triggers: the same */
    snprintf(path, sizeof path, "%s/two-triggers.model", tmpdir);
    assert_int_equal(casie_model_save(m3, path, &err), CASIE_OK);
    casie_model *l3 = casie_model_load(path, &err);
    assert_non_null(l3);
    assert_non_null(l3->trig_nn2.p);
    char *t3l = predict_mode(l3, dv, 0);
    assert_string_equal(t3, t3l);
    free(t3l);
    casie_model_free(l3);
    m3->trig_nn2.own[11] = -INFINITY; /* a non-finite NTR2 weight is refused */
    assert_int_equal(casie_model_save(m3, path, &err), CASIE_OK);
    assert_null(l3 = casie_model_load(path, &err));
    assert_non_null(strstr(err.message, "non-finite neural tagger weight"));
    assert_string_not_equal(t1, t3); /* the trigger scores at least */
    free(a);
    free(b);
    free(c);
    free(t1);
    free(t1l);
    free(t3);
    free(a3);
    casie_model_free(m);
    casie_model_free(m2);
    casie_model_free(m3);
    casie_model_free(l);
    casie_corpus_free(tr);
    casie_corpus_free(dv);
}

static void bad_params_refused(void **state) {
    (void)state;
    casie_error err = {0};
    casie_train_params p = casie_train_default_params();
    assert_null(casie_train(NULL, 0, NULL, 0, &p, &err));
    assert_int_equal(err.code, CASIE_ERR_EMPTY);
    casie_doc *d = casie_doc_from_text("x", 1, "x", &err);
    p.threads = 0;
    assert_null(casie_train(&d, 1, NULL, 0, &p, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    p.threads = 1;
    p.arg_nets = 3;
    assert_null(casie_train(&d, 1, NULL, 0, &p, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    p.arg_nets = 0;
    p.trig_nets = -1;
    assert_null(casie_train(&d, 1, NULL, 0, &p, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    casie_doc_free(d);
    assert_null(casie_model_load("/nonexistent/model", &err));
    assert_int_equal(err.code, CASIE_ERR_IO);
}

/* The defaults are the table's, and the one place they are set: every
 * parameter is in range as it comes, the setter checks the same ranges,
 * and a dropout of 0 means none. */
static void params_table(void **state) {
    (void)state;
    casie_error err = {0};
    casie_train_params p = casie_train_default_params();
    assert_int_equal(casie__train_params_check(&p, &err), CASIE_OK);
    assert_true(p.seed == 1 && p.threads == 2 && p.epochs == 0 && p.emb_words == 50000 && p.hidden == 64 &&
                p.head == 64 && p.lr == 0.001f && p.dropout == 0.25f && p.arg_nets == 2 && p.trig_nets == 1);
    assert_null(p.encoder);
    assert_true(p.enc_first == 0 && p.enc_last == 0);
    assert_true(p.feature_version == CASIE_FEATURE_VERSION && !p.recipe && !p.commit);
    /* each learner's own numbers, as they were before they were parameters */
    assert_true(p.trig_epochs == 12 && p.arg_epochs == 10 && p.ent_realis_epochs == 8 && p.coref_epochs == 6 &&
                p.trig_nn_epochs == 17 && p.arg_nn_epochs == 24 && p.nn_average_from == 2 && p.cat_epochs == 12 &&
                p.cat_lr == 0.05f && p.cat_l2 == 0.0f && p.cat_row_bits == 14);
    int n = 0;
    for (const casie_train_option *o; (o = casie_train_option_at(n)); n++)
        assert_non_null(o->help);
    assert_int_equal(n, 27);
    assert_null(casie_train_option_at(-1));
    assert_int_equal(casie_train_param_set(&p, "dropout", "0", &err), CASIE_OK);
    assert_true(p.dropout == 0.0f);
    assert_int_equal(casie__train_params_check(&p, &err), CASIE_OK);
    assert_int_equal(casie_train_param_set(&p, "dropout", "-0.1", &err), CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "dropout must be in [0, 0.9), not -0.1");
    assert_int_equal(casie_train_param_set(&p, "lr", "0", &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie_train_param_set(&p, "hidden", "513", &err), CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "hidden must be 1..512, not 513");
    assert_int_equal(casie_train_param_set(&p, "threads", "two", &err), CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "threads takes a non-negative integer, not 'two'");
    assert_int_equal(casie_train_param_set(&p, "bogus", "1", &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie_train_param_set(&p, "seed", "18446744073709551615", &err), CASIE_OK);
    assert_true(p.seed == UINT64_MAX);
    assert_int_equal(casie_train_param_set(&p, "encoder", "x.enc", &err), CASIE_OK);
    assert_string_equal(p.encoder, "x.enc");
    assert_int_equal(casie_train_param_set(&p, "feature_version", "2", &err), CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "feature_version must be 3..6, not 2");
    assert_int_equal(casie_train_param_set(&p, "recipe", "scripts/train_fast.sh", &err), CASIE_OK);
    assert_string_equal(p.recipe, "scripts/train_fast.sh");
    assert_int_equal(casie_train_param_set(&p, "cat_lr", "0", &err), CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "cat_lr must be in (0, 10], not 0");
    assert_int_equal(casie_train_param_set(&p, "cat_row_bits", "23", &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie_train_param_set(&p, "trig_nn_epochs", "5", &err), CASIE_OK);
    assert_int_equal(p.trig_nn_epochs, 5);
    p.head = 0; /* 0 is no longer "the default": refused like any other value out of range */
    assert_int_equal(casie__train_params_check(&p, &err), CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "head must be 1..512, not 0");
    p = casie_train_default_params(); /* a zeroed epoch count is refused, not trained for no pass */
    p.coref_epochs = 0;
    assert_int_equal(casie__train_params_check(&p, &err), CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "coref_epochs must be 1..1000, not 0");
    p = casie_train_default_params(); /* adding categories checks them too, before reading the model */
    p.cat_row_bits = 30;
    casie_doc *none = NULL;
    assert_int_equal(casie_model_add_categories("/nonexistent/in", "/nonexistent/out", &none, 0, NULL, 0, &p, &err),
                     CASIE_ERR_INVALID_ARG);
    assert_string_equal(err.message, "cat_row_bits must be 8..22, not 30");
}

/* The log lines of a training run, one after the other. */
typedef struct log_text {
    char buf[1 << 16];
    size_t n;
} log_text;

static void log_append(void *user, const char *msg) {
    log_text *l = user;
    int k = snprintf(l->buf + l->n, sizeof l->buf - l->n, "%s\n", msg);
    if (k > 0 && l->n + (size_t)k < sizeof l->buf) l->n += (size_t)k;
}

/* Each learner trains for its own epochs parameter when epochs is 0 (and for
 * epochs otherwise), and the metadata names those not at their default. */
static void learners_own_epochs(void **state) {
    (void)state;
    casie_doc *docs[2] = {test_gold_doc("breach"), test_gold_doc("patch")};
    static log_text lt;
    casie_train_params p = casie_train_default_params();
    p.hidden = p.head = 8;
    p.threads = 1;
    p.trig_epochs = 3, p.arg_epochs = 2, p.ent_realis_epochs = 4, p.coref_epochs = 5;
    p.trig_nn_epochs = 2, p.arg_nn_epochs = 3, p.cat_epochs = 7, p.cat_lr = 0.03f;
    p.log = log_append, p.log_user = &lt;
    casie_error err = {0};
    casie_model *m = casie_train(docs, 2, NULL, 0, &p, &err);
    assert_non_null(m);
    const char *want[] = {"triggers: epoch 3/3,",           "arguments: epoch 2/2,",
                          "realis (sparse): epoch 4/4,",    "coreference: epoch 5/5,",
                          "triggers (network): epoch 2/2,", "arguments (network): epoch 3/3,"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(lt.buf, want[i])) fail_msg("no \"%s\" in the log:\n%s", want[i], lt.buf);
    assert_null(strstr(lt.buf, "triggers: epoch 4/"));
    char *meta = casie_model_metadata(m);
    assert_non_null(meta);
    const char *named[] = {"\"trig_epochs\":3,",  "\"arg_epochs\":2,",     "\"ent_realis_epochs\":4,",
                           "\"coref_epochs\":5,", "\"trig_nn_epochs\":2,", "\"arg_nn_epochs\":3,",
                           "\"cat_epochs\":7,",   "\"cat_lr\":0.03,"};
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (!strstr(meta, named[i])) fail_msg("no %s in the metadata: %s", named[i], meta);
    assert_null(strstr(meta, "cat_l2")); /* at its default */
    assert_null(strstr(meta, "nn_average_from"));
    casie_free(meta);
    casie_model_free(m);
    lt.n = 0, lt.buf[0] = 0;
    p.epochs = 1; /* every learner's */
    assert_non_null(m = casie_train(docs, 2, NULL, 0, &p, &err));
    assert_non_null(strstr(lt.buf, "triggers: epoch 1/1,"));
    assert_non_null(strstr(lt.buf, "arguments (network): epoch 1/1,"));
    assert_null(strstr(lt.buf, "epoch 2/"));
    casie_model_free(m);
    for (int i = 0; i < 2; i++)
        casie_doc_free(docs[i]);
}

/* A failure while training keeps its code and message: here a dev document
 * whose event has no valid realis cannot be copied for scoring given the
 * triggers (this was reported as "out of memory while training"). */
static void training_errors_keep_their_message(void **state) {
    (void)state;
    casie_doc *docs[2] = {test_gold_doc("breach"), test_gold_doc("patch")};
    casie_doc *bad = test_gold_doc("patch");
    bad->hoppers[0].events[0].realis = 7;
    casie_train_params p = casie_train_default_params();
    p.epochs = 1;
    p.hidden = 8;
    p.head = 8;
    p.threads = 2;
    casie_error err = {0};
    assert_null(casie_train(docs, 2, &bad, 1, &p, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "event with subtype"));
    assert_non_null(strstr(err.message, "realis 7"));
    p.threads = 1;
    memset(&err, 0, sizeof err);
    assert_null(casie_train(docs, 2, &bad, 1, &p, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "realis 7"));
    casie_doc_free(bad);
    for (int i = 0; i < 2; i++)
        casie_doc_free(docs[i]);
}

/* A loaded model keeps the scratch of finished extractions for the next
 * ones (extract.c's pool): documents of very different sizes, extracted in
 * turn from two threads sharing one model, each give what a freshly loaded
 * model gives them alone. */
typedef struct {
    const casie_model *m;
    const char *const *text;
    char **want;
    int n, rounds, bad;
} pool_job;

static char *extract_text(const casie_model *m, const char *text) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, strlen(text), "doc", &err);
    if (!d || casie_extract(m, d, NULL, &err) != CASIE_OK) {
        casie_doc_free(d);
        return NULL;
    }
    char *js = casie_doc_to_json(d, CASIE_JSON_SCORES | CASIE_JSON_COMPACT, NULL, &err);
    casie_doc_free(d);
    return js;
}

static void *pool_worker(void *arg) {
    pool_job *j = arg;
    for (int r = 0; r < j->rounds; r++)
        for (int i = 0; i < j->n; i++) {
            int k = (i + r) % j->n; /* each thread its own order of sizes */
            char *got = extract_text(j->m, j->text[k]);
            if (!got || strcmp(got, j->want[k]) != 0) j->bad++;
            casie_free(got);
        }
    return NULL;
}

static void pooled_scratch_between_documents(void **state) {
    (void)state;
    const char *path = "models/casie-fast.model";
    if (access(path, R_OK) != 0) skip();
    /* a long article (the sample five times, one sentence run on), two
     * short ones with events, the second shorter, and an empty one */
    FILE *f = fopen("examples/sample-article.txt", "rb");
    assert_non_null(f);
    char sample[16384];
    size_t len = fread(sample, 1, sizeof sample - 1, f);
    fclose(f);
    sample[len] = 0;
    char *lng = malloc(5 * len + 1);
    assert_non_null(lng);
    lng[0] = 0;
    for (int k = 0; k < 5; k++)
        strcat(lng, sample);
    for (char *c = lng; *c; c++)
        if (*c == '.' || *c == '\n') *c = ',';
    const char *text[4] = {lng, "Hackers stole the records of 2,000 patients from the clinic last week.",
                           "A ransomware attack hit the city.", ""};
    char *want[4];
    for (int i = 0; i < 4; i++) { /* each alone on a model of its own */
        casie_error err = {0};
        casie_model *fresh = casie_model_load(path, &err);
        assert_non_null(fresh);
        assert_non_null(want[i] = extract_text(fresh, text[i]));
        casie_model_free(fresh);
    }
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(want[i], "\"nugget\""));
    casie_error err = {0};
    casie_model *m = casie_model_load(path, &err);
    assert_non_null(m);
    pool_job jobs[2] = {{m, text, want, 4, 3, 0}, {m, text, want, 4, 3, 0}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pool_worker, &jobs[1]), 0);
    pool_worker(&jobs[0]);
    pthread_join(th, NULL);
    assert_int_equal(jobs[0].bad + jobs[1].bad, 0);
    for (int i = 0; i < 4; i++)
        casie_free(want[i]);
    free(lng);
    casie_model_free(m);
}

/* ---- coreference features ---- */

/* An event of subtype Ransom on the n-th (0-based) "paid" of text, with one
 * Victim argument on the first occurrence of `victim` after `from`. */
static casie_event ransom_event(const char *text, int n, const char *victim, const char *from, casie_arg *arg) {
    const char *t = text;
    for (int k = 0; k <= n; k++)
        t = strstr(k ? t + 1 : t, "paid");
    const char *v = strstr(strstr(text, from), victim);
    assert_non_null(t);
    assert_non_null(v);
    *arg = (casie_arg){.start = (int32_t)(v - text),
                       .end = (int32_t)(v - text + (long)strlen(victim)),
                       .text = (char *)victim,
                       .role = casie_role_from_name("Victim")};
    return (casie_event){.subtype = casie_subtype_from_name("Ransom"),
                         .realis = CASIE_REALIS_ACTUAL,
                         .start = (int32_t)(t - text),
                         .end = (int32_t)(t - text + 4),
                         .args = arg,
                         .n_args = 1};
}

static int cmp_u64(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* text as an analysed document (*d) and its token features, no clusters. */
static casie__tokfeat *pair_doc(const char *text, casie_doc **d) {
    casie_error err = {0};
    *d = casie_doc_from_text(text, strlen(text), "pair", &err);
    assert_non_null(*d);
    assert_int_equal(casie_doc_analyze(*d, &err), CASIE_OK);
    casie__clusters none = {0};
    casie__tokfeat *tf = casie__doc_tokfeats(*d, &none);
    assert_non_null(tf);
    return tf;
}

/* The sorted coreference features of the first two "paid" events of text,
 * the first with victim va, the second with victim vb (found after `from`). */
static int pair_feats(const char *text, const char *va, const char *vb, const char *from, uint64_t *f) {
    casie_doc *d;
    casie__tokfeat *tf = pair_doc(text, &d);
    casie_arg x, y;
    casie_event a = ransom_event(text, 0, va, text, &x), b = ransom_event(text, 1, vb, from, &y);
    int n = casie__coref_feats(d, tf, NULL, &a, &b, f);
    assert_true(n > 0 && n <= CASIE_COREF_FEATS);
    qsort(f, (size_t)n, sizeof *f, cmp_u64);
    free(tf);
    casie_doc_free(d);
    return n;
}

static int same_feats(const uint64_t *a, int na, const uint64_t *b, int nb) {
    return na == nb && !memcmp(a, b, sizeof *a * (size_t)na);
}

/* A pair of events is described by whether their victims' head words agree
 * (not only whether the whole texts do), and by how the later event's
 * sentence opens. */
static void coref_sees_heads_and_openings(void **state) {
    (void)state;
    uint64_t f1[CASIE_COREF_FEATS], f2[CASIE_COREF_FEATS], f3[CASIE_COREF_FEATS];
    const char *text = "Hancock Health paid a ransom. For example, Kansas Heart Hospital paid a ransom to the Kansas "
                       "Health group and Mercy Hospital Center.";
    /* three victims whose texts all differ from the first's: one shares its
     * head word ("Health"), two do not; all are names */
    int n1 = pair_feats(text, "Hancock Health", "Kansas Health", "For", f1);
    int n2 = pair_feats(text, "Hancock Health", "Kansas Heart Hospital", "For", f2);
    int n3 = pair_feats(text, "Hancock Health", "Mercy Hospital Center", "For", f3);
    assert_false(same_feats(f1, n1, f2, n2));
    assert_true(same_feats(f2, n2, f3, n3));
    /* the same two events after another opening of the second sentence */
    const char *text2 = "Hancock Health paid a ransom. In fact, Kansas Heart Hospital paid a ransom to the Kansas "
                        "Health group and Mercy Hospital Center.";
    n3 = pair_feats(text2, "Hancock Health", "Kansas Heart Hospital", "In", f3);
    assert_false(same_feats(f2, n2, f3, n3));
    /* and after the same opening, the same features */
    const char *text3 = "Hancock Health paid a ransom. For example, Kansas Heart Hospital paid a ransom to the Kansas "
                        "Health group and Mercy Hospital Center, it said.";
    n3 = pair_feats(text3, "Hancock Health", "Kansas Heart Hospital", "For", f3);
    assert_true(same_feats(f2, n2, f3, n3));
}

/* A coreference model over an encoder (feature version 5) also reads how
 * alike the encoder's vectors find the two triggers, their sentences and
 * the two victims' heads; a model of version 4, or one without an encoder,
 * does not. */
static void coref_reads_encoder_vectors(void **state) {
    (void)state;
    const char *text = "Hancock Health paid a ransom. Later Kansas Heart Hospital paid a ransom too.";
    casie_doc *d;
    casie__tokfeat *tf = pair_doc(text, &d);
    casie_arg x, y;
    casie_event a = ransom_event(text, 0, "Hancock Health", text, &x),
                b = ransom_event(text, 1, "Kansas Heart Hospital", "Later", &y);
    enum { XD = 4 };
    float *xv = calloc((size_t)d->n_tokens * XD, sizeof(float));
    assert_non_null(xv);
    for (int t = 0; t < d->n_tokens; t++) /* every token alike */
        xv[t * XD] = 1, xv[t * XD + 1] = 0.1f * (float)t;
    uint64_t f0[CASIE_COREF_FEATS], f1[CASIE_COREF_FEATS], f2[CASIE_COREF_FEATS];
    casie__coref_vecs none_cv, cv;
    assert_int_equal(casie__coref_vecs_init(&none_cv, d, NULL, XD), CASIE_OK);
    int n0 = casie__coref_feats(d, tf, &none_cv, &a, &b, f0);
    assert_int_equal(casie__coref_feats(d, tf, NULL, &a, &b, f2), n0);
    assert_int_equal(casie__coref_vecs_init(&cv, d, xv, XD), CASIE_OK);
    int n1 = casie__coref_feats(d, tf, &cv, &a, &b, f1);
    /* the triggers (three), the sentences and the victims' heads */
    assert_int_equal(n1, n0 + 5);
    /* the second trigger's vector turned away: other similarity features */
    int tb, te;
    assert_true(casie__span_tokens(d, b.start, b.end, &tb, &te));
    xv[tb * XD] = -1;
    int n2 = casie__coref_feats(d, tf, &cv, &a, &b, f2);
    assert_int_equal(n2, n1);
    int differ = 0;
    for (int i = 0; i < n1; i++)
        differ += f1[i] != f2[i];
    assert_int_equal(differ, 3); /* the three trigger features */
    casie__coref_vecs_free(&cv);
    /* which models read them */
    casie_model *m = NULL;
    assert_int_equal(casie__model_alloc(&m, 0), CASIE_OK);
    assert_int_equal(m->coref.fv, CASIE_FEATURE_VERSION);
    assert_null(casie__coref_xv(m, xv)); /* no encoder */
    m->xdim = XD;
    assert_ptr_equal(casie__coref_xv(m, xv), xv);
    m->coref.fv = 4;
    assert_null(casie__coref_xv(m, xv)); /* trained before version 5 */
    m->xdim = 0;
    casie_model_free(m);
    free(xv);
    free(tf);
    casie_doc_free(d);
}

/* A model's metadata is handed out as JSON (casie serve's /v1/labels): a
 * crafted META that is not one JSON object is refused when loading. */
static void crafted_metadata_refused(void **state) {
    (void)state;
    if (access("models/casie-fast.model", R_OK) != 0) skip();
    static const struct {
        const char *meta;
        size_t len;
        int ok;
    } M[] = {
        {"{\"corpus\":\"a\"b\"}", 16, 0},   {"[1,2]", 5, 0}, {"{\"a\":1} {}", 10, 0},
        {"{\"a\":1}\0junk", 12, 0},         {"", 0, 0},      {"{\"a\":\"\\u0000\"}", 13, 0},
        {"{\"corpus\":\"a\\\"b\"}", 17, 1}, {" {} ", 4, 1},
    };
    char path[128];
    snprintf(path, sizeof path, "%s/meta.model", tmpdir);
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++) {
        casie_error err = {0};
        casie__model_file mf;
        assert_int_equal(casie__model_file_open("models/casie-fast.model", &mf, &err), CASIE_OK);
        for (int k = 0; k < mf.n_secs; k++)
            if (!strcmp(mf.secs[k].tag, "META")) mf.secs[k].data = M[i].meta, mf.secs[k].size = M[i].len;
        assert_int_equal(casie__model_file_write(path, mf.secs, mf.n_secs, &err), CASIE_OK);
        casie__model_file_close(&mf);
        casie_model *m = casie_model_load(path, &err);
        if (!M[i].ok) {
            if (m) fail_msg("META %zu loaded", i);
            assert_int_equal(err.code, CASIE_ERR_MODEL_CORRUPT);
            assert_non_null(strstr(err.message, "META is not a JSON object"));
            continue;
        }
        if (!m) fail_msg("META %zu: %s", i, err.message);
        char *meta = casie_model_metadata(m);
        assert_non_null(meta);
        assert_memory_equal(meta, M[i].meta, M[i].len);
        casie_free(meta);
        casie_model_free(m);
    }
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/casie-test-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_params_refused),
        cmocka_unit_test(params_table),
        cmocka_unit_test(learners_own_epochs),
        cmocka_unit_test(training_errors_keep_their_message),
        cmocka_unit_test(small_model_round_trip),
        cmocka_unit_test(one_network_each),
        cmocka_unit_test(pooled_scratch_between_documents),
        cmocka_unit_test(coref_sees_heads_and_openings),
        cmocka_unit_test(coref_reads_encoder_vectors),
        cmocka_unit_test(crafted_metadata_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) rc |= 0;
    return rc;
}
