/*
 * doc.c - the casie_doc object: text with code-point offsets, its tokens
 * and events as plain data, and freeing all of it.  It calls nothing above
 * it: the analysis that fills the tokens is a stage of its own.
 *
 * Not here: reading or writing JSON (doc_json_read.c, doc_json_write.c),
 * analysing (tokenize.c: casie_doc_analyze).
 */
#include "internal.h"
#include "doc.h"

#include <string.h>

casie_doc *casie__doc_new(void) { return calloc(1, sizeof(casie_doc)); }

int casie__doc_set_text(casie_doc *doc, const char *bytes, size_t len, casie_error *err) {
    char *text = NULL;
    size_t tlen = 0;
    int32_t *cpb = NULL, ncp = 0;
    if (len > CASIE_MAX_DOC_BYTES)
        return casie__error(err, CASIE_ERR_LIMIT, -1, "%s: text of %zu bytes is over the limit of %zu",
                            doc->id ? doc->id : "document", len, (size_t)CASIE_MAX_DOC_BYTES);
    int rc = casie__utf8_normalize(bytes ? bytes : "", bytes ? len : 0, &text, &tlen, &cpb, &ncp);
    if (rc) return casie__error(err, rc, -1, "%s: out of memory decoding text", doc->id ? doc->id : "document");
    free(doc->text);
    free(doc->cp_byte);
    free(doc->sents);
    free(doc->tokens);
    doc->sents = NULL;
    doc->tokens = NULL;
    doc->n_sents = doc->n_tokens = 0;
    doc->text = text;
    doc->text_len = tlen;
    doc->cp_byte = cpb;
    doc->n_cp = ncp;
    return CASIE_OK;
}

casie_doc *casie_doc_from_text(const char *bytes, size_t len, const char *id, casie_error *err) {
    casie_doc *doc = casie__doc_new();
    if (!doc) goto nomem;
    if (id && !(doc->id = casie__strdup(id))) goto nomem;
    if (casie__doc_set_text(doc, bytes, len, err)) {
        casie_doc_free(doc);
        return NULL;
    }
    if (casie__text_meta(doc)) goto nomem;
    return doc;
nomem:
    casie_doc_free(doc);
    casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", id ? id : "document");
    return NULL;
}

uint32_t casie__doc_cp(const casie_doc *doc, int32_t i) {
    int adv;
    return casie__utf8_get(doc->text + doc->cp_byte[i], &adv);
}

char *casie__doc_substr(const casie_doc *doc, int32_t start, int32_t end) {
    if (start < 0) start = 0;
    if (end > doc->n_cp) end = doc->n_cp;
    if (end < start) end = start;
    int32_t b0 = doc->cp_byte[start], b1 = doc->cp_byte[end];
    return casie__strndup(doc->text + b0, (size_t)(b1 - b0));
}

void casie__arg_free(casie_arg *a) {
    free(a->text);
    free(a->index);
    free(a->extra);
    free(a->role_extra);
}

void casie__event_clear_args(casie_event *e) {
    for (int j = 0; j < e->n_args; j++)
        casie__arg_free(&e->args[j]);
    free(e->args);
    e->args = NULL;
    e->n_args = 0;
}

void casie__event_free(casie_event *e) {
    casie__event_clear_args(e);
    free(e->text);
    free(e->index);
    free(e->nugget_index);
    memset(e, 0, sizeof *e);
}

void casie_doc_clear_events(casie_doc *doc) {
    if (!doc) return;
    for (int h = 0; h < doc->n_hoppers; h++) {
        for (int i = 0; i < doc->hoppers[h].n_events; i++)
            casie__event_free(&doc->hoppers[h].events[i]);
        free(doc->hoppers[h].events);
    }
    free(doc->hoppers);
    doc->hoppers = NULL;
    doc->n_hoppers = 0;
}

void casie_doc_free(casie_doc *doc) {
    if (!doc) return;
    casie_doc_clear_events(doc);
    for (int i = 0; i < doc->n_issues; i++)
        free(doc->issues[i].text);
    free(doc->issues);
    free(doc->id);
    free(doc->sourcefile);
    free(doc->title);
    free(doc->date);
    free(doc->link);
    free(doc->info_type);
    free(doc->text);
    free(doc->cp_byte);
    free(doc->sents);
    free(doc->tokens);
    free(doc);
}
