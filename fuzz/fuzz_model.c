/* fuzz_model.c - the model loader (container and sections) on arbitrary
 * bytes.  The first input byte picks a mode.  Bit 0: clear, the rest is the
 * file as is (the fuzzer mostly meets the checksums); set, the header and
 * section checksums and the file size are recomputed first, so that
 * mutations reach the layout and section checks behind them.  Bit 1: set, a
 * model that loads is used on a short article, because whatever the loader
 * accepts must be safe to extract with; clear, it is only loaded and its
 * metadata read.  Extracting costs three times what loading does under
 * ASan, and most mutations concern the loader alone: the bit lets the
 * fuzzer spend an extraction where it finds new paths by it, which its
 * coverage feedback does. */
#include "fuzz_common.h"

#include <jansson.h>

/* One sentence with an attack, a patch and a CVE id: a mutated model may
 * call every token a trigger, and the argument windows and coreference
 * pairs then grow with the square of the tokens, so the article is kept
 * short (15 tokens; the two sentences of 27 it replaced made extraction
 * three quarters of each execution).  Extraction itself is fuzz_extract's. */
static const char article[] = "Hackers breached Acme and stole 2 million records; Microsoft patched CVE-2019-0708.";

/* CRC-32C eight bytes a step from eight tables (slicing-by-8), without
 * coverage callbacks: bit by bit, the comparison callbacks of its inner
 * loop took half of each execution (the input is the whole model file,
 * 38 KB); a byte a step, 6% of it. */
FUZZ_NO_COVERAGE static uint32_t crc32c(const uint8_t *p, size_t n) {
    static uint32_t t[8][256];
    if (!t[0][1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[0][i] = c;
        }
        for (int j = 1; j < 8; j++)
            for (uint32_t i = 0; i < 256; i++)
                t[j][i] = (t[j - 1][i] >> 8) ^ t[0][t[j - 1][i] & 0xff];
    }
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
            t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    }
    for (; n; p++, n--)
        c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
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

/* Whatever the weights, every score keeps casie.h's contract: a confidence
 * in [0, 1], or negative when unset; never NaN or over 1.  Checked on the
 * document itself.  The check before wrote its JSON and parsed it back,
 * which the writer's own guards made sure to pass (it leaves NaN and
 * infinite scores out), took a quarter of each execution, most of it in the
 * parser's allocations, and missed that a model with overflowing scores
 * gave +inf confidences (tests/data/fuzz/model/inf-score). */
static int bad_score(double s) { return !(s < 0 || s <= 1); }
static void check_scores(const casie_doc *d) {
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            if (bad_score(e->score)) abort();
            for (int a = 0; a < e->n_args; a++)
                if (bad_score(e->args[a].score) || (e->args[a].category && bad_score(e->args[a].category_score)))
                    abort();
        }
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
    casie_doc *d = data[0] & 2 ? casie_doc_from_text(article, sizeof article - 1, "fuzz", &err) : NULL;
    if (d && casie_extract(m, d, NULL, &err) == CASIE_OK) check_scores(d);
    casie_doc_free(d);
    char *meta = casie_model_metadata(m);
    json_t *mj = meta ? json_loads(meta, 0, NULL) : NULL;
    if (meta && !json_is_object(mj)) abort(); /* the metadata is handed out as JSON */
    json_decref(mj);
    casie_free(meta);
    casie_model_free(m);
    return 0;
}
