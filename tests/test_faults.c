/*
 * test_faults.c - faults injected into the library, each a test:
 * - allocation failure at every allocation in turn during model load +
 *   extraction of a small document (text and JSON), and at a sample of the
 *   allocations of training on a tiny corpus: a clean error, no crash, no leak;
 * - every single-byte change (three XOR masks per byte) and every truncation
 *   of a small but real model file (tests/tiny_model.h): refused by
 *   casie_model_load with an error, never loaded.
 *
 * Allocations are counted and failed through the linker's --wrap of malloc,
 * calloc, realloc and free (the Makefile links this test so): that covers
 * every allocation of libcasie.a; jansson's go through the same counter by
 * json_set_alloc_funcs.  Leaks are counted here too (a table of live blocks),
 * so the plain `make test` finds them, not only ASan and valgrind.
 */
#include "test_common.h"
#include "tiny_model.h"
#include "../src/linear.h"
#include "../src/model.h"

#include <execinfo.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/mman.h>

/* ---- a failing, counting allocator ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static long g_calls;   /* allocations since fault_arm */
static long g_fail_at; /* fail the allocation with this number (1-based); 0: never */
static int g_failed;   /* an allocation was failed */
#define LIVE_SLOTS (1u << 20)
static void *g_live[LIVE_SLOTS]; /* open addressing; (void *)1 marks a deleted slot */
static long g_n_live;
static int g_trace;
static int g_in_jansson; /* the failed allocation was jansson's */

static size_t slot_of(const void *p) {
    return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 44) & (LIVE_SLOTS - 1);
}

static void live_add(void *p) {
    size_t i = slot_of(p);
    while (g_live[i] && g_live[i] != (void *)1)
        i = (i + 1) & (LIVE_SLOTS - 1);
    g_live[i] = p;
    g_n_live++;
}

static void live_del(void *p) {
    for (size_t i = slot_of(p), k = 0; g_live[i] && k < LIVE_SLOTS; i = (i + 1) & (LIVE_SLOTS - 1), k++)
        if (g_live[i] == p) {
            g_live[i] = (void *)1;
            g_n_live--;
            return;
        }
    /* not ours: allocated by libc or a shared library */
}

/* Counts one allocation; 1 when this one is to fail. */
static int should_fail(void) {
    long k = ++g_calls;
    if (g_fail_at && k == g_fail_at) {
        g_failed = 1;
        if (g_trace) { /* FAULT_TRACE=1: where each failed allocation is */
            void *bt[12];
            fprintf(stderr, "-- allocation %ld fails at:\n", k);
            backtrace_symbols_fd(bt, backtrace(bt, 12), 2);
        }
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) {
    pthread_mutex_lock(&g_lock);
    void *p = should_fail() ? NULL : __real_malloc(n);
    if (p) live_add(p);
    pthread_mutex_unlock(&g_lock);
    return p;
}

void *__wrap_calloc(size_t k, size_t n) {
    pthread_mutex_lock(&g_lock);
    void *p = should_fail() ? NULL : __real_calloc(k, n);
    if (p) live_add(p);
    pthread_mutex_unlock(&g_lock);
    return p;
}

void *__wrap_realloc(void *old, size_t n) {
    pthread_mutex_lock(&g_lock);
    void *p = should_fail() ? NULL : __real_realloc(old, n);
    if (p) {
        if (old) live_del(old);
        live_add(p);
    }
    pthread_mutex_unlock(&g_lock);
    return p;
}

/* jansson's allocations, through json_set_alloc_funcs */
static void *jansson_malloc(size_t n) {
    long before = g_calls;
    void *p = __wrap_malloc(n);
    if (!p && g_fail_at == before + 1) g_in_jansson = 1;
    return p;
}

void __wrap_free(void *p) {
    if (!p) return;
    pthread_mutex_lock(&g_lock);
    live_del(p);
    pthread_mutex_unlock(&g_lock);
    __real_free(p);
}

static void fault_arm(long fail_at) {
    pthread_mutex_lock(&g_lock);
    g_calls = 0;
    g_fail_at = fail_at;
    g_failed = 0;
    g_in_jansson = 0;
    pthread_mutex_unlock(&g_lock);
}

static long fault_disarm(void) {
    pthread_mutex_lock(&g_lock);
    long n = g_calls;
    g_fail_at = 0;
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* ---- fixtures ---- */

static char g_dir[64];
static char g_tiny[128]; /* the tiny model file */

static const char article[] = "Hackers breached the servers of Acme Corp. on Monday and stole the credit card data "
                              "of 2 million customers. Microsoft released a patch for CVE-2019-0708 in Windows 7. "
                              "The attackers demanded $5,000 in Bitcoin.";

static const char record[] = "{\"id\": \"r1\", \"text\": \"Ransomware encrypted the files of the city of Atlanta; "
                             "the attackers asked for 6 bitcoins.\", \"info\": {\"title\": \"Atlanta\"}}";

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/casie_test_faults_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    snprintf(g_tiny, sizeof g_tiny, "%s/tiny.model", g_dir);
    casie_error err = {0};
    if (tiny_model_write("models/casie-fast.model", g_tiny, 64, &err)) {
        fprintf(stderr, "tiny model: %s\n", err.message);
        return -1;
    }
    json_set_alloc_funcs(jansson_malloc, __wrap_free);
    g_trace = getenv("FAULT_TRACE") != NULL;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- allocation failure ---- */

/* One run of the operation under test; returns 0 on success, else a status
 * with err filled in.  Frees everything it made either way. */
typedef int (*op_fn)(casie_error *err);

static uint64_t g_out_hash; /* of the last operation's output, 0 when none */

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h | 1;
}
static uint64_t hash_str(const char *s) { return hash_bytes(s, strlen(s), 1469598103934665603ull); }

static int op_load_extract(casie_error *err, int json) {
    casie_model *m = casie_model_load(g_tiny, err);
    if (!m) return err->code;
    casie_doc *d = json ? casie_doc_from_json(record, sizeof record - 1, "record", err)
                        : casie_doc_from_text(article, sizeof article - 1, "article", err);
    int rc = d ? casie_extract(m, d, NULL, err) : err->code;
    char *js = rc == 0 ? casie_doc_to_json(d, CASIE_JSON_SCORES, NULL, err) : NULL;
    if (rc == 0 && !js) rc = err->code;
    g_out_hash = js ? hash_str(js) : 0;
    casie_free(js);
    casie_doc_free(d);
    casie_model_free(m);
    return rc;
}
static int op_text(casie_error *err) { return op_load_extract(err, 0); }
static int op_json(casie_error *err) { return op_load_extract(err, 1); }

/* A tiny annotated corpus: tests/data/drift.json and two records given
 * their events by JSON. */
static const char *const train_docs[] = {
    "{\"id\": \"t1\", \"text\": \"Hackers breached Acme and stole data.\", \"cyberevent\": {\"hopper\": [{\"events\": "
    "[{"
    "\"type\": \"Attack\", \"subtype\": \"Databreach\", \"realis\": \"Actual\", \"nugget\": {\"startOffset\": 8, "
    "\"endOffset\": 16, \"text\": \"breached\"}, \"argument\": [{\"startOffset\": 0, \"endOffset\": 7, \"text\": "
    "\"Hackers\", \"role\": {\"type\": \"Attacker\"}, \"type\": \"Person\"}, {\"startOffset\": 17, \"endOffset\": 21, "
    "\"text\": \"Acme\", \"role\": {\"type\": \"Victim\"}, \"type\": \"Organization\"}]}]}]}}",
    "{\"id\": \"t2\", \"text\": \"Microsoft patched the flaw in Windows.\", \"cyberevent\": {\"hopper\": [{\"events\": "
    "[{"
    "\"type\": \"Vulnerability-related\", \"subtype\": \"PatchVulnerability\", \"realis\": \"Actual\", \"nugget\": "
    "{\"startOffset\": "
    "10, \"endOffset\": 17, \"text\": \"patched\"}, \"argument\": [{\"startOffset\": 0, \"endOffset\": 9, \"text\": "
    "\"Microsoft\", \"role\": {\"type\": \"Releaser\"}, \"type\": \"Organization\"}]}]}]}}",
};

static int op_train(casie_error *err) {
    casie_doc *docs[3] = {0};
    int n = 0, rc = 0;
    for (int i = 0; i < 2; i++) {
        if (!(docs[n] = casie_doc_from_json(train_docs[i], strlen(train_docs[i]), "train", err))) {
            rc = err->code;
            goto done;
        }
        n++;
    }
    if (!(docs[n] = casie_doc_load("tests/data/drift.json", err))) {
        rc = err->code;
        goto done;
    }
    n++;
    casie_train_params p = casie_train_default_params();
    p.threads = 1;
    p.epochs = 1;
    casie_model *m = casie_train(docs, n, docs, 1, &p, err);
    if (!m) rc = err->code;
    g_out_hash = 0;
    if (m) { /* the weights of every stage, and the tuned values */
        const casie__linear *lin[5] = {&m->trig, &m->arg, &m->ent, &m->realis, &m->coref};
        for (int i = 0; i < 5; i++)
            g_out_hash = hash_bytes(lin[i]->w, sizeof(float) * lin[i]->n_rows * lin[i]->stride, g_out_hash * 31 + 1);
        g_out_hash = hash_bytes(&m->trig_bias, 4 * sizeof(float), g_out_hash);
    }
    casie_model_free(m);
done:
    for (int i = 0; i < n; i++)
        casie_doc_free(docs[i]);
    return rc;
}

/* Runs op failing allocation k for each k in ks (or every one when ks is
 * NULL): each run either succeeds or fails cleanly (a negative status and a
 * message), and leaves no block allocated.  Returns the allocations of a
 * run without failures. */
/* Of the last fail_each: clean errors, runs that succeeded anyway with the
 * same result, and runs where jansson lost part of the input.  jansson 2.14
 * ignores a failed allocation in its lexer (load.c: lex_save drops the byte
 * when strbuffer_append_byte fails), so a JSON string can come back short
 * with no error; the library cannot see it without a global allocation hook,
 * which it must not install.  Those runs are counted, not failed. */
static long g_errors, g_recovered, g_jansson_lossy;

static long fail_each(op_fn op, const long *ks, int n_ks) {
    g_errors = g_recovered = g_jansson_lossy = 0;
    casie_error err = {0};
    long live0 = g_n_live;
    fault_arm(0);
    g_out_hash = 0;
    assert_int_equal(op(&err), 0);
    long total = fault_disarm();
    uint64_t want = g_out_hash;
    assert_true(total > 0);
    assert_int_equal(g_n_live, live0);
    long runs = ks ? n_ks : total;
    for (long i = 0; i < runs; i++) {
        long k = ks ? ks[i] : i + 1;
        memset(&err, 0, sizeof err);
        fault_arm(k);
        int rc = op(&err);
        fault_disarm();
        if (rc != 0) {
            if (rc >= 0 || err.code != rc || !err.message[0])
                fail_msg("allocation %ld of %ld failed: status %d, message '%s'", k, total, rc, err.message);
            g_errors++;
        } else if (g_failed) {
            /* a failure with a fallback (e.g. a smaller buffer) is fine, a different result is not */
            if (g_out_hash == want)
                g_recovered++;
            else if (g_in_jansson)
                g_jansson_lossy++;
            else
                fail_msg("allocation %ld of %ld failed: success with a different result", k, total);
        }
        if (g_n_live != live0) fail_msg("allocation %ld of %ld failed: %ld blocks leaked", k, total, g_n_live - live0);
    }
    return total;
}

static void nomem_load_extract_text(void **state) {
    (void)state;
    long n = fail_each(op_text, NULL, 0);
    print_message("model load + extract (text): %ld allocations, each failed in turn: %ld errors, %ld recovered\n", n,
                  g_errors, g_recovered);
}

static void nomem_load_extract_json(void **state) {
    (void)state;
    long n = fail_each(op_json, NULL, 0);
    print_message("model load + extract (JSON record): %ld allocations, each failed in turn: %ld errors, %ld "
                  "recovered, %ld lost bytes in jansson\n",
                  n, g_errors, g_recovered, g_jansson_lossy);
}

static void nomem_training_sample(void **state) {
    (void)state;
    casie_error err = {0};
    fault_arm(0);
    assert_int_equal(op_train(&err), 0);
    long total = fault_disarm();
    /* the first 40, then 40 spread evenly over the rest, and the last */
    long ks[81];
    int n = 0;
    for (long k = 1; k <= 40 && k <= total; k++)
        ks[n++] = k;
    for (int i = 1; i <= 40 && total > 40; i++)
        ks[n++] = 40 + (total - 40) * i / 41;
    ks[n++] = total;
    fail_each(op_train, ks, n);
    print_message(
        "training: %ld allocations, %d of them failed in turn: %ld errors, %ld recovered, %ld lost bytes in jansson\n",
        total, n, g_errors, g_recovered, g_jansson_lossy);
}

/* ---- damaged model files ---- */

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* The damaged copies live in a memfd (named /proc/self/fd/N): no file per copy. */
static int g_memfd = -1;

static void spit(const char *path, const unsigned char *b, size_t n) {
    (void)path;
    assert_int_equal(ftruncate(g_memfd, 0), 0);
    assert_int_equal(pwrite(g_memfd, b, n, 0), (ssize_t)n);
}

static void refused(const char *path, const char *what, size_t at) {
    casie_error err = {0};
    casie_model *m = casie_model_load(path, &err);
    if (m) fail_msg("%s at byte %zu: loaded", what, at);
    if (err.code >= 0 || !err.message[0]) fail_msg("%s at byte %zu: no error", what, at);
}

/* Every single-byte change (XOR 0x01, 0x80, 0xff at each byte) and every
 * truncation of the tiny model is refused.  CRC-32C detects every error
 * burst of 32 bits or less, so the three masks stand for all 255 values. */
static void tiny_model_damaged(void **state) {
    (void)state;
    size_t n;
    unsigned char *b = slurp(g_tiny, &n);
    char path[64];
    assert_true((g_memfd = memfd_create("damaged.model", 0)) >= 0);
    snprintf(path, sizeof path, "/proc/self/fd/%d", g_memfd);
    casie_error err = {0};
    casie_model *ok = casie_model_load(g_tiny, &err);
    assert_non_null(ok);
    casie_model_free(ok);
    static const unsigned char xors[3] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < n; i++)
        for (int x = 0; x < 3; x++) {
            b[i] ^= xors[x];
            spit(path, b, n);
            refused(path, "changed byte", i);
            b[i] ^= xors[x];
        }
    for (size_t k = 0; k < n; k++) {
        spit(path, b, k);
        refused(path, "truncated", k);
    }
    print_message("tiny model: %zu bytes, each changed 3 ways and every truncation, all refused\n", n);
    close(g_memfd);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nomem_load_extract_text),
        cmocka_unit_test(nomem_load_extract_json),
        cmocka_unit_test(nomem_training_sample),
        cmocka_unit_test(tiny_model_damaged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
