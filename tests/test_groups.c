/*
 * test_groups.c - the threat-group catalogue and what it does to STIX: the
 * catalogue file (tests/data/groups.tsv, a few MISP galaxy entries) loaded
 * and each kind of corrupt file refused with its file and line; mentions
 * matched to groups; one intrusion-set per group with its aliases and
 * catalogue reference, never a victim and never a tool of its own attack;
 * one bundle of many documents (casie_stix_*, and `casie extract --format
 * stix` over several inputs) with one object per CVE id and per group and a
 * report per document referring to its own objects; and, with the catalogue
 * scripts/fetch_groups.sh installs, how many attackers of the dev articles
 * are catalogue groups.  The texts are made up for these tests.
 */
#include "cli_common.h"

#include <jansson.h>

static const char *FIXTURE = "tests/data/groups.tsv";

/* ---- a document built by hand ---- */

typedef struct targ {
    const char *text, *role, *entity; /* text: the first occurrence in the article */
} targ;
typedef struct tevent {
    int hopper;
    const char *trigger, *subtype, *realis;
    targ args[6];
} tevent;

/* The code-point span of the first `s` in text. */
static void span(const char *text, const char *s, int *start, int *end) {
    const char *p = strstr(text, s);
    assert_non_null(p);
    int cp = 0;
    for (const char *q = text; q < p; q++)
        cp += ((unsigned char)*q & 0xC0) != 0x80;
    *start = cp;
    for (const char *q = p; q < p + strlen(s); q++)
        cp += ((unsigned char)*q & 0xC0) != 0x80;
    *end = cp;
}

static casie_doc *make_doc(const char *id, const char *date, const char *text, const tevent *ev, int n) {
    json_t *hoppers = json_array();
    int n_hoppers = 0;
    for (int i = 0; i < n; i++)
        n_hoppers = ev[i].hopper + 1 > n_hoppers ? ev[i].hopper + 1 : n_hoppers;
    for (int h = 0; h < n_hoppers; h++) {
        json_t *events = json_array();
        for (int i = 0; i < n; i++) {
            if (ev[i].hopper != h) continue;
            int s, e;
            span(text, ev[i].trigger, &s, &e);
            json_t *args = json_array();
            for (int a = 0; a < 6 && ev[i].args[a].text; a++) {
                int as, ae;
                span(text, ev[i].args[a].text, &as, &ae);
                json_array_append_new(args, json_pack("{s:s,s:i,s:i,s:s,s:s,s:{s:s}}", "index", "T", "startOffset", as,
                                                      "endOffset", ae, "text", ev[i].args[a].text, "type",
                                                      ev[i].args[a].entity, "role", "type", ev[i].args[a].role));
            }
            json_array_append_new(
                events, json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:i,s:i,s:s},s:o}", "index", "E", "type",
                                  !strcmp(ev[i].subtype, "PatchVulnerability") ? "Vulnerability-related" : "Attack",
                                  "subtype", ev[i].subtype, "realis", ev[i].realis, "nugget", "index", "T",
                                  "startOffset", s, "endOffset", e, "text", ev[i].trigger, "argument", args));
        }
        json_array_append_new(hoppers, json_pack("{s:i,s:s,s:o}", "index", h, "relation", "Same", "events", events));
    }
    json_t *doc = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:o}}", "content", text, "id", id, "info", "title", id, "date",
                            date, "type", "text", "cyberevent", "hopper", hoppers);
    assert_non_null(doc);
    char *js = json_dumps(doc, 0);
    json_decref(doc);
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(js, strlen(js), id, &err);
    if (!d) fail_msg("%s: %s", id, err.message);
    free(js);
    return d;
}

/* ---- the bundle ---- */

static json_t *bundle_of(const casie_groups *g, casie_doc **docs, int n) {
    casie_error err = {0};
    casie_stix *s = casie_stix_new(g, &err);
    assert_non_null(s);
    for (int i = 0; i < n; i++)
        assert_int_equal(casie_stix_add(s, docs[i], &err), CASIE_OK);
    char *js = casie_stix_write(s, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    casie_stix_free(s);
    json_t *b = json_loads(js, 0, NULL);
    assert_non_null(b);
    casie_free(js);
    return b;
}

static int count_type(json_t *b, const char *type) {
    int n = 0;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "objects"), i, o) n +=
        !strcmp(json_string_value(json_object_get(o, "type")), type);
    return n;
}

/* The first object of this type and name, or NULL. */
static json_t *named(json_t *b, const char *type, const char *name) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "objects"), i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "type")), type) &&
            (!name || !strcmp(json_string_value(json_object_get(o, "name")), name)))
            return o;
    }
    return NULL;
}

static json_t *by_id(json_t *b, const char *id) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "objects"), i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "id")), id)) return o;
    }
    return NULL;
}

/* Does report r refer to id? */
static int refers(json_t *r, const char *id) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r, "object_refs"), i, v) {
        if (!strcmp(json_string_value(v), id)) return 1;
    }
    return 0;
}

/* Is there a relationship of this type to id? */
static int rel_to(json_t *b, const char *rel, const char *id) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "objects"), i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "type")), "relationship") &&
            !strcmp(json_string_value(json_object_get(o, "relationship_type")), rel) &&
            !strcmp(json_string_value(json_object_get(o, "target_ref")), id))
            return 1;
    }
    return 0;
}

static const char *id_of(json_t *o) { return json_string_value(json_object_get(o, "id")); }

/* ======================================================================== */
/* The catalogue                                                            */
/* ======================================================================== */

static void load_fixture(void **state) {
    (void)state;
    casie_error err = {0};
    casie_groups *g = casie_groups_load(FIXTURE, &err);
    assert_non_null(g);
    assert_int_equal(casie_groups_count(g), 5);
    const casie_group *r = casie_groups_get(g, 0);
    assert_string_equal(r->name, "Sodinokibi");
    assert_string_equal(r->kind, "ransomware");
    assert_string_equal(r->id, "24bd9a4b-2b66-428b-8e1c-6b280b056c00");
    assert_string_equal(r->source, "misp-galaxy:ransomware");
    assert_int_equal(r->n_aliases, 2);
    assert_string_equal(r->aliases[0], "REvil");
    assert_string_equal(r->aliases[1], "Revil");
    assert_string_equal(casie_groups_get(g, 2)->url, "");
    assert_int_equal(casie_groups_get(g, 3)->n_aliases, 0);
    assert_null(casie_groups_get(g, 5));
    assert_null(casie_groups_get(g, -1));
    casie_groups_free(g);
    casie_groups_free(NULL);
    assert_null(casie_groups_load(NULL, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    assert_null(casie_groups_load("tests/data/no-such-groups.tsv", &err));
    assert_int_equal(err.code, CASIE_ERR_IO);
    assert_non_null(strstr(err.message, "tests/data/no-such-groups.tsv"));
}

/* Each corrupt file is refused with CASIE_ERR_PARSE, naming file and line. */
static void corrupt_files(void **state) {
    (void)state;
    static const char OK[] =
        "ransomware\t24bd9a4b-2b66-428b-8e1c-6b280b056c00\tmisp-galaxy:ransomware\tSodinokibi\tREvil\t\n";
    static const struct {
        const char *body;
        int line;
        const char *says;
    } CASES[] = {
        {"name\tid\n", 1, "not a casie group catalogue"},
        {"", 1, "not a casie group catalogue"},
        {"# casie groups 2\n", 1, "format this casie does not read"},
        {"# casie groups 1\n# c\n\nactor\t981402be-3b2d-4310-a7c6-c773aec869c1\tx\tStorm-2603\t\n", 4, "not 6"},
        {"# casie groups 1\nbotnet\t981402be-3b2d-4310-a7c6-c773aec869c1\tx\tStorm-2603\t\t\n", 2, "kind"},
        {"# casie groups 1\nactor\t981402be-3b2d\tx\tStorm-2603\t\t\n", 2, "not a UUID"},
        {"# casie groups 1\nactor\t981402be-3b2d-4310-a7c6-c773aec869c1\tx\t\t\t\n", 2, "no name"},
        {"# casie groups 1\nactor\t981402be-3b2d-4310-a7c6-c773aec869c1\tx\tStorm\t\tjavascript:x\n", 2, "url"},
        {"# casie groups 1\nactor\t981402be-3b2d-4310-a7c6-c773aec869c1\tx\tStorm\tA||B\t\n", 2, "empty alias"},
        {"# casie groups 1\nactor\t981402be-3b2d-4310-a7c6-c773aec869c1\tx\tSt\xff\t\t\n", 2, "invalid UTF-8"},
        {"# casie groups 1\nactor\t981402be-3b2d-4310-a7c6-c773aec869c1\tx\tSt\x01\t\t\n", 2, "control character"},
        {"# casie groups 1\n%sactor\t24bd9a4b-2b66-428b-8e1c-6b280b056c00\tx\tOther\t\t\n", 3, "id given twice"},
        {"# casie groups 1\n%s#\n", 4, "a NUL byte"}, /* a line of a NUL and "x" appended below */
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        char body[1024], name[32];
        snprintf(body, sizeof body, CASES[i].body, OK);
        snprintf(name, sizeof name, "bad%zu.tsv", i);
        const char *path = cli_write(name, body);
        if (strstr(CASES[i].says, "NUL")) { /* cli_write stops at a NUL: append one */
            FILE *f = fopen(path, "ab");
            assert_non_null(f);
            assert_int_equal(fwrite("\0x\n", 1, 3, f), 3);
            fclose(f);
        }
        casie_error err = {0};
        casie_groups *g = casie_groups_load(path, &err);
        if (g) fail_msg("case %zu loaded", i);
        assert_int_equal(err.code, CASIE_ERR_PARSE);
        char where[300];
        snprintf(where, sizeof where, "%s:%d: ", path, CASES[i].line);
        if (strncmp(err.message, where, strlen(where)) || !strstr(err.message, CASES[i].says))
            fail_msg("case %zu: \"%s\", wanted %s... %s", i, err.message, where, CASES[i].says);
        assert_int_equal(err.position, CASES[i].line);
    }
}

static void match_mentions(void **state) {
    (void)state;
    casie_error err = {0};
    casie_groups *g = casie_groups_load(FIXTURE, &err);
    assert_non_null(g);
    static const struct {
        const char *mention, *group; /* NULL: none */
    } CASES[] = {
        {"REvil", "Sodinokibi"},
        {"Sodinokibi", "Sodinokibi"},
        {"Ransomware gang \xe2\x80\x9cREvil\xe2\x80\x9d", "Sodinokibi"},
        {"the REvil ransomware gang's", "Sodinokibi"},
        {"\"REVIL\"", "Sodinokibi"},
        {"BlackCat", "BlackCat"},
        {"ALPHV", "BlackCat"},
        {"the ALPHV/BlackCat gang", NULL},
        {"ALPHV operators", "BlackCat"},
        {"LockBit", "LockBit"},
        {"Lockbit", "LockBit"},
        {"LockBit 3.0", "LockBit"},
        {"the LockBit ransomware", "LockBit"},
        {"ABCD ransomware", "LockBit"},
        {"Storm-2603", "Storm-2603"},
        {"the Storm-2603 group", "Storm-2603"},
        {"Lazarus", "Lazarus Group"},
        {"the Lazarus Group hackers", "Lazarus Group"},
        {"revil", NULL}, /* not written as a name */
        {"lazarus group", NULL},
        {"hackers", NULL},
        {"Ransomware", NULL},
        {"The ransomware gang", NULL},
        {"Acme Corp", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        const casie_group *r = casie_groups_match(g, CASES[i].mention);
        if (!CASES[i].group != !r || (r && strcmp(r->name, CASES[i].group)))
            fail_msg("\"%s\": %s, wanted %s", CASES[i].mention, r ? r->name : "none",
                     CASES[i].group ? CASES[i].group : "none");
    }
    assert_null(casie_groups_match(NULL, "REvil"));
    assert_null(casie_groups_match(g, NULL));
    casie_groups_free(g);
}

/* ======================================================================== */
/* Groups in STIX                                                           */
/* ======================================================================== */

/* Ransomware gang "REvil" attacks, names its malware after itself, and
 * a victim that is a catalogue group (an extraction mistake); BlackCat and
 * ALPHV attack in another incident; The Dark Overlord is not in the
 * catalogue. */
static const char *TEXT1 =
    "Ransomware gang \xe2\x80\x9cREvil\xe2\x80\x9d encrypted the servers of Acme Corp with "
    "the REvil ransomware and hit LockBit too. BlackCat breached Initech. ALPHV stole records of Initech. "
    "The Dark Overlord phished Globex.";

static casie_doc *doc1(void) {
    const tevent ev[] = {
        {0,
         "encrypted",
         "Ransom",
         "Actual",
         {{"Ransomware gang", "Attacker", "Organization"},
          {"Acme Corp", "Victim", "Organization"},
          {"the REvil ransomware", "Tool", "Malware"},
          {"LockBit", "Victim", "Organization"}}},
        {1,
         "breached",
         "Databreach",
         "Actual",
         {{"BlackCat", "Attacker", "Organization"}, {"Initech", "Victim", "Organization"}}},
        {1,
         "stole",
         "Databreach",
         "Actual",
         {{"ALPHV", "Attacker", "Organization"}, {"Initech", "Victim", "Organization"}}},
        {2,
         "phished",
         "Phishing",
         "Actual",
         {{"The Dark Overlord", "Attacker", "Organization"}, {"Globex", "Victim", "Organization"}}},
    };
    return make_doc("groups1", "2024_03_01", TEXT1, ev, 4);
}

static void stix_groups(void **state) {
    (void)state;
    casie_error err = {0};
    casie_groups *g = casie_groups_load(FIXTURE, &err);
    assert_non_null(g);
    casie_doc *d = doc1();
    json_t *b = bundle_of(g, &d, 1);
    /* one intrusion-set per group: REvil as Sodinokibi, BlackCat and ALPHV as one */
    json_t *revil = named(b, "intrusion-set", "Sodinokibi"), *cat = named(b, "intrusion-set", "BlackCat");
    assert_non_null(revil);
    assert_non_null(cat);
    assert_null(named(b, "intrusion-set", "ALPHV"));
    assert_null(named(b, "threat-actor", "ALPHV"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(cat, "aliases"), 0)), "ALPHV");
    json_t *ref = json_array_get(json_object_get(revil, "external_references"), 0);
    assert_string_equal(json_string_value(json_object_get(ref, "source_name")), "misp-galaxy:ransomware");
    assert_string_equal(json_string_value(json_object_get(ref, "external_id")), "24bd9a4b-2b66-428b-8e1c-6b280b056c00");
    assert_string_equal(json_string_value(json_object_get(ref, "url")),
                        "https://blog.talosintelligence.com/2019/04/sodinokibi-ransomware-exploits-weblogic.html");
    assert_true(rel_to(b, "attributed-to", id_of(revil)));
    assert_true(rel_to(b, "attributed-to", id_of(cat)));
    /* a group is no tool of its own attack, and never a victim */
    assert_null(named(b, "malware", NULL));
    assert_null(named(b, "tool", NULL));
    assert_null(named(b, "identity", "LockBit"));
    assert_null(named(b, "intrusion-set", "LockBit"));
    assert_non_null(named(b, "identity", "Acme Corp"));
    assert_true(rel_to(b, "targets", id_of(named(b, "identity", "Acme Corp"))));
    /* an attacker not in the catalogue: as before */
    assert_non_null(named(b, "intrusion-set", "The Dark Overlord") ? named(b, "intrusion-set", "The Dark Overlord")
                                                                   : named(b, "threat-actor", "The Dark Overlord"));
    assert_int_equal(count_type(b, "intrusion-set") + count_type(b, "threat-actor"), 3);
    assert_non_null(named(b, "campaign", "Ransom by Sodinokibi against Acme Corp"));
    json_decref(b);
    /* without the catalogue: named as written, as casie_doc_to_stix does */
    b = bundle_of(NULL, &d, 1);
    assert_null(named(b, "intrusion-set", "Sodinokibi"));
    assert_non_null(named(b, "malware", "the REvil ransomware"));
    json_decref(b);
    casie_doc_free(d);
    casie_groups_free(g);
}

/* ======================================================================== */
/* One bundle of many documents                                             */
/* ======================================================================== */

static const char *TEXT2 = "LockBit attacked Umbrella Health and exploited CVE-2023-4966 in its gateway.";
static const char *TEXT3 = "The LockBit ransomware gang hit Soylent. It exploited CVE-2023-4966 again.";

static casie_doc *doc_cve(const char *id, const char *text, const char *victim) {
    const tevent ev[] = {
        {0,
         "attacked",
         "Ransom",
         "Actual",
         {{"LockBit", "Attacker", "Organization"}, {victim, "Victim", "Organization"}}},
        {1, "exploited", "Databreach", "Actual", {{"CVE-2023-4966", "CVE", "CVE"}}},
    };
    tevent e[2];
    memcpy(e, ev, sizeof e);
    if (strstr(text, " hit ")) e[0].trigger = "hit", e[0].args[0].text = "The LockBit ransomware gang";
    return make_doc(id, "2024_05_02", text, e, 2);
}

static void many_documents(void **state) {
    (void)state;
    casie_error err = {0};
    casie_groups *g = casie_groups_load(FIXTURE, &err);
    assert_non_null(g);
    casie_doc *d[3] = {doc_cve("cve-a", TEXT2, "Umbrella Health"), doc_cve("cve-b", TEXT3, "Soylent"), doc1()};
    json_t *b = bundle_of(g, d, 3);
    /* one vulnerability per CVE id, one intrusion-set per group */
    assert_int_equal(count_type(b, "report"), 3);
    assert_int_equal(count_type(b, "vulnerability"), 1);
    json_t *lb = named(b, "intrusion-set", "LockBit"), *vuln = named(b, "vulnerability", "CVE-2023-4966");
    assert_non_null(lb);
    assert_non_null(vuln);
    /* LockBit, Sodinokibi, BlackCat, The Dark Overlord */
    assert_int_equal(count_type(b, "intrusion-set") + count_type(b, "threat-actor"), 4);
    json_t *objs = json_object_get(b, "objects"), *r[3];
    for (int i = 0; i < 3; i++) { /* reports first, in the order added */
        r[i] = json_array_get(objs, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(r[i], "type")), "report");
    }
    assert_string_equal(json_string_value(json_object_get(r[0], "name")), "cve-a");
    assert_true(refers(r[0], id_of(lb)) && refers(r[1], id_of(lb)) && !refers(r[2], id_of(lb)));
    assert_true(refers(r[0], id_of(vuln)) && refers(r[1], id_of(vuln)) && !refers(r[2], id_of(vuln)));
    /* each report its own: victims and campaigns are per article */
    json_t *umb = named(b, "identity", "Umbrella Health"), *soy = named(b, "identity", "Soylent");
    assert_true(refers(r[0], id_of(umb)) && !refers(r[1], id_of(umb)));
    assert_true(refers(r[1], id_of(soy)) && !refers(r[0], id_of(soy)));
    assert_true(refers(r[2], id_of(named(b, "intrusion-set", "Sodinokibi"))));
    /* every ref resolves, every object is referred to, ids are unique */
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o) {
        int found = 0;
        for (int k = 0; k < 3; k++) {
            size_t j;
            json_t *v;
            json_array_foreach(json_object_get(r[k], "object_refs"), j, v) {
                assert_non_null(by_id(b, json_string_value(v)));
                found |= !strcmp(json_string_value(v), id_of(o));
            }
        }
        if (strcmp(json_string_value(json_object_get(o, "type")), "report")) assert_true(found);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(id_of(json_array_get(objs, j)), id_of(o));
    }
    json_decref(b);
    /* the same document twice: one report */
    casie_doc *twice[2] = {d[0], d[0]};
    b = bundle_of(g, twice, 2);
    assert_int_equal(count_type(b, "report"), 1);
    json_decref(b);
    /* a bundle of one is what casie_doc_to_stix writes, catalogue aside */
    char *one = casie_doc_to_stix(d[0], CASIE_JSON_COMPACT, NULL, &err);
    casie_stix *s = casie_stix_new(NULL, &err);
    assert_int_equal(casie_stix_add(s, d[0], &err), CASIE_OK);
    char *same = casie_stix_write(s, CASIE_JSON_COMPACT, NULL, &err);
    assert_string_equal(one, same);
    assert_int_equal(casie_stix_add(s, NULL, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie_stix_add(NULL, d[0], &err), CASIE_ERR_INVALID_ARG);
    casie_free(one);
    casie_free(same);
    casie_stix_free(s);
    for (int k = 0; k < 3; k++)
        casie_doc_free(d[k]);
    casie_groups_free(g);
}

/* `casie extract --format stix` over several inputs: one bundle, on stdout
 * or as DIR/bundle.json. */
static void cli_one_bundle(void **state) {
    (void)state;
    char args[2048], a[256], b2[256], c[256];
    snprintf(a, sizeof a, "%s",
             cli_write("a.txt", "Ransomware gang \xe2\x80\x9cREvil\xe2\x80\x9d encrypted the servers "
                                "of Kaseya and demanded $70 million. They exploited CVE-2021-30116."));
    snprintf(b2, sizeof b2, "%s",
             cli_write("b.txt", "ALPHV operators demanded $5 million in bitcoin from Reedcorp. "
                                "The hackers exploited CVE-2021-30116."));
    snprintf(c, sizeof c, "%s", cli_write("c.txt", "Hackers breached Meridian Bank and stole customer records."));
    char *out, *err;
    snprintf(args, sizeof args, "extract -m fast --format stix --groups %s %s %s %s", FIXTURE, a, b2, c);
    assert_int_equal(cli_run(args, &out, &err), 0);
    json_error_t je;
    json_t *bundle = json_loads(out, JSON_DISABLE_EOF_CHECK, &je);
    assert_non_null(bundle);
    assert_int_equal(cli_count(out, "\"type\":\"bundle\""), 1); /* one bundle, not one a document */
    assert_int_equal(count_type(bundle, "report"), 3);
    assert_true(count_type(bundle, "vulnerability") <= 1);
    json_decref(bundle);
    free(out), free(err);
    /* -o DIR: DIR/bundle.json, the same bundle */
    snprintf(args, sizeof args, "extract -m fast --format stix --groups %s -o %s/out %s %s %s", FIXTURE, cli_tmpdir, a,
             b2, c);
    assert_int_equal(cli_run(args, &out, &err), 0);
    free(out), free(err);
    char path[256];
    snprintf(path, sizeof path, "%s/out/bundle.json", cli_tmpdir);
    char *file = cli_slurp(path);
    bundle = json_loads(file, 0, NULL);
    assert_non_null(bundle);
    assert_int_equal(count_type(bundle, "report"), 3);
    json_decref(bundle);
    free(file);
    snprintf(path, sizeof path, "%s/out/a.json", cli_tmpdir);
    assert_int_not_equal(access(path, F_OK), 0);
    /* a catalogue asked for must load */
    snprintf(args, sizeof args, "extract -m fast --format stix --groups %s/bad0.tsv %s", cli_tmpdir, a);
    cli_write("bad0.tsv", "no catalogue\n");
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "bad0.tsv:1:"));
    free(out), free(err);
}

/* With the catalogue scripts/fetch_groups.sh installs: the dev articles'
 * attackers (fast model) that are catalogue groups, and one bundle of all
 * 100 with one object per group. */
static void dev_attackers(void **state) {
    (void)state;
    const char *ci = getenv("CI");
    const char *corpus = test_corpus();
    if (!corpus) skip();
    casie_error err = {0};
    casie_groups *g = casie_groups_open(NULL, &err);
    if (!g) {
        if (ci && !strcmp(ci, "true")) fail_msg("%s", err.message);
        printf("skipped: %s\n", err.message);
        skip();
    }
    printf("groups: %d in the catalogue\n", casie_groups_count(g));
    casie_model *m = casie_model_load("models/casie-fast.model", &err);
    assert_non_null(m);
    casie_corpus *dv = test_split(corpus, "dev", 0);
    assert_non_null(dv);
    casie_stix *s = casie_stix_new(g, &err);
    int attackers = 0, in_catalogue = 0;
    const int R_ATTACKER = casie_role_from_name("Attacker");
    for (int i = 0; i < dv->n_docs; i++) {
        casie_doc *d = dv->docs[i];
        assert_int_equal(casie_extract(m, d, NULL, &err), CASIE_OK);
        for (int h = 0; h < d->n_hoppers; h++)
            for (int e = 0; e < d->hoppers[h].n_events; e++)
                for (int a = 0; a < d->hoppers[h].events[e].n_args; a++) {
                    const casie_arg *x = &d->hoppers[h].events[e].args[a];
                    if (x->role != R_ATTACKER || !x->text) continue;
                    attackers++;
                    const casie_group *r = casie_groups_match(g, x->text);
                    if (r) printf("group: \"%s\" -> %s (%s)\n", x->text, r->name, r->kind), in_catalogue++;
                }
        assert_int_equal(casie_stix_add(s, d, &err), CASIE_OK);
    }
    char *js = casie_stix_write(s, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    json_t *b = json_loads(js, 0, NULL);
    assert_non_null(b);
    int sets = count_type(b, "intrusion-set"), from_catalogue = 0;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "objects"), i, o) {
        json_t *r = json_array_get(json_object_get(o, "external_references"), 0);
        const char *src = json_string_value(json_object_get(r, "source_name"));
        from_catalogue += !strcmp(json_string_value(json_object_get(o, "type")), "intrusion-set") && src &&
                          !strncmp(src, "misp-galaxy:", 12);
    }
    printf("groups: %d of %d attacker mentions of the dev articles are catalogue groups; one bundle of %d reports "
           "has %d intrusion-sets, %d from the catalogue, %d vulnerabilities\n",
           in_catalogue, attackers, count_type(b, "report"), sets, from_catalogue, count_type(b, "vulnerability"));
    assert_int_equal(count_type(b, "report"), dv->n_docs);
    assert_true(in_catalogue > 0 && from_catalogue > 0);
    json_decref(b);
    casie_free(js);
    casie_stix_free(s);
    casie_corpus_free(dv);
    casie_model_free(m);
    casie_groups_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_fixture),  cmocka_unit_test(corrupt_files),  cmocka_unit_test(match_mentions),
        cmocka_unit_test(stix_groups),   cmocka_unit_test(many_documents), cmocka_unit_test(cli_one_bundle),
        cmocka_unit_test(dev_attackers),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
