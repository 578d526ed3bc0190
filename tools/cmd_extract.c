/*
 * cmd_extract.c - `casie extract`: articles in, CASIE JSON (or a readable
 * listing) out.
 */
#include "cli_io.h"
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct ctx {
    const casie_model *m;
    casie_extract_params p;
    const char *given; /* gold directory for --given-triggers */
    const char *outdir;
    int format;        /* 0 json, 1 text */
    int pretty;        /* one document: indented JSON */
    long record;       /* JSONL line of the current document, 0 for a whole file */
    int scores;
    long docs, failed;
} ctx;

static int usage(FILE *f) {
    fprintf(f, "usage: casie extract [-m MODEL] [options] [FILE...]\n"
               "  Reads plain text, CASIE source files, CASIE JSON or JSONL records (stdin when no FILE)\n"
               "  and writes CASIE JSON: one document indented, several as JSONL.\n"
               "  -m MODEL               model file (default: the bundled models/casie-default.model)\n"
               "  --format json|text     text: a readable listing of the events\n"
               "  --jsonl                read every input as JSONL\n"
               "  --no-scores            leave out the score fields\n"
               "  --trigger-threshold X  keep triggers scoring at least X (0..1, default 0)\n"
               "  --arg-threshold X      keep arguments scoring at least X (0..1, default 0)\n"
               "  --given-triggers DIR   keep the gold triggers of DIR/<id>.json and predict the rest\n"
               "  -o DIR                 write DIR/<id>.json per document instead of stdout\n");
    return f == stdout ? 0 : 2;
}

static void print_text(const casie_doc *d) {
    int nev = 0;
    for (int h = 0; h < d->n_hoppers; h++) nev += d->hoppers[h].n_events;
    printf("== %s%s%s%s: %d events in %d hoppers\n", d->id ? d->id : "document", d->title ? " \"" : "",
           d->title ? d->title : "", d->title ? "\"" : "", nev, d->n_hoppers);
    for (int h = 0; h < d->n_hoppers; h++) {
        printf("hopper %d\n", h + 1);
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            printf("  %s.%s (%s)  \"%s\"  [%d,%d)", casie_event_type_name(e->subtype), casie_subtype_name(e->subtype),
                   casie_realis_name(e->realis), e->text ? e->text : "", e->start, e->end);
            if (e->score >= 0) printf("  score %.2f", e->score);
            printf("\n");
            for (int a = 0; a < e->n_args; a++) {
                const casie_arg *g = &e->args[a];
                printf("      %-26s %-14s \"%s\"  [%d,%d)", casie_role_name(g->role), casie_entity_name(g->entity),
                       g->text ? g->text : "", g->start, g->end);
                if (g->score >= 0) printf("  %.2f", g->score);
                printf("\n");
            }
        }
    }
}

static void put_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

/* An error record keeps a failed input's place in JSONL output. */
static void print_error_record(const char *where, const char *msg) {
    fputs("{\"id\":", stdout);
    put_json_string(where);
    fputs(",\"error\":", stdout);
    put_json_string(msg);
    fputs("}\n", stdout);
}

/* Loads the gold document for --given-triggers. */
static casie_doc *load_given(const char *dir, const char *id, casie_error *err) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/annotation/%s.json", dir, id);
    if (stat(path, &st) != 0) snprintf(path, sizeof path, "%s/%s.json", dir, id);
    return casie_doc_load(path, err);
}

static int emit(ctx *c, const char *where, casie_doc *doc) {
    casie_error err = {0};
    if (c->outdir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.json", c->outdir, doc->id ? doc->id : "document");
        size_t len;
        char *js = casie_doc_to_json(doc, c->scores ? CASIE_JSON_SCORES : 0, &len, &err);
        FILE *f = js ? fopen(path, "wb") : NULL;
        int ok = f && fwrite(js, 1, len, f) == len && fputc('\n', f) != EOF;
        if (f && fclose(f) != 0) ok = 0;
        casie_free(js);
        if (!ok) {
            fprintf(stderr, "casie extract: %s: %s\n", js ? path : where, js ? strerror(errno) : err.message);
            return 1;
        }
        return 0;
    }
    if (c->format == 1) {
        print_text(doc);
        return 0;
    }
    int flags = (c->scores ? CASIE_JSON_SCORES : 0) | (c->pretty && !c->record ? 0 : CASIE_JSON_COMPACT);
    size_t len;
    char *js = casie_doc_to_json(doc, flags, &len, &err);
    if (!js) {
        fprintf(stderr, "casie extract: %s: %s\n", where, err.message);
        return 1;
    }
    fwrite(js, 1, len, stdout);
    fputc('\n', stdout);
    casie_free(js);
    return 0;
}

static int on_doc(void *user, const char *where, long record, casie_doc *doc, const casie_error *rerr) {
    ctx *c = user;
    casie_error err = {0};
    c->docs++;
    if (!doc) {
        fprintf(stderr, "casie extract: %s\n", rerr && rerr->message[0] ? rerr->message : where);
        if (!c->outdir && c->format == 0) { /* keep the record's place in the output */
            print_error_record(where, rerr ? rerr->message : "read failed");
        }
        c->failed++;
        return 1;
    }
    c->record = record;
    int bad = 0;
    if (c->given) {
        casie_doc *g = load_given(c->given, doc->id ? doc->id : "", &err);
        if (!g) {
            fprintf(stderr, "casie extract: --given-triggers: %s\n", err.message);
            bad = 1;
        } else {
            casie_doc_free(doc);
            doc = g;
        }
    }
    if (!bad && casie_extract(c->m, doc, &c->p, &err)) {
        fprintf(stderr, "casie extract: %s: %s\n", where, err.message);
        bad = 1;
    }
    if (!bad) bad = emit(c, where, doc);
    c->failed += bad;
    casie_doc_free(doc);
    return bad;
}

int cmd_extract(int argc, char **argv) {
    ctx c = {0};
    c.p = casie_extract_default_params();
    c.scores = 1;
    const char *model = NULL;
    int force_jsonl = 0, nfiles = 0;
    char **files = calloc((size_t)argc + 1, sizeof(char *));
    if (!files) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--format") ||
                    !strcmp(a, "--trigger-threshold") || !strcmp(a, "--arg-threshold") ||
                    !strcmp(a, "--given-triggers") || !strcmp(a, "-o");
        if (takes && !v) {
            fprintf(stderr, "casie extract: %s needs a value\n", a);
            free(files);
            return usage(stderr);
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            free(files);
            return usage(stdout);
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--format")) {
            if (strcmp(v, "json") && strcmp(v, "text")) {
                fprintf(stderr, "casie extract: --format is json or text, not '%s'\n", v);
                free(files);
                return 2;
            }
            c.format = !strcmp(v, "text");
        } else if (!strcmp(a, "--trigger-threshold")) c.p.trigger_threshold = strtof(v, NULL);
        else if (!strcmp(a, "--arg-threshold")) c.p.argument_threshold = strtof(v, NULL);
        else if (!strcmp(a, "--given-triggers")) c.given = v, c.p.given_triggers = 1;
        else if (!strcmp(a, "-o")) c.outdir = v;
        else if (!strcmp(a, "--jsonl")) force_jsonl = 1;
        else if (!strcmp(a, "--no-scores")) c.scores = 0;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "casie extract: unknown option %s\n", a);
            free(files);
            return usage(stderr);
        } else files[nfiles++] = argv[i];
        if (takes) i++;
    }
    casie_error err = {0};
    if (!model) model = cli_default_model();
    casie_model *m = casie_model_load(model, &err);
    if (!m) {
        free(files);
        return cli_fail(&err);
    }
    if (c.outdir && mkdir(c.outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "casie extract: %s: %s\n", c.outdir, strerror(errno));
        casie_model_free(m);
        free(files);
        return 1;
    }
    c.m = m;
    c.pretty = nfiles <= 1 && !force_jsonl;
    cli_for_each_input(nfiles, files, force_jsonl, on_doc, &c);
    casie_model_free(m);
    free(files);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "casie extract: writing output: %s\n", strerror(errno));
        return 1;
    }
    if (c.failed) fprintf(stderr, "casie extract: %ld of %ld documents failed\n", c.failed, c.docs);
    return c.failed ? 1 : 0;
}
