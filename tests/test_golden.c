/*
 * test_golden.c - the default model's output, byte for byte.
 *
 * Refactoring must not change what casie predicts.  These tests run
 * `casie extract` with models/casie-fast.model on fixed inputs and compare
 * the whole output with what was recorded:
 *   - five short articles written for these tests (tests/data/golden/NAME.txt),
 *     end to end as JSON, all five as text, and as JSONL records on two
 *     threads; two of them with hand-made gold triggers (gold/) under
 *     --given-triggers;
 *   - the same five with the accurate model, where its encoder is installed;
 *   - the first 25 dev documents of the corpus (skipped where it is absent),
 *     end to end and given the gold triggers, as one 64-bit digest per
 *     document (tests/data/golden/corpus.digest), so that nothing of the
 *     corpus is kept here.
 * A change that is meant to change predictions re-records them with
 *   CASIE_GOLDEN_UPDATE=1 build/tests/test_golden     (or make golden)
 * and says in its commit what moved and by how much (casie eval).
 */
#include "cli_common.h"

#define GDIR "tests/data/golden"
#define MODEL "-m models/casie-fast.model"
#define N_CORPUS 25

static const char *const articles[] = {"breach", "patch", "phish", "ransom", "vuln"};
#define N_ARTICLES ((int)(sizeof articles / sizeof *articles))

static int updating(void) {
    const char *u = getenv("CASIE_GOLDEN_UPDATE");
    return u && strcmp(u, "1") == 0;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s", path);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Compares out with the recorded file (or records it); on a difference names
 * the first line that differs, with both versions of it. */
static void check_golden(const char *expected_path, const char *out) {
    if (updating()) {
        write_file(expected_path, out);
        print_message("recorded %s\n", expected_path);
        return;
    }
    if (access(expected_path, R_OK) != 0) fail_msg("no recorded output %s (make golden)", expected_path);
    char *want = cli_slurp(expected_path);
    if (strcmp(want, out) != 0) {
        const char *a = want, *b = out;
        int line = 1;
        while (*a && *a == *b) {
            if (*a == '\n') line++;
            a++, b++;
        }
        while (a > want && a[-1] != '\n')
            a--, b--;
        int la = (int)strcspn(a, "\n"), lb = (int)strcspn(b, "\n");
        fail_msg("%s differs at line %d:\n  recorded: %.*s\n  now:      %.*s", expected_path, line, la > 300 ? 300 : la,
                 a, lb > 300 ? 300 : lb, b);
    }
    free(want);
}

static void run_ok(const char *args, char **out) {
    char *err;
    int rc = cli_run(args, out, &err);
    if (rc != 0) fail_msg("casie %s: exit %d: %s", args, rc, err);
    free(err);
}

static void articles_end_to_end(void **state) {
    (void)state;
    char args[512], path[256], *out;
    for (int i = 0; i < N_ARTICLES; i++) {
        snprintf(args, sizeof args, "extract " MODEL " " GDIR "/%s.txt", articles[i]);
        run_ok(args, &out);
        snprintf(path, sizeof path, GDIR "/expected/%s.json", articles[i]);
        check_golden(path, out);
        free(out);
    }
}

static void articles_as_text(void **state) {
    (void)state;
    char args[1024] = "extract " MODEL " --format text --threads 1";
    for (int i = 0; i < N_ARTICLES; i++) {
        size_t n = strlen(args);
        snprintf(args + n, sizeof args - n, " " GDIR "/%s.txt", articles[i]);
    }
    char *out;
    run_ok(args, &out);
    check_golden(GDIR "/expected/all.txt", out);
    free(out);
}

/* The five articles as JSONL records, extracted on two threads: the batch
 * path gives the same events, in input order. */
static void articles_as_jsonl_two_threads(void **state) {
    (void)state;
    char *in = NULL;
    size_t cap = 0, n = 0;
    for (int i = 0; i < N_ARTICLES; i++) {
        char path[256];
        snprintf(path, sizeof path, GDIR "/%s.txt", articles[i]);
        char *text = cli_slurp(path);
        size_t need = n + 2 * strlen(text) * 3 + 128; /* escaped text fits in 6 bytes per byte */
        if (need > cap) assert_non_null(in = realloc(in, cap = 2 * need));
        n += (size_t)sprintf(in + n, "{\"id\": \"%s\", \"text\": \"", articles[i]);
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
            if (*p == '"' || *p == '\\')
                n += (size_t)sprintf(in + n, "\\%c", *p);
            else if (*p < 0x20)
                n += (size_t)sprintf(in + n, "\\u%04x", *p);
            else
                in[n++] = (char)*p;
        }
        n += (size_t)sprintf(in + n, "\"}\n");
        free(text);
    }
    const char *path = cli_write("golden.jsonl", in);
    char args[512], *out;
    snprintf(args, sizeof args, "extract " MODEL " --jsonl --threads 2 %s", path);
    run_ok(args, &out);
    check_golden(GDIR "/expected/all.jsonl", out);
    free(out), free(in);
}

static void articles_given_triggers(void **state) {
    (void)state;
    static const char *const given[] = {"breach", "patch"};
    char args[512], path[256], *out;
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "extract " MODEL " --given-triggers " GDIR "/gold " GDIR "/%s.txt", given[i]);
        run_ok(args, &out);
        snprintf(path, sizeof path, GDIR "/expected/%s.given.json", given[i]);
        check_golden(path, out);
        free(out);
    }
}

/* The accurate model on the same articles, when its encoder is installed:
 * the encoder's kernels give the same bits on every CPU (test_encoder). */
static void articles_accurate(void **state) {
    (void)state;
    char args[512], path[256], *out, *err;
    snprintf(args, sizeof args, "extract -m models/casie-accurate.model " GDIR "/%s.txt", articles[0]);
    int rc = cli_run(args, &out, &err);
    if (rc != 0 && strstr(err, "encoder")) {
        print_message("skipped: %s", err);
        free(out), free(err);
        skip();
    }
    free(out), free(err);
    for (int i = 0; i < N_ARTICLES; i++) {
        snprintf(args, sizeof args, "extract -m models/casie-accurate.model " GDIR "/%s.txt", articles[i]);
        run_ok(args, &out);
        snprintf(path, sizeof path, GDIR "/expected/%s.accurate.json", articles[i]);
        check_golden(path, out);
        free(out);
    }
    /* one article, its encoder on one thread and on a team of three: the
     * same bytes */
    snprintf(path, sizeof path, GDIR "/expected/%s.accurate.json", articles[0]);
    for (int t = 1; t <= 3; t += 2) {
        snprintf(args, sizeof args, "extract -m models/casie-accurate.model --threads %d " GDIR "/%s.txt", t,
                 articles[0]);
        run_ok(args, &out);
        check_golden(path, out);
        free(out);
    }
}

/* 64-bit FNV-1a of one output line. */
static uint64_t line_digest(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* Appends "id digest\n" for each JSONL line of out to *acc. */
static void digest_lines(const char *out, char **ids, const char *mode, char *acc, size_t cap) {
    const char *p = out;
    for (int i = 0; i < N_CORPUS; i++) {
        const char *e = strchr(p, '\n');
        if (!e) fail_msg("%s: %d output lines, expected %d", mode, i, N_CORPUS);
        if (strstr(p, "\"error\"") && strstr(p, "\"error\"") < e) fail_msg("%s: document %s failed", mode, ids[i]);
        size_t n = strlen(acc);
        snprintf(acc + n, cap - n, "%s %s %016llx\n", mode, ids[i],
                 (unsigned long long)line_digest(p, (size_t)(e - p)));
        p = e + 1;
    }
}

static void corpus_dev_digests(void **state) {
    (void)state;
    const char *corpus = getenv("CASIE_CORPUS");
    if (!corpus || !*corpus) corpus = "../shared/casie";
    char path[1024];
    snprintf(path, sizeof path, "%s/splits/dev.txt", corpus);
    FILE *f = fopen(path, "r");
    if (!f) {
        print_message("no corpus at %s: skipped\n", corpus);
        skip();
    }
    char *ids[N_CORPUS];
    char line[256], files[N_CORPUS * 300] = "";
    int n = 0;
    while (n < N_CORPUS && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line) continue;
        ids[n] = strdup(line);
        size_t k = strlen(files);
        snprintf(files + k, sizeof files - k, " %s/annotation/%s.json", corpus, line);
        n++;
    }
    fclose(f);
    assert_int_equal(n, N_CORPUS);
    static char args[sizeof files + 1024], acc[N_CORPUS * 2 * 64 + 1];
    acc[0] = 0;
    char *out;
    /* extraction reads only the text of an annotated file: end to end;
     * several documents come out as JSONL, one per line, in input order */
    snprintf(args, sizeof args, "extract " MODEL " --threads 2%s", files);
    run_ok(args, &out);
    digest_lines(out, ids, "e2e", acc, sizeof acc);
    free(out);
    snprintf(args, sizeof args, "extract " MODEL " --threads 2 --given-triggers %s/annotation%s", corpus, files);
    run_ok(args, &out);
    digest_lines(out, ids, "given", acc, sizeof acc);
    free(out);
    check_golden(GDIR "/corpus.digest", acc);
    for (int i = 0; i < n; i++)
        free(ids[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(articles_end_to_end),
        cmocka_unit_test(articles_as_text),
        cmocka_unit_test(articles_as_jsonl_two_threads),
        cmocka_unit_test(articles_given_triggers),
        cmocka_unit_test(articles_accurate),
        cmocka_unit_test(corpus_dev_digests),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
