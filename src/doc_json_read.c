/*
 * doc_json_read.c - reading one document from JSON: CASIE annotation JSON and
 * plain JSON records ({"id": ..., "text": ...}).
 *
 * Reading repairs drifting spans (offsets that do not select their text) by
 * moving them to the nearest exact occurrence of the text (span_repair.c);
 * spans that occur nowhere are listed in doc->issues and dropped (an
 * argument alone; an event whose trigger is lost, and a hopper left empty).
 * CASIE_READ_TEXT_ONLY skips the annotations altogether.  Scores read
 * clamped to [0, 1]; strings kept as C strings (names, info) may not hold a
 * NUL.  Unknown fields of an argument and of its role object are kept as
 * JSON text (casie_arg.extra, role_extra).  A missing realis reads as
 * Actual.
 *
 * Not here: writing documents (doc_json_write.c), source files
 * (source_file.c), loading a file by its content (doc_load.c), directories
 * and split files (corpus.c), the casie_doc object itself (doc.c).
 */
#include "internal.h"
#include "category.h"
#include "doc.h"
#include "doc_json.h"
#include "json_write.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Byte position of the first [ or { that nests deeper than max (outside
 * strings), or -1.  Runs before parsing so that no parser recursion happens
 * on hostile input. */
static long json_depth_exceeded(const char *s, size_t n, int max) {
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"')
            in_str = 1;
        else if (c == '[' || c == '{') {
            if (++depth > max) return (long)i;
        } else if ((c == ']' || c == '}') && depth > 0)
            depth--;
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
    casie__jw b = {0};
    size_t n_known = 0;
    *out = NULL;
    for (int i = 0; known[i]; i++)
        n_known += json_object_get(obj, known[i]) != NULL;
    if (json_object_size(obj) == n_known) return CASIE_OK; /* nothing else */
    casie__jw_begin(&b, '{');
    casie__jw_members(&b, obj, known);
    casie__jw_end(&b, '}');
    return (*out = casie__jw_finish(&b, NULL)) ? CASIE_OK : nomem(r);
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
    if (!casie__span_matches(d, s, e, t, tlen)) {
        long ncp = 0;
        for (size_t i = 0; i < tlen; i++)
            ncp += ((unsigned char)t[i] & 0xC0) != 0x80;
        long at;
        int rc = casie__span_nearest(d, s, t, tlen, ncp, &r->full_searched, &at);
        if (rc) return nomem(r);
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

const char *const casie__arg_known[] = {"index", "startOffset", "endOffset", "text", "type", "role", "score", NULL};
const char *const casie__role_known[] = {"type", NULL};

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
    } else
        s = NULL;
    if ((a->role = casie_role_from_name(s)) < 0)
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: %s: unknown role \"%s\"", r->name, where,
                            s ? s : "(missing)");
    if (json_is_object(role)) {
        casie__role_category_read(role, a); /* takes its category fields out of the role object */
        if ((rc = extra_fields(r, role, casie__role_known, &a->role_extra))) return rc;
    }
    if (json_is_string(idx) && !(a->index = casie__strdup(json_string_value(idx)))) return nomem(r);
    if ((rc = extra_fields(r, ja, casie__arg_known, &a->extra))) return rc;
    rc = read_span(r, ja, where, &a->start, &a->end, &a->text);
    if (rc < 0) return rc;
    if (rc == 0) { /* dropped */
        casie__arg_free(a);
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
    if (json_is_integer(jid)) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(jid));
        d->id = casie__strdup(tmp);
        d->id_is_integer = 1;
    } else if (json_is_string(jid)) {
        const char *id; /* a NUL would cut the id, and the name of its output file */
        if ((rc = get_string(r, root, "id", "", &id))) return rc;
        d->id = casie__strdup(id);
    } else if (jid && !json_is_null(jid))
        return casie__error(r->err, CASIE_ERR_SCHEMA, -1, "%s: \"id\" is neither a string nor an integer", r->name);
    else if (sf)
        d->id = id_from_sourcefile(sf);
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
