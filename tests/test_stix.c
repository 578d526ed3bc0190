/*
 * test_stix.c - STIX 2.1 bundles: exact structure for a small document,
 * deterministic bytes, and every bundle of the dev articles (extracted with
 * the default model) valid against the official STIX 2.1 JSON schemas
 * (../shared/stix2-schemas, validated with ajv by tests/stix/validate.js).
 */
#include "cli_common.h"

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

static void structure_and_determinism(void **state) {
    (void)state;
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(DOC, strlen(DOC), "t1", &err);
    assert_non_null(d);
    assert_int_equal(d->n_issues, 0);
    char *a = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err), *b = casie_doc_to_stix(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(a);
    assert_string_equal(a, b); /* same document, same bytes */
    assert_int_equal(cli_count(a, "\"type\":\"report\""), 1);
    assert_non_null(strstr(a, "\"published\":\"2017-05-14T00:00:00.000Z\""));
    assert_non_null(strstr(a, "{\"source_name\":\"article\",\"url\":\"https://example.org/a\"}"));
    assert_int_equal(cli_count(a, "\"type\":\"campaign\""), 1);
    assert_non_null(strstr(a, "\"name\":\"Ransom: used\""));
    assert_int_equal(cli_count(a, "\"type\":\"threat-actor\""), 1);
    assert_int_equal(cli_count(a, "\"type\":\"malware\""), 1);
    assert_non_null(strstr(a, "\"is_family\":false"));
    assert_int_equal(cli_count(a, "\"type\":\"identity\""), 1);
    assert_non_null(strstr(a, "\"identity_class\":\"organization\""));
    assert_int_equal(cli_count(a, "\"type\":\"vulnerability\""), 1);
    assert_non_null(strstr(a, "{\"source_name\":\"cve\",\"external_id\":\"CVE-2017-0144\"}"));
    assert_int_equal(cli_count(a, "\"type\":\"course-of-action\""), 1);
    assert_non_null(strstr(a, "\"relationship_type\":\"targets\""));
    assert_non_null(strstr(a, "\"relationship_type\":\"uses\""));
    assert_non_null(strstr(a, "\"relationship_type\":\"attributed-to\""));
    assert_non_null(strstr(a, "\"relationship_type\":\"mitigates\""));
    assert_int_equal(cli_count(a, "\"type\":\"relationship\""), 4);
    /* UUIDv5 ids: version nibble 5, RFC 4122 variant */
    const char *id = strstr(a, "\"id\":\"report--");
    assert_non_null(id);
    id += strlen("\"id\":\"report--");
    assert_int_equal(id[14], '5');
    assert_non_null(strchr("89ab", id[19]));
    casie_free(a);
    casie_free(b);
    /* one entity named in two events is one object */
    casie_doc_free(d);
}

static void dev_bundles_validate(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    const char *ci = getenv("CI");
    int in_ci = ci && !strcmp(ci, "true");
    char schemas[4096];
    if (!corpus) skip();
    snprintf(schemas, sizeof schemas, "%s/../stix2-schemas/schemas", corpus);
    if (access(schemas, R_OK) != 0 || system("command -v node >/dev/null && command -v npm >/dev/null") != 0) {
        if (in_ci) fail_msg("the STIX schemas (%s) or node/npm are missing", schemas);
        skip();
    }
    if (access("tests/stix/node_modules/ajv", R_OK) != 0)
        assert_int_equal(system("npm ci --prefix tests/stix --no-audit --no-fund --silent >/dev/null 2>&1"), 0);
    casie_error err = {0};
    casie_model *m = casie_model_load("models/casie-default.model", &err);
    assert_non_null(m);
    casie_corpus *dv = test_split(corpus, "dev", 0);
    assert_non_null(dv);
    long objects = 0;
    for (int i = 0; i < dv->n_docs; i++) {
        casie_doc *d = casie_doc_from_text(dv->docs[i]->text, dv->docs[i]->text_len, dv->docs[i]->id, &err);
        assert_non_null(d);
        free(d->title), d->title = dv->docs[i]->title ? strdup(dv->docs[i]->title) : NULL;
        free(d->date), d->date = dv->docs[i]->date ? strdup(dv->docs[i]->date) : NULL;
        free(d->link), d->link = dv->docs[i]->link ? strdup(dv->docs[i]->link) : NULL;
        assert_int_equal(casie_extract(m, d, NULL, &err), CASIE_OK);
        char *js = casie_doc_to_stix(d, 0, NULL, &err);
        assert_non_null(js);
        objects += cli_count(js, "\"spec_version\"");
        char name[64];
        snprintf(name, sizeof name, "%s.json", dv->docs[i]->id);
        cli_write(name, js);
        casie_free(js);
        casie_doc_free(d);
    }
    assert_true(objects > 500);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "node tests/stix/validate.js '%s' '%s' 2>&1 | grep -v 'unknown format' | tail -5", schemas,
             cli_tmpdir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[1024], last[1024] = "";
    while (fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        strcpy(last, line);
    }
    pclose(p);
    char want[128];
    snprintf(want, sizeof want, "stix: %d bundles, %ld objects, 0 errors\n", dv->n_docs, objects);
    assert_string_equal(last, want);
    casie_corpus_free(dv);
    casie_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(structure_and_determinism),
        cmocka_unit_test(dev_bundles_validate),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
