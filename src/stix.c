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
 *   Attack-Pattern            attack-pattern (its CAPEC meta pattern, casie_arg.category,
 *                             as an external reference by name: capec_ref; a
 *                             mention that names nothing is named by it)
 *   an incident: the hoppers  a campaign, which uses the attack-pattern of
 *   of one attack subtype     its subtype ("Phishing", "Ransom", "Data breach")
 *   (Databreach, Phishing,    and targets only the victims of its actual
 *   Ransom) naming the same   events (group_incidents: a Generic or Other
 *   attacker or victim        attack makes no campaign)
 * and relationships that the STIX 2.1 relationship tables allow: campaign
 * attributed-to threat-actor / intrusion-set, campaign targets identity,
 * campaign uses malware / tool / attack-pattern, malware exploits
 * vulnerability, course-of-action mitigates vulnerability.  Pronouns ("they",
 * "it") are not entities and are left out.  A Purpose argument is the
 * campaign's objective, its category (casie_arg.category) first.
 *
 * Ids are UUIDv5 (SHA-1, RFC 4122 section 4.3) over a fixed namespace and a
 * canonical content string: the type, the document id and the normalized name
 * (NFKC case folded, whitespace collapsed, a leading "the" dropped; a CVE id
 * for a vulnerability that has one), the document and trigger spans for a
 * campaign, source, type and target for a relationship.  So an entity named in
 * several events of an article is one object (objects are deduplicated by id),
 * two articles never share an id whose timestamps would differ, and a rerun
 * gives the same bytes: created, modified and published are the article date ("YYYY_MM_DD"
 * in the corpus, or read from a plain-text article's first lines) at
 * midnight UTC; an article with no date gets the time of the run.
 *
 * An argument that names nobody in particular ("the company", "users", "the
 * flaw", "The attackers") makes no object: it stands for the named mention
 * of its role in the hopper or the article when there is one
 * (casie_doc_arg_names), else it is left out.  Amounts, data, times and
 * counts (FACT_ROLES) go into the description of the campaign or the
 * vulnerability and into x_casie_* properties; every object carries a
 * confidence (0-100) from the scores of the mentions that made it.
 *
 * Not here: the vulnerabilities, their fixes and products (stix_vuln.c);
 * ids, names, entities and relationships (stix_build.c; both share them
 * through stix_build.h); reading STIX;
 * observables (SCOs) other than software.
 */
#include "stix_build.h"
#include "names.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

/* ---- what a hopper says beyond its entities ---- */

/* Roles whose values are facts about an event rather than entities: they go
 * into the description of the campaign or vulnerability they belong to and
 * into x_casie_<role> properties (lower case, '-' as '_'), lists of the
 * mentions as written. */
static const char *const FACT_ROLES[] = {"Compromised-Data",
                                         "Number-of-Data",
                                         "Number-of-Victim",
                                         "Price",
                                         "Damage-Amount",
                                         "Payment-Method",
                                         "Time",
                                         "Place",
                                         "Purpose",
                                         "Capabilities",
                                         "Vulnerable_System_Version",
                                         "Patch-Number",
                                         "Issues-Addressed",
                                         "Supported_Platform",
                                         NULL};

/* The facts of the hoppers hps (n): {"x_casie_price": ["$500"], ...} and,
 * under "description", "Price: $500. Time: last week."  Owned by the caller. */
static json_t *hopper_facts(builder *b, const casie_hopper *const *hps, int n) {
    json_t *x = json_object();
    char *desc = casie__stix_strf("%s", "");
    if (!x || !desc) goto nomem;
    for (int r = 0; FACT_ROLES[r]; r++) {
        int role = casie_role_from_name(FACT_ROLES[r]);
        json_t *list = json_array();
        if (!list) goto nomem;
        for (int h = 0; h < n; h++)
            for (int i = 0; i < hps[h]->n_events; i++)
                for (int a = 0; a < hps[h]->events[i].n_args; a++) {
                    const casie_arg *g = &hps[h]->events[i].args[a];
                    int dup = 0;
                    if (g->role != role || !g->text) continue;
                    for (size_t q = 0; q < json_array_size(list); q++)
                        dup |= !strcmp(json_string_value(json_array_get(list, q)), g->text);
                    if (!dup && json_array_append_new(list, casie__stix_jstr(b, g->text))) b->failed = 1;
                }
        if (!json_array_size(list)) {
            json_decref(list);
            continue;
        }
        char key[64], *d = NULL;
        snprintf(key, sizeof key, "x_casie_%s", FACT_ROLES[r]);
        for (char *p = key; *p; p++)
            *p = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
        for (size_t q = 0; q < json_array_size(list); q++) {
            const char *v = json_string_value(json_array_get(list, q));
            d = q ? casie__stix_strf("%s; %s", desc, v)
                  : casie__stix_strf("%s%s%s: %s", desc, desc[0] ? ". " : "", FACT_ROLES[r], v);
            free(desc);
            if (!(desc = d)) goto nomem;
        }
        casie__stix_set(b, x, key, list);
    }
    if (desc[0]) {
        char *d = casie__stix_strf("%s.", desc);
        free(desc);
        if (!(desc = d)) goto nomem;
        casie__stix_set(b, x, "description", casie__stix_jstr(b, desc));
    }
    free(desc);
    return x;
nomem:
    b->failed = 1;
    free(desc);
    json_decref(x);
    return NULL;
}

static int is_attack(int subtype) {
    return subtype == CASIE_SUBTYPE_DATABREACH || subtype == CASIE_SUBTYPE_PHISHING || subtype == CASIE_SUBTYPE_RANSOM;
}

/* The attack-pattern of an attack subtype. */
static const char *subtype_pattern(int subtype) {
    return subtype == CASIE_SUBTYPE_DATABREACH ? "Data breach"
           : subtype == CASIE_SUBTYPE_PHISHING ? "Phishing"
                                               : "Ransom";
}

/* An attack-pattern's CAPEC meta attack pattern (casie_arg.category) as an
 * external reference, or NULL when it has none.  By name only: the STIX
 * schema lets the source "capec" come only with a CAPEC-<id>, and this
 * project has no copy of the CAPEC catalogue to cite for the id of each meta
 * pattern (category_names.c), so the source is "capec-meta" and the name is
 * its description. */
static json_t *capec_ref(builder *b, const char *category) {
    if (!category) return NULL;
    json_t *x = json_pack("{s:[{s:s,s:o}]}", "external_references", "source_name", "capec-meta", "description",
                          casie__stix_jstr(b, category));
    if (!x) b->failed = 1;
    return x;
}

/* ---- incidents: the campaigns of an article ---- */

/* A hopper makes a campaign when one of its events is an attack that
 * happened (realis Actual): a Generic or hypothetical attack ("paying a
 * ransom encourages more attacks") is no incident.  Hoppers of one subtype
 * that name the same attacker or victim are one incident (a CASIE hopper
 * is a cluster of mentions, not an incident: one ransomware story is often
 * several), as said by a mention that names them itself in an actual attack
 * event; a hopper that names neither joins the first incident of its
 * subtype, or starts the one such incident of its subtype. */
enum { MAX_KEYS = 16, MAX_GROUPS = 8 };

typedef struct incident_hopper {
    int subtype;          /* of its first actual attack event; -1: makes no campaign */
    int n_keys;           /* named attackers and victims, normalized */
    char *keys[MAX_KEYS]; /* owned */
    int root;             /* the incident: the index of its first hopper */
    const char **names;   /* casie_doc_arg_names of its arguments (borrowed) */
} incident_hopper;

static int actual_attack(const casie_event *e) { return is_attack(e->subtype) && e->realis == CASIE_REALIS_ACTUAL; }

static int find_root(incident_hopper *ih, int h) {
    while (ih[h].root != h)
        h = ih[h].root = ih[ih[h].root].root;
    return h;
}

static int share_key(const incident_hopper *x, const incident_hopper *y) {
    for (int i = 0; i < x->n_keys; i++)
        for (int j = 0; j < y->n_keys; j++)
            if (!strcmp(x->keys[i], y->keys[j])) return 1;
    return 0;
}

/* Fills ih (doc->n_hoppers) and groups the hoppers into incidents. */
static void group_incidents(builder *b, const casie_doc *doc, const char **names, incident_hopper *ih) {
    const int R_ATTACKER = casie_role_from_name("Attacker"), R_VICTIM = casie_role_from_name("Victim");
    for (int h = 0, base = 0; h < doc->n_hoppers; h++) {
        const casie_hopper *hp = &doc->hoppers[h];
        incident_hopper *x = &ih[h];
        x->subtype = -1, x->n_keys = 0, x->root = h, x->names = names + base;
        for (int i = 0; i < hp->n_events; base += hp->events[i++].n_args) {
            const casie_event *e = &hp->events[i];
            if (x->subtype < 0 && actual_attack(e)) x->subtype = e->subtype;
            for (int a = 0; a < e->n_args; a++) {
                /* only a mention that names someone itself: "the hackers" may stand for
                 * the article's one named group, which would join every story to it */
                const char *name = names[base + a];
                const casie_arg *g = &e->args[a];
                if (!actual_attack(e) || !name || (g->role != R_ATTACKER && g->role != R_VICTIM) ||
                    x->n_keys == MAX_KEYS || !g->text || !casie__mention_named(doc, g->text, g->start))
                    continue;
                char *k = casie__stix_normalize(name);
                if (!k) {
                    b->failed = 1;
                    continue;
                }
                int dup = 0;
                for (int j = 0; j < x->n_keys && !dup; j++)
                    dup = !strcmp(x->keys[j], k);
                if (dup)
                    free(k);
                else
                    x->keys[x->n_keys++] = k;
            }
        }
    }
    for (int h = 0; h < doc->n_hoppers; h++) /* named: joined by a shared name */
        for (int g = 0; g < h && ih[h].subtype >= 0 && ih[h].n_keys; g++)
            if (ih[g].subtype == ih[h].subtype && share_key(&ih[g], &ih[h])) {
                int rg = find_root(ih, g), rh = find_root(ih, h);
                if (rg != rh) ih[rg > rh ? rg : rh].root = rg < rh ? rg : rh;
            }
    for (int h = 0; h < doc->n_hoppers; h++) { /* nameless: the first incident of its subtype */
        if (ih[h].subtype < 0 || ih[h].n_keys) continue;
        int to = -1;
        for (int g = 0; g < doc->n_hoppers && to < 0; g++)
            if (g != h && ih[g].subtype == ih[h].subtype && (ih[g].n_keys || g < h)) to = find_root(ih, g);
        if (to >= 0) ih[h].root = to;
    }
    for (int h = 0; h < doc->n_hoppers; h++)
        ih[h].root = find_root(ih, h);
}

/* The name in quotes right after a mention ("Ransomware gang “REvil”",
 * "the group 'Storm-2603'") into out, or "". */
static void quoted_after(const casie_doc *doc, const casie_arg *g, char out[64]) {
    out[0] = 0;
    if (!doc || !doc->text || !doc->cp_byte || g->end < 0 || g->end > doc->n_cp) return;
    const char *p = doc->text + doc->cp_byte[g->end];
    while (*p == ' ' || *p == ',' || *p == ':')
        p++;
    static const char *const OPEN[] = {"\"", "'", "\xe2\x80\x9c", "\xe2\x80\x98", "\xc2\xab", NULL};
    static const char *const CLOSE[] = {"\"", "'", "\xe2\x80\x9d", "\xe2\x80\x99", "\xc2\xbb", NULL};
    for (int q = 0; OPEN[q]; q++) {
        size_t n = strlen(OPEN[q]);
        if (strncmp(p, OPEN[q], n)) continue;
        const char *end = strstr(p + n, CLOSE[q]);
        if (!end || end == p + n || end - (p + n) >= 64 || memchr(p + n, '\n', (size_t)(end - (p + n)))) return;
        memcpy(out, p + n, (size_t)(end - (p + n)));
        out[end - (p + n)] = 0;
        return;
    }
}

/* The catalogue group an argument names (by the mention it stands for,
 * else as written, else by a name in quotes right after it), or NULL. */
static const casie_group *arg_group(const builder *b, const casie_arg *g, const char *name) {
    const casie_group *gr = name ? casie_groups_match(b->groups, name) : NULL;
    if (!gr && g->text) gr = casie_groups_match(b->groups, g->text);
    if (!gr && b->groups) {
        char q[64];
        quoted_after(b->doc, g, q);
        if (q[0]) gr = casie_groups_match(b->groups, q);
    }
    return gr;
}

/* The campaign of incident `root` (its hoppers: those of ih whose root it
 * is), into camp: named by who did what to whom, its mentions' triggers in
 * its description, the hoppers' facts and objective. */
static void add_campaign(builder *b, const casie_doc *doc, const incident_hopper *ih, int root, char camp[ID_MAX]) {
    camp[0] = 0;
    const casie_hopper **hps = malloc((size_t)doc->n_hoppers * sizeof *hps);
    if (!hps) {
        b->failed = 1;
        return;
    }
    int n = 0, n_events = 0;
    for (int h = 0; h < doc->n_hoppers; h++)
        if (ih[h].root == root && ih[h].subtype >= 0) hps[n++] = &doc->hoppers[h];
    const int R_ATTACKER = casie_role_from_name("Attacker"), R_VICTIM = casie_role_from_name("Victim"),
              R_PURPOSE = casie_role_from_name("Purpose");
    const char *attacker = NULL, *victim = NULL, *purpose = NULL, *purpose_cat = NULL, *trigger = NULL, *group = NULL;
    int attacker_own = 0, victim_own = 0;
    float conf = -1;
    size_t cap = 64 + (doc->id ? strlen(doc->id) : 0), k, tlen = 1;
    for (int m = 0; m < n; m++) {
        const char **nm = ih[hps[m] - doc->hoppers].names;
        for (int i = 0, base = 0; i < hps[m]->n_events; base += hps[m]->events[i++].n_args) {
            const casie_event *e = &hps[m]->events[i];
            n_events++;
            cap += 24;
            tlen += e->text ? strlen(e->text) + 4 : 0;
            if (actual_attack(e)) {
                if (!trigger) trigger = e->text;
                if (e->score > conf) conf = e->score;
            }
            for (int a = 0; a < e->n_args; a++) {
                const casie_arg *g = &e->args[a];
                if (!g->text) continue;
                /* named by a mention that names it, else by what a mention stands for */
                int own = casie__mention_named(doc, g->text, g->start);
                if (g->role == R_ATTACKER && nm[base + a] && (!attacker || (own && !attacker_own)))
                    attacker = nm[base + a], attacker_own = own;
                const casie_group *gr = g->role == R_ATTACKER && !group ? arg_group(b, g, nm[base + a]) : NULL;
                if (gr) group = gr->name; /* "Ransomware gang “REvil”": Sodinokibi */
                if (g->role == R_VICTIM && e->realis == CASIE_REALIS_ACTUAL && nm[base + a] &&
                    (!victim || (own && !victim_own)) && !arg_group(b, g, nm[base + a]))
                    victim = nm[base + a], victim_own = own;
                if (g->role == R_PURPOSE && !purpose) purpose = g->text, purpose_cat = g->category;
            }
        }
    }
    /* the campaign is this article's events: keyed by the document and the trigger spans */
    char *key = malloc(cap), *trigs = malloc(tlen);
    if (!key || !trigs) {
        free(key), free(trigs), free((void *)hps);
        b->failed = 1;
        return;
    }
    k = (size_t)snprintf(key, cap, "campaign|%s|", doc->id ? doc->id : "");
    size_t t = 0;
    trigs[0] = 0;
    for (int m = 0; m < n; m++)
        for (int i = 0; i < hps[m]->n_events; i++) {
            const casie_event *e = &hps[m]->events[i];
            k += (size_t)snprintf(key + k, cap - k, "%d-%d,", e->start, e->end);
            if (!e->text) continue;
            int seen = 0; /* each trigger once, as written */
            for (int m2 = 0; m2 <= m && !seen; m2++)
                for (int j = 0; j < (m2 < m ? hps[m2]->n_events : i) && !seen; j++)
                    seen = hps[m2]->events[j].text && !strcmp(hps[m2]->events[j].text, e->text);
            if (!seen) t += (size_t)snprintf(trigs + t, tlen - t, "%s\"%s\"", t ? ", " : "", e->text);
        }
    b->conf = conf;
    json_t *o = casie__stix_sdo(b, "campaign", key, camp);
    free(key);
    if (!attacker) attacker = group; /* named only through the catalogue */
    const char *sub = casie_subtype_name(ih[root].subtype);
    char *name = attacker && victim ? casie__stix_strf("%s by %s against %s", sub, attacker, victim)
                 : victim           ? casie__stix_strf("%s against %s", sub, victim)
                 : attacker         ? casie__stix_strf("%s by %s", sub, attacker)
                                    : casie__stix_strf("%s: %s", sub, trigger ? trigger : "");
    char *desc = casie__stix_strf("%s incident, %d mention%s (%s), reported in \"%s\"", sub, n_events,
                                  n_events == 1 ? "" : "s", trigs,
                                  doc->title ? doc->title
                                  : doc->id  ? doc->id
                                             : "the article");
    free(trigs);
    json_t *facts = hopper_facts(b, hps, n);
    if (o && name && desc) {
        casie__stix_set(b, o, "name", casie__stix_jstr(b, name));
        casie__stix_set(b, o, "description", casie__stix_jstr(b, desc));
        if (purpose) { /* its category first when it has one: "Monetary: to extort money" */
            char *obj = purpose_cat ? casie__stix_strf("%s: %s", purpose_cat, purpose) : NULL;
            if (purpose_cat && !obj) b->failed = 1;
            casie__stix_set(b, o, "objective", casie__stix_jstr(b, obj ? obj : purpose));
            free(obj);
        }
        casie__stix_add_facts(b, o, facts);
    } else {
        b->failed = 1;
    }
    json_decref(facts);
    free(name);
    free(desc);
    casie__stix_take(b, o);
    /* the attack-patterns of its subtypes */
    int done[CASIE_N_SUBTYPES] = {0};
    for (int m = 0; m < n; m++)
        for (int i = 0; i < hps[m]->n_events; i++) {
            int st = hps[m]->events[i].subtype;
            if (!is_attack(st) || done[st]) continue;
            done[st] = 1;
            char ap[ID_MAX];
            casie__stix_entity(b, "attack-pattern", subtype_pattern(st), NULL, NULL, ap);
            casie__stix_relate(b, camp, "uses", ap);
        }
    free((void *)hps);
}

/* ---- threat groups from the catalogue ---- */

/* The catalogue groups that attack in each incident: ag[root], up to
 * MAX_GROUPS (a hopper outside every incident is its own root). */
static void incident_groups(const builder *b, const casie_doc *doc, const incident_hopper *ih,
                            const casie_group *(*ag)[MAX_GROUPS]) {
    const int R_ATTACKER = casie_role_from_name("Attacker");
    if (!b->groups) return;
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int i = 0, base = 0; i < doc->hoppers[h].n_events; base += doc->hoppers[h].events[i++].n_args)
            for (int a = 0; a < doc->hoppers[h].events[i].n_args; a++) {
                const casie_arg *g = &doc->hoppers[h].events[i].args[a];
                const casie_group *gr = g->role == R_ATTACKER ? arg_group(b, g, ih[h].names[base + a]) : NULL;
                int k = 0;
                while (gr && k < MAX_GROUPS && ag[ih[h].root][k] && ag[ih[h].root][k] != gr)
                    k++;
                if (gr && k < MAX_GROUPS) ag[ih[h].root][k] = gr;
            }
}

/* The intrusion-set of catalogue group gr into id: one per group in a
 * bundle (its id from the catalogue's, whatever the article), named as the
 * catalogue names it, with its aliases and the catalogue entry as an
 * external reference. */
static void group_object(builder *b, const casie_group *gr, char id[ID_MAX]) {
    char *key = casie__stix_strf("intrusion-set|%s|%s", gr->source, gr->id);
    json_t *o = key ? casie__stix_sdo(b, "intrusion-set", key, id) : NULL, *al = json_array();
    json_t *ref = json_pack("{s:s,s:s}", "source_name", gr->source, "external_id", gr->id);
    free(key);
    if (!o || !al || !ref) {
        json_decref(o), json_decref(al), json_decref(ref);
        b->failed = 1;
        return;
    }
    casie__stix_set(b, o, "name", casie__stix_jstr(b, gr->name));
    casie__stix_set(b, o, "description",
                    casie__stix_jstr(b, !strcmp(gr->kind, "ransomware") ? "A ransomware operation (MISP galaxy)"
                                                                        : "A threat actor (MISP galaxy)"));
    for (int k = 0; k < gr->n_aliases; k++)
        if (json_array_append_new(al, casie__stix_jstr(b, gr->aliases[k]))) b->failed = 1;
    if (json_array_size(al))
        casie__stix_set(b, o, "aliases", al);
    else
        json_decref(al);
    if (gr->url[0]) casie__stix_set(b, ref, "url", casie__stix_jstr(b, gr->url));
    casie__stix_set(b, o, "external_references", json_pack("[o]", ref));
    casie__stix_take(b, o);
}

/* The objects of hopper hp and their relationships to camp, its incident's
 * campaign ("": none); only an actual event's victim is a target.  A
 * catalogue group is an intrusion-set, never a victim, and never a tool of
 * an incident it attacks in (attackers: its catalogue groups, MAX_GROUPS). */
static void add_hopper(builder *b, const casie_hopper *hp, const char **names, const char *camp,
                       const casie_group *const *attackers) {
    if (!hp->n_events) return;
    const int R_ATTACKER = casie_role_from_name("Attacker"), R_VICTIM = casie_role_from_name("Victim"),
              R_TOOL = casie_role_from_name("Tool"), R_PATTERN = casie_role_from_name("Attack-Pattern");
    char vulns[MAX_VULNS][ID_MAX], vnames[MAX_VULNS][64], id[ID_MAX];
    json_t *facts = camp[0] ? NULL : hopper_facts(b, &hp, 1);                     /* a campaign's are on it */
    int nv = casie__stix_add_vulnerabilities(b, hp, names, facts, vulns, vnames); /* first: the rest points at them */
    casie__stix_vuln_relations(b, hp, names, nv, vulns, vnames);
    json_decref(facts);
    for (int i = 0, base = 0; i < hp->n_events; base += hp->events[i++].n_args) {
        const casie_event *e = &hp->events[i];
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            const char *ent = casie_entity_name(g->entity), *name = names[base + a];
            /* an attack pattern that names nothing stands for its CAPEC meta pattern, when it has one */
            if (!name && g->role == R_PATTERN && g->category) name = g->category;
            const casie_group *gr = g->role == R_ATTACKER || g->role == R_VICTIM || g->role == R_TOOL
                                        ? arg_group(b, g, names[base + a])
                                        : NULL;
            if (!name && !gr) continue; /* "the company", "users", "the attackers": no object */
            if (!ent) ent = "";
            b->conf = g->score >= 0 ? g->score : e->score;
            int own = 0;
            for (int k = 0; gr && k < MAX_GROUPS && attackers[k]; k++)
                own |= attackers[k] == gr;
            if ((g->role == R_VICTIM && gr) || (g->role == R_TOOL && own)) continue;
            if (g->role == R_ATTACKER && gr) {
                group_object(b, gr, id);
                casie__stix_relate(b, camp, "attributed-to", id);
            } else if (g->role == R_ATTACKER) {
                if (casie__stix_entity(b, casie__is_group_name(name) ? "intrusion-set" : "threat-actor", name, NULL,
                                       NULL, id) == 0)
                    casie__stix_relate(b, camp, "attributed-to", id);
            } else if (g->role == R_VICTIM) {
                const char *cls = !strcmp(ent, "Person")         ? "individual"
                                  : !strcmp(ent, "Organization") ? "organization"
                                  : (!strcmp(ent, "System") || !strcmp(ent, "Device") || !strcmp(ent, "Software") ||
                                     !strcmp(ent, "Website"))
                                      ? "system"
                                      : "unknown";
                if (casie__stix_entity(b, "identity", name, NULL, json_pack("{s:s}", "identity_class", cls), id) == 0 &&
                    e->realis == CASIE_REALIS_ACTUAL)
                    casie__stix_relate(b, camp, "targets", id);
            } else if (g->role == R_TOOL) {
                int mal = !strcmp(ent, "Malware");
                if (casie__stix_entity(b, mal ? "malware" : "tool", name, NULL,
                                       mal ? json_pack("{s:b}", "is_family", 0) : NULL, id) == 0) {
                    casie__stix_relate(b, camp, "uses", id);
                    if (mal)
                        for (int v = 0; v < nv; v++)
                            casie__stix_relate(b, id, "exploits", vulns[v]);
                }
            } else if (g->role == R_PATTERN && camp[0]) {
                if (casie__stix_entity(b, "attack-pattern", name, NULL, capec_ref(b, g->category), id) == 0)
                    casie__stix_relate(b, camp, "uses", id);
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
    if (!strncasecmp(link, "http://", 7))
        n = 7;
    else if (!strncasecmp(link, "https://", 8))
        n = 8;
    else
        return 0;
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

int casie__stix_document(builder *b, const casie_doc *doc, json_t **report_out) {
    json_t *report = NULL;
    char *key = NULL, *desc = NULL;
    const char **names = casie_doc_arg_names(doc, NULL, NULL);
    *report_out = NULL;
    b->scope = doc->id ? doc->id : "", b->conf = -1, b->only_cve[0] = 0, b->doc = doc;
    if (!parse_date(doc->date, b->ts)) { /* no article date: the time of this run */
        time_t now = time(NULL);
        struct tm tm;
        if (!gmtime_r(&now, &tm) || !strftime(b->ts, sizeof b->ts, "%Y-%m-%dT%H:%M:%S.000Z", &tm))
            snprintf(b->ts, sizeof b->ts, "1970-01-01T00:00:00.000Z");
    }
    if (!names) goto nomem;
    for (int h = 0, many = 0; h < doc->n_hoppers && !many; h++) /* the article's one CVE id, if one */
        for (int i = 0; i < doc->hoppers[h].n_events && !many; i++)
            for (int a = 0; a < doc->hoppers[h].events[i].n_args && !many; a++) {
                const casie_arg *g = &doc->hoppers[h].events[i].args[a];
                char c[MAX_CVES][32];
                int n = g->role == casie_role_from_name("CVE") && g->text ? casie__stix_arg_cves(g->text, c) : 0;
                for (int j = 0; j < n && !many; j++) {
                    if (b->only_cve[0] && strcmp(b->only_cve, c[j]))
                        many = 1, b->only_cve[0] = 0;
                    else
                        memcpy(b->only_cve, c[j], 32);
                }
            }
    int n_events = 0, counts[CASIE_N_SUBTYPES] = {0};
    float top = -1;
    incident_hopper *ih = calloc((size_t)doc->n_hoppers + 1, sizeof *ih);
    char(*camps)[ID_MAX] = calloc((size_t)doc->n_hoppers + 1, ID_MAX);
    const casie_group *(*ag)[MAX_GROUPS] = calloc((size_t)doc->n_hoppers + 1, sizeof *ag);
    if (!ih || !camps || !ag) {
        free(ih), free(camps), free(ag);
        goto nomem;
    }
    group_incidents(b, doc, names, ih);
    incident_groups(b, doc, ih, ag);
    for (int h = 0, base = 0; h < doc->n_hoppers; h++) {
        int r = ih[h].root;
        if (ih[h].subtype >= 0 && !camps[r][0]) add_campaign(b, doc, ih, r, camps[r]);
        add_hopper(b, &doc->hoppers[h], names + base, ih[h].subtype >= 0 ? camps[r] : "", ag[r]);
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            int st = doc->hoppers[h].events[i].subtype;
            n_events++;
            if (st >= 0 && st < CASIE_N_SUBTYPES) counts[st]++;
            if (doc->hoppers[h].events[i].score > top) top = doc->hoppers[h].events[i].score;
            base += doc->hoppers[h].events[i].n_args;
        }
    }
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int k = 0; k < ih[h].n_keys; k++)
            free(ih[h].keys[k]);
    free(ih);
    free(camps);
    free(ag);
    b->conf = -1;
    if (json_array_size(b->refs) == 0) {
        /* object_refs may not be empty: with nothing found the report refers
         * to its source, the site that published the article (or casie) */
        char host[256], id[ID_MAX];
        int site = link_host(doc->link, host, sizeof host);
        casie__stix_entity(b, "identity", site ? host : "casie", NULL,
                           json_pack("{s:s}", "identity_class", site ? "organization" : "system"), id);
    }
    if (b->failed) goto nomem;

    char rid[ID_MAX];
    key = casie__stix_strf("report|%s|%s|%s", doc->id ? doc->id : "", doc->title ? doc->title : "",
                           doc->link ? doc->link : "");
    b->conf = top; /* the report: as sure as its surest event */
    report = key ? casie__stix_sdo(b, "report", key, rid) : NULL;
    if (!report) goto nomem;
    /* "3 events (2 Ransom, 1 PatchVulnerability) found by casie" */
    desc = casie__stix_strf("%d event%s", n_events, n_events == 1 ? "" : "s");
    for (int s = 0, first = 1; s < CASIE_N_SUBTYPES && desc; s++) {
        if (!counts[s]) continue;
        char *d = casie__stix_strf("%s%s%d %s", desc, first ? " (" : ", ", counts[s], casie_subtype_name(s));
        free(desc);
        desc = d;
        first = 0;
    }
    if (desc) {
        char *d = casie__stix_strf("%s%s found by casie", desc, n_events ? ")" : "");
        free(desc);
        desc = d;
    }
    if (!desc) goto nomem;
    casie__stix_set(b, report, "name",
                    casie__stix_jstr(b, doc->title && doc->title[0] ? doc->title
                                        : doc->id                   ? doc->id
                                                                    : "article"));
    casie__stix_set(b, report, "description", casie__stix_jstr(b, desc));
    casie__stix_set(b, report, "report_types", json_pack("[s]", "threat-report"));
    casie__stix_set(b, report, "published", json_string(b->ts));
    if (web_link(doc->link)) {
        json_t *ref = json_pack("{s:s}", "source_name", "article");
        if (ref) casie__stix_set(b, ref, "url", casie__stix_jstr(b, doc->link));
        casie__stix_set(b, report, "external_references", ref ? json_pack("[o]", ref) : NULL);
    }
    casie__stix_set(b, report, "object_refs", json_incref(b->refs));
    if (b->failed) goto nomem;
    *report_out = report;
    report = NULL;
    free(key);
    free(desc);
    free((void *)names);
    return 0;
nomem:
    b->failed = 1;
    free(key);
    free(desc);
    free((void *)names);
    json_decref(report);
    return -1;
}
