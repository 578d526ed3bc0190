/* fuzz_encoder_import.c - `casie encoder import` on arbitrary checkpoints, in
 * memory (casie__encoder_import_buffers): config.json, tokenizer_config.json,
 * vocab.txt and the safetensors header, the parts of the input after its
 * first two bytes, separated by "\n=====\n" (an empty tokenizer part: no
 * tokenizer_config.json).  The safetensors data is made here, so that the
 * mutations go to the header rather than to megabytes of floats: as many
 * bytes as the header's furthest data_offsets end asks (at most 1 MiB),
 * plus the second input byte (signed) to leave some short or some over,
 * every byte the first input byte (0x3c: small finite floats; 0x7f: F32
 * near its maximum; 0xff: NaN).  What the import accepts must load as an
 * encoder and give a tokenizer; anything it refuses must be refused with a
 * message. */
#include "fuzz_common.h"

#include "internal.h"
#include "encoder.h"
#include "wordpiece.h"

#include <jansson.h>

/* encoder_import.c's entry point for bytes in memory (not in internal.h). */
int casie__encoder_import_buffers(const char *dir, const char *config, size_t config_len, const char *tokenizer,
                                  size_t tokenizer_len, const char *vocab, size_t vocab_len, const void *weights,
                                  size_t weights_len, const char *out_path, casie_error *err);

#define SEP "\n=====\n"
#define MAX_DATA ((size_t)1 << 20)

static char g_dir[256], g_out[300];

static void cleanup(void) {
    if (g_out[0]) unlink(g_out);
    if (g_dir[0]) rmdir(g_dir);
}

/* Where the encoder file goes: a folder of our own in memory when there is
 * one (/dev/shm), else under $TMPDIR. */
static const char *out_path(void) {
    if (g_out[0]) return g_out;
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/casie-fuzz-enc-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm"
             : t                           ? t
                                           : "/tmp");
    if (!mkdtemp(g_dir)) abort();
    snprintf(g_out, sizeof g_out, "%s/out.enc", g_dir);
    atexit(cleanup);
    return g_out;
}

/* The furthest data_offsets end the header names (0 when it is not JSON). */
static size_t data_needed(const char *header, size_t len) {
    json_t *h = json_loadb(header, len, 0, NULL);
    const char *name;
    json_t *t;
    size_t most = 0;
    json_object_foreach(h, name, t) {
        json_int_t end = json_integer_value(json_array_get(json_object_get(t, "data_offsets"), 1));
        if (end > 0 && (size_t)end > most) most = (size_t)end > MAX_DATA ? MAX_DATA : (size_t)end;
    }
    json_decref(h);
    return most;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const char *part[4], *p = (const char *)data + 2, *end = (const char *)data + size;
    size_t len[4];
    for (int k = 0; k < 4; k++) {
        const char *s = k < 3 ? memmem(p, (size_t)(end - p), SEP, strlen(SEP)) : NULL;
        if (k < 3 && !s) return 0;
        part[k] = p;
        len[k] = (size_t)((s ? s : end) - p);
        p = s ? s + strlen(SEP) : end;
    }
    long want = (long)data_needed(part[3], len[3]) + (int8_t)data[1];
    size_t n_data = want < 0 ? 0 : (size_t)want > MAX_DATA ? MAX_DATA : (size_t)want;
    size_t st_len = 8 + len[3] + n_data;
    unsigned char *st = malloc(st_len);
    if (!st) abort();
    for (int i = 0; i < 8; i++)
        st[i] = (unsigned char)((uint64_t)len[3] >> (8 * i));
    memcpy(st + 8, part[3], len[3]);
    memset(st + 8 + len[3], data[0], n_data);

    casie_error err = {0};
    const char *out = out_path();
    int rc = casie__encoder_import_buffers("fuzz", part[0], len[0], len[1] ? part[1] : NULL, len[1], part[2], len[2],
                                           st, st_len, out, &err);
    free(st);
    if (rc) {
        if (rc >= 0 || err.code != rc || !err.message[0]) abort();
        return 0;
    }
    casie_encoder *e = casie_encoder_load(out, &err);
    if (!e) {
        fprintf(stderr, "imported, but does not load: %s\n", err.message);
        abort();
    }
    casie__wordpiece wp;
    if (casie__wordpiece_from_encoder(&wp, e, &err)) {
        fprintf(stderr, "imported, but gives no tokenizer: %s\n", err.message);
        abort();
    }
    casie__wordpiece_free(&wp);
    casie_encoder_free(e);
    return 0;
}
