/*
 * test_install.c - `make install` into a temporary prefix (with DESTDIR
 * staging), then what a user does with it: the installed casie finds its
 * model, the man page is there, and examples/extract_example.c builds with
 * pkg-config against the installed library and runs.
 */
#include "cli_common.h"

static char prefix[256], build[256], dest[256];

/* Runs a shell command quietly (its output in cli_tmpdir/log); returns its status. */
static int sh(const char *cmd) {
    char full[4096];
    snprintf(full, sizeof full, "(%s) >%s/log 2>&1", cmd, cli_tmpdir);
    int rc = system(full);
    if (!(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)) {
        char p[256];
        snprintf(p, sizeof p, "%s/log", cli_tmpdir);
        char *log = cli_slurp(p);
        fprintf(stderr, "command failed: %s\n%s\n", cmd, log);
        free(log);
        return 1;
    }
    return 0;
}

static void install_and_use(void **state) {
    (void)state;
    snprintf(prefix, sizeof prefix, "%s/usr", cli_tmpdir);
    snprintf(dest, sizeof dest, "%s/stage", cli_tmpdir);
    snprintf(build, sizeof build, "%s/build", cli_tmpdir);
    char cmd[4096];
    /* a plain (uninstrumented) build of its own, so this test means the same under make asan */
    snprintf(cmd, sizeof cmd, "make --no-print-directory -s install BUILD=%s CC=cc OPT=-O1 PREFIX=%s DESTDIR=", build,
             prefix);
    assert_int_equal(sh(cmd), 0);
    /* DESTDIR stages the same tree under another root */
    snprintf(cmd, sizeof cmd,
             "make --no-print-directory -s install BUILD=%s CC=cc OPT=-O1 PREFIX=/opt/casie DESTDIR=%s", build, dest);
    assert_int_equal(sh(cmd), 0);
    const char *files[] = {"/opt/casie/bin/casie",
                           "/opt/casie/lib/libcasie.a",
                           "/opt/casie/lib/libcasie.so.0",
                           "/opt/casie/include/casie.h",
                           "/opt/casie/lib/pkgconfig/casie.pc",
                           "/opt/casie/share/casie/casie-fast.model",
                           "/opt/casie/share/man/man1/casie.1"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s%s", dest, files[i]);
        assert_int_equal(access(p, R_OK), 0);
    }
    /* the shared library exports the API and nothing of its internals (casie__*) */
    snprintf(cmd, sizeof cmd,
             "nm -D --defined-only %s/lib/libcasie.so.0 | awk '$2 ~ /^[TWi]$/ {print $3}' > %s/syms && "
             "grep -q '^casie_extract$' %s/syms && ! grep -v '^casie_[a-z]' %s/syms",
             prefix, cli_tmpdir, cli_tmpdir, cli_tmpdir);
    assert_int_equal(sh(cmd), 0);
    /* the installed CLI finds the installed model */
    snprintf(cmd, sizeof cmd,
             "%s/bin/casie extract --format text examples/sample-article.txt | grep -q 'Attack.Ransom'", prefix);
    assert_int_equal(sh(cmd), 0);
    /* the man page formats */
    snprintf(cmd, sizeof cmd, "grep -q '^.SH SYNOPSIS' %s/share/man/man1/casie.1", prefix);
    assert_int_equal(sh(cmd), 0);
    /* the example, through pkg-config, against the shared library */
    snprintf(cmd, sizeof cmd,
             "PKG_CONFIG_PATH=%s/lib/pkgconfig cc -std=c11 -Wall -Werror examples/extract_example.c "
             "$(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --cflags --libs casie) -Wl,-rpath,%s/lib -o %s/example",
             prefix, prefix, prefix, cli_tmpdir);
    assert_int_equal(sh(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "%s/example %s/share/casie/casie-fast.model "
             "'Hackers stole the personal data of 2 million customers from Acme Bank.' | grep -q 'Databreach'",
             cli_tmpdir, prefix);
    assert_int_equal(sh(cmd), 0);
    /* and statically */
    snprintf(
        cmd, sizeof cmd,
        "cc -std=c11 examples/extract_example.c -I%s/include %s/lib/libcasie.a "
        "$(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --static --libs-only-other --libs casie | sed 's/-lcasie//') "
        "-o %s/example-static && %s/example-static %s/share/casie/casie-fast.model "
        "'Microsoft released a patch for the vulnerability.' | grep -q 'PatchVulnerability'",
        prefix, prefix, prefix, cli_tmpdir, cli_tmpdir, prefix);
    assert_int_equal(sh(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(install_and_use)};
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
