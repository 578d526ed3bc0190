/*
 * doc_json_write.c - writing one document as CASIE annotation JSON
 * (casie_doc_to_json): the corpus's key order, shortest numbers, indices
 * generated after the largest present ones, and the unknown fields read
 * with the document (casie_arg.extra, role_extra) written back in place.
 *
 * Not here: the JSON writer itself (json_write.c), reading (doc_json_read.c),
 * STIX (stix.c).
 */
#include "internal.h"
#include "category.h"
#include "doc_json.h"
#include "json_write.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A role's members when the argument has a category: the reader took the
 * category and its confidence out, and they are written from the argument. */
static const char *const ROLE_CATEGORY_KNOWN[] = {"type", "subtype", "CAPEC-Meta", "confidence", NULL};

/* Writes the members of the JSON object text `extra` into the open object,
 * except keys in `known`. */
static int write_extra(casie__jw *b, const char *extra, const char *const *known, casie_error *err) {
    if (!extra) return CASIE_OK;
    json_error_t je;
    json_t *o = json_loads(extra, JSON_ALLOW_NUL, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "extra fields are not a JSON object: %.60s", extra);
    }
    casie__jw_members(b, o, known);
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

static void write_index(casie__jw *b, const char *idx, char letter, long *next) {
    char tmp[32];
    if (!idx) {
        snprintf(tmp, sizeof tmp, "%c%ld", letter, (*next)++);
        idx = tmp;
    }
    casie__jw_kv(b, "index", idx);
}

static void write_span(casie__jw *b, const casie_doc *doc, int32_t s, int32_t e, const char *text) {
    casie__jw_key(b, "startOffset");
    casie__jw_int(b, s);
    casie__jw_key(b, "endOffset");
    casie__jw_int(b, e);
    casie__jw_key(b, "text");
    if (text)
        casie__jw_str(b, text, strlen(text));
    else if (doc->text && doc->cp_byte && s >= 0 && s <= e && e <= doc->n_cp)
        casie__jw_str(b, doc->text + doc->cp_byte[s], (size_t)(doc->cp_byte[e] - doc->cp_byte[s]));
    else
        casie__jw_str(b, "", 0);
}

static int write_event(casie__jw *b, const casie_doc *doc, const casie_event *e, int flags, long *next_e, long *next_t,
                       casie_error *err) {
    const char *dn = doc->id ? doc->id : "document";
    if (!casie_subtype_name(e->subtype) || !casie_realis_name(e->realis))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: event with subtype %d, realis %d", dn, e->subtype,
                            e->realis);
    casie__jw_begin(b, '{');
    write_index(b, e->index, 'E', next_e);
    casie__jw_kv(b, "type", casie_event_type_name(e->subtype));
    casie__jw_kv(b, "subtype", casie_subtype_name(e->subtype));
    casie__jw_kv(b, "realis", casie_realis_name(e->realis));
    casie__jw_key(b, "nugget");
    casie__jw_begin(b, '{');
    write_index(b, e->nugget_index, 'T', next_t);
    write_span(b, doc, e->start, e->end, e->text);
    if ((flags & CASIE_JSON_SCORES) && e->score >= 0 && isfinite(e->score)) {
        casie__jw_key(b, "score");
        casie__jw_float(b, e->score);
    }
    casie__jw_end(b, '}');
    if (e->n_args > 0) {
        casie__jw_key(b, "argument");
        casie__jw_begin(b, '[');
        for (int i = 0; i < e->n_args; i++) {
            const casie_arg *a = &e->args[i];
            if (!casie_role_name(a->role) || !casie_entity_name(a->entity))
                return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: argument with role %d, entity type %d", dn,
                                    a->role, a->entity);
            casie__jw_sep(b);
            casie__jw_begin(b, '{');
            write_index(b, a->index, 'T', next_t);
            write_span(b, doc, a->start, a->end, a->text);
            casie__jw_kv(b, "type", casie_entity_name(a->entity));
            casie__jw_key(b, "role");
            casie__jw_begin(b, '{');
            casie__jw_kv(b, "type", casie_role_name(a->role));
            const char *cat_key = a->category ? casie__category_key(casie_role_category(a->role)) : NULL;
            if (cat_key) { /* the argument's category, where the corpus has it */
                casie__jw_kv(b, cat_key, a->category);
                if (a->category_score >= 0 && a->category_score <= 1) {
                    casie__jw_key(b, "confidence");
                    casie__jw_real(b, a->category_score);
                }
            }
            if (write_extra(b, a->role_extra, cat_key ? ROLE_CATEGORY_KNOWN : casie__role_known, err))
                return err ? err->code : CASIE_ERR_INVALID_ARG;
            casie__jw_end(b, '}');
            if (write_extra(b, a->extra, casie__arg_known, err)) return err ? err->code : CASIE_ERR_INVALID_ARG;
            if ((flags & CASIE_JSON_SCORES) && a->score >= 0 && isfinite(a->score)) {
                casie__jw_key(b, "score");
                casie__jw_float(b, a->score);
            }
            casie__jw_end(b, '}');
        }
        casie__jw_end(b, ']');
    }
    casie__jw_end(b, '}');
    return CASIE_OK;
}

char *casie_doc_to_json(const casie_doc *doc, int flags, size_t *len, casie_error *err) {
    if (!doc) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "no document");
        return NULL;
    }
    casie__jw b = {0};
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

    casie__jw_begin(&b, '{');
    casie__jw_key(&b, "content");
    casie__jw_str(&b, doc->text ? doc->text : "", doc->text ? doc->text_len : 0);
    if (doc->sourcefile)
        casie__jw_kv(&b, "sourcefile", doc->sourcefile);
    else if (doc->id) {
        size_t n = strlen(doc->id);
        char *sf = malloc(n + 5);
        if (!sf)
            b.nomem = 1;
        else {
            memcpy(sf, doc->id, n);
            memcpy(sf + n, ".txt", 5);
            casie__jw_key(&b, "sourcefile");
            casie__jw_str(&b, sf, n + 4);
            free(sf);
        }
    }
    casie__jw_key(&b, "info");
    casie__jw_begin(&b, '{');
    if (doc->title) casie__jw_kv(&b, "title", doc->title);
    if (doc->date) casie__jw_kv(&b, "date", doc->date);
    casie__jw_kv(&b, "type", doc->info_type ? doc->info_type : "text");
    if (doc->link) casie__jw_kv(&b, "link", doc->link);
    casie__jw_end(&b, '}');
    casie__jw_key(&b, "cyberevent");
    casie__jw_begin(&b, '{');
    casie__jw_key(&b, "hopper");
    casie__jw_begin(&b, '[');
    for (int h = 0; h < doc->n_hoppers; h++) {
        const casie_hopper *hop = &doc->hoppers[h];
        casie__jw_sep(&b);
        casie__jw_begin(&b, '{');
        casie__jw_key(&b, "index");
        casie__jw_int(&b, h);
        casie__jw_kv(&b, "relation", "Same");
        casie__jw_key(&b, "events");
        casie__jw_begin(&b, '[');
        for (int i = 0; i < hop->n_events; i++) {
            casie__jw_sep(&b);
            if (write_event(&b, doc, &hop->events[i], flags, &next_e, &next_t, err)) {
                free(b.p);
                return NULL;
            }
        }
        casie__jw_end(&b, ']');
        casie__jw_end(&b, '}');
    }
    casie__jw_end(&b, ']');
    casie__jw_end(&b, '}');
    casie__jw_end(&b, '}');
    char *out = casie__jw_finish(&b, len);
    if (!out) casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory writing JSON", doc->id ? doc->id : "document");
    return out;
}
