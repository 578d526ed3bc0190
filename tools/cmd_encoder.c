/*
 * cmd_encoder.c - `casie encoder`: converts a pretrained BERT-family
 * checkpoint into casie's encoder file, and describes an encoder file.
 *
 *   casie encoder import DIR -o FILE   config.json, vocab.txt, model.safetensors
 *                                      (and tokenizer_config.json) -> FILE
 *   casie encoder info FILE            the configuration, one "key value" a line
 *
 * Uses only the public header.
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Both verbs' help: the usage of each. */
static const char SYNOPSIS[] =
    "usage: casie encoder import DIR (-o|--output) FILE\n"
    "       casie encoder info FILE\n"
    "  import: converts a BERT-family checkpoint (BERT or MPNet) in the Hugging Face layout (DIR holds\n"
    "          config.json, vocab.txt, model.safetensors) into a casie encoder file\n"
    "  info:   prints an encoder file's configuration\n";

typedef struct import_args {
    const char *out;
} import_args;

static const cli_opt IMPORT_OPTIONS[] = {
    {"--output", "-o", "FILE", "the encoder file import writes", CLI_STRING(import_args, out)},
};

static const cli_command IMPORT = {
    .name = "encoder import",
    .synopsis = SYNOPSIS,
    CLI_TABLE(IMPORT_OPTIONS),
    .min_args = 1,
    .max_args = 1,
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

/* casie encoder VERB ...: its --help is import's, the one with options. */
int cmd_encoder(int argc, char **argv) {
    if (argc < 2) return cli_usage(&IMPORT, stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return cli_usage(&IMPORT, stdout);
    if (!strcmp(argv[1], "import")) return cmd_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 1, argv + 1);
    fprintf(stderr, "casie encoder: unknown subcommand '%s'\n", argv[1]);
    return cli_usage(&IMPORT, stderr);
}
