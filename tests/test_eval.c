/*
 * test_eval.c - the scorer: gold against itself is 100 on every metric over
 * the dev split; hand-made document pairs give exact tp/fp/fn for each metric,
 * count duplicates once, and count coreference pairs as documented.
 */
#include "test_common.h"

/* ---- building documents by hand ---- */

static casie_doc *new_doc(const char *id) {
    static const char text[] = "0123456789012345678901234567890123456789012345678901234567890123456789";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, sizeof text - 1, id, &err);
    assert_non_null(d);
    return d;
}

static int add_hopper(casie_doc *d) {
    d->hoppers = realloc(d->hoppers, (size_t)(d->n_hoppers + 1) * sizeof *d->hoppers);
    assert_non_null(d->hoppers);
    memset(&d->hoppers[d->n_hoppers], 0, sizeof *d->hoppers);
    return d->n_hoppers++;
}

/* Adds an event to hopper h; returns (hopper, event) packed as h * 1000 + i. */
static int add_event(casie_doc *d, int h, int subtype, int realis, int s, int e) {
    casie_hopper *hop = &d->hoppers[h];
    hop->events = realloc(hop->events, (size_t)(hop->n_events + 1) * sizeof *hop->events);
    assert_non_null(hop->events);
    casie_event *ev = &hop->events[hop->n_events];
    memset(ev, 0, sizeof *ev);
    ev->subtype = subtype;
    ev->realis = realis;
    ev->start = s;
    ev->end = e;
    ev->score = -1;
    return h * 1000 + hop->n_events++;
}

static void add_arg(casie_doc *d, int ev_id, const char *role, const char *entity, int s, int e) {
    casie_event *ev = &d->hoppers[ev_id / 1000].events[ev_id % 1000];
    ev->args = realloc(ev->args, (size_t)(ev->n_args + 1) * sizeof *ev->args);
    assert_non_null(ev->args);
    casie_arg *a = &ev->args[ev->n_args++];
    memset(a, 0, sizeof *a);
    a->role = casie_role_from_name(role);
    a->entity = casie_entity_from_name(entity);
    assert_true(a->role >= 0 && a->entity >= 0);
    a->start = s;
    a->end = e;
    a->score = -1;
}

static void assert_counts(const casie_eval *ev, int metric, int subtype, int role, long tp, long fp, long fn) {
    casie_counts c = casie_eval_counts(ev, metric, subtype, role);
    if (c.tp != tp || c.fp != fp || c.fn != fn)
        fail_msg("%s (subtype %d, role %d): got tp %ld fp %ld fn %ld, want %ld %ld %ld", casie_metric_name(metric),
                 subtype, role, c.tp, c.fp, c.fn, tp, fp, fn);
}

enum { DB = CASIE_SUBTYPE_DATABREACH, PH = CASIE_SUBTYPE_PHISHING, RA = CASIE_SUBTYPE_RANSOM };
enum { ACT = CASIE_REALIS_ACTUAL, GEN = CASIE_REALIS_GENERIC, OTH = CASIE_REALIS_OTHER };

/* gold: hopper 0 {E1 Databreach Actual [0,5): Victim/Organization [10,15),
 *                                           Compromised-Data/PII [20,25);
 *                 E2 Databreach Actual [30,35): Victim/Organization [10,15)}
 *       hopper 1 {E3 Ransom Other [40,45)}
 * pred: hopper 0 {Databreach Generic [0,5): Victim/Person [10,15), Attacker/Person [20,25)}
 *       hopper 1 {Phishing Actual [30,35): Victim/Organization [10,15);
 *                 Ransom Other [40,45);
 *                 Ransom Actual [50,55): Victim/Organization [60,65)} */
static void make_pair(casie_doc **gold, casie_doc **pred) {
    casie_doc *g = new_doc("g"), *p = new_doc("p");
    int h = add_hopper(g);
    int e = add_event(g, h, DB, ACT, 0, 5);
    add_arg(g, e, "Victim", "Organization", 10, 15);
    add_arg(g, e, "Compromised-Data", "PII", 20, 25);
    e = add_event(g, h, DB, ACT, 30, 35);
    add_arg(g, e, "Victim", "Organization", 10, 15);
    h = add_hopper(g);
    add_event(g, h, RA, OTH, 40, 45);

    h = add_hopper(p);
    e = add_event(p, h, DB, GEN, 0, 5);
    add_arg(p, e, "Victim", "Person", 10, 15);
    add_arg(p, e, "Attacker", "Person", 20, 25);
    h = add_hopper(p);
    e = add_event(p, h, PH, ACT, 30, 35);
    add_arg(p, e, "Victim", "Organization", 10, 15);
    add_event(p, h, RA, OTH, 40, 45);
    e = add_event(p, h, RA, ACT, 50, 55);
    add_arg(p, e, "Victim", "Organization", 60, 65);
    *gold = g;
    *pred = p;
}

static void hand_made_pair(void **state) {
    (void)state;
    casie_doc *g, *p;
    make_pair(&g, &p);
    casie_eval *ev = casie_eval_new();
    assert_non_null(ev);
    casie_error err = {0};
    assert_int_equal(casie_eval_add(ev, g, p, &err), CASIE_OK);
    assert_counts(ev, CASIE_METRIC_TRIG_I, -1, -1, 3, 1, 0);
    assert_counts(ev, CASIE_METRIC_TRIG_C, -1, -1, 2, 2, 1);
    assert_counts(ev, CASIE_METRIC_ARG_I, -1, -1, 2, 2, 0);
    assert_counts(ev, CASIE_METRIC_ARG_C, -1, -1, 1, 3, 1);
    assert_counts(ev, CASIE_METRIC_ARG_C_LINKED, -1, -1, 1, 3, 2);
    assert_counts(ev, CASIE_METRIC_REALIS, -1, -1, 1, 3, 2);
    assert_counts(ev, CASIE_METRIC_ENT_TYPE, -1, -1, 1, 3, 1);
    assert_counts(ev, CASIE_METRIC_COREF, -1, -1, 0, 3, 1);
    /* MUC: gold has 1 link ({A,B}), pred 2 ({B,C,D}); the mentions in common
     * (A, B, C) fall in 3 blocks, so no link is shared. */
    assert_counts(ev, CASIE_METRIC_COREF_MUC, -1, -1, 0, 2, 1);
    assert_counts(ev, CASIE_METRIC_COREF_MUC, DB, -1, 0, 0, 1);
    assert_counts(ev, CASIE_METRIC_COREF_MUC, RA, -1, 0, 1, 0);

    /* Breakdowns: only tuples of that subtype / role, on both sides. */
    assert_counts(ev, CASIE_METRIC_TRIG_C, DB, -1, 1, 0, 1);
    assert_counts(ev, CASIE_METRIC_TRIG_C, PH, -1, 0, 1, 0);
    assert_counts(ev, CASIE_METRIC_TRIG_C, RA, -1, 1, 1, 0);
    assert_counts(ev, CASIE_METRIC_TRIG_I, DB, -1, 1, 0, 1);
    assert_counts(ev, CASIE_METRIC_REALIS, RA, -1, 1, 1, 0);
    int victim = casie_role_from_name("Victim"), attacker = casie_role_from_name("Attacker");
    int cdata = casie_role_from_name("Compromised-Data");
    assert_counts(ev, CASIE_METRIC_ARG_C, -1, victim, 1, 2, 0);
    assert_counts(ev, CASIE_METRIC_ARG_C, -1, cdata, 0, 0, 1);
    assert_counts(ev, CASIE_METRIC_ARG_C, DB, -1, 1, 1, 1);
    assert_counts(ev, CASIE_METRIC_ARG_I, -1, victim, 1, 2, 0);
    assert_counts(ev, CASIE_METRIC_ARG_I, DB, attacker, 0, 1, 0);
    assert_counts(ev, CASIE_METRIC_ARG_I, DB, cdata, 0, 0, 1);
    assert_counts(ev, CASIE_METRIC_ARG_C_LINKED, -1, victim, 1, 2, 1);
    /* Role filters do not apply to the other metrics. */
    assert_counts(ev, CASIE_METRIC_TRIG_I, -1, victim, 3, 1, 0);
    /* Out of range: zero. */
    assert_counts(ev, CASIE_N_METRICS, -1, -1, 0, 0, 0);
    assert_counts(ev, CASIE_METRIC_TRIG_I, CASIE_N_SUBTYPES, -1, 0, 0, 0);

    /* A second document adds up (micro average); a missing prediction is all fn. */
    assert_int_equal(casie_eval_add(ev, g, NULL, &err), CASIE_OK);
    assert_counts(ev, CASIE_METRIC_TRIG_I, -1, -1, 3, 1, 3);
    assert_counts(ev, CASIE_METRIC_ARG_C_LINKED, -1, -1, 1, 3, 5);
    assert_counts(ev, CASIE_METRIC_COREF, -1, -1, 0, 3, 2);
    assert_counts(ev, CASIE_METRIC_COREF_MUC, -1, -1, 0, 2, 2);
    assert_int_equal(casie_eval_add(ev, NULL, p, &err), CASIE_ERR_INVALID_ARG);
    casie_eval_free(ev);
    casie_doc_free(g);
    casie_doc_free(p);
}

static void duplicates_count_once(void **state) {
    (void)state;
    casie_doc *g = new_doc("g"), *p = new_doc("p");
    int h = add_hopper(g);
    int e = add_event(g, h, DB, ACT, 0, 5);
    add_arg(g, e, "Victim", "Organization", 10, 15);
    /* The prediction says it all twice, in two hoppers, and repeats the argument. */
    for (int k = 0; k < 2; k++) {
        h = add_hopper(p);
        e = add_event(p, h, DB, ACT, 0, 5);
        add_arg(p, e, "Victim", "Organization", 10, 15);
        add_arg(p, e, "Victim", "Organization", 10, 15);
    }
    casie_eval *ev = casie_eval_new();
    casie_error err = {0};
    assert_int_equal(casie_eval_add(ev, g, p, &err), CASIE_OK);
    for (int m = 0; m < CASIE_METRIC_COREF; m++)
        assert_counts(ev, m, -1, -1, 1, 0, 0);
    assert_counts(ev, CASIE_METRIC_COREF, -1, -1, 0, 0, 0);
    assert_counts(ev, CASIE_METRIC_COREF_MUC, -1, -1, 0, 0, 0);
    double P, R, F;
    casie_prf(casie_eval_counts(ev, CASIE_METRIC_ARG_C, -1, -1), &P, &R, &F);
    assert_true(P == 100.0 && R == 100.0 && F == 100.0);
    casie_eval_free(ev);
    casie_doc_free(g);
    casie_doc_free(p);
}

static void coref_pairs(void **state) {
    (void)state;
    /* gold: one hopper of four events over three distinct spans (one span
     * twice): 3 pairs.  pred: {A, B} and {C}: 1 pair, which is right. */
    casie_doc *g = new_doc("g"), *p = new_doc("p");
    int h = add_hopper(g);
    add_event(g, h, DB, ACT, 20, 25);
    add_event(g, h, DB, ACT, 0, 5);
    add_event(g, h, DB, ACT, 10, 15);
    add_event(g, h, PH, ACT, 0, 5);
    h = add_hopper(p);
    add_event(p, h, DB, ACT, 0, 5);
    add_event(p, h, DB, ACT, 20, 25); /* order within the pair does not matter */
    h = add_hopper(p);
    add_event(p, h, DB, ACT, 10, 15);
    casie_eval *ev = casie_eval_new();
    casie_error err = {0};
    assert_int_equal(casie_eval_add(ev, g, p, &err), CASIE_OK);
    assert_counts(ev, CASIE_METRIC_COREF, -1, -1, 1, 0, 2);
    /* A pair whose events differ in subtype has no subtype: only in totals.
     * Gold Databreach pairs: (0,5)-(20,25), (0,5)-(10,15) from the Databreach
     * events, (10,15)-(20,25). */
    assert_counts(ev, CASIE_METRIC_COREF, DB, -1, 1, 0, 2);
    assert_counts(ev, CASIE_METRIC_COREF, PH, -1, 0, 0, 0);
    /* MUC over the distinct spans (the Phishing (0,5) is the Databreach one's
     * span, kept in its first hopper): 2 gold links, 1 predicted, and the
     * three mentions fall in 2 blocks, so 1 link is shared. */
    assert_counts(ev, CASIE_METRIC_COREF_MUC, -1, -1, 1, 0, 1);
    assert_counts(ev, CASIE_METRIC_COREF_MUC, DB, -1, 1, 0, 1);
    assert_counts(ev, CASIE_METRIC_COREF_MUC, PH, -1, 0, 0, 0);
    /* Same span repeated in one hopper: no pair with itself. */
    casie_doc *q = new_doc("q");
    h = add_hopper(q);
    add_event(q, h, DB, ACT, 0, 5);
    add_event(q, h, DB, GEN, 0, 5);
    casie_eval *ev2 = casie_eval_new();
    assert_int_equal(casie_eval_add(ev2, q, q, &err), CASIE_OK);
    assert_counts(ev2, CASIE_METRIC_COREF, -1, -1, 0, 0, 0);
    assert_counts(ev2, CASIE_METRIC_COREF_MUC, -1, -1, 0, 0, 0);
    assert_counts(ev2, CASIE_METRIC_TRIG_I, -1, -1, 1, 0, 0);
    assert_counts(ev2, CASIE_METRIC_REALIS, -1, -1, 2, 0, 0);
    casie_eval_free(ev);
    casie_eval_free(ev2);
    casie_doc_free(g);
    casie_doc_free(p);
    casie_doc_free(q);
}

/* The textbook case: gold {A,B} {C,D}, pred {A,B,C,D}.  MUC: recall 2/2,
 * precision 2/3; pairs: 2 of 6 right. */
static void coref_muc_merge(void **state) {
    (void)state;
    casie_doc *g = new_doc("g"), *p = new_doc("p");
    int h = add_hopper(g);
    add_event(g, h, DB, ACT, 0, 5);
    add_event(g, h, DB, ACT, 10, 15);
    h = add_hopper(g);
    add_event(g, h, DB, ACT, 20, 25);
    add_event(g, h, DB, ACT, 30, 35);
    h = add_hopper(p);
    for (int k = 0; k < 4; k++)
        add_event(p, h, DB, ACT, 10 * k, 10 * k + 5);
    casie_eval *ev = casie_eval_new();
    casie_error err = {0};
    assert_int_equal(casie_eval_add(ev, g, p, &err), CASIE_OK);
    assert_counts(ev, CASIE_METRIC_COREF_MUC, -1, -1, 2, 1, 0);
    assert_counts(ev, CASIE_METRIC_COREF, -1, -1, 2, 4, 0);
    /* and the other way round: splitting loses recall, not precision */
    casie_eval *ev2 = casie_eval_new();
    assert_int_equal(casie_eval_add(ev2, p, g, &err), CASIE_OK);
    assert_counts(ev2, CASIE_METRIC_COREF_MUC, -1, -1, 2, 0, 1);
    casie_eval_free(ev);
    casie_eval_free(ev2);
    casie_doc_free(g);
    casie_doc_free(p);
}

static void prf_and_names(void **state) {
    (void)state;
    double p, r, f;
    casie_counts c = {1, 1, 3};
    casie_prf(c, &p, &r, &f);
    assert_float_equal(p, 50.0, 1e-9);
    assert_float_equal(r, 25.0, 1e-9);
    assert_float_equal(f, 100.0 / 3.0, 1e-9);
    casie_counts z = {0, 0, 0};
    casie_prf(z, &p, &r, &f);
    assert_true(p == 0 && r == 0 && f == 0);
    casie_counts nopred = {0, 0, 4};
    casie_prf(nopred, &p, &r, &f);
    assert_true(p == 0 && r == 0 && f == 0);
    casie_prf(c, NULL, NULL, &f); /* any output may be NULL */
    static const char *const names[] = {"trig_i", "trig_c",   "arg_i", "arg_c",    "arg_c_linked",
                                        "realis", "ent_type", "coref", "coref_muc"};
    for (int m = 0; m < CASIE_N_METRICS; m++)
        assert_string_equal(casie_metric_name(m), names[m]);
    assert_null(casie_metric_name(CASIE_N_METRICS));
    assert_null(casie_metric_name(-1));
    casie_eval_free(NULL);
}

static void gold_against_itself(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    casie_corpus *dev = test_split(corpus, "dev", 0);
    assert_non_null(dev);
    assert_int_equal(dev->n_docs, 100);
    casie_eval *ev = casie_eval_new();
    casie_error err = {0};
    for (int i = 0; i < dev->n_docs; i++)
        assert_int_equal(casie_eval_add(ev, dev->docs[i], dev->docs[i], &err), 0);
    for (int m = 0; m < CASIE_N_METRICS; m++) {
        casie_counts c = casie_eval_counts(ev, m, -1, -1);
        double p, r, f;
        casie_prf(c, &p, &r, &f);
        assert_true(c.tp > 0);
        assert_int_equal(c.fp, 0);
        assert_int_equal(c.fn, 0);
        assert_float_equal(f, 100.0, 1e-9);
        for (int s = 0; s < CASIE_N_SUBTYPES; s++)
            for (int ro = -1; ro < CASIE_N_ROLES; ro++) {
                casie_counts cs = casie_eval_counts(ev, m, s, ro);
                assert_int_equal(cs.fp, 0);
                assert_int_equal(cs.fn, 0);
            }
    }
    /* Every event is a trigger; no two triggers share a span (README). */
    long events = 0;
    for (int i = 0; i < dev->n_docs; i++)
        for (int h = 0; h < dev->docs[i]->n_hoppers; h++)
            events += dev->docs[i]->hoppers[h].n_events;
    assert_true(casie_eval_counts(ev, CASIE_METRIC_TRIG_C, -1, -1).tp <= events);
    long by_subtype = 0;
    for (int s = 0; s < CASIE_N_SUBTYPES; s++)
        by_subtype += casie_eval_counts(ev, CASIE_METRIC_TRIG_C, s, -1).tp;
    assert_int_equal(by_subtype, casie_eval_counts(ev, CASIE_METRIC_TRIG_C, -1, -1).tp);
    long by_role = 0;
    for (int r = 0; r < CASIE_N_ROLES; r++)
        by_role += casie_eval_counts(ev, CASIE_METRIC_ARG_C, -1, r).tp;
    assert_int_equal(by_role, casie_eval_counts(ev, CASIE_METRIC_ARG_C, -1, -1).tp);

    /* Against empty predictions: recall 0, every gold tuple a false negative. */
    casie_eval *ev0 = casie_eval_new();
    for (int i = 0; i < dev->n_docs; i++)
        assert_int_equal(casie_eval_add(ev0, dev->docs[i], NULL, &err), 0);
    for (int m = 0; m < CASIE_N_METRICS; m++) {
        casie_counts c0 = casie_eval_counts(ev0, m, -1, -1), c = casie_eval_counts(ev, m, -1, -1);
        assert_int_equal(c0.tp, 0);
        assert_int_equal(c0.fp, 0);
        assert_int_equal(c0.fn, c.tp);
    }
    casie_eval_free(ev0);
    casie_eval_free(ev);
    casie_corpus_free(dev);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_made_pair), cmocka_unit_test(duplicates_count_once),
        cmocka_unit_test(coref_pairs),    cmocka_unit_test(coref_muc_merge),
        cmocka_unit_test(prf_and_names),  cmocka_unit_test(gold_against_itself),
    };
    return cmocka_run_group_tests_name("eval", tests, NULL, NULL);
}
