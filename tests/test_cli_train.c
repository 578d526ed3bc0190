/*
 * test_cli_train.c - the `casie train` command as a user runs it: option
 * errors, then a small model trained from the corpus, saved, and used by
 * `casie extract`.
 */
#include "cli_common.h"

#include <jansson.h>

static void bad_options_refused(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(cli_run("train --arg-nets two -o x.model", &out, &err), 2);
    assert_non_null(strstr(err, "--arg-nets: arg_nets takes a non-negative integer, not 'two'"));
    free(out);
    free(err);
    assert_int_equal(cli_run("train --dev none", &out, &err), 2);
    assert_non_null(strstr(err, "-o MODEL is required"));
    free(out);
    free(err);
    assert_int_equal(cli_run("train --bogus 1 -o x.model", &out, &err), 2);
    assert_non_null(strstr(err, "unknown option --bogus"));
    free(out);
    free(err);
}

/* Twelve documents, one epoch, no dev split, two trigger networks and one
 * argument network: the file records the choice and extracts. */
static void small_model_trains_and_extracts(void **state) {
    (void)state;
    const char *c = test_corpus();
    if (!c) skip();
    char args[4096], model[256], *out, *err;
    snprintf(model, sizeof model, "%s/small.model", cli_tmpdir);
    snprintf(args, sizeof args, "train --corpus '%s' --limit 1 --dev none --trig-nets 3 -o '%s'", c, model);
    assert_int_equal(cli_run(args, &out, &err), 2); /* the library's table refuses it, before any work */
    assert_non_null(strstr(err, "--trig-nets: trig_nets must be 1..2, not 3"));
    assert_null(strstr(err, "train: read"));
    free(out);
    free(err);
    snprintf(args, sizeof args,
             "train --corpus '%s' --limit 12 --dev none --epochs 1 --clusters none --trig-nets 2 --arg-nets 1 -o '%s'",
             c, model);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(err, "train: read 12 training and 0 dev documents"));
    assert_non_null(strstr(err, "triggers (network 2): epoch 1/1"));
    assert_null(strstr(err, "arguments (network 2)"));
    assert_non_null(strstr(err, "train: wrote"));
    free(out);
    free(err);
    FILE *f = fopen(model, "rb"); /* the META section is JSON text in the file */
    assert_non_null(f);
    static char bytes[1 << 23];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    const char *want = "\"arg_nets\":1,\"trig_nets\":2";
    assert_non_null(memmem(bytes, n, want, strlen(want)));
    snprintf(args, sizeof args, "extract -m '%s' '%s/annotation/1101.json'", model, c);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"sourcefile\""));
    assert_non_null(strstr(out, "\"cyberevent\""));
    assert_string_equal(err, "");
    free(out);
    free(err);
}

/* Issue 15: an output that cannot be written was found out only after the
 * training; now before the corpus is even read. */
static void unwritable_output_refused_first(void **state) {
    (void)state;
    char args[4096], *out, *err;
    snprintf(args, sizeof args, "train --limit 2 --epochs 1 --dev none --clusters none -o /nonexistent/dir/x.model");
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "casie train: cannot write /nonexistent/dir/x.model: No such file or directory"));
    assert_null(strstr(err, "train: read"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "train --limit 2 --epochs 1 --dev none --clusters none -o %s", cli_tmpdir);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "is a directory"));
    assert_null(strstr(err, "train: read"));
    free(out);
    free(err);
}

/* The metadata is JSON built by jansson: a split file named with a quote and a
 * backslash came out as invalid JSON (and a model that now does not load). */
static void metadata_escapes_split_names(void **state) {
    (void)state;
    const char *c = test_corpus();
    if (!c) skip();
    char ids[256], model[256], args[4096], *out, *err;
    snprintf(ids, sizeof ids, "%s/q\"uo\\te.txt", cli_tmpdir);
    FILE *f = fopen(ids, "w");
    assert_non_null(f);
    fputs("1101\n1126\n1138\n", f);
    fclose(f);
    snprintf(model, sizeof model, "%s/q.model", cli_tmpdir);
    snprintf(args, sizeof args,
             "train --corpus '%s' --train '%s' --dev none --epochs 1 --clusters none --arg-nets 1 --seed "
             "18446744073709551615 -o '%s'",
             c, ids, model);
    assert_int_equal(cli_run(args, &out, &err), 0);
    free(out);
    free(err);
    casie_error e = {0};
    casie_model *m = casie_model_load(model, &e);
    if (!m) fail_msg("%s", e.message);
    char *meta = casie_model_metadata(m);
    assert_non_null(meta);
    json_error_t je;
    json_t *o = json_loads(meta, 0, &je);
    if (!o) fail_msg("metadata is not JSON: %s: %s", je.text, meta);
    char want[512];
    snprintf(want, sizeof want, "train=%s dev=none", ids);
    assert_string_equal(json_string_value(json_object_get(o, "corpus")), want);
    assert_string_equal(json_string_value(json_object_get(o, "seed")), "18446744073709551615");
    assert_int_equal(json_integer_value(json_object_get(o, "n_train")), 3);
    assert_true(json_real_value(json_object_get(o, "lr")) == 0.001);
    assert_non_null(strstr(meta, "\"lr\":0.001,\"dropout\":0.25,"));
    json_decref(o);
    casie_free(meta);
    casie_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_options_refused),
        cmocka_unit_test(small_model_trains_and_extracts),
        cmocka_unit_test(unwritable_output_refused_first),
        cmocka_unit_test(metadata_escapes_split_names),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
