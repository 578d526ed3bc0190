/*
 * stix_vuln.c - the vulnerability part of a STIX 2.1 bundle: what a hopper
 * says about vulnerabilities.  Each becomes a vulnerability object, named by
 * its CVE id when it has one (the CVE as an external reference) or by its
 * mention when that names it; then the fix (course-of-action mitigates
 * vulnerability), the vendor that released it, the products it affects
 * (software) and who discovered it.
 *
 * Not here: the bundle, the report, campaigns and the other entities, ids and
 * names (stix.c; the helpers shared through stix_build.h).
 */
#include "stix_build.h"
#include "cve_id.h"

#include <string.h>
#include <strings.h>

/* A vulnerability named by its CVE id, with the CVE as external reference;
 * `text` (the mention, may be NULL) becomes its description, then the
 * hopper's facts (x, borrowed, may be NULL).  Its id is the same in every
 * article: a bundle of many has one object per CVE id. */
static void cve_vuln(builder *b, const char *cve, const char *text, const json_t *facts, char id[ID_MAX]) {
    json_t *x = json_pack("{s:[{s:s,s:s}]}", "external_references", "source_name", "cve", "external_id", cve);
    if (x && text && strcasecmp(text, cve)) json_object_set_new(x, "description", casie__stix_jstr(b, text));
    if (!x) b->failed = 1;
    casie__stix_add_facts(b, x, facts);
    /* one object per CVE id in a bundle, whatever the article: no scope (the
     * first article that names it gives its date, description and facts) */
    const char *scope = b->scope;
    b->scope = "";
    casie__stix_entity(b, "vulnerability", cve, NULL, x, id);
    b->scope = scope;
}

/* name into out[64], cut short (at a UTF-8 character boundary) if longer */
static void copy_name(char out[64], const char *name) {
    size_t n = strlen(name);
    if (n > 63) {
        n = 63;
        while (n && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, name, n);
    out[n] = 0;
}

/* The CVE ids of a CVE argument as written (CVE–2018–0986 too), in their
 * normal form; the count. */
int casie__stix_arg_cves(const char *text, char (*out)[32]) {
    char id[32];
    if (casie__cve_normalize(text, id, sizeof id) && casie__stix_find_cves(id, out, 1) == 1) return 1;
    return casie__stix_find_cves(text, out, MAX_CVES);
}

/* The vulnerabilities of one hopper (their ids in vulns and their names in
 * vnames, count returned).  A mention without a CVE id becomes one only when
 * it names the vulnerability (names: the hopper's argument names). */
int casie__stix_add_vulnerabilities(builder *b, const casie_hopper *hp, const char **names, const json_t *facts,
                                    char (*vulns)[ID_MAX], char (*vnames)[64]) {
    const int R_VULN = casie_role_from_name("Vulnerability"), R_CVE = casie_role_from_name("CVE");
    int nv = 0, base = 0;
    char id[ID_MAX];
#define KEEP(name)                                                                                                     \
    do {                                                                                                               \
        int seen_ = 0;                                                                                                 \
        for (int q_ = 0; q_ < nv; q_++)                                                                                \
            seen_ |= !strcmp(vulns[q_], id);                                                                           \
        if (id[0] && !seen_ && nv < MAX_VULNS) copy_name(vnames[nv], (name)), memcpy(vulns[nv++], id, ID_MAX);         \
    } while (0)
    for (int i = 0; i < hp->n_events; base += hp->events[i++].n_args) {
        const casie_event *e = &hp->events[i];
        char cves[MAX_CVES][32], own[MAX_CVES][32];
        int nc = 0;
        b->conf = e->score;
        for (int a = 0; a < e->n_args; a++)
            if (e->args[a].role == R_CVE && e->args[a].text) {
                char found[MAX_CVES][32];
                int n = casie__stix_arg_cves(e->args[a].text, found);
                for (int j = 0; j < n && nc < MAX_CVES; j++) {
                    int dup = 0;
                    for (int q = 0; q < nc; q++)
                        dup |= !strcmp(cves[q], found[j]);
                    if (!dup) memcpy(cves[nc++], found[j], 32);
                }
            }
        /* mentions first, so that a vulnerability named by its CVE is described by them */
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            if (g->role != R_VULN || !g->text) continue;
            if (g->score >= 0) b->conf = g->score;
            int n = casie__stix_find_cves(g->text, own, MAX_CVES);
            if (n) {
                for (int j = 0; j < n; j++) {
                    cve_vuln(b, own[j], g->text, facts, id);
                    KEEP(own[j]);
                }
            } else if (nc == 1) { /* the event's one CVE names it */
                cve_vuln(b, cves[0], g->text, facts, id);
                KEEP(cves[0]);
            } else if (!nc && !names[base + a] && b->only_cve[0]) { /* "the flaw" of an article about one CVE */
                cve_vuln(b, b->only_cve, g->text, facts, id);
                KEEP(b->only_cve);
            } else if (names[base + a]) {
                json_t *x = json_object();
                casie__stix_add_facts(b, x, facts);
                if (casie__stix_entity(b, "vulnerability", names[base + a], NULL, x, id) == 0) KEEP(names[base + a]);
            }
        }
        b->conf = e->score;
        for (int j = 0; j < nc; j++) {
            cve_vuln(b, cves[j], NULL, facts, id);
            KEEP(cves[j]);
        }
    }
#undef KEEP
    return nv;
}

/* A product (a Vulnerable_System that names one) as a software observable:
 * its name, the vendor, the version. */
static void software(builder *b, const char *name, const char *vendor, const char *version, char id[ID_MAX]) {
    char *norm = casie__stix_normalize(name);
    char *key = norm ? casie__stix_strf("software|%s|%s", b->scope, norm) : NULL;
    free(norm);
    id[0] = 0;
    if (!key) {
        b->failed = 1;
        return;
    }
    casie__stix_id(id, "software", key);
    free(key);
    json_t *o = json_pack("{s:s,s:s,s:s}", "type", "software", "spec_version", "2.1", "id", id);
    if (o) {
        casie__stix_set(b, o, "name", casie__stix_jstr(b, name));
        if (vendor) casie__stix_set(b, o, "vendor", casie__stix_jstr(b, vendor));
        if (version) casie__stix_set(b, o, "version", casie__stix_jstr(b, version));
    }
    casie__stix_take(b, o);
}

/* What a hopper of vulnerability events says about its vulnerabilities
 * (vulns, vnames: nv of them): the fix (a course-of-action that mitigates
 * each, named by its mention when that names it, else "Patch for" the
 * vulnerability), the vendor that released it (identity, related-to the
 * fix and named as the product's vendor), the products (software,
 * related-to from each vulnerability they have) and who discovered them
 * (identity, related-to from each vulnerability). */
void casie__stix_vuln_relations(builder *b, const casie_hopper *hp, const char **names, int nv, char (*vulns)[ID_MAX],
                                char (*vnames)[64]) {
    const int R_PATCH = casie_role_from_name("Patch"), R_RELEASER = casie_role_from_name("Releaser"),
              R_SYSTEM = casie_role_from_name("Vulnerable_System"),
              R_OWNER = casie_role_from_name("Vulnerable_System_Owner"),
              R_VERSION = casie_role_from_name("Vulnerable_System_Version"),
              R_DISCOVERER = casie_role_from_name("Discoverer");
    const char *vendor = NULL, *owner = NULL, *version = NULL, *patch_mention = NULL;
    int patch_event = 0, made = 0;
    char id[ID_MAX], coa[MAX_VULNS][ID_MAX];
    int ncoa = 0;
    for (int i = 0, base = 0; i < hp->n_events; base += hp->events[i++].n_args) {
        const casie_event *e = &hp->events[i];
        patch_event |= e->subtype == CASIE_SUBTYPE_PATCH_VULNERABILITY;
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            if (g->role == R_RELEASER && names[base + a] && !vendor) vendor = names[base + a];
            if (g->role == R_OWNER && names[base + a] && !owner) owner = names[base + a];
            if (g->role == R_VERSION && g->text && !version) version = g->text;
        }
    }
    if (!nv) return;
    for (int i = 0, base = 0; i < hp->n_events; base += hp->events[i++].n_args) {
        const casie_event *e = &hp->events[i];
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            const char *name = names[base + a];
            b->conf = g->score >= 0 ? g->score : e->score;
            if (g->role == R_PATCH && !name && g->text && !patch_mention) patch_mention = g->text;
            if (g->role == R_PATCH && name && ncoa < MAX_VULNS &&
                casie__stix_entity(b, "course-of-action", name, NULL, NULL, coa[ncoa]) == 0)
                ncoa++, made = 1;
            if (g->role == R_SYSTEM && name) {
                software(b, name, vendor ? vendor : owner, version, id);
                for (int v = 0; v < nv; v++)
                    casie__stix_relate_desc(b, vulns[v], "related-to", id, "affects");
            }
            if (g->role == R_DISCOVERER && name) {
                const char *ent = casie_entity_name(g->entity);
                const char *cls = ent && !strcmp(ent, "Person")         ? "individual"
                                  : ent && !strcmp(ent, "Organization") ? "organization"
                                                                        : "unknown";
                if (casie__stix_entity(b, "identity", name, NULL, json_pack("{s:s}", "identity_class", cls), id) == 0)
                    for (int v = 0; v < nv; v++)
                        casie__stix_relate_desc(b, vulns[v], "related-to", id, "discovered by");
            }
        }
    }
    if (!made && patch_event) { /* the fix has no name of its own: named by what it fixes */
        char *name = casie__stix_strf("Patch for %s%s", vnames[0], nv > 1 ? " and others" : "");
        json_t *x = patch_mention ? json_pack("{s:s}", "description", patch_mention) : NULL;
        if (name && casie__stix_entity(b, "course-of-action", name, NULL, x, coa[ncoa]) == 0) ncoa++;
        if (!name) b->failed = 1;
        free(name);
    }
    char vid[ID_MAX];
    vid[0] = 0;
    if (vendor &&
        casie__stix_entity(b, "identity", vendor, NULL, json_pack("{s:s}", "identity_class", "organization"), vid))
        vid[0] = 0;
    for (int c = 0; c < ncoa; c++) {
        for (int v = 0; v < nv; v++)
            casie__stix_relate(b, coa[c], "mitigates", vulns[v]);
        if (vid[0]) casie__stix_relate_desc(b, coa[c], "related-to", vid, "released by");
    }
}
