/*
 * cmd_encoder.c - `casie encoder`: converts a pretrained BERT-family
 * checkpoint into casie's encoder file, and describes an encoder file.
 *
 *   casie encoder import DIR -o FILE   config.json, vocab.txt, model.safetensors
 *                                      (and tokenizer_config.json) -> FILE
 *   casie encoder info FILE            the configuration, one "key value" a line
 *   casie encoder tune --encoder IN -o OUT [--corpus DIR] [--ids SPLIT] ...
 *                                      IN with its top layers fine-tuned on the
 *                                      corpus's labels -> OUT
 *
 * Uses only the public header.
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The verbs' help: the usage of each. */
static const char SYNOPSIS[] =
    "usage: casie encoder import DIR (-o|--output) FILE\n"
    "       casie encoder info FILE\n"
    "       casie encoder tune --encoder IN.enc (-o|--output) OUT.enc [--corpus DIR] [--ids SPLIT] [OPTIONS]\n"
    "  import: converts a BERT-family checkpoint (BERT or MPNet) in the Hugging Face layout (DIR holds\n"
    "          config.json, vocab.txt, model.safetensors) into a casie encoder file\n"
    "  info:   prints an encoder file's configuration\n"
    "  tune:   fine-tunes an encoder's top layers on the corpus's trigger and argument labels and\n"
    "          writes the adapted encoder (never over an existing file)\n";

typedef struct import_args {
    const char *out;
} import_args;

static const cli_opt IMPORT_OPTIONS[] = {
    {"--output", "-o", "FILE", "the encoder file import writes", CLI_STRING(import_args, out)},
};

static void tune_help(FILE *f);

static const cli_command IMPORT = {
    .name = "encoder import",
    .synopsis = SYNOPSIS,
    CLI_TABLE(IMPORT_OPTIONS),
    .min_args = 1,
    .max_args = 1,
    .more_help = tune_help,
};

static const cli_command INFO = {.name = "encoder info", .synopsis = SYNOPSIS, .min_args = 1, .max_args = 1};

static int cmd_import(int argc, char **argv) {
    import_args a = {0};
    int rc = cli_parse(&IMPORT, argc, argv, &a, NULL); /* DIR in argv[0] */
    if (rc != CLI_GO_ON) return rc;
    if (!a.out) return cli_usage(&IMPORT, stderr);
    const char *dir = argv[0], *out = a.out;
    casie_error err = {0};
    if (casie_encoder_import(dir, out, &err)) return cli_fail(&err);
    casie_encoder *e = casie_encoder_load(out, &err);
    if (!e) return cli_fail(&err);
    const casie_encoder_config *c = casie_encoder_get_config(e);
    fprintf(stderr, "casie: %s: %s, %d layers x %d, %d pieces\n", out, c->name, c->n_layers, c->hidden, c->n_vocab);
    casie_encoder_free(e);
    return 0;
}

static int cmd_info(int argc, char **argv) {
    int rc = cli_parse(&INFO, argc, argv, NULL, NULL); /* FILE in argv[0] */
    if (rc != CLI_GO_ON) return rc;
    if (!strcmp(argv[0], "-")) return cli_usage(&INFO, stderr); /* no stdin */
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(argv[0], &err);
    if (!e) return cli_fail(&err);
    const casie_encoder_config *c = casie_encoder_get_config(e);
    printf("name %s\narch %s\nhash %016" PRIx64 "\nlayers %d\nhidden %d\nheads %d\nintermediate %d\n"
           "max_positions %d\ntype_vocab %d\nvocab %d\nlowercase %d\nlayer_norm_eps %g\ncls %d\nsep %d\npad %d\n"
           "unk %d\n",
           c->name, c->arch == CASIE_ENCODER_MPNET ? "mpnet" : "bert", c->hash, c->n_layers, c->hidden, c->n_heads,
           c->intermediate, c->max_positions, c->type_vocab, c->n_vocab, c->lowercase, (double)c->layer_norm_eps,
           c->cls_id, c->sep_id, c->pad_id, c->unk_id);
    if (c->arch == CASIE_ENCODER_MPNET)
        printf("relative_buckets %d\nfirst_position %d\n", c->rel_buckets, c->pos_offset);
    casie_encoder_free(e);
    return 0;
}

/* ---- tune ---- */

typedef struct tune_args {
    const char *corpus, *ids, *encoder, *out, *layers;
    long train_layers, epochs, batch, max_windows, threads, seed;
    double lr, head_lr, warmup, weight_decay, clip, event_weight;
} tune_args;

static const cli_opt TUNE_OPTIONS[] = {
    {"--corpus", NULL, "DIR", "annotated corpus (default $CASIE_CORPUS or ../shared/casie)",
     CLI_STRING(tune_args, corpus)},
    {"--ids", NULL, "SPLIT", "split name (DIR/splits/SPLIT.txt; 'train[:-70]': a slice) or id file\n(default train)",
     CLI_STRING(tune_args, ids)},
    {"--encoder", NULL, "IN.enc", "the encoder file to tune (required)", CLI_STRING(tune_args, encoder)},
    {"--output", "-o", "OUT.enc", "the tuned encoder file to write (required; never replaced)",
     CLI_STRING(tune_args, out)},
    {"--layers", NULL, "FIRST-LAST", "the layers read, their mean, as a model reads them (default the last four)",
     CLI_STRING(tune_args, layers)},
    {"--train-layers", NULL, "N", "the top N layers up to LAST are trained (default 2)",
     CLI_LONG(tune_args, train_layers, 1, 48)},
    {"--epochs", NULL, "N", "passes over the windows, 1 to 1000 (default 3)", CLI_LONG(tune_args, epochs, 1, 1000)},
    {"--batch", NULL, "N", "windows per step, 1 to 256 (default 8)", CLI_LONG(tune_args, batch, 1, 256)},
    {"--max-windows", NULL, "N", "train on the documents' first N windows only (default 0: all)",
     CLI_LONG(tune_args, max_windows, 0, 100000000)},
    {"--threads", NULL, "N", "worker threads, 1 to 64 (default 1; the result is the same)",
     CLI_LONG(tune_args, threads, 1, 64)},
    {"--lr", NULL, "X", "the layers' peak AdamW step (default 5e-5)", CLI_DOUBLE(tune_args, lr, 1e-12, 0.999)},
    {"--head-lr", NULL, "X", "the heads' peak AdamW step (default 1e-3)", CLI_DOUBLE(tune_args, head_lr, 1e-12, 0.999)},
    {"--warmup", NULL, "X", "the fraction of steps of linear warm-up, then linear decay (default 0.1)",
     CLI_DOUBLE(tune_args, warmup, 0, 0.999)},
    {"--weight-decay", NULL, "X", "AdamW's weight decay (default 0.01)", CLI_DOUBLE(tune_args, weight_decay, 0, 0.999)},
    {"--clip", NULL, "X", "clip the gradients' global norm to X; 0: never (default 1)",
     CLI_DOUBLE(tune_args, clip, 0, 1e6)},
    {"--event-weight", NULL, "W",
     "each piece's loss times W where its gold label (per head) is not O,\n"
     "normalised by the weights (default 1)",
     CLI_DOUBLE(tune_args, event_weight, 1e-6, 1000)},
    {"--seed", NULL, "N", "the heads' initial weights and the windows' order (default 1)",
     CLI_LONG(tune_args, seed, 0, 2147483647)},
};

static const cli_command TUNE = {
    .name = "encoder tune",
    .synopsis = SYNOPSIS,
    CLI_TABLE(TUNE_OPTIONS),
    .max_args = 0,
};

/* casie encoder --help: tune's options after import's. */
static void tune_help(FILE *f) {
    fprintf(f, "tune:\n");
    for (size_t i = 0; i < sizeof TUNE_OPTIONS / sizeof TUNE_OPTIONS[0]; i++) {
        const cli_opt *o = &TUNE_OPTIONS[i];
        char flags[96];
        snprintf(flags, sizeof flags, "%s%s%s %s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name, o->value);
        cli_help_line(f, flags, o->help);
    }
}

static void tune_log(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "tune: %s\n", msg);
}

static int cmd_tune(int argc, char **argv) {
    casie_encoder_tune_params p = casie_encoder_tune_default_params();
    tune_args a = {.corpus = cli_default_corpus(),
                   .ids = "train",
                   .train_layers = p.train_layers,
                   .epochs = p.epochs,
                   .batch = p.batch,
                   .max_windows = p.max_windows,
                   .threads = p.threads,
                   .seed = (long)p.seed,
                   .lr = p.lr,
                   .head_lr = p.head_lr,
                   .warmup = p.warmup,
                   .weight_decay = p.weight_decay,
                   .clip = p.clip,
                   .event_weight = p.event_weight};
    int rc = cli_parse(&TUNE, argc, argv, &a, NULL);
    if (rc != CLI_GO_ON) return rc;
    if (!a.encoder || !a.out) {
        fprintf(stderr, "casie encoder tune: --encoder IN.enc and -o OUT.enc are required\n");
        return cli_usage(&TUNE, stderr);
    }
    if (a.layers) {
        int f = 0, l = 0, n = 0;
        if (sscanf(a.layers, "%d-%d%n", &f, &l, &n) != 2 || a.layers[n] || f < 1 || l < f) {
            fprintf(stderr, "casie encoder tune: --layers takes FIRST-LAST (1 <= FIRST <= LAST), not '%s'\n", a.layers);
            return 2;
        }
        p.enc_first = f, p.enc_last = l;
    }
    p.train_layers = (int)a.train_layers, p.epochs = (int)a.epochs, p.batch = (int)a.batch;
    p.max_windows = (int)a.max_windows, p.threads = (int)a.threads, p.seed = (uint64_t)a.seed;
    p.lr = (float)a.lr, p.head_lr = (float)a.head_lr, p.warmup = (float)a.warmup;
    p.weight_decay = (float)a.weight_decay, p.clip = (float)a.clip, p.event_weight = (float)a.event_weight;
    p.log = tune_log;
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(a.encoder, &err);
    if (!e) return cli_fail(&err);
    casie_corpus *c = cli_read_split(a.corpus, a.ids, &err);
    if (!c) {
        casie_encoder_free(e);
        return cli_fail(&err);
    }
    fprintf(stderr, "tune: %s, %d documents of %s\n", casie_encoder_get_config(e)->name, c->n_docs, a.ids);
    rc = casie_encoder_tune(e, c->docs, c->n_docs, &p, a.out, &err) ? cli_fail(&err) : 0;
    casie_corpus_free(c);
    casie_encoder_free(e);
    return rc;
}

/* casie encoder VERB ...: its --help is import's, the one with options. */
int cmd_encoder(int argc, char **argv) {
    if (argc < 2) return cli_usage(&IMPORT, stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return cli_usage(&IMPORT, stdout);
    if (!strcmp(argv[1], "import")) return cmd_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "tune")) return cmd_tune(argc - 1, argv + 1);
    fprintf(stderr, "casie encoder: unknown subcommand '%s'\n", argv[1]);
    return cli_usage(&IMPORT, stderr);
}
