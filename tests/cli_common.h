/* cli_common.h - running the casie binary from a test: $BUILD/casie (or
 * build/casie), with stdout and stderr captured under a temporary folder. */
#ifndef CASIE_CLI_COMMON_H
#define CASIE_CLI_COMMON_H

#include "test_common.h"

#include <sys/stat.h>
#include <sys/wait.h>

static char cli_tmpdir[64];
static char cli_bin[512];

static inline int cli_setup(void **state) {
    (void)state;
    const char *b = getenv("BUILD");
    snprintf(cli_bin, sizeof cli_bin, "%s/casie", b && *b ? b : "build");
    snprintf(cli_tmpdir, sizeof cli_tmpdir, "/tmp/casie_test_cli_XXXXXX");
    return mkdtemp(cli_tmpdir) ? 0 : -1;
}

static inline int cli_teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cli_tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The whole file (malloc'd, NUL-terminated). */
static inline char *cli_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) assert_non_null(buf = realloc(buf, cap *= 2));
    }
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Runs `casie ARGS` through the shell; returns the exit code (or 128+signal)
 * with stdout and stderr in *out and *err (malloc'd). */
static inline int cli_run(const char *args, char **out, char **err) {
    if (access(cli_bin, X_OK) != 0) fail_msg("no casie binary at %s", cli_bin);
    char cmd[8192], o[128], e[128];
    snprintf(o, sizeof o, "%s/stdout", cli_tmpdir);
    snprintf(e, sizeof e, "%s/stderr", cli_tmpdir);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", cli_bin, args, o, e);
    int rc = system(cmd);
    *out = cli_slurp(o);
    *err = cli_slurp(e);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

static inline int cli_count(const char *s, const char *what) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++)
        n++;
    return n;
}

/* Writes text to cli_tmpdir/name; returns the path (static buffer). */
static inline const char *cli_write(const char *name, const char *text) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", cli_tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
    return path;
}

#endif
