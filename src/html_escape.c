/*
 * html_escape.c - the one escaper of the HTML page's text: & < > " ' as
 * entities, attributes included (render_html.c and render_summary.c both
 * write through it).
 */
#include "internal.h"
#include "render.h"

#include <stdio.h>

void casie__html_escape(FILE *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(s[i], f);
        }
    }
}
