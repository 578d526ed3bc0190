/*
 * stix.c - a document's events as a STIX 2.1 bundle.
 *
 * One `report` for the article (title, publication date, link: an http or
 * https one only) refers to what was found:
 *   Attacker                  threat-actor, or intrusion-set for a named group
 *                             ("APT28", "Lazarus Group", "Fancy Bear")
 *   Victim                    identity (identity_class from the entity type)
 *   Tool                      malware (is_family false) when its entity type
 *                             is Malware, else tool
 *   Vulnerability, CVE        vulnerability, named by its CVE id when there is
 *                             one (the CVE as an external reference)
 *   Patch                     course-of-action
 *   Attack-Pattern            attack-pattern
 *   a hopper of attack events a campaign, which uses the attack-pattern of
 *   (Databreach, Phishing,    its subtype ("Phishing", "Ransom", "Data breach")
 *   Ransom)
 * and relationships that the STIX 2.1 relationship tables allow: campaign
 * attributed-to threat-actor / intrusion-set, campaign targets identity,
 * campaign uses malware / tool / attack-pattern, malware exploits
 * vulnerability, course-of-action mitigates vulnerability.  Pronouns ("they",
 * "it") are not entities and are left out.
 *
 * Ids are UUIDv5 (SHA-1, RFC 4122 section 4.3) over a fixed namespace and a
 * canonical content string: the type, the document id and the normalized name
 * (NFKC case folded, whitespace collapsed, a leading "the" dropped; a CVE id
 * for a vulnerability that has one), the document and trigger spans for a
 * campaign, source, type and target for a relationship.  So an entity named in
 * several events of an article is one object (objects are deduplicated by id),
 * two articles never share an id whose timestamps would differ, and a rerun
 * gives the same bytes: created, modified and published are the article date ("YYYY_MM_DD"
 * in the corpus) at midnight UTC, or 1970-01-01 when it has none.
 *
 * Not here: reading STIX; observables (SCOs).
 */
#include "internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* ======================================================================== */
/* SHA-1 (FIPS 180-4) and UUIDv5                                            */
/* ======================================================================== */

typedef struct sha1 {
    uint32_t h[5];
    uint64_t len;          /* bytes hashed so far */
    unsigned char buf[64]; /* the pending block */
    size_t n;              /* bytes in buf */
} sha1;

static uint32_t rol32(uint32_t x, int k) { return x << k | x >> (32 - k); }

static void sha1_block(sha1 *s, const unsigned char *p) {
    uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol32(b, 30), b = a, a = t;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

static void sha1_init(sha1 *s) {
    static const uint32_t H[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(s->h, H, sizeof H);
    s->len = 0;
    s->n = 0;
}

static void sha1_update(sha1 *s, const void *data, size_t len) {
    const unsigned char *p = data;
    s->len += len;
    while (len) {
        size_t k = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->buf + s->n, p, k);
        s->n += k, p += k, len -= k;
        if (s->n == 64) sha1_block(s, s->buf), s->n = 0;
    }
}

static void sha1_final(sha1 *s, unsigned char out[20]) {
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    sha1_update(s, &pad, 1);
    while (s->n != 56) sha1_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(s, lenb, 8);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (unsigned char)(s->h[i] >> (24 - 8 * j));
}

/* The UUIDv5 of `name` in namespace `ns`, as 36 characters + NUL. */
static void uuid5(const unsigned char ns[16], const char *name, char out[37]) {
    sha1 s;
    unsigned char h[20];
    sha1_init(&s);
    sha1_update(&s, ns, 16);
    sha1_update(&s, name, strlen(name));
    sha1_final(&s, h);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x50); /* version 5 */
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3],
             h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

/* casie's namespace for STIX ids: 4b1e7c2a-9355-4f0d-a638-e1275c90b46f (a
 * fixed random UUID; changing it changes every id). */
static const unsigned char NAMESPACE[16] = {0x4b, 0x1e, 0x7c, 0x2a, 0x93, 0x55, 0x4f, 0x0d,
                                            0xa6, 0x38, 0xe1, 0x27, 0x5c, 0x90, 0xb4, 0x6f};

enum { ID_MAX = 80 }; /* "type--uuid": the longest type here is 16 characters */

/* "type--<UUIDv5 of key>". */
static void stix_id(char out[ID_MAX], const char *type, const char *key) {
    char u[37];
    uuid5(NAMESPACE, key, u);
    snprintf(out, ID_MAX, "%s--%s", type, u);
}

/* ======================================================================== */
/* Names                                                                    */
/* ======================================================================== */

/* A printf into a new string (NULL when out of memory). */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...) {
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
static char *normalize(const char *s) {
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
    while (k && strchr(".,;:!?'\"", out[k - 1])) out[--k] = 0;
    if (!strncmp(out, "the ", 4)) memmove(out, out + 4, k - 3);
    return out;
}

/* Words that name nobody in particular: never an entity. */
static int is_pronoun(const char *norm) {
    static const char *const P[] = {"he",    "she",   "it",     "they",   "we",      "i",      "you",  "him",
                                    "her",   "them",  "us",     "me",     "his",     "its",    "their", "our",
                                    "who",   "whom",  "which",  "that",   "this",    "these",  "those", "someone",
                                    "anyone", "somebody", "anybody", "everyone", "one", NULL};
    for (int i = 0; P[i]; i++)
        if (!strcmp(norm, P[i])) return 1;
    return !norm[0];
}

/* A named group of attackers (an intrusion set): casie__is_group_name. */
static int is_group_name(const char *s) { return casie__is_group_name(s); }

/* The CVE ids in s ("CVE-2017-0144", upper case), at most `max`, without
 * repeats; returns the count.  Sequence numbers are 4 digits, or more without
 * a leading zero, as the CVE syntax (and the STIX schema) has it. */
static int find_cves(const char *s, char (*out)[32], int max) {
    int n = 0;
    for (const char *p = s; p && *p && n < max; p++) {
        if (strncasecmp(p, "CVE-", 4) || (p > s && isalnum((unsigned char)p[-1]))) continue;
        int k = 4;
        while (k < 8 && isdigit((unsigned char)p[k])) k++;
        if (k != 8 || p[8] != '-') continue;
        int m = 9;
        while (m < 9 + 19 && isdigit((unsigned char)p[m])) m++;
        if (m - 9 < 4 || isdigit((unsigned char)p[m]) || (p[9] == '0' && m - 9 != 4)) continue;
        char id[32];
        snprintf(id, sizeof id, "CVE-%.*s", m - 4, p + 4);
        int dup = 0;
        for (int i = 0; i < n; i++) dup |= !strcmp(out[i], id);
        if (!dup) memcpy(out[n++], id, sizeof id);
        p += m - 1;
    }
    return n;
}

/* ======================================================================== */
/* Building the bundle                                                      */
/* ======================================================================== */

typedef struct builder {
    json_t *objects; /* array: every object but the report, in order of discovery */
    json_t *refs;    /* the report's object_refs (the same ids) */
    json_t *seen;    /* object id -> true */
    char ts[32];     /* created, modified, published */
    int failed;      /* out of memory */
    const char *scope; /* the document id: entity ids are per article, as their timestamps are */
} builder;

/* A JSON string of s, with invalid UTF-8 (possible only in a document built by
 * hand) replaced by U+FFFD. */
static json_t *jstr(builder *b, const char *s) {
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

static void set(builder *b, json_t *o, const char *key, json_t *v) {
    if (!v || json_object_set_new(o, key, v)) b->failed = 1;
}

/* Adds o (owned) unless an object with its id is already there. */
static void take(builder *b, json_t *o) {
    if (!o) {
        b->failed = 1;
        return;
    }
    const char *id = json_string_value(json_object_get(o, "id"));
    if (!id || json_object_get(b->seen, id)) {
        json_decref(o);
        return;
    }
    if (json_object_set_new(b->seen, id, json_true()) || json_array_append_new(b->refs, json_string(id)) ||
        json_array_append_new(b->objects, o))
        b->failed = 1;
}

/* A new object with the common properties; its id from type and key. */
static json_t *sdo(builder *b, const char *type, const char *key, char id[ID_MAX]) {
    stix_id(id, type, key);
    json_t *o = json_object();
    if (!o) {
        b->failed = 1;
        return NULL;
    }
    set(b, o, "type", json_string(type));
    set(b, o, "spec_version", json_string("2.1"));
    set(b, o, "id", json_string(id));
    set(b, o, "created", json_string(b->ts));
    set(b, o, "modified", json_string(b->ts));
    return o;
}

/* An entity of `type` named `name`, its id keyed by type and the normalized
 * `key` (name when NULL); `extra` (owned, may be NULL) adds properties.  The
 * id goes to id; returns 0, or -1 (id empty) for a pronoun. */
static int entity(builder *b, const char *type, const char *name, const char *key, json_t *extra, char id[ID_MAX]) {
    id[0] = 0;
    char *norm = normalize(key ? key : name);
    if (!norm || is_pronoun(norm)) {
        if (!norm) b->failed = 1;
        free(norm);
        json_decref(extra);
        return -1;
    }
    char *k = strf("%s|%s|%s", type, b->scope, norm);
    free(norm);
    json_t *o = k ? sdo(b, type, k, id) : NULL;
    free(k);
    if (o) {
        set(b, o, "name", jstr(b, name));
        if (extra && json_object_update(o, extra)) b->failed = 1;
    }
    json_decref(extra);
    int ok = o != NULL;
    take(b, o);
    return ok ? 0 : -1;
}

static void relate(builder *b, const char *src, const char *rel, const char *dst) {
    if (!src[0] || !dst[0]) return;
    char id[ID_MAX];
    char *key = strf("%s|%s|%s", src, rel, dst);
    json_t *o = key ? sdo(b, "relationship", key, id) : NULL;
    free(key);
    if (o) {
        set(b, o, "relationship_type", json_string(rel));
        set(b, o, "source_ref", json_string(src));
        set(b, o, "target_ref", json_string(dst));
    }
    take(b, o);
}

/* A vulnerability named by its CVE id, with the CVE as external reference;
 * `text` (the mention, may be NULL) becomes its description. */
static void cve_vuln(builder *b, const char *cve, const char *text, char id[ID_MAX]) {
    json_t *x = json_pack("{s:[{s:s,s:s}]}", "external_references", "source_name", "cve", "external_id", cve);
    if (x && text && strcasecmp(text, cve)) json_object_set_new(x, "description", jstr(b, text));
    if (!x) b->failed = 1;
    entity(b, "vulnerability", cve, NULL, x, id);
}

enum { MAX_CVES = 16, MAX_VULNS = 32 };

/* The vulnerabilities of one hopper (their ids in vulns, count returned). */
static int add_vulnerabilities(builder *b, const casie_hopper *hp, char (*vulns)[ID_MAX]) {
    const int R_VULN = casie_role_from_name("Vulnerability"), R_CVE = casie_role_from_name("CVE");
    int nv = 0;
    char id[ID_MAX];
    for (int i = 0; i < hp->n_events; i++) {
        const casie_event *e = &hp->events[i];
        char cves[MAX_CVES][32], own[MAX_CVES][32];
        int nc = 0;
        for (int a = 0; a < e->n_args; a++)
            if (e->args[a].role == R_CVE && e->args[a].text) {
                char found[MAX_CVES][32];
                int n = find_cves(e->args[a].text, found, MAX_CVES);
                for (int j = 0; j < n && nc < MAX_CVES; j++) {
                    int dup = 0;
                    for (int q = 0; q < nc; q++) dup |= !strcmp(cves[q], found[j]);
                    if (!dup) memcpy(cves[nc++], found[j], 32);
                }
            }
        /* mentions first, so that a vulnerability named by its CVE is described by them */
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            if (g->role != R_VULN || !g->text) continue;
            int n = find_cves(g->text, own, MAX_CVES);
            if (n) {
                for (int j = 0; j < n; j++) {
                    cve_vuln(b, own[j], g->text, id);
                    if (id[0] && nv < MAX_VULNS) memcpy(vulns[nv++], id, ID_MAX);
                }
            } else if (nc == 1) { /* the event's one CVE names it */
                cve_vuln(b, cves[0], g->text, id);
                if (id[0] && nv < MAX_VULNS) memcpy(vulns[nv++], id, ID_MAX);
            } else if (entity(b, "vulnerability", g->text, NULL, NULL, id) == 0 && nv < MAX_VULNS) {
                memcpy(vulns[nv++], id, ID_MAX);
            }
        }
        for (int j = 0; j < nc; j++) {
            cve_vuln(b, cves[j], NULL, id);
            if (id[0] && nv < MAX_VULNS) memcpy(vulns[nv++], id, ID_MAX);
        }
    }
    return nv;
}

static int is_attack(int subtype) {
    return subtype == CASIE_SUBTYPE_DATABREACH || subtype == CASIE_SUBTYPE_PHISHING || subtype == CASIE_SUBTYPE_RANSOM;
}

/* The attack-pattern of an attack subtype. */
static const char *subtype_pattern(int subtype) {
    return subtype == CASIE_SUBTYPE_DATABREACH ? "Data breach" : subtype == CASIE_SUBTYPE_PHISHING ? "Phishing" : "Ransom";
}

/* The hopper's campaign (attack hoppers only; camp empty otherwise). */
static void add_campaign(builder *b, const casie_doc *doc, const casie_hopper *hp, char camp[ID_MAX]) {
    camp[0] = 0;
    const casie_event *first = NULL;
    for (int i = 0; i < hp->n_events && !first; i++)
        if (is_attack(hp->events[i].subtype)) first = &hp->events[i];
    if (!first) return;
    const int R_VICTIM = casie_role_from_name("Victim"), R_PURPOSE = casie_role_from_name("Purpose");
    const char *victim = NULL, *purpose = NULL;
    for (int i = 0; i < hp->n_events; i++)
        for (int a = 0; a < hp->events[i].n_args; a++) {
            const casie_arg *g = &hp->events[i].args[a];
            if (!g->text) continue;
            if (g->role == R_VICTIM && !victim) {
                char *norm = normalize(g->text);
                if (norm && !is_pronoun(norm)) victim = g->text;
                free(norm);
            }
            if (g->role == R_PURPOSE && !purpose) purpose = g->text;
        }
    /* the campaign is this article's events: keyed by the document and the trigger spans */
    size_t cap = 64 + (doc->id ? strlen(doc->id) : 0) + 24 * (size_t)hp->n_events, k;
    char *key = malloc(cap);
    if (!key) {
        b->failed = 1;
        return;
    }
    k = (size_t)snprintf(key, cap, "campaign|%s|", doc->id ? doc->id : "");
    for (int i = 0; i < hp->n_events; i++)
        k += (size_t)snprintf(key + k, cap - k, "%d-%d,", hp->events[i].start, hp->events[i].end);
    json_t *o = sdo(b, "campaign", key, camp);
    free(key);
    const char *sub = casie_subtype_name(first->subtype), *realis = casie_realis_name(first->realis);
    char *name = victim ? strf("%s against %s", sub, victim) : strf("%s: %s", sub, first->text ? first->text : "");
    char *desc = strf("%s event (%s, %d mention%s) reported in \"%s\"", sub, realis ? realis : "Actual", hp->n_events,
                      hp->n_events == 1 ? "" : "s", doc->title ? doc->title : doc->id ? doc->id : "the article");
    if (o && name && desc) {
        set(b, o, "name", jstr(b, name));
        set(b, o, "description", jstr(b, desc));
        if (purpose) set(b, o, "objective", jstr(b, purpose));
    } else {
        b->failed = 1;
    }
    free(name);
    free(desc);
    take(b, o);
    /* the attack-patterns of its subtypes */
    int done[CASIE_N_SUBTYPES] = {0};
    for (int i = 0; i < hp->n_events; i++) {
        int st = hp->events[i].subtype;
        if (!is_attack(st) || done[st]) continue;
        done[st] = 1;
        char ap[ID_MAX];
        entity(b, "attack-pattern", subtype_pattern(st), NULL, NULL, ap);
        relate(b, camp, "uses", ap);
    }
}

static void add_hopper(builder *b, const casie_doc *doc, const casie_hopper *hp) {
    if (!hp->n_events) return;
    const int R_ATTACKER = casie_role_from_name("Attacker"), R_VICTIM = casie_role_from_name("Victim"),
              R_TOOL = casie_role_from_name("Tool"), R_PATCH = casie_role_from_name("Patch"),
              R_PATTERN = casie_role_from_name("Attack-Pattern");
    char camp[ID_MAX], vulns[MAX_VULNS][ID_MAX], id[ID_MAX];
    add_campaign(b, doc, hp, camp);
    int nv = add_vulnerabilities(b, hp, vulns); /* first: patches and malware point at them */
    for (int i = 0; i < hp->n_events; i++) {
        const casie_event *e = &hp->events[i];
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            const char *ent = casie_entity_name(g->entity);
            if (!g->text) continue;
            if (!ent) ent = "";
            if (g->role == R_ATTACKER) {
                if (entity(b, is_group_name(g->text) ? "intrusion-set" : "threat-actor", g->text, NULL, NULL, id) == 0)
                    relate(b, camp, "attributed-to", id);
            } else if (g->role == R_VICTIM) {
                const char *cls = !strcmp(ent, "Person")         ? "individual"
                                  : !strcmp(ent, "Organization") ? "organization"
                                  : (!strcmp(ent, "System") || !strcmp(ent, "Device") || !strcmp(ent, "Software") ||
                                     !strcmp(ent, "Website"))
                                      ? "system"
                                      : "unknown";
                if (entity(b, "identity", g->text, NULL, json_pack("{s:s}", "identity_class", cls), id) == 0)
                    relate(b, camp, "targets", id);
            } else if (g->role == R_TOOL) {
                int mal = !strcmp(ent, "Malware");
                if (entity(b, mal ? "malware" : "tool", g->text, NULL, mal ? json_pack("{s:b}", "is_family", 0) : NULL,
                           id) == 0) {
                    relate(b, camp, "uses", id);
                    if (mal)
                        for (int v = 0; v < nv; v++) relate(b, id, "exploits", vulns[v]);
                }
            } else if (g->role == R_PATTERN && camp[0]) {
                if (entity(b, "attack-pattern", g->text, NULL, NULL, id) == 0) relate(b, camp, "uses", id);
            } else if (g->role == R_PATCH) {
                if (entity(b, "course-of-action", g->text, NULL, NULL, id) == 0)
                    for (int v = 0; v < nv; v++) relate(b, id, "mitigates", vulns[v]);
            }
        }
    }
}

/* The article date "YYYY_MM_DD" (or YYYY-MM-DD) as a STIX timestamp; 0 if
 * it is not a valid date. */
static int parse_date(const char *s, char out[32]) {
    int y, m, d, n = 0;
    if (!s || sscanf(s, "%4d%*1[_-]%2d%*1[_-]%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[n]) return 0;
    static const int DAYS[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > DAYS[m - 1]) return 0;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 0;
    snprintf(out, 32, "%04u-%02u-%02uT00:00:00.000Z", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
    return 1;
}

/* Is link a web address (http or https, a host, no spaces or control
 * characters)?  Only such a link becomes an external reference or names the
 * publishing site: a "javascript:", "data:" or "vbscript:" link would run in
 * whatever shows the bundle. */
static int web_link(const char *link) {
    size_t n;
    if (!link) return 0;
    if (!strncasecmp(link, "http://", 7)) n = 7;
    else if (!strncasecmp(link, "https://", 8)) n = 8;
    else return 0;
    if (!link[n] || strchr("/?#:@", link[n])) return 0; /* no host */
    for (const unsigned char *p = (const unsigned char *)link; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return 0;
    return 1;
}

/* "www.example.org" from "https://www.example.org/a/b" (into out), or 0. */
static int link_host(const char *link, char *out, size_t cap) {
    if (!web_link(link)) return 0;
    const char *p = strstr(link, "://") + 3;
    size_t n = strcspn(p, "/:?#");
    if (!n || n >= cap) return 0;
    memcpy(out, p, n);
    out[n] = 0;
    return 1;
}

char *casie_doc_to_stix(const casie_doc *doc, int flags, size_t *len, casie_error *err) {
    if (!doc) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_doc_to_stix: no document");
        return NULL;
    }
    builder b = {json_array(), json_array(), json_object(), "", 0, doc->id ? doc->id : ""};
    json_t *bundle = NULL, *report = NULL;
    char *out = NULL, *key = NULL, *desc = NULL;
    if (!parse_date(doc->date, b.ts)) snprintf(b.ts, sizeof b.ts, "1970-01-01T00:00:00.000Z");
    if (!b.objects || !b.refs || !b.seen) goto nomem;
    int n_events = 0, counts[CASIE_N_SUBTYPES] = {0};
    for (int h = 0; h < doc->n_hoppers; h++) {
        add_hopper(&b, doc, &doc->hoppers[h]);
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            int st = doc->hoppers[h].events[i].subtype;
            n_events++;
            if (st >= 0 && st < CASIE_N_SUBTYPES) counts[st]++;
        }
    }
    if (json_array_size(b.refs) == 0) {
        /* object_refs may not be empty: with nothing found the report refers
         * to its source, the site that published the article (or casie) */
        char host[256], id[ID_MAX];
        int site = link_host(doc->link, host, sizeof host);
        entity(&b, "identity", site ? host : "casie", NULL,
               json_pack("{s:s}", "identity_class", site ? "organization" : "system"), id);
    }
    if (b.failed) goto nomem;

    char rid[ID_MAX], bid[ID_MAX];
    key = strf("report|%s|%s|%s", doc->id ? doc->id : "", doc->title ? doc->title : "", doc->link ? doc->link : "");
    report = key ? sdo(&b, "report", key, rid) : NULL;
    if (!report) goto nomem;
    /* "3 events (2 Ransom, 1 PatchVulnerability) found by casie" */
    desc = strf("%d event%s", n_events, n_events == 1 ? "" : "s");
    for (int s = 0, first = 1; s < CASIE_N_SUBTYPES && desc; s++) {
        if (!counts[s]) continue;
        char *d = strf("%s%s%d %s", desc, first ? " (" : ", ", counts[s], casie_subtype_name(s));
        free(desc);
        desc = d;
        first = 0;
    }
    if (desc) {
        char *d = strf("%s%s found by casie", desc, n_events ? ")" : "");
        free(desc);
        desc = d;
    }
    if (!desc) goto nomem;
    set(&b, report, "name", jstr(&b, doc->title && doc->title[0] ? doc->title : doc->id ? doc->id : "article"));
    set(&b, report, "description", jstr(&b, desc));
    set(&b, report, "report_types", json_pack("[s]", "threat-report"));
    set(&b, report, "published", json_string(b.ts));
    if (web_link(doc->link)) {
        json_t *ref = json_pack("{s:s}", "source_name", "article");
        if (ref) set(&b, ref, "url", jstr(&b, doc->link));
        set(&b, report, "external_references", ref ? json_pack("[o]", ref) : NULL);
    }
    set(&b, report, "object_refs", json_incref(b.refs));
    if (b.failed) goto nomem;
    stix_id(bid, "bundle", rid);
    bundle = json_pack("{s:s,s:s,s:[O]}", "type", "bundle", "id", bid, "objects", report);
    if (!bundle || json_array_extend(json_object_get(bundle, "objects"), b.objects)) goto nomem;
    out = json_dumps(bundle, JSON_PRESERVE_ORDER | (flags & CASIE_JSON_COMPACT ? JSON_COMPACT : JSON_INDENT(2)));
    if (!out) goto nomem;
    if (len) *len = strlen(out);
    goto done;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory writing STIX", doc->id ? doc->id : "document");
done:
    free(key);
    free(desc);
    json_decref(report);
    json_decref(bundle);
    json_decref(b.objects);
    json_decref(b.refs);
    json_decref(b.seen);
    return out;
}
