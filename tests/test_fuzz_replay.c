/*
 * test_fuzz_replay.c - every fuzz target (fuzz/fuzz_<target>.c, built without
 * libFuzzer as $BUILD/fuzz/replay_<target>) on its regression inputs in
 * tests/data/fuzz/<target>/ (each a reproducer of a fixed finding) and on the
 * fixtures its seed corpus starts from.  Under `make asan` the same inputs
 * run with the sanitizers of the fuzz build.
 */
#include "cli_common.h"

static const char *build_dir(void) {
    const char *b = getenv("BUILD");
    return b && *b ? b : "build";
}

/* Runs replay_<target> on the files the shell glob `files` names. */
static void replay(const char *target, const char *files) {
    char sh[2048];
    snprintf(sh, sizeof sh, "%s/fuzz/replay_%s %s 2>%s/replay.err", build_dir(), target, files, cli_tmpdir);
    int rc = system(sh);
    snprintf(sh, sizeof sh, "%s/replay.err", cli_tmpdir);
    char *err = cli_slurp(sh);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) fail_msg("replay_%s %s: status %d\n%s", target, files, rc, err);
    print_message("replay_%s: %s", target, strstr(err, "replay: ") ? strstr(err, "replay: ") + 8 : err);
    free(err);
}

static void tokenize(void **state) {
    (void)state;
    replay("tokenize", "tests/data/fuzz/tokenize/* tests/data/*.txt tests/data/*.json examples/sample-article.txt");
}
static void json(void **state) {
    (void)state;
    replay("json", "tests/data/fuzz/json/* tests/data/*.json");
}
static void jsonl(void **state) {
    (void)state;
    replay("jsonl", "tests/data/fuzz/jsonl/* tests/data/*.jsonl");
}
static void http(void **state) {
    (void)state;
    replay("http", "tests/data/fuzz/http/* tests/data/http_*");
}
static void extract(void **state) {
    (void)state;
    replay("extract", "tests/data/fuzz/extract/* tests/data/*.json examples/sample-article.txt");
}
static void outname(void **state) {
    (void)state;
    replay("outname", "tests/data/fuzz/outname/*");
}

static void encoder_import(void **state) {
    (void)state;
    replay("encoder_import", "tests/data/fuzz/encoder_import/*");
}
static void model(void **state) {
    (void)state;
    /* the tiny model as is (mode byte 0) and with its checksums recomputed
     * (1), loaded only, then extracted with (2, 3: fuzz/fuzz_model.c) */
    char sh[1024];
    snprintf(sh, sizeof sh, "for m in 0 1 2 3; do { printf \"\\\\00$m\"; cat %s/fuzz/tiny.model; } > %s/tiny.$m; done",
             build_dir(), cli_tmpdir);
    assert_int_equal(system(sh), 0);
    snprintf(sh, sizeof sh, "tests/data/fuzz/model/* %s/tiny.[0-3]", cli_tmpdir);
    replay("model", sh);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokenize), cmocka_unit_test(json),           cmocka_unit_test(jsonl),
        cmocka_unit_test(http),     cmocka_unit_test(extract),        cmocka_unit_test(model),
        cmocka_unit_test(outname),  cmocka_unit_test(encoder_import),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
