/* fuzz_outname.c - the file names `casie extract -o DIR` derives from ids
 * (out_name and out_names_take in tools/out_dir.c) on arbitrary ids: up to 16
 * of them per input, each a 2-byte little-endian length (mod 1024) and that
 * many bytes.  It checks that every name is non-empty, within OUT_NAME_MAX,
 * holds no '/' or NUL and is neither "." nor ".." nor any other name starting
 * with '.', that a name without a hash decodes back to its id (so different
 * ids get different names), that two ids share a name only when both end in
 * a hash, and that the names taken in one run are all different. */
#include "../tools/out_dir.h"
#include "fuzz_common.h"

#define MAX_IDS 16

static int hexval(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* The id a name without a hash stands for, by the rules of out_dir.h (an
 * oracle written apart from the encoder); -1 when the name breaks them. */
static long decode(const char *name, char *id, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; name[i]; n++) {
        if (n >= cap) return -1;
        unsigned char c = (unsigned char)name[i];
        if (c == '%') {
            int hi = hexval(name[i + 1]), lo = hi < 0 ? -1 : hexval(name[i + 2]);
            if (lo < 0) return -1;
            id[n] = (char)(hi * 16 + lo);
            unsigned char d = (unsigned char)id[n];
            int plain = (d >= 'A' && d <= 'Z') || (d >= 'a' && d <= 'z') || (d >= '0' && d <= '9') || d == '_' ||
                        d == '-' || (d == '.' && n > 0);
            if (plain) return -1; /* escaped although it is kept: two names for one id */
            i += 3;
        } else {
            int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '-' || (c == '.' && i > 0);
            if (!plain) return -1;
            id[n] = (char)c;
            i++;
        }
    }
    return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *ids[MAX_IDS];
    size_t lens[MAX_IDS];
    char names[MAX_IDS][OUT_NAME_MAX + 1];
    int hashed[MAX_IDS], n = 0;
    size_t at = 0;
    while (n < MAX_IDS && at + 2 <= size) {
        size_t len = ((size_t)data[at] | (size_t)data[at + 1] << 8) % 1024;
        at += 2;
        if (len > size - at) len = size - at;
        ids[n] = (const char *)data + at;
        lens[n] = len;
        at += len;
        int k = out_name(ids[n], len, names[n], sizeof names[n], &hashed[n]);
        if (len == 0) {
            if (k != -1) abort(); /* no name for an empty id */
            continue;
        }
        const char *nm = names[n];
        if (k <= 0 || k > OUT_NAME_MAX || strlen(nm) != (size_t)k) abort();
        if (nm[0] == '.' || strchr(nm, '/') || !strcmp(nm, ".") || !strcmp(nm, "..")) abort();
        char again[OUT_NAME_MAX + 1];
        int h2;
        if (out_name(ids[n], len, again, sizeof again, &h2) != k || strcmp(again, nm) || h2 != hashed[n]) abort();
        const char *tilde = strchr(nm, '~');
        if (hashed[n]) { /* a cut name: '~' and 16 hex digits end it, and only there */
            if (!tilde || strlen(tilde) != 17 || strchr(tilde + 1, '~')) abort();
            for (const char *p = tilde + 1; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) abort();
            char prefix[OUT_NAME_MAX + 1], back[OUT_NAME_MAX + 1];
            memcpy(prefix, nm, (size_t)(tilde - nm));
            prefix[tilde - nm] = 0;
            long m = decode(prefix, back, sizeof back); /* the kept part is the start of the id */
            if (m < 0 || (size_t)m > len || memcmp(back, ids[n], (size_t)m)) abort();
        } else {
            char back[OUT_NAME_MAX + 1];
            if (tilde || decode(nm, back, sizeof back) != (long)len || memcmp(back, ids[n], len)) abort();
        }
        n++;
    }
    /* different ids share a name only when both names end in a hash */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (!strcmp(names[i], names[j]) && (lens[i] != lens[j] || memcmp(ids[i], ids[j], lens[i])) &&
                !(hashed[i] && hashed[j]))
                abort();
    /* one run: every id's name, twice over; all the names taken differ */
    out_names *s = out_names_new();
    if (!s) return 0;
    char taken[2 * MAX_IDS][OUT_NAME_MAX + 24];
    int t = 0;
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < n; i++, t++) {
            long k = out_names_take(s, names[i], taken[t], sizeof taken[t]);
            if (k < 0) break; /* out of memory */
            size_t bl = strlen(names[i]);
            if (strncmp(taken[t], names[i], bl)) abort();
            if (k == 0 ? taken[t][bl] != 0 : atol(taken[t] + bl + 1) != k || taken[t][bl] != '-' || k < 2) abort();
            for (int u = 0; u < t; u++)
                if (!strcmp(taken[u], taken[t])) abort();
        }
    out_names_free(s);
    return 0;
}
