/*
 * event_conflict.h - events that cannot be one.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_EVENT_CONFLICT_H
#define CASIE_EVENT_CONFLICT_H

#include "internal.h"
#include "feats.h"

/* ---- events that cannot be one (event_conflict.c) ---- */
/* 1 when a and b name different CVE ids, or different patch numbers or
 * vulnerable versions: they are never one event. */
int casie__events_conflict(const casie_doc *doc, const casie__tokfeat *tf, const casie_event *a, const casie_event *b);
/* The members of each cluster (by cluster id, an event index) that have an
 * argument a conflict can turn on, one per kind of conflict, so that
 * clustering checks only those. */
typedef struct casie__conflicts {
    int *head, *next; /* (n,) first listed member of a cluster; the next one */
    uint64_t *key;    /* (n,) what a conflict with event i turns on (a hash), 0: nothing */
} casie__conflicts;
int casie__conflicts_init(casie__conflicts *c, const casie_doc *doc, const casie__tokfeat *tf, const casie_event *ev,
                          int n); /* CASIE_OK or NOMEM */
/* Would event j conflict with a member of cluster `cluster`? */
int casie__conflicts_check(const casie__conflicts *c, const casie_doc *doc, const casie__tokfeat *tf,
                           const casie_event *ev, int cluster, int j);
void casie__conflicts_add(casie__conflicts *c, int cluster, int j); /* j joined cluster */
void casie__conflicts_free(casie__conflicts *c);

#endif /* CASIE_EVENT_CONFLICT_H */
