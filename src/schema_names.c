/*
 * schema_names.c - the names of the CASIE annotation schema's labels: event
 * subtypes, realis, argument roles and entity types, as the corpus spells
 * them, and back from a name to its index.
 *
 * Not here: argument categories (category_names.c), BIO tagging labels
 * (tagging.c).
 */
#include "internal.h"

#include <string.h>

static const char *const SUBTYPES[CASIE_N_SUBTYPES] = {"Databreach", "Phishing", "Ransom", "DiscoverVulnerability",
                                                       "PatchVulnerability"};
static const char *const REALIS[CASIE_N_REALIS] = {"Actual", "Generic", "Other"};
static const char *const ROLES[CASIE_N_ROLES] = {"Attacker",
                                                 "Victim",
                                                 "Tool",
                                                 "Compromised-Data",
                                                 "Attack-Pattern",
                                                 "Time",
                                                 "Place",
                                                 "Purpose",
                                                 "Number-of-Data",
                                                 "Number-of-Victim",
                                                 "Damage-Amount",
                                                 "Trusted-Entity",
                                                 "Price",
                                                 "Payment-Method",
                                                 "Vulnerability",
                                                 "Discoverer",
                                                 "Vulnerable_System",
                                                 "Vulnerable_System_Owner",
                                                 "Vulnerable_System_Version",
                                                 "Capabilities",
                                                 "CVE",
                                                 "Supported_Platform",
                                                 "Releaser",
                                                 "Patch",
                                                 "Patch-Number",
                                                 "Issues-Addressed"};
static const char *const ENTITIES[CASIE_N_ENTITY_TYPES] = {
    "Person", "Organization", "Vulnerability", "Capabilities", "Time",          "System",  "PII",
    "Data",   "Device",       "File",          "Software",     "Purpose",       "Malware", "Patch",
    "Money",  "Website",      "Version",       "Number",       "PaymentMethod", "CVE",     "GPE"};

#define NAME_AT(tab, n, i) ((i) >= 0 && (i) < (n) ? (tab)[i] : NULL)
const char *casie_subtype_name(int i) { return NAME_AT(SUBTYPES, CASIE_N_SUBTYPES, i); }
const char *casie_realis_name(int i) { return NAME_AT(REALIS, CASIE_N_REALIS, i); }
const char *casie_role_name(int i) { return NAME_AT(ROLES, CASIE_N_ROLES, i); }
const char *casie_entity_name(int i) { return NAME_AT(ENTITIES, CASIE_N_ENTITY_TYPES, i); }
const char *casie_event_type_name(int i) {
    if (i < 0 || i >= CASIE_N_SUBTYPES) return NULL;
    return i <= CASIE_SUBTYPE_RANSOM ? "Attack" : "Vulnerability-related";
}

static int find_name(const char *const *tab, int n, const char *name) {
    if (!name) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(tab[i], name) == 0) return i;
    return -1;
}
int casie_subtype_from_name(const char *s) { return find_name(SUBTYPES, CASIE_N_SUBTYPES, s); }
int casie_role_from_name(const char *s) { return find_name(ROLES, CASIE_N_ROLES, s); }
int casie_entity_from_name(const char *s) { return find_name(ENTITIES, CASIE_N_ENTITY_TYPES, s); }
int casie_realis_from_name(const char *s) {
    if (s && strcmp(s, "General") == 0) return CASIE_REALIS_GENERIC; /* one corpus typo */
    return find_name(REALIS, CASIE_N_REALIS, s);
}
