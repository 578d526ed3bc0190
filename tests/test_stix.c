/*
 * test_stix.c - STIX 2.1 bundles: SHA-1 and UUIDv5 against published vectors,
 * the naming heuristics, the exact objects, ids and relationships of a small
 * document, deterministic bytes, and every bundle of the dev articles
 * (extracted with the default model) valid against the official STIX 2.1 JSON
 * schemas (../shared/stix2-schemas, checked with ajv by tests/stix/validate.js,
 * which also checks property names, vocabularies, references and the
 * relationship tables).
 *
 * Includes src/stix.c to reach its static functions (the library's copy of
 * casie_doc_to_stix is then not linked in).
 */
#include "cli_common.h"

#include "../src/uuid5.c"
#include "../src/stix_build.c"
#include "../src/stix.c"
#include "../src/cve_id.h"
#include "../src/uuid5.h"

#include <time.h>

static const char *DOC =
    "{\"content\": \"Hackers used the Locky ransomware against Acme Corp. Microsoft released a patch for "
    "CVE-2017-0144.\", \"sourcefile\": \"t1.txt\", \"info\": {\"title\": \"Test\", \"date\": \"2017_05_14\", "
    "\"type\": \"text\", \"link\": \"https://example.org/a\"}, \"cyberevent\": {\"hopper\": ["
    "{\"index\": 0, \"relation\": \"Same\", \"events\": [{\"index\": \"E1\", \"type\": \"Attack\", \"subtype\": "
    "\"Ransom\", \"realis\": \"Actual\", \"nugget\": {\"index\": \"T1\", \"startOffset\": 8, \"endOffset\": 12, "
    "\"text\": \"used\"}, \"argument\": ["
    "{\"index\": \"T2\", \"startOffset\": 0, \"endOffset\": 7, \"text\": \"Hackers\", \"type\": \"Person\", "
    "\"role\": {\"type\": \"Attacker\"}},"
    "{\"index\": \"T3\", \"startOffset\": 13, \"endOffset\": 33, \"text\": \"the Locky ransomware\", \"type\": "
    "\"Malware\", \"role\": {\"type\": \"Tool\"}},"
    "{\"index\": \"T4\", \"startOffset\": 42, \"endOffset\": 51, \"text\": \"Acme Corp\", \"type\": "
    "\"Organization\", \"role\": {\"type\": \"Victim\"}}]}]},"
    "{\"index\": 1, \"relation\": \"Same\", \"events\": [{\"index\": \"E2\", \"type\": \"Vulnerability-related\", "
    "\"subtype\": \"PatchVulnerability\", \"realis\": \"Actual\", \"nugget\": {\"index\": \"T5\", \"startOffset\": 63, "
    "\"endOffset\": 71, \"text\": \"released\"}, \"argument\": ["
    "{\"index\": \"T6\", \"startOffset\": 53, \"endOffset\": 62, \"text\": \"Microsoft\", \"type\": \"Organization\", "
    "\"role\": {\"type\": \"Releaser\"}},"
    "{\"index\": \"T7\", \"startOffset\": 72, \"endOffset\": 79, \"text\": \"a patch\", \"type\": \"Patch\", "
    "\"role\": {\"type\": \"Patch\"}},"
    "{\"index\": \"T8\", \"startOffset\": 84, \"endOffset\": 97, \"text\": \"CVE-2017-0144\", \"type\": \"CVE\", "
    "\"role\": {\"type\": \"CVE\"}}]}]}]}}";

/* Ids computed independently (Python: uuid.uuid5(UUID("4b1e7c2a-9355-4f0d-a638-e1275c90b46f"), key)). */
#define ID_ACTOR "threat-actor--b33026a4-2bec-557c-8c0c-3d166cdf8e05"    /* threat-actor|t1|hackers */
#define ID_VICTIM "identity--75977a18-9437-563e-b591-10d47301f75e"       /* identity|t1|acme corp */
#define ID_VULN "vulnerability--7ea84ca1-e2b8-5df1-820d-10a17bff2151"    /* vulnerability||cve-2017-0144 */
#define ID_RANSOM "attack-pattern--a21684e1-fd56-5d60-8569-bcc0f580feb0" /* attack-pattern|t1|ransom */
#define ID_LOCKY "malware--a79a088d-03ca-5e4d-ad8a-f9410071d76e"         /* malware|t1|locky ransomware */
#define ID_PATCH                                                                                                       \
    "course-of-action--bd51f534-df23-57d9-b12f-9a12264f550f"     /* course-of-action|t1|patch for cve-2017-0144 */
#define ID_MSFT "identity--5ca848c7-8a2e-549b-a8ea-227e7ae67073" /* identity|t1|microsoft */

static void hex(const unsigned char *h, int n, char *out) {
    for (int i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static void sha1_and_uuid5_vectors(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } V[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        sha1 s;
        unsigned char h[20];
        char got[41];
        sha1_init(&s);
        sha1_update(&s, V[i].in, strlen(V[i].in));
        sha1_final(&s, h);
        hex(h, 20, got);
        assert_string_equal(got, V[i].want);
    }
    /* a million 'a', fed in uneven pieces */
    sha1 s;
    unsigned char h[20];
    char got[41], a[997];
    memset(a, 'a', sizeof a);
    sha1_init(&s);
    for (size_t left = 1000000; left;) {
        size_t k = left < sizeof a ? left : sizeof a;
        sha1_update(&s, a, k);
        left -= k;
    }
    sha1_final(&s, h);
    hex(h, 20, got);
    assert_string_equal(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    /* RFC 4122 / Python: uuid5(NAMESPACE_DNS, "python.org") */
    static const unsigned char DNS[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                          0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char u[37];
    casie__uuid5(DNS, "python.org", u);
    assert_string_equal(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    char id[ID_MAX];
    casie__stix_id(id, "threat-actor", "threat-actor|t1|hackers");
    assert_string_equal(id, ID_ACTOR);
}

static void names(void **state) {
    (void)state;
    char *n = casie__stix_normalize("  The   Dark\tOverlord. ");
    assert_string_equal(n, "dark overlord");
    free(n);
    n = casie__stix_normalize("ÄCME Ｃｏｒｐ"); /* NFKC case folding: fullwidth letters too */
    assert_string_equal(n, "äcme corp");
    free(n);
    n = casie__stix_normalize("They");
    assert_true(is_pronoun(n));
    free(n);
    n = casie__stix_normalize("the hackers");
    assert_false(is_pronoun(n));
    free(n);

    assert_true(casie__is_group_name("APT28"));
    assert_true(casie__is_group_name("the APT10 hacking group"));
    assert_true(casie__is_group_name("FIN7"));
    assert_true(casie__is_group_name("Lazarus Group"));
    assert_true(casie__is_group_name("The Turkish Crime Family"));
    assert_true(casie__is_group_name("Fancy Bear"));
    assert_true(casie__is_group_name("XMR Squad"));
    assert_false(casie__is_group_name("The group"));
    assert_false(casie__is_group_name("This one group"));
    assert_false(casie__is_group_name("a group of hackers"));
    assert_false(casie__is_group_name("A Chinese hacking group"));
    assert_false(casie__is_group_name("Hacking groups"));
    assert_false(casie__is_group_name("Hackers"));
    assert_false(casie__is_group_name("TAX"));

    char c[MAX_CVES][32];
    assert_int_equal(casie__stix_find_cves("CVE-2017-0144 and cve-2017-0145, again CVE-2017-0144", c, MAX_CVES), 2);
    assert_string_equal(c[0], "CVE-2017-0144");
    assert_string_equal(c[1], "CVE-2017-0145");
    assert_int_equal(casie__stix_find_cves("CVE-2018-1000001", c, MAX_CVES), 1);
    assert_string_equal(c[0], "CVE-2018-1000001");
    assert_int_equal(casie__stix_find_cves("CVE-2017-01443 CVE-2017-014 CVE-17-0144 XCVE-2017-0144", c, MAX_CVES), 0);

    char ts[32];
    assert_true(parse_date("2017_05_14", ts));
    assert_string_equal(ts, "2017-05-14T00:00:00.000Z");
    assert_true(parse_date("2016-02-29", ts));
    assert_false(parse_date("2017_02_29", ts));
    assert_false(parse_date("2017_13_01", ts));
    assert_false(parse_date("2017_05_14x", ts));
    assert_false(parse_date("May 2017", ts));
}

/* The object with this id in the bundle's objects, or NULL. */
static json_t *object(json_t *bundle, const char *id) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "id")), id)) return o;
    }
    return NULL;
}

static int count_type(json_t *bundle, const char *type) {
    size_t i;
    json_t *o;
    int n = 0;
    json_array_foreach(json_object_get(bundle, "objects"), i, o) {
        n += !strcmp(json_string_value(json_object_get(o, "type")), type);
    }
    return n;
}

/* Whether the bundle has relationship src -rel-> dst. */
static int has_rel(json_t *bundle, const char *src, const char *rel, const char *dst) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o) {
        const char *s = json_string_value(json_object_get(o, "source_ref")),
                   *r = json_string_value(json_object_get(o, "relationship_type")),
                   *d = json_string_value(json_object_get(o, "target_ref"));
        if (s && r && d && !strcmp(s, src) && !strcmp(r, rel) && !strcmp(d, dst)) return 1;
    }
    return 0;
}

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static void structure_and_determinism(void **state) {
    (void)state;
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(DOC, strlen(DOC), "t1", &err);
    assert_non_null(d);
    assert_int_equal(d->n_issues, 0);
    size_t len = 0;
    char *a = casie_doc_to_stix(d, CASIE_JSON_COMPACT, &len, &err),
         *b = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(len, strlen(a));
    assert_string_equal(a, b); /* same document, same bytes */
    casie_free(b);
    json_error_t jerr;
    json_t *bundle = json_loads(a, 0, &jerr);
    assert_non_null(bundle);
    assert_string_equal(str(bundle, "type"), "bundle");
    assert_int_equal(json_object_size(bundle), 3);
    json_t *objs = json_object_get(bundle, "objects");
    /* report, campaign, attack-pattern, malware, identity (victim),
     * vulnerability, course-of-action, identity (vendor) and 5
     * relationships; "Hackers" names nobody: no threat-actor */
    assert_int_equal(json_array_size(objs), 13);
    assert_int_equal(count_type(bundle, "relationship"), 5);

    json_t *report = json_array_get(objs, 0);
    assert_string_equal(str(report, "type"), "report");
    assert_string_equal(str(report, "spec_version"), "2.1");
    assert_string_equal(str(report, "name"), "Test");
    assert_string_equal(str(report, "published"), "2017-05-14T00:00:00.000Z");
    assert_string_equal(str(report, "created"), "2017-05-14T00:00:00.000Z");
    assert_string_equal(str(report, "description"), "2 events (1 Ransom, 1 PatchVulnerability) found by casie");
    char *refs = json_dumps(json_object_get(report, "external_references"), JSON_COMPACT);
    assert_string_equal(refs, "[{\"source_name\":\"article\",\"url\":\"https://example.org/a\"}]");
    free(refs);
    refs = json_dumps(json_object_get(report, "report_types"), JSON_COMPACT);
    assert_string_equal(refs, "[\"threat-report\"]");
    free(refs);
    /* the report refers to every other object, in bundle order */
    json_t *orefs = json_object_get(report, "object_refs");
    assert_int_equal(json_array_size(orefs), 12);
    for (size_t i = 0; i < 12; i++)
        assert_string_equal(json_string_value(json_array_get(orefs, i)), str(json_array_get(objs, i + 1), "id"));

    json_t *camp = json_array_get(objs, 1);
    assert_string_equal(str(camp, "type"), "campaign");
    assert_string_equal(str(camp, "name"), "Ransom against Acme Corp");
    assert_string_equal(str(camp, "description"), "Ransom incident, 1 mention (\"used\"), reported in \"Test\"");
    const char *cid = str(camp, "id");

    json_t *o;
    assert_null(object(bundle, ID_ACTOR));
    assert_int_equal(count_type(bundle, "threat-actor"), 0);
    assert_non_null(o = object(bundle, ID_VICTIM));
    assert_string_equal(str(o, "identity_class"), "organization");
    assert_non_null(o = object(bundle, ID_LOCKY));
    assert_string_equal(str(o, "name"), "the Locky ransomware");
    assert_true(json_is_false(json_object_get(o, "is_family")));
    assert_non_null(o = object(bundle, ID_RANSOM));
    assert_string_equal(str(o, "name"), "Ransom");
    assert_non_null(o = object(bundle, ID_PATCH)); /* "a patch" names nothing: named by what it fixes */
    assert_string_equal(str(o, "name"), "Patch for CVE-2017-0144");
    assert_string_equal(str(o, "description"), "a patch");
    assert_non_null(o = object(bundle, ID_MSFT));
    assert_string_equal(str(o, "identity_class"), "organization");
    assert_non_null(o = object(bundle, ID_VULN));
    assert_string_equal(str(o, "name"), "CVE-2017-0144");
    refs = json_dumps(json_object_get(o, "external_references"), JSON_COMPACT);
    assert_string_equal(refs, "[{\"source_name\":\"cve\",\"external_id\":\"CVE-2017-0144\"}]");
    free(refs);

    assert_true(has_rel(bundle, cid, "targets", ID_VICTIM));
    assert_true(has_rel(bundle, ID_PATCH, "related-to", ID_MSFT)); /* released by */
    assert_true(has_rel(bundle, cid, "uses", ID_LOCKY));
    assert_true(has_rel(bundle, cid, "uses", ID_RANSOM));
    assert_true(has_rel(bundle, ID_PATCH, "mitigates", ID_VULN));

    /* every object: the common properties, created = modified = the article date */
    size_t i;
    json_array_foreach(objs, i, o) {
        assert_string_equal(str(o, "spec_version"), "2.1");
        assert_string_equal(str(o, "created"), "2017-05-14T00:00:00.000Z");
        assert_string_equal(str(o, "modified"), "2017-05-14T00:00:00.000Z");
        const char *id = str(o, "id"), *type = str(o, "type");
        size_t tl = strlen(type);
        assert_int_equal(strlen(id), tl + 2 + 36);
        assert_memory_equal(id, type, tl);
        assert_int_equal(id[tl + 2 + 14], '5');           /* UUID version 5 */
        assert_non_null(strchr("89ab", id[tl + 2 + 19])); /* RFC 4122 variant */
    }
    json_decref(bundle);

    /* indented output is the same bundle */
    b = casie_doc_to_stix(d, 0, NULL, &err);
    assert_non_null(b);
    json_t *x = json_loads(a, 0, &jerr), *y = json_loads(b, 0, &jerr);
    assert_true(json_equal(x, y));
    assert_non_null(strchr(b, '\n'));
    json_decref(x);
    json_decref(y);
    casie_free(a);
    casie_free(b);
    casie_doc_free(d);
}

/* The span of the first occurrence of text in d's (ASCII) text. */
static void span_of(const casie_doc *d, const char *text, int32_t *start, int32_t *end) {
    const char *p = strstr(d->text, text);
    assert_non_null(p);
    *start = (int32_t)(p - d->text);
    *end = *start + (int32_t)strlen(text);
}

/* Adds an argument to event e (span set from the first occurrence of text). */
static void add_arg(casie_doc *d, casie_event *e, const char *text, const char *role, const char *entity) {
    e->args = realloc(e->args, (size_t)(e->n_args + 1) * sizeof *e->args);
    assert_non_null(e->args);
    casie_arg *g = &e->args[e->n_args++];
    memset(g, 0, sizeof *g);
    span_of(d, text, &g->start, &g->end);
    g->text = strdup(text);
    g->role = casie_role_from_name(role);
    g->entity = casie_entity_from_name(entity);
    g->score = -1;
}

/* A second event in the last hopper, of this realis. */
static casie_event *add_same_event(casie_doc *d, const char *trigger, int subtype, int realis) {
    casie_hopper *h = &d->hoppers[d->n_hoppers - 1];
    h->events = realloc(h->events, (size_t)(h->n_events + 1) * sizeof *h->events);
    assert_non_null(h->events);
    casie_event *e = &h->events[h->n_events++];
    memset(e, 0, sizeof *e);
    span_of(d, trigger, &e->start, &e->end);
    e->text = strdup(trigger);
    e->subtype = subtype;
    e->realis = realis;
    e->score = -1;
    return e;
}

/* A new hopper of one actual event. */
static casie_event *add_hopper_event(casie_doc *d, const char *trigger, int subtype) {
    d->hoppers = realloc(d->hoppers, (size_t)(d->n_hoppers + 1) * sizeof *d->hoppers);
    assert_non_null(d->hoppers);
    memset(&d->hoppers[d->n_hoppers++], 0, sizeof *d->hoppers);
    return add_same_event(d, trigger, subtype, CASIE_REALIS_ACTUAL);
}

/* One entity named in two events (in two spellings) is one object; pronouns
 * are left out; a named group is an intrusion set; a vulnerability mention is
 * named by the event's CVE. */
static void entities_across_events(void **state) {
    (void)state;
    const char *text = "The hackers breached Acme. Hackers then phished ACME staff. They also hit it. "
                       "APT28 attacked Initech. Researchers found a flaw, CVE-2018-1000001, in glibc.";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, strlen(text), "t2", &err);
    assert_non_null(d);
    casie_event *e = add_hopper_event(d, "breached", CASIE_SUBTYPE_DATABREACH);
    add_arg(d, e, "The hackers", "Attacker", "Person");
    add_arg(d, e, "Acme", "Victim", "Organization");
    e = add_hopper_event(d, "phished", CASIE_SUBTYPE_PHISHING);
    add_arg(d, e, "Hackers", "Attacker", "Person");
    add_arg(d, e, "ACME", "Victim", "Organization");
    e = add_hopper_event(d, "hit", CASIE_SUBTYPE_DATABREACH);
    add_arg(d, e, "They", "Attacker", "Person");
    add_arg(d, e, "it", "Victim", "Organization");
    e = add_hopper_event(d, "attacked", CASIE_SUBTYPE_DATABREACH);
    add_arg(d, e, "APT28", "Attacker", "Organization");
    add_arg(d, e, "Initech", "Victim", "Organization");
    e = add_hopper_event(d, "found", CASIE_SUBTYPE_DISCOVER_VULNERABILITY);
    add_arg(d, e, "a flaw", "Vulnerability", "Vulnerability");
    add_arg(d, e, "CVE-2018-1000001", "CVE", "CVE");
    char *js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    json_error_t jerr;
    json_t *bundle = json_loads(js, 0, &jerr);
    assert_non_null(bundle);
    /* incidents: the Acme breach ("hit it" names nobody: it joins it), APT28's, the phishing */
    assert_int_equal(count_type(bundle, "campaign"), 3);
    assert_int_equal(count_type(bundle, "threat-actor"), 0); /* "The hackers", "Hackers", "They" name nobody */
    assert_int_equal(count_type(bundle, "intrusion-set"), 1);
    assert_int_equal(count_type(bundle, "identity"), 2);       /* Acme = ACME, Initech; not "it" */
    assert_int_equal(count_type(bundle, "attack-pattern"), 2); /* Data breach, Phishing */
    assert_int_equal(count_type(bundle, "vulnerability"), 1);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o) {
        if (strcmp(str(o, "type"), "vulnerability")) continue;
        assert_string_equal(str(o, "name"), "CVE-2018-1000001");
        assert_string_equal(str(o, "description"), "a flaw");
    }
    /* created from a missing date: the time of the run */
    const char *pub = str(json_array_get(json_object_get(bundle, "objects"), 0), "published");
    char today[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%dT", &tm);
    assert_int_equal(strlen(pub), 24);
    assert_true(!strncmp(pub, today, 11) || now % 86400 < 5); /* today (unless the day just turned) */
    json_decref(bundle);
    casie_free(js);

    /* invalid UTF-8 in a document built by hand becomes U+FFFD */
    free(d->hoppers[3].events[0].args[1].text);
    d->hoppers[3].events[0].args[1].text = strdup("Ini\xfftech");
    js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"name\":\"Ini\xef\xbf\xbdtech\""));
    casie_free(js);

    /* no events: the report refers to the publishing site */
    casie_doc_clear_events(d);
    d->link = strdup("https://www.example.com:8080/news/1");
    js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    bundle = json_loads(js, 0, &jerr);
    assert_non_null(bundle);
    assert_int_equal(json_array_size(json_object_get(bundle, "objects")), 2);
    o = json_array_get(json_object_get(bundle, "objects"), 1);
    assert_string_equal(str(o, "name"), "www.example.com");
    assert_string_equal(str(o, "identity_class"), "organization");
    json_decref(bundle);
    casie_free(js);
    casie_doc_free(d);

    assert_null(casie_doc_to_stix(NULL, 0, NULL, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
}

/* The object of this type named name, or NULL. */
static json_t *named(json_t *bundle, const char *type, const char *name) {
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o) {
        if (!strcmp(str(o, "type"), type) && str(o, "name") && !strcmp(str(o, "name"), name)) return o;
    }
    return NULL;
}

/* Campaigns are incidents: hoppers of one subtype that name the same
 * attacker or victim are one campaign, named by who did what to whom, their
 * triggers in its description; a Generic attack makes none; only an actual
 * event's victim is a target. */
static void incidents(void **state) {
    (void)state;
    const char *text = "LockBit encrypted the files of Acme on Monday. The gang demanded $5 million from Acme "
                       "and may strike Globex next. Paying ransoms funds more attacks, the FBI warned. "
                       "Separately, Conti breached Initech.";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, strlen(text), "t4", &err);
    assert_non_null(d);
    casie_event *e = add_hopper_event(d, "encrypted", CASIE_SUBTYPE_RANSOM);
    add_arg(d, e, "LockBit", "Attacker", "Organization");
    add_arg(d, e, "Acme", "Victim", "Organization");
    e = add_hopper_event(d, "demanded", CASIE_SUBTYPE_RANSOM); /* another hopper of the same story */
    add_arg(d, e, "The gang", "Attacker", "Organization");
    add_arg(d, e, "$5 million", "Price", "Money");
    e = add_same_event(d, "strike", CASIE_SUBTYPE_RANSOM, CASIE_REALIS_OTHER);
    add_arg(d, e, "Globex", "Victim", "Organization");
    e = add_hopper_event(d, "Paying", CASIE_SUBTYPE_RANSOM); /* advice: no incident */
    e->realis = CASIE_REALIS_GENERIC;
    add_arg(d, e, "the FBI", "Victim", "Organization");
    e = add_hopper_event(d, "breached", CASIE_SUBTYPE_DATABREACH);
    add_arg(d, e, "Conti", "Attacker", "Organization");
    add_arg(d, e, "Initech", "Victim", "Organization");
    char *js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    json_error_t jerr;
    json_t *bundle = json_loads(js, 0, &jerr), *c;
    assert_non_null(bundle);
    assert_int_equal(count_type(bundle, "campaign"), 2);
    assert_non_null(c = named(bundle, "campaign", "Ransom by LockBit against Acme"));
    assert_non_null(strstr(str(c, "description"), "3 mentions (\"encrypted\", \"demanded\", \"strike\")"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "x_casie_price"), 0)), "$5 million");
    const char *cid = str(c, "id");
    assert_true(has_rel(bundle, cid, "targets", str(named(bundle, "identity", "Acme"), "id")));
    json_t *globex = named(bundle, "identity", "Globex");
    assert_non_null(globex); /* named, but a threat, not a target */
    assert_false(has_rel(bundle, cid, "targets", str(globex, "id")));
    assert_non_null(c = named(bundle, "campaign", "Databreach by Conti against Initech"));
    json_t *conti = named(bundle, "threat-actor", "Conti");
    assert_non_null(conti);
    assert_true(has_rel(bundle, str(c, "id"), "attributed-to", str(conti, "id")));
    /* the advice's "victim" is an object but no target of anything */
    json_t *fbi = named(bundle, "identity", "the FBI");
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o) {
        if (strcmp(str(o, "type"), "relationship") || strcmp(str(o, "relationship_type"), "targets")) continue;
        assert_string_not_equal(str(o, "target_ref"), str(globex, "id"));
        if (fbi) assert_string_not_equal(str(o, "target_ref"), str(fbi, "id"));
    }
    json_decref(bundle);
    casie_free(js);
    casie_doc_free(d);
}

/* A mention that names nothing makes no object but stands for the named
 * mention of its role ("The gang" for REvil, "The company" for Kaseya);
 * amounts go into the campaign; confidence is the best score of the
 * mentions; a vulnerability article ties the fix, its vendor, the product
 * and the discoverer to the CVE ("the flaw" of an article about one CVE). */
static void names_facts_relations(void **state) {
    (void)state;
    const char *text = "REvil hit Kaseya on Friday. The gang demanded $70 million from the company. "
                       "Microsoft fixed CVE\u20132026\u20131111 in Exchange Server. Jane Roe found the flaw.";
    char buf[512];
    /* the en dashes as UTF-8 */
    size_t k = 0;
    for (const char *p = text; *p; p++) {
        if (!strncmp(p, "\\u2013", 6))
            buf[k++] = '\xe2', buf[k++] = '\x80', buf[k++] = '\x93', p += 5;
        else
            buf[k++] = *p;
    }
    buf[k] = 0;
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(buf, k, "t3", &err);
    assert_non_null(d);
    casie_event *e = add_hopper_event(d, "hit", CASIE_SUBTYPE_RANSOM);
    add_arg(d, e, "REvil", "Attacker", "Organization");
    add_arg(d, e, "Kaseya", "Victim", "Organization");
    add_arg(d, e, "Friday", "Time", "Time");
    e->score = 0.9f, e->args[0].score = 0.6f, e->args[1].score = 0.7f, e->args[2].score = 0.5f;
    /* the second event in the first one's hopper */
    casie_hopper *h = &d->hoppers[0];
    h->events = realloc(h->events, 2 * sizeof *h->events);
    assert_non_null(h->events);
    casie_event *e2 = &h->events[1];
    memset(e2, 0, sizeof *e2);
    const char *p = strstr(d->text, "demanded");
    e2->start = (int32_t)(p - d->text), e2->end = e2->start + 8, e2->text = strdup("demanded");
    e2->subtype = CASIE_SUBTYPE_RANSOM, e2->score = 0.8f;
    h->n_events = 2;
    add_arg(d, e2, "The gang", "Attacker", "Organization");
    add_arg(d, e2, "$70 million", "Price", "Money");
    add_arg(d, e2, "the company", "Victim", "Organization");
    e2->args[0].score = 0.95f, e2->args[1].score = 0.9f, e2->args[2].score = 0.9f;
    e = add_hopper_event(d, "fixed", CASIE_SUBTYPE_PATCH_VULNERABILITY);
    add_arg(d, e, "Microsoft", "Releaser", "Organization");
    const char *cve = strstr(d->text, "CVE");
    add_arg(d, e, "Exchange Server", "Vulnerable_System", "Software");
    e->args = realloc(e->args, (size_t)(e->n_args + 1) * sizeof *e->args);
    casie_arg *g = &e->args[e->n_args++];
    memset(g, 0, sizeof *g);
    g->start = (int32_t)(cve - d->text), g->end = g->start + 13, g->text = strndup(cve, 17);
    g->role = casie_role_from_name("CVE"), g->entity = casie_entity_from_name("CVE"), g->score = -1;
    e = add_hopper_event(d, "found", CASIE_SUBTYPE_DISCOVER_VULNERABILITY);
    add_arg(d, e, "Jane Roe", "Discoverer", "Person");
    add_arg(d, e, "the flaw", "Vulnerability", "Vulnerability");

    int n = 0;
    const char **nm = casie_doc_arg_names(d, &n, &err);
    assert_non_null(nm);
    assert_int_equal(n, 11);
    assert_string_equal(nm[0], "REvil");
    assert_string_equal(nm[3], "REvil");  /* The gang */
    assert_null(nm[4]);                   /* $70 million: an amount, not resolved */
    assert_string_equal(nm[5], "Kaseya"); /* the company */
    assert_null(nm[10]);                  /* the flaw: no Vulnerability named in the article */
    casie_free((void *)nm);

    char *js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    json_error_t jerr;
    json_t *bundle = json_loads(js, 0, &jerr), *o, *c;
    assert_non_null(bundle);
    assert_int_equal(count_type(bundle, "threat-actor"), 1);
    assert_non_null(o = named(bundle, "threat-actor", "REvil"));
    assert_int_equal(json_integer_value(json_object_get(o, "confidence")), 95); /* its best mention */
    assert_int_equal(count_type(bundle, "identity"), 3);                        /* Kaseya, Microsoft, Jane Roe */
    assert_non_null(named(bundle, "identity", "Kaseya"));
    assert_null(named(bundle, "identity", "the company"));
    assert_non_null(c = named(bundle, "campaign", "Ransom by REvil against Kaseya"));
    assert_int_equal(json_integer_value(json_object_get(c, "confidence")), 90);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "x_casie_price"), 0)), "$70 million");
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "x_casie_time"), 0)), "Friday");
    assert_non_null(strstr(str(c, "description"), "Price: $70 million"));
    /* the vulnerability: named by its CVE (en dashes read), tied to the fix, vendor, product, discoverer */
    assert_int_equal(count_type(bundle, "vulnerability"), 1);
    const char *v = str(o = named(bundle, "vulnerability", "CVE-2026-1111"), "id");
    assert_non_null(v);
    const char *fix = str(named(bundle, "course-of-action", "Patch for CVE-2026-1111"), "id");
    assert_non_null(fix);
    assert_true(has_rel(bundle, fix, "mitigates", v));
    assert_true(has_rel(bundle, fix, "related-to", str(named(bundle, "identity", "Microsoft"), "id")));
    json_t *sw = named(bundle, "software", "Exchange Server");
    assert_non_null(sw);
    assert_string_equal(str(sw, "vendor"), "Microsoft");
    assert_true(has_rel(bundle, v, "related-to", str(sw, "id")));
    assert_true(has_rel(bundle, v, "related-to", str(named(bundle, "identity", "Jane Roe"), "id")));
    assert_string_equal(str(named(bundle, "identity", "Jane Roe"), "identity_class"), "individual");
    json_decref(bundle);
    casie_free(js);
    casie_doc_free(d);
}

/* Only http and https links become the report's external reference (and
 * name the publishing site): a "javascript:" link was passed through. */
static void only_web_links(void **state) {
    (void)state;
    static const struct {
        const char *link;
        int web;
    } L[] = {
        {"https://example.org/a", 1},
        {"HTTP://Example.org", 1},
        {"javascript:alert(1)", 0},
        {"JavaScript://example.org/%0aalert(1)", 0},
        {"data:text/html,<script>x</script>", 0},
        {"vbscript:msgbox(1)", 0},
        {"http://", 0},
        {"https:///path", 0},
        {"http://exa mple.org", 0},
        {"http://example.org/\n", 0},
        {"ftp://example.org/a", 0},
        {"example.org/a", 0},
    };
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
        casie_error err = {0};
        casie_doc *d = casie_doc_from_text("Nothing happened.", 17, "l", &err);
        assert_non_null(d);
        d->link = strdup(L[i].link);
        char *js = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
        assert_non_null(js);
        json_error_t jerr;
        json_t *bundle = json_loads(js, 0, &jerr);
        assert_non_null(bundle);
        json_t *objs = json_object_get(bundle, "objects");
        json_t *refs = json_object_get(json_array_get(objs, 0), "external_references");
        const char *site = json_string_value(json_object_get(json_array_get(objs, 1), "name"));
        if (L[i].web) {
            assert_string_equal(json_string_value(json_object_get(json_array_get(refs, 0), "url")), L[i].link);
            assert_string_not_equal(site, "casie");
        } else {
            if (refs) fail_msg("%s became an external reference", L[i].link);
            assert_string_equal(site, "casie");
        }
        json_decref(bundle);
        casie_free(js);
        casie_doc_free(d);
    }
}

/* The schemas: $STIX_SCHEMAS, ../shared/stix2-schemas/schemas, or next to the corpus. */
static int find_schemas(const char *corpus, char *out, size_t cap) {
    const char *env = getenv("STIX_SCHEMAS");
    if (env && *env)
        snprintf(out, cap, "%s", env);
    else
        snprintf(out, cap, "../shared/stix2-schemas/schemas");
    if (access(out, R_OK) == 0 || (env && *env)) return access(out, R_OK) == 0;
    snprintf(out, cap, "%s/../stix2-schemas/schemas", corpus);
    return access(out, R_OK) == 0;
}

/* Generic noun phrases: a name all of whose words are in this list names
 * nobody in particular ("the company", "users", "the flaw", "Patch", "The
 * attackers", "These emails", "critical vulnerabilities").  It is the test's
 * own list, independent of how names.c decides (from capitals and the
 * article's other mentions); docs/ACCURACY.md states it. */
static const char *const GENERIC_WORDS[] = {"a",
                                            "an",
                                            "the",
                                            "this",
                                            "that",
                                            "these",
                                            "those",
                                            "its",
                                            "their",
                                            "his",
                                            "her",
                                            "our",
                                            "my",
                                            "your",
                                            "some",
                                            "any",
                                            "all",
                                            "both",
                                            "each",
                                            "several",
                                            "many",
                                            "most",
                                            "other",
                                            "another",
                                            "such",
                                            "same",
                                            "one",
                                            "two",
                                            "three",
                                            "new",
                                            "critical",
                                            "malicious",
                                            "remote",
                                            "security",
                                            "unknown",
                                            "unnamed",
                                            "unidentified",
                                            "affected",
                                            "vulnerable",
                                            "major",
                                            "large",
                                            "small",
                                            "popular",
                                            "local",
                                            "third-party",
                                            "zero-day",
                                            "serious",
                                            "severe",
                                            "fake",
                                            "company",
                                            "companies",
                                            "firm",
                                            "firms",
                                            "organization",
                                            "organizations",
                                            "business",
                                            "businesses",
                                            "user",
                                            "users",
                                            "customer",
                                            "customers",
                                            "people",
                                            "person",
                                            "individuals",
                                            "individual",
                                            "victim",
                                            "victims",
                                            "employees",
                                            "employee",
                                            "staff",
                                            "members",
                                            "member",
                                            "patients",
                                            "students",
                                            "consumers",
                                            "clients",
                                            "account",
                                            "accounts",
                                            "bug",
                                            "bugs",
                                            "issue",
                                            "issues",
                                            "flaw",
                                            "flaws",
                                            "vulnerability",
                                            "vulnerabilities",
                                            "hole",
                                            "holes",
                                            "weakness",
                                            "weaknesses",
                                            "patch",
                                            "patches",
                                            "update",
                                            "updates",
                                            "fix",
                                            "fixes",
                                            "attacker",
                                            "attackers",
                                            "hacker",
                                            "hackers",
                                            "criminals",
                                            "cybercriminals",
                                            "actor",
                                            "actors",
                                            "group",
                                            "groups",
                                            "gang",
                                            "gangs",
                                            "crooks",
                                            "scammers",
                                            "fraudsters",
                                            "email",
                                            "emails",
                                            "e-mail",
                                            "e-mails",
                                            "message",
                                            "messages",
                                            "malware",
                                            "ransomware",
                                            "virus",
                                            "viruses",
                                            "trojan",
                                            "software",
                                            "attack",
                                            "attacks",
                                            "campaign",
                                            "campaigns",
                                            "data",
                                            "information",
                                            "site",
                                            "sites",
                                            "website",
                                            "websites",
                                            "server",
                                            "servers",
                                            "system",
                                            "systems",
                                            "network",
                                            "networks",
                                            "researcher",
                                            "researchers",
                                            "team",
                                            "government",
                                            "agency",
                                            "hospital",
                                            "hospitals",
                                            "school",
                                            "schools",
                                            "university",
                                            "bank",
                                            "banks",
                                            "city",
                                            "officials",
                                            "vendor",
                                            "vendors",
                                            "exploit",
                                            "exploits",
                                            "code",
                                            "app",
                                            "apps",
                                            "device",
                                            "devices",
                                            "link",
                                            "links",
                                            "attachment",
                                            "attachments",
                                            "file",
                                            "files",
                                            "platform",
                                            "service",
                                            "services",
                                            "product",
                                            "products",
                                            "tool",
                                            "tools",
                                            "it",
                                            "they",
                                            "them",
                                            "he",
                                            "she",
                                            "we",
                                            "you",
                                            "us",
                                            "who",
                                            "which",
                                            "someone",
                                            "anyone",
                                            NULL};

static int generic_name(const char *name) {
    char w[64];
    int words = 0;
    for (const char *p = name; *p;) {
        while (*p && !isalnum((unsigned char)*p) && *p != '-' && !((unsigned char)*p & 0x80))
            p++;
        size_t n = 0;
        while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '\'' || ((unsigned char)*p & 0x80))) {
            if (n < sizeof w - 1) w[n++] = (char)tolower((unsigned char)*p);
            p++;
        }
        if (!n) break;
        w[n] = 0;
        int found = 0;
        for (int i = 0; GENERIC_WORDS[i] && !found; i++)
            found = !strcmp(w, GENERIC_WORDS[i]);
        if (!found) return 0;
        words++;
    }
    return words > 0;
}

/* Counts a bundle's named objects (not the report), the generic ones among
 * them, and the vulnerabilities that mention a CVE id but are not named by one. */
static void count_names(const char *js, long *n_named, long *n_generic, long *n_unnamed_cve) {
    json_error_t jerr;
    json_t *b = json_loads(js, 0, &jerr), *o;
    size_t i;
    assert_non_null(b);
    json_array_foreach(json_object_get(b, "objects"), i, o) {
        const char *type = str(o, "type"), *name = str(o, "name"), *desc = str(o, "description");
        if (!name || !strcmp(type, "report")) continue;
        ++*n_named;
        if (generic_name(name)) {
            ++*n_generic;
            printf("generic: %s \"%s\"\n", type, name);
        }
        if (!strcmp(type, "vulnerability") && (strstr(name, "CVE") || (desc && strstr(desc, "CVE-"))) &&
            strncmp(name, "CVE-", 4))
            ++*n_unnamed_cve;
    }
    json_decref(b);
}

/* Hoppers of d holding events with different CVE ids (none may). */
static int cve_conflicts(const casie_doc *d) {
    int n = 0;
    for (int h = 0; h < d->n_hoppers; h++) {
        char first[32] = "";
        int bad = 0;
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            char ids[8][32];
            int k = 0;
            for (int a = 0; a < e->n_args && k < 8; a++)
                if (!strcmp(casie_role_name(e->args[a].role), "CVE") &&
                    casie__cve_normalize(e->args[a].text, ids[k], 32))
                    k++;
            if (!k) continue;
            if (!first[0]) {
                memcpy(first, ids[0], 32);
                continue;
            }
            int shared = 0;
            for (int j = 0; j < k; j++)
                shared |= !strcmp(ids[j], first);
            bad |= !shared;
        }
        n += bad;
    }
    return n;
}

static void dev_bundles_validate(void **state) {
    (void)state;
    const char *ci = getenv("CI");
    int in_ci = ci && !strcmp(ci, "true");
    const char *corpus = test_corpus();
    if (!corpus) skip(); /* as every corpus test */
    char schemas[4096];
    if (!find_schemas(corpus, schemas, sizeof schemas) ||
        system("command -v node >/dev/null && command -v npm >/dev/null") != 0) {
        if (in_ci) fail_msg("the STIX schemas (%s) or node/npm are missing", schemas);
        printf("skipped: no STIX schemas at %s, or no node/npm\n", schemas);
        skip();
    }
    if (access("tests/stix/node_modules/ajv/dist/2020.js", R_OK) != 0 ||
        access("tests/stix/node_modules/ajv-formats", R_OK) != 0) {
        if (system("npm ci --prefix tests/stix --no-audit --no-fund --silent >/dev/null 2>&1") != 0) {
            if (in_ci) fail_msg("npm ci --prefix tests/stix failed");
            printf("skipped: npm ci --prefix tests/stix failed (offline?)\n");
            skip();
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    casie_error err = {0};
    casie_model *m = casie_model_load("models/casie-fast.model", &err);
    assert_non_null(m);
    casie_corpus *dv = test_split(corpus, "dev", 0);
    assert_non_null(dv);
    long objects = 0, n_named = 0, n_generic = 0, n_unnamed_cve = 0, n_conflicts = 0, n_hoppers = 0;
    for (int i = 0; i < dv->n_docs; i++) {
        casie_doc *d = dv->docs[i]; /* the article and its info; extraction replaces the gold events */
        assert_int_equal(casie_extract(m, d, NULL, &err), CASIE_OK);
        n_conflicts += cve_conflicts(d);
        n_hoppers += d->n_hoppers;
        char *js = casie_doc_to_stix(d, 0, NULL, &err), *again = casie_doc_to_stix(d, 0, NULL, &err);
        assert_non_null(js);
        assert_non_null(again);
        assert_string_equal(js, again);
        objects += cli_count(js, "\"spec_version\": \"2.1\"");
        count_names(js, &n_named, &n_generic, &n_unnamed_cve);
        char name[128];
        snprintf(name, sizeof name, "%.100s.json", d->id);
        cli_write(name, js);
        casie_free(js);
        casie_free(again);
    }
    assert_true(objects > 1000);
    /* at most 3% of the named objects are generic noun phrases; every
     * vulnerability that has a CVE id is named by it */
    printf("stix: %ld named objects, %ld generic (%.2f%%), %ld vulnerabilities with a CVE not named by it\n", n_named,
           n_generic, 100.0 * (double)n_generic / (double)n_named, n_unnamed_cve);
    assert_true(n_named > 500);
    assert_true(n_generic * 100 <= 3 * n_named);
    assert_int_equal(n_unnamed_cve, 0);
    printf("stix: %ld hoppers, %ld holding events with different CVE ids\n", n_hoppers, n_conflicts);
    assert_int_equal(n_conflicts, 0);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "node tests/stix/validate.js '%s' '%s' 2>&1", schemas, cli_tmpdir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[4096], last[4096] = "";
    int lines = 0;
    while (fgets(line, sizeof line, p)) {
        if (++lines <= 50) fputs(line, stdout); /* the errors, if any, then the summary */
        memcpy(last, line, sizeof line);
    }
    int rc = pclose(p);
    if (lines > 50) fputs(last, stdout);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("stix: extracted and validated in %.1f s\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    char want[128];
    snprintf(want, sizeof want, "stix: %d bundles, %ld objects, 0 errors\n", dv->n_docs, objects);
    assert_string_equal(last, want);
    assert_int_equal(rc, 0);
    casie_corpus_free(dv);
    casie_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha1_and_uuid5_vectors),
        cmocka_unit_test(names),
        cmocka_unit_test(structure_and_determinism),
        cmocka_unit_test(entities_across_events),
        cmocka_unit_test(incidents),
        cmocka_unit_test(names_facts_relations),
        cmocka_unit_test(only_web_links),
        cmocka_unit_test(dev_bundles_validate),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
