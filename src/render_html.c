/*
 * render_html.c - a document's events as HTML: one self-contained page
 * (inline CSS and script, no network) with each article's title and date, a
 * summary of its events with filters (render_summary.c), the article with
 * its triggers and arguments highlighted (faint when they scored under
 * 0.5), a legend, and the events grouped by hopper.  The filters and the
 * table of contents act on all of it (render_script.c).  The CLI's `casie
 * render` and the Python package write their pages with it.
 *
 * Spans may overlap (an argument serves several events; events' spans cross).
 * A span's element opens where it starts, the longer of two starting
 * together outside, and closes where it ends; a span crossing it that is
 * still open there is closed and reopened around the end (a continuation,
 * with a short title).  At most MAX_NESTING elements are open at once: a
 * span starting deeper is not highlighted (the page says how many, and the
 * event list below shows every span).  So the page grows linearly with the
 * input: it grew with the square of the nesting, 258 MB of HTML for 2,000
 * nested spans.  Every element carries data-span (trigger|argument),
 * data-start and data-end, so the spans can be counted in the page, and a
 * title that says what the span is (all its uses, one per line); data-m and
 * data-ev tie it to its events for the filters (open_mark).  Hopper cards
 * carry data-hopper, event cards the attributes of a summary row.
 *
 * Not here: reading the JSON (doc_json_read.c), files and streams (the CLI).
 */
#include "internal.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hspan {
    int32_t start, end;
    int trigger; /* 1 trigger, 0 argument */
    int label;   /* subtype (trigger) or role (argument) */
    char *title; /* what the span is (all its uses, one per line) */
    int order;   /* index of its first use, for a stable order */
    float score; /* the highest score of its uses, < 0 when none has one */
    char *evs;   /* the events of its uses, "h.i" (from 1) joined by spaces, each once */
    int hop, ev; /* the event (from 1) of its last use, to write each event once */
    size_t title_len, evs_len;
} hspan;

/* Elements open at once, at most: the dev predictions of the default model
 * nest two deep at most, gold annotations never overlap. */
#define MAX_NESTING 4

static void esc(FILE *f, const char *s) { casie__html_escape(f, s ? s : "", s ? strlen(s) : 0); }

/* Colours: subtypes by a fixed palette, roles spread over the hue circle. */
static const char *const SUBTYPE_COLOUR[CASIE_N_SUBTYPES] = {"#f4a7a7", "#a7c7f4", "#f4d7a7", "#b9e4b0", "#d8b9f0"};
static int role_hue(int role) { return (role * 137) % 360; }

/* Appends a use of a span (merge_spans merges the uses of one span). */
static int add_span(hspan **v, int *n, int *cap, int32_t s, int32_t e, int trigger, int label, float score, int hop,
                    int ev, const char *what) {
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        hspan *nv = realloc(*v, sizeof(hspan) * (size_t)nc);
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    char ids[32];
    int ni = snprintf(ids, sizeof ids, "%d.%d", hop, ev);
    size_t nt = strlen(what);
    char *t = malloc(nt + 1), *es = malloc((size_t)ni + 1);
    if (!t || !es) {
        free(t), free(es);
        return -1;
    }
    memcpy(t, what, nt + 1);
    memcpy(es, ids, (size_t)ni + 1);
    (*v)[*n] = (hspan){s, e, trigger, label, t, *n, score, es, hop, ev, nt, (size_t)ni};
    (*n)++;
    return 0;
}

/* By start, the longer first, then triggers, then first use. */
static int cmp_span(const void *a, const void *b) {
    const hspan *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end > y->end ? -1 : 1;
    if (x->trigger != y->trigger) return x->trigger ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

/* Appends sep and b (nb bytes) to the string *a of *na bytes. */
static int append(char **a, size_t *na, char sep, const char *b, size_t nb) {
    char *t = realloc(*a, *na + nb + 2);
    if (!t) return -1;
    t[*na] = sep;
    memcpy(t + *na + 1, b, nb + 1);
    *a = t;
    *na += nb + 1;
    return 0;
}

static void free_span(hspan *h) { free(h->title), free(h->evs); }

/* Sorts the uses and merges those of one kind and offsets (their titles
 * joined by line breaks, their events by spaces, in order of use): n log n,
 * where looking each use up among the spans so far was quadratic.  The
 * lengths are kept, not measured again: a span of n uses is merged in O(n). */
static int merge_spans(hspan *v, int *n) {
    if (*n > 1) qsort(v, (size_t)*n, sizeof *v, cmp_span); /* v is NULL for a document without events */
    int k = 0;
    for (int i = 0; i < *n; i++) {
        hspan *h = k ? &v[k - 1] : NULL;
        if (!h || h->start != v[i].start || h->end != v[i].end || h->trigger != v[i].trigger) {
            v[k++] = v[i];
            continue;
        }
        int same = h->hop == v[i].hop && h->ev == v[i].ev; /* an event's uses are together */
        if (append(&h->title, &h->title_len, '\n', v[i].title, v[i].title_len) ||
            (!same && append(&h->evs, &h->evs_len, ' ', v[i].evs, v[i].evs_len))) {
            for (int j = i; j < *n; j++)
                free_span(&v[j]);
            *n = k;
            return -1;
        }
        h->hop = v[i].hop, h->ev = v[i].ev;
        if (v[i].score > h->score) h->score = v[i].score;
        free_span(&v[i]);
    }
    *n = k;
    return 0;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Opens the element of span h, the k-th of its section.  Each element of
 * the span has data-m="k"; the first also data-ev, the events the filters
 * look up (render_script.c), and the whole title.  A continuation has
 * neither, only a short title: a span of many uses, reopened at many
 * boundaries, would else repeat its lists there and the page would grow with
 * uses times boundaries. */
static void open_mark(FILE *f, const hspan *h, int k, int continued) {
    const char *low = h->score >= 0 && h->score < CASIE_HTML_LOW_SCORE ? " low" : ""; /* faint when unsure */
    if (h->trigger)
        fprintf(f, "<mark class=\"trig st%d%s\" data-span=\"trigger\" data-start=\"%d\" data-end=\"%d\" data-m=\"%d\"",
                h->label, low, h->start, h->end, k);
    else
        fprintf(f,
                "<mark class=\"arg%s\" style=\"--h:%d\" data-span=\"argument\" data-start=\"%d\" data-end=\"%d\" "
                "data-m=\"%d\"",
                low, role_hue(h->label), h->start, h->end, k);
    if (!continued) fprintf(f, " data-ev=\"%s\"", h->evs);
    fputs(" title=\"", f);
    if (continued)
        fprintf(f, "%s %s (continued)", h->trigger ? casie_subtype_name(h->label) : casie_role_name(h->label),
                h->trigger ? "trigger" : "argument");
    else
        esc(f, h->title);
    fputs("\">", f);
}

/* Span texts are shown cut to this many code points (and an ellipsis), in
 * titles to TITLE_TEXT: a span's text need not be in the input (offsets
 * alone give it), so whole texts of nested spans would make the page grow
 * with the square of the input. */
#define SHOWN_TEXT 200
#define TITLE_TEXT 80

/* Bytes of the first max code points of s (UTF-8, never cut inside one);
 * *cut set when that is not all of it. */
static size_t shown_bytes(const char *s, int max, int *cut) {
    size_t i = 0;
    int n = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == max) break;
    *cut = s[i] != 0;
    return i;
}

/* A span's text as shown: escaped, cut to SHOWN_TEXT code points. */
static void esc_shown(FILE *f, const char *s) {
    int cut;
    size_t n = shown_bytes(s ? s : "", SHOWN_TEXT, &cut);
    casie__html_escape(f, s ? s : "", n);
    if (cut) fputs("\u2026", f);
}

static int span_in_text(const hspan *h, const casie_doc *d) {
    return h->start >= 0 && h->start < h->end && h->end <= d->n_cp;
}

/* The article with its spans (sorted by cmp_span, merged) highlighted;
 * *skipped: how many were not (empty, outside the text, or too deep). */
static int render_text(FILE *f, const casie_doc *d, const hspan *sp, int ns, int *skipped) {
    int32_t *cut = malloc(sizeof(int32_t) * ((size_t)ns * 2 + 2));
    if (!cut) return -1;
    int nc = 0, open[MAX_NESTING], depth = 0, next = 0;
    cut[nc++] = 0;
    cut[nc++] = d->n_cp;
    for (int i = 0; i < ns; i++)
        if (span_in_text(&sp[i], d)) cut[nc++] = sp[i].start, cut[nc++] = sp[i].end;
    qsort(cut, (size_t)nc, sizeof(int32_t), cmp_i32);
    int nu = 0; /* distinct cuts */
    for (int k = 0; k < nc; k++)
        if (!nu || cut[k] != cut[nu - 1]) cut[nu++] = cut[k];
    *skipped = 0;
    fputs("<div class=\"article\">", f);
    for (int k = 0; k < nu; k++) {
        int32_t a = cut[k];
        /* close the elements of the spans ending here and of those opened
         * inside them, keeping these to reopen (outer first) */
        int low = depth, grp[MAX_NESTING], cont[MAX_NESTING], g = 0;
        for (int j = 0; j < depth && low == depth; j++)
            if (sp[open[j]].end == a) low = j;
        for (int j = depth - 1; j >= low; j--)
            fputs("</mark>", f);
        for (int j = low; j < depth; j++)
            if (sp[open[j]].end != a) grp[g] = open[j], cont[g++] = 1;
        depth = low;
        /* and the spans starting here, while there is room */
        for (; next < ns && sp[next].start <= a; next++) {
            if (!span_in_text(&sp[next], d) || depth + g == MAX_NESTING) {
                ++*skipped; /* listed with the events only */
                continue;
            }
            grp[g] = next, cont[g++] = 0;
        }
        /* open them, the one ending last outside (stable: reopened ones
         * first, then by length): the next to end is then often innermost,
         * closed without closing others */
        for (int x = 1; x < g; x++)
            for (int y = x; y > 0 && sp[grp[y]].end > sp[grp[y - 1]].end; y--) {
                int t = grp[y], c = cont[y];
                grp[y] = grp[y - 1], cont[y] = cont[y - 1];
                grp[y - 1] = t, cont[y - 1] = c;
            }
        for (int x = 0; x < g; x++) {
            open_mark(f, &sp[grp[x]], grp[x], cont[x]);
            open[depth++] = grp[x];
        }
        if (a < d->n_cp) {
            int32_t b = cut[k + 1];
            casie__html_escape(f, d->text + d->cp_byte[a], (size_t)(d->cp_byte[b] - d->cp_byte[a]));
        }
    }
    while (depth > 0)
        depth--, fputs("</mark>", f); /* none: every span in the text has ended */
    *skipped += ns - next;            /* starting after the text */
    fputs("</div>\n", f);
    free(cut);
    return 0;
}

static void render_events(FILE *f, const casie_doc *d) {
    fputs("<div class=\"events\">", f);
    for (int h = 0; h < d->n_hoppers; h++) {
        fprintf(f, "<div class=\"hopper\" data-hopper=\"%d\"><h3>Hopper %d</h3>", h + 1, h + 1);
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            fputs("<div class=\"event\"", f);
            casie__html_event_data(f, h, i, e);
            fprintf(f, "><span class=\"chip st%d\">%s.%s</span> <b>", e->subtype, casie_event_type_name(e->subtype),
                    casie_subtype_name(e->subtype));
            esc_shown(f, e->text);
            fprintf(f, "</b> <span class=\"realis\">%s</span>", casie_realis_name(e->realis));
            if (e->score >= 0) fprintf(f, " <span class=\"score\">%.2f</span>", e->score);
            if (e->n_args) fputs("<table>", f);
            for (int a = 0; a < e->n_args; a++) {
                const casie_arg *g = &e->args[a];
                fprintf(f, "<tr><td><span class=\"role\" style=\"--h:%d\">%s</span>", role_hue(g->role),
                        casie_role_name(g->role));
                if (g->category) fputs(" <span class=\"cat\">", f), esc(f, g->category), fputs("</span>", f);
                fprintf(f, "</td><td>%s</td><td>", casie_entity_name(g->entity));
                esc_shown(f, g->text);
                fputs("</td><td class=\"score\">", f);
                if (g->score >= 0) fprintf(f, "%.2f", g->score);
                fputs("</td></tr>", f);
            }
            if (e->n_args) fputs("</table>", f);
            fputs("</div>", f);
        }
        fputs("</div>", f);
    }
    if (!d->n_hoppers) fputs("<p class=\"none\">No events found.</p>", f);
    fputs("</div>\n", f);
}

static int render_doc(FILE *f, const casie_doc *d) {
    hspan *sp = NULL;
    int ns = 0, cap = 0, rc = 0;
    char what[1024];
    for (int h = 0; h < d->n_hoppers && !rc; h++)
        for (int i = 0; i < d->hoppers[h].n_events && !rc; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            snprintf(what, sizeof what, "%s trigger (%s), hopper %d%s", casie_subtype_name(e->subtype),
                     casie_realis_name(e->realis), h + 1, "");
            if (e->score >= 0) snprintf(what + strlen(what), sizeof what - strlen(what), ", score %.2f", e->score);
            rc = add_span(&sp, &ns, &cap, e->start, e->end, 1, e->subtype, e->score, h + 1, i + 1, what);
            for (int a = 0; a < e->n_args && !rc; a++) {
                const casie_arg *g = &e->args[a];
                const char *et = e->text ? e->text : "";
                int cut;
                int n = (int)shown_bytes(et, TITLE_TEXT, &cut);
                snprintf(what, sizeof what, "%s of %s \"%.*s%s\": %s", casie_role_name(g->role),
                         casie_subtype_name(e->subtype), n, et, cut ? "\u2026" : "", casie_entity_name(g->entity));
                if (g->score >= 0) snprintf(what + strlen(what), sizeof what - strlen(what), ", score %.2f", g->score);
                if (g->category) snprintf(what + strlen(what), sizeof what - strlen(what), ", %s", g->category);
                rc = add_span(&sp, &ns, &cap, g->start, g->end, 0, g->role, g->score, h + 1, i + 1, what);
            }
        }
    if (!rc) rc = merge_spans(sp, &ns);
    if (!rc) {
        fputs("<section class=\"doc\">", f);
        casie__html_doc_header(f, d);
        casie__html_summary(f, d);
        fputs("<p class=\"meta\">", f);
        esc(f, d->id);
        if (d->link) fputs(" &middot; ", f), esc(f, d->link); /* shown, not linked: the page makes no requests */
        /* the count is written after the text, which finds out what fits */
        char *body = NULL;
        size_t body_len = 0;
        FILE *bf = open_memstream(&body, &body_len);
        int skipped = 0;
        rc = bf ? render_text(bf, d, sp, ns, &skipped) : -1;
        if (bf && fclose(bf)) rc = -1;
        if (!rc) {
            fprintf(f, " &middot; %d highlighted spans", ns - skipped);
            if (skipped)
                fprintf(f,
                        " (%d more not highlighted: nested over %d deep, empty or outside the text; all are "
                        "listed below)",
                        skipped, MAX_NESTING);
            fputs("</p>\n", f);
            fwrite(body, 1, body_len, f);
        }
        free(body);
        render_events(f, d);
        fputs("</section>\n", f);
    }
    for (int i = 0; i < ns; i++)
        free_span(&sp[i]);
    free(sp);
    return rc;
}

static void render_head(FILE *f) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "script-src 'unsafe-inline'\">"
          "<title>casie: extracted events</title><style>\n"
          "body{font:15px/1.6 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\n"
          ".article{white-space:pre-wrap;border:1px solid #ddd;padding:1em;border-radius:6px;background:#fcfcfc}\n"
          "mark{background:none;color:inherit;padding:0}\n"
          "mark.trig{font-weight:700;border-radius:3px}\n"
          "mark.arg{border-bottom:3px solid hsl(var(--h),70%,45%);background:hsla(var(--h),70%,60%,.15)}\n"
          "mark[title]:hover{outline:2px solid #333;cursor:help}\n"
          /* a span whose events are all filtered out: its text, unmarked */
          "mark.off{background:none !important;border-bottom:none !important;font-weight:inherit;opacity:1}\n"
          "mark.off[title]:hover{outline:none;cursor:auto}\n",
          f);
    for (int s = 0; s < CASIE_N_SUBTYPES; s++)
        fprintf(f, ".st%d{background:%s !important}\n", s, SUBTYPE_COLOUR[s]);
    fputs(".chip,.role{display:inline-block;padding:0 .4em;border-radius:3px;font-size:13px}\n"
          ".role{border-bottom:3px solid hsl(var(--h),70%,45%);background:hsla(var(--h),70%,60%,.15)}\n"
          ".legend{display:flex;flex-wrap:wrap;gap:.3em;margin:.5em 0}\n"
          ".hopper{border-left:4px solid #bbb;margin:.8em 0;padding-left:.8em}\n"
          ".hopper h3{margin:.2em 0;font-size:14px;color:#555}\n"
          ".event{margin:.4em 0}.event table{border-collapse:collapse;margin:.2em 0 .2em 1.5em;font-size:14px}\n"
          ".event td{padding:0 .6em 0 0}.realis{color:#555;font-style:italic}.score{color:#777;font-size:13px}\n"
          ".meta{color:#666;font-size:13px}.dateline{color:#444;margin-top:-.6em}\n"
          ".cat{color:#555;font-size:12px;font-style:italic}\n"
          ".low{opacity:.45}mark.low{opacity:.6}\n"
          "table.summary{border-collapse:collapse;width:100%;font-size:14px;margin:.5em 0 1em}\n"
          "table.summary td,table.summary th{border-bottom:1px solid #e4e4e4;padding:.15em .5em;text-align:left;"
          "vertical-align:top}\n"
          "table.summary tr.hop th{background:#f2f2f2;font-weight:600;color:#555}.sarg i{color:#666}\n"
          ".filters{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ddd;z-index:1}\n"
          "#toc ol{margin:.3em 0;padding-left:1.5em}#toc .n{color:#777;font-size:13px}\n"
          "</style></head><body>\n<h1>Cybersecurity events</h1>\n<div class=\"legend\"><b>Triggers:</b>",
          f);
    for (int s = 0; s < CASIE_N_SUBTYPES; s++)
        fprintf(f, "<span class=\"chip st%d\">%s.%s</span>", s, casie_event_type_name(s), casie_subtype_name(s));
    fputs("</div>\n<div class=\"legend\"><b>Argument roles:</b>", f);
    for (int r = 0; r < CASIE_N_ROLES; r++)
        fprintf(f, "<span class=\"role\" style=\"--h:%d\">%s</span>", role_hue(r), casie_role_name(r));
    fputs("</div>\n<p class=\"meta\">Hover a highlighted span to see what it is; faint ones scored under 0.5.</p>\n",
          f);
    casie__html_filters(f);
}

char *casie_doc_to_html(const casie_doc *doc, int flags, size_t *len, casie_error *err) {
    if (flags & ~CASIE_HTML_PAGE) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_doc_to_html: unknown flags %#x", (unsigned)flags);
        return NULL;
    }
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    if (!f) goto nomem;
    int rc = 0;
    if (flags & CASIE_HTML_HEAD) render_head(f);
    if (doc) rc = render_doc(f, doc);
    if (flags & CASIE_HTML_TAIL) {
        casie__html_script(f);
        fputs("</body></html>\n", f);
    }
    if (ferror(f)) rc = -1;
    if (fclose(f) || rc) goto nomem;
    if (len) *len = n;
    return out;
nomem:
    free(out);
    casie__error(err, CASIE_ERR_NOMEM, -1, "casie_doc_to_html: out of memory");
    return NULL;
}
