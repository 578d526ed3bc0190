/*
 * test_wordpiece.c - BERT's WordPiece tokenizer (src/wordpiece.c):
 *   - ids and code-point offsets equal to the Hugging Face tokenizers
 *     library's on 42 varied sentences and on 7,183 single code points in
 *     context, over all-MiniLM-L6-v2's vocabulary (tests/data/wordpiece/,
 *     made by tests/wordpiece_reference.py; the vocabulary, Apache-2.0);
 *   - greedy longest-match, [UNK], the per-word limit, repeated entries, a
 *     cased vocabulary and bad vocabularies over small hand-written ones;
 *   - the mapping to casie's tokens on hand-made text and on 20 dev
 *     documents of the corpus (skipped when it is absent), and the speed
 *     over the whole dev set (printed).
 */
#include "test_common.h"

#include <jansson.h>
#include <time.h>
#include <utf8proc.h>

#include "internal.h"
#include "doc.h"
#include "wordpiece.h"

/* tests/data/wordpiece/<file>, found next to this source file. */
static void data_path(char *out, size_t n, const char *file) {
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dir_len = slash ? (int)(slash - src) : 1;
    snprintf(out, n, "%.*s/data/wordpiece/%s", dir_len, slash ? src : ".", file);
}

/* The real vocabulary: lines of vocab.txt in id order (one block). */
typedef struct vocab {
    char *text;
    const char **line;
    int32_t n;
} vocab;

static void vocab_read(vocab *v) {
    char path[4096];
    data_path(path, sizeof path, "vocab.txt");
    size_t len;
    casie_error err = {0};
    v->text = casie__read_file(path, &len, &err);
    if (!v->text) fail_msg("%s", err.message);
    v->n = 0;
    for (size_t i = 0; i < len; i++)
        v->n += v->text[i] == '\n';
    v->line = malloc((size_t)v->n * sizeof *v->line);
    assert_non_null(v->line);
    char *p = v->text;
    for (int32_t i = 0; i < v->n; i++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = 0;
        if (nl > p && nl[-1] == '\r') nl[-1] = 0;
        v->line[i] = p;
        p = nl + 1;
    }
}

static void vocab_free(vocab *v) {
    free(v->line);
    free(v->text);
}

static casie_doc *analyze(const char *text, size_t len) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, len, "t", &err);
    assert_non_null(d);
    assert_int_equal(casie_doc_analyze(d, &err), CASIE_OK);
    return d;
}

/* ------------------------------------------------------------------------ */
/* Against the tokenizers library                                           */
/* ------------------------------------------------------------------------ */

/* Compares every case of fixture `file` (at least min_pieces pieces) with
 * what wp makes of it. */
static void compare_with(const casie__wordpiece *W, const char *file, size_t min_pieces) {
    const casie__wordpiece wp = *W;
    casie_error err = {0};
    char path[4096];
    data_path(path, sizeof path, file);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!root) fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    assert_int_equal(json_integer_value(json_object_get(root, "cls")), wp.cls);
    assert_int_equal(json_integer_value(json_object_get(root, "sep")), wp.sep);
    json_t *cases = json_object_get(root, "cases");
    casie__pieces P = {0};
    size_t i, n_pieces = 0;
    json_t *c;
    json_array_foreach(cases, i, c) {
        json_t *jt = json_object_get(c, "text"), *ids = json_object_get(c, "ids");
        json_t *offs = json_object_get(c, "offsets");
        const char *text = json_string_value(jt);
        assert_non_null(text);
        casie_doc *d = analyze(text, json_string_length(jt));
        assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_OK);
        int32_t want = (int32_t)json_array_size(ids);
        for (int32_t k = 0; k < P.n && k < want; k++) {
            int32_t id = (int32_t)json_integer_value(json_array_get(ids, (size_t)k));
            json_t *o = json_array_get(offs, (size_t)k);
            int32_t s = (int32_t)json_integer_value(json_array_get(o, 0));
            int32_t e = (int32_t)json_integer_value(json_array_get(o, 1));
            if (P.id[k] != id || P.start[k] != s || P.end[k] != e) {
                int32_t b0 = d->cp_byte[s < d->n_cp ? s : d->n_cp], b1 = d->cp_byte[e < d->n_cp ? e : d->n_cp];
                fail_msg("%s case %zu, piece %d: id %d \"%s\" [%d, %d), want id %d \"%s\" [%d, %d) \"%.*s\"", file, i,
                         (int)k, (int)P.id[k], wp.text + wp.off[P.id[k]], (int)P.start[k], (int)P.end[k], (int)id,
                         id >= 0 && id < wp.n_vocab ? wp.text + wp.off[id] : "?", (int)s, (int)e, (int)(b1 - b0),
                         d->text + b0);
            }
        }
        if (P.n != want) fail_msg("%s case %zu (\"%.60s\"): %d pieces, want %d", file, i, text, (int)P.n, (int)want);
        n_pieces += (size_t)P.n;
        casie_doc_free(d);
    }
    assert_true(n_pieces >= min_pieces);
    casie__pieces_free(&P);
    json_decref(root);
}

/* The same over the committed vocabulary. */
static void compare_fixture(const char *file, size_t min_pieces) {
    vocab v;
    vocab_read(&v);
    assert_int_equal(v.n, 30522);
    casie__wordpiece wp;
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_init(&wp, v.line, v.n, 1, &err), CASIE_OK);
    compare_with(&wp, file, min_pieces);
    casie__wordpiece_free(&wp);
    vocab_free(&v);
}

/* 42 sentences: news, CVE ids, URLs, accents, scripts, emoji, controls, long words */
static void test_reference(void **state) {
    (void)state;
    compare_fixture("reference.json", 1000);
}

/* "a" + c + "b" for 7,183 code points: every control, format, private-use,
 * mark, punctuation and space character, and every one that normalizing
 * changes, in Unicode 15.0 or in tokenizers' Unicode 8.0 tables */
static void test_code_points(void **state) {
    (void)state;
    compare_fixture("codepoints.json", 13000);
}

/* The installed encoder's vocabulary (made by casie encoder import from
 * the same vocab.txt) gives the same tokenizer: the same entries, flags
 * and special ids, the same pieces of both fixtures.  Skipped when
 * models/encoders/minilm-l6.enc is not there. */
#define REAL_ENC "models/encoders/minilm-l6.enc"
static void test_encoder_vocab(void **state) {
    (void)state;
    if (access(REAL_ENC, R_OK) != 0) skip();
    casie_error err = {0};
    casie_encoder *enc = casie_encoder_load(REAL_ENC, &err);
    if (!enc) fail_msg("%s", err.message);
    casie__wordpiece wp;
    assert_int_equal(casie__wordpiece_from_encoder(&wp, enc, &err), CASIE_OK);
    vocab v;
    vocab_read(&v);
    assert_int_equal(wp.n_vocab, v.n);
    assert_int_equal(wp.lower, 1);
    for (int32_t i = 0; i < v.n; i++)
        if (strcmp(wp.text + wp.off[i], v.line[i]) != 0)
            fail_msg("%s: entry %d is \"%s\", vocab.txt has \"%s\"", REAL_ENC, (int)i, wp.text + wp.off[i], v.line[i]);
    const casie_encoder_config *cfg = casie_encoder_get_config(enc);
    assert_int_equal(cfg->cls_id, wp.cls);
    assert_int_equal(cfg->sep_id, wp.sep);
    compare_with(&wp, "reference.json", 1000);
    compare_with(&wp, "codepoints.json", 13000);
    vocab_free(&v);
    casie__wordpiece_free(&wp);
    casie_encoder_free(enc);
}

/* ------------------------------------------------------------------------ */
/* Small vocabularies                                                       */
/* ------------------------------------------------------------------------ */

/* The pieces of text as "piece piece ..." (static buffer). */
static const char *pieces_of(const casie__wordpiece *wp, const char *text) {
    static char buf[4096];
    casie_doc *d = analyze(text, strlen(text));
    casie__pieces P = {0};
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_doc(wp, d, &P, &err), CASIE_OK);
    size_t at = 0;
    buf[0] = 0;
    for (int32_t k = 0; k < P.n; k++) {
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", k ? " " : "", wp->text + wp->off[P.id[k]]);
        assert_true(at < sizeof buf);
    }
    casie__pieces_free(&P);
    casie_doc_free(d);
    return buf;
}

static const char *const SMALL[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un",  "##aff", "##able", "##a",
                                    "aff",   "##ff",  "a",     "##b",   "b",   ",",     ".",      "##.",
                                    "cafe",  "Café",  "##é",   "x",     "##x", "hello", "Hello",  "##y",
                                    "unaff", "##abl", "##e",   "##",    "#",   "中",    "文",     "-"};
#define N_SMALL ((int32_t)(sizeof SMALL / sizeof *SMALL))

static void test_longest_match(void **state) {
    (void)state;
    casie__wordpiece wp;
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_init(&wp, SMALL, N_SMALL, 1, &err), CASIE_OK);
    assert_int_equal(wp.unk, 1);
    assert_int_equal(wp.cls, 2);
    assert_int_equal(wp.sep, 3);
    assert_int_equal(wp.pad, 0);
    assert_int_equal(wp.mask, -1);
    assert_int_equal(casie__wordpiece_id(&wp, "##aff", 5), 5);
    assert_int_equal(casie__wordpiece_id(&wp, "##af", 4), -1);
    assert_int_equal(casie__wordpiece_id(&wp, "", 0), -1);
    /* the longest first piece ("unaff"), then the longest continuation */
    assert_string_equal(pieces_of(&wp, "unaffable"), "unaff ##able");
    assert_string_equal(pieces_of(&wp, "UNAFFABLE unaffablea"), "unaff ##able unaff ##able ##a");
    /* greedy: the longest piece at each step, continuations with "##" */
    assert_string_equal(pieces_of(&wp, "unaffablex"), "unaff ##able ##x");
    /* no segmentation: the whole word is [UNK], even after good pieces */
    assert_string_equal(pieces_of(&wp, "unaffz a"), "[UNK] a");
    assert_string_equal(pieces_of(&wp, "z"), "[UNK]");
    /* punctuation splits, "##" is never a continuation of punctuation */
    assert_string_equal(pieces_of(&wp, "a,b.x-a"), "a , b . x - a");
    assert_string_equal(pieces_of(&wp, "a##b #x"), "a # # b # x");
    /* lower-cased and accents stripped: "Café" reads "cafe" */
    assert_string_equal(pieces_of(&wp, "CAFÉ Hello cafe\xcc\x81"), "cafe hello cafe");
    /* CJK ideographs stand alone even inside a word */
    assert_string_equal(pieces_of(&wp, "a中文b"), "a 中 文 b");
    casie__wordpiece_free(&wp);
}

static void test_word_limit(void **state) {
    (void)state;
    casie__wordpiece wp;
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_init(&wp, SMALL, N_SMALL, 1, &err), CASIE_OK);
    char text[400], want[1200];
    /* CASIE_WP_MAX_WORD characters: "a" then 99 "##x"; one more: [UNK] */
    for (int n = CASIE_WP_MAX_WORD; n <= CASIE_WP_MAX_WORD + 1; n++) {
        memset(text, 'x', (size_t)n);
        text[0] = 'a';
        text[n] = 0;
        size_t at = (size_t)snprintf(want, sizeof want, "a");
        for (int k = 1; k < n; k++)
            at += (size_t)snprintf(want + at, sizeof want - at, " ##x");
        assert_string_equal(pieces_of(&wp, text), n <= CASIE_WP_MAX_WORD ? want : "[UNK]");
    }
    /* characters are counted after normalization: "é" loses its mark and
     * stays one character, a dropped control is none */
    for (int extra = 0; extra <= 1; extra++) {
        size_t at = 0, wat = 0;
        for (int k = 0; k < CASIE_WP_MAX_WORD / 2; k++) {
            at += (size_t)snprintf(text + at, sizeof text - at, "x\xc3\xa9\x01");
            wat += (size_t)snprintf(want + wat, sizeof want - wat, "%s##x ##e", k ? " " : "");
        }
        if (extra) text[at++] = 'x';
        text[at] = 0;
        assert_string_equal(pieces_of(&wp, text), extra ? "[UNK]" : want + 2);
    }
    /* a megabyte without a break is one [UNK] spanning it all, in bounded memory */
    size_t big = 1 << 20;
    char *t = malloc(big + 1);
    assert_non_null(t);
    memset(t, 'a', big);
    t[big] = 0;
    casie_doc *d = analyze(t, big);
    casie__pieces P = {0};
    assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_OK);
    assert_int_equal(P.n, 1);
    assert_int_equal(P.id[0], wp.unk);
    assert_int_equal(P.start[0], 0);
    assert_int_equal(P.end[0], (int32_t)big);
    casie_doc_free(d);
    /* and a megabyte of "a." is a million pieces */
    for (size_t k = 1; k < big; k += 2)
        t[k] = '.';
    d = analyze(t, big);
    assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_OK);
    assert_int_equal(P.n, (int32_t)big);
    assert_int_equal(P.id[big - 1], 14);
    assert_int_equal(P.start[big - 1], (int32_t)big - 1);
    casie_doc_free(d);
    free(t);
    casie__pieces_free(&P);
    casie__wordpiece_free(&wp);
}

static void test_cased(void **state) {
    (void)state;
    casie__wordpiece wp;
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_init(&wp, SMALL, N_SMALL, 0, &err), CASIE_OK);
    /* a cased vocabulary: no lower-casing, no accent stripping */
    assert_string_equal(pieces_of(&wp, "Café Hello hello HELLO"), "Café Hello hello [UNK]");
    /* a decomposed "é" keeps its mark: no entry (uncased: "cafe") */
    assert_string_equal(pieces_of(&wp, "cafe\xcc\x81"), "[UNK]");
    assert_string_equal(pieces_of(&wp, "a\xe2\x80\x94x"), "a [UNK] x"); /* em dash: punctuation */
    casie__wordpiece_free(&wp);
}

static void test_repeated_entry(void **state) {
    (void)state;
    static const char *const V[] = {"[UNK]", "[CLS]", "[SEP]", "a", "b", "a", "##b", "##b"};
    casie__wordpiece wp;
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_init(&wp, V, 8, 1, &err), CASIE_OK);
    assert_int_equal(casie__wordpiece_id(&wp, "a", 1), 5);
    assert_int_equal(casie__wordpiece_id(&wp, "##b", 3), 7);
    assert_int_equal(casie__wordpiece_id(&wp, "b", 1), 4);
    casie_doc *d = analyze("ab", 2);
    casie__pieces P = {0};
    assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_OK);
    assert_int_equal(P.n, 2);
    assert_int_equal(P.id[0], 5);
    assert_int_equal(P.id[1], 7);
    casie__pieces_free(&P);
    casie_doc_free(d);
    casie__wordpiece_free(&wp);
}

static void test_bad_vocab(void **state) {
    (void)state;
    casie__wordpiece wp;
    casie_error err = {0};
    static const char *const no_unk[] = {"[PAD]", "[CLS]", "[SEP]", "a"};
    assert_int_equal(casie__wordpiece_init(&wp, no_unk, 4, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no [UNK] entry"));
    assert_null(wp.slot);
    static const char *const no_sep[] = {"[UNK]", "[CLS]", "a"};
    assert_int_equal(casie__wordpiece_init(&wp, no_sep, 3, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no [SEP] entry"));
    static const char *const hole[] = {"[UNK]", "[CLS]", NULL, "[SEP]"};
    assert_int_equal(casie__wordpiece_init(&wp, hole, 4, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "entry 2 is missing"));
    assert_int_equal(casie__wordpiece_init(&wp, no_unk, 0, 1, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__wordpiece_init(&wp, NULL, 4, 1, &err), CASIE_ERR_INVALID_ARG);
    /* an empty vocabulary object refuses to tokenize */
    casie_doc *d = analyze("a", 1);
    casie__pieces P = {0};
    assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_ERR_INVALID_ARG);
    assert_int_equal(casie__wordpiece_id(&wp, "a", 1), -1);
    assert_int_equal(casie__wordpiece_from_encoder(&wp, NULL, &err), CASIE_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no encoder"));
    casie_doc_free(d);
    casie__wordpiece_free(&wp);
}

/* ------------------------------------------------------------------------ */
/* The mapping to casie's tokens                                            */
/* ------------------------------------------------------------------------ */

/* Index of the doc token whose text is s (the first), or fails. */
static int32_t tok_named(const casie_doc *d, const char *s) {
    size_t n = strlen(s);
    for (int32_t t = 0; t < d->n_tokens; t++) {
        int32_t b0 = d->cp_byte[d->tokens[t].start], b1 = d->cp_byte[d->tokens[t].end];
        if ((size_t)(b1 - b0) == n && memcmp(d->text + b0, s, n) == 0) return t;
    }
    fail_msg("no token \"%s\"", s);
    return -1;
}

static void test_token_map(void **state) {
    (void)state;
    vocab v;
    vocab_read(&v);
    casie__wordpiece wp;
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_init(&wp, v.line, v.n, 1, &err), CASIE_OK);
    /* casie: Don|'t ... "Windows" "™" ... "\xEF\xBF\xBD" (U+FFFD) a token of its own */
    const char *text = "Don't open Windows\xe2\x84\xa2 \xef\xbf\xbd \xed\x95\x9c\xea\xb5\xad now.";
    casie_doc *d = analyze(text, strlen(text));
    casie__pieces P = {0};
    assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_OK);
    assert_int_equal(P.n_tokens, d->n_tokens);
    /* BERT: don ' t open windows ##™? ... */
    int32_t t_do = tok_named(d, "Do"), t_nt = tok_named(d, "n't");
    assert_int_equal(P.tok[0], t_do); /* "don" overlaps "Do" first */
    assert_int_equal(P.start[0], 0);
    assert_int_equal(P.end[0], 3);
    assert_int_equal(P.tok_first[t_do], 0);
    assert_int_equal(P.tok_last[t_do], 0);
    assert_int_equal(P.tok_first[t_nt], 0); /* "n" lies in "don" */
    assert_int_equal(P.tok_last[t_nt], 2);  /* "'" and "t" */
    assert_int_equal(P.tok[1], t_nt);
    assert_int_equal(P.tok[2], t_nt);
    /* whatever BERT makes of "Windows™", "™" has a piece and shares none
     * with "open" */
    int32_t t_win = tok_named(d, "Windows"), t_tm = tok_named(d, "\xe2\x84\xa2");
    assert_true(P.tok_first[t_tm] >= 0);
    assert_true(P.tok_first[t_tm] >= P.tok_first[t_win]);
    assert_int_equal(P.tok[P.tok_first[t_win]], t_win);
    /* U+FFFD is dropped: its token has no piece */
    int32_t t_rep = tok_named(d, "\xef\xbf\xbd");
    assert_int_equal(P.tok_first[t_rep], -1);
    assert_int_equal(P.tok_last[t_rep], -1);
    /* the Hangul syllables decompose into jamo: several pieces per code point */
    int32_t t_ko = t_rep + 1;
    assert_true(P.tok_last[t_ko] - P.tok_first[t_ko] + 1 >= 4);
    for (int32_t k = P.tok_first[t_ko]; k <= P.tok_last[t_ko]; k++) {
        assert_int_equal(P.tok[k], t_ko);
        assert_int_equal(P.end[k] - P.start[k], 1);
    }
    int32_t t_now = tok_named(d, "now");
    assert_int_equal(P.tok_first[t_now], P.tok_last[t_ko] + 1);
    assert_int_equal(P.tok_last[d->n_tokens - 1], P.n - 1);
    /* the pieces of a document without tokens (not analyzed) map to none */
    casie_doc *raw = casie_doc_from_text("plain text", 10, "raw", &err);
    assert_non_null(raw);
    assert_int_equal(casie__wordpiece_doc(&wp, raw, &P, &err), CASIE_OK);
    assert_int_equal(P.n, 2);
    assert_int_equal(P.n_tokens, 0);
    assert_int_equal(P.tok[0], -1);
    assert_int_equal(P.tok[1], -1);
    casie_doc_free(raw);
    casie__pieces_free(&P);
    casie_doc_free(d);
    casie__wordpiece_free(&wp);
    vocab_free(&v);
}

/* BERT's classes, written out again from its definition for the checks. */
static int bert_dropped(uint32_t c, int lower) {
    if (c == 0 || c == 0xFFFD) return 1;
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CO ||
           k == UTF8PROC_CATEGORY_CS || (lower && k == UTF8PROC_CATEGORY_MN);
}
static int bert_splits(uint32_t c) { /* white space or punctuation: a word boundary next to c */
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return 1;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return 1;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return (k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO) || k == UTF8PROC_CATEGORY_ZS ||
           k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

/* The invariants over one analyzed document; counts pieces that run over
 * a token boundary (*crossing) and checks each such boundary lies inside one
 * BERT word (no white space or punctuation at it). */
static void check_doc(const casie__wordpiece *wp, const casie_doc *d, const casie__pieces *P, long *crossing) {
    const char *id = d->id ? d->id : "?";
    assert_int_equal(P->n_tokens, d->n_tokens);
    for (int32_t k = 0; k < P->n; k++) {
        if (P->start[k] < 0 || P->start[k] >= P->end[k] || P->end[k] > d->n_cp)
            fail_msg("%s: piece %d spans [%d, %d)", id, (int)k, (int)P->start[k], (int)P->end[k]);
        if (k && P->start[k] < P->start[k - 1]) fail_msg("%s: piece %d before piece %d", id, (int)k, (int)k - 1);
        if (k && P->start[k] < P->end[k - 1] && P->start[k] != P->end[k - 1] - 1)
            fail_msg("%s: pieces %d and %d overlap by more than a code point", id, (int)k - 1, (int)k);
        if (P->id[k] < 0 || P->id[k] >= wp->n_vocab) fail_msg("%s: piece %d has id %d", id, (int)k, (int)P->id[k]);
        int32_t t = P->tok[k];
        if (t < 0) fail_msg("%s: piece %d [%d, %d) in no token", id, (int)k, (int)P->start[k], (int)P->end[k]);
        const casie_token *T = &d->tokens[t];
        if (T->start >= P->end[k] || T->end <= P->start[k] || (t && d->tokens[t - 1].end > P->start[k]))
            fail_msg("%s: piece %d [%d, %d) is not in its token %d [%d, %d) first", id, (int)k, (int)P->start[k],
                     (int)P->end[k], (int)t, (int)T->start, (int)T->end);
        if (P->tok_first[t] > k || P->tok_last[t] < k)
            fail_msg("%s: token %d does not list piece %d", id, (int)t, (int)k);
        /* a piece that runs over its token's end: nothing BERT splits at between */
        for (int32_t u = t; u + 1 < d->n_tokens && d->tokens[u].end < P->end[k]; u++) {
            (*crossing)++;
            for (int32_t i = d->tokens[u].end - 1; i <= d->tokens[u + 1].start; i++)
                if (bert_splits(casie__doc_cp(d, i)))
                    fail_msg("%s: piece %d [%d, %d) runs over a split at code point %d", id, (int)k, (int)P->start[k],
                             (int)P->end[k], (int)i);
        }
    }
    for (int32_t t = 0; t < d->n_tokens; t++) {
        int32_t f = P->tok_first[t], l = P->tok_last[t];
        if (f < 0) { /* only a token of characters BERT drops has no piece */
            assert_int_equal(l, -1);
            for (int32_t i = d->tokens[t].start; i < d->tokens[t].end; i++)
                if (!bert_dropped(casie__doc_cp(d, i), wp->lower))
                    fail_msg("%s: token %d [%d, %d) has no piece", id, (int)t, (int)d->tokens[t].start,
                             (int)d->tokens[t].end);
            continue;
        }
        if (l < f) fail_msg("%s: token %d has pieces %d..%d", id, (int)t, (int)f, (int)l);
        if (t && P->tok_first[t - 1] > f) fail_msg("%s: tokens %d and %d out of order", id, (int)t - 1, (int)t);
        for (int32_t k = f; k <= l; k++)
            if (P->start[k] >= d->tokens[t].end || P->end[k] <= d->tokens[t].start)
                fail_msg("%s: token %d lists piece %d, which does not overlap it", id, (int)t, (int)k);
    }
}

/* CPU seconds of this thread: the figure holds on a loaded machine. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_corpus_map(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    casie_corpus *c = test_split(corpus, "dev", 0);
    assert_non_null(c);
    vocab v;
    vocab_read(&v);
    casie__wordpiece wp;
    casie_error err = {0};
    assert_int_equal(casie__wordpiece_init(&wp, v.line, v.n, 1, &err), CASIE_OK);
    casie__pieces P = {0};
    long crossing = 0, n_pieces = 0, n_tokens = 0;
    for (int i = 0; i < c->n_docs && i < 20; i++) {
        casie_doc *d = c->docs[i];
        assert_int_equal(casie_doc_analyze(d, &err), CASIE_OK);
        assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_OK);
        check_doc(&wp, d, &P, &crossing);
        n_pieces += P.n;
        n_tokens += d->n_tokens;
    }
    /* pieces running over a casie token's end are rare (contractions: "don|'t") */
    assert_true(n_pieces > n_tokens);
    assert_true(crossing * 100 < n_tokens);

    /* speed over the whole dev set (the text is already analyzed), one thread */
    size_t bytes = 0;
    long pieces = 0;
    double t0 = now_s();
    int rounds = 0;
    do {
        for (int i = 0; i < c->n_docs; i++) {
            casie_doc *d = c->docs[i];
            assert_int_equal(casie__wordpiece_doc(&wp, d, &P, &err), CASIE_OK);
            bytes += d->text_len;
            pieces += P.n;
        }
        rounds++;
    } while (now_s() - t0 < 0.5);
    double dt = now_s() - t0;
    printf("wordpiece: %d dev documents x %d, %.2f MB/s, %.2f M pieces/s of CPU time (%ld pieces in 20 documents, %ld "
           "over a "
           "token's end)\n",
           c->n_docs, rounds, (double)bytes / dt / 1e6, (double)pieces / dt / 1e6, n_pieces, crossing);
    casie__pieces_free(&P);
    casie__wordpiece_free(&wp);
    vocab_free(&v);
    casie_corpus_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference),      cmocka_unit_test(test_code_points), cmocka_unit_test(test_encoder_vocab),
        cmocka_unit_test(test_longest_match),  cmocka_unit_test(test_word_limit),  cmocka_unit_test(test_cased),
        cmocka_unit_test(test_repeated_entry), cmocka_unit_test(test_bad_vocab),   cmocka_unit_test(test_token_map),
        cmocka_unit_test(test_corpus_map),
    };
    return cmocka_run_group_tests_name("wordpiece", tests, NULL, NULL);
}
