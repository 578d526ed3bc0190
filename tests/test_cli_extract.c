/*
 * test_cli_extract.c - `casie extract` as a user runs it: formats, JSONL in
 * input order with several threads, error records for bad records, exit
 * codes, output errors, and --given-triggers.
 */
#include "cli_common.h"

#define ART1 "Hackers stole the personal data of 2 million customers from Acme Bank, the company said on Monday."
#define ART2 "Microsoft released a patch for a critical vulnerability in Windows that attackers exploited."

static void sample_article_text_and_json(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(cli_run("extract --format text examples/sample-article.txt", &out, &err), 0);
    assert_non_null(strstr(out, "== sample-article \"Hospital network hit by ransomware, patients diverted\""));
    assert_non_null(strstr(out, "Attack.Ransom"));
    free(out), free(err);
    assert_int_equal(cli_run("extract examples/sample-article.txt", &out, &err), 0);
    assert_non_null(strstr(out, "\"cyberevent\": {")); /* one document: indented */
    assert_non_null(strstr(out, "\"sourcefile\": \"sample-article.txt\""));
    assert_non_null(strstr(out, "\"score\""));
    assert_non_null(strstr(out, "\"link\": \"https://example.org/news/hospital-ransomware\""));
    free(out), free(err);
    assert_int_equal(cli_run("extract --format stix examples/sample-article.txt", &out, &err), 0);
    assert_non_null(strstr(out, "\"type\": \"bundle\""));
    assert_non_null(strstr(out, "\"name\": \"Hospital network hit by ransomware, patients diverted\""));
    free(out), free(err);
    assert_int_equal(cli_run("extract --no-scores examples/sample-article.txt", &out, &err), 0);
    assert_null(strstr(out, "\"score\""));
    free(out), free(err);
}

static void jsonl_order_threads_and_errors(void **state) {
    (void)state;
    /* 150 records (more than one batch), two of them bad */
    size_t cap = 1 << 16, n = 0;
    char *in = malloc(cap);
    assert_non_null(in);
    for (int i = 0; i < 150; i++) {
        char line[512];
        if (i == 70) snprintf(line, sizeof line, "{\"id\": \"r%d\", \"text\": 5}\n", i);
        else if (i == 71) snprintf(line, sizeof line, "this is not json\n");
        else snprintf(line, sizeof line, "{\"id\": \"r%d\", \"text\": \"%s\"}\n", i, i % 2 ? ART1 : ART2);
        size_t k = strlen(line);
        while (n + k + 1 > cap) assert_non_null(in = realloc(in, cap *= 2));
        memcpy(in + n, line, k + 1);
        n += k;
    }
    const char *path = cli_write("in.jsonl", in);
    char args[512], *o1, *e1, *o2, *e2;
    snprintf(args, sizeof args, "extract --threads 1 %s", path);
    assert_int_equal(cli_run(args, &o1, &e1), 1); /* failures make the exit status 1 */
    snprintf(args, sizeof args, "extract --threads 2 < %s", path);
    assert_int_equal(cli_run(args, &o2, &e2), 1);
    /* same records, same order, whatever the thread count */
    const char *p1 = strchr(o1, '\n');
    assert_non_null(p1);
    assert_int_equal(cli_count(o1, "\n"), 150);
    assert_int_equal(cli_count(o2, "\n"), 150);
    assert_int_equal(cli_count(o1, "\"error\":"), 2);
    assert_non_null(strstr(o1, "{\"id\":\"")); /* the error records */
    assert_non_null(strstr(e1, "in.jsonl:71: \"text\" is not a string"));
    assert_non_null(strstr(e1, "in.jsonl:72: JSON syntax error"));
    assert_non_null(strstr(e1, "150 records, 2 failed"));
    /* record k of the output is input record k */
    const char *line = o1;
    for (int i = 0; i < 150; i++) {
        char want[64];
        if (i == 70 || i == 71) snprintf(want, sizeof want, "in.jsonl:%d\"", i + 1);
        else snprintf(want, sizeof want, "\"sourcefile\":\"r%d.txt\"", i);
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        char *hit = strstr(line, want);
        assert_true(hit && hit < end);
        line = end + 1;
    }
    /* stdin with 2 threads gives the same records (names differ: <stdin>) */
    assert_int_equal(cli_count(o2, "\"sourcefile\":\"r"), 148);
    free(o1), free(e1), free(o2), free(e2), free(in);
}

/* The same records through GNU parallel (as Hadoop Streaming or Spark's
 * RDD.pipe would run it: record chunks on stdin, JSONL on stdout) give the
 * same output as one process. */
static void under_gnu_parallel(void **state) {
    (void)state;
    if (system("command -v parallel >/dev/null 2>&1") != 0) {
        const char *ci = getenv("CI");
        if (ci && !strcmp(ci, "true")) fail_msg("GNU parallel is not installed (scripts/setup.sh installs it)");
        skip();
    }
    char in[256], one[256], par[256], cmd[2048];
    snprintf(in, sizeof in, "%s/par.jsonl", cli_tmpdir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (int i = 0; i < 60; i++)
        fprintf(f, "{\"id\": \"p%d\", \"text\": \"%s\"}\n", i, i % 3 ? ART1 : ART2);
    fclose(f);
    snprintf(one, sizeof one, "%s/one.jsonl", cli_tmpdir);
    snprintf(par, sizeof par, "%s/par.out", cli_tmpdir);
    snprintf(cmd, sizeof cmd, "%s extract --jsonl --threads 1 < %s > %s 2>/dev/null", cli_bin, in, one);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "parallel --will-cite --pipe -N 7 --keep-order -j 2 %s extract --jsonl --threads 1 < %s > %s 2>/dev/null",
             cli_bin, in, par);
    assert_int_equal(system(cmd), 0);
    char *a = cli_slurp(one), *b = cli_slurp(par);
    /* the names differ only by the line numbers of each chunk: compare the documents */
    assert_int_equal(cli_count(a, "\n"), 60);
    assert_int_equal(cli_count(b, "\n"), 60);
    assert_string_equal(a, b);
    free(a), free(b);
}

static void bad_input_and_output(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(cli_run("extract /nonexistent/file.txt", &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/file.txt: No such file or directory"));
    assert_non_null(strstr(out, "\"error\":"));
    free(out), free(err);
    assert_int_equal(cli_run("extract -m /nonexistent/model examples/sample-article.txt", &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/model"));
    free(out), free(err);
    const char *bad = cli_write("bad.model", "CASIEMDL but not really a model file at all, just text");
    char args[1024];
    snprintf(args, sizeof args, "extract -m %s examples/sample-article.txt", bad);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "bad.model"));
    free(out), free(err);
    /* a full disk: a message and a non-zero exit */
    snprintf(args, sizeof args, "%s extract examples/sample-article.txt >/dev/full 2>%s/full.err", cli_bin, cli_tmpdir);
    int rc = system(args);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(args, sizeof args, "%s/full.err", cli_tmpdir);
    err = cli_slurp(args);
    assert_non_null(strstr(err, "No space left on device"));
    free(err);
    assert_int_equal(cli_run("extract --threads 0 x", &out, &err), 2);
    free(out), free(err);
    assert_int_equal(cli_run("extract --trigger-threshold 2 x", &out, &err), 2);
    free(out), free(err);
    /* an empty document is a document with no events */
    const char *empty = cli_write("empty.txt", "   \n\n  ");
    snprintf(args, sizeof args, "extract %s", empty);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"hopper\": []"));
    free(out), free(err);
}

static void thresholds_trade_recall(void **state) {
    (void)state;
    char *lo, *hi, *e1, *e2;
    assert_int_equal(cli_run("extract examples/sample-article.txt", &lo, &e1), 0);
    assert_int_equal(cli_run("extract --trigger-threshold 0.9 --arg-threshold 0.9 examples/sample-article.txt", &hi, &e2),
                     0);
    assert_true(cli_count(hi, "\"role\"") < cli_count(lo, "\"role\""));
    assert_true(cli_count(hi, "\"nugget\"") <= cli_count(lo, "\"nugget\""));
    free(lo), free(hi), free(e1), free(e2);
}

static void given_triggers_keep_gold(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "extract --given-triggers %s %s/annotation/1101.json", corpus, corpus);
    assert_int_equal(cli_run(args, &out, &err), 0);
    char gold[512];
    snprintf(gold, sizeof gold, "%s/annotation/1101.json", corpus);
    casie_error e = {0};
    casie_doc *g = casie_doc_load(gold, &e);
    assert_non_null(g);
    casie_doc *p = casie_doc_from_json(out, strlen(out), "out", &e);
    assert_non_null(p);
    casie_eval *ev = casie_eval_new();
    assert_int_equal(casie_eval_add(ev, g, p, &e), CASIE_OK);
    casie_counts c = casie_eval_counts(ev, CASIE_METRIC_TRIG_C, -1, -1);
    assert_int_equal(c.fp, 0);
    assert_int_equal(c.fn, 0);
    assert_true(c.tp > 0);
    casie_eval_free(ev);
    casie_doc_free(g);
    casie_doc_free(p);
    free(out), free(err);
}

/* Output errors in every command: a full disk is a message and exit 1; a
 * reader that stops early (head) ends the writer quietly, whether SIGPIPE
 * kills it or is ignored and writes fail with EPIPE. */
static void output_errors(void **state) {
    (void)state;
    static const char *const cmds[] = {
        "tokenize examples/sample-article.txt", "extract --format text examples/sample-article.txt",
        "extract --format stix examples/sample-article.txt", "extract --help", "--version", "stats tests/data",
    };
    char sh[2048], path[256];
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        snprintf(path, sizeof path, "%s/full.err", cli_tmpdir);
        snprintf(sh, sizeof sh, "%s %s >/dev/full 2>%s", cli_bin, cmds[i], path);
        int rc = system(sh);
        char *err = cli_slurp(path);
        if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 1 || !strstr(err, "No space left on device"))
            fail_msg("%s >/dev/full: status %d, stderr '%s'", cmds[i], rc, err);
        free(err);
    }
    snprintf(sh, sizeof sh, "%s extract examples/sample-article.txt | %s render >/dev/full 2>%s/full.err", cli_bin,
             cli_bin, cli_tmpdir);
    assert_int_not_equal(system(sh), 0);
    snprintf(path, sizeof path, "%s/full.err", cli_tmpdir);
    char *err = cli_slurp(path);
    assert_non_null(strstr(err, "No space left on device"));
    free(err);
    /* 3000 records and a long article: far more output than a pipe holds */
    snprintf(path, sizeof path, "%s/many.jsonl", cli_tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 3000; i++) fprintf(f, "{\"id\": \"r%d\", \"text\": \"Hackers stole data from Acme.\"}\n", i);
    fclose(f);
    static const char *const traps[2] = {"", "trap '' PIPE; "};
    for (int t = 0; t < 2; t++) {
        const char *const readers[3] = {"extract --jsonl --threads 2 < ", "tokenize ", "extract --format text --jsonl < "};
        for (int r = 0; r < 3; r++) {
            snprintf(sh, sizeof sh, "(%s%s %s%s 2>%s/pipe.err; echo $? >%s/pipe.rc) | head -c 100 >/dev/null", traps[t],
                     cli_bin, readers[r], path, cli_tmpdir, cli_tmpdir);
            assert_int_equal(system(sh), 0);
            snprintf(sh, sizeof sh, "%s/pipe.err", cli_tmpdir);
            err = cli_slurp(sh);
            snprintf(sh, sizeof sh, "%s/pipe.rc", cli_tmpdir);
            char *rc = cli_slurp(sh);
            if (err[0] || atoi(rc) == 0) fail_msg("%s%s| head: status %s, stderr '%s'", traps[t], readers[r], rc, err);
            free(err);
            free(rc);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_article_text_and_json), cmocka_unit_test(jsonl_order_threads_and_errors),
        cmocka_unit_test(bad_input_and_output),         cmocka_unit_test(thresholds_trade_recall),
        cmocka_unit_test(given_triggers_keep_gold),    cmocka_unit_test(under_gnu_parallel),
        cmocka_unit_test(output_errors),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
