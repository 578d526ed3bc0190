/*
 * test_analyst.c - what an analyst gets, on articles written for these tests
 * (tests/data/analyst/): CVE ids however they are dashed or cased become CVE
 * arguments and name their STIX vulnerabilities; hoppers never hold two CVE
 * ids; named attackers keep their role; mentions that name nobody make no
 * STIX object; a plain-text article's headline and date title and date its
 * report; the accurate model reads patch language ("plugs", "plugged",
 * "addressed", "rolled out fixes").  The rules themselves are also tested on
 * hand-built events.
 */
#include "cli_common.h"
#include "../src/internal.h"
#include "../src/actors.h"
#include "../src/cve_id.h"
#include "../src/cve_rule.h"
#include "../src/doc.h"
#include "../src/event_conflict.h"
#include "../src/names.h"

#include <jansson.h>
#include <time.h>

#define PATCH_DAY "tests/data/analyst/patch-day.txt"
#define RANSOM "tests/data/analyst/ransom-gang.txt"
#define UNTITLED "tests/data/analyst/untitled.txt"
#define PATCH_LANGUAGE "tests/data/analyst/patch-language.txt"

static casie_model *model;

static int setup(void **state) {
    casie_error err = {0};
    const char *name = getenv("CASIE_MODEL");
    model = casie_model_open(name && *name ? name : "fast", NULL, &err);
    if (!model) fprintf(stderr, "test_analyst: %s\n", err.message);
    return model ? cli_setup(state) : -1;
}

static int teardown(void **state) {
    casie_model_free(model);
    return cli_teardown(state);
}

/* The article, extracted with the default parameters. */
static casie_doc *extract(const char *path) {
    casie_error err = {0};
    casie_doc *d = casie_doc_load(path, &err);
    assert_non_null(d);
    assert_int_equal(casie_extract(model, d, NULL, &err), CASIE_OK);
    return d;
}

/* ---- CVE ids ---- */

static int32_t cve_len(const char *s) {
    uint32_t c[64];
    int32_t n = 0;
    for (const char *p = s; *p && n < 63;) {
        int adv;
        c[n++] = casie__utf8_get(p, &adv);
        p += adv;
    }
    return casie__cve_len(c, 0, n);
}

static void cve_forms(void **state) {
    (void)state;
    assert_int_equal(cve_len("CVE-2026-40119"), 14);
    assert_int_equal(cve_len("cve-2026-40118,"), 14);
    assert_int_equal(cve_len("CVE\xe2\x80\x93"
                             "2026\xe2\x80\x93"
                             "40117"),
                     14); /* en dashes */
    assert_int_equal(cve_len("CVE2018-0986"), 12);
    assert_int_equal(cve_len("CVE-2018-1234x"), 0);        /* runs into a word */
    assert_int_equal(cve_len("CVE-2018-1234-related"), 0); /* joined on */
    assert_int_equal(cve_len("CVE-18-1234"), 0);
    assert_int_equal(cve_len("CVE-2018-123"), 0);
    char id[32];
    assert_true(casie__cve_normalize("cve\xe2\x80\x93"
                                     "2026\xe2\x80\x93"
                                     "40117",
                                     id, sizeof id));
    assert_string_equal(id, "CVE-2026-40117");
    assert_true(casie__cve_normalize("CVE2018-0986", id, sizeof id));
    assert_string_equal(id, "CVE-2018-0986");
    assert_false(casie__cve_normalize("SA-CORE-2018-004", id, sizeof id));
    /* the tokenizer keeps each form whole and flags it */
    const char *text = "Fixed: CVE\xe2\x80\x93"
                       "2026\xe2\x80\x93"
                       "40117 and cve-2026-40118.";
    casie_doc *d = test_analyzed(text);
    int n = 0;
    for (int t = 0; t < d->n_tokens; t++)
        if (d->tokens[t].flags & CASIE_TOK_CVE) {
            assert_int_equal(d->tokens[t].end - d->tokens[t].start, 14);
            n++;
        }
    assert_int_equal(n, 2);
    casie_doc_free(d);
}

static casie_arg *push_arg(casie_doc *d, casie_event *e, const char *text, const char *role) {
    e->args = realloc(e->args, sizeof *e->args * (size_t)(e->n_args + 1));
    assert_non_null(e->args);
    casie_arg *a = &e->args[e->n_args++];
    memset(a, 0, sizeof *a);
    const char *p = strstr(d->text, text);
    assert_non_null(p);
    a->start = (int32_t)(p - d->text), a->end = a->start + (int32_t)strlen(text); /* ASCII texts */
    a->text = strdup(text);
    a->role = casie_role_from_name(role);
    a->score = 0.5f;
    return a;
}

static casie_event make_event(casie_doc *d, const char *trigger, int subtype) {
    casie_event e = {0};
    const char *p = strstr(d->text, trigger);
    assert_non_null(p);
    e.start = (int32_t)(p - d->text), e.end = e.start + (int32_t)strlen(trigger);
    e.text = strdup(trigger), e.subtype = subtype, e.score = 0.9f;
    return e;
}

/* text analysed, with two vulnerability events on triggers t0 and t1 */
static casie_doc *two_events(const char *text, casie_event ev[2], const char *t0, int s0, const char *t1, int s1) {
    casie_doc *d = test_analyzed(text);
    ev[0] = make_event(d, t0, s0);
    ev[1] = make_event(d, t1, s1);
    return d;
}

/* Runs the rule at threshold; then only ev[1] holds an argument, the CVE id
 * `id`. */
static void rule_gives_second(casie_doc *d, casie_event ev[2], float threshold, const char *id) {
    assert_int_equal(casie__cve_args(d, ev, 2, threshold), CASIE_OK);
    assert_int_equal(ev[0].n_args, 0);
    assert_int_equal(ev[1].n_args, 1);
    assert_string_equal(casie_role_name(ev[1].args[0].role), "CVE");
    assert_string_equal(ev[1].args[0].text, id);
}

/* The rule after the tagger: an id inside a larger argument is cut out of
 * it, a CVE argument that is no id goes, an id with no event in its
 * sentence goes to the vulnerability event a sentence away. */
static void cve_rule(void **state) {
    (void)state;
    const char *text = "Acme patched the CVE-2026-1001 hole and SA-2026-7. "
                       "Rivet found a bug in Bolt. The bug is CVE-2026-1002.";
    casie_event ev[2];
    casie_doc *d = two_events(text, ev, "patched", CASIE_SUBTYPE_PATCH_VULNERABILITY, "found",
                              CASIE_SUBTYPE_DISCOVER_VULNERABILITY);
    push_arg(d, &ev[0], "the CVE-2026-1001 hole", "Vulnerability");
    push_arg(d, &ev[0], "SA-2026-7", "CVE");
    assert_int_equal(casie__cve_args(d, ev, 2, 0.0f), CASIE_OK);
    assert_int_equal(ev[0].n_args, 2); /* SA-2026-7 dropped, the id added */
    assert_string_equal(ev[0].args[0].text, "hole");
    assert_string_equal(casie_role_name(ev[0].args[1].role), "CVE");
    assert_string_equal(ev[0].args[1].text, "CVE-2026-1001");
    assert_int_equal(ev[1].n_args, 1);
    assert_string_equal(ev[1].args[0].text, "CVE-2026-1002");
    assert_true(casie__events_conflict(d, NULL, &ev[0], &ev[1])); /* two ids: never one hopper */
    casie__event_free(&ev[0]);
    casie__event_free(&ev[1]);
    casie_doc_free(d);
}

/* An id next to an event's Vulnerability argument is that event's, though
 * another vulnerability trigger of the sentence is nearer to it. */
static void cve_rule_named(void **state) {
    (void)state;
    const char *text = "Acme released a patch for critical bug CVE-2026-2001 affecting Bolt servers.";
    casie_event ev[2];
    casie_doc *d = two_events(text, ev, "released", CASIE_SUBTYPE_PATCH_VULNERABILITY, "affecting",
                              CASIE_SUBTYPE_DISCOVER_VULNERABILITY);
    push_arg(d, &ev[0], "critical bug", "Vulnerability");
    assert_int_equal(casie__cve_args(d, ev, 2, 0.0f), CASIE_OK);
    assert_int_equal(ev[0].n_args, 2);
    assert_string_equal(casie_role_name(ev[0].args[1].role), "CVE");
    assert_string_equal(ev[0].args[1].text, "CVE-2026-2001");
    assert_int_equal(ev[1].n_args, 0);
    /* without the argument, the nearer trigger takes it */
    casie__arg_free(&ev[0].args[1]);
    casie__arg_free(&ev[0].args[0]);
    ev[0].n_args = 0;
    rule_gives_second(d, ev, 0.0f, "CVE-2026-2001");
    casie__event_free(&ev[0]);
    casie__event_free(&ev[1]);
    casie_doc_free(d);
}

/* An id with no vulnerability event in its sentence goes to the nearest
 * one within two sentences, a patch as well as a disclosure: on the
 * training split's held-out folds that is right more often than
 * preferring the disclosure (docs/EXPERIMENTS.md). */
static void cve_rule_nearby(void **state) {
    (void)state;
    const char *text = "Rivet found a bug in Bolt last year. Acme fixed it on Monday. "
                       "The bug is CVE-2026-3001. Nothing else changed. Or here. Nor CVE-2026-3002.";
    casie_event ev[2];
    casie_doc *d =
        two_events(text, ev, "found", CASIE_SUBTYPE_DISCOVER_VULNERABILITY, "fixed", CASIE_SUBTYPE_PATCH_VULNERABILITY);
    rule_gives_second(d, ev, 0.0f, "CVE-2026-3001"); /* the second id, three sentences away: nobody's */
    /* an event under the threshold takes none; one without a score (a
     * given trigger) is taken as certain */
    casie__arg_free(&ev[1].args[0]);
    ev[1].n_args = 0;
    assert_int_equal(casie__cve_args(d, ev, 2, 0.95f), CASIE_OK);
    assert_int_equal(ev[0].n_args + ev[1].n_args, 0);
    ev[1].score = -1.0f;
    rule_gives_second(d, ev, 0.95f, "CVE-2026-3001");
    casie__event_free(&ev[0]);
    casie__event_free(&ev[1]);
    casie_doc_free(d);
}

/* ---- the patch-day article end to end ---- */

static void patch_day(void **state) {
    (void)state;
    casie_doc *d = extract(PATCH_DAY);
    assert_string_equal(d->title, "Northwind ships fixes for three flaws in its mail server");
    assert_string_equal(d->date, "2026_11_10");
    /* each id is a CVE argument, as written; no hopper holds two */
    const char *ids[3] = {"CVE\xe2\x80\x93"
                          "2026\xe2\x80\x93"
                          "40117",
                          "cve-2026-40118", "CVE-2026-40119"};
    int found[3] = {0};
    for (int h = 0; h < d->n_hoppers; h++) {
        char first[32] = "";
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            for (int a = 0; a < e->n_args; a++) {
                if (strcmp(casie_role_name(e->args[a].role), "CVE")) continue;
                char id[32];
                assert_true(casie__cve_normalize(e->args[a].text, id, sizeof id));
                if (!first[0]) memcpy(first, id, sizeof id);
                assert_string_equal(first, id);
                for (int k = 0; k < 3; k++)
                    found[k] |= !strcmp(e->args[a].text, ids[k]);
            }
        }
    }
    assert_true(found[0] && found[1] && found[2]);

    /* STIX: titled, dated, vulnerabilities named by their normal ids, no generic names */
    casie_error err = {0};
    char *js = casie_doc_to_stix(d, 0, NULL, &err);
    assert_non_null(js);
    json_error_t jerr;
    json_t *b = json_loads(js, 0, &jerr), *o;
    assert_non_null(b);
    size_t i;
    int vulns = 0, mitigates = 0;
    json_array_foreach(json_object_get(b, "objects"), i, o) {
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *name = json_string_value(json_object_get(o, "name"));
        if (!strcmp(type, "report")) {
            assert_string_equal(name, "Northwind ships fixes for three flaws in its mail server");
            assert_string_equal(json_string_value(json_object_get(o, "published")), "2026-11-10T00:00:00.000Z");
        }
        if (!strcmp(type, "vulnerability")) {
            assert_int_equal(strncmp(name, "CVE-2026-4011", 13), 0);
            vulns++;
        }
        if (!strcmp(type, "relationship"))
            mitigates += !strcmp(json_string_value(json_object_get(o, "relationship_type")), "mitigates");
        if (name) {
            assert_null(strstr(name, "customers"));
            assert_true(strcmp(name, "the bug") && strcmp(name, "researchers") && strcmp(name, "the updates"));
        }
        if (strcmp(type, "relationship") && strcmp(type, "report") && strcmp(type, "software")) {
            json_t *c = json_object_get(o, "confidence");
            assert_true(json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) <= 100);
        }
    }
    assert_int_equal(vulns, 3);
    assert_true(mitigates >= 1);
    json_decref(b);
    casie_free(js);
    casie_doc_free(d);
}

/* ---- named attackers ---- */

static void named_attackers(void **state) {
    (void)state;
    const char *text = "Hexlock demanded 300 Bitcoin from Greenvale. Files were encrypted by Hexlock. "
                       "The Corvid Gang used phishing against Greenvale.";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, strlen(text), "t", &err);
    casie_event ev[3] = {make_event(d, "demanded", CASIE_SUBTYPE_RANSOM),
                         make_event(d, "encrypted", CASIE_SUBTYPE_RANSOM),
                         make_event(d, "used", CASIE_SUBTYPE_PHISHING)};
    push_arg(d, &ev[0], "Hexlock", "Attacker");
    casie_arg *a = push_arg(d, &ev[1], "Hexlock", "Tool");
    const char *second = strstr(strstr(d->text, "Hexlock") + 1, "Hexlock");
    a->start = (int32_t)(second - d->text), a->end = a->start + 7;
    push_arg(d, &ev[2], "The Corvid Gang", "Tool");
    casie__actor_roles(d, ev, 3);
    assert_string_equal(casie_role_name(ev[1].args[0].role), "Attacker"); /* the same name elsewhere */
    assert_string_equal(casie_role_name(ev[2].args[0].role), "Attacker"); /* a named group */
    assert_string_equal(casie_entity_name(ev[2].args[0].entity), "Organization");
    for (int k = 0; k < 3; k++)
        casie__event_free(&ev[k]);
    /* which mentions name someone */
    const char *t2 = "Hackers hit Acme. Users of Acme were warned. Microsoft said the company and the gang were "
                     "unknown; REvil and APT28 were named, and 86 flaws.";
    casie_doc *e = casie_doc_from_text(t2, strlen(t2), "t", &err);
    assert_false(casie__mention_named(e, "Hackers", 0));
    assert_true(casie__mention_named(e, "Acme", 12));
    assert_false(casie__mention_named(e, "Users", 18));
    assert_true(casie__mention_named(e, "Microsoft", 45)); /* opens a sentence, never in lower case */
    assert_false(casie__mention_named(e, "the company", 60));
    assert_false(casie__mention_named(e, "the gang", 76));
    assert_true(casie__mention_named(e, "REvil", 99));
    assert_true(casie__mention_named(e, "APT28", 109));
    assert_false(casie__mention_named(e, "86 flaws", 131));
    casie_doc_free(e);
    casie_doc_free(d);
}

/* The ransom article: the gang is one intrusion set, never a tool; the
 * price and the victim count are in the campaign. */
static void ransom_article(void **state) {
    (void)state;
    casie_doc *d = extract(RANSOM);
    assert_string_equal(d->date, "2026_03_03");
    casie_error err = {0};
    char *js = casie_doc_to_stix(d, 0, NULL, &err);
    assert_non_null(js);
    assert_null(strstr(js, "\"type\": \"tool\""));
    assert_null(strstr(js, "\"name\": \"attackers\""));
    assert_null(strstr(js, "\"name\": \"customers\""));
    assert_non_null(strstr(js, "\"type\": \"intrusion-set\""));
    assert_non_null(strstr(js, "\"x_casie_price\""));
    assert_non_null(strstr(js, "300 Bitcoin"));
    casie_free(js);
    casie_doc_free(d);
}

/* A plain-text article without a headline or date: no title, and its
 * report is dated by the run. */
static void undated_text(void **state) {
    (void)state;
    casie_doc *d = extract(UNTITLED);
    assert_null(d->title);
    assert_null(d->date);
    casie_error err = {0};
    char *js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    char today[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "\"published\":\"%Y-%m-%dT", &tm);
    assert_true(strstr(js, today) || now % 86400 < 5);
    assert_null(strstr(js, "1970-01-01"));
    casie_free(js);
    casie_doc_free(d);
    /* dates as articles write them */
    const char *forms[][2] = {{"Title\nMarch 3, 2026\n\nText.", "2026_03_03"},
                              {"Title\n3 Mar 2026\nText.", "2026_03_03"},
                              {"Title\nPosted 2026/12/01 by staff\nText.", "2026_12_01"},
                              {"Title\nFebruary 30, 2026\nText.", NULL}};
    for (int k = 0; k < 4; k++) {
        casie_doc *x = casie_doc_from_text(forms[k][0], strlen(forms[k][0]), "t", &err);
        assert_non_null(x);
        assert_string_equal(x->title, "Title");
        if (forms[k][1])
            assert_string_equal(x->date, forms[k][1]);
        else
            assert_null(x->date);
        casie_doc_free(x);
    }
}

/* ---- patch language, the accurate model ---- */

/* The hoppers of d's PatchVulnerability event whose trigger contains word,
 * or -1. */
static int patch_hopper(const casie_doc *d, const char *word) {
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            if (!strcmp(casie_subtype_name(e->subtype), "PatchVulnerability") && strstr(e->text, word)) return h;
        }
    return -1;
}

/* A patch-day article in the words the fast model misses ("plugs",
 * "closed", "plugged"): the accurate model, whose encoder reads them, finds
 * a patch at "plugs", "plugged", "addressed" and "rolled out", an event at
 * "closed" (it reads it as a disclosure), the two CVE ids in two hoppers.
 * Skipped where the encoder is not installed. */
static void patch_language(void **state) {
    (void)state;
    casie_error err = {0};
    casie_model *acc = casie_model_open("accurate", NULL, &err);
    if (!acc) {
        print_message("skipped: %s\n", err.message);
        skip();
    }
    casie_doc *d = casie_doc_load(PATCH_LANGUAGE, &err);
    assert_non_null(d);
    assert_int_equal(casie_extract(acc, d, NULL, &err), CASIE_OK);
    const char *words[] = {"plugs", "plugged", "addressed", "rolled out"};
    for (int k = 0; k < 4; k++) {
        if (patch_hopper(d, words[k]) < 0) fail_msg("no patch event at \"%s\"", words[k]);
    }
    int closed = 0;
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++)
            closed |= !strcmp(d->hoppers[h].events[i].text, "closed");
    assert_true(closed);
    int cve_hopper[2] = {-1, -1};
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            for (int a = 0; a < e->n_args; a++)
                for (int k = 0; k < 2; k++)
                    if (!strcmp(e->args[a].text, k ? "CVE-2026-31191" : "CVE-2026-31190") &&
                        !strcmp(casie_role_name(e->args[a].role), "CVE"))
                        cve_hopper[k] = h;
        }
    assert_true(cve_hopper[0] >= 0 && cve_hopper[1] >= 0 && cve_hopper[0] != cve_hopper[1]);
    casie_doc_free(d);
    casie_model_free(acc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cve_forms),       cmocka_unit_test(cve_rule),     cmocka_unit_test(cve_rule_named),
        cmocka_unit_test(cve_rule_nearby), cmocka_unit_test(patch_day),    cmocka_unit_test(named_attackers),
        cmocka_unit_test(ransom_article),  cmocka_unit_test(undated_text), cmocka_unit_test(patch_language),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
