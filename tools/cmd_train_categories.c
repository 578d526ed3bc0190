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

/* Are a and b the same file (or the same path when b does not exist)? */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) || stat(b, &sb)) return !strcmp(a, b);
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- the command line ---- */

typedef struct categories_args {
    const char *model, *out, *corpus, *train, *dev;
    long holdout, seed, epochs;
    int in_place;
} categories_args;

static const cli_opt OPTIONS[] = {
    {"--model", "-m", "MODEL", "fast, accurate or a model file", CLI_STRING(categories_args, model)},
    {"--output", "-o", "OUT", "the new model file (never MODEL itself: use --in-place for that)",
     CLI_STRING(categories_args, out)},
    {"--in-place", NULL, NULL, "replace MODEL (atomically)", CLI_FLAG(categories_args, in_place)},
    {"--corpus", NULL, "DIR", "annotated corpus (default $CASIE_CORPUS or ../shared/casie)",
     CLI_STRING(categories_args, corpus)},
    {"--train", NULL, "SPLIT", "split name (DIR/splits/SPLIT.txt) or id file (default train)",
     CLI_STRING(categories_args, train)},
    {"--dev", NULL, "SPLIT",
     "split whose gold arguments are classified after training, for the\n"
     "log (default dev; 'none' to skip)",
     CLI_STRING(categories_args, dev)},
    {"--holdout", NULL, "N",
     "tuning: train on all but the last N training documents (1 to 100000)\n"
     "and classify those instead of --dev",
     CLI_LONG(categories_args, holdout, 1, 100000)},
    {"--seed", NULL, "N", "shuffling seed (default 1)", CLI_LONG(categories_args, seed, 0, LONG_MAX)},
    {"--epochs", NULL, "N", "passes over the training arguments, 1 to 1000 (default 12)",
     CLI_LONG(categories_args, epochs, 1, 1000)},
};

static const cli_command CATEGORIES = {
    .name = "train-categories",
    .synopsis = "usage: casie train-categories -m MODEL (-o OUT | --in-place) [--corpus DIR] [--train SPLIT]\n"
                "                              [--dev SPLIT] [--holdout N] [--seed N] [--epochs N]\n"
                "  Trains the classifier of argument categories (a Purpose's subtype; the CAPEC meta\n"
                "  attack pattern of Capabilities, Attack-Pattern, Issues-Addressed) on the gold\n"
                "  arguments of the training split, and writes MODEL with it added (replacing one it\n"
                "  had) to OUT.  The rest of the file is copied byte for byte: the events are the same.\n",
    CLI_TABLE(OPTIONS),
    .max_args = 0,
};

int cmd_train_categories(int argc, char **argv) {
    casie_train_params p = casie_train_default_params();
    categories_args a = {
        .corpus = cli_default_corpus(), .train = "train", .dev = "dev", .seed = (long)p.seed, .epochs = p.epochs};
    int rc = cli_parse(&CATEGORIES, argc, argv, &a, NULL);
    if (rc != CLI_GO_ON) return rc;
    p.seed = (uint64_t)a.seed;
    p.epochs = (int)a.epochs;
    if (!a.model || (!a.out && !a.in_place) || (a.out && a.in_place)) {
        fprintf(stderr, "casie train-categories: -m MODEL and one of -o OUT or --in-place are required\n");
        return cli_usage(&CATEGORIES, stderr);
    }
    char path[4096];
    if (casie_model_find(a.model, NULL, path, sizeof path)) {
        fprintf(stderr, "casie train-categories: no model %s\n", a.model);
        return 1;
    }
    const char *out = a.in_place ? path : a.out;
    if (!a.in_place && same_file(path, out)) {
        fprintf(stderr, "casie train-categories: -o %s is the input model; use --in-place to replace it\n", out);
        return 2;
    }
    p.log = log_stderr;
    casie_error err = {0};
    casie_corpus *tr = cli_read_split(a.corpus, a.train, &err), *dv = NULL;
    if (!tr) return cli_fail(&err);
    int n_train = tr->n_docs;
    casie_doc *const *held = NULL;
    int n_held = 0;
    if (a.holdout) {
        if (a.holdout >= tr->n_docs) {
            fprintf(stderr, "casie train-categories: --holdout %ld leaves no training document\n", a.holdout);
            casie_corpus_free(tr);
            return 2;
        }
        n_train = tr->n_docs - (int)a.holdout;
        held = tr->docs + n_train, n_held = (int)a.holdout;
    } else if (strcmp(a.dev, "none")) {
        if (!(dv = cli_read_split(a.corpus, a.dev, &err))) {
            casie_corpus_free(tr);
            return cli_fail(&err);
        }
        held = dv->docs, n_held = dv->n_docs;
    }
    rc = 0;
    if (casie_model_add_categories(path, out, tr->docs, n_train, held, n_held, &p, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "train-categories: wrote %s\n", out);
    casie_corpus_free(tr);
    casie_corpus_free(dv);
    return rc;
}
