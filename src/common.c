/*
 * common.c - errors, small memory and string helpers.
 *
 * Not here: anything about documents or models.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *casie_version(void) { return CASIE_VERSION_STRING; }

const char *casie_status_string(int code) {
    switch (code) {
    case CASIE_OK:
        return "ok";
    case CASIE_ERR_NOMEM:
        return "out of memory";
    case CASIE_ERR_IO:
        return "input/output error";
    case CASIE_ERR_PARSE:
        return "malformed input";
    case CASIE_ERR_SCHEMA:
        return "not a CASIE document";
    case CASIE_ERR_LIMIT:
        return "input over a limit";
    case CASIE_ERR_MODEL_MAGIC:
        return "not a casie model file";
    case CASIE_ERR_MODEL_VERSION:
        return "model format newer than this library";
    case CASIE_ERR_MODEL_CORRUPT:
        return "corrupt model file";
    case CASIE_ERR_INVALID_ARG:
        return "invalid argument";
    case CASIE_ERR_EMPTY:
        return "empty input";
    case CASIE_ERR_ENCODER:
        return "encoder missing or mismatched";
    default:
        return "unknown error";
    }
}

int casie__error(casie_error *err, int code, long position, const char *fmt, ...) {
    if (err) {
        err->code = code;
        err->position = position;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void casie_free(void *p) { free(p); }

char *casie__strdup(const char *s) {
    if (!s) return NULL;
    return casie__strndup(s, strlen(s));
}

char *casie__strndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

int casie__grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return CASIE_OK;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size) return CASIE_ERR_NOMEM;
        n *= 2;
    }
    void *q = realloc(*p, n * size);
    if (!q) return CASIE_ERR_NOMEM;
    *p = q;
    *cap = n;
    return CASIE_OK;
}

char *casie__path_id(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return casie__strndup(base, n);
}

int casie__is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *casie__read_file(const char *path, size_t *len, casie_error *err) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) {
        casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (casie__grow((void **)&buf, &cap, n + 65536 + 1, 1)) {
            casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
            goto fail;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n > CASIE_MAX_DOC_BYTES) {
            casie__error(err, CASIE_ERR_LIMIT, -1, "%s: larger than %zu bytes", path, (size_t)CASIE_MAX_DOC_BYTES);
            goto fail;
        }
    }
    if (ferror(f)) {
        casie__error(err, CASIE_ERR_IO, -1, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}
