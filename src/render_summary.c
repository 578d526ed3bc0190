/*
 * render_summary.c - the parts of the HTML page (casie_doc_to_html, `casie
 * render`) an analyst reads first: a document's title and date, a summary table of its events (one
 * row each, grouped by hopper: subtype, realis, trigger, the main arguments
 * by their most specific names, score), and the filters by subtype, realis
 * and minimum score that act on every summary table of the page (an inline
 * script; the page still makes no request).
 *
 * Rows carry data-subtype, data-realis, data-score and data-hopper, so a
 * test (tests/render/check.js) can read them back and compare with the JSON.
 * Not here: the highlighted article and the event list (render_html.c).
 */
#include "internal.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The roles a summary row shows, most telling first, at most SHOWN_ARGS. */
static const char *const MAIN_ROLES[] = {
    "Attacker", "Victim",           "CVE",   "Vulnerability",    "Vulnerable_System", "Patch", "Releaser",
    "Tool",     "Compromised-Data", "Price", "Number-of-Victim", "Discoverer",        "Time",  NULL};
#define SHOWN_ARGS 5
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
    int shown = 0;
    for (int r = 0; MAIN_ROLES[r] && shown < SHOWN_ARGS; r++) {
        int role = casie_role_from_name(MAIN_ROLES[r]);
        for (int a = 0; a < e->n_args && shown < SHOWN_ARGS; a++) {
            const casie_arg *g = &e->args[a];
            if (g->role != role || !g->text) continue;
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
            fprintf(f,
                    "<tr class=\"ev%s\" data-hopper=\"%d\" data-subtype=\"%s\" data-realis=\"%s\" data-score=\"%.4f\">",
                    low ? " low" : "", h + 1, casie_subtype_name(e->subtype), casie_realis_name(e->realis),
                    e->score >= 0 ? e->score : 1.0);
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

void casie__html_filters(FILE *f) {
    fputs("<form class=\"filters\" id=\"filters\"><b>Show:</b> <label>subtype <select id=\"f-subtype\">"
          "<option value=\"\">all</option>",
          f);
    for (int s = 0; s < CASIE_N_SUBTYPES; s++)
        fprintf(f, "<option>%s</option>", casie_subtype_name(s));
    fputs("</select></label> <label>realis <select id=\"f-realis\"><option value=\"\">all</option>", f);
    for (int r = 0; r < CASIE_N_REALIS; r++)
        fprintf(f, "<option>%s</option>", casie_realis_name(r));
    fputs("</select></label> <label>minimum score <input id=\"f-score\" type=\"number\" min=\"0\" max=\"1\" "
          "step=\"0.05\" value=\"0\"></label> <span id=\"f-count\"></span></form>\n",
          f);
}

void casie__html_script(FILE *f) {
    /* hides the summary rows that fail a filter, and a hopper's heading
     * when all its rows are hidden; counts what is shown */
    fputs("<script>\n"
          "(function () {\n"
          "  var st = document.getElementById('f-subtype'), re = document.getElementById('f-realis'),\n"
          "      sc = document.getElementById('f-score'), count = document.getElementById('f-count');\n"
          "  function apply() {\n"
          "    var min = parseFloat(sc.value) || 0, shown = 0, total = 0;\n"
          "    document.querySelectorAll('table.summary').forEach(function (t) {\n"
          "      var open = {};\n"
          "      t.querySelectorAll('tr.ev').forEach(function (r) {\n"
          "        var ok = (!st.value || r.dataset.subtype === st.value) &&\n"
          "                 (!re.value || r.dataset.realis === re.value) && parseFloat(r.dataset.score) >= min;\n"
          "        r.hidden = !ok; total++;\n"
          "        if (ok) { shown++; open[r.dataset.hopper] = true; }\n"
          "      });\n"
          "      t.querySelectorAll('tr.hop').forEach(function (r) { r.hidden = !open[r.dataset.hopper]; });\n"
          "    });\n"
          "    count.textContent = shown + ' of ' + total + ' events shown';\n"
          "  }\n"
          "  [st, re, sc].forEach(function (e) { e.addEventListener('input', apply); e.addEventListener('change', "
          "apply); });\n"
          "  apply();\n"
          "})();\n"
          "</script>\n",
          f);
}
