/*
 * names.h - names of things.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_NAMES_H
#define CASIE_NAMES_H

#include "internal.h"

/* ---- names (names.c) ---- */
/* Does the mention `text`, starting at code point `start` of doc, name
 * someone or something in particular?  doc may be NULL (then a capitalised
 * first word counts as a name). */
int casie__mention_named(const casie_doc *doc, const char *text, int32_t start);
/* A named group of attackers ("APT28", "Lazarus Group", "Fancy Bear"), not
 * "the group" or "a group of hackers": a heuristic over the words. */
int casie__is_group_name(const char *s);

#endif /* CASIE_NAMES_H */
