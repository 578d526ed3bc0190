/*
 * casie.c - the command-line tool: dispatches to the cmd_*.c subcommands,
 * and nothing else (what they share is in cli_io.c and cli_exit.c).  Uses
 * only the public header.
 */
#include "cli_exit.h"
#include "cmd.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} COMMANDS[] = {
    {"extract", cmd_extract, "extract events from articles (text, source files, JSON, JSONL)"},
    {"train", cmd_train, "train a model on the annotated corpus"},
    {"train-categories", cmd_train_categories, "add the argument category classifier to a model"},
    {"eval", cmd_eval, "score predictions against gold annotations"},
    {"stats", cmd_stats, "count documents, tokens, events, roles in a corpus"},
    {"tokenize", cmd_tokenize, "print sentences and tokens with their offsets"},
    {"serve", cmd_serve, "serve extraction over HTTP (POST /v1/extract)"},
    {"render", cmd_render, "write a self-contained HTML view of extracted events"},
    {"encoder", cmd_encoder, "import a pretrained BERT encoder, describe an encoder file"},
};
#define N_COMMANDS (int)(sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f) {
    fprintf(f, "usage: casie <command> [options]   (casie <command> --help)\n"
               "       casie --version\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-16s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(f, "\nenvironment:\n"
               "  CASIE_MODEL      the model extract and serve use without -m (fast, accurate or a file)\n"
               "  CASIE_MODEL_DIR  a folder to look in for a model by name (casie-NAME.model)\n"
               "  CASIE_ENCODER    the encoder file a model reads, instead of the one beside the model\n"
               "  CASIE_CORPUS     the corpus train and train-categories read without --corpus (../shared/casie)\n");
    fprintf(f, "\ncasie %s\n", casie_version());
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return cli_finish(0);
    }
    if (!strcmp(argv[1], "--version")) {
        printf("casie %s\n", casie_version());
        return cli_finish(0);
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return cli_finish(COMMANDS[i].fn(argc - 1, argv + 1));
    fprintf(stderr, "casie: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
