/* fuzz_model.c - the model loader (container and sections) on arbitrary
 * bytes.  The first input byte picks a mode: even, the rest is the file as
 * is (the fuzzer mostly meets the checksums); odd, the header and section
 * checksums and the file size are recomputed first, so that mutations reach
 * the layout and section checks behind them.  A model that loads is used on a
 * short article: whatever the loader accepts must be safe to extract with. */
#include "fuzz_common.h"

#include <jansson.h>

static const char article[] = "Hackers breached Acme Corp. and stole the data of 2 million customers. "
                              "Microsoft released a patch for CVE-2019-0708 on Tuesday.";

/* CRC-32C a byte at a time from a table, without coverage callbacks: bit by
 * bit, the comparison callbacks of its inner loop took half of each
 * execution (the input is the whole model file, 38 KB). */
FUZZ_NO_COVERAGE static uint32_t crc32c(const uint8_t *p, size_t n) {
    static uint32_t t[256];
    if (!t[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = t[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
}
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32)); }

/* Recomputes what checksums cover (docs/FORMAT.md) where the table allows. */
static void fix_checksums(uint8_t *p, size_t n) {
    if (n < 32) return;
    put64(p + 16, n);
    uint32_t ns = get32(p + 12);
    if (ns > 256 || 32 + 32 * (size_t)ns > n) return;
    for (uint32_t i = 0; i < ns; i++) {
        uint8_t *e = p + 32 + 32 * (size_t)i;
        uint64_t off = get64(e + 8), sz = get64(e + 16);
        if (off <= n && sz <= n - off) put32(e + 24, sz ? crc32c(p + off, (size_t)sz) : 0);
    }
    put32(p + 24, 0);
    put32(p + 24, crc32c(p, 32 + 32 * (size_t)ns));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return 0;
    memcpy(buf, data + 1, n);
    if (data[0] & 1) fix_checksums(buf, n);
    char path[64];
    fuzz_memfile(buf, n, path, sizeof path);
    free(buf);
    casie_error err = {0};
    casie_model *m = casie_model_load(path, &err);
    if (!m) {
        if (err.code >= 0 || !err.message[0]) abort();
        return 0;
    }
    casie_doc *d = casie_doc_from_text(article, sizeof article - 1, "fuzz", &err);
    if (d && casie_extract(m, d, NULL, &err) == CASIE_OK) {
        char *js = casie_doc_to_json(d, CASIE_JSON_SCORES, NULL, &err);
        json_t *back = js ? json_loads(js, JSON_ALLOW_NUL, NULL) : NULL;
        if (js && !back) abort(); /* whatever the weights, the output is JSON (no "inf.0" score) */
        json_decref(back);
        casie_free(js);
    }
    casie_doc_free(d);
    char *meta = casie_model_metadata(m);
    json_t *mj = meta ? json_loads(meta, 0, NULL) : NULL;
    if (meta && !json_is_object(mj)) abort(); /* the metadata is handed out as JSON */
    json_decref(mj);
    casie_free(meta);
    casie_model_free(m);
    return 0;
}
