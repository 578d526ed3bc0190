/*
 * cve_id.h - CVE ids as written: recognised, normalized.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_CVE_ID_H
#define CASIE_CVE_ID_H

#include "internal.h"

/* The length in code points of a CVE id starting at c[i] (before n): "CVE",
 * an optional dash (any Unicode dash), 4 digits, an optional dash, 4 to 8
 * digits, in any case; 0 when there is none or it runs into more letters. */
int32_t casie__cve_len(const uint32_t *c, int32_t i, int32_t n);
/* "CVE-2018-0986" for a text that is one CVE id as above (1), else 0. */
int casie__cve_normalize(const char *text, char *out, size_t cap);

#endif /* CASIE_CVE_ID_H */
