/*
 * fuzz_common.h - what the fuzz targets share: where the default model is,
 * and a file in memory (memfd) for the entry points that take a path.
 * Targets are libFuzzer's LLVMFuzzerTestOneInput; AFL++ builds the same files
 * with afl-clang-fast -fsanitize=fuzzer.
 */
#ifndef CASIE_FUZZ_COMMON_H
#define CASIE_FUZZ_COMMON_H

#include <casie.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A function of the harness itself without coverage callbacks (clang's
 * libFuzzer build; the replay build ignores it). */
#if defined(__clang__)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NO_COVERAGE
#endif

#ifndef CASIE_DEFAULT_MODEL
#define CASIE_DEFAULT_MODEL "models/casie-fast.model"
#endif

/* $CASIE_MODEL (a path, or a name looked for beside the source tree's fast
 * model, as the CLI does: casie_model_find) or the fast model of the source
 * tree. */
static inline const char *fuzz_default_model(void) {
    static char dir[4096], path[4096];
    const char *p = getenv("CASIE_MODEL");
    if (!p || !*p) return CASIE_DEFAULT_MODEL;
    snprintf(dir, sizeof dir, "%s", CASIE_DEFAULT_MODEL);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    const char *dirs[] = {slash ? dir : ".", NULL};
    return casie_model_find(p, dirs, path, sizeof path) == CASIE_OK ? path : p;
}

/* Loads a model once for the whole run; aborts (a setup failure, not a finding)
 * when it cannot. */
static inline casie_model *fuzz_load_model(const char *path) {
    casie_error err = {0};
    casie_model *m = casie_model_load(path, &err);
    if (!m) {
        fprintf(stderr, "fuzz: %s\n", err.message);
        abort();
    }
    return m;
}

/* A memfd holding data; *path names it as /proc/self/fd/N.  Returns the fd. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t cap) {
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz", 0)) < 0) abort();
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) abort();
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
