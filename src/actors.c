/*
 * actors.c - named attackers keep their role across an article: a rule
 * after the argument tagger (extract.c).
 *
 * The argument tagger labels each event on its own, so a ransomware gang
 * named as the Attacker of one event ("REvil demanded ...") can be the Tool
 * of the next ("... encrypted by REvil"), and a group's name ("the Lazarus
 * Group") can come out as a Tool.  After tagging:
 * - a Tool of an attack event that is a named group (casie__is_group_name)
 *   becomes its Attacker;
 * - a Tool of an attack event whose text is, case aside, a named Attacker
 *   of another event of the article becomes its Attacker too.
 * Either way the argument's entity type becomes Organization, and it stays
 * a Tool when its event already has that Attacker.
 *
 * Not here: which mention names an actor (names.c).
 */
#include "internal.h"
#include "actors.h"
#include "names.h"

#include <string.h>
#include <strings.h>

static int is_attack(int subtype) { return subtype <= CASIE_SUBTYPE_RANSOM; }

/* The article's Attacker mentions, sorted by text (case aside), each with
 * whether it names someone, worked out when first asked: a Tool is looked
 * up in log time, so the rule stays near linear on huge documents. */
typedef struct attacker {
    const casie_arg *arg;
    signed char named; /* -1 not yet known */
} attacker;

static int cmp_attacker(const void *x, const void *y) {
    return strcasecmp(((const attacker *)x)->arg->text, ((const attacker *)y)->arg->text);
}

/* Is `text` a named Attacker among att[0, n)? */
static int named_attacker(const casie_doc *doc, attacker *att, int n, const char *text) {
    int a = 0, b = n; /* the first one not below text */
    while (a < b) {
        int mid = a + (b - a) / 2;
        if (strcasecmp(att[mid].arg->text, text) < 0)
            a = mid + 1;
        else
            b = mid;
    }
    for (int k = a; k < n && !strcasecmp(att[k].arg->text, text); k++) {
        if (att[k].named < 0)
            att[k].named = (signed char)casie__mention_named(doc, att[k].arg->text, att[k].arg->start);
        if (att[k].named) return 1;
    }
    return 0;
}

void casie__actor_roles(const casie_doc *doc, casie_event *ev, int n) {
    const int role_attacker = casie_role_from_name("Attacker"), tool = casie_role_from_name("Tool"),
              org = casie_entity_from_name("Organization");
    int na = 0;
    for (int k = 0; k < n; k++)
        for (int q = 0; q < ev[k].n_args; q++)
            na += ev[k].args[q].role == role_attacker && ev[k].args[q].text;
    attacker *att = malloc(sizeof *att * ((size_t)na + 1));
    if (!att) na = 0; /* out of memory: only named groups are moved */
    for (int k = 0, i = 0; att && k < n; k++)
        for (int q = 0; q < ev[k].n_args; q++)
            if (ev[k].args[q].role == role_attacker && ev[k].args[q].text)
                att[i].arg = &ev[k].args[q], att[i++].named = -1;
    if (na > 1) qsort(att, (size_t)na, sizeof *att, cmp_attacker);
    for (int k = 0; k < n; k++) {
        if (!is_attack(ev[k].subtype)) continue;
        for (int q = 0; q < ev[k].n_args; q++) {
            casie_arg *a = &ev[k].args[q];
            if (a->role != tool || !a->text) continue;
            if (!casie__is_group_name(a->text) && !named_attacker(doc, att, na, a->text)) continue;
            int has = 0; /* the event names this attacker already */
            for (int r = 0; r < ev[k].n_args; r++)
                has |= ev[k].args[r].role == role_attacker && ev[k].args[r].text &&
                       !strcasecmp(ev[k].args[r].text, a->text);
            if (!has) a->role = role_attacker, a->entity = org;
        }
    }
    free(att);
}
