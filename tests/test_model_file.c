/*
 * test_model_file.c - the model file container (src/model_file.c, docs/FORMAT.md).
 *
 * The byte layout is checked against an independent encoder written here from
 * the spec (ref_build, with a bitwise CRC-32C), so the writer, the reader and
 * FORMAT.md must agree.  Then: round trips, every single-byte change and every
 * truncation of a small file refused, and one test per error code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"
#include "model_file.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static char g_dir[64]; /* mkdtemp directory, removed at the end */

static const char *tmp_path(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
    return p[k];
}

static void write_bytes(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (!got) break;
        len += got;
    }
    fclose(f);
    *n = len;
    return buf;
}

/* How many temporaries of g_dir/name (name.*.tmp) are left in g_dir. */
static int count_temps(const char *name) {
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    int n = 0;
    size_t len = strlen(name);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t el = strlen(e->d_name);
        n += el > len + 5 && !strncmp(e->d_name, name, len) && e->d_name[len] == '.' &&
             !strcmp(e->d_name + el - 4, ".tmp");
    }
    closedir(d);
    return n;
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* Bitwise CRC-32C, the definition (the library uses tables). */
static uint32_t ref_crc(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = data;
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

/* Recomputes the header checksum of a (possibly edited) file image, so that
 * a test reaches the check after it. */
static void fix_header_crc(unsigned char *buf, size_t size) {
    uint32_t n = get32(buf + 12);
    size_t end = 32 + 32 * (size_t)n;
    if (end > size) end = size;
    put32(buf + 24, 0);
    put32(buf + 24, ref_crc(0, buf, end));
}

/* The file image of secs by the spec in docs/FORMAT.md, written independently
 * of the library. */
static unsigned char *ref_build(const casie__section *secs, int n, size_t *size) {
    size_t end = 32 + 32 * (size_t)n, offs[256];
    for (int i = 0; i < n; i++) {
        offs[i] = (end + 31) / 32 * 32;
        end = offs[i] + secs[i].size;
    }
    unsigned char *b = calloc(1, end);
    assert_non_null(b);
    memcpy(b, "CASIEMDL", 8);
    put32(b + 8, 1);
    put32(b + 12, (uint32_t)n);
    put64(b + 16, end);
    for (int i = 0; i < n; i++) {
        unsigned char *e = b + 32 + 32 * i;
        memcpy(e, secs[i].tag, 4);
        put64(e + 8, offs[i]);
        put64(e + 16, secs[i].size);
        put32(e + 24, ref_crc(0, secs[i].data, secs[i].size));
        if (secs[i].size) memcpy(b + offs[i], secs[i].data, secs[i].size);
    }
    fix_header_crc(b, end);
    *size = end;
    return b;
}

/* The small model used by the corruption tests (259 bytes):
 *   header 0..32, table 32..160, META 160..167, EMPT 192..192,
 *   WGHT 192..232, TAIL 256..259 (padding 167..192 and 232..256). */
static float g_weights[10] = {0.5f, -1.25f, 3.0f, 0.0f, 1e-3f, -7.5f, 2.0f, 9.75f, -0.125f, 42.0f};
static const casie__section g_small[4] = {
    {"META", "{\"a\":1}", 7}, {"EMPT", NULL, 0}, {"WGHT", g_weights, sizeof g_weights}, {"TAIL", "xyz", 3}};

static unsigned char *small_image(size_t *size) {
    const char *p = tmp_path("small.model");
    casie_error err = {0};
    assert_int_equal(casie__model_file_write(p, g_small, 4, &err), CASIE_OK);
    unsigned char *b = read_bytes(p, size);
    assert_int_equal(*size, 259);
    return b;
}

static int mf_is_empty(const casie__model_file *mf) {
    return mf->map == NULL && mf->size == 0 && mf->owned == 0 && mf->secs == NULL && mf->n_secs == 0;
}

/* Parses buf and requires refusal (with code `code`, or any code when 0) and
 * a message containing `needle` (may be NULL).  Returns the code. */
static int refused(const unsigned char *buf, size_t size, int code, const char *needle) {
    casie__model_file mf;
    memset(&mf, 0x5a, sizeof mf);
    casie_error err = {0};
    int rc = casie__model_file_parse(buf, size, &mf, &err);
    if (rc >= 0) casie__model_file_close(&mf);
    assert_true(rc < 0);
    assert_int_equal(err.code, rc);
    assert_true(err.message[0] != 0);
    assert_true(mf_is_empty(&mf));
    if (code) {
        if (rc != code) fprintf(stderr, "expected %d, got %d: %s\n", code, rc, err.message);
        assert_int_equal(rc, code);
    }
    if (needle && !strstr(err.message, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.message, needle);
        fail();
    }
    return rc;
}

/* The same through a file, requiring the path in the message. */
static int refused_file(const unsigned char *buf, size_t size, int code, const char *needle) {
    const char *p = tmp_path("bad.model");
    write_bytes(p, buf, size);
    casie__model_file mf;
    memset(&mf, 0x5a, sizeof mf);
    casie_error err = {0};
    int rc = casie__model_file_open(p, &mf, &err);
    if (rc >= 0) casie__model_file_close(&mf);
    assert_true(rc < 0);
    assert_int_equal(err.code, rc);
    assert_true(mf_is_empty(&mf));
    assert_non_null(strstr(err.message, p));
    if (code) assert_int_equal(rc, code);
    if (needle && !strstr(err.message, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.message, needle);
        fail();
    }
    return rc;
}

/* ---- layout and checksum ------------------------------------------------ */

static void test_crc_check_value(void **state) {
    (void)state;
    assert_int_equal(ref_crc(0, "123456789", 9), 0xe3069283u);
    casie__section s = {"CHEK", "123456789", 9};
    const char *p = tmp_path("check.model");
    casie_error err = {0};
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_OK);
    size_t n;
    unsigned char *b = read_bytes(p, &n);
    assert_int_equal(n, 64 + 9);
    assert_int_equal(get32(b + 32 + 24), 0xe3069283u);
    free(b);
}

/* Section CRCs for lengths 0..199 at every alignment of the source, and one
 * large section: the sliced CRC equals the bitwise definition. */
static void test_crc_many_lengths(void **state) {
    (void)state;
    enum { N = 200, BIG = 1 << 20 };
    unsigned char *data = malloc(BIG + 8);
    assert_non_null(data);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < BIG + 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (unsigned char)x;
    }
    casie__section secs[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(secs[i].tag, sizeof secs[i].tag, "L%03d", i);
        secs[i].data = data + (i % 8);
        secs[i].size = (uint64_t)i;
    }
    memcpy(secs[N].tag, "BIG!", 5);
    secs[N].data = data + 3;
    secs[N].size = BIG;
    const char *p = tmp_path("crc.model");
    casie_error err = {0};
    assert_int_equal(casie__model_file_write(p, secs, N + 1, &err), CASIE_OK);
    size_t n;
    unsigned char *b = read_bytes(p, &n);
    for (int i = 0; i <= N; i++)
        assert_int_equal(get32(b + 32 + 32 * i + 24), ref_crc(0, secs[i].data, secs[i].size));
    size_t rn;
    unsigned char *ref = ref_build(secs, N + 1, &rn);
    assert_int_equal(n, rn);
    assert_memory_equal(b, ref, n);
    free(ref);
    free(b);
    free(data);
}

/* The writer's bytes are exactly the spec's. */
static void test_golden_layout(void **state) {
    (void)state;
    size_t n, rn;
    unsigned char *b = small_image(&n);
    unsigned char *ref = ref_build(g_small, 4, &rn);
    assert_int_equal(n, rn);
    assert_memory_equal(b, ref, n);
    /* spot checks of the layout described in FORMAT.md */
    assert_memory_equal(b, "CASIEMDL", 8);
    assert_int_equal(get32(b + 8), 1);
    assert_int_equal(get32(b + 12), 4);
    assert_int_equal(get64(b + 16), 259);
    assert_int_equal(get32(b + 28), 0);
    static const uint64_t offs[4] = {160, 192, 192, 256};
    for (int i = 0; i < 4; i++)
        assert_int_equal(get64(b + 32 + 32 * i + 8), offs[i]);
    free(ref);
    free(b);
}

/* ---- round trips -------------------------------------------------------- */

static void check_sections(const casie__model_file *mf, const casie__section *secs, int n) {
    assert_int_equal(mf->n_secs, n);
    for (int i = 0; i < n; i++) {
        const casie__section *s = &mf->secs[i];
        assert_string_equal(s->tag, secs[i].tag);
        assert_int_equal(s->size, secs[i].size);
        assert_int_equal((uintptr_t)s->data % 32, 0);
        if (s->size) assert_memory_equal(s->data, secs[i].data, s->size);
        assert_ptr_equal(casie__model_file_find(mf, secs[i].tag), s);
    }
}

static void test_round_trip(void **state) {
    (void)state;
    enum { NF = 1000 };
    float *f = malloc(NF * sizeof *f);
    assert_non_null(f);
    for (int i = 0; i < NF; i++)
        f[i] = (float)i * 0.25f - 17.0f;
    char odd[33];
    for (int i = 0; i < 33; i++)
        odd[i] = (char)(i * 7);
    const casie__section secs[6] = {{"META", "{\"version\":\"0.1.0\"}", 19},
                                    {"F32A", f, NF * sizeof *f},
                                    {"ZERO", NULL, 0},
                                    {"ODD1", odd, 1},
                                    {"O32B", odd, 32},
                                    {"O33B", odd, 33}};
    const char *p = tmp_path("rt.model");
    casie_error err = {0};
    assert_int_equal(casie__model_file_write(p, secs, 6, &err), CASIE_OK);

    casie__model_file mf;
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_OK);
    assert_int_equal(mf.owned, 0);
    check_sections(&mf, secs, 6);
    const float *g = casie__model_file_find(&mf, "F32A")->data; /* floats in place */
    for (int i = 0; i < NF; i++)
        assert_true(g[i] == f[i]);
    assert_null(casie__model_file_find(&mf, "NONE"));
    assert_null(casie__model_file_find(&mf, "MET"));
    assert_null(casie__model_file_find(&mf, "META!"));
    assert_null(casie__model_file_find(&mf, NULL));
    casie__model_file_close(&mf);
    assert_true(mf_is_empty(&mf));

    /* parse from memory, also from a misaligned buffer */
    size_t n;
    unsigned char *b = read_bytes(p, &n);
    unsigned char *shifted = malloc(n + 1);
    assert_non_null(shifted);
    memcpy(shifted + 1, b, n);
    assert_int_equal(casie__model_file_parse(shifted + 1, n, &mf, &err), CASIE_OK);
    assert_int_equal(mf.owned, 1);
    free(shifted); /* parse copied it */
    check_sections(&mf, secs, 6);
    casie__model_file_close(&mf);
    free(b);
    free(f);
}

static void test_zero_sections(void **state) {
    (void)state;
    const char *p = tmp_path("empty.model");
    casie_error err = {0};
    assert_int_equal(casie__model_file_write(p, NULL, 0, &err), CASIE_OK);
    size_t n;
    unsigned char *b = read_bytes(p, &n);
    assert_int_equal(n, 32);
    casie__model_file mf;
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_OK);
    assert_int_equal(mf.n_secs, 0);
    assert_null(casie__model_file_find(&mf, "META"));
    casie__model_file_close(&mf);
    assert_int_equal(casie__model_file_parse(b, n, &mf, &err), CASIE_OK);
    casie__model_file_close(&mf);
    free(b);
}

/* Writing over a file replaces it whole, leaves no temp file, and a mapping
 * of the old file stays valid. */
static void test_overwrite(void **state) {
    (void)state;
    const char *p = tmp_path("over.model");
    const casie__section a = {"DATA", "old contents", 12}, b = {"DATA", "the new contents", 16};
    casie_error err = {0};
    assert_int_equal(casie__model_file_write(p, &a, 1, &err), CASIE_OK);
    casie__model_file old, cur;
    assert_int_equal(casie__model_file_open(p, &old, &err), CASIE_OK);
    assert_int_equal(casie__model_file_write(p, &b, 1, &err), CASIE_OK);
    assert_int_equal(count_temps("over.model"), 0);
    assert_int_equal(casie__model_file_open(p, &cur, &err), CASIE_OK);
    check_sections(&old, &a, 1);
    check_sections(&cur, &b, 1);
    casie__model_file_close(&old);
    casie__model_file_close(&cur);
}

/* What a hostile hand may leave at the temporary's old name (path.tmp) or
 * at the path itself.  The writer used to open path.tmp with O_TRUNC and no
 * O_NOFOLLOW: it wrote through a link planted there (and then renamed the
 * link over path), waited forever on a FIFO there, and renamed a regular
 * file over a FIFO or device at path.  Now the temporary is a new file
 * (O_CREAT|O_EXCL|O_NOFOLLOW, a name of its own), and a path that exists and
 * is not a regular file is refused, named, and left as it is. */
static void test_planted_files(void **state) {
    (void)state;
    const casie__section s = {"DATA", "model bytes", 11};
    casie_error err = {0};
    casie__model_file mf;
    char tmp[600], victim[600];
    snprintf(victim, sizeof victim, "%s", tmp_path("victim")); /* tmp_path's buffers are reused */
    write_bytes(victim, "precious", 8);

    /* a symbolic link at path.tmp: its target is not written */
    const char *p = tmp_path("link-tmp.model");
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    assert_int_equal(symlink(victim, tmp), 0);
    alarm(10);
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_OK);
    alarm(0);
    size_t n;
    unsigned char *b = read_bytes(victim, &n);
    assert_int_equal(n, 8);
    assert_memory_equal(b, "precious", 8);
    free(b);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_OK);
    check_sections(&mf, &s, 1);
    casie__model_file_close(&mf);
    assert_int_equal(lstat(tmp, &st), 0); /* left alone */
    assert_true(S_ISLNK(st.st_mode));

    /* a FIFO at path.tmp with no reader: no wait (the alarm ends the test) */
    p = tmp_path("fifo-tmp.model");
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    assert_int_equal(mkfifo(tmp, 0600), 0);
    alarm(10);
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_OK);
    alarm(0);
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_OK);
    casie__model_file_close(&mf);

    /* a FIFO, a link and a directory at path itself: refused, each named */
    p = tmp_path("fifo.model");
    assert_int_equal(mkfifo(p, 0600), 0);
    alarm(10);
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_ERR_IO);
    alarm(0);
    assert_non_null(strstr(err.message, p));
    assert_non_null(strstr(err.message, "not a regular file; not replaced"));
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(count_temps("fifo.model"), 0);

    p = tmp_path("link.model");
    assert_int_equal(symlink(victim, p), 0);
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_ERR_IO);
    assert_non_null(strstr(err.message, p));
    assert_non_null(strstr(err.message, "symbolic link; not replaced"));
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    b = read_bytes(victim, &n);
    assert_memory_equal(b, "precious", 8);
    free(b);

    p = tmp_path("dir.model");
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_ERR_IO);
    assert_non_null(strstr(err.message, "not a regular file; not replaced"));
    assert_int_equal(rmdir(p), 0);
    assert_int_equal(count_temps("dir.model"), 0);
}

/* Two threads writing one path at once: each write is whole (a temporary of
 * its own each), the file at the end is one of them, no temporary remains.
 * With one shared path.tmp, one writer truncated the other's file, or
 * renamed it away under it. */
typedef struct writer_arg {
    const char *path;
    casie__section s;
    int failures;
} writer_arg;

static void *writer_thread(void *p) {
    writer_arg *a = p;
    for (int i = 0; i < 40; i++) {
        casie_error err = {0};
        a->failures += casie__model_file_write(a->path, &a->s, 1, &err) != CASIE_OK;
    }
    return NULL;
}

static void test_concurrent_writers(void **state) {
    (void)state;
    enum { NA = 50000, NB = 70000 };
    char *da = malloc(NA), *db = malloc(NB);
    assert_non_null(da);
    assert_non_null(db);
    memset(da, 'a', NA);
    memset(db, 'b', NB);
    const char *p = tmp_path("race.model");
    writer_arg a = {p, {"DATA", da, NA}, 0}, b = {p, {"DATA", db, NB}, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, writer_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, writer_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures + b.failures, 0);
    casie__model_file mf;
    casie_error err = {0};
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_OK);
    const casie__section *got = casie__model_file_find(&mf, "DATA");
    assert_non_null(got);
    assert_true(got->size == NA ? !memcmp(got->data, da, NA) : got->size == NB && !memcmp(got->data, db, NB));
    casie__model_file_close(&mf);
    assert_int_equal(count_temps("race.model"), 0);
    free(da);
    free(db);
}

static void test_close_is_safe(void **state) {
    (void)state;
    casie__model_file mf;
    memset(&mf, 0, sizeof mf);
    casie__model_file_close(&mf);
    casie__model_file_close(&mf);
    casie__model_file_close(NULL);
    assert_null(casie__model_file_find(NULL, "META"));
    assert_null(casie__model_file_find(&mf, "META"));
}

/* ---- every corruption refused ------------------------------------------- */

static void test_every_byte_flip(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = small_image(&n);
    static const unsigned char xors[3] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            b[i] ^= xors[k];
            refused(b, n, 0, NULL);
            refused_file(b, n, 0, NULL);
            b[i] ^= xors[k];
        }
    /* and the untouched image is still accepted */
    casie__model_file mf;
    casie_error err = {0};
    assert_int_equal(casie__model_file_parse(b, n, &mf, &err), CASIE_OK);
    check_sections(&mf, g_small, 4);
    casie__model_file_close(&mf);
    free(b);
}

static void test_every_truncation(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = small_image(&n);
    for (size_t len = 0; len < n; len++) {
        int rc = refused(b, len, CASIE_ERR_MODEL_CORRUPT, NULL);
        assert_int_equal(refused_file(b, len, 0, NULL), rc);
    }
    free(b);
}

static void test_appended_bytes(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = small_image(&n);
    unsigned char *c = calloc(1, n + 32);
    assert_non_null(c);
    memcpy(c, b, n);
    refused(c, n + 1, CASIE_ERR_MODEL_CORRUPT, "header says 259");
    refused_file(c, n + 32, CASIE_ERR_MODEL_CORRUPT, "header says 259");
    /* a file size field raised to match still leaves bytes after the last section */
    put64(c + 16, n + 32);
    fix_header_crc(c, n + 32);
    refused(c, n + 32, CASIE_ERR_MODEL_CORRUPT, "after the last section");
    free(c);
    free(b);
}

/* Random multi-byte damage (deterministic seed): always refused. */
static void test_random_damage(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = small_image(&n);
    unsigned char *c = malloc(n);
    assert_non_null(c);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int it = 0; it < 5000; it++) {
        memcpy(c, b, n);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = 1 + (int)(x % 6);
        for (int j = 0; j < k; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = (size_t)(x % n);
            unsigned char v = (unsigned char)(x >> 40);
            c[at] = v != c[at] ? v : (unsigned char)(v ^ 0x10);
        }
        refused(c, n, 0, NULL);
    }
    free(c);
    free(b);
}

/* ---- one test per error code -------------------------------------------- */

static void test_err_magic(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = small_image(&n);
    b[0] = 'X';
    refused(b, n, CASIE_ERR_MODEL_MAGIC, "not a casie model file");
    refused_file(b, n, CASIE_ERR_MODEL_MAGIC, "not a casie model file");
    memcpy(b, "CASIEMDM", 8);
    refused(b, n, CASIE_ERR_MODEL_MAGIC, NULL);
    memcpy(b, "CASIEMDL", 8);
    refused(b, 7, CASIE_ERR_MODEL_CORRUPT, "truncated"); /* a prefix of the magic is a truncation */
    const char *text = "{\"content\": \"not a model\"}";
    refused_file((const unsigned char *)text, strlen(text), CASIE_ERR_MODEL_MAGIC, "not a casie model file");
    refused((const unsigned char *)"C", 1, CASIE_ERR_MODEL_CORRUPT, NULL);
    refused((const unsigned char *)"D", 1, CASIE_ERR_MODEL_MAGIC, NULL);
    free(b);
}

static void test_err_version(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = small_image(&n);
    put32(b + 8, 2);
    /* refused as newer whether or not the rest looks like version 1 */
    refused(b, n, CASIE_ERR_MODEL_VERSION, "version 2 is newer than this casie reads (version 1)");
    fix_header_crc(b, n);
    refused_file(b, n, CASIE_ERR_MODEL_VERSION, "version 2");
    put32(b + 8, 0xffffffffu);
    refused(b, n, CASIE_ERR_MODEL_VERSION, "4294967295");
    /* a newer file may be any size, even shorter than this version's header */
    unsigned char v2[16] = "CASIEMDL";
    put32(v2 + 8, 2);
    refused(v2, 12, CASIE_ERR_MODEL_CORRUPT, NULL); /* cannot read the version: truncated */
    unsigned char v2h[32] = "CASIEMDL";
    put32(v2h + 8, 7);
    refused(v2h, 32, CASIE_ERR_MODEL_VERSION, "version 7");
    free(b);
}

/* Each structural check, reached by editing the image and fixing the header
 * checksum so that only that defect remains. */
static void test_err_corrupt(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = small_image(&n);
    unsigned char *c = malloc(n + 64);
    assert_non_null(c);
#define EDIT(stmt, needle)                                                                                             \
    do {                                                                                                               \
        memcpy(c, b, n);                                                                                               \
        stmt;                                                                                                          \
        fix_header_crc(c, n);                                                                                          \
        refused(c, n, CASIE_ERR_MODEL_CORRUPT, needle);                                                                \
        refused_file(c, n, CASIE_ERR_MODEL_CORRUPT, needle);                                                           \
    } while (0)
    enum { T = 32, META = T, EMPT = T + 32, WGHT = T + 64, TAIL = T + 96 };
    EDIT(put32(c + 8, 0), "format version 0");
    EDIT(put32(c + 12, 257), "257 sections (at most 256)");
    EDIT(put32(c + 12, 8), "section table (8 entries) runs past the end");
    EDIT(put32(c + 28, 1), "reserved header field");
    EDIT(memcpy(c + WGHT, "WG T", 4), "section 2 has a bad tag");
    EDIT(c[WGHT + 3] = 0, "section 2 has a bad tag");
    EDIT(memcpy(c + TAIL, "META", 4), "two sections tagged META");
    EDIT(put32(c + WGHT + 4, 1), "section WGHT has unknown flags");
    EDIT(put32(c + WGHT + 28, 1), "section WGHT has unknown flags");
    EDIT(put64(c + WGHT + 8, 200), "section WGHT at offset 200 is not 32-byte aligned");
    EDIT(put64(c + TAIL + 8, 288), "section TAIL (offset 288, 3 bytes) runs past the end");
    EDIT(put64(c + TAIL + 16, 4), "section TAIL (offset 256, 4 bytes) runs past the end");
    EDIT(put64(c + TAIL + 16, UINT64_MAX), "runs past the end");
    EDIT(put64(c + TAIL + 8, UINT64_MAX - 31), "runs past the end");
    EDIT(put64(c + META + 8, 128), "section META at offset 128 overlaps the section table");
    EDIT(put64(c + TAIL + 8, 224), "section TAIL at offset 224 overlaps the previous section");
    EDIT((put64(c + WGHT + 16, 8), put64(c + TAIL + 8, 224), put64(c + TAIL + 16, 35)), "nonzero padding byte");
    EDIT(put64(c + WGHT + 16, 8), "section TAIL at offset 256, expected 224");
    EDIT(put64(c + TAIL + 16, 1), "2 bytes after the last section");
    EDIT(put32(c + EMPT + 24, 1), "section EMPT checksum mismatch");
#undef EDIT
    /* damage that needs no header fix */
    memcpy(c, b, n);
    c[200] ^= 0x40;
    refused_file(c, n, CASIE_ERR_MODEL_CORRUPT, "section WGHT checksum mismatch");
    memcpy(c, b, n);
    c[170] = 1;
    refused_file(c, n, CASIE_ERR_MODEL_CORRUPT, "nonzero padding byte at offset 170");
    memcpy(c, b, n);
    put32(c + META + 24, get32(c + META + 24) ^ 1);
    refused_file(c, n, CASIE_ERR_MODEL_CORRUPT, "header checksum mismatch");
    refused_file(c, 0, CASIE_ERR_MODEL_CORRUPT, "truncated to 0 bytes");
    refused_file(b, 100, CASIE_ERR_MODEL_CORRUPT, "truncated to 100 bytes, the header says 259");
    free(c);
    free(b);
}

static void test_err_io(void **state) {
    (void)state;
    casie__model_file mf;
    casie_error err = {0};
    const char *p = tmp_path("missing.model");
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_ERR_IO);
    assert_non_null(strstr(err.message, p));
    assert_non_null(strstr(err.message, strerror(ENOENT)));
    assert_true(mf_is_empty(&mf));

    assert_int_equal(casie__model_file_open(g_dir, &mf, &err), CASIE_ERR_IO);
    assert_non_null(strstr(err.message, "not a regular file"));

    /* a FIFO with no writer is refused at once (opening it used to wait for
     * a writer, forever: the alarm ends the test then) */
    p = tmp_path("fifo.model");
    assert_int_equal(mkfifo(p, 0600), 0);
    alarm(10);
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_ERR_IO);
    alarm(0);
    assert_non_null(strstr(err.message, "not a regular file"));
    assert_true(mf_is_empty(&mf));
    alarm(10);
    casie_model *m = casie_model_load(p, &err);
    alarm(0);
    assert_null(m);
    assert_non_null(strstr(err.message, "not a regular file"));
    unlink(p);

    const casie__section s = {"DATA", "abc", 3};
    p = tmp_path("no/such/dir.model");
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_ERR_IO);
    assert_non_null(strstr(err.message, p));
    assert_non_null(strstr(err.message, strerror(ENOENT)));

    /* a full disk: a file size limit makes write() fail with EFBIG; the old
     * file stays and the temp file is removed */
    p = tmp_path("full.model");
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_OK);
    enum { BIG = 100000 };
    char *big = calloc(1, BIG);
    assert_non_null(big);
    const casie__section bs = {"HUGE", big, BIG};
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 8192;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = casie__model_file_write(p, &bs, 1, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, CASIE_ERR_IO);
    assert_non_null(strstr(err.message, p));
    assert_non_null(strstr(err.message, strerror(EFBIG)));
    assert_int_equal(count_temps("full.model"), 0);
    assert_int_equal(casie__model_file_open(p, &mf, &err), CASIE_OK);
    check_sections(&mf, &s, 1);
    casie__model_file_close(&mf);
    free(big);
}

static void test_err_invalid_arg(void **state) {
    (void)state;
    casie_error err = {0};
    const char *p = tmp_path("bad_args.model");
    casie__section s[2] = {{"DATA", "abc", 3}, {"MORE", "de", 2}};
    assert_int_equal(casie__model_file_write(NULL, s, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__model_file_write("", s, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__model_file_write(p, NULL, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__model_file_write(p, s, -1, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__model_file_write(p, s, 257, &err), CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, p));
    static const char *const bad_tags[] = {"", "ABC", "AB D", "AB\tD", "\200ABC"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof *bad_tags; i++) {
        casie__section t = s[0];
        memset(t.tag, 0, sizeof t.tag);
        memcpy(t.tag, bad_tags[i], strlen(bad_tags[i]));
        assert_int_equal(casie__model_file_write(p, &t, 1, &err), CASIE_ERR_INVALID_ARG);
        assert_non_null(strstr(err.message, "tag"));
    }
    casie__section t = s[0];
    memcpy(t.tag, "ABCDE", 5); /* no NUL within tag[5] */
    assert_int_equal(casie__model_file_write(p, &t, 1, &err), CASIE_ERR_INVALID_ARG);
    memcpy(s[1].tag, "DATA", 5);
    assert_int_equal(casie__model_file_write(p, s, 2, &err), CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "two sections tagged DATA"));
    casie__section nd = {"NULL", NULL, 5};
    assert_int_equal(casie__model_file_write(p, &nd, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(access(p, F_OK), -1); /* nothing was written */

    casie__model_file mf;
    assert_int_equal(casie__model_file_open(NULL, &mf, &err), CASIE_ERR_INVALID_ARG);
    assert_true(mf_is_empty(&mf));
    assert_int_equal(casie__model_file_open(p, NULL, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__model_file_parse(NULL, 10, &mf, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__model_file_parse("x", 1, NULL, &err), CASIE_ERR_INVALID_ARG);
    /* a NULL error struct is fine */
    assert_int_equal(casie__model_file_open(NULL, &mf, NULL), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__model_file_parse("x", 1, &mf, NULL), CASIE_ERR_MODEL_MAGIC);
}

static void test_err_limit(void **state) {
    (void)state;
    casie_error err = {0};
    const casie__section s = {"HUGE", "x", (uint64_t)INT64_MAX}; /* refused before any byte is read */
    const char *p = tmp_path("limit.model");
    assert_int_equal(casie__model_file_write(p, &s, 1, &err), CASIE_ERR_LIMIT);
    assert_non_null(strstr(err.message, p));
    assert_int_equal(access(p, F_OK), -1);
}

/* ---- setup -------------------------------------------------------------- */

static int group_setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/casie_model_file_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(tmp_path(e->d_name));
        closedir(d);
    }
    return rmdir(g_dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_check_value),
        cmocka_unit_test(test_crc_many_lengths),
        cmocka_unit_test(test_golden_layout),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_zero_sections),
        cmocka_unit_test(test_overwrite),
        cmocka_unit_test(test_close_is_safe),
        cmocka_unit_test(test_every_byte_flip),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_appended_bytes),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_err_magic),
        cmocka_unit_test(test_err_version),
        cmocka_unit_test(test_err_corrupt),
        cmocka_unit_test(test_err_io),
        cmocka_unit_test(test_err_invalid_arg),
        cmocka_unit_test(test_err_limit),
        cmocka_unit_test(test_planted_files),
        cmocka_unit_test(test_concurrent_writers),
    };
    return cmocka_run_group_tests_name("model_file", tests, group_setup, group_teardown);
}
