/*
 * cmd_extract.c - `casie extract`: articles in, CASIE JSON (or a readable
 * listing) out.
 *
 * Input streams through a bounded batch of jobs: the main thread reads up to
 * BATCH records, N worker threads extract them, and the main thread writes the
 * results in input order.  Memory is bounded by the batch, not the input.  A
 * record that fails becomes an error record in the output and a message on
 * stderr; nothing is dropped silently.
 */
#include "cli_io.h"
#include "cmd.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

typedef struct ctx {
    const casie_model *m;
    casie_extract_params p;
    const char *given; /* gold directory for --given-triggers */
    const char *outdir;
    int format;        /* 0 json, 1 text, 2 stix */
    int pretty;        /* a single whole-file document: indented JSON */
    int scores;
    int threads;
    long docs, failed;
    int progress;      /* stderr is a terminal */
    struct timespec t0, last;
} ctx;

/* One input document and what became of it. */
typedef struct job {
    char *buf;      /* the input bytes (owned) */
    size_t len;
    char where[512];/* file, or file:line */
    long record;    /* JSONL line, 0 for a whole file */
    char *out;      /* what goes to stdout (owned), may be NULL */
    size_t out_len;
    char *js;       /* then this document's JSON and a newline (owned, not copied), may be NULL */
    size_t js_len;
    char msg[600];  /* what goes to stderr when failed */
    int failed;
} job;

static int usage(FILE *f) {
    fprintf(f, "usage: casie extract [-m MODEL] [options] [FILE...]\n"
               "  Reads plain text, CASIE source files, CASIE JSON or JSONL records (stdin when no FILE)\n"
               "  and writes CASIE JSON: one document indented, several as JSONL in input order.\n"
               "  -m MODEL               model file (default: the bundled models/casie-default.model)\n"
               "  --format json|text|stix  text: a readable listing; stix: a STIX 2.1 bundle per document\n"
               "  --jsonl                read every input as JSONL records ({\"id\":..., \"text\":...})\n"
               "  --threads N            worker threads (default: the number of processors, at most 8)\n"
               "  --no-scores            leave out the score fields\n"
               "  --trigger-threshold X  keep triggers scoring at least X (0..1, default 0)\n"
               "  --arg-threshold X      keep arguments scoring at least X (0..1, default 0)\n"
               "  --given-triggers DIR   keep the gold triggers of DIR/<id>.json and predict the rest\n"
               "  -o DIR                 write DIR/<id>.json per document instead of stdout\n"
               "A record that cannot be read or extracted is reported on stderr and written as\n"
               "{\"id\": ..., \"error\": ...}; the exit status is then 1.\n");
    return f == stdout ? 0 : 2;
}

static void print_text(FILE *f, const casie_doc *d) {
    int nev = 0;
    for (int h = 0; h < d->n_hoppers; h++) nev += d->hoppers[h].n_events;
    fprintf(f, "== %s%s%s%s: %d events in %d hoppers\n", d->id ? d->id : "document", d->title ? " \"" : "",
            d->title ? d->title : "", d->title ? "\"" : "", nev, d->n_hoppers);
    for (int h = 0; h < d->n_hoppers; h++) {
        fprintf(f, "hopper %d\n", h + 1);
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            fprintf(f, "  %s.%s (%s)  \"%s\"  [%d,%d)", casie_event_type_name(e->subtype),
                    casie_subtype_name(e->subtype), casie_realis_name(e->realis), e->text ? e->text : "", e->start,
                    e->end);
            if (e->score >= 0) fprintf(f, "  score %.2f", e->score);
            fprintf(f, "\n");
            for (int a = 0; a < e->n_args; a++) {
                const casie_arg *g = &e->args[a];
                fprintf(f, "      %-26s %-14s \"%s\"  [%d,%d)", casie_role_name(g->role), casie_entity_name(g->entity),
                        g->text ? g->text : "", g->start, g->end);
                if (g->score >= 0) fprintf(f, "  %.2f", g->score);
                fprintf(f, "\n");
            }
        }
    }
}

/* Appends s as a JSON string to f. */
static void put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* Loads the gold document for --given-triggers. */
static casie_doc *load_given(const char *dir, const char *id, casie_error *err) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%.3000s/annotation/%.500s.json", dir, id);
    if (stat(path, &st) != 0) snprintf(path, sizeof path, "%.3000s/%.500s.json", dir, id);
    return casie_doc_load(path, err);
}

/* Parses a whole-file input by its content (JSON, source file or text). */
static casie_doc *parse_whole(const job *j, casie_error *err) {
    size_t i = 0;
    const char *b = j->buf;
    while (i < j->len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
    size_t nl = strlen(j->where);
    if ((nl > 5 && !strcmp(j->where + nl - 5, ".json")) || (i < j->len && b[i] == '{'))
        return casie_doc_from_json(b, j->len, j->where, err);
    /* a CASIE source file: some start with <source> or <date>, some have <title attr=...> */
    if (j->len - i >= 6 && (!strncmp(b + i, "<title", 6) || !strncmp(b + i, "<text>", 6) ||
                            !strncmp(b + i, "<source>", 8) || !strncmp(b + i, "<date>", 6)))
        return casie_doc_from_source(b, j->len, j->where, err);
    const char *base = strrchr(j->where, '/');
    char id[256];
    snprintf(id, sizeof id, "%.200s", !strcmp(j->where, "<stdin>") ? "stdin" : base ? base + 1 : j->where);
    char *dot = strrchr(id, '.');
    if (dot && dot != id) *dot = 0;
    return casie_doc_from_text(b, j->len, id, err);
}

/* Runs one job: parse, extract, format.  Thread-safe (touches only j). */
static void run_job(const ctx *c, job *j) {
    casie_error err = {0};
    casie_doc *doc = j->record ? casie_doc_from_json(j->buf, j->len, j->where, &err) : parse_whole(j, &err);
    if (doc && c->given) {
        casie_doc *g = load_given(c->given, doc->id ? doc->id : "", &err);
        casie_doc_free(doc);
        doc = g;
        if (!g) {
            char tmp[sizeof err.message];
            memcpy(tmp, err.message, sizeof tmp);
            snprintf(err.message, sizeof err.message, "--given-triggers: %.200s", tmp);
        }
    }
    if (doc && casie_extract(c->m, doc, &c->p, &err)) {
        casie_doc_free(doc);
        doc = NULL;
    }
    FILE *f = open_memstream(&j->out, &j->out_len);
    if (!f) {
        j->failed = 1;
        snprintf(j->msg, sizeof j->msg, "%.500s: out of memory", j->where);
        casie_doc_free(doc);
        return;
    }
    if (!doc) {
        j->failed = 1;
        snprintf(j->msg, sizeof j->msg, "%s", err.message[0] ? err.message : "failed");
        if (!c->outdir && c->format == 0) { /* the record keeps its place in the output */
            fputs("{\"id\":", f);
            put_json_string(f, j->where);
            fputs(",\"error\":", f);
            put_json_string(f, j->msg);
            fputs("}\n", f);
        }
    } else if (c->outdir) {
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%.3000s/%.500s.json", c->outdir, doc->id ? doc->id : "document");
        char *js = c->format == 2 ? casie_doc_to_stix(doc, 0, &len, &err)
                                  : casie_doc_to_json(doc, c->scores ? CASIE_JSON_SCORES : 0, &len, &err);
        FILE *o = js ? fopen(path, "wb") : NULL;
        int ok = o && fwrite(js, 1, len, o) == len && fputc('\n', o) != EOF;
        if (o && fclose(o) != 0) ok = 0;
        if (!ok) {
            j->failed = 1;
            snprintf(j->msg, sizeof j->msg, "%.300s: %.250s", js ? path : j->where, js ? strerror(errno) : err.message);
        }
        casie_free(js);
    } else if (c->format == 1) {
        print_text(f, doc);
    } else {
        int flags = (c->scores ? CASIE_JSON_SCORES : 0) | (c->pretty && !j->record ? 0 : CASIE_JSON_COMPACT);
        size_t len = 0;
        char *js = c->format == 2 ? casie_doc_to_stix(doc, flags & CASIE_JSON_COMPACT, &len, &err)
                                  : casie_doc_to_json(doc, flags, &len, &err);
        if (!js) {
            j->failed = 1;
            snprintf(j->msg, sizeof j->msg, "%.300s: %.250s", j->where, err.message);
        }
        j->js = js; /* kept as it is: a copy would double the memory of a large document */
        j->js_len = len;
    }
    if (fclose(f) != 0 && !j->failed) {
        j->failed = 1;
        snprintf(j->msg, sizeof j->msg, "%.500s: out of memory", j->where);
    }
    casie_doc_free(doc);
}

/* ---- the batch ---- */

typedef struct batch {
    ctx *c;
    job jobs[BATCH];
    int n;
    atomic_int next;
} batch;

static void *worker(void *arg) {
    batch *b = arg;
    for (;;) {
        int i = atomic_fetch_add(&b->next, 1);
        if (i >= b->n) return NULL;
        run_job(b->c, &b->jobs[i]);
    }
}

static double since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Runs the jobs of b on the worker threads, writes the results in order and
 * empties the batch.  Returns -1 when stdout cannot be written. */
static int flush_batch(batch *b) {
    ctx *c = b->c;
    if (!b->n) return 0;
    atomic_store(&b->next, 0);
    int nt = c->threads < b->n ? c->threads : b->n;
    pthread_t th[64];
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, worker, b) == 0) started++;
    worker(b);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    int rc = 0;
    for (int i = 0; i < b->n; i++) {
        job *j = &b->jobs[i];
        c->docs++;
        if (j->failed) {
            c->failed++;
            fprintf(stderr, "casie extract: %s\n", j->msg);
        }
        if (j->out_len && fwrite(j->out, 1, j->out_len, stdout) != j->out_len) rc = -1;
        if (j->js && (fwrite(j->js, 1, j->js_len, stdout) != j->js_len || putchar('\n') == EOF)) rc = -1;
        free(j->out);
        casie_free(j->js);
        free(j->buf);
        memset(j, 0, sizeof *j);
    }
    b->n = 0;
    if (fflush(stdout) != 0) rc = -1;
    if (c->progress && since(&c->last) >= 1.0) {
        clock_gettime(CLOCK_MONOTONIC, &c->last);
        fprintf(stderr, "\rcasie extract: %ld records, %.1f records/s   ", c->docs, (double)c->docs / since(&c->t0));
    }
    return rc;
}

/* Queues one input; flushes the batch when full. */
static int add_job(batch *b, char *buf, size_t len, const char *where, long record) {
    job *j = &b->jobs[b->n++];
    j->buf = buf;
    j->len = len;
    j->record = record;
    if (record) snprintf(j->where, sizeof j->where, "%.480s:%ld", where, record);
    else snprintf(j->where, sizeof j->where, "%.500s", where);
    return b->n == BATCH ? flush_batch(b) : 0;
}

/* Adds a job that failed before parsing (unreadable file). */
static int add_failed(batch *b, const char *where, const char *msg) {
    int rc = b->n ? flush_batch(b) : 0;
    ctx *c = b->c;
    c->docs++;
    c->failed++;
    fprintf(stderr, "casie extract: %s\n", msg);
    if (!c->outdir && c->format == 0) {
        fputs("{\"id\":", stdout);
        put_json_string(stdout, where);
        fputs(",\"error\":", stdout);
        put_json_string(stdout, msg);
        fputs("}\n", stdout);
    }
    return rc;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

/* A line that is a whole JSON object: the input is JSONL. */
static int is_record_line(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    while (n > i && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return n - i >= 2 && s[i] == '{' && s[n - 1] == '}';
}

/* Streams one input: JSONL line by line, anything else as one document. */
static int read_input(batch *b, FILE *f, const char *name, int force_jsonl) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    size_t nlen = strlen(name);
    int jsonl = force_jsonl || (nlen > 6 && !strcmp(name + nlen - 6, ".jsonl"));
    /* the first non-blank line decides when the name does not */
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (!is_blank(line, (size_t)n)) break;
    }
    if (n < 0) { /* empty or all blank: one empty document */
        free(line);
        if (ferror(f)) return add_failed(b, name, strerror(errno));
        char *empty = calloc(1, 1);
        return empty ? add_job(b, empty, 0, name, 0) : -1;
    }
    if (jsonl || is_record_line(line, (size_t)n)) {
        do {
            if (is_blank(line, (size_t)n)) continue;
            char *rec = malloc((size_t)n + 1);
            if (!rec) {
                rc = add_failed(b, name, "out of memory");
                continue;
            }
            memcpy(rec, line, (size_t)n + 1);
            if ((rc = add_job(b, rec, (size_t)n, name, lineno)) < 0) break;
        } while ((n = getline(&line, &cap, f)) >= 0 && ++lineno);
        free(line);
        if (rc == 0 && ferror(f)) rc = add_failed(b, name, strerror(errno));
        return rc;
    }
    /* one whole document: the first line and the rest */
    casie_error err = {0};
    size_t rest_len;
    char *rest = cli_read_stream(f, name, &rest_len, &err);
    if (!rest) {
        free(line);
        return add_failed(b, name, err.message);
    }
    char *all = malloc((size_t)n + rest_len + 1);
    if (!all) {
        free(line);
        free(rest);
        return add_failed(b, name, "out of memory");
    }
    memcpy(all, line, (size_t)n);
    memcpy(all + n, rest, rest_len + 1);
    free(line);
    free(rest);
    return add_job(b, all, (size_t)n + rest_len, name, 0);
}

int cmd_extract(int argc, char **argv) {
    static batch b; /* large: not on the stack */
    ctx c = {0};
    c.p = casie_extract_default_params();
    c.scores = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c.threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
    const char *model = NULL;
    int force_jsonl = 0, nfiles = 0;
    char **files = calloc((size_t)argc + 1, sizeof(char *));
    if (!files) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--format") ||
                    !strcmp(a, "--trigger-threshold") || !strcmp(a, "--arg-threshold") ||
                    !strcmp(a, "--given-triggers") || !strcmp(a, "-o") || !strcmp(a, "--threads");
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
            if (strcmp(v, "json") && strcmp(v, "text") && strcmp(v, "stix")) {
                fprintf(stderr, "casie extract: --format is json, text or stix, not '%s'\n", v);
                free(files);
                return 2;
            }
            c.format = !strcmp(v, "text") ? 1 : !strcmp(v, "stix") ? 2 : 0;
        } else if (!strcmp(a, "--trigger-threshold") || !strcmp(a, "--arg-threshold")) {
            char *end;
            float x = strtof(v, &end);
            if (*end || !(x >= 0 && x <= 1)) {
                fprintf(stderr, "casie extract: %s takes a number from 0 to 1, not '%s'\n", a, v);
                free(files);
                return 2;
            }
            if (a[2] == 't') c.p.trigger_threshold = x;
            else c.p.argument_threshold = x;
        } else if (!strcmp(a, "--threads")) {
            c.threads = atoi(v);
            if (c.threads < 1 || c.threads > 64) {
                fprintf(stderr, "casie extract: --threads takes 1..64, not '%s'\n", v);
                free(files);
                return 2;
            }
        } else if (!strcmp(a, "--given-triggers")) c.given = v, c.p.given_triggers = 1;
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
    c.progress = isatty(2);
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    c.last = c.t0;
    b.c = &c;
    int rc = 0;
    if (nfiles == 0) rc = read_input(&b, stdin, "<stdin>", force_jsonl);
    for (int i = 0; i < nfiles && rc == 0; i++) {
        FILE *f = strcmp(files[i], "-") ? fopen(files[i], "rb") : stdin;
        if (!f) {
            char msg[600];
            snprintf(msg, sizeof msg, "%.400s: %.150s", files[i], strerror(errno));
            rc = add_failed(&b, files[i], msg);
            continue;
        }
        rc = read_input(&b, f, strcmp(files[i], "-") ? files[i] : "<stdin>", force_jsonl);
        if (f != stdin) fclose(f);
    }
    if (rc == 0) rc = flush_batch(&b);
    for (int i = 0; i < b.n; i++) { /* left over after a write error */
        free(b.jobs[i].buf);
        free(b.jobs[i].out);
        casie_free(b.jobs[i].js);
    }
    casie_model_free(m);
    free(files);
    if (c.progress && c.docs > 0) fprintf(stderr, "\n");
    if (rc < 0 || fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE) /* a reader that went away: quietly */
            fprintf(stderr, "casie extract: writing output: %s\n", strerror(errno ? errno : EIO));
        return 1;
    }
    if (c.failed || c.docs > 1)
        fprintf(stderr, "casie extract: %ld record%s, %ld failed\n", c.docs, c.docs == 1 ? "" : "s", c.failed);
    return c.failed ? 1 : 0;
}
