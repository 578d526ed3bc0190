/*
 * cli_io.c - helpers shared by the subcommands: reading a whole stream and
 * finding the default model.
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
