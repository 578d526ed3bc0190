/*
 * cmd_tokenize.c - `casie tokenize [FILE...]`: prints the sentences and tokens
 * of each document, one token a line, for debugging the tokenizer.
 *
 *   # <id>: <n> sentences, <n> tokens
 *   <sentence> TAB <start> TAB <end> TAB <token text> TAB <flags>
 *
 * Offsets are code points.  Files are read with casie_doc_load (JSON, source
 * file or plain text); stdin (no FILE, or "-") is dispatched the same way by
 * its content.
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    unsigned flag;
    const char *name;
} FLAGS[] = {{CASIE_TOK_WORD, "WORD"},   {CASIE_TOK_NUMBER, "NUMBER"},   {CASIE_TOK_PUNCT, "PUNCT"},
             {CASIE_TOK_URL, "URL"},     {CASIE_TOK_EMAIL, "EMAIL"},     {CASIE_TOK_IP, "IP"},
             {CASIE_TOK_CVE, "CVE"},     {CASIE_TOK_VERSION, "VERSION"}, {CASIE_TOK_FILE, "FILE"},
             {CASIE_TOK_MONEY, "MONEY"}, {CASIE_TOK_ABBREV, "ABBREV"},   {CASIE_TOK_PERCENT, "PERCENT"}};

static void print_flags(unsigned f) {
    int any = 0;
    for (size_t i = 0; i < sizeof FLAGS / sizeof FLAGS[0]; i++)
        if (f & FLAGS[i].flag) {
            printf("%s%s", any ? "|" : "", FLAGS[i].name);
            any = 1;
        }
    if (!any) printf("-");
}

static int print_doc(casie_doc *d, const char *where) {
    casie_error err = {0};
    if (casie_doc_analyze(d, &err)) return cli_fail(&err);
    printf("# %s: %d sentences, %d tokens\n", d->id ? d->id : where, d->n_sents, d->n_tokens);
    for (int32_t t = 0; t < d->n_tokens; t++) {
        const casie_token *k = &d->tokens[t];
        int b0 = d->cp_byte[k->start], b1 = d->cp_byte[k->end];
        printf("%d\t%d\t%d\t%.*s\t", k->sent, k->start, k->end, b1 - b0, d->text + b0);
        print_flags(k->flags);
        printf("\n");
    }
    return 0;
}

static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, stdin);
        if (feof(stdin) || ferror(stdin)) break;
        if (n + 1 == cap) {
            char *nb = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf || ferror(stdin)) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* stdin: JSON, a source file or plain text, as casie_doc_detect_format tells. */
static casie_doc *load_stdin(casie_error *err) {
    size_t len;
    char *buf = read_stdin(&len);
    if (!buf) {
        snprintf(err->message, sizeof err->message, "<stdin>: read error");
        return NULL;
    }
    casie_doc *d;
    int fmt = casie_doc_detect_format(buf, len, NULL);
    if (fmt == CASIE_INPUT_JSON)
        d = casie_doc_from_json(buf, len, "<stdin>", err);
    else if (fmt == CASIE_INPUT_SOURCE)
        d = casie_doc_from_source(buf, len, "<stdin>", err);
    else
        d = casie_doc_from_text(buf, len, "stdin", err);
    free(buf);
    return d;
}

static const cli_command TOKENIZE = {
    .name = "tokenize",
    .synopsis = "usage: casie tokenize [FILE...]\n"
                "  Prints one token a line: sentence, start, end (code points), text, flags.\n"
                "  Reads CASIE JSON, source files or plain text; stdin when no FILE.\n",
    .max_args = -1,
};

int cmd_tokenize(int argc, char **argv) {
    int failures = 0, n_files, rc = cli_parse(&TOKENIZE, argc, argv, NULL, &n_files);
    if (rc != CLI_GO_ON) return rc;
    for (int i = 0; i < n_files || (n_files == 0 && i == 0); i++) {
        casie_error err = {0};
        const char *path = i < n_files ? argv[i] : "-";
        casie_doc *d = strcmp(path, "-") ? casie_doc_load(path, &err) : load_stdin(&err);
        if (!d) {
            failures += cli_fail(&err);
            continue;
        }
        failures += print_doc(d, path);
        casie_doc_free(d);
    }
    return failures ? 1 : 0;
}
