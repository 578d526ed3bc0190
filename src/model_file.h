/*
 * model_file.h - the model and encoder file container.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_MODEL_FILE_H
#define CASIE_MODEL_FILE_H

#include "internal.h"

/* ---- model file container (model_file.c; format in docs/FORMAT.md) ---- */
/* A model file is a header, a section table and 32-byte aligned sections,
 * each with a 4-character tag and a checksum. */
typedef struct casie__section {
    char tag[5];      /* 4 characters + NUL, e.g. "META", "TRIG" */
    const void *data; /* borrowed: points into the caller's buffer or the mapping */
    uint64_t size;    /* bytes */
} casie__section;

/* Writes sections in order, atomically (temp file + rename). */
int casie__model_file_write(const char *path, const casie__section *secs, int n_secs, casie_error *err);

typedef struct casie__model_file {
    void *map; /* the mapped (or owned) file bytes */
    size_t size;
    int owned;            /* 1: map was malloc'd (parse from memory), 0: mmap'd */
    casie__section *secs; /* (n_secs,) data points into map */
    int n_secs;
} casie__model_file;

/* Maps and validates a file: magic, version, table bounds, alignment, every
 * checksum.  On failure mf is left empty and nothing needs closing. */
int casie__model_file_open(const char *path, casie__model_file *mf, casie_error *err);
/* The same over a memory buffer (copied), for tests and fuzzing. */
int casie__model_file_parse(const void *buf, size_t size, casie__model_file *mf, casie_error *err);
/* The section with this tag, or NULL. */
const casie__section *casie__model_file_find(const casie__model_file *mf, const char *tag);
void casie__model_file_close(casie__model_file *mf);
/* The container holds two kinds of file, each with its own magic (CASIEMDL,
 * CASIEENC), so that a model and an encoder file are never confused; the
 * casie__model_file_* calls above are these with CASIE__FILE_MODEL. */
enum { CASIE__FILE_MODEL = 0, CASIE__FILE_ENCODER = 1 };
int casie__container_write(const char *path, int kind, const casie__section *secs, int n_secs, casie_error *err);
/* The same, never over anything that has the name: CASIE_ERR_IO "exists;
 * not replaced", the path untouched (the new file is linked into place,
 * which fails on a name that appeared during the writing). */
int casie__container_write_new(const char *path, int kind, const casie__section *secs, int n_secs, casie_error *err);
int casie__container_open(const char *path, int kind, casie__model_file *mf, casie_error *err);
int casie__container_parse(const void *buf, size_t size, int kind, casie__model_file *mf, casie_error *err);

#endif /* CASIE_MODEL_FILE_H */
