/*
 * utf8.c - UTF-8 decoding and repair: the one place that turns untrusted bytes
 * into the valid UTF-8 text and code-point index every other file relies on.
 *
 * Policy (see casie.h): each byte that does not begin a valid, shortest-form
 * sequence - a stray continuation byte, an overlong form, a surrogate, a value
 * above U+10FFFF, or a sequence cut short - becomes U+FFFD (3 bytes out) and
 * counts as one code point; decoding resumes at the next byte.  NUL is kept.
 *
 * The same test of validity serves writing JSON (casie__utf8_valid_len).
 *
 * Not here: Unicode properties (utf8proc), tokenizing (tokenize.c).
 */
#include "internal.h"

#include <string.h>

/* Length of the valid sequence at s[0..n) (n >= 1) and its code point in *cp,
 * or 0 when s[0] does not begin one.  Reads at most min(n, 4) bytes. */
static inline int decode(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        uint32_t v = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0; /* overlong, surrogate */
        *cp = v;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        uint32_t v = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
        if (v < 0x10000 || v > 0x10FFFF) return 0;
        *cp = v;
        return 4;
    }
    return 0; /* 0xF5..0xFF never appear in UTF-8 */
}

#define HIGH_BITS 0x8080808080808080ull

/* True when the 8 bytes at s are all ASCII. */
static inline int ascii8(const unsigned char *s) {
    uint64_t w;
    memcpy(&w, s, 8);
    return (w & HIGH_BITS) == 0;
}

int casie__utf8_normalize(const char *in, size_t len, char **out, size_t *out_len, int32_t **cp_byte, int32_t *n_cp) {
    const unsigned char *s = (const unsigned char *)in;
    size_t ncp = 0, nout = 0, i = 0;
    uint32_t cp;
    char *text = NULL;
    int32_t *cpb = NULL;

    /* Pass 1: sizes. */
    while (i < len) {
        if (i + 8 <= len && ascii8(s + i)) {
            i += 8, ncp += 8, nout += 8;
            continue;
        }
        int k = decode(s + i, len - i, &cp);
        if (k)
            i += (size_t)k, nout += (size_t)k;
        else
            i += 1, nout += 3;
        ncp++;
    }
    if (nout > (size_t)INT32_MAX - 1 || ncp > (size_t)INT32_MAX - 1) return CASIE_ERR_LIMIT;

    text = malloc(nout + 1);
    cpb = malloc((ncp + 1) * sizeof *cpb);
    if (!text || !cpb) goto fail;

    /* Pass 2: copy valid sequences, replace the rest, index every code point. */
    size_t o = 0, k_cp = 0;
    i = 0;
    if (nout == len) { /* valid input: one copy, then index */
        if (len) memcpy(text, in, len);
        while (i < len) {
            if (i + 8 <= len && ascii8(s + i)) {
                for (int j = 0; j < 8; j++)
                    cpb[k_cp++] = (int32_t)(i + (size_t)j);
                i += 8;
                continue;
            }
            cpb[k_cp++] = (int32_t)i;
            int k = decode(s + i, len - i, &cp);
            i += (size_t)(k ? k : 1);
        }
        o = len;
    } else {
        while (i < len) {
            if (i + 8 <= len && ascii8(s + i)) {
                memcpy(text + o, s + i, 8);
                for (int j = 0; j < 8; j++)
                    cpb[k_cp++] = (int32_t)(o + (size_t)j);
                i += 8, o += 8;
                continue;
            }
            cpb[k_cp++] = (int32_t)o;
            int k = decode(s + i, len - i, &cp);
            if (k) {
                memcpy(text + o, s + i, (size_t)k);
                i += (size_t)k, o += (size_t)k;
            } else {
                memcpy(text + o, "\xEF\xBF\xBD", 3);
                i += 1, o += 3;
            }
        }
    }
    text[o] = '\0';
    cpb[k_cp] = (int32_t)o;

    *out = text;
    *out_len = o;
    *cp_byte = cpb;
    *n_cp = (int32_t)k_cp;
    return CASIE_OK;
fail:
    free(text);
    free(cpb);
    return CASIE_ERR_NOMEM;
}

uint32_t casie__utf8_get(const char *p, int *adv) {
    const unsigned char *s = (const unsigned char *)p;
    uint32_t cp;
    if (s[0] < 0x80) {
        *adv = 1;
        return s[0];
    }
    /* Valid, NUL-terminated input never lets decode() run past its end: a
     * continuation check fails on the NUL before reading further. */
    int k = decode(s, 4, &cp);
    if (!k) {
        *adv = 1;
        return 0xFFFD;
    }
    *adv = k;
    return cp;
}

int casie__utf8_put(uint32_t cp, char *buf) {
    unsigned char *b = (unsigned char *)buf;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int casie__utf8_valid_len(const char *s, size_t n) {
    uint32_t cp;
    return decode((const unsigned char *)s, n, &cp);
}

long casie_utf8_check(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    if (!s) return n ? 0 : -1;
    while (i < n) {
        if (i + 8 <= n && ascii8(u + i)) {
            i += 8;
            continue;
        }
        int k = decode(u + i, n - i, &cp);
        if (!k) return (long)i;
        i += (size_t)k;
    }
    return -1;
}
