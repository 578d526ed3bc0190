/*
 * wordpiece.c - BERT's WordPiece tokenizer over a document's text, each piece
 * mapped back to its code-point span and to casie's tokens.
 *
 * What it computes is what the Hugging Face `tokenizers` library's
 * BertWordPieceTokenizer / BertTokenizerFast computes (tests/test_wordpiece.c
 * compares ids and offsets with its output over the all-MiniLM-L6-v2
 * vocabulary):
 *
 *   1. clean-up: NUL, U+FFFD and the categories Cc, Cf, Co, Cs are dropped
 *      (tab, newline and carriage return are white space, not controls);
 *      white space (Rust's char::is_whitespace: the Unicode White_Space
 *      property) becomes a word break;
 *   2. CJK ideographs (the ranges in is_cjk) stand alone as words;
 *   3. lower-casing models only: each character is decomposed (NFD), its
 *      nonspacing marks (Mn) are dropped and what is left is lower-cased,
 *      so "Café" reads "cafe" and "İ" reads "i";
 *   4. words are cut at white space, and each punctuation character (ASCII
 *      33-47, 58-64, 91-96, 123-126 and the Unicode P* categories) is a word
 *      of its own;
 *   5. a word of more than CASIE_WP_MAX_WORD characters (after step 3) is one
 *      [UNK]; any other is cut greedily, longest vocabulary match first,
 *      continuation pieces looked up with the "##" prefix; a word with no
 *      such segmentation is one [UNK].
 *
 * Character categories are Unicode 8.0's where `tokenizers`' tables (8.0)
 * and utf8proc's (15.0) part (OLD_CATEGORY below), so the two agree on
 * every code point but U+10FFFF.  Its CJK ranges are used as they are (they
 * leave out U+2B820..U+2B91F, which Google's original Python code counts).
 * Canonical reordering of combining marks is not done: the marks it would
 * move are dropped anyway.  Text that spells "[CLS]" or another special
 * token is read as text (`tokenizers` would match it as the token).
 *
 * Offsets: every character of a normalized word remembers the code point of
 * the text it came from (NFD can turn one into several: a Hangul syllable
 * into two or three jamo), and a piece spans from the source of its first
 * character to the source of its last one, inclusive; an [UNK] spans its
 * whole word.  The pieces come in text order, spans may touch but only
 * overlap when they share one source character.
 *
 * Not here: the vocabulary's storage (the encoder file), [CLS]/[SEP] and
 * windowing over long documents (the encoder, from the ids here), the
 * network.
 */
#include "internal.h"
#include "encoder.h"
#include "hash.h"
#include "wordpiece.h"

#include <string.h>
#include <utf8proc.h>

/* ------------------------------------------------------------------------ */
/* The vocabulary: an open-addressing table over the entries' bytes          */
/* ------------------------------------------------------------------------ */

/* FNV-1a, streamed, so that "##" + a piece of a word hashes as the entry
 * "##piece" does without being copied; mixed once at the end. */
#define H_SEED 0xcbf29ce484222325ull
static inline uint64_t h_step(uint64_t h, unsigned char c) { return (h ^ c) * 0x100000001b3ull; }
static inline uint64_t h_final(uint64_t h) { return casie__mix64(h); }

static uint64_t h_bytes(uint64_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = h_step(h, (unsigned char)s[i]);
    return h;
}

/* Id of the entry equal to prefix (0 or 2 bytes of "##") + s[0, n) whose
 * finalized hash is h, or -1. */
static int32_t find(const casie__wordpiece *wp, uint64_t h, int prefix, const char *s, size_t n) {
    uint32_t mask = wp->n_slots - 1;
    for (uint32_t k = (uint32_t)h & mask;; k = (k + 1) & mask) {
        uint32_t v = wp->slot[k];
        if (!v) return -1;
        int32_t id = (int32_t)(v - 1);
        if (wp->hash[id] != h) continue;
        const char *e = wp->text + wp->off[id];
        size_t len = wp->off[id + 1] - wp->off[id] - 1;
        if (len == n + (size_t)prefix && (!prefix || (e[0] == '#' && e[1] == '#')) && memcmp(e + prefix, s, n) == 0)
            return id;
    }
}

int32_t casie__wordpiece_id(const casie__wordpiece *wp, const char *s, size_t n) {
    if (!wp || !wp->slot || !s) return -1;
    return find(wp, h_final(h_bytes(H_SEED, s, n)), 0, s, n);
}

void casie__wordpiece_free(casie__wordpiece *wp) {
    if (!wp) return;
    free(wp->slot);
    free(wp->hash);
    free(wp->off);
    free(wp->text);
    memset(wp, 0, sizeof *wp);
}

/* The lookup table over the entries, without the special ids. */
static int build(casie__wordpiece *wp, const char *const *vocab, int32_t n_vocab, int lower, casie_error *err) {
    memset(wp, 0, sizeof *wp);
    if (!vocab || n_vocab < 1 || n_vocab > (1 << 24))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "vocabulary: %ld entries (1 to %d allowed)", (long)n_vocab,
                            1 << 24);
    size_t total = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
        if (!vocab[i]) return casie__error(err, CASIE_ERR_INVALID_ARG, i, "vocabulary: entry %ld is missing", (long)i);
        total += strlen(vocab[i]) + 1;
        if (total > UINT32_MAX)
            return casie__error(err, CASIE_ERR_LIMIT, i, "vocabulary: over 4 GB of text at entry %ld", (long)i);
    }
    uint32_t n_slots = 1;
    while (n_slots < 2u * (uint32_t)n_vocab)
        n_slots <<= 1;
    wp->n_vocab = n_vocab;
    wp->lower = lower ? 1 : 0;
    wp->n_slots = n_slots;
    wp->slot = calloc(n_slots, sizeof *wp->slot);
    wp->hash = malloc((size_t)n_vocab * sizeof *wp->hash);
    wp->off = malloc(((size_t)n_vocab + 1) * sizeof *wp->off);
    wp->text = malloc(total);
    if (!wp->slot || !wp->hash || !wp->off || !wp->text) {
        casie__wordpiece_free(wp);
        return casie__error(err, CASIE_ERR_NOMEM, -1, "vocabulary: out of memory (%ld entries)", (long)n_vocab);
    }
    uint32_t at = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
        size_t len = strlen(vocab[i]);
        memcpy(wp->text + at, vocab[i], len + 1);
        wp->off[i] = at;
        at += (uint32_t)len + 1;
        if ((int32_t)len > wp->max_bytes) wp->max_bytes = (int32_t)len;
        uint64_t h = h_final(h_bytes(H_SEED, vocab[i], len));
        wp->hash[i] = h;
        /* An entry that repeats an earlier one takes its place, as a later
         * line of vocab.txt does in `tokenizers` and `transformers`. */
        uint32_t k = (uint32_t)h & (n_slots - 1);
        for (; wp->slot[k]; k = (k + 1) & (n_slots - 1)) {
            int32_t o = (int32_t)wp->slot[k] - 1;
            if (wp->hash[o] == h && strcmp(wp->text + wp->off[o], vocab[i]) == 0) break;
        }
        wp->slot[k] = (uint32_t)i + 1;
    }
    wp->off[n_vocab] = at;
    return CASIE_OK;
}

/* BERT's special pieces, by name. */
static void bert_specials(casie__wordpiece *wp) {
    wp->unk = casie__wordpiece_id(wp, "[UNK]", 5);
    wp->cls = casie__wordpiece_id(wp, "[CLS]", 5);
    wp->sep = casie__wordpiece_id(wp, "[SEP]", 5);
    wp->pad = casie__wordpiece_id(wp, "[PAD]", 5);
    wp->mask = casie__wordpiece_id(wp, "[MASK]", 6);
}

int casie__wordpiece_init(casie__wordpiece *wp, const char *const *vocab, int32_t n_vocab, int lower,
                          casie_error *err) {
    int rc = build(wp, vocab, n_vocab, lower, err);
    if (rc) return rc;
    bert_specials(wp);
    const char *missing = wp->unk < 0 ? "[UNK]" : wp->cls < 0 ? "[CLS]" : wp->sep < 0 ? "[SEP]" : NULL;
    if (missing) {
        casie__wordpiece_free(wp);
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "vocabulary: no %s entry (%ld entries)", missing,
                            (long)n_vocab);
    }
    return CASIE_OK;
}

int casie__wordpiece_from_encoder(casie__wordpiece *wp, const casie_encoder *enc, casie_error *err) {
    memset(wp, 0, sizeof *wp);
    const casie_encoder_config *cfg = casie_encoder_get_config(enc);
    if (!cfg) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "word pieces: no encoder");
    const char *name = cfg->name ? cfg->name : "encoder";
    if (cfg->n_vocab < 1)
        return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: %ld vocabulary entries", name, (long)cfg->n_vocab);
    const char **v = malloc((size_t)cfg->n_vocab * sizeof *v);
    if (!v) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory reading the vocabulary", name);
    for (int32_t i = 0; i < cfg->n_vocab; i++)
        v[i] = casie__encoder_piece(enc, i, NULL);
    int rc = cfg->arch == CASIE_ENCODER_BERT ? casie__wordpiece_init(wp, v, cfg->n_vocab, cfg->lowercase, err)
                                             : build(wp, v, cfg->n_vocab, cfg->lowercase, err);
    free(v);
    if (rc) return rc;
    if (cfg->arch != CASIE_ENCODER_BERT) { /* its special pieces have other names: the file's ids */
        wp->cls = cfg->cls_id, wp->sep = cfg->sep_id, wp->pad = cfg->pad_id, wp->unk = cfg->unk_id;
        wp->mask = -1;
        if (wp->cls >= 0 && wp->sep >= 0 && wp->unk >= 0) return CASIE_OK;
        casie__wordpiece_free(wp);
        return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: no %s piece", name,
                            cfg->cls_id < 0   ? "first (cls)"
                            : cfg->sep_id < 0 ? "last (sep)"
                                              : "unknown-word");
    }
    const char *bad = wp->cls != cfg->cls_id   ? "[CLS]"
                      : wp->sep != cfg->sep_id ? "[SEP]"
                      : wp->unk != cfg->unk_id ? "[UNK]"
                      : wp->pad != cfg->pad_id ? "[PAD]"
                                               : NULL;
    if (bad) {
        casie__wordpiece_free(wp);
        return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: the file's %s id is not its vocabulary's", name,
                            bad);
    }
    return CASIE_OK;
}

/* ------------------------------------------------------------------------ */
/* Characters                                                                */
/* ------------------------------------------------------------------------ */

enum { C_DROP = 0, C_SPACE, C_PUNCT, C_WORD, C_CJK };

/* ASCII: controls (but tab, newline, return) dropped, BERT's punctuation
 * ranges, the rest word characters. */
static const uint8_t ASCII_KIND[128] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3,
                                        3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
                                        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3,
                                        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 0};

/* The ideograph blocks `tokenizers` isolates (its is_chinese_char). */
static int is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* General categories as `tokenizers` reads them: it takes them from the
 * Rust crate unicode_categories, whose tables are Unicode 8.0's, and utf8proc
 * has Unicode 15.0's.  Where the difference changes what BERT does with a
 * character (a control, format or private-use character dropped, a
 * nonspacing mark stripped, punctuation split off), the old category is
 * listed here: CN for a character assigned since (an ordinary character
 * there), and the three that changed category since (U+166D was Po, U+1734
 * Mn, U+111C9 Po).  Found by comparing the two tokenizers on every code
 * point ("a" + c + "b" and c alone, all-MiniLM's vocabulary); the fixture
 * holds every character of these categories (tests/wordpiece_reference.py). */
enum { CN = UTF8PROC_CATEGORY_CN, PO = UTF8PROC_CATEGORY_PO, MN = UTF8PROC_CATEGORY_MN };
static const struct {
    uint32_t lo, hi;
    uint8_t cat;
} OLD_CATEGORY[] = {{0x061D, 0x061D, CN},   {0x07FD, 0x07FD, CN},   {0x0890, 0x0891, CN},   {0x0898, 0x089F, CN},
                    {0x08CA, 0x08E2, CN},   {0x09FD, 0x09FE, CN},   {0x0A76, 0x0A76, CN},   {0x0AFA, 0x0AFF, CN},
                    {0x0B55, 0x0B55, CN},   {0x0C04, 0x0C04, CN},   {0x0C3C, 0x0C3C, CN},   {0x0C77, 0x0C77, CN},
                    {0x0C84, 0x0C84, CN},   {0x0D00, 0x0D00, CN},   {0x0D3B, 0x0D3C, CN},   {0x0D81, 0x0D81, CN},
                    {0x0EBA, 0x0EBA, CN},   {0x0ECE, 0x0ECE, CN},   {0x166D, 0x166D, PO},   {0x1734, 0x1734, MN},
                    {0x180F, 0x180F, CN},   {0x1885, 0x1886, CN},   {0x1ABF, 0x1ACE, CN},   {0x1B7D, 0x1B7E, CN},
                    {0x1DF6, 0x1DFB, CN},   {0x2E43, 0x2E4F, CN},   {0x2E52, 0x2E5D, CN},   {0xA82C, 0xA82C, CN},
                    {0xA8C5, 0xA8C5, CN},   {0xA8FF, 0xA8FF, CN},   {0xA9BD, 0xA9BD, CN},   {0x10D24, 0x10D27, CN},
                    {0x10EAB, 0x10EAD, CN}, {0x10EFD, 0x10EFF, CN}, {0x10F46, 0x10F50, CN}, {0x10F55, 0x10F59, CN},
                    {0x10F82, 0x10F89, CN}, {0x11070, 0x11070, CN}, {0x11073, 0x11074, CN}, {0x110C2, 0x110C2, CN},
                    {0x110CD, 0x110CD, CN}, {0x111C9, 0x111C9, PO}, {0x111CF, 0x111CF, CN}, {0x1123E, 0x1123E, CN},
                    {0x11241, 0x11241, CN}, {0x1133B, 0x1133B, CN}, {0x11438, 0x1143F, CN}, {0x11442, 0x11444, CN},
                    {0x11446, 0x11446, CN}, {0x1144B, 0x1144F, CN}, {0x1145A, 0x1145B, CN}, {0x1145D, 0x1145E, CN},
                    {0x11660, 0x1166C, CN}, {0x116B9, 0x116B9, CN}, {0x1182F, 0x11837, CN}, {0x11839, 0x1183B, CN},
                    {0x1193B, 0x1193C, CN}, {0x1193E, 0x1193E, CN}, {0x11943, 0x11946, CN}, {0x119D4, 0x119D7, CN},
                    {0x119DA, 0x119DB, CN}, {0x119E0, 0x119E0, CN}, {0x119E2, 0x119E2, CN}, {0x11A01, 0x11A0A, CN},
                    {0x11A33, 0x11A38, CN}, {0x11A3B, 0x11A47, CN}, {0x11A51, 0x11A56, CN}, {0x11A59, 0x11A5B, CN},
                    {0x11A8A, 0x11A96, CN}, {0x11A98, 0x11A9C, CN}, {0x11A9E, 0x11AA2, CN}, {0x11B00, 0x11B09, CN},
                    {0x11C30, 0x11C36, CN}, {0x11C38, 0x11C3D, CN}, {0x11C3F, 0x11C3F, CN}, {0x11C41, 0x11C45, CN},
                    {0x11C70, 0x11C71, CN}, {0x11C92, 0x11CA7, CN}, {0x11CAA, 0x11CB0, CN}, {0x11CB2, 0x11CB3, CN},
                    {0x11CB5, 0x11CB6, CN}, {0x11D31, 0x11D36, CN}, {0x11D3A, 0x11D3A, CN}, {0x11D3C, 0x11D3D, CN},
                    {0x11D3F, 0x11D45, CN}, {0x11D47, 0x11D47, CN}, {0x11D90, 0x11D91, CN}, {0x11D95, 0x11D95, CN},
                    {0x11D97, 0x11D97, CN}, {0x11EF3, 0x11EF4, CN}, {0x11EF7, 0x11EF8, CN}, {0x11F00, 0x11F01, CN},
                    {0x11F36, 0x11F3A, CN}, {0x11F40, 0x11F40, CN}, {0x11F42, 0x11F4F, CN}, {0x11FFF, 0x11FFF, CN},
                    {0x12FF1, 0x12FF2, CN}, {0x13430, 0x13440, CN}, {0x13447, 0x13455, CN}, {0x16E97, 0x16E9A, CN},
                    {0x16F4F, 0x16F4F, CN}, {0x16FE2, 0x16FE2, CN}, {0x16FE4, 0x16FE4, CN}, {0x1CF00, 0x1CF2D, CN},
                    {0x1CF30, 0x1CF46, CN}, {0x1E000, 0x1E006, CN}, {0x1E008, 0x1E018, CN}, {0x1E01B, 0x1E021, CN},
                    {0x1E023, 0x1E024, CN}, {0x1E026, 0x1E02A, CN}, {0x1E08F, 0x1E08F, CN}, {0x1E130, 0x1E136, CN},
                    {0x1E2AE, 0x1E2AE, CN}, {0x1E2EC, 0x1E2EF, CN}, {0x1E4EC, 0x1E4EF, CN}, {0x1E944, 0x1E94A, CN},
                    {0x1E95E, 0x1E95F, CN}};

static int category(uint32_t c) {
    int lo = 0, hi = (int)(sizeof OLD_CATEGORY / sizeof *OLD_CATEGORY) - 1;
    if (c >= OLD_CATEGORY[0].lo && c <= OLD_CATEGORY[hi].hi) {
        while (lo <= hi) {
            int mid = (lo + hi) / 2;
            if (c < OLD_CATEGORY[mid].lo)
                hi = mid - 1;
            else if (c > OLD_CATEGORY[mid].hi)
                lo = mid + 1;
            else
                return OLD_CATEGORY[mid].cat;
        }
    }
    return utf8proc_category((utf8proc_int32_t)c);
}

/* Non-ASCII White_Space that is not a control (U+0085 is Cc: dropped). */
static int is_space_u(uint32_t c) {
    return c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static int is_punct(uint32_t c) {
    if (c < 128) return ASCII_KIND[c] == C_PUNCT;
    switch (category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

/* Kind of a non-ASCII code point of the text, before normalization. */
static int kind_u(uint32_t c) {
    if (c == 0xFFFD) return C_DROP;
    switch (category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
        return C_DROP;
    default:
        break;
    }
    if (is_space_u(c)) return C_SPACE;
    if (is_cjk(c)) return C_CJK;
    return C_WORD;
}

/* ------------------------------------------------------------------------ */
/* Pieces                                                                    */
/* ------------------------------------------------------------------------ */

/* A word being collected: its normalized characters (the first
 * CASIE_WP_MAX_WORD + 1 of them; a longer one is [UNK] anyway), where
 * each begins in buf and the text code point it came from. */
#define W_CAP (CASIE_WP_MAX_WORD + 1)
typedef struct word {
    int32_t n;               /* characters so far (all of them) */
    int32_t first, last;     /* source code points of the first and last */
    int32_t boff[W_CAP + 1]; /* byte offset of character k in buf */
    int32_t src[W_CAP];      /* source code point of character k */
    char buf[4 * W_CAP];
} word;

typedef struct run {
    const casie__wordpiece *wp;
    casie__pieces *out;
    uint64_t hcont; /* hash state after "##" */
    int nomem;
    uint64_t hs[W_CAP + 1]; /* scratch: hash state of candidate pieces */
} run;

/* Ensures room for `need` entries in each of the k arrays (*a[0..k)),
 * whose capacity is *cap; CASIE_ERR_NOMEM leaves *cap as it was. */
static int grow_arrays(int32_t **a[], int k, size_t *cap, size_t need) {
    if (need <= *cap) return CASIE_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need) {
        if (c > INT32_MAX) return CASIE_ERR_NOMEM;
        c *= 2;
    }
    for (int j = 0; j < k; j++) {
        int32_t *q = realloc(*a[j], c * sizeof *q);
        if (!q) return CASIE_ERR_NOMEM;
        *a[j] = q;
    }
    *cap = c;
    return CASIE_OK;
}

static void push(run *r, int32_t id, int32_t start, int32_t end) {
    casie__pieces *o = r->out;
    int32_t **a[4] = {&o->id, &o->start, &o->end, &o->tok};
    if ((size_t)o->n >= o->cap && (o->n == INT32_MAX || grow_arrays(a, 4, &o->cap, (size_t)o->n + 1))) {
        r->nomem = 1;
        return;
    }
    o->id[o->n] = id;
    o->start[o->n] = start;
    o->end[o->n] = end;
    o->tok[o->n] = -1;
    o->n++;
}

static inline void add_char(word *w, uint32_t c, int32_t src) {
    if (w->n == 0) w->first = src;
    w->last = src;
    if (w->n < W_CAP) {
        int32_t b = w->boff[w->n];
        w->boff[w->n + 1] = b + casie__utf8_put(c, w->buf + b);
        w->src[w->n] = src;
    }
    w->n++;
}

/* Emits the pieces of the collected word and empties it. */
static void flush(run *r, word *w) {
    const casie__wordpiece *wp = r->wp;
    int32_t n = w->n;
    if (n == 0) return;
    w->n = 0;
    if (n > CASIE_WP_MAX_WORD) {
        push(r, wp->unk, w->first, w->last + 1);
        return;
    }
    size_t n0 = r->out->n;
    for (int32_t s = 0; s < n;) {
        int prefix = s ? 2 : 0;
        /* hash states of buf[s, e) for every e that could match an entry */
        uint64_t h = prefix ? r->hcont : H_SEED;
        int32_t e = s;
        while (e < n && w->boff[e + 1] - w->boff[s] + prefix <= wp->max_bytes) {
            for (int32_t b = w->boff[e]; b < w->boff[e + 1]; b++)
                h = h_step(h, (unsigned char)w->buf[b]);
            r->hs[++e] = h;
        }
        int32_t id = -1;
        for (; e > s; e--) {
            id = find(wp, h_final(r->hs[e]), prefix, w->buf + w->boff[s], (size_t)(w->boff[e] - w->boff[s]));
            if (id >= 0) break;
        }
        if (id < 0) { /* no segmentation: the whole word is [UNK] */
            r->out->n = (int32_t)n0;
            push(r, wp->unk, w->first, w->last + 1);
            return;
        }
        push(r, id, w->src[s], w->src[e - 1] + 1);
        s = e;
    }
}

/* A word of one character (punctuation, an ideograph). */
static void single(run *r, word *w, uint32_t c, int32_t src) {
    flush(r, w);
    add_char(w, c, src);
    flush(r, w);
}

/* Normalized characters of c (source src) into w: NFD, marks dropped,
 * lower-cased; punctuation among them splits the word. */
static void add_normalized(run *r, word *w, uint32_t c, int32_t src) {
    utf8proc_int32_t d[32];
    int last_bound = 0;
    utf8proc_ssize_t nd = utf8proc_decompose_char((utf8proc_int32_t)c, d, 32, UTF8PROC_DECOMPOSE, &last_bound);
    if (nd < 1 || nd > 32) { /* cannot happen for a valid code point; keep it as it is */
        d[0] = (utf8proc_int32_t)c;
        nd = 1;
    }
    for (utf8proc_ssize_t k = 0; k < nd; k++) {
        uint32_t x = (uint32_t)d[k];
        if (category(x) == UTF8PROC_CATEGORY_MN) continue;
        x = (uint32_t)utf8proc_tolower((utf8proc_int32_t)x);
        if (is_punct(x))
            single(r, w, x, src);
        else
            add_char(w, x, src);
    }
}

void casie__pieces_free(casie__pieces *p) {
    if (!p) return;
    free(p->id);
    free(p->start);
    free(p->end);
    free(p->tok);
    free(p->tok_first);
    free(p->tok_last);
    memset(p, 0, sizeof *p);
}

/* piece -> the first token its span overlaps; token -> the first and last
 * piece whose span overlaps it. */
static void map_tokens(const casie_doc *doc, casie__pieces *o) {
    int32_t nt = o->n_tokens;
    const casie_token *T = doc->tokens;
    for (int32_t t = 0; t < nt; t++)
        o->tok_first[t] = o->tok_last[t] = -1;
    int32_t t = 0;
    for (int32_t p = 0; p < o->n; p++) {
        int32_t s = o->start[p], e = o->end[p];
        while (t < nt && T[t].end <= s)
            t++;
        o->tok[p] = t < nt && T[t].start < e ? t : -1;
        for (int32_t u = t; u < nt && T[u].start < e; u++) {
            if (o->tok_first[u] < 0) o->tok_first[u] = p;
            o->tok_last[u] = p;
        }
    }
}

int casie__wordpiece_doc(const casie__wordpiece *wp, const casie_doc *doc, casie__pieces *out, casie_error *err) {
    if (!wp || !wp->slot || !doc || !out)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "word pieces: no vocabulary, document or output");
    const char *name = doc->id ? doc->id : "document";
    run r = {.wp = wp, .out = out};
    r.hcont = h_step(h_step(H_SEED, '#'), '#');
    word *w = malloc(sizeof *w);
    if (!w) goto nomem;
    w->n = 0;
    w->boff[0] = 0;
    out->n = 0;
    int32_t n_cp = doc->text ? doc->n_cp : 0;
    const unsigned char *p = (const unsigned char *)doc->text;
    int lower = wp->lower;
    for (int32_t i = 0; i < n_cp && !r.nomem; i++) {
        uint32_t c = *p;
        if (c < 128) {
            p++;
            switch (ASCII_KIND[c]) {
            case C_DROP:
                break;
            case C_SPACE:
                flush(&r, w);
                break;
            case C_PUNCT:
                single(&r, w, c, i);
                break;
            default:
                add_char(w, lower && c >= 'A' && c <= 'Z' ? c + 32 : c, i);
                break;
            }
            continue;
        }
        int adv;
        c = casie__utf8_get((const char *)p, &adv);
        p += adv;
        switch (kind_u(c)) {
        case C_DROP:
            break;
        case C_SPACE:
            flush(&r, w);
            break;
        case C_CJK: /* a word of its own, normalized too (U+F900 reads U+8C48) */
            flush(&r, w);
            if (lower)
                add_normalized(&r, w, c, i);
            else
                add_char(w, c, i);
            flush(&r, w);
            break;
        default:
            if (lower)
                add_normalized(&r, w, c, i);
            else if (is_punct(c))
                single(&r, w, c, i);
            else
                add_char(w, c, i);
            break;
        }
    }
    flush(&r, w);
    free(w);
    w = NULL;
    if (r.nomem) goto nomem;
    out->n_tokens = doc->tokens ? doc->n_tokens : 0;
    int32_t **a[2] = {&out->tok_first, &out->tok_last};
    if (grow_arrays(a, 2, &out->cap_tok, (size_t)out->n_tokens)) goto nomem;
    map_tokens(doc, out);
    return CASIE_OK;
nomem:
    free(w);
    out->n = 0;
    out->n_tokens = 0;
    return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory splitting into word pieces", name);
}
