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

#include <strings.h>

static int is_attack(int subtype) { return subtype <= CASIE_SUBTYPE_RANSOM; }

/* Is `text` a named Attacker of some event of ev[0, n)? */
static int named_attacker(const casie_doc *doc, const casie_event *ev, int n, const char *text, int attacker) {
    for (int k = 0; k < n; k++)
        for (int q = 0; q < ev[k].n_args; q++) {
            const casie_arg *a = &ev[k].args[q];
            if (a->role == attacker && a->text && !strcasecmp(a->text, text) &&
                casie__mention_named(doc, a->text, a->start))
                return 1;
        }
    return 0;
}

void casie__actor_roles(const casie_doc *doc, casie_event *ev, int n) {
    const int attacker = casie_role_from_name("Attacker"), tool = casie_role_from_name("Tool"),
              org = casie_entity_from_name("Organization");
    for (int k = 0; k < n; k++) {
        if (!is_attack(ev[k].subtype)) continue;
        for (int q = 0; q < ev[k].n_args; q++) {
            casie_arg *a = &ev[k].args[q];
            if (a->role != tool || !a->text) continue;
            if (!casie__is_group_name(a->text) && !named_attacker(doc, ev, n, a->text, attacker)) continue;
            int has = 0; /* the event names this attacker already */
            for (int r = 0; r < ev[k].n_args; r++)
                has |= ev[k].args[r].role == attacker && ev[k].args[r].text && !strcasecmp(ev[k].args[r].text, a->text);
            if (!has) a->role = attacker, a->entity = org;
        }
    }
}
