/*
 * corpus.c - sets of documents: a directory of <id>.json annotation files
 * (the CASIE corpus or a directory of predictions) and split files of ids.
 *
 * Not here: parsing one document (doc_json_read.c).
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int all_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* Numeric ids in numeric order (before other ids), the rest by strcmp. */
static int id_cmp(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int dx = all_digits(x), dy = all_digits(y);
    if (dx && dy) {
        while (*x == '0' && x[1])
            x++;
        while (*y == '0' && y[1])
            y++;
        size_t lx = strlen(x), ly = strlen(y);
        if (lx != ly) return lx < ly ? -1 : 1;
    } else if (dx != dy)
        return dx ? -1 : 1;
    return strcmp(x, y);
}

/* The ids of every <id>.json in dir, sorted. */
static char **list_ids(const char *dir, int *n, casie_error *err) {
    DIR *d = opendir(dir);
    char **ids = NULL;
    size_t cap = 0;
    int k = 0;
    if (!d) {
        casie__error(err, CASIE_ERR_IO, -1, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= 5 || strcmp(de->d_name + l - 5, ".json")) continue;
        if (casie__grow((void **)&ids, &cap, (size_t)k + 1, sizeof *ids) ||
            !(ids[k] = casie__strndup(de->d_name, l - 5))) {
            closedir(d);
            casie_strings_free(ids, k);
            casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", dir);
            return NULL;
        }
        k++;
    }
    closedir(d);
    if (k)
        qsort(ids, (size_t)k, sizeof *ids, id_cmp);
    else if (!(ids = calloc(1, sizeof *ids))) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", dir);
        return NULL;
    }
    *n = k;
    return ids;
}

casie_corpus *casie_corpus_read(const char *dir, const char *const *ids, int n_ids, casie_error *err) {
    if (!dir || n_ids < 0 || (n_ids > 0 && !ids)) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_corpus_read: bad arguments");
        return NULL;
    }
    char *base = NULL, *path = NULL;
    char **listed = NULL;
    int n_listed = 0;
    casie_corpus *c = calloc(1, sizeof *c);
    size_t bl = strlen(dir) + sizeof "/annotation";
    if (!c || !(base = malloc(bl))) goto nomem;
    snprintf(base, bl, "%s/annotation", dir);
    if (!is_dir(base)) snprintf(base, bl, "%s", dir);
    if (!ids) {
        if (!(listed = list_ids(base, &n_listed, err))) goto fail;
        ids = (const char *const *)listed;
        n_ids = n_listed;
    }
    if (n_ids && !(c->docs = calloc((size_t)n_ids, sizeof *c->docs))) goto nomem;
    for (int i = 0; i < n_ids; i++) {
        size_t pl = strlen(base) + strlen(ids[i]) + sizeof "/.json";
        free(path);
        if (!(path = malloc(pl))) goto nomem;
        snprintf(path, pl, "%s/%s.json", base, ids[i]);
        size_t len;
        char *buf = casie__read_file(path, &len, err);
        if (!buf) goto fail;
        casie_doc *doc = casie_doc_from_json(buf, len, path, err);
        free(buf);
        if (!doc) goto fail;
        c->docs[c->n_docs++] = doc;
        if (!doc->id && !(doc->id = casie__strdup(ids[i]))) goto nomem;
    }
    free(path);
    free(base);
    casie_strings_free(listed, n_listed);
    return c;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", dir);
fail:
    free(path);
    free(base);
    casie_strings_free(listed, n_listed);
    casie_corpus_free(c);
    return NULL;
}

char **casie_read_ids(const char *path, int *n, casie_error *err) {
    size_t len;
    if (!path) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_read_ids: no path");
        return NULL;
    }
    char *buf = casie__read_file(path, &len, err);
    char **ids = NULL;
    size_t cap = 0;
    int k = 0;
    if (!buf) return NULL;
    /* One id a line; blank lines and # comments are skipped, ends trimmed. */
    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        char *q = nl;
        while (p < q && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
            q--;
        if (q > p && *p != '#') {
            if (casie__grow((void **)&ids, &cap, (size_t)k + 1, sizeof *ids) ||
                !(ids[k] = casie__strndup(p, (size_t)(q - p))))
                goto nomem;
            k++;
        }
        p = nl + 1;
    }
    if (!ids && !(ids = calloc(1, sizeof *ids))) goto nomem;
    free(buf);
    if (n) *n = k;
    return ids;
nomem:
    free(buf);
    casie_strings_free(ids, k);
    casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    return NULL;
}

void casie_strings_free(char **s, int n) {
    if (!s) return;
    for (int i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

void casie_corpus_free(casie_corpus *c) {
    if (!c) return;
    for (int i = 0; i < c->n_docs; i++)
        casie_doc_free(c->docs[i]);
    free(c->docs);
    free(c);
}
