/*
 * serve_http.h - what `casie serve` answers to one HTTP request, without
 * sockets: cmd_serve.c feeds it what libmicrohttpd parsed, and the fuzzer
 * (fuzz/fuzz_http.c) calls it directly.  Not the HTTP parser (that is
 * libmicrohttpd's), not the connection handling.
 */
#ifndef CASIE_SERVE_HTTP_H
#define CASIE_SERVE_HTTP_H

#include <casie.h>
#include <stddef.h>

typedef struct serve_ctx {
    const casie_model *m; /* shared by all requests */
    size_t max_body;      /* 413 over this */
    char *labels;         /* the /v1/labels answer, from serve_labels_json */
} serve_ctx;

/* A request body as it arrives, chunk by chunk, bounded by max_body. */
typedef struct serve_body {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
    int too_big; /* over max_body: data dropped, the answer is 413 */
} serve_body;

/* Appends a chunk; past max_body drops everything and sets too_big.
 * Returns 0, or -1 when out of memory. */
int serve_body_append(serve_body *b, const char *chunk, size_t n, size_t max_body);
void serve_body_free(serve_body *b);

/* The answer to one request: method and url path as received, the
 * Content-Type header and the `format` query argument (each NULL when
 * absent).  Returns the HTTP status and sets *out (malloc'd JSON, free with
 * free) and *out_len; returns -1 with *out NULL when out of memory even for
 * an error answer.  Thread-safe on a shared ctx. */
int serve_respond(const serve_ctx *s, const char *method, const char *url, const char *content_type,
                  const char *format, const serve_body *body, char **out, size_t *out_len);

/* The /v1/labels answer for model m (malloc'd), or NULL when out of memory. */
char *serve_labels_json(const casie_model *m);

#endif
