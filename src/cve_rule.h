/*
 * cve_rule.h - CVE ids become the CVE arguments of vulnerability events.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_CVE_RULE_H
#define CASIE_CVE_RULE_H

#include "internal.h"

/* Makes each CVE token the CVE argument of the nearest vulnerability event
 * of each subtype in its sentence (else of the nearest one a sentence away);
 * events scoring under threshold are left alone.  CASIE_OK or NOMEM. */
int casie__cve_args(const casie_doc *doc, casie_event *ev, int n_ev, float threshold);

#endif /* CASIE_CVE_RULE_H */
