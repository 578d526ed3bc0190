/*
 * out_dir.c - the files of `casie extract -o DIR`: safe names from ids, the
 * names taken in one run, and files created inside DIR's descriptor under a
 * temporary name, flushed, then renamed into place.  The rules are in
 * out_dir.h.  Not a general file API: it knows one directory, one extension.
 */
#include "out_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- names ---- */

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* Whether byte c at position i is written as itself. */
static int kept(unsigned char c, size_t i) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           (c == '.' && i > 0);
}

/* Writes id's bytes from the start, escaped, while they fit in limit bytes;
 * returns the length written and sets *all when every byte fitted. */
static size_t escape(const char *id, size_t len, char *out, size_t limit, int *all) {
    static const char HEX[] = "0123456789ABCDEF";
    size_t n = 0, i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (kept(c, i)) {
            if (n + 1 > limit) break;
            out[n++] = (char)c;
        } else {
            if (n + 3 > limit) break;
            out[n++] = '%';
            out[n++] = HEX[c >> 4];
            out[n++] = HEX[c & 15];
        }
    }
    *all = i == len;
    return n;
}

int out_name(const char *id, size_t len, char *out, size_t cap, int *hashed) {
    if (hashed) *hashed = 0;
    if (!id || !len || cap < OUT_NAME_MAX + 1) return -1;
    int all;
    size_t n = escape(id, len, out, OUT_NAME_MAX, &all);
    if (!all) { /* too long: a prefix, '~' and the hash of the whole id */
        n = escape(id, len, out, OUT_NAME_MAX - 17, &all);
        n += (size_t)snprintf(out + n, cap - n, "~%016llx", (unsigned long long)fnv1a(id, len));
        if (hashed) *hashed = 1;
    }
    out[n] = 0;
    return (int)n;
}

/* ---- the names taken in one run: an open-addressing set ---- */

typedef struct {
    char *name; /* NULL: a free slot */
    long next;  /* the next number to try when this name repeats */
} name_slot;

struct out_names {
    name_slot *slot;
    size_t cap, n; /* cap a power of two, n <= cap / 2 */
};

out_names *out_names_new(void) {
    out_names *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cap = 64;
    if (!(s->slot = calloc(s->cap, sizeof *s->slot))) {
        free(s);
        return NULL;
    }
    return s;
}

void out_names_free(out_names *s) {
    if (!s) return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i].name);
    free(s->slot);
    free(s);
}

static name_slot *find(const out_names *s, const char *name) {
    size_t i = (size_t)fnv1a(name, strlen(name)) & (s->cap - 1);
    while (s->slot[i].name && strcmp(s->slot[i].name, name))
        i = (i + 1) & (s->cap - 1);
    return &s->slot[i];
}

/* Adds name (not in the set); returns -1 out of memory. */
static int add(out_names *s, const char *name) {
    if ((s->n + 1) * 2 > s->cap) {
        out_names bigger = {calloc(s->cap * 2, sizeof(name_slot)), s->cap * 2, s->n};
        if (!bigger.slot) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i].name) *find(&bigger, s->slot[i].name) = s->slot[i];
        free(s->slot);
        *s = bigger;
    }
    name_slot *e = find(s, name);
    if (!(e->name = strdup(name))) return -1;
    e->next = 2;
    s->n++;
    return 0;
}

long out_names_take(out_names *s, const char *base, char *out, size_t cap) {
    if (cap < OUT_NAME_MAX + 24) return -1;
    name_slot *e = find(s, base);
    if (!e->name) {
        if (add(s, base)) return -1;
        snprintf(out, cap, "%s", base);
        return 0;
    }
    /* the next free base-K; K counts on from the last one given for base, so
     * that a name repeated n times costs n steps, not n^2 */
    long k = e->next;
    for (;; k++) {
        snprintf(out, cap, "%s-%ld", base, k);
        if (!find(s, out)->name) break;
    }
    e->next = k + 1; /* before add: it may move the slots */
    return add(s, out) ? -1 : k;
}

/* ---- the directory ---- */

struct out_dir {
    int fd;
    int force;
    char *path;
    char ext[16];
    long pid;
    atomic_ulong seq; /* temporary names */
    out_names *names;
};

/* A path for a message: a long one keeps its start and end. */
static const char *shown(const char *path, char *buf, size_t cap) {
    size_t n = strlen(path);
    if (n < 160) return path;
    snprintf(buf, cap, "%.70s...%s", path, path + n - 70);
    return buf;
}

out_dir *out_dir_open(const char *path, const char *ext, int force, char *msg, size_t msg_cap) {
    char sh[160];
    out_dir *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path)) || !(d->names = out_names_new())) {
        snprintf(msg, msg_cap, "%s: out of memory", shown(path, sh, sizeof sh));
        goto fail;
    }
    d->fd = -1;
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        snprintf(msg, msg_cap, "%s: %s", shown(path, sh, sizeof sh), strerror(errno));
        goto fail;
    }
    if ((d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(msg, msg_cap, "%s: %s", shown(path, sh, sizeof sh), strerror(errno));
        goto fail;
    }
    for (size_t n = strlen(d->path); n > 1 && d->path[n - 1] == '/'; n--)
        d->path[n - 1] = 0; /* "out/" -> "out" */
    snprintf(d->ext, sizeof d->ext, "%s", ext);
    d->force = force;
    d->pid = (long)getpid();
    atomic_init(&d->seq, 0);
    return d;
fail:
    if (d) {
        out_names_free(d->names);
        free(d->path);
        free(d);
    }
    return NULL;
}

const char *out_dir_path(const out_dir *d) { return d->path; }

int out_dir_write_tmp(out_dir *d, const char *data, size_t len, char *tmp, size_t tmp_cap, char *msg, size_t msg_cap) {
    char sh[160];
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) { /* a name left by someone else: the next one */
        snprintf(tmp, tmp_cap, ".casie-%ld-%lu.tmp", d->pid, (unsigned long)atomic_fetch_add(&d->seq, 1));
        fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        snprintf(msg, msg_cap, "%s: creating a file: %s", shown(d->path, sh, sizeof sh), strerror(errno));
        tmp[0] = 0;
        return -1;
    }
    const char *what = "writing";
    int nl = !len || data[len - 1] != '\n';
    size_t done = 0;
    while (done < len + (size_t)nl) {
        ssize_t w = done < len ? write(fd, data + done, len - done) : write(fd, "\n", 1);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            goto fail;
        }
        done += (size_t)w;
    }
    what = "flushing";
    if (fsync(fd) != 0 && errno != EINVAL) goto fail; /* EINVAL: a file system without fsync */
    what = "closing";
    int rc = close(fd);
    fd = -1;
    if (rc != 0) goto fail;
    return 0;
fail:;
    int e = errno;
    if (fd >= 0) close(fd);
    unlinkat(d->fd, tmp, 0);
    snprintf(msg, msg_cap, "%s: %s a file: %s", shown(d->path, sh, sizeof sh), what, strerror(e));
    tmp[0] = 0;
    return -1;
}

void out_dir_discard(out_dir *d, const char *tmp) {
    if (tmp && tmp[0]) unlinkat(d->fd, tmp, 0);
}

long out_dir_commit(out_dir *d, const char *tmp, const char *id, size_t len, char *final, size_t final_cap, char *msg,
                    size_t msg_cap) {
    char sh[160], base[OUT_NAME_MAX + 1], name[OUT_NAME_MAX + 24];
    final[0] = 0;
    if (out_name(id, len, base, sizeof base, NULL) < 0) {
        snprintf(msg, msg_cap, "no name for the output file");
        goto fail;
    }
    long k = out_names_take(d->names, base, name, sizeof name);
    if (k < 0) {
        snprintf(msg, msg_cap, "%s: out of memory", shown(d->path, sh, sizeof sh));
        goto fail;
    }
    snprintf(final, final_cap, "%s%s", name, d->ext);
    struct stat st;
    int rc;
    if (fstatat(d->fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        const char *why = S_ISLNK(st.st_mode)    ? "is a symbolic link; not replaced"
                          : !S_ISREG(st.st_mode) ? "exists and is not a regular file; not replaced"
                          : !d->force            ? "exists; not replaced without --force"
                                                 : NULL;
        if (why) {
            snprintf(msg, msg_cap, "%s/%s %s", shown(d->path, sh, sizeof sh), final, why);
            goto fail;
        }
        rc = renameat(d->fd, tmp, d->fd, final); /* atomic; replaces the entry, never follows it */
    } else if (errno == ENOENT) {
        /* no replacing whatever appeared since the check */
        rc = renameat2(d->fd, tmp, d->fd, final, RENAME_NOREPLACE);
        if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) { /* a file system without it: a hard link */
            rc = linkat(d->fd, tmp, d->fd, final, 0);
            if (rc == 0) unlinkat(d->fd, tmp, 0);
        }
        if (rc != 0 && errno == EEXIST) {
            snprintf(msg, msg_cap, "%s/%s appeared while it was written; not replaced", shown(d->path, sh, sizeof sh),
                     final);
            goto fail;
        }
    } else
        rc = -1;
    if (rc != 0) {
        snprintf(msg, msg_cap, "%s/%s: %s", shown(d->path, sh, sizeof sh), final, strerror(errno));
        goto fail;
    }
    return k;
fail:
    unlinkat(d->fd, tmp, 0);
    return -1;
}

int out_dir_close(out_dir *d, char *msg, size_t msg_cap) {
    if (!d) return 0;
    int rc = 0;
    char sh[160];
    if (fsync(d->fd) != 0 && errno != EINVAL) { /* the renames */
        snprintf(msg, msg_cap, "%s: %s", shown(d->path, sh, sizeof sh), strerror(errno));
        rc = -1;
    }
    close(d->fd);
    out_names_free(d->names);
    free(d->path);
    free(d);
    return rc;
}
