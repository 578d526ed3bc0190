/*
 * test_cli_eval.c - the `casie eval`, `casie stats` and `casie tokenize`
 * commands, run as a user would run them (build/casie, or $BUILD/casie).
 */
#include "cli_common.h"

#include <sys/stat.h>

static void data_path(char *out, size_t n, const char *file) {
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    snprintf(out, n, "%.*s/data/%s", slash ? (int)(slash - src) : 1, slash ? src : ".", file);
}

static void eval_gold_against_gold(void **state) {
    (void)state;
    const char *c = test_corpus();
    if (!c) skip();
    char args[4096], *out, *err;
    snprintf(args, sizeof args, "eval '%s' '%s/annotation' --ids '%s/splits/dev.txt' --json", c, c, c);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_int_equal(cli_count(out, "\"f1\": 100.0000"), CASIE_N_METRICS);
    assert_non_null(strstr(out, "\"documents\": 100"));
    assert_non_null(strstr(out, "\"missing_predictions\": 0"));
    assert_string_equal(err, "");
    free(out);
    free(err);

    snprintf(args, sizeof args, "eval '%s' '%s' --ids '%s/splits/dev.txt' --detail", c, c, c);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "metric "));
    assert_non_null(strstr(out, "\ntrig_c "));
    assert_non_null(strstr(out, "\n  arg_c/Victim "));
    assert_non_null(strstr(out, "\n  realis/Ransom "));
    /* the metrics, then the argument categories: all right */
    char *cat = strstr(out, "\ncategory ");
    assert_non_null(cat);
    *cat++ = 0;
    assert_int_equal(cli_count(out, "  100.00  100.00  100.00 "), cli_count(out, "\n"));
    assert_non_null(strstr(cat, "\npurpose_cat  "));
    assert_non_null(strstr(cat, "\ncapec  "));
    assert_non_null(strstr(cat, "\n  capec/Flooding  "));
    assert_int_equal(cli_count(cat, "  100.00 "), cli_count(cat, "\n") - 2);
    free(out);
    free(err);
}

static void eval_missing_and_jsonl_predictions(void **state) {
    (void)state;
    const char *c = test_corpus();
    if (!c) skip();
    char args[4096], path[256], *out, *err;
    /* Three ids; a prediction for only the first, as JSONL. */
    snprintf(path, sizeof path, "%s/ids.txt", cli_tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("10012\n10015\n10016\n", f);
    fclose(f);
    casie_error e = {0};
    char doc_path[4096];
    snprintf(doc_path, sizeof doc_path, "%s/annotation/10012.json", c);
    casie_doc *d = casie_doc_load(doc_path, &e);
    assert_non_null(d);
    char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT, NULL, &e);
    assert_non_null(js);
    snprintf(path, sizeof path, "%s/pred.jsonl", cli_tmpdir);
    f = fopen(path, "w");
    fprintf(f, "%s\n\n", js);
    fclose(f);
    casie_free(js);
    casie_doc_free(d);
    snprintf(args, sizeof args, "eval '%s' '%s/pred.jsonl' --ids '%s/ids.txt' --json", c, cli_tmpdir, cli_tmpdir);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"documents\": 3"));
    assert_non_null(strstr(out, "\"missing_predictions\": 2"));
    assert_non_null(strstr(out, "\"trig_i\": {\"p\": 100.0000"));
    assert_non_null(strstr(err, "no prediction for 10015"));
    assert_non_null(strstr(err, "no prediction for 10016"));
    free(out);
    free(err);

    /* The same JSONL as gold: every gold id has its prediction. */
    snprintf(args, sizeof args, "eval '%s/pred.jsonl' '%s' --json", cli_tmpdir, c);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"documents\": 1, \"missing_predictions\": 0"));
    free(out);
    free(err);

    /* An empty prediction directory: no pair is scored, which is an error
     * (issue 15: it printed a table of zeros and exited 0), and so is an
     * empty gold directory. */
    snprintf(path, sizeof path, "%s/empty", cli_tmpdir);
    mkdir(path, 0700);
    snprintf(args, sizeof args, "eval '%s' '%s' --ids '%s/ids.txt'", c, path, cli_tmpdir);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_int_equal(cli_count(err, "no prediction for 100"), 3);
    assert_non_null(strstr(err, "no prediction for any of the 3 gold documents; nothing was scored"));
    assert_string_equal(out, "");
    free(out);
    free(err);
    snprintf(args, sizeof args, "eval '%s' '%s' --json", path, path);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "empty: no gold documents to score"));
    assert_string_equal(out, "");
    free(out);
    free(err);
}

static void eval_and_stats_on_fixture(void **state) {
    (void)state;
    char args[4096], dir[256], fixture[512], *out, *err;
    snprintf(dir, sizeof dir, "%s/fx", cli_tmpdir);
    mkdir(dir, 0700);
    data_path(fixture, sizeof fixture, "drift.json");
    snprintf(args, sizeof args, "cp '%s' '%s/drift.json'", fixture, dir);
    assert_int_equal(system(args), 0);
    /* Gold drift is reported; gold against itself scores 100. */
    snprintf(args, sizeof args, "eval '%s' '%s'", dir, dir);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(err, "\"Acme Corp\""));
    assert_non_null(strstr(err, "\"breached\""));
    assert_non_null(
        strstr(out, "\ntrig_i                                  100.00  100.00  100.00       2       0       0\n"));
    free(out);
    free(err);

    snprintf(args, sizeof args, "stats '%s' --json", dir);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"documents\": 1,"));
    assert_non_null(strstr(out, "\"hoppers\": 1,"));
    assert_non_null(strstr(out, "\"events\": 2,"));
    assert_non_null(strstr(out, "\"arguments\": 3,"));
    assert_non_null(strstr(out, "\"repaired_spans\": 3,"));
    assert_non_null(strstr(out, "\"unrepairable_spans\": 2,"));
    assert_non_null(strstr(out, "\"Phishing\": 1"));
    assert_non_null(strstr(err, "drift.json"));
    assert_non_null(strstr(err, "\"Acme Corp\""));
    free(out);
    free(err);

    snprintf(args, sizeof args, "tokenize '%s'", fixture);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "# drift: "));
    assert_non_null(strstr(out, "\t0\t7\tHackers\t"));
    free(out);
    free(err);
}

static void usage_errors(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(cli_run("eval", &out, &err), 2);
    assert_non_null(strstr(err, "usage: casie eval"));
    free(out);
    free(err);
    assert_int_equal(cli_run("eval a b --bogus", &out, &err), 2);
    free(out);
    free(err);
    assert_int_equal(cli_run("eval /nonexistent/gold /nonexistent/pred", &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/gold"));
    free(out);
    free(err);
    assert_int_equal(cli_run("stats", &out, &err), 2);
    free(out);
    free(err);
    assert_int_equal(cli_run("stats /nonexistent/corpus", &out, &err), 1);
    free(out);
    free(err);
    assert_int_equal(cli_run("eval --help", &out, &err), 0);
    assert_non_null(strstr(out, "usage: casie eval"));
    free(out);
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eval_gold_against_gold),
        cmocka_unit_test(eval_missing_and_jsonl_predictions),
        cmocka_unit_test(eval_and_stats_on_fixture),
        cmocka_unit_test(usage_errors),
    };
    return cmocka_run_group_tests_name("cli_eval", tests, cli_setup, cli_teardown);
}
