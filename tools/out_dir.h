/*
 * out_dir.h - the files `casie extract -o DIR` writes: names derived safely
 * from document ids, created inside DIR only, never through a symbolic link,
 * never overwriting anything silently.
 *
 * A file name from an id (out_name): the bytes A-Z a-z 0-9 '_' '-' '.' are
 * kept, except a '.' that would begin the name; every other byte (a '/', a
 * NUL, a newline, '%', any byte of a multi-byte UTF-8 character) is written
 * as '%' and two upper-case hex digits.  No name is empty, none begins with a
 * '.', none holds a '/' or a NUL, and different ids give different names.  A
 * name longer than OUT_NAME_MAX bytes keeps its first escapes whole up to
 * OUT_NAME_MAX - 17 bytes and ends in '~' and the 16 hex digits of a 64-bit
 * hash of the whole id ('~' appears in no other name); two such ids can share
 * a name, which the run then treats as any other repeated name.
 *
 * In one run (out_dir_commit), the second document whose name is already
 * taken gets NAME-2, the third NAME-3 (the first number whose name is free in
 * this run): the result depends on the order of the input only, never on what
 * is in DIR.  A file already in DIR is replaced only with `force`, and never
 * when it is a symbolic link or not a regular file.
 *
 * Each file is written under a temporary name (".casie-PID-N.tmp", which no
 * derived name can be) with openat(O_CREAT | O_EXCL | O_NOFOLLOW) on DIR's
 * descriptor, flushed to disk (fsync), then renamed into place: a failed
 * write (a full disk) removes the temporary file and leaves an earlier file of
 * that name as it was.
 */
#ifndef CASIE_OUT_DIR_H
#define CASIE_OUT_DIR_H

#include <stddef.h>

#define OUT_NAME_MAX 200 /* bytes of a derived name, before "-N" and the extension */

/* Writes the name for the id's len bytes (which may hold NULs) to out (cap >=
 * OUT_NAME_MAX + 1), NUL-terminated.  Returns its length, or -1 when the id
 * is empty or cap is too small.  *hashed (may be NULL) is set when the name
 * ends in the hash.  Pure; thread-safe. */
int out_name(const char *id, size_t len, char *out, size_t cap, int *hashed);

/* The names given in one run, for making repeated names unique. */
typedef struct out_names out_names;
out_names *out_names_new(void);
void out_names_free(out_names *s);
/* Takes base (a derived name) for this run, or base-2, base-3, ... when it is
 * taken; writes the name taken to out (cap >= OUT_NAME_MAX + 24).  Returns 0
 * when base itself was free, the number appended (2, 3, ...) otherwise, or -1
 * out of memory.  Not thread-safe. */
long out_names_take(out_names *s, const char *base, char *out, size_t cap);

typedef struct out_dir out_dir;

/* Opens DIR (creating it when missing, not its parents) once for the run;
 * files get the extension ext (".json").  NULL with a message naming path
 * when it cannot. */
out_dir *out_dir_open(const char *path, const char *ext, int force, char *msg, size_t msg_cap);
/* Writes data, and a '\n' when data does not end with one, to a new
 * temporary file in the directory and flushes it to disk; its name goes to
 * tmp (cap >= 64).  Returns 0, or -1 with a message
 * (and no temporary file left).  Thread-safe. */
int out_dir_write_tmp(out_dir *d, const char *data, size_t len, char *tmp, size_t tmp_cap, char *msg, size_t msg_cap);
/* Moves the temporary file into place as the name for id (len bytes, not
 * empty), made unique in this run; the final file name goes to final (cap >=
 * OUT_NAME_MAX + 32).  Returns 0 or the number appended to a repeated name
 * (see out_names_take), or -1 with a message: the name is taken by a file
 * already in the directory (without force), by a symbolic link or something
 * other than a regular file, or the rename failed.  The temporary file is
 * gone either way.  Not thread-safe: one thread commits, in input order. */
long out_dir_commit(out_dir *d, const char *tmp, const char *id, size_t len, char *final, size_t final_cap, char *msg,
                    size_t msg_cap);
/* Removes a temporary file that will not be committed. */
void out_dir_discard(out_dir *d, const char *tmp);
/* Flushes the directory's entries to disk and closes it; NULL is accepted.
 * Returns 0, or -1 with a message. */
int out_dir_close(out_dir *d, char *msg, size_t msg_cap);
/* The directory as given (for messages). */
const char *out_dir_path(const out_dir *d);

#endif
