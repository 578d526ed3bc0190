/*
 * common.c - errors, label tables, small memory and string helpers.
 *
 * Not here: anything about documents or models.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *casie_version(void) { return CASIE_VERSION_STRING; }

const char *casie_status_string(int code) {
    switch (code) {
    case CASIE_OK:
        return "ok";
    case CASIE_ERR_NOMEM:
        return "out of memory";
    case CASIE_ERR_IO:
        return "input/output error";
    case CASIE_ERR_PARSE:
        return "malformed input";
    case CASIE_ERR_SCHEMA:
        return "not a CASIE document";
    case CASIE_ERR_LIMIT:
        return "input over a limit";
    case CASIE_ERR_MODEL_MAGIC:
        return "not a casie model file";
    case CASIE_ERR_MODEL_VERSION:
        return "model format newer than this library";
    case CASIE_ERR_MODEL_CORRUPT:
        return "corrupt model file";
    case CASIE_ERR_INVALID_ARG:
        return "invalid argument";
    case CASIE_ERR_EMPTY:
        return "empty input";
    case CASIE_ERR_ENCODER:
        return "encoder missing or mismatched";
    default:
        return "unknown error";
    }
}

int casie__error(casie_error *err, int code, long position, const char *fmt, ...) {
    if (err) {
        err->code = code;
        err->position = position;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void casie_free(void *p) { free(p); }

char *casie__strdup(const char *s) {
    if (!s) return NULL;
    return casie__strndup(s, strlen(s));
}

char *casie__strndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

int casie__grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return CASIE_OK;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size) return CASIE_ERR_NOMEM;
        n *= 2;
    }
    void *q = realloc(*p, n * size);
    if (!q) return CASIE_ERR_NOMEM;
    *p = q;
    *cap = n;
    return CASIE_OK;
}

char *casie__path_id(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return casie__strndup(base, n);
}

int casie__is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *casie__read_file(const char *path, size_t *len, casie_error *err) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) {
        casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (casie__grow((void **)&buf, &cap, n + 65536 + 1, 1)) {
            casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
            goto fail;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n > CASIE_MAX_DOC_BYTES) {
            casie__error(err, CASIE_ERR_LIMIT, -1, "%s: larger than %zu bytes", path, (size_t)CASIE_MAX_DOC_BYTES);
            goto fail;
        }
    }
    if (ferror(f)) {
        casie__error(err, CASIE_ERR_IO, -1, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

/* ---- label tables ---- */

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
