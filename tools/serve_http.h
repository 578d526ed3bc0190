/*
 * serve_http.h - what `casie serve` answers to one HTTP request, without
 * sockets: cmd_serve.c feeds it what libmicrohttpd parsed, and the fuzzer
 * (fuzz/fuzz_http.c) calls it directly.  Not the HTTP parser (that is
 * libmicrohttpd's), not the connection handling.
 */
#ifndef CASIE_SERVE_HTTP_H
#define CASIE_SERVE_HTTP_H

#include <casie.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct serve_ctx {
    const casie_model *m; /* shared by all requests */
    size_t max_body;      /* 413 over this */
    char *labels;         /* the /v1/labels answer, from serve_labels_json */
    size_t max_memory;    /* 413 when serve_extract_memory of the body is over this (0: no bound) */
    size_t max_pieces;    /* 413 when serve_extract_pieces of the body is over this (0: no bound) */
    int threads;          /* the workers: an extraction's encoder takes threads / running (at least 1) */
    atomic_int *running;  /* extractions running, this one included (NULL: one) */
} serve_ctx;

/* The most memory extracting a body of n bytes with model m takes (bytes),
 * its JSON answer included: casie_extract_memory, as measured on the worst
 * inputs found (docs/HARDENING.md). */
size_t serve_extract_memory(const casie_model *m, size_t n);

/* An upper bound of the work of extracting a body of n bytes, counted
 * before extracting in a pass over the bytes: its code points other than
 * white space.  Each token, and each word piece an encoder reads, holds at
 * least one (a run of punctuation is a piece per character, the slowest
 * input found); a JSON body's escapes and names only add to the count. */
size_t serve_extract_pieces(const char *data, size_t n);

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
int serve_respond(const serve_ctx *s, const char *method, const char *url, const char *content_type, const char *format,
                  const serve_body *body, char **out, size_t *out_len);

/* The answers that need no extraction (every endpoint but POST /v1/extract,
 * and that one's 400, 413 and 415 decided from its headers alone), so that
 * the server gives them at once instead of queueing them behind extractions.
 * Returns the status with *out set as serve_respond does, 0 when the request
 * needs extraction (serve_respond then answers it), or -1 when out of memory.
 * Thread-safe on a shared ctx. */
int serve_route(const serve_ctx *s, const char *method, const char *url, const char *content_type, const char *format,
                const serve_body *body, char **out, size_t *out_len);

/* What a Content-Type header names: SERVE_CT_TEXT (text/plain),
 * SERVE_CT_JSON (application/json), SERVE_CT_OTHER (another media type, or a
 * charset other than UTF-8 or US-ASCII), SERVE_CT_BAD (not a media type with
 * parameters, RFC 9110 8.3) or SERVE_CT_NONE (NULL). */
enum { SERVE_CT_NONE, SERVE_CT_TEXT, SERVE_CT_JSON, SERVE_CT_OTHER, SERVE_CT_BAD };
int serve_content_type(const char *content_type);

/* Copies s (at most max bytes of it) into dst (cap bytes, NUL-terminated)
 * for a log line: '"', '\\', control bytes and bytes over 0x7e become \xHH,
 * so a request cannot forge or colour log lines.  Cut short (with "...")
 * rather than overflow. */
void serve_log_escape(char *dst, size_t cap, const char *s, size_t max);

/* The /v1/labels answer for model m (malloc'd), or NULL when out of memory. */
char *serve_labels_json(const casie_model *m);

#endif
