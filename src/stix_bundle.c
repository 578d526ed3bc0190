/*
 * stix_bundle.c - one STIX 2.1 bundle of many documents (casie_stix_*), and
 * casie_doc_to_stix, the bundle of one.
 *
 * Each document added makes its report and objects (stix.c); an object made
 * again by a later document is the one already there (ids are UUIDv5 over
 * the content: a CVE id, a catalogue group), and the later report refers to
 * it too.  The bundle lists the reports in the order added, then the other
 * objects in order of discovery; its id is UUIDv5 over the reports' ids.
 *
 * Not here: what a document's objects are (stix.c, stix_vuln.c); ids, names
 * and objects (stix_build.c).
 */
#include "stix_build.h"

#include <jansson.h>
#include <string.h>

struct casie_stix {
    builder b;       /* the objects of every document, and the catalogue */
    json_t *reports; /* array: one per document, in the order added */
};

casie_stix *casie_stix_new(const casie_groups *groups, casie_error *err) {
    casie_stix *s = calloc(1, sizeof *s);
    if (s) {
        s->b.objects = json_array(), s->b.seen = json_object(), s->reports = json_array();
        s->b.groups = groups, s->b.conf = -1, s->b.scope = "";
    }
    if (!s || !s->b.objects || !s->b.seen || !s->reports) {
        casie_stix_free(s);
        casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory starting a STIX bundle");
        return NULL;
    }
    return s;
}

void casie_stix_free(casie_stix *s) {
    if (!s) return;
    json_decref(s->b.objects);
    json_decref(s->b.seen);
    json_decref(s->reports);
    free(s);
}

int casie_stix_add(casie_stix *s, const casie_doc *doc, casie_error *err) {
    if (!s || !doc) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_stix_add: no bundle or no document");
    builder *b = &s->b;
    json_t *report = NULL;
    b->refs = json_array(), b->in_refs = json_object(), b->failed = 0;
    int rc = b->refs && b->in_refs ? casie__stix_document(b, doc, &report) : -1;
    const char *rid = report ? json_string_value(json_object_get(report, "id")) : NULL;
    /* the same document twice: one report (its objects are the same ones) */
    if (rc == 0 && rid && !json_object_get(b->seen, rid) &&
        (json_object_set(b->seen, rid, report) || json_array_append(s->reports, report)))
        rc = -1;
    json_decref(report);
    json_decref(b->refs);
    json_decref(b->in_refs);
    b->refs = b->in_refs = NULL;
    if (rc)
        return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory writing STIX", doc->id ? doc->id : "document");
    return CASIE_OK;
}

char *casie_stix_write(const casie_stix *s, int flags, size_t *len, casie_error *err) {
    if (!s) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_stix_write: no bundle"), NULL;
    char bid[ID_MAX], *out = NULL, *key = NULL;
    size_t n = json_array_size(s->reports);
    if (n == 1) { /* as it always was: the bundle of one report is named by it */
        casie__stix_id(bid, "bundle", json_string_value(json_object_get(json_array_get(s->reports, 0), "id")));
    } else {
        key = casie__stix_strf("%s", "bundle");
        for (size_t i = 0; i < n && key; i++) {
            char *k =
                casie__stix_strf("%s|%s", key, json_string_value(json_object_get(json_array_get(s->reports, i), "id")));
            free(key);
            key = k;
        }
        if (!key) goto nomem;
        casie__stix_id(bid, "bundle", key);
    }
    json_t *bundle = json_pack("{s:s,s:s}", "type", "bundle", "id", bid), *all = json_array();
    if (!bundle || !all || json_array_extend(all, s->reports) || json_array_extend(all, s->b.objects) ||
        (json_array_size(all) && json_object_set(bundle, "objects", all))) {
        json_decref(bundle), json_decref(all);
        goto nomem;
    }
    out = json_dumps(bundle, JSON_PRESERVE_ORDER | (flags & CASIE_JSON_COMPACT ? JSON_COMPACT : JSON_INDENT(2)));
    json_decref(bundle), json_decref(all);
    if (!out) goto nomem;
    free(key);
    if (len) *len = strlen(out);
    return out;
nomem:
    free(key);
    casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory writing STIX");
    return NULL;
}

char *casie_doc_to_stix(const casie_doc *doc, int flags, size_t *len, casie_error *err) {
    if (!doc) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_doc_to_stix: no document");
        return NULL;
    }
    casie_stix *s = casie_stix_new(NULL, err);
    char *out = s && casie_stix_add(s, doc, err) == CASIE_OK ? casie_stix_write(s, flags, len, err) : NULL;
    casie_stix_free(s);
    return out;
}
