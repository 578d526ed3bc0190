/*
 * render.h - the HTML page's parts.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_RENDER_H
#define CASIE_RENDER_H

#include "internal.h"

/* ---- the HTML page's analyst parts (render_summary.c) ---- */
#define CASIE_HTML_LOW_SCORE 0.5f /* scores under this are shown faint */
/* n bytes of s with & < > " ' as HTML entities (html_escape.c): the one
 * escaper of the page's text, attributes included. */
void casie__html_escape(FILE *f, const char *s, size_t n);
/* <h2>title</h2> and a line with the article's date (or, without one,
 * that it is unknown and the day the page was made). */
void casie__html_doc_header(FILE *f, const casie_doc *d);
/* The summary table of d's events, grouped by hopper (nothing without events). */
void casie__html_summary(FILE *f, const casie_doc *d);
/* The attributes an event's summary row and card share, e's place (from
 * 0) written from 1: data-ev="h.i", data-hopper, data-subtype, data-realis,
 * data-score (1 without a score). */
void casie__html_event_data(FILE *f, int h, int i, const casie_event *e);

/* ---- the filters and the table of contents (render_script.c) ---- */
/* The filter form and the table of contents' place (once, in the head). */
void casie__html_filters(FILE *f);
/* The inline script that builds the table of contents and applies the
 * filters (once, at the page's end). */
void casie__html_script(FILE *f);

#endif /* CASIE_RENDER_H */
