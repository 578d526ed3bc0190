/*
 * test_category.c - argument categories (a Purpose's subtype, a CAPEC meta
 * attack pattern): the name tables; a round trip of both fields through the
 * reader and the writer; exact eval counts on hand-made documents; the STIX
 * bundle's external reference and objective; a classifier trained on a few
 * corpus documents and added to a tiny model, which then predicts a
 * category for every argument of those roles while the rest of the file
 * and the events stay the same; a model without one predicts none; a
 * corrupt CATG section is refused.
 */
#include "test_common.h"
#include "tiny_model.h"
#include "../src/category.h"
#include "../src/feats.h"
#include "../src/model.h"
#include "../src/model_file.h"

#include <math.h>

static char tmpdir[64];

/* ---- names ---- */

static void names(void **state) {
    (void)state;
    assert_int_equal(casie_role_category(casie_role_from_name("Purpose")), CASIE_CAT_PURPOSE);
    assert_int_equal(casie_role_category(casie_role_from_name("Capabilities")), CASIE_CAT_CAPEC);
    assert_int_equal(casie_role_category(casie_role_from_name("Attack-Pattern")), CASIE_CAT_CAPEC);
    assert_int_equal(casie_role_category(casie_role_from_name("Issues-Addressed")), CASIE_CAT_CAPEC);
    assert_int_equal(casie_role_category(casie_role_from_name("Victim")), CASIE_CAT_NONE);
    assert_int_equal(casie_role_category(-1), CASIE_CAT_NONE);
    assert_int_equal(casie_category_count(CASIE_CAT_PURPOSE), 7);
    assert_int_equal(casie_category_count(CASIE_CAT_CAPEC), 45);
    assert_int_equal(casie_category_count(CASIE_CAT_NONE), 0);
    assert_string_equal(casie_category_name(CASIE_CAT_PURPOSE, 2), "Monetary");
    assert_null(casie_category_name(CASIE_CAT_PURPOSE, 7));
    assert_null(casie_category_name(CASIE_CAT_NONE, 0));
    assert_int_equal(casie_category_from_name(CASIE_CAT_CAPEC, "Flooding"), 0);
    assert_int_equal(casie_category_from_name(CASIE_CAT_CAPEC, "Monetary"), -1);
    assert_int_equal(casie_category_from_name(CASIE_CAT_PURPOSE, NULL), -1);
    for (int k = CASIE_CAT_PURPOSE; k <= CASIE_CAT_CAPEC; k++)
        for (int i = 0; i < casie_category_count(k); i++)
            assert_int_equal(casie_category_from_name(k, casie_category_name(k, i)), i);
}

/* ---- reading and writing ---- */

static const char DOC[] =
    "{\"content\": \"Hackers stole cards to sell them by flooding servers.\", \"sourcefile\": \"7.txt\","
    " \"cyberevent\": {\"hopper\": [{\"events\": [{\"type\": \"Attack\", \"subtype\": \"Databreach\","
    " \"realis\": \"Actual\", \"nugget\": {\"startOffset\": 8, \"endOffset\": 13, \"text\": \"stole\"},"
    " \"argument\": ["
    "{\"startOffset\": 20, \"endOffset\": 33, \"text\": \"to sell them \", \"type\": \"Purpose\","
    " \"role\": {\"type\": \"Purpose\", \"subtype\": \"Selling\", \"confidence\": 0.910096138715744}},"
    "{\"startOffset\": 36, \"endOffset\": 52, \"text\": \"flooding servers\", \"type\": \"Capabilities\","
    " \"role\": {\"type\": \"Attack-Pattern\", \"CAPEC-Meta\": \"Flooding\", \"confidence\": 0.5, \"note\": 3}},"
    "{\"startOffset\": 14, \"endOffset\": 19, \"text\": \"cards\", \"type\": \"Purpose\","
    " \"role\": {\"type\": \"Purpose\", \"subtype\": \"other\", \"confidence\": 0.25}},"
    "{\"startOffset\": 0, \"endOffset\": 7, \"text\": \"Hackers\", \"type\": \"Person\","
    " \"role\": {\"type\": \"Attacker\", \"subtype\": \"Monetary\"}}"
    "]}]}]}}";

static void check_doc(const casie_doc *d) {
    assert_int_equal(d->n_hoppers, 1);
    const casie_event *e = &d->hoppers[0].events[0];
    assert_int_equal(e->n_args, 4);
    assert_string_equal(e->args[0].category, "Selling");
    assert_true(e->args[0].category_score == 0.910096138715744);
    assert_null(e->args[0].role_extra);
    assert_string_equal(e->args[1].category, "Flooding");
    assert_true(e->args[1].category_score == 0.5);
    assert_non_null(strstr(e->args[1].role_extra, "\"note\""));
    assert_null(strstr(e->args[1].role_extra, "CAPEC"));
    /* a name not in the table, and a category on a role that has none, stay unknown fields */
    assert_null(e->args[2].category);
    assert_non_null(strstr(e->args[2].role_extra, "\"other\""));
    assert_non_null(strstr(e->args[2].role_extra, "\"confidence\""));
    assert_null(e->args[3].category);
    assert_non_null(strstr(e->args[3].role_extra, "\"Monetary\""));
}

static void round_trip(void **state) {
    (void)state;
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(DOC, sizeof DOC - 1, "doc", &err);
    assert_non_null(d);
    check_doc(d);
    char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    assert_non_null(
        strstr(js, "\"role\":{\"type\":\"Purpose\",\"subtype\":\"Selling\",\"confidence\":0.910096138715744}"));
    assert_non_null(
        strstr(js, "\"role\":{\"type\":\"Attack-Pattern\",\"CAPEC-Meta\":\"Flooding\",\"confidence\":0.5,\"note\":3}"));
    assert_non_null(strstr(js, "\"role\":{\"type\":\"Purpose\",\"subtype\":\"other\",\"confidence\":0.25}"));
    casie_doc *d2 = casie_doc_from_json(js, strlen(js), "again", &err);
    assert_non_null(d2);
    check_doc(d2);
    char *js2 = casie_doc_to_json(d2, CASIE_JSON_COMPACT, NULL, &err);
    assert_string_equal(js, js2);
    /* a category set by hand, without a confidence, is written without one;
     * on a role without categories it is not written at all */
    casie_event *e = &d2->hoppers[0].events[0];
    e->args[0].category = casie_category_name(CASIE_CAT_PURPOSE, 2);
    e->args[0].category_score = -1;
    e->args[3].category = casie_category_name(CASIE_CAT_PURPOSE, 2);
    e->args[3].category_score = 0.5;
    free(e->args[3].role_extra);
    e->args[3].role_extra = NULL;
    char *js3 = casie_doc_to_json(d2, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(strstr(js3, "\"role\":{\"type\":\"Purpose\",\"subtype\":\"Monetary\"}"));
    assert_non_null(strstr(js3, "\"role\":{\"type\":\"Attacker\"}"));
    casie_free(js);
    casie_free(js2);
    casie_free(js3);
    casie_doc_free(d);
    casie_doc_free(d2);
}

/* ---- eval ---- */

static casie_doc *hand_doc(void) {
    static const char text[] = "0123456789012345678901234567890123456789012345678901234567890123456789";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, sizeof text - 1, "h", &err);
    assert_non_null(d);
    d->hoppers = calloc(1, sizeof *d->hoppers);
    d->n_hoppers = 1;
    d->hoppers[0].events = calloc(2, sizeof(casie_event));
    d->hoppers[0].n_events = 2;
    for (int i = 0; i < 2; i++) {
        d->hoppers[0].events[i].subtype = CASIE_SUBTYPE_DATABREACH;
        d->hoppers[0].events[i].start = 60 + 4 * i;
        d->hoppers[0].events[i].end = 62 + 4 * i;
        d->hoppers[0].events[i].args = calloc(8, sizeof(casie_arg));
    }
    return d;
}

static void put(casie_doc *d, int ev, const char *role, int s, int e, int kind, int cat) {
    casie_event *x = &d->hoppers[0].events[ev];
    casie_arg *a = &x->args[x->n_args++];
    a->start = s, a->end = e;
    a->role = casie_role_from_name(role);
    a->entity = 0;
    a->score = -1;
    a->category = cat >= 0 ? casie_category_name(kind, cat) : NULL;
    a->category_score = -1;
}

static void eval_counts(void **state) {
    (void)state;
    const int P = CASIE_CAT_PURPOSE, C = CASIE_CAT_CAPEC;
    casie_doc *g = hand_doc(), *p = hand_doc();
    /* gold: Purpose [0,5) Monetary (twice: in both events, one pair),
     * [6,9) Selling, [10,12) Monetary, [13,15) Monetary without a prediction;
     * Attack-Pattern [20,25) Flooding, Capabilities [30,33) Excavation */
    put(g, 0, "Purpose", 0, 5, P, 2);
    put(g, 1, "Purpose", 0, 5, P, 2);
    put(g, 0, "Purpose", 6, 9, P, 6);
    put(g, 0, "Purpose", 10, 12, P, 2);
    put(g, 0, "Purpose", 13, 15, P, 2);
    put(g, 0, "Attack-Pattern", 20, 25, C, 0);
    put(g, 1, "Capabilities", 30, 33, C, 6);
    /* predicted: [0,5) right, [6,9) wrong (Monetary), [10,12) with no
     * category (not scored), [20,25) right but as Capabilities (another
     * role: not matched), [30,33) wrong, [40,45) not in gold */
    put(p, 1, "Purpose", 0, 5, P, 2);
    put(p, 0, "Purpose", 6, 9, P, 2);
    put(p, 0, "Purpose", 10, 12, P, -1);
    put(p, 0, "Capabilities", 20, 25, C, 0);
    put(p, 1, "Capabilities", 30, 33, C, 3);
    put(p, 1, "Attack-Pattern", 40, 45, C, 1);
    casie_eval *ev = casie_eval_new();
    casie_error err = {0};
    assert_int_equal(casie_eval_add(ev, g, p, &err), CASIE_OK);
    casie_category_counts c = casie_eval_category(ev, P, -1);
    assert_int_equal(c.matched, 2);
    assert_int_equal(c.correct, 1);
    assert_int_equal(c.predicted, 2);
    assert_int_equal(c.majority, 1);   /* Monetary and Selling once each among matched pairs */
    c = casie_eval_category(ev, P, 2); /* Monetary */
    assert_true(c.matched == 1 && c.correct == 1 && c.predicted == 2);
    c = casie_eval_category(ev, P, 6); /* Selling */
    assert_true(c.matched == 1 && c.correct == 0 && c.predicted == 0);
    c = casie_eval_category(ev, C, -1);
    assert_true(c.matched == 1 && c.correct == 0 && c.majority == 1);
    c = casie_eval_category(ev, C, 3);
    assert_true(c.matched == 0 && c.predicted == 1);
    /* gold against itself: every category right; a second document adds up */
    assert_int_equal(casie_eval_add(ev, g, g, &err), CASIE_OK);
    c = casie_eval_category(ev, P, -1);
    assert_true(c.matched == 2 + 4 && c.correct == 1 + 4 && c.majority == 4); /* Monetary: 1 + 3 */
    c = casie_eval_category(ev, C, -1);
    assert_true(c.matched == 3 && c.correct == 2);
    /* out of range */
    c = casie_eval_category(ev, CASIE_CAT_NONE, -1);
    assert_true(c.matched == 0 && c.correct == 0);
    c = casie_eval_category(ev, P, 7);
    assert_true(c.matched == 0);
    c = casie_eval_category(NULL, P, -1);
    assert_true(c.matched == 0);
    casie_eval_free(ev);
    casie_doc_free(g);
    casie_doc_free(p);
}

/* ---- STIX ---- */

static void stix_fields(void **state) {
    (void)state;
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(DOC, sizeof DOC - 1, "doc", &err);
    assert_non_null(d);
    char *js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"objective\":\"Selling: to sell them \""));
    assert_non_null(strstr(js, "{\"source_name\":\"capec-meta\",\"description\":\"Flooding\"}"));
    /* "flooding servers" names nothing: the pattern is named by its category */
    assert_non_null(strstr(js, "\"type\":\"attack-pattern\""));
    assert_non_null(strstr(js, "\"name\":\"Flooding\""));
    casie_free(js);
    /* without categories, neither */
    d->hoppers[0].events[0].args[0].category = NULL;
    d->hoppers[0].events[0].args[1].category = NULL;
    js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(strstr(js, "\"objective\":\"to sell them \""));
    assert_null(strstr(js, "capec-meta"));
    assert_null(strstr(js, "\"name\":\"Flooding\""));
    casie_free(js);
    casie_doc_free(d);
}

/* ---- a trained classifier ---- */

static long count_args(const casie_corpus *c, int with_cat, int *missing) {
    long n = 0;
    *missing = 0;
    for (int i = 0; i < c->n_docs; i++)
        for (int h = 0; h < c->docs[i]->n_hoppers; h++)
            for (int e = 0; e < c->docs[i]->hoppers[h].n_events; e++) {
                const casie_event *ev = &c->docs[i]->hoppers[h].events[e];
                for (int j = 0; j < ev->n_args; j++) {
                    const casie_arg *a = &ev->args[j];
                    int kind = casie_role_category(a->role);
                    if (!kind) {
                        if (a->category) (*missing)++;
                        continue;
                    }
                    if (with_cat && (!a->category || casie_category_from_name(kind, a->category) < 0 ||
                                     !(a->category_score >= 0 && a->category_score <= 1)))
                        (*missing)++;
                    if (!with_cat && a->category) (*missing)++;
                    n++;
                }
            }
    return n;
}

static char *extract_all(const char *model_path, casie_corpus *c) {
    casie_error err = {0};
    casie_model *m = casie_model_load(model_path, &err);
    assert_non_null(m);
    size_t cap = 1, n = 0;
    char *all = calloc(1, 1);
    for (int i = 0; i < c->n_docs; i++) {
        assert_int_equal(casie_extract(m, c->docs[i], NULL, &err), CASIE_OK);
        char *js = casie_doc_to_json(c->docs[i], CASIE_JSON_COMPACT | CASIE_JSON_SCORES, NULL, &err);
        assert_non_null(js);
        size_t k = strlen(js);
        all = realloc(all, cap += k);
        memcpy(all + n, js, k + 1);
        n += k;
        casie_free(js);
    }
    casie_model_free(m);
    return all;
}

/* The text with every category field of a role object removed. */
static void strip_categories(char *s) {
    static const char *const keys[] = {"\"Purpose\",\"subtype\":\"", ",\"CAPEC-Meta\":\"", NULL};
    for (int k = 0; keys[k]; k++)
        for (char *p; (p = strstr(s, keys[k]));) {
            char *from = k == 0 ? p + strlen("\"Purpose\"") : p; /* keep the role's type */
            char *q = strchr(p + strlen(keys[k]), '"') + 1;      /* past the name */
            if (!strncmp(q, ",\"confidence\":", 14)) q += 14 + strspn(q + 14, "0123456789.e-");
            memmove(from, q, strlen(q) + 1);
        }
}

static void trained_classifier(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus || access("models/casie-fast.model", R_OK)) skip();
    char tiny[128], with[128], again[128], bad[128];
    snprintf(tiny, sizeof tiny, "%s/tiny.model", tmpdir);
    snprintf(with, sizeof with, "%s/with.model", tmpdir);
    snprintf(again, sizeof again, "%s/again.model", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.model", tmpdir);
    casie_error err = {0};
    assert_int_equal(tiny_model_write("models/casie-fast.model", tiny, 64, &err), CASIE_OK);
    casie_corpus *tr = test_split(corpus, "train", 120), *dv = test_split(corpus, "dev", 40);
    assert_non_null(tr);
    assert_non_null(dv);
    casie_train_params p = casie_train_default_params();
    p.epochs = 20;
    assert_int_equal(casie_model_add_categories(tiny, with, tr->docs, tr->n_docs, NULL, 0, &p, &err), CASIE_OK);
    /* the same again: the same bytes */
    assert_int_equal(casie_model_add_categories(tiny, again, tr->docs, tr->n_docs, NULL, 0, &p, &err), CASIE_OK);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", with, again);
    assert_int_equal(system(cmd), 0);
    /* every section of the input is in the output, byte for byte */
    casie__model_file a, b;
    assert_int_equal(casie__model_file_open(tiny, &a, &err), CASIE_OK);
    assert_int_equal(casie__model_file_open(with, &b, &err), CASIE_OK);
    assert_null(casie__model_file_find(&a, "CATG"));
    assert_non_null(casie__model_file_find(&b, "CATG"));
    assert_int_equal(b.n_secs, a.n_secs + 1);
    for (int i = 0; i < a.n_secs; i++) {
        const casie__section *s = casie__model_file_find(&b, a.secs[i].tag);
        assert_non_null(s);
        assert_true(s->size == a.secs[i].size && !memcmp(s->data, a.secs[i].data, s->size));
    }
    /* a corrupt CATG under valid checksums is refused */
    {
        casie__section secs[32];
        unsigned char *cat = NULL;
        assert_true(b.n_secs <= 32);
        for (int i = 0; i < b.n_secs; i++) {
            secs[i] = b.secs[i];
            if (!strcmp(secs[i].tag, "CATG")) {
                cat = malloc(secs[i].size);
                memcpy(cat, secs[i].data, secs[i].size);
                cat[16] = 8; /* eight Purpose labels */
                secs[i].data = cat;
            }
        }
        assert_int_equal(casie__model_file_write(bad, secs, b.n_secs, &err), CASIE_OK);
        free(cat);
        assert_null(casie_model_load(bad, &err));
        assert_non_null(strstr(err.message, "bad CATG section"));
    }
    casie__model_file_close(&a);
    casie__model_file_close(&b);
    /* writing over the input is allowed (atomic) and gives the same file */
    snprintf(cmd, sizeof cmd, "cp %s %s", tiny, again);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(casie_model_add_categories(again, again, tr->docs, tr->n_docs, NULL, 0, &p, &err), CASIE_OK);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", with, again);
    assert_int_equal(system(cmd), 0);

    /* the old model predicts no category, the new one one for each argument
     * of those roles, and the events are the same */
    casie_model *old = casie_model_load(tiny, &err), *neu = casie_model_load(with, &err);
    assert_non_null(old);
    assert_non_null(neu);
    assert_false(casie_model_has_categories(old));
    assert_true(casie_model_has_categories(neu));
    assert_false(casie_model_has_categories(NULL));
    casie_model_free(old);
    casie_model_free(neu);
    int missing;
    char *without = extract_all(tiny, dv);
    count_args(dv, 0, &missing);
    assert_int_equal(missing, 0);
    char *withcat = extract_all(with, dv);
    long n = count_args(dv, 1, &missing);
    assert_int_equal(missing, 0);
    printf("categories: %ld predicted arguments of the category roles in %d dev documents\n", n, dv->n_docs);
    assert_true(n > 0);
    strip_categories(withcat);
    assert_string_equal(without, withcat);
    free(without);
    free(withcat);

    /* on the gold spans of its own training documents it learned something:
     * well above always answering the most frequent category */
    casie_model *m = casie_model_load(with, &err);
    assert_non_null(m);
    casie_corpus *gold = test_split(corpus, "train", 120);
    casie_eval *ev = casie_eval_new();
    for (int i = 0; i < tr->n_docs; i++) {
        casie_doc *d = tr->docs[i];
        assert_int_equal(casie_doc_analyze(d, &err), CASIE_OK);
        casie__tokfeat *tf = casie__doc_tokfeats(d, &m->clusters);
        assert_non_null(tf);
        assert_int_equal(casie__category_predict(m, d, tf), CASIE_OK);
        free(tf);
        assert_int_equal(casie_eval_add(ev, gold->docs[i], d, &err), CASIE_OK);
    }
    for (int k = CASIE_CAT_PURPOSE; k <= CASIE_CAT_CAPEC; k++) {
        casie_category_counts c = casie_eval_category(ev, k, -1);
        printf("categories: kind %d on training spans: %ld of %ld right (majority %ld)\n", k, c.correct, c.matched,
               c.majority);
        assert_true(c.matched > 20);
        assert_true(c.correct > c.majority + c.matched / 5);
    }
    casie_eval_free(ev);
    casie_model_free(m);
    casie_corpus_free(gold);
    casie_corpus_free(tr);
    casie_corpus_free(dv);
}

/* casie_train learns the classifier too when the documents have categories */
static void trained_with_the_taggers(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    casie_corpus *tr = test_split(corpus, "train", 30);
    assert_non_null(tr);
    casie_train_params p = casie_train_default_params();
    p.epochs = 1;
    casie_error err = {0};
    casie_model *m = casie_train(tr->docs, tr->n_docs, NULL, 0, &p, &err);
    assert_non_null(m);
    assert_true(casie_model_has_categories(m));
    char path[128];
    snprintf(path, sizeof path, "%s/full.model", tmpdir);
    assert_int_equal(casie_model_save(m, path, &err), CASIE_OK);
    casie_model *l = casie_model_load(path, &err);
    assert_non_null(l);
    assert_true(casie_model_has_categories(l));
    casie_model_free(l);
    casie_model_free(m);
    casie_corpus_free(tr);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/casie-cat-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),       cmocka_unit_test(round_trip),         cmocka_unit_test(eval_counts),
        cmocka_unit_test(stix_fields), cmocka_unit_test(trained_classifier), cmocka_unit_test(trained_with_the_taggers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) rc |= 0;
    return rc;
}
