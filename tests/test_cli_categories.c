/*
 * test_cli_categories.c - `casie train-categories`: bad usage refused
 * before any work (no model, writing over the input without --in-place);
 * on a tiny model and a few corpus documents it writes a new model that the
 * CLI uses without the note an older model gets on stderr, and whose
 * arguments carry categories in the text listing.
 */
#include "test_common.h"
#include "cli_common.h"
#include "tiny_model.h"

static void usage_refused(void **state) {
    (void)state;
    char *out, *err, args[1024];
    assert_int_equal(cli_run("train-categories -o x.model", &out, &err), 2);
    assert_non_null(strstr(err, "-m MODEL and one of -o OUT or --in-place are required"));
    free(out), free(err);
    assert_int_equal(cli_run("train-categories -m fast", &out, &err), 2);
    free(out), free(err);
    assert_int_equal(cli_run("train-categories -m fast -o a --in-place", &out, &err), 2);
    free(out), free(err);
    assert_int_equal(cli_run("train-categories -m fast -o a --holdout 0", &out, &err), 2);
    free(out), free(err);
    assert_int_equal(cli_run("train-categories -m fast -o a --bogus 1", &out, &err), 2);
    assert_non_null(strstr(err, "unknown option --bogus"));
    free(out), free(err);
    assert_int_equal(cli_run("train-categories -m /nonexistent/x.model -o a", &out, &err), 1);
    free(out), free(err);
    if (access("models/casie-fast.model", R_OK)) return;
    snprintf(args, sizeof args, "train-categories -m models/casie-fast.model -o ./models/../models/casie-fast.model");
    assert_int_equal(cli_run(args, &out, &err), 2);
    assert_non_null(strstr(err, "is the input model; use --in-place"));
    free(out), free(err);
    assert_int_equal(cli_run("train-categories --help", &out, &err), 0);
    assert_non_null(strstr(out, "usage: casie train-categories"));
    free(out), free(err);
}

static void tiny_model_gains_categories(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus || access("models/casie-fast.model", R_OK)) skip();
    char tiny[256], with[256], ids[256], args[2048], line[64];
    snprintf(tiny, sizeof tiny, "%s/tiny.model", cli_tmpdir);
    snprintf(with, sizeof with, "%s/with.model", cli_tmpdir);
    snprintf(ids, sizeof ids, "%s/ids.txt", cli_tmpdir);
    casie_error e = {0};
    assert_int_equal(tiny_model_write("models/casie-fast.model", tiny, 64, &e), CASIE_OK);
    /* the first 80 training documents */
    snprintf(args, sizeof args, "%s/splits/train.txt", corpus);
    FILE *in = fopen(args, "r"), *o = fopen(ids, "w");
    assert_non_null(in);
    assert_non_null(o);
    for (int i = 0; i < 80 && fgets(line, sizeof line, in); i++)
        fputs(line, o);
    fclose(in);
    fclose(o);
    char *out, *err;
    snprintf(args, sizeof args, "train-categories -m '%s' -o '%s' --corpus '%s' --train '%s' --holdout 20", tiny, with,
             corpus, ids);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(err, "categories on 20 held-out documents (gold spans): purpose "));
    assert_non_null(strstr(err, "wrote "));
    free(out), free(err);
    /* the old model gets a note on stderr, the new one none */
    snprintf(args, sizeof args, "extract -m '%s' --format text '%s/annotation/10015.json'", tiny, corpus);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(err, "predicts no argument categories"));
    assert_null(strstr(out, "Purpose ["));
    free(out), free(err);
    /* every argument of a category role shows its category beside the role */
    snprintf(args, sizeof args,
             "extract -m '%s' --format text '%s/annotation/10015.json' '%s/annotation/10016.json' "
             "'%s/annotation/10017.json' '%s/annotation/10021.json'",
             with, corpus, corpus, corpus, corpus);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_null(strstr(err, "predicts no argument categories"));
    int with_cat = cli_count(out, "      Purpose [") + cli_count(out, "      Attack-Pattern [") +
                   cli_count(out, "      Capabilities [") + cli_count(out, "      Issues-Addressed [");
    int roles = cli_count(out, "      Purpose ") + cli_count(out, "      Attack-Pattern ") +
                cli_count(out, "      Capabilities ") + cli_count(out, "      Issues-Addressed ");
    printf("categories: %d of %d arguments of the category roles listed with one\n", with_cat, roles);
    assert_true(roles > 0);
    assert_int_equal(with_cat, roles);
    free(out), free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_refused),
        cmocka_unit_test(tiny_model_gains_categories),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
