/*
 * test_cli_train.c - the `casie train` command as a user runs it: option
 * errors, then a small model trained from the corpus, saved, and used by
 * `casie extract`.
 */
#include "cli_common.h"

static void bad_options_refused(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(cli_run("train --arg-nets two -o x.model", &out, &err), 2);
    assert_non_null(strstr(err, "--arg-nets takes a non-negative integer, not 'two'"));
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
    assert_int_equal(cli_run(args, &out, &err), 1); /* the library refuses it, after reading the corpus */
    assert_non_null(strstr(err, "trig_nets must be 1 or 2"));
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_options_refused),
        cmocka_unit_test(small_model_trains_and_extracts),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
