/*
 * doc_load.c - telling what a document's bytes are (casie_doc_detect_format:
 * JSON, a CASIE source file or plain text) and loading a file by it
 * (casie_doc_load).  `casie extract` and `casie tokenize` ask the same
 * function, so that the library and the CLI never read one input two ways.
 *
 * Not here: the readers of each format (doc_json_read.c, source_file.c,
 * doc.c).
 */
#include "internal.h"

#include <string.h>

/* Whether [p, end) starts with tag ("<title") ending there: '>' or a
 * space or tab before attributes follows it. */
static int starts_with_tag(const char *p, const char *end, const char *tag) {
    size_t n = strlen(tag);
    if ((size_t)(end - p) <= n || memcmp(p, tag, n)) return 0;
    return p[n] == '>' || p[n] == ' ' || p[n] == '\t';
}

int casie_doc_detect_format(const char *bytes, size_t len, const char *name) {
    static const char *const SOURCE_TAGS[] = {"<title", "<text", "<source", "<date"};
    size_t nl = name ? strlen(name) : 0;
    if (nl >= 5 && !strcmp(name + nl - 5, ".json")) return CASIE_INPUT_JSON;
    if (!bytes) return CASIE_INPUT_TEXT;
    const char *p = bytes, *end = bytes + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* a byte-order mark */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p < end && *p == '{') return CASIE_INPUT_JSON;
    for (size_t i = 0; i < sizeof SOURCE_TAGS / sizeof SOURCE_TAGS[0]; i++)
        if (starts_with_tag(p, end, SOURCE_TAGS[i])) return CASIE_INPUT_SOURCE;
    return CASIE_INPUT_TEXT;
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
    switch (casie_doc_detect_format(buf, len, path)) {
    case CASIE_INPUT_JSON:
        doc = casie_doc_from_json(buf, len, path, err);
        break;
    case CASIE_INPUT_SOURCE:
        doc = casie_doc_from_source(buf, len, path, err);
        break;
    default: {
        char *id = casie__path_id(path);
        if (!id)
            casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        else
            doc = casie_doc_from_text(buf, len, id, err);
        free(id);
    }
    }
    free(buf);
    if (doc && !doc->id && !(doc->id = casie__path_id(path))) {
        casie_doc_free(doc);
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        return NULL;
    }
    return doc;
}
