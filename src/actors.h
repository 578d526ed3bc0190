/*
 * actors.h - named attackers.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_ACTORS_H
#define CASIE_ACTORS_H

#include "internal.h"

/* ---- named attackers (actors.c) ---- */
/* A Tool of an attack event that is a named group, or a named Attacker of
 * another event of ev[0, n), becomes the event's Attacker. */
void casie__actor_roles(const casie_doc *doc, casie_event *ev, int n);

#endif /* CASIE_ACTORS_H */
