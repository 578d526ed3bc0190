/*
 * render_summary.c - the parts of the HTML page (casie_doc_to_html, `casie
 * render`) an analyst reads first: a document's title and date, a summary table of its events (one
 * row each, grouped by hopper: subtype, realis, trigger, the main arguments
 * by their most specific names, score).
 *
 * Rows carry data-ev, data-subtype, data-realis, data-score and
 * data-hopper (casie__html_event_data, as the event cards do): the filters'
 * script reads them, and tests (tests/render/check.js, filters.js) compare
 * them with the JSON.
 * Not here: the highlighted article and the event list (render_html.c), the
 * filters and their script (render_script.c).
 */
#include "internal.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The roles a summary row shows, most telling first: at most PER_ROLE
 * mentions of a role and SHOWN_ARGS in all, so that a phishing event's
 * Trusted-Entity or a ransom's Payment-Method is not crowded out by five
 * victims; the rest is counted ("+2 more"), and listed in the event card. */
static const char *const MAIN_ROLES[] = {
    "Attacker", "Victim", "Trusted-Entity",   "CVE",   "Vulnerability",  "Vulnerable_System", "Patch",
    "Releaser", "Tool",   "Compromised-Data", "Price", "Payment-Method", "Number-of-Victim",  "Discoverer",
    "Time",     NULL};
#define SHOWN_ARGS 6
#define PER_ROLE 2
#define ARG_TEXT 60

/* s escaped, cut to max code points with an ellipsis. */
static void esc_cut(FILE *f, const char *s, int max) {
    size_t i = 0;
    int n = 0;
    if (!s) return;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == max) break;
    casie__html_escape(f, s, i);
    if (s[i]) fputs("\u2026", f);
}

void casie__html_doc_header(FILE *f, const casie_doc *d) {
    fputs("<h2>", f);
    esc_cut(f, d->title && d->title[0] ? d->title : d->id ? d->id : "document", 400);
    fputs("</h2><p class=\"dateline\">", f);
    if (d->date && strlen(d->date) == 10) { /* "2018_05_03" as 2018-05-03 */
        char day[11];
        memcpy(day, d->date, 11);
        day[4] = day[7] = '-';
        fputs("Published ", f);
        esc_cut(f, day, 10);
    } else if (d->date) {
        fputs("Published ", f);
        esc_cut(f, d->date, 40);
    } else { /* no date in the article: say when the page was made */
        char now[32];
        time_t t = time(NULL);
        struct tm tm;
        if (gmtime_r(&t, &tm) && strftime(now, sizeof now, "%Y-%m-%d", &tm)) fprintf(f, "Date unknown; read %s", now);
    }
    fputs("</p>", f);
}

/* The main arguments of e ("Attacker: REvil (the gang)"), names from the
 * flat table of casie_doc_arg_names (names + the event's first index). */
static void main_args(FILE *f, const casie_event *e, const char *const *names) {
    int shown = 0, more = 0;
    for (int r = 0; MAIN_ROLES[r]; r++) {
        int role = casie_role_from_name(MAIN_ROLES[r]), of_role = 0;
        for (int a = 0; a < e->n_args; a++) {
            const casie_arg *g = &e->args[a];
            if (g->role != role || !g->text) continue;
            if (shown == SHOWN_ARGS || of_role == PER_ROLE) {
                more++;
                continue;
            }
            of_role++;
            const char *name = names ? names[a] : NULL;
            fprintf(f, "%s<span class=\"sarg%s\"><i>%s</i> ", shown ? "; " : "",
                    g->score >= 0 && g->score < CASIE_HTML_LOW_SCORE ? " low" : "", casie_role_name(g->role));
            esc_cut(f, name ? name : g->text, ARG_TEXT);
            if (name && strcmp(name, g->text)) { /* resolved: the mention as written too */
                fputs(" (", f);
                esc_cut(f, g->text, ARG_TEXT);
                fputs(")", f);
            }
            fputs("</span>", f);
            shown++;
        }
    }
    if (more) fprintf(f, "; <span class=\"more\">+%d more</span>", more);
}

void casie__html_event_data(FILE *f, int h, int i, const casie_event *e) {
    fprintf(f, " data-ev=\"%d.%d\" data-hopper=\"%d\" data-subtype=\"%s\" data-realis=\"%s\" data-score=\"%.4f\"",
            h + 1, i + 1, h + 1, casie_subtype_name(e->subtype), casie_realis_name(e->realis),
            e->score >= 0 ? e->score : 1.0);
}

void casie__html_summary(FILE *f, const casie_doc *d) {
    if (!d->n_hoppers) return;
    const char **names = casie_doc_arg_names(d, NULL, NULL); /* NULL: show the mentions as written */
    fputs("<table class=\"summary\"><thead><tr><th>Hopper</th><th>Subtype</th><th>Realis</th><th>Trigger</th>"
          "<th>Main arguments</th><th>Score</th></tr></thead><tbody>",
          f);
    int base = 0;
    for (int h = 0; h < d->n_hoppers; h++) {
        fprintf(f, "<tr class=\"hop\" data-hopper=\"%d\"><th colspan=\"6\">Hopper %d (%d event%s)</th></tr>", h + 1,
                h + 1, d->hoppers[h].n_events, d->hoppers[h].n_events == 1 ? "" : "s");
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            int low = e->score >= 0 && e->score < CASIE_HTML_LOW_SCORE;
            fprintf(f, "<tr class=\"ev%s\"", low ? " low" : "");
            casie__html_event_data(f, h, i, e);
            fputs(">", f);
            fprintf(f, "<td>%d</td><td><span class=\"chip st%d\">%s</span></td><td>%s</td><td class=\"trigger\">",
                    h + 1, e->subtype, casie_subtype_name(e->subtype), casie_realis_name(e->realis));
            esc_cut(f, e->text, ARG_TEXT);
            fputs("</td><td>", f);
            main_args(f, e, names ? names + base : NULL);
            fputs("</td><td class=\"score\">", f);
            if (e->score >= 0) fprintf(f, "%.2f", e->score);
            fputs("</td></tr>", f);
            base += e->n_args;
        }
    }
    fputs("</tbody></table>\n", f);
    casie_free((void *)names);
}
