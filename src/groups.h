/*
 * groups.h - the catalogue of threat groups (groups.c): what the library
 * shares beyond the public casie_groups_* calls.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_GROUPS_H
#define CASIE_GROUPS_H

#include "internal.h"

/* The key under which a name or mention is looked up in the catalogue into
 * key (256 bytes): quotes, a possessive, a leading article and the words
 * around a name that say what it is dropped, NFKC case folded.  *proper
 * (may be NULL): it is written as a name (a capital letter, a digit or a
 * non-ASCII letter).  0 when it has no key.  Thread-safe. */
int casie__group_key(const char *s, char key[256], int *proper);

#endif /* CASIE_GROUPS_H */
