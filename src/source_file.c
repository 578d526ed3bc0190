/*
 * source_file.c - reading a CASIE source file (casie_doc_from_source): the
 * <title>, <source> and <date> header fields and the <text> section, its
 * line breaks as spaces, trimmed.
 *
 * Not here: telling a source file from other input (doc_load.c).
 */
#include "internal.h"
#include "doc.h"

#include <stdio.h>
#include <string.h>

static const char *find_bytes(const char *s, const char *end, const char *what) {
    if (s >= end) return NULL;
    return memmem(s, (size_t)(end - s), what, strlen(what));
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Finds <tag ...> in [s, end) and its content up to </tag> (or the end of
 * the line when unclosed).  Sets [*b, *e) or returns 0. */
static int header_field(const char *s, const char *end, const char *tag, const char **b, const char **e) {
    char open[32], close[32];
    snprintf(open, sizeof open, "<%s", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *p = s;
    for (;;) {
        p = find_bytes(p, end, open);
        if (!p) return 0;
        const char *q = p + strlen(open);
        if (q < end && (*q == '>' || *q == ' ' || *q == '\t')) break;
        p = q;
    }
    const char *gt = memchr(p, '>', (size_t)(end - p));
    if (!gt) return 0;
    const char *cb = gt + 1;
    const char *ce = find_bytes(cb, end, close);
    if (!ce) {
        ce = memchr(cb, '\n', (size_t)(end - cb));
        if (!ce) ce = end;
    }
    while (cb < ce && is_space(*cb))
        cb++;
    while (ce > cb && is_space(ce[-1]))
        ce--;
    *b = cb;
    *e = ce;
    return 1;
}

static int set_field(char **out, const char *b, const char *e) {
    if (b == e) return CASIE_OK;
    char *t = NULL;
    size_t tl;
    int32_t *cpb = NULL, n;
    if (casie__utf8_normalize(b, (size_t)(e - b), &t, &tl, &cpb, &n)) return CASIE_ERR_NOMEM;
    free(cpb);
    *out = t;
    return CASIE_OK;
}

casie_doc *casie_doc_from_source(const char *bytes, size_t len, const char *name, casie_error *err) {
    const char *nm = name ? name : "<source>";
    casie_doc *doc = NULL;
    char *text = NULL;
    if (!bytes) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: no input", nm);
        return NULL;
    }
    if (len > CASIE_MAX_DOC_BYTES) {
        casie__error(err, CASIE_ERR_LIMIT, -1, "%s: %zu bytes is over the limit of %zu", nm, len,
                     (size_t)CASIE_MAX_DOC_BYTES);
        return NULL;
    }
    const char *end = bytes + len;
    const char *ts = find_bytes(bytes, end, "<text>");
    if (!ts) {
        casie__error(err, CASIE_ERR_PARSE, -1, "%s: no <text> section", nm);
        return NULL;
    }
    const char *tb = ts + 6, *te = end;
    for (const char *p = tb; (p = find_bytes(p, end, "</text>")); p++)
        te = p; /* the last one */
    if (!(doc = casie__doc_new())) goto nomem;
    if (name) {
        if (!(doc->id = casie__path_id(name))) goto nomem;
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        size_t bl = strlen(base);
        if (bl > 4 && !strcmp(base + bl - 4, ".txt") && !(doc->sourcefile = casie__strdup(base))) goto nomem;
    }
    const char *fb, *fe;
    if (header_field(bytes, ts, "title", &fb, &fe) && set_field(&doc->title, fb, fe)) goto nomem;
    if (header_field(bytes, ts, "source", &fb, &fe) && set_field(&doc->link, fb, fe)) goto nomem;
    if (header_field(bytes, ts, "date", &fb, &fe) && set_field(&doc->date, fb, fe)) goto nomem;

    /* Line breaks (\r\n, \n, \r) become one space each; then trim. */
    if (!(text = malloc((size_t)(te - tb) + 1))) goto nomem;
    size_t n = 0;
    for (const char *p = tb; p < te; p++) {
        if (*p == '\r') {
            if (p + 1 < te && p[1] == '\n') p++;
            text[n++] = ' ';
        } else if (*p == '\n')
            text[n++] = ' ';
        else
            text[n++] = *p;
    }
    size_t a = 0;
    while (a < n && is_space(text[a]))
        a++;
    while (n > a && is_space(text[n - 1]))
        n--;
    if (casie__doc_set_text(doc, text + a, n - a, err)) goto fail;
    free(text);
    return doc;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", nm);
fail:
    free(text);
    casie_doc_free(doc);
    return NULL;
}
