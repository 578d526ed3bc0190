/*
 * cli_io.c - input helpers shared by the subcommands: reading documents from
 * files, stdin, JSON and JSONL, and finding the default model.
 */
#include "cli_io.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CASIE_DATADIR
#define CASIE_DATADIR "/usr/local/share/casie"
#endif

char *cli_read_stream(FILE *f, const char *name, size_t *len, casie_error *err) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) goto nomem;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= ((size_t)1 << 31)) {
                free(buf);
                snprintf(err->message, sizeof err->message, "%s: input larger than 2 GiB", name);
                err->code = CASIE_ERR_LIMIT;
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) goto nomem;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        snprintf(err->message, sizeof err->message, "%s: read error: %s", name, strerror(errno));
        err->code = CASIE_ERR_IO;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
nomem:
    free(buf);
    snprintf(err->message, sizeof err->message, "%s: out of memory", name);
    err->code = CASIE_ERR_NOMEM;
    return NULL;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Is buf a JSONL stream: a first line that is a whole JSON object ({ ... })
 * followed by another line starting with {?  (Pretty-printed JSON's first
 * line is a lone "{".) */
static int looks_jsonl(const char *buf, size_t len) {
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')) i++;
    if (i >= len || buf[i] != '{') return 0;
    const char *nl = memchr(buf + i, '\n', len - i);
    if (!nl) return 0;
    const char *q = nl;
    while (q > buf + i && (q[-1] == '\r' || q[-1] == ' ' || q[-1] == '\t')) q--;
    if (q <= buf + i + 1 || q[-1] != '}') return 0;
    const char *p = nl + 1;
    while (p < buf + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p >= buf + len || *p == '{';
}

int cli_for_each_doc(const char *name, const char *buf, size_t len, int force_jsonl, cli_doc_fn fn, void *user) {
    casie_error err = {0};
    int failures = 0;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (force_jsonl || ends_with(name, ".jsonl") || looks_jsonl(buf, len)) {
        const char *p = buf, *end = buf + len;
        long line = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) nl = end;
            line++;
            const char *q = p;
            while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
            if (q < nl) {
                char rec[PATH_MAX + 32];
                snprintf(rec, sizeof rec, "%s:%ld", name, line);
                casie_doc *doc = casie_doc_from_json(p, (size_t)(nl - p), rec, &err);
                failures += fn(user, rec, line, doc, doc ? NULL : &err);
                memset(&err, 0, sizeof err);
            }
            p = nl + 1;
        }
        return failures;
    }
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')) i++;
    casie_doc *doc;
    if (ends_with(name, ".json") || (i < len && buf[i] == '{')) {
        doc = casie_doc_from_json(buf, len, name, &err);
    } else if (len - i >= 7 && (strncmp(buf + i, "<title>", 7) == 0 || strncmp(buf + i, "<text>", 6) == 0)) {
        doc = casie_doc_from_source(buf, len, name, &err);
    } else {
        char id[256];
        snprintf(id, sizeof id, "%s", base);
        char *dot = strrchr(id, '.');
        if (dot && dot != id) *dot = 0;
        doc = casie_doc_from_text(buf, len, id, &err);
    }
    return fn(user, name, 0, doc, doc ? NULL : &err);
}

int cli_for_each_input(int n_files, char **files, int force_jsonl, cli_doc_fn fn, void *user) {
    int failures = 0;
    casie_error err = {0};
    if (n_files == 0) {
        size_t len;
        char *buf = cli_read_stream(stdin, "<stdin>", &len, &err);
        if (!buf) return fn(user, "<stdin>", 0, NULL, &err);
        failures += cli_for_each_doc("<stdin>", buf, len, force_jsonl, fn, user);
        free(buf);
        return failures;
    }
    for (int i = 0; i < n_files; i++) {
        FILE *f = strcmp(files[i], "-") ? fopen(files[i], "rb") : stdin;
        if (!f) {
            snprintf(err.message, sizeof err.message, "%s: %s", files[i], strerror(errno));
            err.code = CASIE_ERR_IO;
            failures += fn(user, files[i], 0, NULL, &err);
            continue;
        }
        size_t len;
        char *buf = cli_read_stream(f, files[i], &len, &err);
        if (f != stdin) fclose(f);
        if (!buf) {
            failures += fn(user, files[i], 0, NULL, &err);
            continue;
        }
        failures += cli_for_each_doc(files[i], buf, len, force_jsonl, fn, user);
        free(buf);
    }
    return failures;
}

static int readable(const char *p) { return access(p, R_OK) == 0; }

const char *cli_default_model(void) {
    static char path[PATH_MAX];
    const char *env = getenv("CASIE_MODEL");
    if (env && *env) return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *const rel[] = {"/../models/casie-default.model", "/models/casie-default.model",
                                          "/../share/casie/casie-default.model"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(path, sizeof path, "%s%s", exe, rel[i]);
            if (readable(path)) return path;
        }
    }
    snprintf(path, sizeof path, "%s/casie-default.model", CASIE_DATADIR);
    return path;
}
