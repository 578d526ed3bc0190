/*
 * corpus_json.c - reading and writing one document: CASIE annotation JSON,
 * plain JSON records, CASIE source files, and file loading by content.
 *
 * Reading repairs drifting spans (offsets that do not select their text) by
 * moving them to the nearest exact occurrence of the text (searched near the
 * stated offset first, in bounded time: REPAIR_WINDOW); spans that occur
 * nowhere are listed in doc->issues and dropped (an argument alone; an event
 * whose trigger is lost, and a hopper left empty).  CASIE_READ_TEXT_ONLY
 * skips the annotations altogether.  Scores read clamped to [0, 1]; strings
 * kept as C strings (names, info) may not hold a NUL.  Unknown fields of an
 * argument and of its role object are kept as JSON text (casie_arg.extra,
 * role_extra).  A missing realis reads as Actual.  Writing uses its own small
 * JSON emitter rather than jansson's so that numbers print in their shortest
 * form (0.8, not 0.80000000000000004) and key order is exactly the corpus's.
 *
 * Not here: directories and split files (corpus.c), the casie_doc object
 * itself (doc.c).
 */
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ======================================================================== */
/* JSON emitter                                                             */
/* ======================================================================== */

typedef struct jbuf {
    char *p;
    size_t n, cap;
    int nomem;      /* an allocation failed: the buffer is unusable */
    int pretty;     /* newlines and two-space indentation */
    int depth;      /* current nesting, for indentation */
    int need_comma; /* an element was written at this level */
} jbuf;

static void jb_put(jbuf *b, const char *s, size_t n) {
    if (b->nomem) return;
    if (casie__grow((void **)&b->p, &b->cap, b->n + n + 1, 1)) {
        b->nomem = 1;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void jb_puts(jbuf *b, const char *s) { jb_put(b, s, strlen(s)); }
static void jb_putc(jbuf *b, char c) { jb_put(b, &c, 1); }

static void jb_newline(jbuf *b) {
    if (!b->pretty) return;
    jb_putc(b, '\n');
    for (int i = 0; i < b->depth; i++) jb_put(b, "  ", 2);
}

/* Before an object member or array element. */
static void jb_sep(jbuf *b) {
    if (b->need_comma) jb_putc(b, ',');
    jb_newline(b);
    b->need_comma = 1;
}

static void jb_begin(jbuf *b, char c) {
    jb_putc(b, c);
    b->depth++;
    b->need_comma = 0;
}

static void jb_end(jbuf *b, char c) {
    b->depth--;
    if (b->need_comma) jb_newline(b); /* non-empty container */
    jb_putc(b, c);
    b->need_comma = 1;
}

/* Length of the valid UTF-8 sequence at s (shortest form, no surrogates,
 * <= U+10FFFF), or 0. */
static int utf8_valid_len(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if ((size_t)n > avail) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

/* A JSON string; bytes that are not valid UTF-8 are written as U+FFFD. */
static void jb_str(jbuf *b, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: start of pending bytes to copy verbatim */
    jb_putc(b, '"');
    while (i < n) {
        unsigned c = u[i];
        const char *esc = NULL;
        char tmp[8];
        if (c >= 0x80) {
            int k = utf8_valid_len(u + i, n - i);
            if (k) {
                i += (size_t)k;
                continue;
            }
            esc = "\xEF\xBF\xBD";
        } else if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c == '\b') esc = "\\b";
        else if (c == '\f') esc = "\\f";
        else if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        }
        if (!esc) {
            i++;
            continue;
        }
        jb_put(b, s + run, i - run);
        jb_puts(b, esc);
        run = ++i;
    }
    jb_put(b, s + run, n - run);
    jb_putc(b, '"');
}

static void jb_key(jbuf *b, const char *k) {
    jb_sep(b);
    jb_str(b, k, strlen(k));
    jb_put(b, b->pretty ? ": " : ":", b->pretty ? 2 : 1);
}

/* key: "value" for a plain value (a label name). */
static void jb_kv(jbuf *b, const char *k, const char *v) {
    jb_key(b, k);
    jb_str(b, v, strlen(v));
}

static void jb_int(jbuf *b, long long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", v);
    jb_puts(b, tmp);
}

/* The shortest decimal that reads back as v; always looks like a real. */
static void jb_real(jbuf *b, double v) {
    char tmp[40];
    if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        jb_puts(b, "null"); /* NaN and infinities are not JSON */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    if (!strpbrk(tmp, ".eE")) strcat(tmp, ".0");
    jb_puts(b, tmp);
}

/* The shortest decimal that reads back as the float f. */
static void jb_float(jbuf *b, float f) {
    char tmp[40];
    if (!isfinite(f)) {
        jb_puts(b, "null"); /* not JSON numbers; callers leave them out */
        return;
    }
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
        if ((float)strtod(tmp, NULL) == f) break;
    }
    if (!strpbrk(tmp, ".eE")) strcat(tmp, ".0");
    jb_puts(b, tmp);
}

static void jb_value(jbuf *b, json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        jb_begin(b, '{');
        json_object_foreach(v, k, x) {
            jb_key(b, k);
            jb_value(b, x);
        }
        jb_end(b, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        jb_begin(b, '[');
        json_array_foreach(v, i, x) {
            jb_sep(b);
            jb_value(b, x);
        }
        jb_end(b, ']');
        break;
    }
    case JSON_STRING: jb_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: jb_int(b, (long long)json_integer_value(v)); break;
    case JSON_REAL: jb_real(b, json_real_value(v)); break;
    case JSON_TRUE: jb_puts(b, "true"); break;
    case JSON_FALSE: jb_puts(b, "false"); break;
    default: jb_puts(b, "null"); break;
    }
}

/* ======================================================================== */
/* Reading JSON                                                             */
/* ======================================================================== */

/* Byte position of the first [ or { that nests deeper than max (outside
 * strings), or -1.  Runs before parsing so that no parser recursion happens
 * on hostile input. */
static long json_depth_exceeded(const char *s, size_t n, int max) {
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') in_str = 1;
        else if (c == '[' || c == '{') {
            if (++depth > max) return (long)i;
        } else if ((c == ']' || c == '}') && depth > 0) depth--;
    }
    return -1;
}

typedef struct reader {
    casie_doc *doc;
    const char *name; /* for messages */
    casie_error *err;
    size_t issues_cap;
    size_t full_searched; /* bytes read by span repair's whole-text searches */
} reader;

static int nomem(reader *r) { return casie__error(r->err, CASIE_ERR_NOMEM, -1, "%s: out of memory", r->name); }

/* A string member, or NULL when absent or null; error when another type or
 * when it holds a NUL (kept as a C string it would be silently cut). */
static int get_string(reader *r, json_t *obj, const char *key, const char *where, const char **out) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return CASIE_OK;
    if (!json_is_string(v))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s%s\"%s\" is not a string", r->name, where,
                            *where ? ": " : "", key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s%s\"%s\" contains a NUL character", r->name, where,
                            *where ? ": " : "", key);
    *out = json_string_value(v);
    return CASIE_OK;
}

static int dup_string(reader *r, json_t *obj, const char *key, const char *where, char **out) {
    const char *s;
    int rc = get_string(r, obj, key, where, &s);
    if (rc) return rc;
    if (s && !(*out = casie__strdup(s))) return nomem(r);
    return CASIE_OK;
}

/* Members of obj other than `known` (NULL-terminated), as compact JSON object
 * text in *out (NULL when there are none). */
static int extra_fields(reader *r, json_t *obj, const char *const *known, char **out) {
    const char *k;
    json_t *v;
    jbuf b = {0};
    *out = NULL;
    json_object_foreach(obj, k, v) {
        int skip = 0;
        for (int i = 0; known[i]; i++)
            if (!strcmp(k, known[i])) skip = 1;
        if (skip) continue;
        if (!b.p && !b.nomem) jb_begin(&b, '{');
        jb_key(&b, k);
        jb_value(&b, v);
    }
    if (!b.p && !b.nomem) return CASIE_OK;
    jb_end(&b, '}');
    if (b.nomem) {
        free(b.p);
        return nomem(r);
    }
    *out = b.p;
    return CASIE_OK;
}

static int add_issue(reader *r, long start, long end, const char *text) {
    casie_doc *d = r->doc;
    if (casie__grow((void **)&d->issues, &r->issues_cap, (size_t)d->n_issues + 1, sizeof *d->issues)) return nomem(r);
    casie_span_issue *is = &d->issues[d->n_issues];
    is->start = start < INT32_MIN ? INT32_MIN : start > INT32_MAX ? INT32_MAX : (int32_t)start;
    is->end = end < INT32_MIN ? INT32_MIN : end > INT32_MAX ? INT32_MAX : (int32_t)end;
    if (!(is->text = casie__strdup(text))) return nomem(r);
    d->n_issues++;
    return CASIE_OK;
}

/* Does [s, e) select exactly text (tlen bytes)? */
static int span_matches(const casie_doc *d, long s, long e, const char *text, size_t tlen) {
    if (s < 0 || e < s || e > d->n_cp) return 0;
    size_t b0 = (size_t)d->cp_byte[s], b1 = (size_t)d->cp_byte[e];
    return b1 - b0 == tlen && memcmp(d->text + b0, text, tlen) == 0;
}

/* Span repair looks for a span's text within REPAIR_WINDOW code points of
 * its stated start first (every drift in the CASIE corpus is within 2), and
 * only then in the whole text, while the document's whole-text searches
 * have read less than REPAIR_FULL_TEXTS times its text plus
 * REPAIR_FULL_BYTES; a span still unplaced is listed as an issue.  So
 * reading costs at most about 2 * REPAIR_WINDOW code points plus the span's
 * length per span, plus that budget, whatever the offsets say (the search
 * used to visit every occurrence in the text for every span: quadratic on
 * repetitive text). */
#define REPAIR_WINDOW 1024
#define REPAIR_FULL_TEXTS 16
#define REPAIR_FULL_BYTES ((size_t)16 << 20)

/* KMP failure function of t (tlen bytes, at most a document's) into fail (tlen,). */
static void kmp_table(const char *t, size_t tlen, uint32_t *fail) {
    fail[0] = 0;
    for (uint32_t i = 1, k = 0; i < tlen; i++) {
        while (k > 0 && t[i] != t[k]) k = fail[k - 1];
        if (t[i] == t[k]) k++;
        fail[i] = k;
    }
}

/* Start (code points) of the occurrence of t (tlen bytes, ncp code points)
 * nearest to s among those starting in code points [lo, hi], earlier on
 * ties; -1 when there is none.  One pass over the bytes from lo: an
 * occurrence of valid UTF-8 in valid UTF-8 begins and ends on code point
 * boundaries, so its start is the code points counted so far minus ncp. */
static long nearest_in(const casie_doc *d, long s, int32_t lo, int32_t hi, const char *t, size_t tlen, long ncp,
                       const uint32_t *fail) {
    long last = (long)hi + ncp < d->n_cp ? (long)hi + ncp : d->n_cp;
    const char *x = d->text;
    size_t b = (size_t)d->cp_byte[lo], b1 = (size_t)d->cp_byte[last], k = 0;
    long cp = lo, best = -1, best_dist = 0;
    for (; b < b1; b++) {
        cp += ((unsigned char)x[b] & 0xC0) != 0x80; /* code points in [0, b] */
        while (k > 0 && x[b] != t[k]) k = fail[k - 1];
        if (x[b] == t[k]) k++;
        if (k < tlen) continue;
        k = fail[k - 1];
        long at = cp - ncp, dist = at > s ? at - s : s - at;
        if (at > hi) break;
        if (best >= 0 && at > s && dist >= best_dist) break; /* only farther ones follow */
        if (best < 0 || dist < best_dist) {
            best = at;
            best_dist = dist;
        }
    }
    return best;
}

/* *at: the start (code points) of the occurrence of t nearest to s, earlier
 * on ties (see REPAIR_WINDOW); -1 when none was found. */
static int nearest_occurrence(reader *r, long s, const char *t, size_t tlen, long ncp, long *at) {
    const casie_doc *d = r->doc;
    *at = -1;
    if (tlen == 0 || tlen > d->text_len || ncp > d->n_cp) return CASIE_OK;
    uint32_t *fail = malloc(tlen * sizeof *fail);
    if (!fail) return nomem(r);
    kmp_table(t, tlen, fail);
    long c = s < 0 ? 0 : s > d->n_cp ? d->n_cp : s;
    int32_t lo = (int32_t)(c > REPAIR_WINDOW ? c - REPAIR_WINDOW : 0);
    int32_t hi = (int32_t)(c + REPAIR_WINDOW < d->n_cp ? c + REPAIR_WINDOW : d->n_cp);
    *at = nearest_in(d, s, lo, hi, t, tlen, ncp, fail);
    /* one in the window is nearer than any outside it; else a whole pass */
    if (*at < 0 && (lo > 0 || hi + ncp < d->n_cp) &&
        r->full_searched + d->text_len <= REPAIR_FULL_TEXTS * d->text_len + REPAIR_FULL_BYTES) {
        r->full_searched += d->text_len;
        *at = nearest_in(d, s, 0, d->n_cp, t, tlen, ncp, fail);
    }
    free(fail);
    return CASIE_OK;
}

static long clamp_long(json_int_t v) {
    if (v > INT32_MAX) return (long)INT32_MAX + 1; /* out of range either way */
    if (v < INT32_MIN) return (long)INT32_MIN - 1;
    return (long)v;
}

/* Reads the span of obj (startOffset, endOffset, text).  Returns 1 when the
 * span is usable (possibly repaired), 0 when it was dropped (recorded as an
 * issue), < 0 on error. */
static int read_span(reader *r, json_t *obj, const char *where, int32_t *start, int32_t *end, char **text) {
    casie_doc *d = r->doc;
    json_t *js = json_object_get(obj, "startOffset"), *je = json_object_get(obj, "endOffset");
    json_t *jt = json_object_get(obj, "text");
    if (!json_is_integer(js) || !json_is_integer(je))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: startOffset/endOffset missing or not integers",
                            r->name, where);
    long s = clamp_long(json_integer_value(js)), e = clamp_long(json_integer_value(je));
    if (jt && !json_is_null(jt) && !json_is_string(jt))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: \"text\" is not a string", r->name, where);
    if (!jt || json_is_null(jt)) { /* no text to check: the offsets must be right */
        if (s < 0 || e < s || e > d->n_cp)
            return casie__error(r->err, CASIE_ERR_SCHEMA, -1,
                                "%s: %s: span [%ld, %ld) outside the text (%ld code points)", r->name, where, s, e,
                                (long)d->n_cp);
        *start = (int32_t)s;
        *end = (int32_t)e;
        if (!(*text = casie__doc_substr(d, *start, *end))) return nomem(r);
        return 1;
    }
    const char *t = json_string_value(jt);
    size_t tlen = json_string_length(jt);
    if (!span_matches(d, s, e, t, tlen)) {
        long ncp = 0;
        for (size_t i = 0; i < tlen; i++) ncp += ((unsigned char)t[i] & 0xC0) != 0x80;
        long at;
        int rc = nearest_occurrence(r, s, t, tlen, ncp, &at);
        if (rc) return rc;
        if (at < 0) {
            rc = add_issue(r, s, e, t);
            return rc ? rc : 0;
        }
        s = at;
        e = at + ncp;
        d->n_repaired++;
    }
    *start = (int32_t)s;
    *end = (int32_t)e;
    if (!(*text = casie__strndup(t, tlen))) return nomem(r);
    return 1;
}

/* Optional "score": a confidence, clamped to [0, 1] (1e39 would be an
 * infinite float, written back as no JSON at all); -1, not set, when absent,
 * not a number or negative. */
static float get_score(json_t *obj) {
    json_t *v = json_object_get(obj, "score");
    double x = json_is_number(v) ? json_number_value(v) : -1.0;
    return x >= 0 ? (x < 1 ? (float)x : 1.0f) : -1.0f;
}

static const char *const ARG_KNOWN[] = {"index", "startOffset", "endOffset", "text", "type", "role", "score", NULL};
static const char *const ROLE_KNOWN[] = {"type", NULL};

static int read_argument(reader *r, json_t *ja, const char *ev_where, casie_event *ev) {
    char where[160];
    int rc;
    const char *s;
    json_t *idx = json_object_get(ja, "index");
    snprintf(where, sizeof where, "%s argument %s", ev_where, json_is_string(idx) ? json_string_value(idx) : "");
    if (!json_is_object(ja))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: not an object", r->name, ev_where);
    casie_arg *a = &ev->args[ev->n_args++];
    memset(a, 0, sizeof *a);
    a->score = get_score(ja);
    if ((rc = get_string(r, ja, "type", where, &s))) return rc;
    if ((a->entity = casie_entity_from_name(s)) < 0)
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: unknown entity type \"%s\"", r->name, where,
                            s ? s : "(missing)");
    json_t *role = json_object_get(ja, "role");
    if (json_is_string(role)) {
        if ((rc = get_string(r, ja, "role", where, &s))) return rc;
    } else if (json_is_object(role)) {
        if ((rc = get_string(r, role, "type", where, &s))) return rc;
        if ((rc = extra_fields(r, role, ROLE_KNOWN, &a->role_extra))) return rc;
    } else s = NULL;
    if ((a->role = casie_role_from_name(s)) < 0)
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: unknown role \"%s\"", r->name, where,
                            s ? s : "(missing)");
    if (json_is_string(idx) && !(a->index = casie__strdup(json_string_value(idx)))) return nomem(r);
    if ((rc = extra_fields(r, ja, ARG_KNOWN, &a->extra))) return rc;
    rc = read_span(r, ja, where, &a->start, &a->end, &a->text);
    if (rc < 0) return rc;
    if (rc == 0) { /* dropped */
        free(a->index);
        free(a->extra);
        free(a->role_extra);
        ev->n_args--;
    }
    return CASIE_OK;
}

static void free_event_fields(casie_event *e) {
    for (int j = 0; j < e->n_args; j++) {
        free(e->args[j].text);
        free(e->args[j].index);
        free(e->args[j].extra);
        free(e->args[j].role_extra);
    }
    free(e->args);
    free(e->text);
    free(e->index);
    free(e->nugget_index);
    memset(e, 0, sizeof *e);
}

static int read_event(reader *r, json_t *je, casie_hopper *h) {
    char where[128];
    const char *s;
    int rc;
    if (!json_is_object(je))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: an event is not an object", r->name);
    json_t *idx = json_object_get(je, "index");
    snprintf(where, sizeof where, "event %s", json_is_string(idx) ? json_string_value(idx) : "");
    casie_event *ev = &h->events[h->n_events++];
    memset(ev, 0, sizeof *ev);
    if ((rc = get_string(r, je, "subtype", where, &s))) return rc;
    if ((ev->subtype = casie_subtype_from_name(s)) < 0)
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: unknown subtype \"%s\"", r->name, where,
                            s ? s : "(missing)");
    if ((rc = get_string(r, je, "realis", where, &s))) return rc;
    ev->realis = s ? casie_realis_from_name(s) : CASIE_REALIS_ACTUAL;
    if (ev->realis < 0)
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: unknown realis \"%s\"", r->name, where, s);
    if (json_is_string(idx) && !(ev->index = casie__strdup(json_string_value(idx)))) return nomem(r);
    json_t *nug = json_object_get(je, "nugget");
    if (!json_is_object(nug))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: \"nugget\" missing or not an object", r->name,
                            where);
    ev->score = get_score(nug);
    if ((rc = dup_string(r, nug, "index", where, &ev->nugget_index))) return rc;
    rc = read_span(r, nug, where, &ev->start, &ev->end, &ev->text);
    if (rc < 0) return rc;
    if (rc == 0) { /* an unrepairable trigger: drop the event */
        free_event_fields(ev);
        h->n_events--;
        return CASIE_OK;
    }
    json_t *args = json_object_get(je, "argument");
    if (!args || json_is_null(args)) return CASIE_OK;
    if (!json_is_array(args))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: \"argument\" is not an array", r->name, where);
    size_t n = json_array_size(args);
    if (n && !(ev->args = calloc(n, sizeof *ev->args))) return nomem(r);
    for (size_t i = 0; i < n; i++)
        if ((rc = read_argument(r, json_array_get(args, i), where, ev))) return rc;
    return CASIE_OK;
}

static int read_events(reader *r, json_t *ce) {
    casie_doc *d = r->doc;
    int rc;
    if (!ce || json_is_null(ce)) return CASIE_OK;
    if (!json_is_object(ce))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: \"cyberevent\" is not an object", r->name);
    json_t *hops = json_object_get(ce, "hopper");
    if (!hops || json_is_null(hops)) return CASIE_OK;
    if (!json_is_array(hops))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: \"hopper\" is not an array", r->name);
    size_t nh = json_array_size(hops);
    if (nh && !(d->hoppers = calloc(nh, sizeof *d->hoppers))) return nomem(r);
    for (size_t i = 0; i < nh; i++) {
        json_t *jh = json_array_get(hops, i);
        if (!json_is_object(jh))
            return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: hopper %zu is not an object", r->name, i);
        json_t *evs = json_object_get(jh, "events");
        if (!json_is_array(evs))
            return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: hopper %zu: \"events\" missing or not an array",
                                r->name, i);
        casie_hopper *h = &d->hoppers[d->n_hoppers++];
        size_t ne = json_array_size(evs);
        if (ne && !(h->events = calloc(ne, sizeof *h->events))) return nomem(r);
        for (size_t j = 0; j < ne; j++)
            if ((rc = read_event(r, json_array_get(evs, j), h))) return rc;
        if (h->n_events == 0) { /* empty, or every event dropped */
            free(h->events);
            h->events = NULL;
            d->n_hoppers--;
        }
    }
    return CASIE_OK;
}

static int read_info(reader *r, json_t *info) {
    casie_doc *d = r->doc;
    int rc;
    if (!info || json_is_null(info)) return CASIE_OK;
    if (!json_is_object(info))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: \"info\" is not an object", r->name);
    if ((rc = dup_string(r, info, "title", "info", &d->title)) ||
        (rc = dup_string(r, info, "date", "info", &d->date)) ||
        (rc = dup_string(r, info, "type", "info", &d->info_type)) ||
        (rc = dup_string(r, info, "link", "info", &d->link)))
        return rc;
    return CASIE_OK;
}

/* "10012.txt" -> "10012" */
static char *id_from_sourcefile(const char *sf) {
    size_t n = strlen(sf);
    if (n > 4 && !strcmp(sf + n - 4, ".txt")) n -= 4;
    return casie__strndup(sf, n);
}

static int read_root(reader *r, json_t *root, int flags) {
    casie_doc *d = r->doc;
    int rc;
    const char *sf;
    if ((rc = get_string(r, root, "sourcefile", "", &sf))) return rc;
    if (sf && !(d->sourcefile = casie__strdup(sf))) return nomem(r);
    json_t *jid = json_object_get(root, "id");
    if (json_is_string(jid)) d->id = casie__strdup(json_string_value(jid));
    else if (json_is_integer(jid)) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(jid));
        d->id = casie__strdup(tmp);
    } else if (jid && !json_is_null(jid))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: \"id\" is neither a string nor an integer", r->name);
    else if (sf) d->id = id_from_sourcefile(sf);
    if (((jid && !json_is_null(jid)) || sf) && !d->id) return nomem(r); /* a null id is no id */

    json_t *text = json_object_get(root, "content");
    const char *key = "content";
    if (!text) {
        text = json_object_get(root, "text");
        key = "text";
    }
    if (!text) return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: no \"content\" or \"text\"", r->name);
    if (!json_is_string(text))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: \"%s\" is not a string", r->name, key);
    if ((rc = casie__doc_set_text(d, json_string_value(text), json_string_length(text), r->err))) return rc;
    if ((rc = read_info(r, json_object_get(root, "info")))) return rc;
    if (flags & CASIE_READ_TEXT_ONLY) return CASIE_OK;
    return read_events(r, json_object_get(root, "cyberevent"));
}

casie_doc *casie_doc_from_json(const char *json, size_t len, const char *name, casie_error *err) {
    return casie_doc_from_json_opts(json, len, name, 0, err);
}

casie_doc *casie_doc_from_json_opts(const char *json, size_t len, const char *name, int flags, casie_error *err) {
    const char *nm = name ? name : "<json>";
    if (!json) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: no input", nm);
        return NULL;
    }
    if (flags & ~CASIE_READ_TEXT_ONLY) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: unknown reading flags %#x", nm, (unsigned)flags);
        return NULL;
    }
    if (len > CASIE_MAX_DOC_BYTES) {
        casie__error(err, CASIE_ERR_LIMIT, -1, "%s: JSON of %zu bytes is over the limit of %zu", nm, len,
                     (size_t)CASIE_MAX_DOC_BYTES);
        return NULL;
    }
    size_t skip = 0;
    if (len >= 3 && !memcmp(json, "\xEF\xBB\xBF", 3)) skip = 3; /* a byte-order mark */
    long deep = json_depth_exceeded(json + skip, len - skip, CASIE_MAX_JSON_DEPTH);
    if (deep >= 0) {
        casie__error(err, CASIE_ERR_LIMIT, deep + (long)skip, "%s: JSON nested deeper than %d levels (at byte %ld)", nm,
                     CASIE_MAX_JSON_DEPTH, deep + (long)skip);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(json + skip, len - skip, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (!root) {
        long pos = (long)je.position + (long)skip;
        casie__error(err, CASIE_ERR_PARSE, pos, "%s: JSON syntax error at line %d, column %d (position %ld): %s", nm,
                     je.line, je.column, pos, je.text);
        return NULL;
    }
    casie_doc *doc = NULL;
    if (!json_is_object(root)) {
        casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: not a JSON object", nm);
        goto fail;
    }
    if (!(doc = casie__doc_new())) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", nm);
        goto fail;
    }
    reader r = {doc, nm, err, 0, 0};
    if (read_root(&r, root, flags)) goto fail;
    json_decref(root);
    return doc;
fail:
    json_decref(root);
    casie_doc_free(doc);
    return NULL;
}

/* ======================================================================== */
/* Writing JSON                                                             */
/* ======================================================================== */

/* Writes the members of the JSON object text `extra` into the open object,
 * except keys in `known`. */
static int write_extra(jbuf *b, const char *extra, const char *const *known, casie_error *err) {
    if (!extra) return CASIE_OK;
    json_error_t je;
    json_t *o = json_loads(extra, JSON_ALLOW_NUL, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "extra fields are not a JSON object: %.60s", extra);
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int skip = 0;
        for (int i = 0; known[i]; i++)
            if (!strcmp(k, known[i])) skip = 1;
        if (skip) continue;
        jb_key(b, k);
        jb_value(b, v);
    }
    json_decref(o);
    return CASIE_OK;
}

/* The number in an index like "E12" / "T3" with the given letter, or 0.
 * Numbers of ten digits or more are not counted (generated indices start
 * after the largest counted one, and must not overflow). */
#define MAX_INDEX_NUMBER 999999999L
static long index_number(const char *idx, char letter) {
    if (!idx || idx[0] != letter || !idx[1]) return 0;
    char *end;
    long v = strtol(idx + 1, &end, 10);
    return *end == 0 && v > 0 && v <= MAX_INDEX_NUMBER ? v : 0;
}

static void write_index(jbuf *b, const char *idx, char letter, long *next) {
    char tmp[32];
    if (!idx) {
        snprintf(tmp, sizeof tmp, "%c%ld", letter, (*next)++);
        idx = tmp;
    }
    jb_kv(b, "index", idx);
}

static void write_span(jbuf *b, const casie_doc *doc, int32_t s, int32_t e, const char *text) {
    jb_key(b, "startOffset");
    jb_int(b, s);
    jb_key(b, "endOffset");
    jb_int(b, e);
    jb_key(b, "text");
    if (text) jb_str(b, text, strlen(text));
    else if (doc->text && doc->cp_byte && s >= 0 && s <= e && e <= doc->n_cp)
        jb_str(b, doc->text + doc->cp_byte[s], (size_t)(doc->cp_byte[e] - doc->cp_byte[s]));
    else jb_str(b, "", 0);
}

static int write_event(jbuf *b, const casie_doc *doc, const casie_event *e, int flags, long *next_e, long *next_t,
                       casie_error *err) {
    const char *dn = doc->id ? doc->id : "document";
    if (!casie_subtype_name(e->subtype) || !casie_realis_name(e->realis))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: event with subtype %d, realis %d", dn, e->subtype,
                            e->realis);
    jb_begin(b, '{');
    write_index(b, e->index, 'E', next_e);
    jb_kv(b, "type", casie_event_type_name(e->subtype));
    jb_kv(b, "subtype", casie_subtype_name(e->subtype));
    jb_kv(b, "realis", casie_realis_name(e->realis));
    jb_key(b, "nugget");
    jb_begin(b, '{');
    write_index(b, e->nugget_index, 'T', next_t);
    write_span(b, doc, e->start, e->end, e->text);
    if ((flags & CASIE_JSON_SCORES) && e->score >= 0 && isfinite(e->score)) {
        jb_key(b, "score");
        jb_float(b, e->score);
    }
    jb_end(b, '}');
    if (e->n_args > 0) {
        jb_key(b, "argument");
        jb_begin(b, '[');
        for (int i = 0; i < e->n_args; i++) {
            const casie_arg *a = &e->args[i];
            if (!casie_role_name(a->role) || !casie_entity_name(a->entity))
                return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: argument with role %d, entity type %d", dn,
                                    a->role, a->entity);
            jb_sep(b);
            jb_begin(b, '{');
            write_index(b, a->index, 'T', next_t);
            write_span(b, doc, a->start, a->end, a->text);
            jb_kv(b, "type", casie_entity_name(a->entity));
            jb_key(b, "role");
            jb_begin(b, '{');
            jb_kv(b, "type", casie_role_name(a->role));
            if (write_extra(b, a->role_extra, ROLE_KNOWN, err)) return err ? err->code : CASIE_ERR_INVALID_ARG;
            jb_end(b, '}');
            if (write_extra(b, a->extra, ARG_KNOWN, err)) return err ? err->code : CASIE_ERR_INVALID_ARG;
            if ((flags & CASIE_JSON_SCORES) && a->score >= 0 && isfinite(a->score)) {
                jb_key(b, "score");
                jb_float(b, a->score);
            }
            jb_end(b, '}');
        }
        jb_end(b, ']');
    }
    jb_end(b, '}');
    return CASIE_OK;
}

char *casie_doc_to_json(const casie_doc *doc, int flags, size_t *len, casie_error *err) {
    if (!doc) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "no document");
        return NULL;
    }
    jbuf b = {0};
    b.pretty = !(flags & CASIE_JSON_COMPACT);
    /* Generated indices continue after the largest present ones. */
    long next_e = 1, next_t = 1;
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int i = 0; i < doc->hoppers[h].n_events; i++) {
            const casie_event *e = &doc->hoppers[h].events[i];
            long v = index_number(e->index, 'E');
            if (v >= next_e) next_e = v + 1;
            v = index_number(e->nugget_index, 'T');
            if (v >= next_t) next_t = v + 1;
            for (int j = 0; j < e->n_args; j++)
                if ((v = index_number(e->args[j].index, 'T')) >= next_t) next_t = v + 1;
        }

    jb_begin(&b, '{');
    jb_key(&b, "content");
    jb_str(&b, doc->text ? doc->text : "", doc->text ? doc->text_len : 0);
    if (doc->sourcefile) jb_kv(&b, "sourcefile", doc->sourcefile);
    else if (doc->id) {
        size_t n = strlen(doc->id);
        char *sf = malloc(n + 5);
        if (!sf) b.nomem = 1;
        else {
            memcpy(sf, doc->id, n);
            memcpy(sf + n, ".txt", 5);
            jb_key(&b, "sourcefile");
            jb_str(&b, sf, n + 4);
            free(sf);
        }
    }
    jb_key(&b, "info");
    jb_begin(&b, '{');
    if (doc->title) jb_kv(&b, "title", doc->title);
    if (doc->date) jb_kv(&b, "date", doc->date);
    jb_kv(&b, "type", doc->info_type ? doc->info_type : "text");
    if (doc->link) jb_kv(&b, "link", doc->link);
    jb_end(&b, '}');
    jb_key(&b, "cyberevent");
    jb_begin(&b, '{');
    jb_key(&b, "hopper");
    jb_begin(&b, '[');
    for (int h = 0; h < doc->n_hoppers; h++) {
        const casie_hopper *hop = &doc->hoppers[h];
        jb_sep(&b);
        jb_begin(&b, '{');
        jb_key(&b, "index");
        jb_int(&b, h);
        jb_kv(&b, "relation", "Same");
        jb_key(&b, "events");
        jb_begin(&b, '[');
        for (int i = 0; i < hop->n_events; i++) {
            jb_sep(&b);
            if (write_event(&b, doc, &hop->events[i], flags, &next_e, &next_t, err)) {
                free(b.p);
                return NULL;
            }
        }
        jb_end(&b, ']');
        jb_end(&b, '}');
    }
    jb_end(&b, ']');
    jb_end(&b, '}');
    jb_end(&b, '}');
    if (b.nomem) {
        free(b.p);
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory writing JSON", doc->id ? doc->id : "document");
        return NULL;
    }
    if (len) *len = b.n;
    return b.p;
}

/* ======================================================================== */
/* Source files                                                             */
/* ======================================================================== */

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
    while (cb < ce && is_space(*cb)) cb++;
    while (ce > cb && is_space(ce[-1])) ce--;
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

/* "path/to/10012.txt" -> "10012" */
static char *base_id(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return casie__strndup(base, n);
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
    for (const char *p = tb; (p = find_bytes(p, end, "</text>")); p++) te = p; /* the last one */
    if (!(doc = casie__doc_new())) goto nomem;
    if (name) {
        if (!(doc->id = base_id(name))) goto nomem;
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
        } else if (*p == '\n') text[n++] = ' ';
        else text[n++] = *p;
    }
    size_t a = 0;
    while (a < n && is_space(text[a])) a++;
    while (n > a && is_space(text[n - 1])) n--;
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

/* ======================================================================== */
/* Loading a file                                                           */
/* ======================================================================== */

static int starts_with_tag(const char *p, const char *end, const char *tag) {
    size_t n = strlen(tag);
    if ((size_t)(end - p) <= n || memcmp(p, tag, n)) return 0;
    return p[n] == '>' || p[n] == ' ' || p[n] == '\t';
}

casie_doc *casie_doc_load(const char *path, casie_error *err) {
    if (!path) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "no path");
        return NULL;
    }
    size_t len;
    char *buf = casie__read_file(path, &len, err);
    if (!buf) return NULL;
    casie_doc *doc = NULL;
    size_t pl = strlen(path);
    const char *p = buf, *end = buf + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    while (p < end && is_space(*p)) p++;
    if (pl >= 5 && !strcmp(path + pl - 5, ".json")) {
        doc = casie_doc_from_json(buf, len, path, err);
    } else if (starts_with_tag(p, end, "<title") || starts_with_tag(p, end, "<text") ||
               starts_with_tag(p, end, "<source") || starts_with_tag(p, end, "<date")) {
        doc = casie_doc_from_source(buf, len, path, err);
    } else {
        char *id = base_id(path);
        if (!id) casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        else doc = casie_doc_from_text(buf, len, id, err);
        free(id);
    }
    free(buf);
    if (doc && !doc->id && !(doc->id = base_id(path))) {
        casie_doc_free(doc);
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        return NULL;
    }
    return doc;
}
