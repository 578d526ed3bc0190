/*
 * cmd_extract.c - `casie extract`: articles in, CASIE JSON (or a readable
 * listing) out.
 *
 * Input streams through a bounded batch of jobs: the main thread reads up to
 * BATCH records, N worker threads extract them, and the main thread writes the
 * results in input order.  Memory is bounded by the batch, not the input.  A
 * record that fails becomes an error record in the output and a message on
 * stderr; nothing is dropped silently.
 *
 * With -o DIR each worker writes its document to a temporary file in DIR
 * (out_dir.c), and the main thread names the files in input order, so that
 * the names a run gives never depend on the thread count.
 *
 * --format stix writes one bundle of every document (to stdout, or to
 * DIR/bundle.json with -o): the workers keep each document, and the main
 * thread adds them to the bundle in input order (casie_stix_add), so that a
 * CVE id or a catalogue group named by several articles is one object.
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"
#include "out_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

/* --input-format: what each input is (IN_AUTO: judged by its name and first line). */
enum { IN_AUTO, IN_TEXT, IN_JSON, IN_JSONL, IN_SOURCE };
static const char *const IN_NAMES[] = {"auto", "text", "json", "jsonl", "source"};

typedef struct ctx {
    const casie_model *m;
    casie_extract_params p;
    const char *given; /* gold directory for --given-triggers */
    int given_fd;      /* ... opened once */
    const char *outdir;
    out_dir *od;      /* ... opened once */
    casie_stix *stix; /* --format stix: the one bundle */
    int format;       /* 0 json, 1 text, 2 stix */
    int pretty;       /* a single whole-file document: indented JSON */
    int scores;
    int threads;
    long docs, failed;
    int progress; /* stderr is a terminal */
    struct timespec t0, last;
} ctx;

/* One input document and what became of it. */
typedef struct job {
    char *buf; /* the input bytes (owned) */
    size_t len;
    char where[512]; /* file, or file:line */
    long record;     /* JSONL line, 0 for a whole file */
    int in_fmt;      /* IN_* (IN_AUTO: by its content) */
    char *out;       /* what goes to stdout (owned), may be NULL */
    size_t out_len;
    char *js; /* then this document's JSON and a newline (owned, not copied), may be NULL */
    size_t js_len;
    char msg[600]; /* what goes to stderr when failed */
    int failed;
    char tmp[64];   /* -o: the temporary file written, to be named in input order */
    char *name_id;  /* ... and the id it is named after (owned) */
    casie_doc *doc; /* --format stix: the document, for the bundle (owned) */
} job;

static void print_text(FILE *f, const casie_doc *d) {
    int nev = 0;
    for (int h = 0; h < d->n_hoppers; h++)
        nev += d->hoppers[h].n_events;
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
                char role[160]; /* the role, and its category beside it when it has one */
                snprintf(role, sizeof role, g->category ? "%s [%s]" : "%s", casie_role_name(g->role), g->category);
                fprintf(f, "      %-26s %-14s \"%s\"  [%d,%d)", role, casie_entity_name(g->entity),
                        g->text ? g->text : "", g->start, g->end);
                if (g->score >= 0) fprintf(f, "  %.2f", g->score);
                fprintf(f, "\n");
            }
        }
    }
}

/* The record that keeps a failed input's place in the JSON output. */
static void put_error_record(FILE *f, const char *id, const char *msg) {
    size_t n = 0;
    char *rec = casie_error_to_json(id, msg, &n);
    if (rec)
        fwrite(rec, 1, n, f);
    else
        fputs("{\"error\":\"out of memory\"}", f);
    fputc('\n', f);
    casie_free(rec);
}

/* Opens DIR/rel for --given-triggers without leaving DIR: no component may
 * be a link (O_NOFOLLOW at each step), and only a regular file is read (a
 * FIFO would block: O_NONBLOCK, then the type is checked).  -1 with errno
 * set (ELOOP for a link, EINVAL for a file that is not regular). */
static int open_given(int dir_fd, const char *sub, const char *file) {
    int d = dir_fd;
    if (sub && (d = openat(dir_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) return -1;
    int fd = openat(d, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), e = errno;
    if (d != dir_fd) close(d);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1, e = EINVAL;
    }
    if (fd >= 0) fcntl(fd, F_SETFL, 0); /* a regular file: plain blocking reads */
    errno = e;
    return fd;
}

/* Loads the gold document for --given-triggers: DIR/annotation/ID.json, else
 * DIR/ID.json, opened under DIR's descriptor.  The id must be a plain file
 * name (its out_name is itself), so that it cannot lead out of DIR. */
static casie_doc *load_given(const ctx *c, const char *id, casie_error *err) {
    char name[OUT_NAME_MAX + 1], rel[OUT_NAME_MAX + 32], shown[160];
    size_t n = strlen(id);
    int hashed;
    if (!n || out_name(id, n, name, sizeof name, &hashed) != (int)n || hashed || memcmp(name, id, n)) {
        err->code = CASIE_ERR_INVALID_ARG;
        snprintf(err->message, sizeof err->message,
                 "the id \"%s\" is not a plain file name (A-Z a-z 0-9 _ - ., not starting with .)",
                 cli_printable(id, shown, sizeof shown));
        return NULL;
    }
    snprintf(rel, sizeof rel, "%s.json", name);
    int fd = open_given(c->given_fd, "annotation", rel), annotation = 1;
    if (fd < 0 && errno == ENOENT) fd = open_given(c->given_fd, NULL, rel), annotation = 0;
    char where[600];
    snprintf(where, sizeof where, "%.300s/%s%s", c->given, annotation ? "annotation/" : "", rel);
    if (fd < 0) {
        err->code = CASIE_ERR_IO;
        snprintf(err->message, sizeof err->message, "%.200s: %s", where,
                 errno == ELOOP || errno == ENOTDIR ? "a link (not followed)"
                 : errno == EINVAL                  ? "not a regular file"
                                                    : strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        err->code = CASIE_ERR_NOMEM;
        snprintf(err->message, sizeof err->message, "%.200s: %s", where, strerror(errno));
        return NULL;
    }
    size_t len;
    char *buf = cli_read_bounded(f, where, CLI_MAX_DOC_BYTES, &len, err);
    fclose(f);
    if (!buf) return NULL;
    casie_doc *d = casie_doc_from_json(buf, len, where, err);
    free(buf);
    return d;
}

/* The gold document g stands in for the input doc: only when their texts
 * are the same (else its offsets mean other characters, and the output
 * would be another document's); it takes the input's id.  Frees doc; NULL
 * with err set when they differ. */
static casie_doc *given_for(casie_doc *doc, casie_doc *g, casie_error *err) {
    if (g && (g->text_len != doc->text_len || memcmp(g->text, doc->text, doc->text_len))) {
        err->code = CASIE_ERR_INVALID_ARG;
        snprintf(err->message, sizeof err->message,
                 "the gold file of \"%.100s\" has another text (%zu bytes, the input %zu)", doc->id ? doc->id : "",
                 g->text_len, doc->text_len);
        casie_doc_free(g);
        g = NULL;
    }
    if (g) {
        char *t = g->id;
        g->id = doc->id, doc->id = t;
        g->id_is_integer = doc->id_is_integer;
    }
    casie_doc_free(doc);
    return g;
}

/* A document read as plain text is named after its input: "dir/a.txt" -> "a". */
static void id_from_input(const char *where, char *id, size_t cap) {
    const char *base = strrchr(where, '/');
    snprintf(id, cap, "%.200s", !strcmp(where, "<stdin>") ? "stdin" : base ? base + 1 : where);
    char *dot = strrchr(id, '.');
    if (dot && dot != id) *dot = 0;
}

/* The length of a UTF-8 byte-order mark at b (0 or 3). */
static size_t bom(const char *b, size_t len) { return len >= 3 && !memcmp(b, "\xEF\xBB\xBF", 3) ? 3 : 0; }

/* Parses a whole-file input: as its --input-format says, else by its content
 * (JSON, source file or text). */
static casie_doc *parse_whole(const job *j, casie_error *err) {
    const char *b = j->buf;
    char id[256];
    int fmt = j->in_fmt;
    if (fmt == IN_AUTO) { /* as casie_doc_load tells */
        int k = casie_doc_detect_format(b, j->len, j->where);
        fmt = k == CASIE_INPUT_JSON ? IN_JSON : k == CASIE_INPUT_SOURCE ? IN_SOURCE : IN_TEXT;
    }
    if (fmt == IN_JSON) return casie_doc_from_json_opts(b, j->len, j->where, CASIE_READ_TEXT_ONLY, err);
    if (fmt == IN_SOURCE) return casie_doc_from_source(b, j->len, j->where, err);
    id_from_input(j->where, id, sizeof id);
    return casie_doc_from_text(b, j->len, id, err);
}

/* -o: the id a document's file is named after; one without an id (or with an
 * empty one) is named after its input, a JSONL record as FILE-LINE. */
static char *output_id(const job *j, const casie_doc *doc) {
    if (doc->id && doc->id[0]) return strdup(doc->id);
    char id[300], in[sizeof j->where];
    snprintf(in, sizeof in, "%s", j->where);
    char *colon = j->record ? strrchr(in, ':') : NULL;
    if (colon) *colon = 0;
    id_from_input(in, id, 256);
    if (!id[0]) snprintf(id, 256, "document");
    if (j->record) snprintf(id + strlen(id), sizeof id - strlen(id), "-%ld", j->record);
    return strdup(id);
}

/* Runs one job: parse, extract, format.  Thread-safe (touches only j, and
 * with -o creates one temporary file). */
static void run_job(const ctx *c, job *j) {
    casie_error err = {0};
    casie_doc *doc = j->record ? casie_doc_from_json_opts(j->buf, j->len, j->where, CASIE_READ_TEXT_ONLY, &err)
                               : parse_whole(j, &err);
    if (doc && c->given) {
        casie_doc *g = load_given(c, doc->id ? doc->id : "", &err);
        doc = g ? given_for(doc, g, &err) : (casie_doc_free(doc), NULL);
        if (!doc) {
            char tmp[sizeof err.message];
            memcpy(tmp, err.message, sizeof tmp);
            snprintf(err.message, sizeof err.message, "%.90s: --given-triggers: %.140s", j->where, tmp);
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
            put_error_record(f, j->where, j->msg);
        }
    } else if (c->format == 2) { /* added to the bundle in input order */
        j->doc = doc;
        doc = NULL;
    } else if (c->outdir) {
        size_t len = 0;
        char *js = NULL, *text = NULL;
        if (c->format == 1) { /* the listing, in a file of its own */
            FILE *t = open_memstream(&text, &len);
            if (t) print_text(t, doc);
            if (!t || fclose(t) != 0) {
                free(text);
                text = NULL;
                snprintf(err.message, sizeof err.message, "out of memory");
            }
        } else
            js = casie_doc_to_json(doc, c->scores ? CASIE_JSON_SCORES : 0, &len, &err);
        const char *body = js ? js : text;
        char wmsg[400];
        if (!body) {
            j->failed = 1;
            snprintf(j->msg, sizeof j->msg, "%.300s: %.250s", j->where, err.message);
        } else if (!(j->name_id = output_id(j, doc))) {
            j->failed = 1;
            snprintf(j->msg, sizeof j->msg, "%.500s: out of memory", j->where);
        } else if (out_dir_write_tmp(c->od, body, len, j->tmp, sizeof j->tmp, wmsg, sizeof wmsg)) {
            j->failed = 1;
            snprintf(j->msg, sizeof j->msg, "%.190s: %s", j->where, wmsg);
        }
        casie_free(js);
        free(text);
    } else if (c->format == 1) {
        print_text(f, doc);
    } else {
        int flags = (c->scores ? CASIE_JSON_SCORES : 0) | (c->pretty && !j->record ? 0 : CASIE_JSON_COMPACT);
        size_t len = 0;
        char *js = casie_doc_to_json(doc, flags, &len, &err);
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
    cli_trim_after(c->m, j->len); /* 100 dev articles on 2 threads, accurate model: 353 MB peak without */
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
    /* threads no document takes go into their encoders: the same output */
    c->p.threads = c->threads / nt;
    pthread_t th[64];
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, worker, b) == 0) started++;
    worker(b);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    int rc = 0;
    for (int i = 0; i < b->n; i++) {
        job *j = &b->jobs[i];
        c->docs++;
        if (j->tmp[0]) { /* -o: named here, in input order */
            char final[OUT_NAME_MAX + 32], msg[400];
            long k =
                out_dir_commit(c->od, j->tmp, j->name_id, strlen(j->name_id), final, sizeof final, msg, sizeof msg);
            if (k < 0) {
                j->failed = 1;
                snprintf(j->msg, sizeof j->msg, "%.190s: %s", j->where, msg);
            } else if (k > 0)
                fprintf(stderr, "casie extract: %.300s: its name is taken in this run; wrote %s\n", j->where, final);
        }
        casie_error err = {0};
        if (j->doc && casie_stix_add(c->stix, j->doc, &err)) {
            j->failed = 1;
            snprintf(j->msg, sizeof j->msg, "%.300s: %.250s", j->where, err.message);
        }
        casie_doc_free(j->doc);
        if (j->failed) {
            c->failed++;
            fprintf(stderr, "casie extract: %s\n", j->msg);
        }
        if (j->out_len && fwrite(j->out, 1, j->out_len, stdout) != j->out_len) rc = -1;
        if (j->js && (fwrite(j->js, 1, j->js_len, stdout) != j->js_len || putchar('\n') == EOF)) rc = -1;
        free(j->out);
        casie_free(j->js);
        free(j->buf);
        free(j->name_id);
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
static int add_job(batch *b, char *buf, size_t len, const char *where, long record, int in_fmt) {
    job *j = &b->jobs[b->n++];
    j->buf = buf;
    j->len = len;
    j->record = record;
    j->in_fmt = in_fmt;
    if (record)
        snprintf(j->where, sizeof j->where, "%.480s:%ld", where, record);
    else
        snprintf(j->where, sizeof j->where, "%.500s", where);
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
        put_error_record(stdout, where, msg);
    }
    return rc;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

/* A line that is a whole JSON object (after a byte-order mark): the input is JSONL. */
static int is_record_line(const char *s, size_t n) {
    size_t i = bom(s, n);
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (n > i && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n - i >= 2 && s[i] == '{' && s[n - 1] == '}';
}

/* Reads the rest of f as one document (after the first bytes already read,
 * owned by this call), at most CLI_MAX_DOC_BYTES in all. */
static int read_whole(batch *b, FILE *f, const char *name, int in_fmt, char *first, size_t first_len) {
    casie_error err = {0};
    size_t rest_len;
    char *rest = cli_read_bounded(f, name, CLI_MAX_DOC_BYTES - first_len, &rest_len, &err);
    if (!rest) {
        free(first);
        if (err.code == CASIE_ERR_LIMIT)
            snprintf(err.message, sizeof err.message, "%.200s: over the limit of %zu bytes for one document", name,
                     CLI_MAX_DOC_BYTES);
        return add_failed(b, name, err.message);
    }
    if (!first_len) {
        free(first);
        return add_job(b, rest, rest_len, name, 0, in_fmt);
    }
    char *all = malloc(first_len + rest_len + 1);
    if (!all) {
        free(first);
        free(rest);
        return add_failed(b, name, "out of memory");
    }
    memcpy(all, first, first_len);
    memcpy(all + first_len, rest, rest_len + 1);
    free(first);
    free(rest);
    return add_job(b, all, first_len + rest_len, name, 0, in_fmt);
}

/* The first byte after a byte-order mark and white space (left in f), with
 * the line breaks skipped counted in *lines. */
static int first_byte(FILE *f, long *lines) {
    int ch = getc(f);
    if (ch == 0xEF && getc(f) == 0xBB && getc(f) == 0xBF) ch = getc(f);
    for (; ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; ch = getc(f))
        if (ch == '\n') ++*lines;
    if (ch != EOF) ungetc(ch, f);
    return ch;
}

/* Streams one input: JSONL line by line, anything else as one document.
 * size: the input's size when it is a regular file, else -1.  Nothing over
 * CLI_MAX_DOC_BYTES is read whole: a file that size says is too large for one
 * document is refused before it is read (unless it is JSONL), a pipe when it
 * has given one byte more, a JSONL record when its line has. */
static int read_input(batch *b, FILE *f, const char *name, int fmt, long long size) {
    const size_t max = CLI_MAX_DOC_BYTES;
    char msg[600];
    size_t nlen = strlen(name);
    long lineno = 0;
    if (fmt == IN_AUTO && nlen > 6 && !strcmp(name + nlen - 6, ".jsonl")) fmt = IN_JSONL;
    if (size > (long long)max && fmt != IN_JSONL && (fmt != IN_AUTO || first_byte(f, &lineno) != '{')) {
        snprintf(msg, sizeof msg, "%.450s: %lld bytes, over the limit of %zu bytes for one document", name, size, max);
        return add_failed(b, name, msg);
    }
    if (fmt != IN_AUTO && fmt != IN_JSONL) return read_whole(b, f, name, fmt, NULL, 0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    /* the first non-blank line decides when the name does not */
    while ((n = cli_read_line(f, &line, &cap, max)) != -1) {
        lineno++;
        if (n < 0 || !is_blank(line, (size_t)n)) break;
    }
    if (n == -1) { /* empty or all blank: one empty document */
        free(line);
        if (ferror(f)) return add_failed(b, name, strerror(errno));
        char *empty = calloc(1, 1);
        return empty ? add_job(b, empty, 0, name, 0, IN_AUTO) : -1;
    }
    if (n == -3 || (n == -2 && fmt != IN_JSONL)) { /* a first line too long for a record or a document */
        free(line);
        if (n == -3)
            snprintf(msg, sizeof msg, "%.450s: out of memory", name);
        else
            snprintf(msg, sizeof msg, "%.450s: over the limit of %zu bytes for one document", name, max);
        return add_failed(b, name, msg);
    }
    if (fmt == IN_AUTO && !is_record_line(line, (size_t)n)) /* one whole document: the first line and the rest */
        return read_whole(b, f, name, IN_AUTO, line, (size_t)n);
    for (;;) {
        if (n == -2) { /* a record too long: reported, and the next one read */
            char where[520];
            cli_skip_line(f);
            snprintf(where, sizeof where, "%.480s:%ld", name, lineno);
            snprintf(msg, sizeof msg, "%s: over the limit of %zu bytes for one record", where, max);
            rc = add_failed(b, where, msg);
        } else if (n == -3) {
            rc = add_failed(b, name, "out of memory");
            break;
        } else if (!is_blank(line, (size_t)n)) {
            char *rec = malloc((size_t)n + 1);
            if (!rec)
                rc = add_failed(b, name, "out of memory");
            else {
                memcpy(rec, line, (size_t)n + 1);
                rc = add_job(b, rec, (size_t)n, name, lineno, IN_JSON);
            }
        }
        if (rc < 0 || (n = cli_read_line(f, &line, &cap, max)) == -1) break;
        lineno++;
    }
    free(line);
    if (rc == 0 && ferror(f)) rc = add_failed(b, name, strerror(errno));
    return rc;
}

/* What is left to read of a regular file, else -1. */
static long long input_size(FILE *f) {
    struct stat st;
    off_t at = ftello(f);
    return fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size - (at > 0 ? at : 0) : -1;
}

/* ---- the command line ---- */

/* What the options say. */
typedef struct extract_args {
    const char *model, *given, *outdir, *groups;
    int format; /* 0 json, 1 text, 2 stix */
    int in_fmt; /* IN_*, or -1 when not given */
    long threads;
    double trigger_threshold, arg_threshold;
    int force, no_scores;
} extract_args;

static int set_format(void *opts, const char *opt, const char *v) {
    static const char *const FORMATS[] = {"json", "text", "stix"};
    extract_args *a = opts;
    (void)opt;
    for (int k = 0; k < 3; k++)
        if (!strcmp(v, FORMATS[k])) {
            a->format = k;
            return 0;
        }
    fprintf(stderr, "casie extract: --format is json, text or stix, not '%s'\n", v);
    return 2;
}

/* --input-format NAME, or --jsonl: the same, given twice, is no conflict. */
static int set_input_format(void *opts, const char *opt, const char *v) {
    extract_args *a = opts;
    int k = 0;
    (void)opt;
    if (!v) /* --jsonl */
        k = IN_JSONL;
    else
        while (k <= IN_SOURCE && strcmp(v, IN_NAMES[k]))
            k++;
    if (k > IN_SOURCE) {
        fprintf(stderr, "casie extract: --input-format is auto, text, json, jsonl or source\n");
        return 2;
    }
    if (a->in_fmt >= 0 && a->in_fmt != k) {
        fprintf(stderr, "casie extract: --input-format %s and %s disagree\n", IN_NAMES[a->in_fmt], IN_NAMES[k]);
        return 2;
    }
    a->in_fmt = k;
    return 0;
}

static const cli_opt OPTIONS[] = {
    {"--model", "-m", "MODEL",
     "fast, accurate or a model file (default: accurate when its\n"
     "encoder is installed, else fast; $CASIE_MODEL sets another)",
     CLI_STRING(extract_args, model)},
    {"--format", NULL, "json|text|stix", "text: a readable listing; stix: one STIX 2.1 bundle of every document",
     CLI_CALL(set_format)},
    {"--groups", NULL, "FILE",
     "with --format stix: the threat-group catalogue (default: casie-groups.tsv\n"
     "beside the models, when there; none: without)",
     CLI_STRING(extract_args, groups)},
    {"--input-format", NULL, "auto|text|json|jsonl|source",
     "what each input is (default auto: a .json or .jsonl name, a first line\n"
     "that is a JSON object, a CASIE source header, else plain text)",
     CLI_CALL(set_input_format)},
    {"--jsonl", NULL, NULL, "the same as --input-format jsonl: JSONL records ({\"id\":..., \"text\":...})",
     CLI_CALL(set_input_format)},
    {"--threads", NULL, "N",
     "worker threads, 1 to 64 (default: the number of processors, at most 8); with\n"
     "fewer documents than threads, each document's encoder takes the rest",
     CLI_LONG(extract_args, threads, 1, 64)},
    {"--no-scores", NULL, NULL, "leave out the score fields", CLI_FLAG(extract_args, no_scores)},
    {"--trigger-threshold", NULL, "X", "keep triggers scoring at least X (0..1, default 0)",
     CLI_DOUBLE(extract_args, trigger_threshold, 0, 1)},
    {"--arg-threshold", NULL, "X", "keep arguments scoring at least X (0..1, default 0)",
     CLI_DOUBLE(extract_args, arg_threshold, 0, 1)},
    {"--given-triggers", NULL, "DIR",
     "keep the gold triggers of DIR/annotation/ID.json (or DIR/ID.json)\n"
     "and predict the rest; ID must be a plain file name",
     CLI_STRING(extract_args, given)},
    {"-o", NULL, "DIR",
     "write DIR/NAME.json (.txt with --format text) per document, not stdout\n"
     "(--format stix: DIR/bundle.json)",
     CLI_STRING(extract_args, outdir)},
    {"--force", NULL, NULL, "with -o: replace files already in DIR (never a symbolic link)",
     CLI_FLAG(extract_args, force)},
};

static const cli_command EXTRACT = {
    .name = "extract",
    .synopsis = "usage: casie extract [-m MODEL] [options] [FILE...]\n"
                "  Reads plain text, CASIE source files, CASIE JSON or JSONL records (stdin when no FILE)\n"
                "  and writes CASIE JSON: one document indented, several as JSONL in input order.\n",
    .notes = "A record that cannot be read or extracted is reported on stderr and written as\n"
             "{\"id\": ..., \"error\": ...}; the exit status is then 1.  A document over 256 MiB is refused.\n"
             "With -o, NAME is the document's id with every byte other than A-Z a-z 0-9 _ - . (and a\n"
             "leading .) written as %XX; an id over 200 bytes so written is cut and ends in ~ and a hash.\n"
             "A document without an id is named after its input (FILE, or FILE-LINE for a JSONL record).\n"
             "A name given twice in one run becomes NAME-2, NAME-3, ... in input order, with a note on\n"
             "stderr.  A file already in DIR is not replaced without --force: the document fails.  Each\n"
             "file is written to a temporary file in DIR and renamed into place when complete.\n",
    CLI_TABLE(OPTIONS),
    .max_args = -1,
};

/* Writes the bundle of the documents extracted (none: nothing) to stdout,
 * or to DIR/bundle.json with -o.  -1 when stdout cannot be written; a file
 * that cannot be written counts as a failed record. */
static int write_bundle(ctx *c) {
    casie_error err = {0};
    size_t len = 0;
    if (c->docs == c->failed) return 0;
    char *js = casie_stix_write(c->stix, c->pretty ? 0 : CASIE_JSON_COMPACT, &len, &err), tmp[64], msg[400];
    char final[OUT_NAME_MAX + 32];
    int rc = 0;
    if (!js) {
        fprintf(stderr, "casie extract: %s\n", err.message);
        c->failed++;
    } else if (!c->outdir) {
        rc = fwrite(js, 1, len, stdout) != len || putchar('\n') == EOF ? -1 : 0;
    } else if (out_dir_write_tmp(c->od, js, len, tmp, sizeof tmp, msg, sizeof msg) ||
               out_dir_commit(c->od, tmp, "bundle", 6, final, sizeof final, msg, sizeof msg) < 0) {
        fprintf(stderr, "casie extract: -o %s\n", msg);
        c->failed++;
    }
    casie_free(js);
    return rc;
}

/* Reads the inputs (stdin when none) into the batch, in order; then what is
 * left of it.  Returns -1 when stdout cannot be written. */
static int read_inputs(batch *b, char **files, int nfiles, int in_fmt) {
    char msg[600];
    int rc = 0;
    if (nfiles == 0) rc = read_input(b, stdin, "<stdin>", in_fmt, input_size(stdin));
    for (int i = 0; i < nfiles && rc == 0; i++) {
        FILE *f = strcmp(files[i], "-") ? fopen(files[i], "rb") : stdin;
        struct stat st;
        if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
            fclose(f);
            f = NULL;
            errno = EISDIR;
        }
        if (!f) {
            snprintf(msg, sizeof msg, "%.400s: %.150s", files[i], strerror(errno));
            rc = add_failed(b, files[i], msg);
            continue;
        }
        rc = read_input(b, f, strcmp(files[i], "-") ? files[i] : "<stdin>", in_fmt, input_size(f));
        if (f != stdin) fclose(f);
    }
    return rc == 0 ? flush_batch(b) : rc;
}

int cmd_extract(int argc, char **argv) {
    static batch b; /* large: not on the stack */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    extract_args a = {.threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : ncpu, .in_fmt = -1};
    int nfiles, rc = cli_parse(&EXTRACT, argc, argv, &a, &nfiles);
    if (rc != CLI_GO_ON) return rc;
    if (a.force && !a.outdir) {
        fprintf(stderr, "casie extract: --force goes with -o DIR\n");
        return 2;
    }
    ctx c = {.p = casie_extract_default_params(),
             .given = a.given,
             .given_fd = -1,
             .outdir = a.outdir,
             .format = a.format,
             .scores = !a.no_scores,
             .threads = (int)a.threads};
    c.p.trigger_threshold = (float)a.trigger_threshold;
    c.p.argument_threshold = (float)a.arg_threshold;
    c.p.given_triggers = a.given != NULL;
    int in_fmt = a.in_fmt < 0 ? IN_AUTO : a.in_fmt;
    casie_model *m = NULL;
    casie_groups *groups = NULL;
    casie_error err = {0};
    char msg[600];
    int werr = -1; /* whether stdout failed; -1: the inputs were not read */
    /* the directories before the model: a bad one fails at once */
    if (c.given && (c.given_fd = open(c.given, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "casie extract: --given-triggers %.400s: %s\n", c.given, strerror(errno));
        goto out;
    }
    if (c.outdir && !(c.od = out_dir_open(c.outdir, c.format == 1 ? ".txt" : ".json", a.force, msg, sizeof msg))) {
        fprintf(stderr, "casie extract: -o %s\n", msg);
        goto out;
    }
    if (c.format == 2) { /* a catalogue asked for must load; the default one may be missing */
        groups = cli_load_groups(a.groups, &err);
        if ((!groups && a.groups && strcmp(a.groups, "none")) || (!groups && err.code && err.code != CASIE_ERR_IO)) {
            fprintf(stderr, "casie extract: --groups: %s\n", err.message);
            goto out;
        }
        if (!(c.stix = casie_stix_new(groups, &err))) {
            cli_fail(&err);
            goto out;
        }
        memset(&err, 0, sizeof err);
    }
    if (!(m = cli_load_model(a.model, &err))) {
        cli_fail(&err);
        goto out;
    }
    c.m = m;
    c.pretty = nfiles <= 1 && in_fmt != IN_JSONL;
    c.progress = isatty(2);
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    c.last = c.t0;
    b.c = &c;
    werr = read_inputs(&b, argv, nfiles, in_fmt) < 0;
    if (!werr && c.stix && write_bundle(&c) < 0) werr = 1;
out:
    for (int i = 0; i < b.n; i++) { /* left over after a write error */
        free(b.jobs[i].buf);
        free(b.jobs[i].out);
        free(b.jobs[i].name_id);
        casie_free(b.jobs[i].js);
        casie_doc_free(b.jobs[i].doc);
        if (c.od) out_dir_discard(c.od, b.jobs[i].tmp);
    }
    casie_model_free(m);
    casie_stix_free(c.stix);
    casie_groups_free(groups);
    if (c.given_fd >= 0) close(c.given_fd);
    int dir_failed = c.od && out_dir_close(c.od, msg, sizeof msg) != 0;
    if (dir_failed) fprintf(stderr, "casie extract: -o %s\n", msg);
    if (werr < 0) return 1;
    if (c.progress && c.docs > 0) fprintf(stderr, "\n");
    if (werr || fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE) /* a reader that went away: quietly */
            fprintf(stderr, "casie extract: writing output: %s\n", strerror(errno ? errno : EIO));
        return 1;
    }
    if (c.failed || c.docs > 1)
        fprintf(stderr, "casie extract: %ld record%s, %ld failed\n", c.docs, c.docs == 1 ? "" : "s", c.failed);
    return c.failed || dir_failed ? 1 : 0;
}
