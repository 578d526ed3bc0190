/*
 * uuid5.h - UUIDv5 ids.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_UUID5_H
#define CASIE_UUID5_H

#include "internal.h"

/* ---- ids (uuid5.c) ---- */
/* The UUIDv5 of `name` in namespace `ns`, as 36 characters + NUL. */
void casie__uuid5(const unsigned char ns[16], const char *name, char out[37]);

#endif /* CASIE_UUID5_H */
