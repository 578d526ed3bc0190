/*
 * doc_load.c - loading a document from a file by what it holds: JSON, a
 * CASIE source file or plain text.
 *
 * Not here: the readers of each format (corpus_json.c, source_file.c,
 * doc.c).
 */
#include "internal.h"

#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

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
        char *id = casie__path_id(path);
        if (!id) casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        else doc = casie_doc_from_text(buf, len, id, err);
        free(id);
    }
    free(buf);
    if (doc && !doc->id && !(doc->id = casie__path_id(path))) {
        casie_doc_free(doc);
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        return NULL;
    }
    return doc;
}

