/*
 * test_features.c - the feature layout's single owner: no two templates of
 * one model share an id; the realis templates that shared ids in feature
 * version 3 stay as they were for models of that version and are apart in
 * the current one; the trigger templates of a CVE id's sentence come with
 * version 6; the committed models keep their version; the token and
 * relation columns sit where internal.h names them.
 */
#include "test_common.h"

#include "../src/internal.h"
#include "../src/feats.h"
#include "../src/linear.h"
#include "../src/model.h"

static void template_ids_unique_within_each_model(void **state) {
    (void)state;
    for (int g = 0; g < 4; g++) {
        const int *ids;
        int n = casie__template_ids(g, &ids);
        assert_true(n > 10);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                if (ids[i] == ids[j]) fail_msg("group %d: templates %d and %d share id %d", g, i, j, ids[i]);
    }
    const int *ids;
    assert_int_equal(casie__template_ids(4, &ids), 0);
}

/* Tokens of one sentence whose first word is also the trigger's last word:
 * version 3 hashed the two templates into one feature, version 4 keeps
 * them apart. */
static int realis_features(uint32_t fv, uint64_t *out) {
    casie__tokfeat tf[6];
    memset(tf, 0, sizeof tf);
    for (int i = 0; i < 6; i++)
        tf[i].w = tf[i].s = tf[i].shape = tf[i].suf3 = 1000u + (uint64_t)i * 7919u;
    tf[3].w = tf[0].w; /* the trigger [2, 4): its last word is the sentence's first */
    return casie__realis_feats(tf, 0, 6, 2, 4, 1, fv, out);
}

static int count_equal_pairs(const uint64_t *f, int n) {
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            k += f[i] == f[j];
    return k;
}

static void realis_versions(void **state) {
    (void)state;
    uint64_t f3[CASIE_MAX_FEATS], f4[CASIE_MAX_FEATS];
    int n3 = realis_features(3, f3), n4 = realis_features(4, f4);
    assert_int_equal(n3, n4);
    /* the same templates in the same order: all but the two renumbered agree */
    int differ = 0;
    for (int i = 0; i < n3; i++)
        differ += f3[i] != f4[i];
    assert_int_equal(differ, 2);
    /* only version 3 has the collision (R_BEFORE_W's words may repeat in both) */
    assert_int_equal(count_equal_pairs(f3, n3), count_equal_pairs(f4, n4) + 1);
    assert_int_equal(CASIE_FEATURE_VERSION, 6);
}

/* Version 6: a token of a sentence holding a CVE id gets two trigger
 * features more (the fact, and the fact with its stem); a model of an
 * older version, or a sentence without an id, gets none. */
static void trigger_sentence_with_cve(void **state) {
    (void)state;
    casie_doc *d = test_analyzed("Acme closed CVE-2026-1001 on Monday. Rivet closed the hole.");
    casie__tokfeat *tf = casie__doc_tokfeats(d, NULL);
    assert_non_null(tf);
    assert_int_equal(d->n_sents, 2);
    const casie_sentence *s0 = &d->sents[0], *s1 = &d->sents[1];
    uint64_t f5[CASIE_MAX_FEATS], f6[CASIE_MAX_FEATS];
    for (int t = s0->tok_begin; t < s0->tok_end; t++) {
        assert_true(tf[t].sflags & CASIE_TOK_CVE);
        int n5 = casie__trig_feats(tf, s0->tok_begin, s0->tok_end, t, 5, f5);
        int n6 = casie__trig_feats(tf, s0->tok_begin, s0->tok_end, t, 6, f6);
        assert_int_equal(n6, n5 + 2);
        assert_memory_equal(f5, f6, sizeof(uint64_t) * (size_t)n5);
    }
    for (int t = s1->tok_begin; t < s1->tok_end; t++) {
        assert_false(tf[t].sflags & CASIE_TOK_CVE);
        assert_int_equal(casie__trig_feats(tf, s1->tok_begin, s1->tok_end, t, 6, f6),
                         casie__trig_feats(tf, s1->tok_begin, s1->tok_end, t, 5, f5));
    }
    free(tf);
    casie_doc_free(d);
}

/* The committed models were trained with version 3 and must be scored with
 * it; a model trained now carries the current version through save/load. */
static void models_keep_their_version(void **state) {
    (void)state;
    const char *paths[] = {"models/casie-fast.model"};
    for (size_t k = 0; k < sizeof paths / sizeof *paths; k++) {
        casie_error err = {0};
        casie_model *m = casie_model_load(paths[k], &err);
        if (!m) fail_msg("%s: %s", paths[k], err.message);
        assert_int_equal(m->realis.fv, 3);
        assert_int_equal(m->trig.fv, 3);
        casie_model_free(m);
    }
    casie__linear l;
    assert_int_equal(casie__linear_init(&l, 16, 3, 0, 0), 0);
    assert_int_equal(l.fv, CASIE_FEATURE_VERSION);
    casie__linear_free(&l);
}

static void token_columns_where_named(void **state) {
    (void)state;
    casie__tokfeat f;
    memset(&f, 0, sizeof f);
    f.cap = 2;
    f.emb = 0;
    f.flags = 1u << 3 | 1u << 9 | 1u << 10; /* bit 10 is past the columns */
    float x[CASIE_TOKVEC_EXTRA];
    casie__tokvec(&f, NULL, x);
    assert_int_equal(casie__tokvec_dim(NULL), CASIE_TOKVEC_EXTRA);
    for (int c = 0; c < CASIE_TOKVEC_EXTRA; c++) {
        int one = c == CASIE_TV_CAP + 2 || c == CASIE_TV_UNKNOWN || c == CASIE_TV_FLAGS + 3 || c == CASIE_TV_FLAGS + 9;
        if (x[c] != (one ? 1.0f : 0.0f)) fail_msg("token column %d is %g", c, (double)x[c]);
    }
    assert_int_equal(CASIE_TV_FLAGS + CASIE_TV_N_FLAGS, CASIE_TOKVEC_EXTRA);

    float r[CASIE_ARGVEC_REL];
    int side, bk;
    casie__argvec_side(9, 4, 6, &side, &bk); /* after the trigger, 4 tokens on */
    casie__argvec_rel(9, 4, 6, 3, 1, r);
    assert_int_equal(side, 1);
    for (int c = 0; c < CASIE_ARGVEC_REL; c++) {
        int one = c == CASIE_AV_SIDE + side || c == CASIE_AV_DIST + bk || c == CASIE_AV_SUBTYPE + 3 ||
                  c == CASIE_AV_OTHER_TRIG;
        if (r[c] != (one ? 1.0f : 0.0f)) fail_msg("relation column %d is %g", c, (double)r[c]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(template_ids_unique_within_each_model),
        cmocka_unit_test(realis_versions),
        cmocka_unit_test(trigger_sentence_with_cve),
        cmocka_unit_test(models_keep_their_version),
        cmocka_unit_test(token_columns_where_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
