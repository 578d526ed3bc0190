/*
 * doc_meta.c - the title and date of a plain-text article, read from its
 * first lines, so that a report made from plain text is titled and dated as
 * one made from a CASIE source file or a JSON record is.
 *
 * The title is the first non-empty line when it is a headline: at most 200
 * bytes, followed by a line break and more text, not ending in a comma or a
 * colon.  The date is the first date written in the first three non-empty
 * lines: 2026-03-04, 2026/03/04, "March 4, 2026", "Mar. 4 2026" or "4 March
 * 2026" (an English month name or its three-letter abbreviation); it is
 * stored as the corpus writes dates, "2026_03_04".  Both are left NULL when
 * the text has none; the text itself is not changed (the headline stays the
 * first line of the text, where the taggers read it).
 *
 * Not here: source files and JSON records (doc_json_read.c), which carry
 * their title and date in their own fields.
 */
#include "internal.h"
#include "doc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const MONTHS[12] = {"january", "february", "march",     "april",   "may",      "june",
                                       "july",    "august",   "september", "october", "november", "december"};

/* The month (1..12) named by the word w[0, n), or 0. */
static int month_of(const char *w, size_t n) {
    for (int m = 0; m < 12; m++) {
        size_t full = strlen(MONTHS[m]);
        if ((n == full || n == 3 || (n == 4 && m == 8)) && n <= full && !strncasecmp(w, MONTHS[m], n)) return m + 1;
    }
    return 0;
}

static int valid(int y, int m, int d) {
    static const int DAYS[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > DAYS[m - 1]) return 0;
    return !(m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
}

/* Reads a number of 1..max digits at *p (advancing it); -1 if none. */
static int number(const char **p, const char *end, int max) {
    int v = 0, n = 0;
    while (*p < end && isdigit((unsigned char)**p) && n < max)
        v = v * 10 + (**p - '0'), (*p)++, n++;
    if (!n || (*p < end && isdigit((unsigned char)**p))) return -1;
    return v;
}

static void skip_space(const char **p, const char *end) {
    while (*p < end && (**p == ' ' || **p == '\t' || **p == ',' || **p == '.'))
        (*p)++;
}

/* A date starting at p (before end): 1 and y, m, d when there is one. */
static int date_at(const char *p, const char *end, const char *line, int *y, int *m, int *d) {
    if (p > line && isalnum((unsigned char)p[-1])) return 0;
    const char *q = p;
    if (isdigit((unsigned char)*q)) {
        int a = number(&q, end, 4);
        if (a >= 1900 && q < end && (*q == '-' || *q == '/')) { /* 2026-03-04 */
            char sep = *q++;
            *y = a, *m = number(&q, end, 2);
            if (q >= end || *q != sep) return 0;
            q++;
            *d = number(&q, end, 2);
            return valid(*y, *m, *d);
        }
        if (a < 1 || a > 31) return 0; /* 4 March 2026 */
        skip_space(&q, end);
        const char *w = q;
        while (q < end && isalpha((unsigned char)*q))
            q++;
        if (!(*m = month_of(w, (size_t)(q - w)))) return 0;
        skip_space(&q, end);
        *d = a, *y = number(&q, end, 4);
        return valid(*y, *m, *d);
    }
    const char *w = q; /* March 4, 2026 */
    while (q < end && isalpha((unsigned char)*q))
        q++;
    if (!(*m = month_of(w, (size_t)(q - w)))) return 0;
    skip_space(&q, end);
    *d = number(&q, end, 2);
    skip_space(&q, end);
    *y = number(&q, end, 4);
    return valid(*y, *m, *d);
}

int casie__text_meta(casie_doc *doc) {
    const char *t = doc->text, *end = doc->text + doc->text_len;
    const char *p = t;
    int lines = 0;
    while (p < end && lines < 3) {
        while (p < end && (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t'))
            p++;
        if (p >= end) break;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const char *le = eol;
        while (le > p && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
            le--;
        if (lines == 0 && !doc->title && eol < end && le - p <= 200 && le[-1] != ',' && le[-1] != ':') {
            const char *rest = eol;
            while (rest < end && isspace((unsigned char)*rest))
                rest++;
            if (rest < end && !(doc->title = casie__strndup(p, (size_t)(le - p)))) return CASIE_ERR_NOMEM;
        }
        for (const char *q = p; q < le && !doc->date; q++) {
            int y, m, d;
            if (date_at(q, le, p, &y, &m, &d)) {
                char buf[16];
                snprintf(buf, sizeof buf, "%04d_%02d_%02d", y, m, d);
                if (!(doc->date = casie__strdup(buf))) return CASIE_ERR_NOMEM;
            }
        }
        p = eol;
        lines++;
    }
    return CASIE_OK;
}
