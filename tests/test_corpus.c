/*
 * test_corpus.c - reading and writing documents: the whole corpus survives a
 * write and a re-read unchanged; drifting spans are repaired or reported
 * (hand-made fixture in tests/data/); malformed input gets the right error
 * code and a message naming the input; source files, plain text, split files
 * and corpus directories read as documented.
 */
#include "test_common.h"

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>

/* tests/data, found next to this source file. */
static void data_path(char *out, size_t n, const char *file) {
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dir_len = slash ? (int)(slash - src) : 1;
    snprintf(out, n, "%.*s/data/%s", dir_len, slash ? src : ".", file);
}

static char tmpdir[64];

static int setup_tmp(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/casie_test_corpus_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
    assert_int_equal(fclose(f), 0);
}

static void assert_str_or_null_equal(const char *a, const char *b) {
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* Same events, spans, roles, entity types, realis, hoppers, indices, extras. */
static void assert_same_events(const casie_doc *a, const casie_doc *b) {
    assert_int_equal(a->n_hoppers, b->n_hoppers);
    for (int h = 0; h < a->n_hoppers; h++) {
        const casie_hopper *x = &a->hoppers[h], *y = &b->hoppers[h];
        assert_int_equal(x->n_events, y->n_events);
        for (int i = 0; i < x->n_events; i++) {
            const casie_event *e = &x->events[i], *f = &y->events[i];
            assert_int_equal(e->subtype, f->subtype);
            assert_int_equal(e->realis, f->realis);
            assert_int_equal(e->start, f->start);
            assert_int_equal(e->end, f->end);
            assert_str_or_null_equal(e->text, f->text);
            assert_str_or_null_equal(e->index, f->index);
            assert_str_or_null_equal(e->nugget_index, f->nugget_index);
            assert_int_equal(e->n_args, f->n_args);
            for (int j = 0; j < e->n_args; j++) {
                const casie_arg *p = &e->args[j], *q = &f->args[j];
                assert_int_equal(p->start, q->start);
                assert_int_equal(p->end, q->end);
                assert_int_equal(p->role, q->role);
                assert_int_equal(p->entity, q->entity);
                assert_str_or_null_equal(p->text, q->text);
                assert_str_or_null_equal(p->index, q->index);
                assert_str_or_null_equal(p->extra, q->extra);
                assert_str_or_null_equal(p->role_extra, q->role_extra);
            }
        }
    }
}

/* Every span's text is the document's text at its offsets. */
static void assert_spans_on_text(const casie_doc *d) {
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            assert_true(e->start >= 0 && e->start <= e->end && e->end <= d->n_cp);
            int b0 = d->cp_byte[e->start], b1 = d->cp_byte[e->end];
            assert_int_equal((size_t)(b1 - b0), strlen(e->text));
            assert_memory_equal(d->text + b0, e->text, (size_t)(b1 - b0));
            for (int j = 0; j < e->n_args; j++) {
                const casie_arg *a = &e->args[j];
                assert_true(a->start >= 0 && a->start <= a->end && a->end <= d->n_cp);
                b0 = d->cp_byte[a->start];
                b1 = d->cp_byte[a->end];
                assert_int_equal((size_t)(b1 - b0), strlen(a->text));
                assert_memory_equal(d->text + b0, a->text, (size_t)(b1 - b0));
            }
        }
}

/* ---- the corpus ---- */

static void corpus_round_trip(void **state) {
    (void)state;
    const char *dir = test_corpus();
    if (!dir) skip();
    casie_error err = {0};
    casie_corpus *c = casie_corpus_read(dir, NULL, 0, &err);
    assert_non_null(c);
    assert_int_equal(c->n_docs, 797);
    long events = 0, args = 0, hoppers = 0, repaired = 0, issues = 0;
    for (int i = 0; i < c->n_docs; i++) {
        const casie_doc *d = c->docs[i];
        assert_non_null(d->id);
        assert_non_null(d->sourcefile);
        assert_spans_on_text(d);
        hoppers += d->n_hoppers;
        repaired += d->n_repaired;
        issues += d->n_issues;
        for (int h = 0; h < d->n_hoppers; h++)
            for (int k = 0; k < d->hoppers[h].n_events; k++) {
                events++;
                args += d->hoppers[h].events[k].n_args;
            }
        /* Alternate pretty and compact output. */
        size_t len;
        char *js = casie_doc_to_json(d, i % 2 ? CASIE_JSON_COMPACT : 0, &len, &err);
        assert_non_null(js);
        assert_int_equal(strlen(js), len);
        if (i % 2) assert_null(strchr(js, '\n'));
        casie_doc *r = casie_doc_from_json(js, len, d->id, &err);
        if (!r) fail_msg("%s", err.message);
        assert_int_equal(r->n_repaired, 0);
        assert_int_equal(r->n_issues, 0);
        assert_string_equal(r->id, d->id);
        assert_string_equal(r->sourcefile, d->sourcefile);
        assert_int_equal(r->text_len, d->text_len);
        assert_memory_equal(r->text, d->text, d->text_len);
        assert_str_or_null_equal(r->title, d->title);
        assert_str_or_null_equal(r->date, d->date);
        assert_str_or_null_equal(r->link, d->link);
        assert_str_or_null_equal(r->info_type, d->info_type);
        assert_same_events(d, r);
        /* Writing again gives the same bytes. */
        size_t len2;
        char *js2 = casie_doc_to_json(r, i % 2 ? CASIE_JSON_COMPACT : 0, &len2, &err);
        assert_non_null(js2);
        assert_int_equal(len, len2);
        assert_memory_equal(js, js2, len);
        casie_free(js);
        casie_free(js2);
        casie_doc_free(r);
    }
    /* README: 6,350 events in 3,134 hoppers, 16,609 arguments; the one span
     * matching nowhere is a trigger ("been leaked.", 464), alone in its
     * hopper, with one argument: that event and hopper are left out. */
    assert_int_equal(events, 6349);
    assert_int_equal(hoppers, 3133);
    assert_int_equal(args, 16608);
    assert_int_equal(issues, 1);
    assert_int_equal(repaired, 867);
    casie_corpus_free(c);
}

static void corpus_split_order_and_missing_id(void **state) {
    (void)state;
    const char *dir = test_corpus();
    if (!dir) skip();
    casie_error err = {0};
    const char *ids[] = {"464", "10012", "1101"};
    casie_corpus *c = casie_corpus_read(dir, ids, 3, &err);
    assert_non_null(c);
    assert_int_equal(c->n_docs, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(c->docs[i]->id, ids[i]);
    assert_int_equal(c->docs[0]->n_issues, 1);
    assert_string_equal(c->docs[0]->issues[0].text, "been leaked.");
    assert_int_equal(c->docs[0]->issues[0].start, 2429);
    assert_int_equal(c->docs[0]->issues[0].end, 2441);
    casie_corpus_free(c);

    const char *bad[] = {"10012", "no-such-id"};
    assert_null(casie_corpus_read(dir, bad, 2, &err));
    assert_int_equal(err.code, CASIE_ERR_IO);
    assert_non_null(strstr(err.message, "no-such-id.json"));

    /* Every listed id of the dev split reads. */
    c = test_split(dir, "dev", 0);
    assert_non_null(c);
    assert_int_equal(c->n_docs, 100);
    casie_corpus_free(c);
}

static void corpus_source_matches_annotation(void **state) {
    (void)state;
    const char *dir = test_corpus();
    if (!dir) skip();
    casie_error err = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/source/10012.txt", dir);
    casie_doc *s = casie_doc_load(path, &err);
    assert_non_null(s);
    snprintf(path, sizeof path, "%s/annotation/10012.json", dir);
    casie_doc *a = casie_doc_load(path, &err);
    assert_non_null(a);
    assert_string_equal(s->id, "10012");
    assert_string_equal(s->text, a->text);
    assert_string_equal(s->title, a->title);
    assert_string_equal(s->date, a->date);
    assert_string_equal(s->link, a->link);
    assert_int_equal(s->n_hoppers, 0);
    casie_doc_free(s);
    casie_doc_free(a);
}

/* ---- drift repair on a fixture ---- */

static void drift_fixture(void **state) {
    (void)state;
    char path[512];
    casie_error err = {0};
    data_path(path, sizeof path, "drift.json");
    casie_doc *d = casie_doc_load(path, &err);
    if (!d) fail_msg("%s", err.message);
    assert_string_equal(d->id, "drift");
    assert_string_equal(d->sourcefile, "drift.txt");
    assert_string_equal(d->title, "Drift fixture");
    assert_string_equal(d->date, "2020_01_01");
    assert_string_equal(d->info_type, "text");
    assert_string_equal(d->link, "http://example.com/drift");
    assert_int_equal(d->n_cp, 109);
    /* £5 million moved by +1, Acme’s bank to its nearer (second) occurrence,
     * "used phishing" by -1. */
    assert_int_equal(d->n_repaired, 3);
    /* "Acme Corp" (an argument) and "breached" (a trigger) occur nowhere. */
    assert_int_equal(d->n_issues, 2);
    assert_string_equal(d->issues[0].text, "Acme Corp");
    assert_int_equal(d->issues[0].start, 100);
    assert_int_equal(d->issues[0].end, 109);
    assert_string_equal(d->issues[1].text, "breached");
    assert_int_equal(d->issues[1].start, 60);
    /* The event of "breached" is dropped, and with it its hopper. */
    assert_int_equal(d->n_hoppers, 1);
    assert_int_equal(d->hoppers[0].n_events, 2);
    const casie_event *e1 = &d->hoppers[0].events[0], *e2 = &d->hoppers[0].events[1];
    assert_string_equal(e1->index, "E1");
    assert_string_equal(e1->nugget_index, "T1");
    assert_int_equal(e1->subtype, CASIE_SUBTYPE_DATABREACH);
    assert_int_equal(e1->realis, CASIE_REALIS_ACTUAL);
    assert_int_equal(e1->start, 8);
    assert_int_equal(e1->end, 13);
    assert_int_equal(e1->n_args, 3);
    assert_string_equal(e1->args[0].text, "Hackers");
    assert_int_equal(e1->args[0].role, casie_role_from_name("Attacker"));
    assert_int_equal(e1->args[0].entity, casie_entity_from_name("Person"));
    assert_string_equal(e1->args[0].role_extra, "{\"subtype\":\"Steal\",\"confidence\":0.75}");
    assert_null(e1->args[0].extra);
    assert_int_equal(e1->args[1].start, 14);
    assert_int_equal(e1->args[1].end, 24);
    assert_int_equal(e1->args[1].entity, casie_entity_from_name("Money"));
    assert_int_equal(e1->args[2].start, 43);
    assert_int_equal(e1->args[2].end, 54);
    assert_string_equal(e1->args[2].extra, "{\"external_reference\":{\"wikidataid\":\"Q1\"}}");
    assert_null(e1->args[2].role_extra);
    assert_true(e1->args[2].score < 0);
    assert_int_equal(e2->subtype, CASIE_SUBTYPE_PHISHING);
    assert_int_equal(e2->realis, CASIE_REALIS_OTHER);
    assert_int_equal(e2->start, 72);
    assert_int_equal(e2->end, 85);
    assert_int_equal(e2->n_args, 0);
    assert_spans_on_text(d);

    /* Written out, the repaired offsets and the extras are kept. */
    char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"index\":\"T3\",\"startOffset\":14,\"endOffset\":24,\"text\":\"£5 million\","
                               "\"type\":\"Money\",\"role\":{\"type\":\"Damage-Amount\"}}"));
    assert_non_null(strstr(js, "\"role\":{\"type\":\"Attacker\",\"subtype\":\"Steal\",\"confidence\":0.75}"));
    assert_non_null(strstr(js, "\"role\":{\"type\":\"Victim\"},\"external_reference\":{\"wikidataid\":\"Q1\"}}"));
    assert_non_null(strstr(js, "\"realis\":\"Other\",\"nugget\":{\"index\":\"T6\",\"startOffset\":72,\"endOffset\":85,"
                               "\"text\":\"used phishing\"}}"));
    assert_null(strstr(js, "Acme Corp"));
    assert_null(strstr(js, "breached"));
    casie_free(js);
    casie_doc_free(d);
}

/* ---- errors ---- */

static casie_doc *parse(const char *json, casie_error *err) {
    memset(err, 0, sizeof *err);
    return casie_doc_from_json(json, strlen(json), "rec.json", err);
}

static void error_malformed_json(void **state) {
    (void)state;
    casie_error err;
    assert_null(parse("{\"content\": \"abc\",\n  \"info\": {,}}", &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
    assert_non_null(strstr(err.message, "rec.json"));
    assert_non_null(strstr(err.message, "line 2"));
    assert_non_null(strstr(err.message, "column"));
    assert_non_null(strstr(err.message, "position"));
    assert_true(err.position > 0);

    assert_null(parse("", &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
    assert_null(parse("{\"content\": \"abc\"} trailing", &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
    assert_null(parse("{\"content\": \"unterminated}", &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
    /* Invalid UTF-8 inside the JSON text is a syntax error (jansson). */
    assert_null(parse("{\"content\": \"a\xff\"}", &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
}

static void error_not_an_object(void **state) {
    (void)state;
    casie_error err;
    assert_null(parse("[1, 2, 3]", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    assert_non_null(strstr(err.message, "rec.json"));
    assert_non_null(strstr(err.message, "not a JSON object"));
    assert_null(parse("\"just a string\"", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
}

static void error_deep_nesting(void **state) {
    (void)state;
    casie_error err;
    size_t depth = 100000;
    char *s = malloc(2 * depth + 64);
    assert_non_null(s);
    size_t n = (size_t)sprintf(s, "{\"content\": \"x\", \"deep\": ");
    for (size_t i = 0; i < depth; i++)
        s[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = 0;
    assert_null(casie_doc_from_json(s, n, "deep.json", &err));
    assert_int_equal(err.code, CASIE_ERR_LIMIT);
    assert_non_null(strstr(err.message, "deep.json"));
    assert_non_null(strstr(err.message, "nested"));
    /* 64 levels are fine; brackets inside strings do not count. */
    n = (size_t)sprintf(s, "{\"content\": \"[[[[{{{{\", \"x\": ");
    for (int i = 0; i < 63; i++)
        s[n++] = '[';
    for (int i = 0; i < 63; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = 0;
    casie_doc *d = casie_doc_from_json(s, n, "ok.json", &err);
    if (!d) fail_msg("%s", err.message);
    casie_doc_free(d);
    n = (size_t)sprintf(s, "{\"content\": \"x\", \"x\": ");
    for (int i = 0; i < 64; i++)
        s[n++] = '[';
    for (int i = 0; i < 64; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = 0;
    assert_null(casie_doc_from_json(s, n, "deep.json", &err));
    assert_int_equal(err.code, CASIE_ERR_LIMIT);
    free(s);
}

static void error_missing_or_bad_content(void **state) {
    (void)state;
    casie_error err;
    assert_null(parse("{\"sourcefile\": \"1.txt\"}", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    assert_non_null(strstr(err.message, "rec.json"));
    assert_non_null(strstr(err.message, "content"));
    assert_null(parse("{\"content\": 42}", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    assert_null(parse("{\"text\": [\"a\"]}", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    assert_null(parse("{\"content\": \"a\", \"id\": [1]}", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    assert_null(parse("{\"content\": \"a\", \"info\": 3}", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    assert_null(parse("{\"content\": \"a\", \"cyberevent\": {\"hopper\": {}}}", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
}

static void error_unknown_labels(void **state) {
    (void)state;
    casie_error err;
    const char *ev =
        "{\"content\": \"Hackers stole data.\", \"cyberevent\": {\"hopper\": [{\"events\": [{\"index\": \"E1\", "
        "\"subtype\": \"%s\", \"realis\": \"%s\", \"nugget\": {\"startOffset\": 8, \"endOffset\": 13, "
        "\"text\": \"stole\"}, \"argument\": [{\"startOffset\": 0, \"endOffset\": 7, \"text\": "
        "\"Hackers\", \"type\": \"%s\", \"role\": {\"type\": \"%s\"}}]}]}]}}";
    char buf[1024];
    snprintf(buf, sizeof buf, ev, "Databreach", "Actual", "Person", "Attacker");
    casie_doc *d = parse(buf, &err);
    if (!d) fail_msg("%s", err.message);
    assert_null(d->id);
    assert_int_equal(d->hoppers[0].events[0].args[0].role, 0);
    casie_doc_free(d);
    snprintf(buf, sizeof buf, ev, "Databreach", "General", "Person", "Attacker");
    d = parse(buf, &err);
    assert_non_null(d);
    assert_int_equal(d->hoppers[0].events[0].realis, CASIE_REALIS_GENERIC);
    casie_doc_free(d);

    static const char *const bad[][5] = {{"Hacking", "Actual", "Person", "Attacker", "Hacking"},
                                         {"Databreach", "Maybe", "Person", "Attacker", "Maybe"},
                                         {"Databreach", "Actual", "Alien", "Attacker", "Alien"},
                                         {"Databreach", "Actual", "Person", "Hacker", "Hacker"}};
    for (int i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, ev, bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
        assert_null(parse(buf, &err));
        assert_int_equal(err.code, CASIE_ERR_SCHEMA);
        assert_non_null(strstr(err.message, "rec.json"));
        assert_non_null(strstr(err.message, bad[i][4]));
    }
    /* Offsets that are not integers. */
    assert_null(parse("{\"content\": \"ab\", \"cyberevent\": {\"hopper\": [{\"events\": [{\"subtype\": \"Ransom\", "
                      "\"nugget\": {\"startOffset\": \"0\", \"endOffset\": 1, \"text\": \"a\"}}]}]}}",
                      &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
}

/* ---- hostile annotations ---- */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* "a " x n_pairs as the text and n_spans one-event hoppers whose trigger "a"
 * is stated one code point off (on a space), spread over the text. */
static char *repetitive_record(int n_pairs, int n_spans, size_t *len) {
    size_t cap = (size_t)n_pairs * 2 + (size_t)n_spans * 160 + 128, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)sprintf(s + n, "{\"id\":\"rep\",\"text\":\"");
    for (int i = 0; i < n_pairs; i++)
        s[n++] = 'a', s[n++] = ' ';
    n += (size_t)sprintf(s + n, "\",\"cyberevent\":{\"hopper\":[");
    for (int i = 0; i < n_spans; i++) {
        long at = (long)i * 7919 % n_pairs * 2 + 1;
        n += (size_t)sprintf(s + n,
                             "%s{\"events\":[{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":%ld,\"endOffset\":%ld,"
                             "\"text\":\"a\"}}]}",
                             i ? "," : "", at, at + 1);
    }
    n += (size_t)sprintf(s + n, "]}}");
    *len = n;
    return s;
}

/* Span repair is bounded: 5,000 drifted triggers over "a " x 50,000 (485 KB
 * of JSON) took 12 s, every span visiting every occurrence of "a". */
static void repair_on_repetitive_text_is_fast(void **state) {
    (void)state;
    size_t len;
    char *s = repetitive_record(50000, 5000, &len);
    casie_error err = {0};
    double t0 = now_s();
    casie_doc *d = casie_doc_from_json(s, len, "rep.json", &err);
    double t = now_s() - t0;
    if (!d) fail_msg("%s", err.message);
    print_message("%zu bytes of JSON, 5000 drifted spans: %.3f s\n", len, t);
    assert_int_equal(d->n_hoppers, 5000);
    assert_int_equal(d->n_repaired, 5000);
    for (int h = 0; h < d->n_hoppers; h++) { /* moved back by one: the earlier of two nearest */
        long at = (long)h * 7919 % 50000 * 2;
        assert_int_equal(d->hoppers[h].events[0].start, at);
    }
    casie_doc_free(d);
    free(s);
    /* about 0.03 s here; sanitizers and valgrind run it some 50 times slower */
    assert_true(t < 4.0);
}

/* A span far from its stated offset (beyond the window searched first) is
 * still found in the whole text; the nearest occurrence wins, the earlier on
 * ties; one that occurs nowhere is an issue. */
static void repair_far_and_nowhere(void **state) {
    (void)state;
    size_t cap = 40000, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    /* "x" x 5000, "Acme", "x" x 5000, "Acme", "x" x 5000, "é" x 3000 */
    n += (size_t)sprintf(s + n, "{\"text\":\"");
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 5000; i++)
            s[n++] = 'x';
        if (k < 2) n += (size_t)sprintf(s + n, "Acme");
    }
    for (int i = 0; i < 3000; i++)
        s[n++] = '\xc3', s[n++] = '\xa9';
    n += (size_t)sprintf(
        s + n, "\",\"cyberevent\":{\"hopper\":[{\"events\":["
               "{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":7000,\"endOffset\":7004,\"text\":\"Acme\"}},"
               "{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":7502,\"endOffset\":7506,\"text\":\"Acme\"}},"
               "{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":18000,\"endOffset\":18004,\"text\":\"Acme\"}},"
               "{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":-3,\"endOffset\":1,\"text\":\"Acme\"}},"
               "{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":18000,\"endOffset\":18002,\"text\":\"xé\"}},"
               "{\"subtype\":\"Ransom\",\"nugget\":{\"startOffset\":100,\"endOffset\":104,\"text\":\"Acne\"}}"
               "]}]}}");
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(s, n, "far.json", &err);
    if (!d) fail_msg("%s", err.message);
    assert_int_equal(d->n_cp, 18008);
    assert_int_equal(d->n_hoppers, 1);
    assert_int_equal(d->hoppers[0].n_events, 5);
    const casie_event *e = d->hoppers[0].events;
    assert_int_equal(e[0].start, 5000);  /* 2000 before, 3004 after */
    assert_int_equal(e[1].start, 5000);  /* a tie: 2502 either way */
    assert_int_equal(e[2].start, 10004); /* the last one */
    assert_int_equal(e[3].start, 5000);  /* the first one */
    assert_int_equal(e[4].start, 15007); /* across the multibyte text */
    assert_int_equal(e[4].end, 15009);
    assert_int_equal(d->n_repaired, 5);
    assert_int_equal(d->n_issues, 1);
    assert_string_equal(d->issues[0].text, "Acne");
    casie_doc_free(d);
    free(s);
}

/* CASIE_READ_TEXT_ONLY: annotations are neither read nor checked. */
static void read_text_only(void **state) {
    (void)state;
    const char *bad = "{\"id\": \"t\", \"content\": \"Hackers stole data.\", \"info\": {\"title\": \"T\"}, "
                      "\"cyberevent\": {\"hopper\": [{\"events\": [{\"subtype\": \"Hacking\", \"nugget\": {}}]}]}}";
    casie_error err = {0};
    assert_null(casie_doc_from_json(bad, strlen(bad), "bad.json", &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    casie_doc *d = casie_doc_from_json_opts(bad, strlen(bad), "bad.json", CASIE_READ_TEXT_ONLY, &err);
    if (!d) fail_msg("%s", err.message);
    assert_string_equal(d->id, "t");
    assert_string_equal(d->title, "T");
    assert_string_equal(d->text, "Hackers stole data.");
    assert_int_equal(d->n_hoppers, 0);
    casie_doc_free(d);
    size_t len;
    char *s = repetitive_record(1000, 100, &len);
    d = casie_doc_from_json_opts(s, len, "rep.json", CASIE_READ_TEXT_ONLY, &err);
    assert_non_null(d);
    assert_int_equal(d->n_hoppers, 0);
    assert_int_equal(d->n_repaired, 0);
    casie_doc_free(d);
    free(s);
    /* the JSON itself must still be valid, and unknown flags are refused */
    assert_null(casie_doc_from_json_opts("{\"text\": \"a\",", 12, "x", CASIE_READ_TEXT_ONLY, &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
    assert_null(casie_doc_from_json_opts("{\"text\": \"a\"}", 13, "x", 6, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
}

/* Scores are confidences: read clamped to [0, 1] (1e39 is no float), and a
 * score that is not finite is never written (it came out as inf.0). */
static void scores_finite_in_and_out(void **state) {
    (void)state;
    const char *js = "{\"text\": \"Hackers stole data.\", \"cyberevent\": {\"hopper\": [{\"events\": ["
                     "{\"subtype\": \"Ransom\", \"nugget\": {\"startOffset\": 8, \"endOffset\": 13, \"text\": "
                     "\"stole\", \"score\": 1e39}, \"argument\": [{\"startOffset\": 0, \"endOffset\": 7, \"text\": "
                     "\"Hackers\", \"type\": \"Person\", \"role\": \"Attacker\", \"score\": -1e300}, "
                     "{\"startOffset\": 14, \"endOffset\": 18, \"text\": \"data\", \"type\": \"Data\", \"role\": "
                     "\"Compromised-Data\", \"score\": 1.5}]}]}]}}";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json(js, strlen(js), "s.json", &err);
    if (!d) fail_msg("%s", err.message);
    casie_event *e = &d->hoppers[0].events[0];
    assert_true(e->score == 1.0f);
    assert_true(e->args[0].score < 0);
    assert_true(e->args[1].score == 1.0f);
    char *out = casie_doc_to_json(d, CASIE_JSON_COMPACT | CASIE_JSON_SCORES, NULL, &err);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"text\":\"stole\",\"score\":1.0}"));
    casie_free(out);
    e->score = INFINITY;
    e->args[1].score = NAN;
    out = casie_doc_to_json(d, CASIE_JSON_COMPACT | CASIE_JSON_SCORES, NULL, &err);
    assert_non_null(out);
    assert_null(strstr(out, ":inf"));
    assert_null(strstr(out, ":nan"));
    assert_null(strstr(out, "score"));
    casie_doc *back = casie_doc_from_json(out, strlen(out), "back", &err);
    if (!back) fail_msg("%s", err.message);
    casie_doc_free(back);
    casie_free(out);
    casie_doc_free(d);
}

/* A NUL inside a name or date would silently cut it: refused, naming the record. */
static void nul_in_strings_refused(void **state) {
    (void)state;
    static const char *const recs[][2] = {
        {"{\"text\": \"x\", \"info\": {\"date\": \"2017_01_01\\u0000 junk\"}}", "\"date\""},
        {"{\"text\": \"x\", \"info\": {\"title\": \"a\\u0000b\"}}", "\"title\""},
        {"{\"text\": \"x\", \"sourcefile\": \"1.txt\\u0000.json\"}", "\"sourcefile\""},
        {"{\"text\": \"ab\", \"cyberevent\": {\"hopper\": [{\"events\": [{\"subtype\": \"Ransom\\u0000x\", "
         "\"nugget\": {\"startOffset\": 0, \"endOffset\": 1, \"text\": \"a\"}}]}]}}",
         "\"subtype\""},
        {"{\"text\": \"ab\", \"cyberevent\": {\"hopper\": [{\"events\": [{\"subtype\": \"Ransom\", \"nugget\": "
         "{\"startOffset\": 0, \"endOffset\": 1, \"text\": \"a\"}, \"argument\": [{\"startOffset\": 1, \"endOffset\": "
         "2, "
         "\"text\": \"b\", \"type\": \"Person\", \"role\": \"Victim\\u0000x\"}]}]}]}}",
         "\"role\""},
    };
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
        casie_error err = {0};
        assert_null(casie_doc_from_json(recs[i][0], strlen(recs[i][0]), "nul.jsonl:3", &err));
        assert_int_equal(err.code, CASIE_ERR_SCHEMA);
        assert_non_null(strstr(err.message, "nul.jsonl:3"));
        assert_non_null(strstr(err.message, recs[i][1]));
        assert_non_null(strstr(err.message, "NUL"));
    }
    /* in the text itself a NUL is a character like any other */
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json("{\"text\": \"a\\u0000b\"}", 20, "ok", &err);
    if (!d) fail_msg("%s", err.message);
    assert_int_equal(d->n_cp, 3);
    casie_doc_free(d);
}

/* ---- other readers ---- */

static void record_with_text_and_id(void **state) {
    (void)state;
    casie_error err;
    casie_doc *d = parse("{\"id\": \"abc\", \"text\": \"Caf\\u00e9 \\u2019s\"}", &err);
    assert_non_null(d);
    assert_string_equal(d->id, "abc");
    assert_null(d->sourcefile);
    assert_string_equal(d->text, "Café ’s");
    assert_int_equal(d->n_cp, 7);
    assert_int_equal(d->n_hoppers, 0);
    casie_doc_free(d);
    d = parse("{\"id\": 17, \"content\": \"x\", \"sourcefile\": \"99.txt\"}", &err);
    assert_non_null(d);
    assert_string_equal(d->id, "17");
    assert_string_equal(d->sourcefile, "99.txt");
    casie_doc_free(d);
    d = parse("\xEF\xBB\xBF{\"sourcefile\": \"99.txt\", \"content\": \"x\"}", &err);
    assert_non_null(d);
    assert_string_equal(d->id, "99");
    casie_doc_free(d);
    /* a null id is no id (it was reported as out of memory) */
    d = parse("{\"id\": null, \"text\": \"x\"}", &err);
    if (!d) fail_msg("%s", err.message);
    assert_null(d->id);
    casie_doc_free(d);
    d = parse("{\"id\": null, \"sourcefile\": \"7.txt\", \"text\": \"x\"}", &err);
    if (!d) fail_msg("%s", err.message);
    assert_string_equal(d->id, "7");
    casie_doc_free(d);
}

static void source_file(void **state) {
    (void)state;
    char path[512];
    casie_error err = {0};
    data_path(path, sizeof path, "source_sample.txt");
    casie_doc *d = casie_doc_load(path, &err);
    if (!d) fail_msg("%s", err.message);
    assert_string_equal(d->id, "source_sample");
    assert_string_equal(d->sourcefile, "source_sample.txt");
    assert_string_equal(d->title, "Ransom note found at Example Corp");
    assert_string_equal(d->link, "https://example.com/ransom");
    assert_string_equal(d->date, "2020_02_02");
    assert_string_equal(
        d->text, "Example Corp said on Monday that its files were encrypted. The attackers asked for 2 bitcoin.");
    casie_doc_free(d);

    const char *s = "<text>\nNo header\nhere.\n";
    d = casie_doc_from_source(s, strlen(s), NULL, &err);
    assert_non_null(d);
    assert_string_equal(d->text, "No header here.");
    assert_null(d->title);
    casie_doc_free(d);
    s = "<title>No text section</title>\n";
    assert_null(casie_doc_from_source(s, strlen(s), "t.txt", &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
    assert_non_null(strstr(err.message, "t.txt"));
}

static void load_plain_text_and_errors(void **state) {
    (void)state;
    char path[256];
    casie_error err = {0};
    snprintf(path, sizeof path, "%s/article.v2.txt", tmpdir);
    write_file(path, "Plain text \xff here.");
    casie_doc *d = casie_doc_load(path, &err);
    assert_non_null(d);
    assert_string_equal(d->id, "article.v2");
    assert_string_equal(d->text, "Plain text \xEF\xBF\xBD here.");
    assert_int_equal(d->n_cp, 18);
    casie_doc_free(d);

    snprintf(path, sizeof path, "%s/missing.json", tmpdir);
    assert_null(casie_doc_load(path, &err));
    assert_int_equal(err.code, CASIE_ERR_IO);
    snprintf(path, sizeof path, "%s/broken.json", tmpdir);
    write_file(path, "{\"content\": ");
    assert_null(casie_doc_load(path, &err));
    assert_int_equal(err.code, CASIE_ERR_PARSE);
    assert_non_null(strstr(err.message, "broken.json"));
}

/* One rule tells the input formats apart, for casie_doc_load and the CLI. */
static void detect_format(void **state) {
    (void)state;
    static const struct {
        const char *bytes, *name;
        int want;
    } cases[] = {
        {"\xEF\xBB\xBF<title>T</title>\n<text>x</text>", "a.txt", CASIE_INPUT_SOURCE},
        {"\xEF\xBB\xBF \r\n<text>\nx\n</text>", NULL, CASIE_INPUT_SOURCE},
        {"<source>https://example.com</source>", "a", CASIE_INPUT_SOURCE},
        {"<date attr=1>2020</date>", "a", CASIE_INPUT_SOURCE},
        {"<titles> are plain text", "a", CASIE_INPUT_TEXT},
        {"\xEF\xBB\xBF\n {\"text\": \"x\"}", "a.txt", CASIE_INPUT_JSON},
        {"plain text", "a.json", CASIE_INPUT_JSON},
        {"plain <title> later", "a.txt", CASIE_INPUT_TEXT},
        {"", NULL, CASIE_INPUT_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (casie_doc_detect_format(cases[i].bytes, strlen(cases[i].bytes), cases[i].name) != cases[i].want)
            fail_msg("case %zu: not %d", i, cases[i].want);
    char path[256];
    casie_error err = {0};
    snprintf(path, sizeof path, "%s/bom_source.txt", tmpdir);
    write_file(path, "\xEF\xBB\xBF<title>T</title>\n<text>\nBody here.\n</text>\n");
    casie_doc *d = casie_doc_load(path, &err);
    if (!d) fail_msg("%s", err.message);
    assert_string_equal(d->title, "T");
    assert_string_equal(d->text, "Body here.");
    casie_doc_free(d);
}

static void read_ids_file(void **state) {
    (void)state;
    char path[256];
    casie_error err = {0};
    snprintf(path, sizeof path, "%s/ids.txt", tmpdir);
    write_file(path, "# a comment\n12\r\n\n  7 \n10001");
    int n = -1;
    char **ids = casie_read_ids(path, &n, &err);
    assert_non_null(ids);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "12");
    assert_string_equal(ids[1], "7");
    assert_string_equal(ids[2], "10001");
    casie_strings_free(ids, n);
    write_file(path, "");
    ids = casie_read_ids(path, &n, &err);
    assert_non_null(ids);
    assert_int_equal(n, 0);
    casie_strings_free(ids, n);
    snprintf(path, sizeof path, "%s/nope.txt", tmpdir);
    assert_null(casie_read_ids(path, &n, &err));
    assert_int_equal(err.code, CASIE_ERR_IO);
}

static void corpus_dir_without_annotation(void **state) {
    (void)state;
    char dir[256], path[320];
    casie_error err = {0};
    snprintf(dir, sizeof dir, "%s/preds", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/10.json", dir);
    write_file(path, "{\"content\": \"ten\", \"sourcefile\": \"10.txt\"}");
    snprintf(path, sizeof path, "%s/9.json", dir);
    write_file(path, "{\"content\": \"nine\"}");
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    write_file(path, "not a document");
    casie_corpus *c = casie_corpus_read(dir, NULL, 0, &err);
    assert_non_null(c);
    assert_int_equal(c->n_docs, 2);
    assert_string_equal(c->docs[0]->id, "9"); /* numeric order, id from the file name */
    assert_string_equal(c->docs[1]->id, "10");
    casie_corpus_free(c);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_file(path, "[]");
    assert_null(casie_corpus_read(dir, NULL, 0, &err));
    assert_int_equal(err.code, CASIE_ERR_SCHEMA);
    assert_non_null(strstr(err.message, "bad.json"));
}

/* ---- writing ---- */

static void to_json_generates_indices_and_scores(void **state) {
    (void)state;
    casie_error err = {0};
    const char *text = "Hackers stole data. Ransom was paid.";
    casie_doc *d = casie_doc_from_text(text, strlen(text), "gen", &err);
    assert_non_null(d);
    d->n_hoppers = 2;
    d->hoppers = calloc(2, sizeof *d->hoppers);
    assert_non_null(d->hoppers);
    d->hoppers[0].n_events = 1;
    d->hoppers[0].events = calloc(1, sizeof(casie_event));
    d->hoppers[1].n_events = 1;
    d->hoppers[1].events = calloc(1, sizeof(casie_event));
    casie_event *e = &d->hoppers[0].events[0];
    e->subtype = CASIE_SUBTYPE_DATABREACH;
    e->realis = CASIE_REALIS_ACTUAL;
    e->start = 8;
    e->end = 13;
    e->score = 0.8f;
    e->n_args = 1;
    e->args = calloc(1, sizeof(casie_arg));
    e->args[0] = (casie_arg){.start = 0, .end = 7, .role = 0, .entity = 0, .score = 0.25f};
    casie_event *f = &d->hoppers[1].events[0];
    f->subtype = CASIE_SUBTYPE_RANSOM;
    f->realis = CASIE_REALIS_OTHER;
    f->start = 20;
    f->end = 26;
    f->score = -1;
    f->index = strdup("E7");
    size_t len;
    char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT | CASIE_JSON_SCORES, &len, &err);
    assert_non_null(js);
    assert_string_equal(
        js,
        "{\"content\":\"Hackers stole data. Ransom was paid.\",\"sourcefile\":\"gen.txt\",\"info\":{\"type\":\"text\"},"
        "\"cyberevent\":{\"hopper\":[{\"index\":0,\"relation\":\"Same\",\"events\":[{\"index\":\"E8\",\"type\":"
        "\"Attack\",\"subtype\":\"Databreach\",\"realis\":\"Actual\",\"nugget\":{\"index\":\"T1\",\"startOffset\":8,"
        "\"endOffset\":13,\"text\":\"stole\",\"score\":0.8},\"argument\":[{\"index\":\"T2\",\"startOffset\":0,"
        "\"endOffset\":7,\"text\":\"Hackers\",\"type\":\"Person\",\"role\":{\"type\":\"Attacker\"},\"score\":0.25}]}]},"
        "{\"index\":1,\"relation\":\"Same\",\"events\":[{\"index\":\"E7\",\"type\":\"Attack\",\"subtype\":\"Ransom\","
        "\"realis\":\"Other\",\"nugget\":{\"index\":\"T3\",\"startOffset\":20,\"endOffset\":26,\"text\":"
        "\"Ransom\"}}]}]}}");
    casie_free(js);
    /* Without CASIE_JSON_SCORES: no score; pretty output is indented. */
    js = casie_doc_to_json(d, 0, NULL, &err);
    assert_non_null(js);
    assert_null(strstr(js, "score"));
    assert_non_null(strstr(js, "\n  \"cyberevent\": {\n    \"hopper\": [\n"));
    /* Reading it back gives the scores-free document with indices. */
    casie_doc *r = casie_doc_from_json(js, strlen(js), "gen", &err);
    assert_non_null(r);
    assert_string_equal(r->hoppers[0].events[0].index, "E8");
    assert_string_equal(r->hoppers[0].events[0].args[0].text, "Hackers");
    assert_true(r->hoppers[0].events[0].score < 0);
    casie_doc_free(r);
    casie_free(js);
    js = casie_doc_to_json(d, CASIE_JSON_SCORES, NULL, &err);
    r = casie_doc_from_json(js, strlen(js), "gen", &err);
    assert_non_null(r);
    assert_true(r->hoppers[0].events[0].score == 0.8f);
    assert_true(r->hoppers[0].events[0].args[0].score == 0.25f);
    casie_doc_free(r);
    casie_free(js);

    /* A label out of range is refused. */
    e->args[0].role = CASIE_N_ROLES;
    assert_null(casie_doc_to_json(d, 0, NULL, &err));
    assert_int_equal(err.code, CASIE_ERR_INVALID_ARG);
    casie_doc_free(d);
}

static void to_json_escapes(void **state) {
    (void)state;
    casie_error err = {0};
    const char text[] = "Quote \" backslash \\ tab \t nl \n nul \0 end";
    casie_doc *d = casie_doc_from_text(text, sizeof text - 1, "esc", &err);
    assert_non_null(d);
    free(d->title); /* the first line, read as a headline */
    d->title = strdup("bad \xC3 utf8");
    char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"Quote \\\" backslash \\\\ tab \\t nl \\n nul \\u0000 end\""));
    assert_non_null(strstr(js, "\"title\":\"bad \xEF\xBF\xBD utf8\""));
    casie_doc *r = casie_doc_from_json(js, strlen(js), "esc", &err);
    assert_non_null(r);
    assert_int_equal(r->text_len, sizeof text - 1);
    assert_memory_equal(r->text, text, sizeof text - 1);
    casie_doc_free(r);
    casie_free(js);
    casie_doc_free(d);
}

/* The failure record the CLI and the service write: escaped as documents
 * are (the CLI used to write control characters its own way and invalid
 * UTF-8 raw, which is not JSON). */
static void error_record_escapes(void **state) {
    (void)state;
    size_t n = 0;
    char *r = casie_error_to_json("dir/a\"b\n.txt", "bad \xC3 byte \\ \x01", &n);
    assert_non_null(r);
    assert_string_equal(r, "{\"id\":\"dir/a\\\"b\\n.txt\",\"error\":\"bad \xEF\xBF\xBD byte \\\\ \\u0001\"}");
    assert_int_equal(n, strlen(r));
    json_error_t je;
    json_t *o = json_loads(r, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "dir/a\"b\n.txt");
    json_decref(o);
    casie_free(r);
    r = casie_error_to_json(NULL, NULL, NULL);
    assert_string_equal(r, "{\"error\":\"\"}");
    casie_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_round_trip),
        cmocka_unit_test(corpus_split_order_and_missing_id),
        cmocka_unit_test(corpus_source_matches_annotation),
        cmocka_unit_test(drift_fixture),
        cmocka_unit_test(error_malformed_json),
        cmocka_unit_test(error_not_an_object),
        cmocka_unit_test(error_deep_nesting),
        cmocka_unit_test(error_missing_or_bad_content),
        cmocka_unit_test(error_unknown_labels),
        cmocka_unit_test(repair_on_repetitive_text_is_fast),
        cmocka_unit_test(repair_far_and_nowhere),
        cmocka_unit_test(read_text_only),
        cmocka_unit_test(scores_finite_in_and_out),
        cmocka_unit_test(nul_in_strings_refused),
        cmocka_unit_test(record_with_text_and_id),
        cmocka_unit_test(source_file),
        cmocka_unit_test(load_plain_text_and_errors),
        cmocka_unit_test(detect_format),
        cmocka_unit_test(read_ids_file),
        cmocka_unit_test(corpus_dir_without_annotation),
        cmocka_unit_test(to_json_generates_indices_and_scores),
        cmocka_unit_test(to_json_escapes),
        cmocka_unit_test(error_record_escapes),
    };
    return cmocka_run_group_tests_name("corpus", tests, setup_tmp, teardown_tmp);
}
