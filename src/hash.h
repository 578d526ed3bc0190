/*
 * hash.h - hashing and the deterministic generator.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_HASH_H
#define CASIE_HASH_H

#include "internal.h"

/* ---- hashing (features.c) ---- */
static inline uint64_t casie__mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}
/* Combines a feature hash with another value (template id, label, ...). */
static inline uint64_t casie__hc(uint64_t h, uint64_t v) {
    return casie__mix64(h ^ (v * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull));
}
uint64_t casie__hash_bytes(const void *p, size_t n, uint64_t seed);

/* A small deterministic generator (xorshift64*): shuffling, initialisation, dropout. */
static inline uint64_t casie__rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

#endif /* CASIE_HASH_H */
