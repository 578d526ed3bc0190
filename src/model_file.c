/*
 * model_file.c - the model file container: a header, a section table and
 * 32-byte aligned sections, each with a tag and a CRC-32C (docs/FORMAT.md).
 *
 * This file knows nothing about what the sections hold (that is model.c); it
 * writes them atomically and reads them back only after checking every byte:
 * magic, version, sizes, table bounds, layout, padding and every checksum.
 * Reading maps the file read-only, so the sections can be used in place.
 *
 * Every multi-byte field goes through casie__put_u32le/casie__get_u32le (and
 * the u64 pair, internal.h), so this file is correct on any host byte order.
 */
#include "internal.h"
#include "byte_order.h"
#include "model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ======================================================================== */
/* Layout (docs/FORMAT.md)                                                  */
/* ======================================================================== */

/* The container holds two kinds of file, told apart by their magic so that
 * a model and an encoder file are never mistaken for each other. */
static const unsigned char MAGICS[2][8] = {
    {'C', 'A', 'S', 'I', 'E', 'M', 'D', 'L'}, /* CASIE__FILE_MODEL */
    {'C', 'A', 'S', 'I', 'E', 'E', 'N', 'C'}, /* CASIE__FILE_ENCODER */
};
static const char *const KIND_NOUN[2] = {"model", "encoder"};
static int kind_ok(int kind) { return kind == CASIE__FILE_MODEL || kind == CASIE__FILE_ENCODER; }

enum {
    FORMAT_VERSION = 1, /* the newest container version this file reads and writes */
    MAX_SECTIONS = 256,
    ALIGN = 32, /* every section starts at a multiple of this */
    HEADER_SIZE = 32,
    ENTRY_SIZE = 32,
    /* header fields */
    H_MAGIC = 0,
    H_VERSION = 8,
    H_NSECS = 12,
    H_FILESIZE = 16,
    H_CRC = 24,
    H_RESERVED = 28,
    /* section table entry fields */
    E_TAG = 0,
    E_FLAGS = 4,
    E_OFFSET = 8,
    E_SIZE = 16,
    E_CRC = 24,
    E_RESERVED = 28
};

/* The name used in messages for casie__model_file_parse's buffer. */
static const char MEMORY_NAME[] = "<memory>";

static uint64_t align_up(uint64_t x) { return (x + (ALIGN - 1)) & ~(uint64_t)(ALIGN - 1); }

/* A tag is four printable ASCII characters other than space. */
static int tag_ok(const unsigned char *t) {
    for (int i = 0; i < 4; i++)
        if (t[i] < 0x21 || t[i] > 0x7e) return 0;
    return 1;
}

/* ======================================================================== */
/* CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and */
/* final xor 0xFFFFFFFF; crc("123456789") = 0xE3069283.  Slicing-by-8.      */
/* ======================================================================== */

/* The tables are built per call of write/open/parse (about 2k operations,
 * negligible next to reading a model) so that the library keeps no mutable
 * global state and needs no one-time initialization. */
typedef struct crc32c_tables {
    uint32_t t[8][256]; /* t[0]: one byte; t[k]: a byte followed by k zero bytes */
} crc32c_tables;

static void crc32c_init(crc32c_tables *ct) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        ct->t[0][i] = c;
    }
    for (int i = 0; i < 256; i++) {
        uint32_t c = ct->t[0][i];
        for (int s = 1; s < 8; s++) {
            c = ct->t[0][c & 0xff] ^ (c >> 8);
            ct->t[s][i] = c;
        }
    }
}

/* Continues a CRC: crc32c_update(t, crc32c_update(t, 0, a), b) is the CRC of
 * a followed by b; crc32c_update(t, 0, p, n) is the CRC of p[0..n). */
static uint32_t crc32c_update(const crc32c_tables *ct, uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = data;
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = crc ^ casie__get_u32le(p), hi = casie__get_u32le(p + 4);
        crc = ct->t[7][lo & 0xff] ^ ct->t[6][(lo >> 8) & 0xff] ^ ct->t[5][(lo >> 16) & 0xff] ^ ct->t[4][lo >> 24] ^
              ct->t[3][hi & 0xff] ^ ct->t[2][(hi >> 8) & 0xff] ^ ct->t[1][(hi >> 16) & 0xff] ^ ct->t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = ct->t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* The header checksum: CRC-32C of the header and the section table, with the
 * four bytes of the checksum field itself read as zero. */
static uint32_t header_crc(const crc32c_tables *ct, const unsigned char *p, size_t table_end) {
    static const unsigned char zero4[4] = {0};
    uint32_t c = crc32c_update(ct, 0, p, H_CRC);
    c = crc32c_update(ct, c, zero4, 4);
    return crc32c_update(ct, c, p + H_CRC + 4, table_end - (H_CRC + 4));
}

/* ======================================================================== */
/* Writing                                                                  */
/* ======================================================================== */

/* Writes all n bytes (retrying short writes and EINTR); 0 or errno. */
static int write_all(int fd, const void *data, size_t n) {
    const unsigned char *p = data;
    while (n) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t w = write(fd, p, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (w == 0) return EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync of the directory holding path, so that the rename itself is durable.
 * Best effort: some file systems refuse to sync a directory. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? casie__strndup(path, slash == path ? 1 : (size_t)(slash - path)) : casie__strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Refuses to replace path unless it is absent or a regular file: rename
 * would put a regular file in place of a device node, a FIFO or a symbolic
 * link (`-o /dev/null` run as root would replace /dev/null). */
static int check_target(const char *path, casie_error *err) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return CASIE_OK; /* a new file */
        return casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) return casie__error(err, CASIE_ERR_IO, -1, "%s: is a symbolic link; not replaced", path);
    if (!S_ISREG(st.st_mode))
        return casie__error(err, CASIE_ERR_IO, -1, "%s: exists and is not a regular file; not replaced", path);
    return CASIE_OK;
}

/* Refuses path when anything has the name (a file, a link, anything). */
static int check_absent(const char *path, casie_error *err) {
    struct stat st;
    if (lstat(path, &st) == 0) return casie__error(err, CASIE_ERR_IO, -1, "%s: exists; not replaced", path);
    if (errno != ENOENT) return casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
    return CASIE_OK;
}

/* Creates a new temporary file beside path, named path.PID-XXXXXXXX.tmp in
 * tmp (cap bytes), and returns its descriptor (-1 and errno on failure).
 * O_EXCL|O_NOFOLLOW: whatever already has the name (a link planted there, a
 * FIFO, another writer's temporary) is never opened, only skipped; the name
 * varies with the time and the buffer's address, so that two writers of one
 * path, in one process or two, never share a temporary. */
static int create_temp(const char *path, char *tmp, size_t cap) {
    for (unsigned tries = 0; tries < 100; tries++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = ((uint64_t)ts.tv_sec << 30 ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)tmp << 7) +
                     tries * 0x9e3779b97f4a7c15ull;
        x = (x ^ x >> 31) * 0xbf58476d1ce4e5b9ull; /* mixed, so that every bit reaches the name */
        snprintf(tmp, cap, "%s.%ld-%08x.tmp", path, (long)getpid(), (unsigned)(x ^ x >> 32));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

/* casie__container_write (replace 1: over a regular file that is there)
 * and casie__container_write_new (replace 0: never over anything). */
static int write_container(const char *path, int kind, const casie__section *secs, int n_secs, int replace,
                           casie_error *err) {
    static const unsigned char zeros[ALIGN] = {0};
    crc32c_tables *ct = NULL;
    unsigned char *head = NULL;
    char *tmp = NULL;
    int fd = -1, rc = CASIE_OK, e;

    if (!path || !*path) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "model file: no path");
    if (!kind_ok(kind)) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: unknown file kind %d", path, kind);
    if (n_secs < 0 || n_secs > MAX_SECTIONS || (n_secs > 0 && !secs))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: bad section list (%d sections, at most %d)", path,
                            n_secs, MAX_SECTIONS);
    for (int i = 0; i < n_secs; i++) {
        const casie__section *s = &secs[i];
        if (strnlen(s->tag, sizeof s->tag) != 4 || !tag_ok((const unsigned char *)s->tag))
            return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: section %d: a tag is 4 printable ASCII characters",
                                path, i);
        if (!s->data && s->size)
            return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: section %s: no data", path, s->tag);
        for (int j = 0; j < i; j++)
            if (memcmp(secs[j].tag, s->tag, 4) == 0)
                return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: two sections tagged %s", path, s->tag);
    }

    /* Header and table, with every section at the next aligned offset. */
    size_t table_end = HEADER_SIZE + (size_t)ENTRY_SIZE * (size_t)n_secs;
    size_t tmp_cap = strlen(path) + 32;
    if (!(ct = malloc(sizeof *ct)) || !(head = calloc(1, table_end)) || !(tmp = malloc(tmp_cap))) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory writing the model", path);
        goto done;
    }
    crc32c_init(ct);
    uint64_t end = table_end;
    for (int i = 0; i < n_secs; i++) {
        unsigned char *ent = head + HEADER_SIZE + (size_t)ENTRY_SIZE * i;
        uint64_t off = align_up(end);
        if (secs[i].size > (uint64_t)INT64_MAX - off || secs[i].size > SIZE_MAX) { /* the file must fit an off_t */
            rc = casie__error(err, CASIE_ERR_LIMIT, -1, "%s: sections too large", path);
            goto done;
        }
        memcpy(ent + E_TAG, secs[i].tag, 4);
        casie__put_u32le(ent + E_FLAGS, 0);
        casie__put_u64le(ent + E_OFFSET, off);
        casie__put_u64le(ent + E_SIZE, secs[i].size);
        casie__put_u32le(ent + E_CRC, secs[i].size ? crc32c_update(ct, 0, secs[i].data, (size_t)secs[i].size) : 0);
        casie__put_u32le(ent + E_RESERVED, 0);
        end = off + secs[i].size;
    }
    memcpy(head + H_MAGIC, MAGICS[kind], sizeof MAGICS[kind]);
    casie__put_u32le(head + H_VERSION, FORMAT_VERSION);
    casie__put_u32le(head + H_NSECS, (uint32_t)n_secs);
    casie__put_u64le(head + H_FILESIZE, end);
    casie__put_u32le(head + H_RESERVED, 0);
    casie__put_u32le(head + H_CRC, header_crc(ct, head, table_end));

    /* A new temporary, synced, then renamed over path (or linked to it,
     * when nothing may be replaced): readers see the old file or the whole
     * new one, and mappings of the old file stay valid. */
    if ((rc = replace ? check_target(path, err) : check_absent(path, err))) goto done;
    if ((fd = create_temp(path, tmp, tmp_cap)) < 0) {
        rc = casie__error(err, CASIE_ERR_IO, -1, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    if ((e = write_all(fd, head, table_end))) goto write_fail;
    uint64_t at = table_end;
    for (int i = 0; i < n_secs; i++) {
        uint64_t off = align_up(at);
        if ((e = write_all(fd, zeros, (size_t)(off - at)))) goto write_fail;
        if (secs[i].size && (e = write_all(fd, secs[i].data, (size_t)secs[i].size))) goto write_fail;
        at = off + secs[i].size;
    }
    if (fsync(fd) != 0) {
        e = errno;
        goto write_fail;
    }
    e = close(fd) != 0 ? errno : 0;
    fd = -1;
    if (e) goto write_fail;
    if (!replace) { /* link fails on any name already there, whatever appeared since the check */
        int le = link(tmp, path) != 0 ? errno : 0;
        unlink(tmp);
        if (le) {
            if (le == EEXIST)
                rc = casie__error(err, CASIE_ERR_IO, -1, "%s: exists; not replaced", path);
            else
                rc = casie__error(err, CASIE_ERR_IO, -1, "%s: cannot link %s: %s", path, tmp, strerror(le));
            goto done;
        }
    } else if (rename(tmp, path) != 0) {
        rc = casie__error(err, CASIE_ERR_IO, -1, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        unlink(tmp);
        goto done;
    }
    sync_parent_dir(path);
    goto done;

write_fail:
    rc = casie__error(err, CASIE_ERR_IO, -1, "%s: cannot write %s: %s", path, tmp, strerror(e));
    if (fd >= 0) close(fd);
    fd = -1;
    unlink(tmp);
done:
    if (fd >= 0) close(fd);
    free(ct);
    free(head);
    free(tmp);
    return rc;
}

int casie__container_write(const char *path, int kind, const casie__section *secs, int n_secs, casie_error *err) {
    return write_container(path, kind, secs, n_secs, 1, err);
}

int casie__container_write_new(const char *path, int kind, const casie__section *secs, int n_secs, casie_error *err) {
    return write_container(path, kind, secs, n_secs, 0, err);
}

int casie__model_file_write(const char *path, const casie__section *secs, int n_secs, casie_error *err) {
    return casie__container_write(path, CASIE__FILE_MODEL, secs, n_secs, err);
}

/* ======================================================================== */
/* Reading                                                                  */
/* ======================================================================== */

#define CORRUPT(pos, ...) casie__error(err, CASIE_ERR_MODEL_CORRUPT, (long)(pos), __VA_ARGS__)

/* Checks the bytes p[0..size) of a model file named `name` and fills
 * mf->secs / mf->n_secs (pointing into p).  The checks run in the order of
 * docs/FORMAT.md ("Validation"), so each defect gets one predictable code. */
static int validate(const unsigned char *p, size_t size, const char *name, int kind, casie__model_file *mf,
                    casie_error *err) {
    const char *noun = KIND_NOUN[kind];
    /* magic */
    size_t nm = size < sizeof MAGICS[kind] ? size : sizeof MAGICS[kind];
    if (memcmp(p, MAGICS[kind], nm) != 0) {
        if (size >= sizeof MAGICS[0] && memcmp(p, MAGICS[!kind], sizeof MAGICS[0]) == 0)
            return casie__error(err, CASIE_ERR_MODEL_MAGIC, 0, "%s: a casie %s file, not a %s file", name,
                                KIND_NOUN[!kind], noun);
        return casie__error(err, CASIE_ERR_MODEL_MAGIC, 0, "%s: not a casie %s file (no %.8s magic)", name, noun,
                            (const char *)MAGICS[kind]);
    }
    if (size < HEADER_SIZE)
        return CORRUPT(size, "%s: corrupt %s file: truncated to %zu bytes (the header alone is %d)", name, noun, size,
                       HEADER_SIZE);
    /* version: checked before anything else so that a newer file is reported
     * as newer, whatever its layout */
    uint32_t version = casie__get_u32le(p + H_VERSION);
    if (version > FORMAT_VERSION)
        return casie__error(err, CASIE_ERR_MODEL_VERSION, H_VERSION,
                            "%s: %s format version %u is newer than this casie reads (version %d)", name, noun, version,
                            FORMAT_VERSION);
    if (version == 0) return CORRUPT(H_VERSION, "%s: corrupt %s file: format version 0", name, noun);
    /* sizes and table bounds */
    uint32_t n = casie__get_u32le(p + H_NSECS);
    uint64_t file_size = casie__get_u64le(p + H_FILESIZE);
    if (file_size != size) {
        if (size < file_size)
            return CORRUPT(size, "%s: corrupt %s file: truncated to %zu bytes, the header says %llu", name, noun, size,
                           (unsigned long long)file_size);
        return CORRUPT(file_size, "%s: corrupt %s file: %zu bytes, the header says %llu", name, noun, size,
                       (unsigned long long)file_size);
    }
    if (n > MAX_SECTIONS)
        return CORRUPT(H_NSECS, "%s: corrupt %s file: %u sections (at most %d)", name, noun, n, MAX_SECTIONS);
    size_t table_end = HEADER_SIZE + (size_t)ENTRY_SIZE * n;
    if (table_end > size)
        return CORRUPT(size, "%s: corrupt %s file: the section table (%u entries) runs past the end", name, noun, n);
    /* header checksum */
    crc32c_tables *ct = malloc(sizeof *ct);
    if (!ct) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", name);
    crc32c_init(ct);
    int rc = CASIE_OK;
    uint32_t stored = casie__get_u32le(p + H_CRC), crc = header_crc(ct, p, table_end);
    if (stored != crc) {
        rc = CORRUPT(H_CRC, "%s: corrupt %s file: header checksum mismatch (stored %08x, computed %08x)", name, noun,
                     stored, crc);
        goto fail;
    }
    if (casie__get_u32le(p + H_RESERVED) != 0) {
        rc = CORRUPT(H_RESERVED, "%s: corrupt %s file: reserved header field is not zero", name, noun);
        goto fail;
    }
    /* the table: each section right after the previous one, aligned */
    if (!(mf->secs = calloc(n ? n : 1, sizeof *mf->secs))) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", name);
        goto fail;
    }
    uint64_t end = table_end; /* end of the previous section (or of the table) */
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *ent = p + HEADER_SIZE + (size_t)ENTRY_SIZE * i;
        size_t epos = (size_t)(ent - p);
        casie__section *s = &mf->secs[i];
        memcpy(s->tag, ent + E_TAG, 4);
        s->tag[4] = 0;
        if (!tag_ok(ent + E_TAG)) {
            rc = CORRUPT(epos + E_TAG, "%s: corrupt %s file: section %u has a bad tag", name, noun, i);
            goto fail;
        }
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(mf->secs[j].tag, s->tag, 4) == 0) {
                rc = CORRUPT(epos + E_TAG, "%s: corrupt %s file: two sections tagged %s", name, noun, s->tag);
                goto fail;
            }
        if (casie__get_u32le(ent + E_FLAGS) != 0 || casie__get_u32le(ent + E_RESERVED) != 0) {
            rc = CORRUPT(epos + E_FLAGS, "%s: corrupt %s file: section %s has unknown flags", name, noun, s->tag);
            goto fail;
        }
        uint64_t off = casie__get_u64le(ent + E_OFFSET), sz = casie__get_u64le(ent + E_SIZE);
        if (off % ALIGN) {
            rc = CORRUPT(epos + E_OFFSET, "%s: corrupt %s file: section %s at offset %llu is not %d-byte aligned", name,
                         noun, s->tag, (unsigned long long)off, ALIGN);
            goto fail;
        }
        if (off > size || sz > size - off) {
            rc = CORRUPT(epos + E_OFFSET,
                         "%s: corrupt %s file: section %s (offset %llu, %llu bytes) runs past the end (%zu bytes)",
                         name, noun, s->tag, (unsigned long long)off, (unsigned long long)sz, size);
            goto fail;
        }
        if (off < end) {
            rc = CORRUPT(epos + E_OFFSET, "%s: corrupt %s file: section %s at offset %llu overlaps %s", name, noun,
                         s->tag, (unsigned long long)off, i ? "the previous section" : "the section table");
            goto fail;
        }
        if (off != align_up(end)) {
            rc = CORRUPT(epos + E_OFFSET, "%s: corrupt %s file: section %s at offset %llu, expected %llu", name, noun,
                         s->tag, (unsigned long long)off, (unsigned long long)align_up(end));
            goto fail;
        }
        for (uint64_t k = end; k < off; k++)
            if (p[k]) {
                rc = CORRUPT(k, "%s: corrupt %s file: nonzero padding byte at offset %llu", name, noun,
                             (unsigned long long)k);
                goto fail;
            }
        s->data = p + off;
        s->size = sz;
        end = off + sz;
    }
    if (end != size) {
        rc = CORRUPT(end, "%s: corrupt %s file: %llu bytes after the last section", name, noun,
                     (unsigned long long)(size - end));
        goto fail;
    }
    /* section checksums, last because they read every byte */
    for (uint32_t i = 0; i < n; i++) {
        const casie__section *s = &mf->secs[i];
        const unsigned char *ent = p + HEADER_SIZE + (size_t)ENTRY_SIZE * i;
        uint32_t want = casie__get_u32le(ent + E_CRC), got = crc32c_update(ct, 0, s->data, (size_t)s->size);
        if (want != got) {
            rc = CORRUPT((const unsigned char *)s->data - p,
                         "%s: corrupt %s file: section %s checksum mismatch (stored %08x, computed %08x)", name, noun,
                         s->tag, want, got);
            goto fail;
        }
    }
    mf->n_secs = (int)n;
    free(ct);
    return CASIE_OK;
fail:
    free(ct);
    free(mf->secs);
    mf->secs = NULL;
    return rc;
}

int casie__container_open(const char *path, int kind, casie__model_file *mf, casie_error *err) {
    if (!mf) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie__model_file_open: no model file");
    memset(mf, 0, sizeof *mf);
    if (!path) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "model file: no path");
    if (!kind_ok(kind)) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: unknown file kind %d", path, kind);
    /* O_NONBLOCK: opening a FIFO would wait for a writer before the
     * regular-file check below could refuse it (no effect on a file) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return casie__error(err, CASIE_ERR_IO, -1, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return casie__error(err, CASIE_ERR_LIMIT, -1, "%s: too large to map", path);
    }
    size_t size = (size_t)st.st_size;
    void *map = NULL;
    if (size) {
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE; /* every byte is read for the checksums anyway */
#endif
        map = mmap(NULL, size, PROT_READ, flags, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return casie__error(err, CASIE_ERR_IO, -1, "%s: cannot map: %s", path, strerror(e));
        }
    }
    close(fd); /* the mapping stays valid */
    static const unsigned char empty[1] = {0};
    int rc = validate(map ? map : empty, size, path, kind, mf, err);
    if (rc) {
        if (map) munmap(map, size);
        memset(mf, 0, sizeof *mf);
        return rc;
    }
    mf->map = map;
    mf->size = size;
    mf->owned = 0;
    return CASIE_OK;
}

int casie__container_parse(const void *buf, size_t size, int kind, casie__model_file *mf, casie_error *err) {
    if (!mf) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie__model_file_parse: no model file");
    memset(mf, 0, sizeof *mf);
    if (!buf && size) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: no buffer", MEMORY_NAME);
    if (!kind_ok(kind))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: unknown file kind %d", MEMORY_NAME, kind);
    /* an aligned copy, so sections are as aligned as in a mapping */
    if (size > SIZE_MAX - ALIGN) return casie__error(err, CASIE_ERR_LIMIT, -1, "%s: too large", MEMORY_NAME);
    size_t cap = size ? (size + ALIGN - 1) / ALIGN * ALIGN : ALIGN;
    unsigned char *copy = aligned_alloc(ALIGN, cap);
    if (!copy) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", MEMORY_NAME);
    if (size) memcpy(copy, buf, size);
    int rc = validate(copy, size, MEMORY_NAME, kind, mf, err);
    if (rc) {
        free(copy);
        memset(mf, 0, sizeof *mf);
        return rc;
    }
    mf->map = copy;
    mf->size = size;
    mf->owned = 1;
    return CASIE_OK;
}

int casie__model_file_open(const char *path, casie__model_file *mf, casie_error *err) {
    return casie__container_open(path, CASIE__FILE_MODEL, mf, err);
}

int casie__model_file_parse(const void *buf, size_t size, casie__model_file *mf, casie_error *err) {
    return casie__container_parse(buf, size, CASIE__FILE_MODEL, mf, err);
}

const casie__section *casie__model_file_find(const casie__model_file *mf, const char *tag) {
    if (!mf || !tag || strnlen(tag, 5) != 4) return NULL;
    for (int i = 0; i < mf->n_secs; i++)
        if (memcmp(mf->secs[i].tag, tag, 4) == 0) return &mf->secs[i];
    return NULL;
}

void casie__model_file_close(casie__model_file *mf) {
    if (!mf) return;
    if (mf->map) {
        if (mf->owned)
            free(mf->map);
        else
            munmap(mf->map, mf->size);
    }
    free(mf->secs);
    memset(mf, 0, sizeof *mf);
}
