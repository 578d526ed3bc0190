/*
 * cmd_train.c - `casie train`: learn a model from the annotated corpus, save
 * it, and score it on the dev split.
 */
#include "cli_exit.h"
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

/* ---- the command line ---- */

typedef struct train_args {
    const char *corpus, *train, *dev, *out, *clusters, *embeddings;
    long limit;
    casie_train_params p;
} train_args;

/* The training parameter an option names (--arg-nets: arg_nets), or NULL. */
static const char *param_name(const char *opt, char *buf, size_t size) {
    if (strncmp(opt, "--", 2) || strlen(opt + 2) >= size) return NULL;
    snprintf(buf, size, "%s", opt + 2);
    for (char *c = buf; *c; c++)
        if (*c == '-') *c = '_';
    const casie_train_option *o;
    for (int i = 0; (o = casie_train_option_at(i)); i++)
        if (!strcmp(o->name, buf)) return buf;
    return NULL;
}

/* The options beside the table: the library's training parameters. */
static int set_param(void *opts, const char *opt, const char *v) {
    train_args *a = opts;
    char buf[64];
    const char *name = param_name(opt, buf, sizeof buf);
    casie_error err = {0};
    if (!name) return -1;
    if (!v) return 0;
    if (casie_train_param_set(&a->p, name, v, &err)) {
        fprintf(stderr, "casie train: --%s: %s\n", opt + 2, err.message);
        return 2;
    }
    return 0;
}

/* The parameters in --help, from the library's table, each with its default. */
static void param_help(FILE *f) {
    fprintf(f, "training parameters:\n");
    const casie_train_option *o;
    for (int i = 0; (o = casie_train_option_at(i)); i++) {
        char flag[64], help[512];
        int n = snprintf(flag, sizeof flag, "--%s %s", o->name, o->value);
        for (int k = 2; k < n && flag[k] != ' '; k++)
            if (flag[k] == '_') flag[k] = '-';
        if (!strcmp(o->value, "FILE") || !strcmp(o->value, "TEXT"))
            snprintf(help, sizeof help, "%s", o->help);
        else
            snprintf(help, sizeof help, "%s (default %g)", o->help, o->dflt);
        cli_help_line(f, flag, help);
    }
}

static const cli_opt OPTIONS[] = {
    {"--corpus", NULL, "DIR", "annotated corpus (default $CASIE_CORPUS or ../shared/casie)",
     CLI_STRING(train_args, corpus)},
    {"--train", NULL, "SPLIT", "split name (DIR/splits/SPLIT.txt) or id file (default train)",
     CLI_STRING(train_args, train)},
    {"--dev", NULL, "SPLIT", "split to tune on and score after training (default dev; 'none' to skip)",
     CLI_STRING(train_args, dev)},
    {"--output", "-o", "MODEL", "the model file to write (required)", CLI_STRING(train_args, out)},
    {"--clusters", NULL, "FILE", "word clusters (default data/glove/clusters.tsv when present; 'none' for none)",
     CLI_STRING(train_args, clusters)},
    {"--embeddings", NULL, "FILE",
     "word vectors for the clustered words (default data/glove/glove100.bin\n"
     "when present; 'none' for none)",
     CLI_STRING(train_args, embeddings)},
    {"--limit", NULL, "N", "train on the first N documents of the split only (0, the default: all)",
     CLI_LONG(train_args, limit, 0, 1000000)},
};

static const cli_command TRAIN = {
    .name = "train",
    .synopsis = "usage: casie train [--corpus DIR] [--train SPLIT] [--dev SPLIT] -o MODEL [OPTIONS]\n",
    CLI_TABLE(OPTIONS),
    .max_args = 0,
    .other = set_param,
    .more_help = param_help,
};

int cmd_train(int argc, char **argv) {
    train_args a = {.corpus = cli_default_corpus(), .train = "train", .dev = "dev", .p = casie_train_default_params()};
    int rc = cli_parse(&TRAIN, argc, argv, &a, NULL);
    if (rc != CLI_GO_ON) return rc;
    if (!a.out) {
        fprintf(stderr, "casie train: -o MODEL is required\n");
        return cli_usage(&TRAIN, stderr);
    }
    if (!output_writable(a.out)) return 1;
    const char *clusters = a.clusters, *embeddings = a.embeddings;
    if (!clusters && access("data/glove/clusters.tsv", R_OK) == 0) clusters = "data/glove/clusters.tsv";
    if (clusters && strcmp(clusters, "none") == 0) clusters = NULL;
    if (!embeddings && clusters && access("data/glove/glove100.bin", R_OK) == 0) embeddings = "data/glove/glove100.bin";
    if (embeddings && strcmp(embeddings, "none") == 0) embeddings = NULL;
    if (embeddings && !clusters) {
        fprintf(stderr, "casie train: --embeddings needs --clusters (vectors belong to clustered words)\n");
        return 2;
    }
    casie_train_params p = a.p;
    p.clusters = clusters;
    p.embeddings = embeddings;
    p.log = log_stderr;
    char tag[512];
    snprintf(tag, sizeof tag, "train=%s dev=%s", a.train, a.dev);
    p.corpus_tag = tag;

    casie_error err = {0};
    double t0 = now_s();
    casie_corpus *tr = cli_read_split(a.corpus, a.train, &err), *dv = NULL;
    if (!tr) return cli_fail(&err);
    if (strcmp(a.dev, "none") && !(dv = cli_read_split(a.corpus, a.dev, &err))) {
        casie_corpus_free(tr);
        return cli_fail(&err);
    }
    int n_train = a.limit > 0 && a.limit < tr->n_docs ? (int)a.limit : tr->n_docs;
    fprintf(stderr, "train: read %d training and %d dev documents in %.2fs%s%s\n", n_train, dv ? dv->n_docs : 0,
            now_s() - t0, clusters ? ", clusters from " : "", clusters ? clusters : "");
    casie_model *m = casie_train(tr->docs, n_train, dv ? dv->docs : NULL, dv ? dv->n_docs : 0, &p, &err);
    rc = 0;
    if (!m)
        rc = cli_fail(&err);
    else if (casie_model_save(m, a.out, &err))
        rc = cli_fail(&err);
    else {
        fprintf(stderr, "train: wrote %s (%.1fs in all)\n", a.out, now_s() - t0);
        if (dv) rc = score_dev(m, dv);
    }
    casie_model_free(m);
    casie_corpus_free(tr);
    casie_corpus_free(dv);
    return rc;
}
