/*
 * uuid5.c - SHA-1 (FIPS 180-4) and name-based UUIDs (version 5, RFC 4122
 * section 4.3), which give STIX objects ids that depend on their content
 * only (stix.c).
 *
 * Not here: what the names are (stix.c).  SHA-1 serves ids here, not
 * security.
 */
#include "internal.h"
#include "uuid5.h"

#include <stdio.h>
#include <string.h>

typedef struct sha1 {
    uint32_t h[5];
    uint64_t len;          /* bytes hashed so far */
    unsigned char buf[64]; /* the pending block */
    size_t n;              /* bytes in buf */
} sha1;

static uint32_t rol32(uint32_t x, int k) { return x << k | x >> (32 - k); }

static void sha1_block(sha1 *s, const unsigned char *p) {
    uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20)
            f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40)
            f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60)
            f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else
            f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol32(b, 30), b = a, a = t;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

static void sha1_init(sha1 *s) {
    static const uint32_t H[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(s->h, H, sizeof H);
    s->len = 0;
    s->n = 0;
}

static void sha1_update(sha1 *s, const void *data, size_t len) {
    const unsigned char *p = data;
    s->len += len;
    while (len) {
        size_t k = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->buf + s->n, p, k);
        s->n += k, p += k, len -= k;
        if (s->n == 64) sha1_block(s, s->buf), s->n = 0;
    }
}

static void sha1_final(sha1 *s, unsigned char out[20]) {
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    sha1_update(s, &pad, 1);
    while (s->n != 56)
        sha1_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(s, lenb, 8);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(s->h[i] >> (24 - 8 * j));
}

/* The UUIDv5 of `name` in namespace `ns`, as 36 characters + NUL. */
void casie__uuid5(const unsigned char ns[16], const char *name, char out[37]) {
    sha1 s;
    unsigned char h[20];
    sha1_init(&s);
    sha1_update(&s, ns, 16);
    sha1_update(&s, name, strlen(name));
    sha1_final(&s, h);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x50); /* version 5 */
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3],
             h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}
