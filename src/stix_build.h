/*
 * stix_build.h - what the STIX writer's files (stix*.c) share: the bundle
 * being built and the helpers that make its objects, their ids and names.
 *
 * Internal to the STIX writer: nothing outside stix*.c includes it (and the
 * casie__stix_* names are hidden from libcasie.so by libcasie.map).
 */
#ifndef CASIE_STIX_BUILD_H
#define CASIE_STIX_BUILD_H

#include "internal.h"

#include <jansson.h>

enum { ID_MAX = 80 }; /* "type--uuid": the longest type here is 16 characters */

enum { MAX_CVES = 16, MAX_VULNS = 32 };

typedef struct builder {
    json_t *objects;            /* array: every object of the bundle but the reports, in order of discovery */
    json_t *seen;               /* object id -> the object (a borrowed reference held by objects) */
    json_t *refs;               /* the current document's report object_refs */
    json_t *in_refs;            /* ... the same ids, as keys (id -> true) */
    char ts[32];                /* created, modified, published: the current document's date */
    int failed;                 /* out of memory */
    const char *scope;          /* the document id: entity ids are per article, as their timestamps are */
    float conf;                 /* the confidence of the objects being made (0..1), or < 0: none */
    char only_cve[32];          /* the article's one CVE id, or "": what "the flaw" is when it names no other */
    const casie_groups *groups; /* the catalogue of threat groups (borrowed), or NULL */
    const casie_doc *doc;       /* the current document (borrowed) */
} builder;

/* ---- stix.c: a document ---- */

/* The objects of doc into b (b->objects; its ids into b->refs and
 * b->in_refs, which the caller empties first) and its report into *report
 * (owned by the caller).  0, or -1 when out of memory. */
int casie__stix_document(builder *b, const casie_doc *doc, json_t **report);

/* ---- stix_build.c: ids, names and objects ---- */

/* "type--<UUIDv5 of key>" into out. */
void casie__stix_id(char out[ID_MAX], const char *type, const char *key);
/* A printf into a new string (NULL when out of memory). */
char *casie__stix_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The key that makes one entity one object (malloc'd, NULL: out of memory). */
char *casie__stix_normalize(const char *s);
/* The CVE ids in s, at most max, without repeats, upper case; the count. */
int casie__stix_find_cves(const char *s, char (*out)[32], int max);
/* A new STIX domain object of this type, its id ("type--<UUIDv5 of key>")
 * into id, with spec_version, created, modified and b's confidence; NULL
 * (b->failed) when out of memory. */
json_t *casie__stix_sdo(builder *b, const char *type, const char *key, char id[ID_MAX]);
/* A JSON string of s (invalid UTF-8 replaced by U+FFFD). */
json_t *casie__stix_jstr(builder *b, const char *s);
/* o[key] = v (owned); b->failed when v is NULL or cannot be set. */
void casie__stix_set(builder *b, json_t *o, const char *key, json_t *v);
/* Adds o (owned) unless an object with its id is already there; either
 * way its id is among the current document's refs. */
void casie__stix_take(builder *b, json_t *o);
/* An entity object (its id into id); 0, or -1 (id empty) for a pronoun. */
int casie__stix_entity(builder *b, const char *type, const char *name, const char *key, json_t *extra, char id[ID_MAX]);
/* A relationship src rel dst, with a description when desc is not NULL. */
void casie__stix_relate_desc(builder *b, const char *src, const char *rel, const char *dst, const char *desc);
void casie__stix_relate(builder *b, const char *src, const char *rel, const char *dst);
/* Copies a hopper's facts (x, may be NULL) onto o. */
void casie__stix_add_facts(builder *b, json_t *o, const json_t *x);

/* ---- stix_vuln.c: vulnerabilities, fixes, products ---- */

/* The CVE ids of a CVE argument as written, in their normal form; the count. */
int casie__stix_arg_cves(const char *text, char (*out)[32]);
/* The vulnerabilities of one hopper (ids in vulns, names in vnames); the count. */
int casie__stix_add_vulnerabilities(builder *b, const casie_hopper *hp, const char **names, const json_t *facts,
                                    char (*vulns)[ID_MAX], char (*vnames)[64]);
/* The fixes, vendor, products and discoverers of those vulnerabilities. */
void casie__stix_vuln_relations(builder *b, const casie_hopper *hp, const char **names, int nv, char (*vulns)[ID_MAX],
                                char (*vnames)[64]);

#endif
