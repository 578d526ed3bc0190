/*
 * cmd_train_categories.c - `casie train-categories`: train the argument
 * category classifier (Purpose subtypes, CAPEC meta attack patterns) and
 * write a copy of a model with it added, the taggers untouched.
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void log_stderr(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "train-categories: %s\n", msg);
}

static int usage(FILE *f) {
    fprintf(f, "usage: casie train-categories -m MODEL (-o OUT | --in-place) [--corpus DIR] [--train SPLIT]\n"
               "                              [--dev SPLIT] [--holdout N] [--seed N] [--epochs N]\n"
               "  Trains the classifier of argument categories (a Purpose's subtype; the CAPEC meta\n"
               "  attack pattern of Capabilities, Attack-Pattern, Issues-Addressed) on the gold\n"
               "  arguments of the training split, and writes MODEL with it added (replacing one it\n"
               "  had) to OUT.  The rest of the file is copied byte for byte: the events are the same.\n"
               "  -m, --model MODEL  fast, accurate or a model file\n"
               "  -o, --output OUT   the new model file (never MODEL itself: use --in-place for that)\n"
               "  --in-place      replace MODEL (atomically)\n"
               "  --corpus DIR    annotated corpus (default $CASIE_CORPUS or ../shared/casie)\n"
               "  --train SPLIT   split name (DIR/splits/SPLIT.txt) or id file (default train)\n"
               "  --dev SPLIT     split whose gold arguments are classified after training, for the\n"
               "                  log (default dev; 'none' to skip)\n"
               "  --holdout N     tuning: train on all but the last N training documents and classify\n"
               "                  those instead of --dev\n"
               "  --seed N        shuffling seed (default 1)\n"
               "  --epochs N      passes over the training arguments (default 12)\n");
    return f == stdout ? 0 : 2;
}

/* Are a and b the same file (or the same path when b does not exist)? */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) || stat(b, &sb)) return !strcmp(a, b);
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cmd_train_categories(int argc, char **argv) {
    const char *corpus = cli_default_corpus(), *train = "train", *dev = "dev", *model = NULL, *out = NULL;
    casie_train_params p = casie_train_default_params();
    long holdout = 0, x;
    int in_place = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        if (!strcmp(a, "--in-place")) {
            in_place = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "casie train-categories: %s needs a value\n", a);
            return usage(stderr);
        }
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            model = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
            out = v;
        else if (!strcmp(a, "--corpus"))
            corpus = v;
        else if (!strcmp(a, "--train"))
            train = v;
        else if (!strcmp(a, "--dev"))
            dev = v;
        else if (!strcmp(a, "--holdout")) {
            if (cli_opt_long("train-categories", a, v, 1, 100000, &holdout)) return 2;
        } else if (!strcmp(a, "--seed")) {
            if (cli_opt_long("train-categories", a, v, 0, LONG_MAX, &x)) return 2;
            p.seed = (uint64_t)x;
        } else if (!strcmp(a, "--epochs")) {
            if (cli_opt_long("train-categories", a, v, 1, 1000, &x)) return 2;
            p.epochs = (int)x;
        } else {
            fprintf(stderr, "casie train-categories: unknown option %s\n", a);
            return usage(stderr);
        }
    }
    if (!model || (!out && !in_place) || (out && in_place)) {
        fprintf(stderr, "casie train-categories: -m MODEL and one of -o OUT or --in-place are required\n");
        return usage(stderr);
    }
    char path[4096];
    if (casie_model_find(model, NULL, path, sizeof path)) {
        fprintf(stderr, "casie train-categories: no model %s\n", model);
        return 1;
    }
    if (in_place)
        out = path;
    else if (same_file(path, out)) {
        fprintf(stderr, "casie train-categories: -o %s is the input model; use --in-place to replace it\n", out);
        return 2;
    }
    p.log = log_stderr;
    casie_error err = {0};
    casie_corpus *tr = cli_read_split(corpus, train, &err), *dv = NULL;
    if (!tr) return cli_fail(&err);
    int n_train = tr->n_docs;
    casie_doc *const *held = NULL;
    int n_held = 0;
    if (holdout) {
        if (holdout >= tr->n_docs) {
            fprintf(stderr, "casie train-categories: --holdout %ld leaves no training document\n", holdout);
            casie_corpus_free(tr);
            return 2;
        }
        n_train = tr->n_docs - (int)holdout;
        held = tr->docs + n_train, n_held = (int)holdout;
    } else if (strcmp(dev, "none")) {
        if (!(dv = cli_read_split(corpus, dev, &err))) {
            casie_corpus_free(tr);
            return cli_fail(&err);
        }
        held = dv->docs, n_held = dv->n_docs;
    }
    int rc = 0;
    if (casie_model_add_categories(path, out, tr->docs, n_train, held, n_held, &p, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "train-categories: wrote %s\n", out);
    casie_corpus_free(tr);
    casie_corpus_free(dv);
    return rc;
}
