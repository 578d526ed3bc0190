/*
 * bench.c - throughput of casie extraction, beside floors measured in the
 * same run (a plain pass over the same bytes, the tokenizer alone), so the
 * ratios hold on a noisy machine.
 *
 * usage: bench MODEL CORPUS_DIR [MB [CASIE_BIN]]   (MB of text, default 50)
 * With CASIE_BIN, also the peak RSS of `CASIE_BIN extract --threads 2` over
 * the dev articles (from wait4).
 * The dev articles are repeated until MB of text; extraction runs with 1 and
 * with 2 threads sharing one model.  Per-stage times come from timing each
 * stage alone over the same documents (read = JSON parse, tokenize, features,
 * triggers+rest = full extraction, rest = extraction given gold triggers,
 * JSON out).  Prints a markdown table.  Not a test: nothing here can fail
 * except on bad input.
 */
#include "internal.h"
#include "feats.h"
#include "model.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct input {
    char **json; /* (n,) the annotation JSON of each dev document */
    size_t *jlen;
    casie_doc **gold;
    int n;
    double text_bytes; /* of one pass */
    long tokens;       /* of one pass */
} input;

typedef struct work {
    const casie_model *m;
    input *in;
    int reps, tid, nthreads;
    double bytes;
    long docs;
} work;

static void die(const char *what, const casie_error *e) {
    fprintf(stderr, "bench: %s: %s\n", what, e ? e->message : "");
    exit(1);
}

/* End to end: text -> doc -> extract -> JSON, docs split over threads. */
static void *extract_worker(void *arg) {
    work *w = arg;
    casie_error err;
    for (int r = 0; r < w->reps; r++)
        for (int i = w->tid; i < w->in->n; i += w->nthreads) {
            const casie_doc *g = w->in->gold[i];
            casie_doc *d = casie_doc_from_text(g->text, g->text_len, g->id, &err);
            if (!d || casie_extract(w->m, d, NULL, &err)) die("extract", &err);
            char *js = casie_doc_to_json(d, CASIE_JSON_SCORES | CASIE_JSON_COMPACT, NULL, &err);
            if (!js) die("json", &err);
            casie_free(js);
            casie_doc_free(d);
            w->bytes += (double)g->text_len;
            w->docs++;
        }
    return NULL;
}

static double run_threads(const casie_model *m, input *in, int reps, int nt, long *docs) {
    pthread_t th[8];
    work w[8];
    double t0 = now();
    for (int t = 0; t < nt; t++) {
        w[t] = (work){m, in, reps, t, nt, 0, 0};
        pthread_create(&th[t], NULL, extract_worker, &w[t]);
    }
    *docs = 0;
    for (int t = 0; t < nt; t++) {
        pthread_join(th[t], NULL);
        *docs += w[t].docs;
    }
    return now() - t0;
}

/* bytes per second, in MB/s, or in KB/s under 0.1 MB/s (the accurate
 * model's) */
static void rate(char *buf, size_t n, double bytes_per_s) {
    if (bytes_per_s >= 1e5)
        snprintf(buf, n, "%.2f MB/s", bytes_per_s / 1e6);
    else
        snprintf(buf, n, "%.1f KB/s", bytes_per_s / 1e3);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench MODEL CORPUS_DIR [MB]\n");
        return 2;
    }
    double mb = argc > 3 ? atof(argv[3]) : 50;
    casie_error err;
    char path[4096];
    snprintf(path, sizeof path, "%s/splits/dev.txt", argv[2]);
    int nids;
    char **ids = casie_read_ids(path, &nids, &err);
    if (!ids) die("dev split", &err);
    input in = {0};
    in.json = calloc((size_t)nids, sizeof(char *));
    in.jlen = calloc((size_t)nids, sizeof(size_t));
    in.gold = calloc((size_t)nids, sizeof(casie_doc *));
    for (int i = 0; i < nids; i++) {
        snprintf(path, sizeof path, "%s/annotation/%s.json", argv[2], ids[i]);
        if (!(in.json[i] = casie__read_file(path, &in.jlen[i], &err))) die(path, &err);
        if (!(in.gold[i] = casie_doc_from_json(in.json[i], in.jlen[i], ids[i], &err))) die(path, &err);
        if (casie_doc_analyze(in.gold[i], &err)) die(path, &err);
        in.text_bytes += (double)in.gold[i]->text_len;
        in.tokens += in.gold[i]->n_tokens;
        in.n++;
    }
    casie_strings_free(ids, nids);
    int reps = (int)(mb * 1e6 / in.text_bytes + 0.999);
    if (reps < 1) reps = 1;
    double total = in.text_bytes * reps;

    /* model load, median of 21 */
    double lt[21];
    casie_model *m = NULL;
    for (int k = 0; k < 21; k++) {
        double t0 = now();
        casie_model *x = casie_model_load(argv[1], &err);
        lt[k] = now() - t0;
        if (!x) die(argv[1], &err);
        if (k == 20)
            m = x;
        else
            casie_model_free(x);
    }
    for (int i = 0; i < 21; i++)
        for (int j = i + 1; j < 21; j++)
            if (lt[j] < lt[i]) {
                double x = lt[i];
                lt[i] = lt[j], lt[j] = x;
            }

    /* floors: a plain pass over the bytes, the tokenizer alone */
    double t0 = now();
    volatile uint64_t sum = 0;
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < in.n; i++) {
            uint64_t s = 0;
            const unsigned char *p = (const unsigned char *)in.gold[i]->text;
            for (size_t k = 0; k < in.gold[i]->text_len; k++)
                s += p[k];
            sum += s;
        }
    double t_read = now() - t0;
    t0 = now();
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < in.n; i++) {
            casie_doc *d = casie_doc_from_text(in.gold[i]->text, in.gold[i]->text_len, NULL, &err);
            if (!d || casie_doc_analyze(d, &err)) die("tokenize", &err);
            casie_doc_free(d);
        }
    double t_tok = now() - t0;

    /* stages, each alone over the same documents (one pass each, times reps) */
    int sreps = reps < 5 ? reps : 5; /* stages on at most 5 passes */
    double st_parse = 0, st_feat = 0, st_full = 0, st_rest = 0, st_json = 0;
    for (int r = 0; r < sreps; r++)
        for (int i = 0; i < in.n; i++) {
            t0 = now();
            casie_doc *g = casie_doc_from_json(in.json[i], in.jlen[i], "x", &err);
            st_parse += now() - t0;
            if (!g) die("parse", &err);
            casie_doc *d = casie_doc_from_text(g->text, g->text_len, g->id, &err);
            casie_doc_analyze(d, &err);
            t0 = now();
            casie__tokfeat *tf = casie__doc_tokfeats(d, &m->clusters);
            st_feat += now() - t0;
            free(tf);
            t0 = now();
            if (casie_extract(m, d, NULL, &err)) die("extract", &err);
            st_full += now() - t0;
            t0 = now();
            char *js = casie_doc_to_json(d, CASIE_JSON_SCORES | CASIE_JSON_COMPACT, NULL, &err);
            st_json += now() - t0;
            casie_free(js);
            casie_extract_params xp = casie_extract_default_params();
            xp.given_triggers = 1;
            t0 = now();
            if (casie_extract(m, g, &xp, &err)) die("extract given", &err);
            st_rest += now() - t0;
            casie_doc_free(g);
            casie_doc_free(d);
        }
    double sc = (double)reps / sreps; /* scale stage times to the full run */

    long docs1, docs2;
    double t1 = run_threads(m, &in, reps, 1, &docs1);
    double t2 = run_threads(m, &in, reps, 2, &docs2);
    double toks = (double)in.tokens * reps;

    printf("| measure | value | ratio |\n|---|---|---|\n");
    printf("| text processed | %.1f MB (%d passes over %d dev articles, %.0f KB) | |\n", total / 1e6, reps, in.n,
           in.text_bytes / 1e3);
    printf("| floor: plain pass over the bytes | %.0f MB/s | 1 |\n", total / 1e6 / t_read);
    printf("| floor: tokenizer alone (decode + split) | %.1f MB/s | %.3f of plain pass |\n", total / 1e6 / t_tok,
           t_read / t_tok);
    char r1[32], r2[32];
    rate(r1, sizeof r1, total / t1);
    rate(r2, sizeof r2, total / t2);
    printf("| extraction, 1 thread | %s, %.1f docs/s, %.0f tokens/s | %.4f of tokenizer speed |\n", r1,
           (double)docs1 / t1, toks / t1, t_tok / t1);
    printf("| extraction, 2 threads | %s, %.1f docs/s, %.0f tokens/s | %.2fx 1 thread |\n", r2, (double)docs2 / t2,
           toks / t2, t1 / t2);
    printf("| model load (median of 21) | %.1f ms (min %.1f, max %.1f) | |\n", lt[10] * 1e3, lt[0] * 1e3, lt[20] * 1e3);
    double stages = st_parse + (t_tok / reps) * sreps + st_feat + st_full + st_json;
    printf(
        "\nPer stage, 1 thread, over %d passes (share of their sum):\n\n| stage | s per MB | share |\n|---|---|---|\n",
        sreps);
    double per = 1e6 / (in.text_bytes * sreps);
    double tok_s = (t_tok / reps) * sreps;
    double trig = st_full - st_rest - tok_s - st_feat; /* full extraction minus the rest, analysis, features */
    if (trig < 0) trig = 0;
    struct {
        const char *name;
        double t;
    } rows[] = {{"read (JSON parse of the input record)", st_parse},
                {"tokenize (sentences + tokens)", tok_s},
                {"features (per-token hashes, clusters)", st_feat},
                {"triggers (= full extraction - given-trigger extraction - tokenize - features)", trig},
                {"arguments + entity types + realis + coreference (extraction given gold triggers, incl. its features)",
                 st_rest},
                {"JSON out", st_json}};
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
        printf("| %s | %.3f | %.1f%% |\n", rows[k].name, rows[k].t * per, 100.0 * rows[k].t / stages);
    (void)sc;
    if (argc > 4) { /* peak RSS of the CLI over the dev articles */
        char **args = calloc((size_t)in.n + 8, sizeof(char *));
        char(*paths)[4096] = calloc((size_t)in.n, sizeof *paths);
        int k = 0;
        args[k++] = argv[4], args[k++] = "extract", args[k++] = "-m", args[k++] = argv[1];
        args[k++] = "--threads", args[k++] = "2";
        for (int i = 0; i < in.n; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/annotation/%s.json", argv[2], in.gold[i]->id);
            args[k++] = paths[i];
        }
        fflush(stdout); /* or the child flushes our buffer a second time */
        pid_t pid = fork();
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
            execv(argv[4], args);
            _exit(127);
        }
        int status;
        struct rusage ru;
        if (pid > 0 && wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            printf("\n| peak RSS of `casie extract --threads 2` over the %d dev articles | %.1f MB |\n", in.n,
                   (double)ru.ru_maxrss / 1024.0);
        else
            printf("\n| peak RSS of `casie extract` | could not run %s |\n", argv[4]);
        free(args);
        free(paths);
    }
    casie_model_free(m);
    for (int i = 0; i < in.n; i++) {
        free(in.json[i]);
        casie_doc_free(in.gold[i]);
    }
    free(in.json);
    free(in.jlen);
    free(in.gold);
    return 0;
}
