/*
 * serve_http.c - the request-to-response logic of `casie serve` (see
 * serve_http.h): routing, content types, body limits, UTF-8 checking,
 * extraction and the JSON error answers.  No sockets and no libmicrohttpd
 * here, so that the fuzzer reaches all of it as a function.
 */
#include "serve_http.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int serve_body_append(serve_body *b, const char *chunk, size_t n, size_t max_body) {
    if (!b->too_big && (n > max_body || b->len > max_body - n)) {
        b->too_big = 1;
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
    }
    if (b->too_big || !n) return 0;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *nb = realloc(b->data, nc);
        if (!nb) return -1;
        b->data = nb;
        b->cap = nc;
    }
    memcpy(b->data + b->len, chunk, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

void serve_body_free(serve_body *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int is_tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Skips a token at *p; its length (0: none). */
static size_t token(const char **p) {
    const char *b = *p;
    while (is_tchar((unsigned char)**p))
        (*p)++;
    return (size_t)(*p - b);
}

static void ows(const char **p) {
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

int serve_content_type(const char *ct) {
    if (!ct) return SERVE_CT_NONE;
    const char *p = ct;
    ows(&p);
    const char *type = p;
    if (!token(&p) || *p++ != '/' || !token(&p)) return SERVE_CT_BAD;
    size_t tl = (size_t)(p - type);
    int kind = tl == 10 && !strncasecmp(type, "text/plain", 10)         ? SERVE_CT_TEXT
               : tl == 16 && !strncasecmp(type, "application/json", 16) ? SERVE_CT_JSON
                                                                        : SERVE_CT_OTHER;
    for (;;) { /* parameters: ; name=value, the value a token or a quoted string */
        ows(&p);
        if (!*p) return kind;
        if (*p++ != ';') return SERVE_CT_BAD;
        ows(&p);
        if (!*p || *p == ';') continue; /* an empty parameter */
        const char *name = p;
        size_t nl = token(&p);
        if (!nl || *p++ != '=') return SERVE_CT_BAD;
        char val[16]; /* the value unquoted, when it is short enough to be a charset we take */
        size_t vl = 0;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\\') p++; /* a quoted pair */
                unsigned char c = (unsigned char)*p;
                if (!c || (c < 0x20 && c != '\t') || c == 0x7f) return SERVE_CT_BAD;
                if (vl < sizeof val) val[vl] = (char)c;
                vl++;
            }
            p++;
        } else {
            const char *v = p;
            if (!(vl = token(&p))) return SERVE_CT_BAD;
            if (vl < sizeof val) memcpy(val, v, vl);
        }
        if (nl == 7 && !strncasecmp(name, "charset", 7)) {
            int utf8 = vl < sizeof val &&
                       ((vl == 5 && !strncasecmp(val, "utf-8", 5)) || (vl == 8 && !strncasecmp(val, "us-ascii", 8)));
            if (!utf8) kind = SERVE_CT_OTHER;
        }
    }
}

void serve_log_escape(char *dst, size_t cap, const char *s, size_t max) {
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    if (cap < 4) {
        if (cap) dst[0] = 0;
        return;
    }
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        int plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
        if (k + (plain ? 1 : 4) > cap - 4) { /* no room for this and "..." after it */
            memcpy(dst + k, "...", 3);
            k += 3;
            break;
        }
        if (plain)
            dst[k++] = (char)c;
        else
            dst[k++] = '\\', dst[k++] = 'x', dst[k++] = hex[c >> 4], dst[k++] = hex[c & 15];
    }
    dst[k] = 0;
}

static int answer(int status, char *body, size_t len, char **out, size_t *out_len) {
    *out = body;
    *out_len = body ? len : 0;
    return body ? status : -1;
}

/* {"error": msg} and a newline. */
static int answer_error(int status, const char *msg, char **out, size_t *out_len) {
    size_t n = 0;
    char *rec = casie_error_to_json(NULL, msg, &n);
    char *b = rec ? realloc(rec, n + 2) : NULL;
    if (!b) {
        casie_free(rec);
        return answer(status, NULL, 0, out, out_len);
    }
    memcpy(b + n, "\n", 2);
    return answer(status, b, n + 1, out, out_len);
}

static int answer_copy(const char *s, char **out, size_t *out_len) {
    char *b = strdup(s);
    return answer(200, b, b ? strlen(b) : 0, out, out_len);
}

size_t serve_extract_memory(const casie_model *m, size_t n) { return casie_extract_memory(m, n); }

size_t serve_extract_pieces(const char *data, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)data[i];
        /* continuation bytes belong to the code point before them */
        k += (c & 0xc0) != 0x80 && !(c == ' ' || (c >= '\t' && c <= '\r'));
    }
    return k;
}

/* What POST /v1/extract can be told from its headers and size: an error
 * answer, or 0 when it is to be extracted. */
static int extract_check(const serve_ctx *s, const char *ct, const char *fmt, const serve_body *body, char **out,
                         size_t *out_len) {
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "stix"))
        return answer_error(400, "unsupported format: use format=json or format=stix", out, out_len);
    if (body->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body over the limit of %zu bytes", s->max_body);
        return answer_error(413, msg, out, out_len);
    }
    if (s->max_memory && serve_extract_memory(s->m, body->len) > s->max_memory) {
        char msg[160];
        snprintf(msg, sizeof msg, "extracting %zu bytes may take %zu MB, over the server's --max-memory of %zu MB",
                 body->len, serve_extract_memory(s->m, body->len) >> 20, s->max_memory >> 20);
        return answer_error(413, msg, out, out_len);
    }
    size_t pieces = s->max_pieces && body->data ? serve_extract_pieces(body->data, body->len) : 0;
    if (pieces > s->max_pieces) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "the body holds %zu characters other than white space, so up to as many word pieces to extract, "
                 "over the server's --max-pieces of %zu",
                 pieces, s->max_pieces);
        return answer_error(413, msg, out, out_len);
    }
    int kind = serve_content_type(ct);
    if (kind == SERVE_CT_BAD)
        return answer_error(415, "malformed Content-Type: use text/plain or application/json", out, out_len);
    if (kind != SERVE_CT_TEXT && kind != SERVE_CT_JSON)
        return answer_error(415, "Content-Type must be text/plain or application/json (charset UTF-8)", out, out_len);
    return 0;
}

/* The JSON object js (len bytes) with the document's "id" as its first
 * member, a number when the request gave one (malloc'd, its length in
 * *out_len), or NULL when out of memory. */
static char *with_id(const char *js, size_t len, const casie_doc *d, size_t *out_len) {
    json_t *jid = d->id_is_integer ? json_integer(strtoll(d->id, NULL, 10)) : json_string(d->id);
    char *id = jid ? json_dumps(jid, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(jid);
    size_t n = id ? strlen(id) : 0;
    char *o = id && len && js[0] == '{' ? malloc(len + n + 8) : NULL;
    if (!o) {
        free(id);
        return NULL;
    }
    size_t k = (size_t)sprintf(o, "{\"id\":%s", id);
    free(id);
    if (len > 2 || js[1] != '}') o[k++] = ',';
    memcpy(o + k, js + 1, len - 1);
    k += len - 1;
    o[k] = 0;
    *out_len = k;
    return o;
}

static int extract(const serve_ctx *s, const char *ct, const char *fmt, const serve_body *body, char **out,
                   size_t *out_len) {
    int is_text = serve_content_type(ct) == SERVE_CT_TEXT;
    const char *data = body->data ? body->data : "";
    if (casie_utf8_check(data, body->len) >= 0) return answer_error(400, "the body is not valid UTF-8", out, out_len);
    casie_error err = {0};
    casie_doc *d = is_text ? casie_doc_from_text(data, body->len, "request", &err)
                           : casie_doc_from_json_opts(data, body->len, "request body", CASIE_READ_TEXT_ONLY, &err);
    if (!d) return answer_error(err.code == CASIE_ERR_NOMEM ? 500 : 400, err.message, out, out_len);
    /* the cores no other extraction holds go into this one's encoder (the
     * same answer whatever their number) */
    casie_extract_params p = casie_extract_default_params();
    int running = s->running ? atomic_load(s->running) : 1;
    p.threads = s->threads / (running > 1 ? running : 1);
    p.threads = p.threads < 1 ? 1 : p.threads > 64 ? 64 : p.threads;
    if (casie_extract(s->m, d, &p, &err)) {
        casie_doc_free(d);
        return answer_error(500, err.message, out, out_len);
    }
    size_t len = 0;
    int stix = fmt && !strcmp(fmt, "stix");
    char *js = stix ? casie_doc_to_stix(d, CASIE_JSON_COMPACT, &len, &err)
                    : casie_doc_to_json(d, CASIE_JSON_SCORES | CASIE_JSON_COMPACT, &len, &err);
    /* a JSON request's "id" comes back first in the CASIE JSON answer */
    if (js && !stix && !is_text && d->id && !d->sourcefile) {
        char *with = with_id(js, len, d, &len);
        casie_free(js);
        js = with;
    }
    casie_doc_free(d);
    if (!js) return answer_error(500, err.message[0] ? err.message : "out of memory", out, out_len);
    /* casie_free and free are the same allocator (the header's casie_free is free) */
    return answer(200, js, len, out, out_len);
}

int serve_route(const serve_ctx *s, const char *method, const char *url, const char *content_type, const char *format,
                const serve_body *body, char **out, size_t *out_len) {
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!strcmp(url, "/healthz"))
        return get ? answer_copy("{\"status\":\"ok\"}\n", out, out_len) : answer_error(405, "use GET", out, out_len);
    if (!strcmp(url, "/v1/labels"))
        return get ? answer_copy(s->labels, out, out_len) : answer_error(405, "use GET", out, out_len);
    if (!strcmp(url, "/v1/extract"))
        return post ? extract_check(s, content_type, format, body, out, out_len)
                    : answer_error(405, "use POST", out, out_len);
    return answer_error(404, "no such endpoint: use POST /v1/extract, GET /v1/labels, GET /healthz", out, out_len);
}

int serve_respond(const serve_ctx *s, const char *method, const char *url, const char *content_type, const char *format,
                  const serve_body *body, char **out, size_t *out_len) {
    int st = serve_route(s, method, url, content_type, format, body, out, out_len);
    return st ? st : extract(s, content_type, format, body, out, out_len);
}

char *serve_labels_json(const casie_model *m) {
    char *meta = casie_model_metadata(m);
    size_t cap = 8192 + (meta ? strlen(meta) : 0);
    char *b = malloc(cap);
    if (!b) {
        casie_free(meta);
        return NULL;
    }
    size_t k = (size_t)snprintf(b, cap, "{\"subtypes\":[");
    for (int i = 0; i < CASIE_N_SUBTYPES; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s{\"type\":\"%s\",\"subtype\":\"%s\"}", i ? "," : "",
                              casie_event_type_name(i), casie_subtype_name(i));
    k += (size_t)snprintf(b + k, cap - k, "],\"realis\":[");
    for (int i = 0; i < CASIE_N_REALIS; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s\"%s\"", i ? "," : "", casie_realis_name(i));
    k += (size_t)snprintf(b + k, cap - k, "],\"roles\":[");
    for (int i = 0; i < CASIE_N_ROLES; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s\"%s\"", i ? "," : "", casie_role_name(i));
    k += (size_t)snprintf(b + k, cap - k, "],\"entity_types\":[");
    for (int i = 0; i < CASIE_N_ENTITY_TYPES; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s\"%s\"", i ? "," : "", casie_entity_name(i));
    snprintf(b + k, cap - k, "],\"model\":%s,\"version\":\"%s\"}\n", meta ? meta : "{}", casie_version());
    casie_free(meta);
    return b;
}
