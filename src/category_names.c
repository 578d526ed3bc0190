/*
 * category_names.c - the names of argument categories, the corpus's second
 * layer of annotation, and reading them from a CASIE role object.
 *
 * A Purpose argument's role carries a `subtype` (why the attacker acted) and
 * a Capabilities, Attack-Pattern or Issues-Addressed argument's a
 * `CAPEC-Meta` (the mechanism, as one of CAPEC's meta attack patterns), each
 * with a `confidence`: the corpus's annotators assigned them with a
 * classifier.  The tables hold every name found in the training and
 * development documents, most frequent first; a name not listed (the corpus
 * has two Purpose subtypes "other") stays among the role's unknown fields.
 *
 * CAPEC identifiers are deliberately not given here: this project has no
 * copy of the CAPEC catalogue to cite for the id of each meta pattern, so
 * the names are the only link (see stix.c).
 *
 * Not here: the classifier that predicts them (category.c).
 */
#include "internal.h"
#include "category.h"

#include <jansson.h>
#include <string.h>

static const char *const PURPOSES[CASIE_N_PURPOSES] = {
    "Gathering data", "Malware spreading", "Monetary", "Unauthorized access",
    "Publish data",   "Further attack",    "Selling",
};

static const char *const CAPEC[CASIE_N_CAPEC] = {
    "Flooding",
    "Physical Theft",
    "Privilege Abuse",
    "Shared Data Manipulation",
    "Malicious Logic Insertion",
    "Content Spoofing",
    "Excavation",
    "File Manipulation",
    "Code Inclusion",
    "Action Spoofing",
    "Interception",
    "Functionality Misuse",
    "Resource Leak Exposure",
    "Buffer Manipulation",
    "Exploitation of Trusted Credentials",
    "Forced Deadlock",
    "Local Execution of Code",
    "Object Injection",
    "Man in the Middle Attack",
    "Contaminate Resource",
    "Resource Location Spoofing",
    "Configuration/Environment Manipulation",
    "Privilege Escalation",
    "Functionality Bypass",
    "Authentication Bypass",
    "Code Injection",
    "Infrastructure Manipulation",
    "Information Elicitation",
    "Exploiting Trust in Client",
    "Manipulate Human Behavior",
    "Sustained Client Engagement",
    "Traffic Injection",
    "Protocol Manipulation",
    "Parameter Injection",
    "Manipulating User State",
    "Protocol Analysis",
    "Footprinting",
    "Pointer Manipulation",
    "Authentication Abuse",
    "Software Integrity Attack",
    "Communication Channel Manipulation",
    "Brute Force",
    "Fault Injection",
    "Leveraging Race Conditions",
    "Input Data Manipulation",
};

int casie_role_category(int role) {
    const char *r = casie_role_name(role);
    if (!r) return CASIE_CAT_NONE;
    if (!strcmp(r, "Purpose")) return CASIE_CAT_PURPOSE;
    if (!strcmp(r, "Capabilities") || !strcmp(r, "Attack-Pattern") || !strcmp(r, "Issues-Addressed"))
        return CASIE_CAT_CAPEC;
    return CASIE_CAT_NONE;
}

int casie_category_count(int kind) {
    return kind == CASIE_CAT_PURPOSE ? CASIE_N_PURPOSES : kind == CASIE_CAT_CAPEC ? CASIE_N_CAPEC : 0;
}

const char *casie_category_name(int kind, int i) {
    if (i < 0 || i >= casie_category_count(kind)) return NULL;
    return kind == CASIE_CAT_PURPOSE ? PURPOSES[i] : CAPEC[i];
}

int casie_category_from_name(int kind, const char *name) {
    if (!name) return -1;
    for (int i = 0, n = casie_category_count(kind); i < n; i++)
        if (!strcmp(casie_category_name(kind, i), name)) return i;
    return -1;
}

/* The index of a's category in its kind's table, or -1. */
int casie__arg_category(const casie_arg *a) {
    int kind = casie_role_category(a->role);
    if (!a->category || !kind) return -1;
    return casie_category_from_name(kind, a->category);
}

const char *casie__category_key(int kind) {
    return kind == CASIE_CAT_PURPOSE ? "subtype" : kind == CASIE_CAT_CAPEC ? "CAPEC-Meta" : NULL;
}

void casie__role_category_read(json_t *role, casie_arg *a) {
    int kind = casie_role_category(a->role);
    const char *key = casie__category_key(kind);
    json_t *v = key ? json_object_get(role, key) : NULL;
    int i = json_is_string(v) ? casie_category_from_name(kind, json_string_value(v)) : -1;
    if (i < 0) return; /* none, or a name not in the table: left among the unknown fields */
    a->category = casie_category_name(kind, i);
    json_object_del(role, key);
    json_t *c = json_object_get(role, "confidence");
    double x = json_is_number(c) ? json_number_value(c) : -1.0;
    a->category_score = x >= 0 && x <= 1 ? x : -1.0;
    if (json_is_number(c) && x >= 0 && x <= 1) json_object_del(role, "confidence");
}
