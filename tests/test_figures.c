/*
 * test_figures.c - the shipped models read exactly the dev figures that
 * tests/data/dev_figures.tsv records, and README.md's accuracy table says
 * what those counts give.
 *
 * Each case runs what a user runs (README, "Accuracy"): `casie extract -m
 * MODEL --threads 2 [--given-triggers CORPUS] -o DIR` over the dev annotation
 * files, then `casie eval --json`, and compares every metric's tp, fp and fn
 * with the file's.  Extraction is deterministic on every CPU and kernel path,
 * so the counts are held exactly, not to a floor: a change that moves one
 * prediction fails here and prints the lines to record.  The accurate model's
 * cases need its encoder (scripts/fetch_encoder.sh); without it they skip,
 * which fails a CI run (tests/skips.allowed).
 */
#include "cli_common.h"

#include <jansson.h>

#define FIGURES "tests/data/dev_figures.tsv"
#define MAX_ROWS 64

typedef struct figure {
    char model[16], mode[24], metric[24];
    long tp, fp, fn;
} figure;

static figure rows[MAX_ROWS];
static int n_rows;

static int setup(void **state) {
    if (cli_setup(state)) return -1;
    FILE *f = fopen(FIGURES, "r");
    if (!f) return -1;
    char line[256];
    while (fgets(line, sizeof line, f) && n_rows < MAX_ROWS) {
        figure *r = &rows[n_rows];
        if (line[0] == '#' || line[0] == '\n') continue;
        if (sscanf(line, "%15s %23s %23s %ld %ld %ld", r->model, r->mode, r->metric, &r->tp, &r->fp, &r->fn) != 6) {
            fclose(f);
            return -1;
        }
        n_rows++;
    }
    fclose(f);
    return n_rows > 0 ? 0 : -1;
}

static const figure *find(const char *model, const char *mode, const char *metric) {
    for (int i = 0; i < n_rows; i++)
        if (!strcmp(rows[i].model, model) && !strcmp(rows[i].mode, mode) && !strcmp(rows[i].metric, metric))
            return &rows[i];
    return NULL;
}

static int under_asan(void) {
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return 1;
#endif
#endif
    return 0;
}

/* Extracts the dev split with `model` (given the gold triggers when given)
 * and compares casie eval's counts with the file's, every metric. */
static void check_model(const char *model, int given) {
    const char *corpus = test_corpus(), *mode = given ? "given-triggers" : "end-to-end";
    if (!corpus) fail_msg("no corpus: ../shared/casie or $CASIE_CORPUS");
    char args[2048], *out, *err;
    snprintf(args, sizeof args,
             "extract -m %s --threads 2 %s%s -o %s/%s-%s $(sed 's|^|%s/annotation/|;s|$|.json|' %s/splits/dev.txt)",
             model, given ? "--given-triggers " : "", given ? corpus : "", cli_tmpdir, model, mode, corpus, corpus);
    int rc = cli_run(args, &out, &err);
    if (rc) print_message("%s", err);
    assert_int_equal(rc, 0);
    free(out);
    free(err);
    snprintf(args, sizeof args, "eval %s %s/%s-%s --ids %s/splits/dev.txt --json", corpus, cli_tmpdir, model, mode,
             corpus);
    assert_int_equal(cli_run(args, &out, &err), 0);
    json_error_t jerr;
    json_t *j = json_loads(out, 0, &jerr), *metrics = json_object_get(j, "metrics");
    assert_non_null(metrics);
    assert_int_equal(json_integer_value(json_object_get(j, "documents")), 100);
    int wrong = 0;
    const char *name;
    json_t *v;
    json_object_foreach(metrics, name, v) {
        long tp = (long)json_integer_value(json_object_get(v, "tp")),
             fp = (long)json_integer_value(json_object_get(v, "fp")),
             fn = (long)json_integer_value(json_object_get(v, "fn"));
        const figure *f = find(model, mode, name);
        if (!f || f->tp != tp || f->fp != fp || f->fn != fn) wrong++;
        print_message("%s%s\t%s\t%s\t%ld\t%ld\t%ld\n", f && f->tp == tp && f->fp == fp && f->fn == fn ? "" : "MOVED ",
                      model, mode, name, tp, fp, fn);
    }
    json_decref(j);
    free(out);
    free(err);
    if (wrong) fail_msg("%d metrics of %s, %s, differ from " FIGURES " (the lines above)", wrong, model, mode);
}

/* The accurate model's cases: not under ASan (its encoder runs ten times
 * slower there; the plain build checks them), and only with the encoder. */
static void check_accurate(int given) {
    if (under_asan()) skip();
    if (access("models/encoders/mpnet-base.enc", R_OK) != 0) {
        print_message("no encoder at models/encoders/mpnet-base.enc (scripts/fetch_encoder.sh)\n");
        skip();
    }
    check_model("accurate", given);
}

static void fast_end_to_end(void **state) {
    (void)state;
    check_model("fast", 0);
}

static void fast_given_triggers(void **state) {
    (void)state;
    check_model("fast", 1);
}

static void accurate_end_to_end(void **state) {
    (void)state;
    check_accurate(0);
}

static void accurate_given_triggers(void **state) {
    (void)state;
    check_accurate(1);
}

/* One cell of the README's table: the F1 of the file's counts to two
 * decimals (bold or not), or "(gold)" for a trigger metric given gold
 * triggers (which then has no false positive or negative). */
static int cell_matches(const char *cell, const figure *f) {
    if (!strcmp(cell, "(gold)")) return f->fp == 0 && f->fn == 0;
    double p, r, f1;
    casie_prf((casie_counts){f->tp, f->fp, f->fn}, &p, &r, &f1);
    char want[32];
    snprintf(want, sizeof want, "%.2f", f1);
    return !strcmp(cell, want);
}

/* Splits a table row "| a | b | ... |" into its cells, trimmed, with the
 * bold marks removed; returns how many. */
static int split_row(char *line, char **cells, int max) {
    int n = 0;
    char *save = NULL;
    for (char *c = strtok_r(line, "|", &save); c && n < max; c = strtok_r(NULL, "|", &save)) {
        while (*c == ' ' || *c == '*')
            c++;
        char *e = c + strlen(c);
        while (e > c && (e[-1] == ' ' || e[-1] == '*' || e[-1] == '\n'))
            *--e = 0;
        if (*c) cells[n++] = c;
    }
    return n;
}

static void readme_table_from_counts(void **state) {
    (void)state;
    static const char header[] = "| metric | fast | accurate | fast, given triggers | accurate, given triggers |";
    static const struct {
        const char *model, *mode;
    } cols[4] = {
        {"fast", "end-to-end"}, {"accurate", "end-to-end"}, {"fast", "given-triggers"}, {"accurate", "given-triggers"}};
    char *readme = cli_slurp("README.md"), *t = strstr(readme, header);
    assert_non_null(t);
    t = strchr(t, '\n') + 1; /* the header */
    t = strchr(t, '\n') + 1; /* its rule */
    int checked = 0, wrong = 0;
    while (*t == '|') {
        char *nl = strchr(t, '\n'), *cells[8];
        assert_non_null(nl);
        *nl = 0;
        int n = split_row(t, cells, 8);
        assert_int_equal(n, 5);
        for (int c = 0; c < 4; c++) {
            const figure *f = find(cols[c].model, cols[c].mode, cells[0]);
            if (!f) fail_msg("README's table has a metric %s that " FIGURES " lacks", cells[0]);
            if (!cell_matches(cells[c + 1], f)) {
                print_message("README: %s, %s %s: %s, the counts give another figure\n", cells[0], cols[c].model,
                              cols[c].mode, cells[c + 1]);
                wrong++;
            }
            checked++;
        }
        t = nl + 1;
    }
    free(readme);
    assert_int_equal(wrong, 0);
    assert_int_equal(checked, 4 * CASIE_N_METRICS); /* every metric, every column */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readme_table_from_counts), cmocka_unit_test(fast_end_to_end),
        cmocka_unit_test(fast_given_triggers),      cmocka_unit_test(accurate_end_to_end),
        cmocka_unit_test(accurate_given_triggers),
    };
    return cmocka_run_group_tests(tests, setup, cli_teardown);
}
