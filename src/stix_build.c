/*
 * stix_build.c - the STIX writer's building blocks: ids (UUIDv5 over a
 * fixed namespace), normalized names, the JSON values of a bundle, entity
 * objects (a pronoun makes none) and relationships, and the facts copied
 * onto an object.  stix.c (events) and stix_vuln.c (vulnerabilities) build
 * a bundle with them; this file calls neither.
 */
#include "stix_build.h"
#include "uuid5.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* casie's namespace for STIX ids: 4b1e7c2a-9355-4f0d-a638-e1275c90b46f (a
 * fixed random UUID; changing it changes every id). */
static const unsigned char NAMESPACE[16] = {0x4b, 0x1e, 0x7c, 0x2a, 0x93, 0x55, 0x4f, 0x0d,
                                            0xa6, 0x38, 0xe1, 0x27, 0x5c, 0x90, 0xb4, 0x6f};

/* "type--<UUIDv5 of key>". */
void casie__stix_id(char out[ID_MAX], const char *type, const char *key) {
    char u[37];
    casie__uuid5(NAMESPACE, key, u);
    snprintf(out, ID_MAX, "%s--%s", type, u);
}

/* ======================================================================== */
/* Names                                                                    */
/* ======================================================================== */

/* A printf into a new string (NULL when out of memory). */
char *casie__stix_strf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* The key that makes one entity one object: NFKC case folded (ASCII lower
 * case if that fails), whitespace collapsed, a leading "the " and trailing
 * punctuation dropped.  malloc'd, or NULL when out of memory. */
char *casie__stix_normalize(const char *s) {
    char *folded = (char *)utf8proc_NFKC_Casefold((const utf8proc_uint8_t *)s);
    const char *in = folded ? folded : s;
    size_t n = strlen(in), k = 0;
    char *out = malloc(n + 1);
    if (!out) {
        free(folded);
        return NULL;
    }
    int space = 0;
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c)) {
            space = k > 0;
            continue;
        }
        if (space) out[k++] = ' ';
        space = 0;
        out[k++] = (char)(c < 128 ? tolower(c) : c);
    }
    out[k] = 0;
    free(folded);
    while (k && strchr(".,;:!?'\"", out[k - 1]))
        out[--k] = 0;
    if (!strncmp(out, "the ", 4)) memmove(out, out + 4, k - 3);
    return out;
}

/* Words that name nobody in particular: never an entity. */
static int is_pronoun(const char *norm) {
    static const char *const P[] = {"he",     "she",      "it",      "they",     "we",   "i",     "you",   "him",
                                    "her",    "them",     "us",      "me",       "his",  "its",   "their", "our",
                                    "who",    "whom",     "which",   "that",     "this", "these", "those", "someone",
                                    "anyone", "somebody", "anybody", "everyone", "one",  NULL};
    for (int i = 0; P[i]; i++)
        if (!strcmp(norm, P[i])) return 1;
    return !norm[0];
}

/* The CVE ids in s ("CVE-2017-0144", upper case), at most `max`, without
 * repeats; returns the count.  Sequence numbers are 4 digits, or more without
 * a leading zero, as the CVE syntax (and the STIX schema) has it. */
int casie__stix_find_cves(const char *s, char (*out)[32], int max) {
    int n = 0;
    for (const char *p = s; p && *p && n < max; p++) {
        if (strncasecmp(p, "CVE-", 4) || (p > s && isalnum((unsigned char)p[-1]))) continue;
        int k = 4;
        while (k < 8 && isdigit((unsigned char)p[k]))
            k++;
        if (k != 8 || p[8] != '-') continue;
        int m = 9;
        while (m < 9 + 19 && isdigit((unsigned char)p[m]))
            m++;
        if (m - 9 < 4 || isdigit((unsigned char)p[m]) || (p[9] == '0' && m - 9 != 4)) continue;
        char id[32];
        snprintf(id, sizeof id, "CVE-%.*s", m - 4, p + 4);
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= !strcmp(out[i], id);
        if (!dup) memcpy(out[n++], id, sizeof id);
        p += m - 1;
    }
    return n;
}

/* ======================================================================== */
/* Building the bundle                                                      */
/* ======================================================================== */

/* A JSON string of s, with invalid UTF-8 (possible only in a document built by
 * hand) replaced by U+FFFD. */
json_t *casie__stix_jstr(builder *b, const char *s) {
    json_t *j = json_string(s);
    if (!j) {
        char *fixed = NULL;
        size_t n;
        int32_t *cpb = NULL, ncp;
        if (casie__utf8_normalize(s, strlen(s), &fixed, &n, &cpb, &ncp) == 0) j = json_stringn(fixed, n);
        free(fixed);
        free(cpb);
    }
    if (!j) b->failed = 1;
    return j;
}

void casie__stix_set(builder *b, json_t *o, const char *key, json_t *v) {
    if (!v || json_object_set_new(o, key, v)) b->failed = 1;
}

/* Adds o (owned) unless an object with its id is already there (in this
 * document or an earlier one of the bundle); either way the current
 * document's report refers to it. */
void casie__stix_take(builder *b, json_t *o) {
    if (!o) {
        b->failed = 1;
        return;
    }
    const char *id = json_string_value(json_object_get(o, "id"));
    json_t *old = id ? json_object_get(b->seen, id) : NULL;
    if (!id) {
        json_decref(o);
        b->failed = 1;
        return;
    }
    if (old) {
        /* one object per entity: it keeps the highest confidence of its mentions */
        json_t *c = json_object_get(o, "confidence"), *oc = json_object_get(old, "confidence");
        if (c && (!oc || json_integer_value(c) > json_integer_value(oc)))
            casie__stix_set(b, old, "confidence", json_incref(c));
        id = json_string_value(json_object_get(old, "id"));
        json_decref(o);
    } else if (json_object_set(b->seen, id, o) || json_array_append_new(b->objects, o)) {
        b->failed = 1;
        return;
    }
    if (!json_object_get(b->in_refs, id) &&
        (json_object_set_new(b->in_refs, id, json_true()) || json_array_append_new(b->refs, json_string(id))))
        b->failed = 1;
}

/* A new object with the common properties; its id from type and key. */
json_t *casie__stix_sdo(builder *b, const char *type, const char *key, char id[ID_MAX]) {
    casie__stix_id(id, type, key);
    json_t *o = json_object();
    if (!o) {
        b->failed = 1;
        return NULL;
    }
    casie__stix_set(b, o, "type", json_string(type));
    casie__stix_set(b, o, "spec_version", json_string("2.1"));
    casie__stix_set(b, o, "id", json_string(id));
    casie__stix_set(b, o, "created", json_string(b->ts));
    casie__stix_set(b, o, "modified", json_string(b->ts));
    if (b->conf >= 0) /* STIX confidence: 0..100 */
        casie__stix_set(b, o, "confidence", json_integer((json_int_t)(100.0f * (b->conf > 1 ? 1 : b->conf) + 0.5f)));
    return o;
}

/* An entity of `type` named `name`, its id keyed by type and the normalized
 * `key` (name when NULL); `extra` (owned, may be NULL) adds properties.  The
 * id goes to id; returns 0, or -1 (id empty) for a pronoun. */
int casie__stix_entity(builder *b, const char *type, const char *name, const char *key, json_t *extra,
                       char id[ID_MAX]) {
    id[0] = 0;
    char *norm = casie__stix_normalize(key ? key : name);
    if (!norm || is_pronoun(norm)) {
        if (!norm) b->failed = 1;
        free(norm);
        json_decref(extra);
        return -1;
    }
    char *k = casie__stix_strf("%s|%s|%s", type, b->scope, norm);
    free(norm);
    json_t *o = k ? casie__stix_sdo(b, type, k, id) : NULL;
    free(k);
    if (o) {
        casie__stix_set(b, o, "name", casie__stix_jstr(b, name));
        if (extra && json_object_update(o, extra)) b->failed = 1;
    }
    json_decref(extra);
    int ok = o != NULL;
    casie__stix_take(b, o);
    return ok ? 0 : -1;
}

/* A relationship src rel dst, with a description when desc is not NULL
 * (what a generic related-to means: "released", "affects"). */
void casie__stix_relate_desc(builder *b, const char *src, const char *rel, const char *dst, const char *desc) {
    if (!src[0] || !dst[0]) return;
    char id[ID_MAX];
    char *key = casie__stix_strf("%s|%s|%s", src, rel, dst);
    json_t *o = key ? casie__stix_sdo(b, "relationship", key, id) : NULL;
    free(key);
    if (o) {
        casie__stix_set(b, o, "relationship_type", json_string(rel));
        casie__stix_set(b, o, "source_ref", json_string(src));
        casie__stix_set(b, o, "target_ref", json_string(dst));
        if (desc) casie__stix_set(b, o, "description", json_string(desc));
    }
    casie__stix_take(b, o);
}

void casie__stix_relate(builder *b, const char *src, const char *rel, const char *dst) {
    casie__stix_relate_desc(b, src, rel, dst, NULL);
}

/* Copies the facts (x, may be NULL) onto o: x_casie_* properties, and the
 * description after o's own. */
void casie__stix_add_facts(builder *b, json_t *o, const json_t *x) {
    const char *k;
    json_t *v;
    if (!o || !x) return;
    json_object_foreach((json_t *)x, k, v) {
        if (strcmp(k, "description")) {
            casie__stix_set(b, o, k, json_incref(v));
            continue;
        }
        const char *own = json_string_value(json_object_get(o, "description"));
        char *d =
            own ? casie__stix_strf("%s. %s", own, json_string_value(v)) : casie__stix_strf("%s", json_string_value(v));
        if (!d)
            b->failed = 1;
        else
            casie__stix_set(b, o, "description", casie__stix_jstr(b, d));
        free(d);
    }
}
