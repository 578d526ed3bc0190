/*
 * byte_order.h - little-endian fields of the file formats.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_BYTE_ORDER_H
#define CASIE_BYTE_ORDER_H

#include "internal.h"

#include <string.h>

/* ---- little-endian fields: every file format goes through these, so the
 * files read and write the same bytes on any host ---- */
static inline uint16_t casie__get_u16le(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t casie__get_u32le(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t casie__get_u64le(const unsigned char *p) {
    return (uint64_t)casie__get_u32le(p) | (uint64_t)casie__get_u32le(p + 4) << 32;
}
static inline void casie__put_u32le(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void casie__put_u64le(unsigned char *p, uint64_t v) {
    casie__put_u32le(p, (uint32_t)v);
    casie__put_u32le(p + 4, (uint32_t)(v >> 32));
}

/* ---- bfloat16: a float's top half (rounding to it: casie__f32_to_bf16,
 * linear.h) ---- */
static inline float casie__bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#endif /* CASIE_BYTE_ORDER_H */
