/*
 * stix.c - a document's events as a STIX 2.1 bundle.
 *
 * One `report` for the article refers to what was found: attackers as
 * `threat-actor`, victims as `identity`, malware as `malware` and other tools
 * as `tool`, vulnerabilities (CVE ids as external references) as
 * `vulnerability`, patches as `course-of-action`, and each hopper of attack
 * events as a `campaign`; `relationship`s tie them (campaign targets identity,
 * uses malware/tool, is attributed-to threat-actor; course-of-action
 * mitigates vulnerability; malware exploits vulnerability).
 *
 * Ids are UUIDv5 over a fixed namespace and the content (type and normalized
 * name; a campaign by its document and trigger spans), timestamps come from the
 * article date, so the same document gives the same bundle, and one entity
 * named in several events is one object.  Not here: reading STIX.
 */
#include "internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- SHA-1 (FIPS 180-4), for UUIDv5 ---- */

typedef struct sha1 {
    uint32_t h[5];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} sha1;

static uint32_t rol(uint32_t x, int k) { return x << k | x >> (32 - k); }

static void sha1_block(sha1 *s, const unsigned char *p) {
    uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
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

/* casie's namespace for UUIDv5 ids (a fixed random UUID). */
static const unsigned char NAMESPACE[16] = {0x4b, 0x1e, 0x7c, 0x2a, 0x93, 0x55, 0x4f, 0x0d,
                                            0xa6, 0x38, 0xe1, 0x27, 0x5c, 0x90, 0xb4, 0x6f};

/* "type--uuid" with a UUIDv5 of NAMESPACE and name. */
static void stix_id(char out[80], const char *type, const char *name) {
    sha1 s;
    unsigned char h[20];
    sha1_init(&s);
    sha1_update(&s, NAMESPACE, 16);
    sha1_update(&s, name, strlen(name));
    sha1_final(&s, h);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x50); /* version 5 */
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, 80, "%s--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", type, h[0], h[1], h[2],
             h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

/* ---- building the bundle ---- */

typedef struct builder {
    json_t *objects; /* array */
    json_t *refs;    /* the report's object_refs */
    json_t *seen;    /* object id -> true */
    char ts[32];     /* created/modified/published */
    int failed;
} builder;

/* Lowercase, whitespace collapsed: the key that makes one entity one object. */
static void normalize(const char *s, char *out, size_t cap) {
    size_t k = 0;
    int space = 0;
    for (; *s && k + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c)) {
            space = k > 0;
            continue;
        }
        if (space && k + 2 < cap) out[k++] = ' ';
        space = 0;
        out[k++] = (char)(c < 128 ? tolower(c) : c);
    }
    out[k] = 0;
}

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
    if (json_object_set_new(b->seen, id, json_true()) || json_array_append_new(b->objects, o) ||
        json_array_append_new(b->refs, json_string(id)))
        b->failed = 1;
}

/* A new SDO/SRO with the common properties; id from type and key. */
static json_t *sdo(builder *b, const char *type, const char *key, char id[80]) {
    stix_id(id, type, key);
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "spec_version", json_string("2.1"));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "created", json_string(b->ts));
    json_object_set_new(o, "modified", json_string(b->ts));
    return o;
}

/* An entity object named `name` of `type`; its id in id. */
static void entity(builder *b, const char *type, const char *name, char id[80], json_t *extra) {
    char norm[512], key[600];
    normalize(name, norm, sizeof norm);
    snprintf(key, sizeof key, "%s|%s", type, norm);
    json_t *o = sdo(b, type, key, id);
    if (o) {
        json_object_set_new(o, "name", json_string(name));
        if (extra) json_object_update(o, extra);
    }
    json_decref(extra);
    take(b, o);
}

static void relate(builder *b, const char *src, const char *rel, const char *dst) {
    char id[80], key[300];
    snprintf(key, sizeof key, "%s|%s|%s", src, rel, dst);
    json_t *o = sdo(b, "relationship", key, id);
    if (o) {
        json_object_set_new(o, "relationship_type", json_string(rel));
        json_object_set_new(o, "source_ref", json_string(src));
        json_object_set_new(o, "target_ref", json_string(dst));
    }
    take(b, o);
}

/* The first CVE-YYYY-NNNN... in s, copied to out; 0 when none. */
static int find_cve(const char *s, char out[32]) {
    for (const char *p = s; p && *p; p++) {
        if (strncasecmp(p, "CVE-", 4) || !isdigit((unsigned char)p[4])) continue;
        int k = 4;
        while (k < 8 && isdigit((unsigned char)p[k])) k++;
        if (k != 8 || p[8] != '-') continue;
        int m = 9;
        while (m < 9 + 12 && isdigit((unsigned char)p[m])) m++;
        if (m - 9 < 4) continue;
        snprintf(out, 32, "CVE-%.*s", m - 4, p + 4);
        return 1;
    }
    return 0;
}

static json_t *cve_refs(const char *cve) {
    return json_pack("{s:[{s:s,s:s}]}", "external_references", "source_name", "cve", "external_id", cve);
}

static void add_event_objects(builder *b, const casie_doc *doc, int h) {
    const casie_hopper *hp = &doc->hoppers[h];
    if (!hp->n_events) return;
    int attack = hp->events[0].subtype <= CASIE_SUBTYPE_RANSOM;
    char camp[80] = "";
    if (attack) { /* a campaign per hopper of attack events */
        char key[1024], name[512];
        int k = snprintf(key, sizeof key, "campaign|%s|", doc->id ? doc->id : "");
        for (int i = 0; i < hp->n_events && k < (int)sizeof key - 24; i++)
            k += snprintf(key + k, sizeof key - (size_t)k, "%d-%d,", hp->events[i].start, hp->events[i].end);
        snprintf(name, sizeof name, "%s: %.400s", casie_subtype_name(hp->events[0].subtype),
                 hp->events[0].text ? hp->events[0].text : "");
        json_t *o = sdo(b, "campaign", key, camp);
        if (o) {
            json_object_set_new(o, "name", json_string(name));
            char desc[700];
            snprintf(desc, sizeof desc, "%s event (%s) reported in %.300s", casie_subtype_name(hp->events[0].subtype),
                     casie_realis_name(hp->events[0].realis), doc->title ? doc->title : doc->id ? doc->id : "the article");
            json_object_set_new(o, "description", json_string(desc));
        }
        take(b, o);
    }
    /* the hopper's vulnerabilities first: patches and malware point at them */
    char vulns[16][80];
    int nv = 0;
    for (int i = 0; i < hp->n_events; i++) {
        const casie_event *e = &hp->events[i];
        char cve[32] = "";
        for (int a = 0; a < e->n_args; a++)
            if (e->args[a].role == casie_role_from_name("CVE") && find_cve(e->args[a].text, cve)) break;
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            int role_cve = g->role == casie_role_from_name("CVE");
            if (g->role != casie_role_from_name("Vulnerability") && !role_cve) continue;
            char own[32];
            const char *c = find_cve(g->text, own) ? own : cve[0] ? cve : NULL;
            if (role_cve && !c) continue;
            char id[80];
            entity(b, "vulnerability", role_cve ? c : g->text, id, c ? cve_refs(c) : NULL);
            if (nv < 16) memcpy(vulns[nv++], id, 80);
        }
    }
    for (int i = 0; i < hp->n_events; i++) {
        const casie_event *e = &hp->events[i];
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            const char *role = casie_role_name(g->role), *ent = casie_entity_name(g->entity);
            char id[80];
            if (!strcmp(role, "Attacker")) {
                entity(b, "threat-actor", g->text, id, NULL);
                if (camp[0]) relate(b, camp, "attributed-to", id);
            } else if (!strcmp(role, "Victim")) {
                const char *cls = !strcmp(ent, "Person") ? "individual"
                                  : !strcmp(ent, "Organization") ? "organization"
                                  : (!strcmp(ent, "System") || !strcmp(ent, "Device") || !strcmp(ent, "Software") ||
                                     !strcmp(ent, "Website"))
                                      ? "system"
                                      : "unknown";
                entity(b, "identity", g->text, id, json_pack("{s:s}", "identity_class", cls));
                if (camp[0]) relate(b, camp, "targets", id);
            } else if (!strcmp(role, "Tool")) {
                int mal = !strcmp(ent, "Malware");
                entity(b, mal ? "malware" : "tool", g->text, id, mal ? json_pack("{s:b}", "is_family", 0) : NULL);
                if (camp[0]) relate(b, camp, "uses", id);
                if (mal)
                    for (int v = 0; v < nv; v++) relate(b, id, "exploits", vulns[v]);
            } else if (!strcmp(role, "Patch")) {
                entity(b, "course-of-action", g->text, id, NULL);
                for (int v = 0; v < nv; v++) relate(b, id, "mitigates", vulns[v]);
            }
        }
    }
}

char *casie_doc_to_stix(const casie_doc *doc, int flags, size_t *len, casie_error *err) {
    if (!doc) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_doc_to_stix: no document");
        return NULL;
    }
    builder b = {json_array(), json_array(), json_object(), "", 0};
    json_t *bundle = NULL, *report = NULL;
    char *out = NULL;
    /* timestamps from the article date (YYYY_MM_DD), else the epoch */
    int y, mo, d;
    if (doc->date && sscanf(doc->date, "%4d_%2d_%2d", &y, &mo, &d) == 3 && y > 1900 && y < 10000 && mo >= 1 &&
        mo <= 12 && d >= 1 && d <= 31)
        snprintf(b.ts, sizeof b.ts, "%04d-%02d-%02dT00:00:00.000Z", y, mo, d);
    else
        snprintf(b.ts, sizeof b.ts, "1970-01-01T00:00:00.000Z");
    if (!b.objects || !b.refs || !b.seen) goto nomem;
    for (int h = 0; h < doc->n_hoppers; h++) add_event_objects(&b, doc, h);
    if (json_array_size(b.refs) == 0) { /* a report refers to something: the article's publisher, when nothing else */
        char id[80];
        entity(&b, "identity", doc->link ? doc->link : doc->id ? doc->id : "unknown source", id,
               json_pack("{s:s}", "identity_class", "unknown"));
    }
    if (b.failed) goto nomem;
    char rid[80], key[600];
    snprintf(key, sizeof key, "report|%.250s|%.300s", doc->id ? doc->id : "", doc->title ? doc->title : "");
    report = sdo(&b, "report", key, rid);
    if (!report) goto nomem;
    json_object_set_new(report, "name", json_string(doc->title ? doc->title : doc->id ? doc->id : "article"));
    json_object_set_new(report, "published", json_string(b.ts));
    json_object_set_new(report, "report_types", json_pack("[s]", "threat-report"));
    json_object_set_new(report, "description", json_string("Cybersecurity events extracted by casie"));
    if (doc->link)
        json_object_set_new(report, "external_references",
                            json_pack("[{s:s,s:s}]", "source_name", "article", "url", doc->link));
    json_object_set(report, "object_refs", b.refs);
    char bid[80];
    stix_id(bid, "bundle", rid);
    bundle = json_pack("{s:s,s:s,s:[O]}", "type", "bundle", "id", bid, "objects", report);
    if (!bundle || json_array_extend(json_object_get(bundle, "objects"), b.objects)) goto nomem;
    out = json_dumps(bundle, (flags & CASIE_JSON_COMPACT ? JSON_COMPACT : JSON_INDENT(2)));
    if (!out) goto nomem;
    if (len) *len = strlen(out);
    goto done;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory writing STIX", doc->id ? doc->id : "document");
done:
    json_decref(report);
    json_decref(bundle);
    json_decref(b.objects);
    json_decref(b.refs);
    json_decref(b.seen);
    return out;
}
