/*
 * cve.h - CVE ids.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_CVE_H
#define CASIE_CVE_H

#include "internal.h"

/* ---- CVE ids (cve.c) ---- */
/* The length in code points of a CVE id starting at c[i] (before n): "CVE",
 * an optional dash (any Unicode dash), 4 digits, an optional dash, 4 to 8
 * digits, in any case; 0 when there is none or it runs into more letters. */
int32_t casie__cve_len(const uint32_t *c, int32_t i, int32_t n);
/* "CVE-2018-0986" for a text that is one CVE id as above (1), else 0. */
int casie__cve_normalize(const char *text, char *out, size_t cap);
/* Makes each CVE token the CVE argument of the nearest vulnerability event
 * of each subtype in its sentence (else of the nearest one a sentence away);
 * events scoring under threshold are left alone.  CASIE_OK or NOMEM. */
int casie__cve_args(const casie_doc *doc, casie_event *ev, int n_ev, float threshold);

#endif /* CASIE_CVE_H */
