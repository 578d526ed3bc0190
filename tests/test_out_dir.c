/*
 * test_out_dir.c - tools/out_dir.c on its own: the documented mapping from
 * ids to file names (exact names), repeated names in one run, and files in a
 * directory: created inside it only, never through a symbolic link (at the
 * final name or the temporary one), never replacing a file without force,
 * and a failed write that leaves no temporary file and the old file as it was.
 */
#include "cli_common.h"

#include "../tools/out_dir.c"

#include <signal.h>
#include <sys/resource.h>

static void names_from_ids(void **state) {
    (void)state;
    static const struct {
        const char *id;
        size_t len;
        const char *name;
    } cases[] = {
        {"1101", 4, "1101"},
        {"Report_2019-05.v2", 17, "Report_2019-05.v2"},
        {"../../../../tmp/pwned", 21, "%2E.%2F..%2F..%2F..%2Ftmp%2Fpwned"},
        {".", 1, "%2E"},
        {"..", 2, "%2E."},
        {".hidden", 7, "%2Ehidden"},
        {"x.", 2, "x."},
        {"a b", 3, "a%20b"},
        {"a\nb", 3, "a%0Ab"},
        {"a\0../evil", 9, "a%00..%2Fevil"},
        {"100%", 4, "100%25"},
        {"x~1", 3, "x%7E1"},
        {"\xC3\xA9t\xC3\xA9", 5, "%C3%A9t%C3%A9"},
        {"C:\\x", 4, "C%3A%5Cx"},
    };
    char out[OUT_NAME_MAX + 1];
    int hashed;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = out_name(cases[i].id, cases[i].len, out, sizeof out, &hashed);
        if (n != (int)strlen(cases[i].name) || strcmp(out, cases[i].name) || hashed)
            fail_msg("case %zu: got '%s' (%d), want '%s'", i, out, n, cases[i].name);
    }
    assert_int_equal(out_name("", 0, out, sizeof out, &hashed), -1);
    assert_int_equal(out_name("x", 1, out, 10, &hashed), -1); /* cap too small */
    /* the longest name kept whole, and one byte more */
    char id[700];
    memset(id, 'a', sizeof id);
    assert_int_equal(out_name(id, OUT_NAME_MAX, out, sizeof out, &hashed), OUT_NAME_MAX);
    assert_false(hashed);
    assert_int_equal(out_name(id, OUT_NAME_MAX + 1, out, sizeof out, &hashed), OUT_NAME_MAX);
    assert_true(hashed);
    assert_int_equal(out[OUT_NAME_MAX - 17], '~');
    assert_memory_equal(out, id, OUT_NAME_MAX - 17);
    /* escapes are cut whole: 600 slashes keep 61 escapes (183 bytes), then the hash */
    memset(id, '/', 600);
    int n = out_name(id, 600, out, sizeof out, &hashed);
    assert_true(hashed);
    assert_int_equal(n, 61 * 3 + 17);
    assert_int_equal(out[183], '~');
    /* ids that differ past the kept part differ in the hash */
    char other[OUT_NAME_MAX + 1];
    id[599] = 'x';
    out_name(id, 600, other, sizeof other, &hashed);
    assert_memory_equal(out, other, 184);
    assert_string_not_equal(out, other);
}

static void repeated_names(void **state) {
    (void)state;
    out_names *s = out_names_new();
    assert_non_null(s);
    char out[OUT_NAME_MAX + 24];
    assert_int_equal(out_names_take(s, "x", out, sizeof out), 0);
    assert_string_equal(out, "x");
    assert_int_equal(out_names_take(s, "x", out, sizeof out), 2);
    assert_string_equal(out, "x-2");
    assert_int_equal(out_names_take(s, "x-2", out, sizeof out), 2); /* the literal id x-2 */
    assert_string_equal(out, "x-2-2");
    assert_int_equal(out_names_take(s, "x-4", out, sizeof out), 0);
    assert_int_equal(out_names_take(s, "x", out, sizeof out), 3);
    assert_string_equal(out, "x-3");
    assert_int_equal(out_names_take(s, "x", out, sizeof out), 5); /* x-4 is taken */
    assert_string_equal(out, "x-5");
    /* many repeats: linear, all different (the set grows past its first size) */
    for (int i = 0; i < 5000; i++) {
        long k = out_names_take(s, "document", out, sizeof out);
        assert_int_equal(k, i == 0 ? 0 : i + 1);
    }
    assert_string_equal(out, "document-5000");
    out_names_free(s);
}

static char dir[300];

static char *slurp_at(const char *name) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return cli_slurp(p);
}

static void put_at(const char *name, const char *text) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Writes text as the file for id; returns what out_dir_commit returned. */
static long put(out_dir *d, const char *id, const char *text, char *final, char *msg) {
    char tmp[64];
    if (out_dir_write_tmp(d, text, strlen(text), tmp, sizeof tmp, msg, 400)) return -2;
    return out_dir_commit(d, tmp, id, strlen(id), final, OUT_NAME_MAX + 32, msg, 400);
}

static int entries(void) {
    char sh[400];
    snprintf(sh, sizeof sh, "ls -A %s | wc -l > %s/n", dir, cli_tmpdir);
    assert_int_equal(system(sh), 0);
    snprintf(sh, sizeof sh, "%s/n", cli_tmpdir);
    char *t = cli_slurp(sh);
    int n = atoi(t);
    free(t);
    return n;
}

static void files_in_dir(void **state) {
    (void)state;
    char msg[400], final[OUT_NAME_MAX + 32], p[600], victim[600];
    snprintf(dir, sizeof dir, "%s/out/", cli_tmpdir); /* made by out_dir_open */
    out_dir *d = out_dir_open(dir, ".json", 0, msg, sizeof msg);
    assert_non_null(d);
    assert_int_equal(put(d, "../escape", "one", final, msg), 0);
    assert_string_equal(final, "%2E.%2Fescape.json");
    char *t = slurp_at(final);
    assert_string_equal(t, "one\n"); /* a newline ends each file */
    free(t);
    assert_int_equal(put(d, "../escape", "two\n", final, msg), 2);
    assert_string_equal(final, "%2E.%2Fescape-2.json");
    /* a file from before: not replaced without force, and the message names it */
    put_at("old.json", "old\n");
    assert_int_equal(put(d, "old", "new", final, msg), -1);
    assert_non_null(strstr(msg, "/out/old.json exists; not replaced without --force"));
    assert_null(strstr(msg, "//"));
    t = slurp_at("old.json");
    assert_string_equal(t, "old\n");
    free(t);
    /* a link at the final name, dangling or not; a directory */
    snprintf(victim, sizeof victim, "%s/victim", cli_tmpdir);
    FILE *f = fopen(victim, "w");
    fputs("precious\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/l.json", dir);
    assert_int_equal(symlink(victim, p), 0);
    snprintf(p, sizeof p, "%s/dangling.json", dir);
    assert_int_equal(symlink("/nonexistent/created-through-a-link", p), 0);
    snprintf(p, sizeof p, "%s/sub.json", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    assert_int_equal(put(d, "l", "x", final, msg), -1);
    assert_non_null(strstr(msg, "l.json is a symbolic link; not replaced"));
    assert_int_equal(put(d, "dangling", "x", final, msg), -1);
    assert_non_null(strstr(msg, "is a symbolic link"));
    assert_int_equal(put(d, "sub", "x", final, msg), -1);
    assert_non_null(strstr(msg, "is not a regular file"));
    assert_int_equal(access("/nonexistent/created-through-a-link", F_OK), -1);
    /* a link where the next temporary file would go is stepped over */
    snprintf(p, sizeof p, "%s/.casie-%ld-%lu.tmp", dir, (long)getpid(), (unsigned long)atomic_load(&d->seq));
    assert_int_equal(symlink(victim, p), 0);
    assert_int_equal(put(d, "after-link", "fine", final, msg), 0);
    t = cli_slurp(victim);
    assert_string_equal(t, "precious\n");
    free(t);
    unlink(p);
    /* 2 escape files, old, l, dangling, sub, after-link: no temporary file left */
    assert_int_equal(entries(), 7);
    assert_int_equal(out_dir_close(d, msg, sizeof msg), 0);

    /* force: a regular file is replaced, a link still is not */
    d = out_dir_open(dir, ".json", 1, msg, sizeof msg);
    assert_non_null(d);
    assert_int_equal(put(d, "old", "new", final, msg), 0);
    t = slurp_at("old.json");
    assert_string_equal(t, "new\n");
    free(t);
    assert_int_equal(put(d, "l", "x", final, msg), -1);
    t = cli_slurp(victim);
    assert_string_equal(t, "precious\n");
    free(t);
    /* a write that fails (a file size limit: EFBIG, as a full disk gives
     * ENOSPC): no temporary file, the old file as it was */
    struct rlimit old_lim, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    lim = old_lim;
    lim.rlim_cur = 1024;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char big[4096];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    long rc = put(d, "old", big, final, msg);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    signal(SIGXFSZ, old_sig);
    assert_int_equal(rc, -2);
    assert_non_null(strstr(msg, "writing a file: File too large"));
    t = slurp_at("old.json");
    assert_string_equal(t, "new\n");
    free(t);
    assert_int_equal(entries(), 7);
    assert_int_equal(out_dir_close(d, msg, sizeof msg), 0);

    /* a directory that cannot be made */
    snprintf(p, sizeof p, "%s/victim/sub", cli_tmpdir);
    assert_null(out_dir_open(p, ".json", 0, msg, sizeof msg));
    assert_non_null(strstr(msg, "victim/sub: Not a directory"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_from_ids),
        cmocka_unit_test(repeated_names),
        cmocka_unit_test(files_in_dir),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
