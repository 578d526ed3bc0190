/*
 * cmd_train.c - `casie train`: learn a model from the annotated corpus, save
 * it, and score it on the dev split.
 */
#include "cli_io.h"
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void log_stderr(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "train: %s\n", msg);
}

static int usage(FILE *f) {
    fprintf(f, "usage: casie train [--corpus DIR] [--train SPLIT] [--dev SPLIT] -o MODEL\n"
               "                   [--seed N] [--threads N] [--epochs N]\n"
               "                   [--clusters FILE] [--limit N]\n"
               "  --corpus DIR    annotated corpus (default $CASIE_CORPUS or ../shared/casie)\n"
               "  --train SPLIT   split name (DIR/splits/SPLIT.txt) or id file (default train)\n"
               "  --dev SPLIT     split to score after training (default dev; 'none' to skip)\n"
               "  --seed N        shuffling seed (default 1): same seed and data, same model bytes\n"
               "  --threads N     training threads (default 2)\n"
               "  --epochs N      passes for every learner (default: each learner's own)\n"
               "  --clusters FILE word clusters (default data/glove/clusters.tsv when present)\n"
               "  --embeddings FILE  word vectors for the clustered words (default data/glove/glove100.bin\n"
               "                  when present; 'none' for none)\n"
               "  --emb-words N   how many of the most frequent clustered words get a vector (50000)\n"
               "  --hidden N      LSTM states per direction in the neural taggers (64)\n"
               "  --head N        hidden units of the taggers' heads (64)\n"
               "  --lr X          Adam step of the neural taggers (0.001)\n"
               "  --dropout X     dropout on the taggers' inputs and states (0.25; 0 for none)\n"
               "  --arg-nets N    argument networks from different seeds, their scores added (1 or 2; 2)\n"
               "  --trig-nets N   trigger networks, likewise (1 or 2; 1)\n"
               "  --encoder FILE  a transformer encoder file (casie encoder import) whose layers are\n"
               "                  extra inputs of every network; the model needs it beside it to load\n"
               "  --limit N       train on the first N documents of the split only\n");
    return f == stdout ? 0 : 2;
}

/* Reads a split by name or path into a corpus. */
static casie_corpus *read_split(const char *corpus, const char *split, casie_error *err) {
    char path[4096];
    if (strchr(split, '/') || strstr(split, ".txt")) snprintf(path, sizeof path, "%s", split);
    else snprintf(path, sizeof path, "%s/splits/%s.txt", corpus, split);
    int n;
    char **ids = casie_read_ids(path, &n, err);
    if (!ids) return NULL;
    casie_corpus *c = casie_corpus_read(corpus, (const char *const *)ids, n, err);
    casie_strings_free(ids, n);
    return c;
}

/* Can the model be written to `out`?  Checked before training (it used to be
 * found out after it): `out` is not a directory, and a file can be created
 * beside it (a probe file, removed at once).  Prints why not. */
static int output_writable(const char *out) {
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "casie train: %s is a directory\n", out);
        return 0;
    }
    size_t n = strlen(out);
    char *probe = malloc(n + sizeof ".XXXXXX");
    if (!probe) {
        fprintf(stderr, "casie train: out of memory\n");
        return 0;
    }
    memcpy(probe, out, n);
    memcpy(probe + n, ".XXXXXX", sizeof ".XXXXXX");
    int fd = mkstemp(probe);
    if (fd < 0) {
        fprintf(stderr, "casie train: cannot write %s: %s\n", out, strerror(errno));
        free(probe);
        return 0;
    }
    close(fd);
    unlink(probe);
    free(probe);
    return 1;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Extracts on copies of the dev documents and prints the scores. */
static int score_dev(const casie_model *m, const casie_corpus *dev) {
    casie_eval *ev = casie_eval_new();
    casie_error err = {0};
    if (!ev) return 1;
    double t0 = now_s();
    for (int i = 0; i < dev->n_docs; i++) {
        const casie_doc *g = dev->docs[i];
        casie_doc *p = casie_doc_from_text(g->text, g->text_len, g->id, &err);
        if (!p || casie_extract(m, p, NULL, &err) || casie_eval_add(ev, g, p, &err)) {
            casie_doc_free(p);
            casie_eval_free(ev);
            return cli_fail(&err);
        }
        casie_doc_free(p);
    }
    fprintf(stderr, "train: dev (%d documents, %.2fs):", dev->n_docs, now_s() - t0);
    for (int k = 0; k < CASIE_N_METRICS; k++) {
        double p, r, f;
        casie_prf(casie_eval_counts(ev, k, -1, -1), &p, &r, &f);
        fprintf(stderr, " %s %.1f", casie_metric_name(k), f);
    }
    fprintf(stderr, "\n");
    casie_eval_free(ev);
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *corpus = cli_default_corpus(), *train = "train", *dev = "dev", *out = NULL, *clusters = NULL,
               *embeddings = NULL;
    casie_train_params p = casie_train_default_params();
    int limit = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        if (!v) {
            fprintf(stderr, "casie train: %s needs a value\n", a);
            return usage(stderr);
        }
        if (!strcmp(a, "--corpus")) corpus = v;
        else if (!strcmp(a, "--train")) train = v;
        else if (!strcmp(a, "--dev")) dev = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = v;
        else if (!strcmp(a, "--clusters")) clusters = v;
        else if (!strcmp(a, "--embeddings")) embeddings = v;
        else if (!strcmp(a, "--encoder")) p.encoder = v;
        else if (!strcmp(a, "--lr") || !strcmp(a, "--dropout")) {
            char *end;
            errno = 0;
            double x = strtod(v, &end);
            if (errno || *end || !*v || !(x >= 0 && x < 10)) {
                fprintf(stderr, "casie train: %s takes a number in [0, 10), not '%s'\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--lr")) p.lr = (float)x;
            else p.dropout = x == 0 ? -1.0f : (float)x;
        }
        else if (!strcmp(a, "--seed") || !strcmp(a, "--threads") || !strcmp(a, "--epochs") ||
                 !strcmp(a, "--limit") || !strcmp(a, "--emb-words") || !strcmp(a, "--hidden") || !strcmp(a, "--head") ||
                 !strcmp(a, "--arg-nets") || !strcmp(a, "--trig-nets")) {
            char *end;
            errno = 0;
            unsigned long long x = strtoull(v, &end, 10);
            if (errno || *end || !*v || v[0] == '-' || (strcmp(a, "--seed") && x > 1000000)) {
                fprintf(stderr, "casie train: %s takes a non-negative integer, not '%s'\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--seed")) p.seed = x;
            else if (!strcmp(a, "--threads")) p.threads = (int)x;
            else if (!strcmp(a, "--epochs")) p.epochs = (int)x;
            else if (!strcmp(a, "--emb-words")) p.emb_words = (int)x;
            else if (!strcmp(a, "--hidden")) p.hidden = (int)x;
            else if (!strcmp(a, "--head")) p.head = (int)x;
            else if (!strcmp(a, "--arg-nets")) p.arg_nets = (int)x;
            else if (!strcmp(a, "--trig-nets")) p.trig_nets = (int)x;
            else limit = (int)x;
        } else {
            fprintf(stderr, "casie train: unknown option %s\n", a);
            return usage(stderr);
        }
    }
    if (!out) {
        fprintf(stderr, "casie train: -o MODEL is required\n");
        return usage(stderr);
    }
    if (!output_writable(out)) return 1;
    if (!clusters && access("data/glove/clusters.tsv", R_OK) == 0) clusters = "data/glove/clusters.tsv";
    if (clusters && strcmp(clusters, "none") == 0) clusters = NULL;
    p.clusters = clusters;
    if (!embeddings && clusters && access("data/glove/glove100.bin", R_OK) == 0) embeddings = "data/glove/glove100.bin";
    if (embeddings && strcmp(embeddings, "none") == 0) embeddings = NULL;
    if (embeddings && !clusters) {
        fprintf(stderr, "casie train: --embeddings needs --clusters (vectors belong to clustered words)\n");
        return 2;
    }
    p.embeddings = embeddings;
    p.log = log_stderr;
    char tag[512];
    snprintf(tag, sizeof tag, "train=%s dev=%s", train, dev);
    p.corpus_tag = tag;

    casie_error err = {0};
    double t0 = now_s();
    casie_corpus *tr = read_split(corpus, train, &err), *dv = NULL;
    if (!tr) return cli_fail(&err);
    if (strcmp(dev, "none") && !(dv = read_split(corpus, dev, &err))) {
        casie_corpus_free(tr);
        return cli_fail(&err);
    }
    int n_train = limit > 0 && limit < tr->n_docs ? limit : tr->n_docs;
    fprintf(stderr, "train: read %d training and %d dev documents in %.2fs%s%s\n", n_train, dv ? dv->n_docs : 0,
            now_s() - t0, clusters ? ", clusters from " : "", clusters ? clusters : "");
    casie_model *m = casie_train(tr->docs, n_train, dv ? dv->docs : NULL, dv ? dv->n_docs : 0, &p, &err);
    int rc = 0;
    if (!m) rc = cli_fail(&err);
    else if (casie_model_save(m, out, &err)) rc = cli_fail(&err);
    else {
        fprintf(stderr, "train: wrote %s (%.1fs in all)\n", out, now_s() - t0);
        if (dv) rc = score_dev(m, dv);
    }
    casie_model_free(m);
    casie_corpus_free(tr);
    casie_corpus_free(dv);
    return rc;
}
