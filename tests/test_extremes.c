/*
 * test_extremes.c - inputs at the edges, each a result or a clear error in
 * bounded time and memory:
 * - an empty and an all-whitespace document (no events);
 * - NUL bytes in text (kept as U+0000, written as \u0000, read back the same);
 * - a line of a million characters (one word), and one of 125,000
 *   characters, 21,000 words and 4,300 triggers without a sentence end
 *   (linear time: the argument window is bounded);
 * - JSON nested 100,000 deep (a LIMIT error at once, as a document and as a
 *   JSONL record of `casie extract`);
 * - one 2 MB JSONL record through `casie extract --jsonl`, peak RSS of the
 *   process checked against a linear bound;
 * - with CASIE_SLOW=1 (not in `make test`; docs/HARDENING.md has the figures): a
 *   50 MB JSONL record and a 100 MB document through `casie extract`.
 * Under valgrind (CASIE_VALGRIND=1, set by scripts/valgrind.sh) and ASan the
 * lines are a tenth as long and the record 0.25 MB: the same paths, slower.
 */
#include "cli_common.h"

#include <sys/resource.h>
#include <time.h>

static casie_model *g_model;

static int setup(void **state) {
    if (cli_setup(state)) return -1;
    casie_error err = {0};
    g_model = casie_model_load("models/casie-fast.model", &err);
    return g_model ? 0 : -1;
}

static int teardown(void **state) {
    casie_model_free(g_model);
    return cli_teardown(state);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Under valgrind or ASan the extremes shrink (the same paths, 5 to 50 times
 * slower, and ASan's own memory), and the RSS bound is not checked. */
static int under_valgrind(void) {
    const char *v = getenv("CASIE_VALGRIND");
    return (v && !strcmp(v, "1")) || UNDER_ASAN;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int n_events(const casie_doc *d) {
    int n = 0;
    for (int h = 0; h < d->n_hoppers; h++)
        n += d->hoppers[h].n_events;
    return n;
}

/* Extracts from bytes; returns the document (the caller frees). */
static casie_doc *extract(const char *text, size_t len) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, len, "x", &err);
    assert_non_null(d);
    if (casie_extract(g_model, d, NULL, &err)) fail_msg("extract: %s", err.message);
    return d;
}

static void empty_and_blank(void **state) {
    (void)state;
    static const char *const texts[] = {"", " ", "\n\n\n", " \t\r\n\f\v ", "\xC2\xA0\xE2\x80\x83\xE3\x80\x80"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        casie_doc *d = extract(texts[i], strlen(texts[i]));
        assert_int_equal(n_events(d), 0);
        casie_error err = {0};
        char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT, NULL, &err);
        assert_non_null(js);
        assert_non_null(strstr(js, "\"hopper\":[]"));
        casie_free(js);
        casie_doc_free(d);
    }
}

static void nul_bytes(void **state) {
    (void)state;
    static const char text[] = "Hackers\0 breached Acme\0Corp. and stole\0\0 data.\0";
    casie_doc *d = extract(text, sizeof text - 1);
    assert_int_equal(d->text_len, sizeof text - 1);
    assert_int_equal(d->n_cp, (int32_t)(sizeof text - 1));
    casie_error err = {0};
    size_t len;
    char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT, &len, &err);
    assert_non_null(js);
    assert_int_equal(strlen(js), len); /* no raw NUL in the JSON */
    assert_non_null(strstr(js, "Hackers\\u0000 breached"));
    casie_doc *back = casie_doc_from_json(js, len, "back", &err);
    assert_non_null(back);
    assert_int_equal(back->text_len, d->text_len);
    assert_memory_equal(back->text, d->text, d->text_len);
    casie_doc_free(back);
    casie_free(js);
    casie_doc_free(d);
}

static void million_character_line(void **state) {
    (void)state;
    const size_t n = under_valgrind() ? 100000 : 1000000;
    char *s = malloc(n + 1);
    assert_non_null(s);
    /* one word of a million letters */
    memset(s, 'a', n);
    double t0 = now();
    casie_doc *d = extract(s, n);
    assert_int_equal(d->n_cp, (int32_t)n);
    assert_true(d->n_tokens >= 1);
    casie_doc_free(d);
    double t1 = now();
    /* words and no sentence end, with words that look like events: one
     * trigger in five words, each searched for arguments by the network
     * (about 3 ms a trigger), so a shorter line than the one word */
    const size_t nw = n / 8;
    static const char *const words[] = {"hackers ", "stole ", "data ", "from ", "acme "};
    for (size_t i = 0, k = 0; i < nw; k++) {
        const char *w = words[k % 5];
        size_t wl = strlen(w);
        memcpy(s + i, w, i + wl <= nw ? wl : nw - i);
        i += wl;
    }
    d = extract(s, nw);
    assert_true(d->n_tokens >= (int32_t)(nw / 6));
    casie_error err = {0};
    char *js = casie_doc_to_json(d, CASIE_JSON_COMPACT, NULL, &err);
    assert_non_null(js);
    casie_free(js);
    casie_doc_free(d);
    double t2 = now();
    print_message("%zu-character line: one word %.2f s; %zu-character line of %d words %.2f s\n", n, t1 - t0, nw,
                  (int)(nw / 5.8), t2 - t1);
    free(s);
    /* linear: about 10 s natively here; memcheck runs the networks about 80
     * times slower */
    assert_true(t2 - t1 < (under_valgrind() ? 600 : 60));
}

static void deep_json(void **state) {
    (void)state;
    const size_t depth = 100000;
    char *s = malloc(2 * depth + 16);
    assert_non_null(s);
    size_t k = (size_t)sprintf(s, "{\"text\":");
    for (size_t i = 0; i < depth; i++)
        s[k++] = '[';
    for (size_t i = 0; i < depth; i++)
        s[k++] = ']';
    s[k++] = '}';
    s[k] = 0;
    casie_error err = {0};
    assert_null(casie_doc_from_json(s, k, "deep", &err));
    assert_int_equal(err.code, CASIE_ERR_LIMIT);
    assert_non_null(strstr(err.message, "nested deeper than"));
    /* the same as a JSONL record: an error record in its place, the others kept */
    snprintf(s + k, 16, "\n");
    char path[256];
    snprintf(path, sizeof path, "%s/deep.jsonl", cli_tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"id\": \"a\", \"text\": \"Hackers stole data.\"}\n%s{\"id\": \"b\", \"text\": \"Acme was hacked.\"}\n",
            s);
    fclose(f);
    char args[512], *out, *er;
    snprintf(args, sizeof args, "extract --jsonl < %s", path);
    assert_int_equal(cli_run(args, &out, &er), 1);
    assert_int_equal(cli_count(out, "\n"), 3);
    assert_non_null(strstr(out, "\"id\":\"<stdin>:2\",\"error\":"));
    assert_non_null(strstr(er, "nested deeper than 64 levels"));
    free(out), free(er);
    free(s);
}

/* Runs the shell command sh (which must succeed); returns its peak RSS in MB
 * and its time in *secs. */
static double run_measured(const char *sh, double *secs) {
    double t0 = now();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", sh, (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    assert_int_equal(wait4(pid, &st, 0, &ru), pid);
    *secs = now() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("%s: status %d", sh, st);
    return (double)ru.ru_maxrss / 1024.0;
}

/* Runs `casie extract --jsonl` on a file of one record of `mb` MB of text;
 * returns the peak RSS in MB of the process and its time. */
static double big_record(double mb, double *secs, long *out_bytes) {
    char path[256], outp[256], args[2048];
    snprintf(path, sizeof path, "%s/big.jsonl", cli_tmpdir);
    snprintf(outp, sizeof outp, "%s/big.out", cli_tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    char *sample = cli_slurp("examples/sample-article.txt");
    for (char *p = sample; *p; p++)
        if (*p == '\n' || *p == '"' || *p == '\\') *p = ' ';
    size_t sl = strlen(sample), want = (size_t)(mb * 1048576);
    fputs("{\"id\": \"big\", \"text\": \"", f);
    for (size_t n = 0; n < want; n += sl + 1)
        fprintf(f, "%s ", sample);
    fputs("\"}\n", f);
    fclose(f);
    free(sample);
    snprintf(args, sizeof args, "exec %s extract --jsonl --threads 1 < %s > %s", cli_bin, path, outp);
    double rss = run_measured(args, secs);
    struct stat sb;
    assert_int_equal(stat(outp, &sb), 0);
    *out_bytes = (long)sb.st_size;
    assert_true(sb.st_size > 1000);
    return rss;
}

static void large_jsonl_record(void **state) {
    (void)state;
    double secs;
    long out;
    double mb = under_valgrind() ? 0.25 : 2;
    double rss = big_record(mb, &secs, &out);
    print_message("%.1f MB JSONL record: %.1f s, peak RSS %.0f MB, %ld bytes out\n", mb, secs, rss, out);
    /* linear memory: the text, its offsets, tokens, features and the JSON out */
    if (!under_valgrind()) assert_true(rss < 100 + 80 * mb);
}

static void slow_tier(void **state) {
    (void)state;
    const char *slow = getenv("CASIE_SLOW");
    if (!slow || strcmp(slow, "1")) skip();
    double secs;
    long out;
    double rss = big_record(50, &secs, &out);
    print_message("50 MB JSONL record: %.1f s, peak RSS %.0f MB, %ld bytes out\n", secs, rss, out);
    assert_true(rss < 100 + 80 * 50);
    /* a 100 MB plain-text document */
    char path[256], args[2048];
    snprintf(path, sizeof path, "%s/big.txt", cli_tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    char *sample = cli_slurp("examples/sample-article.txt");
    size_t sl = strlen(sample);
    for (size_t n = 0; n < (size_t)100 << 20; n += sl)
        fputs(sample, f);
    fclose(f);
    free(sample);
    snprintf(args, sizeof args, "exec %s extract --threads 1 %s > /dev/null", cli_bin, path);
    rss = run_measured(args, &secs);
    print_message("100 MB document: %.1f s, peak RSS %.0f MB\n", secs, rss);
    assert_true(rss < 100 + 80 * 100);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_and_blank),        cmocka_unit_test(nul_bytes),
        cmocka_unit_test(million_character_line), cmocka_unit_test(deep_json),
        cmocka_unit_test(large_jsonl_record),     cmocka_unit_test(slow_tier),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
