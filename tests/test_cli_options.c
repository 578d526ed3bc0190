/*
 * test_cli_options.c - the options of every subcommand, read by one parser
 * from a table per command (tools/cli_io.c): --help anywhere, an unknown
 * option, a missing value, too many arguments, a value that starts with
 * '-', "--" and "--opt=value" (neither is an option), and numbers read
 * whole, the same way in every command.  docs/casie.1 and each --help
 * against the tables: tests/check_docs.sh.
 */
#include "cli_common.h"

/* Each subcommand, and an option of it that takes a value. */
static const struct {
    const char *cmd, *opt;
} COMMANDS[] = {
    {"extract", "--threads"},       {"train", "--corpus"},  {"train-categories", "--holdout"}, {"eval", "--ids"},
    {"stats", "--split"},           {"tokenize", NULL},     {"serve", "--max-connections"},    {"render", "-o"},
    {"encoder import", "--output"}, {"encoder info", NULL}, {"encoder tune", "--epochs"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

/* Runs `casie args`; checks its status, and that stderr holds want (NULL:
 * stderr is empty). */
static void expect(const char *args, int status, const char *want) {
    char *out, *err;
    int rc = cli_run(args, &out, &err);
    if (rc != status || (want ? !strstr(err, want) : err[0] != 0))
        fail_msg("casie %s: status %d (not %d), stderr '%s' (not '%s')", args, rc, status, err, want ? want : "");
    free(out), free(err);
}

/* -h and --help, first or after other arguments: the usage on stdout, 0. */
static void help_anywhere(void **state) {
    (void)state;
    char args[256], usage[128], *out, *err;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *c = COMMANDS[i].cmd;
        snprintf(usage, sizeof usage, "usage: casie %s", strchr(c, ' ') ? "encoder" : c);
        for (int k = 0; k < 3; k++) {
            /* what follows --help is not read (nor is serve started) */
            if (k == 0) snprintf(args, sizeof args, "%s --help --bogus", c);
            if (k == 1) snprintf(args, sizeof args, "%s -h --bogus", c);
            if (k == 2 && COMMANDS[i].opt) snprintf(args, sizeof args, "%s %s 1 --help --bogus", c, COMMANDS[i].opt);
            if (k == 2 && !COMMANDS[i].opt) snprintf(args, sizeof args, "%s x --help --bogus", c);
            int rc = cli_run(args, &out, &err);
            if (rc != 0 || !strstr(out, usage) || err[0]) fail_msg("casie %s: status %d, stderr '%s'", args, rc, err);
            free(out), free(err);
        }
    }
}

/* Usage errors: status 2, the message, then the usage on stderr. */
static void usage_errors(void **state) {
    (void)state;
    char args[256], want[256];
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *c = COMMANDS[i].cmd;
        snprintf(args, sizeof args, "%s --bogus", c);
        snprintf(want, sizeof want, "casie %s: unknown option --bogus\nusage: casie ", c);
        expect(args, 2, want);
        snprintf(args, sizeof args, "%s -- x", c); /* no end of options */
        snprintf(want, sizeof want, "casie %s: unknown option --\n", c);
        expect(args, 2, want);
        if (!COMMANDS[i].opt) continue;
        snprintf(args, sizeof args, "%s %s", c, COMMANDS[i].opt);
        snprintf(want, sizeof want, "casie %s: %s needs a value\nusage: casie ", c, COMMANDS[i].opt);
        expect(args, 2, want);
        snprintf(args, sizeof args, "%s %s=1", c, COMMANDS[i].opt); /* a value is the next argument */
        snprintf(want, sizeof want, "casie %s: unknown option %s=1\n", c, COMMANDS[i].opt);
        expect(args, 2, want);
    }
    expect("eval a b c", 2, "casie eval: too many arguments\nusage: casie eval");
    expect("stats a b", 2, "casie stats: too many arguments\n");
    expect("encoder import a b -o c", 2, "casie encoder import: too many arguments\n");
    expect("train x", 2, "casie train: unknown option x\n"); /* takes no argument */
    expect("serve x", 2, "casie serve: unknown option x\n");
    expect("train -o", 2, "casie train: -o needs a value\n");
    expect("train --no-such-parameter 1 -o /nonexistent/x", 2, "casie train: unknown option --no-such-parameter\n");
    expect("encoder", 2, "usage: casie encoder");
    expect("eval a", 2, "usage: casie eval"); /* GOLD and PRED */
}

/* The value is the next argument, whatever it starts with; the first error
 * ends the parse. */
static void values_and_order(void **state) {
    (void)state;
    expect("extract --format -x", 2, "casie extract: --format is json, text or stix, not '-x'\n");
    expect("extract --format xml --threads 0", 2, "--format is json, text or stix, not 'xml'");
    expect("extract --threads 0 --format xml", 2, "--threads takes an integer from 1 to 64, not '0'");
    expect("extract --jsonl --input-format text", 2, "casie extract: --input-format jsonl and text disagree\n");
    expect("extract --input-format csv", 2, "casie extract: --input-format is auto, text, json, jsonl or source\n");
    expect("extract --force /nonexistent", 2, "casie extract: --force goes with -o DIR\n");
    expect("train-categories -m fast", 2, "-m MODEL and one of -o OUT or --in-place are required");
    expect("train --dev none", 2, "casie train: -o MODEL is required\n");
    expect("encoder tune -o x", 2, "casie encoder tune: --encoder IN.enc and -o OUT.enc are required\n");
    expect("encoder tune --encoder x -o y --layers 3", 2, "casie encoder tune: --layers takes FIRST-LAST");
    expect("encoder tune x", 2, "casie encoder tune: unknown option x\n");
}

/* Numbers are read whole, in decimal, in range, by every command. */
static void numbers_strict(void **state) {
    (void)state;
    /* each would fail fast, with another message, if its number were taken */
    static const char *const bad[] = {
        "serve --port +80 --host bad",
        "serve --port ' 80' --host bad",
        "serve --port 80x --host bad",
        "serve --timeout 0x10 --host bad",
        "serve --max-body 0 --host bad",
        "train --limit -1 -o /nonexistent/x",
        "train --limit 1000001 -o /nonexistent/x",
        "train --limit 5x -o /nonexistent/x",
        "train-categories --seed -1 -m /nonexistent/x -o y",
        "train-categories --epochs 1001 -m /nonexistent/x -o y",
        "encoder tune --epochs 0 --encoder /nonexistent/x -o y",
        "encoder tune --train-layers 49 --encoder /nonexistent/x -o y",
    };
    char want[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *opt = strstr(bad[i], " --");
        snprintf(want, sizeof want, "%.*s takes an integer from ", (int)strcspn(opt + 1, " "), opt + 1);
        expect(bad[i], 2, want);
    }
    expect("train --arg-nets two -o /nonexistent/x", 2,
           "casie train: --arg-nets: arg_nets takes a non-negative integer, not 'two'");
    expect("serve --host bad --port 80", 2, "casie serve: --host takes an IPv4 address, not 'bad'\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_anywhere),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(values_and_order),
        cmocka_unit_test(numbers_strict),
    };
    return cmocka_run_group_tests_name("cli_options", tests, cli_setup, cli_teardown);
}
