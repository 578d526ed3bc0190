/* fuzz_http.c - `casie serve`'s request handling (serve_route and
 * serve_respond in tools/serve_http.c) without sockets.  The input is
 *   METHOD SP URL [?query] LF content-type LF chunk-size byte, then the body
 * (the URL and content type may be anything; a missing line is an absent
 * header).  The body arrives in chunks of the given size, as libmicrohttpd
 * hands it over, under a small --max-body (512 bytes: scripts/fuzz.sh runs
 * it with -max_len=1024) so that 413 is reached too.  Checks
 * that every answer is JSON-shaped with a known status.  The model is the
 * tiny one (as fuzz_jsonl): the handling does not depend on the weights, and
 * the default model's extraction would take most of each execution
 * (fuzz_extract covers it).  Also: the Content-Type parser on the content
 * type line, the access-log escaping of the request line (no byte under
 * 0x20 or over 0x7e out, never past its buffer), and --max-memory's 413 (a
 * small budget for odd chunk sizes: bodies over 256 bytes). */
#include "../tools/serve_http.h"
#include "fuzz_common.h"

static serve_ctx g_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *tiny = getenv("CASIE_TINY_MODEL");
    g_ctx.m = fuzz_load_model(tiny && *tiny ? tiny : CASIE_TINY_MODEL);
    g_ctx.max_body = 512;                                  /* under -max_len, so that a longer body is refused */
    g_ctx.max_memory = serve_extract_memory(g_ctx.m, 256); /* bodies over 256 bytes: 413 */
    if (!(g_ctx.labels = serve_labels_json(g_ctx.m))) abort();
    return 0;
}

/* Next line of [*p, end) as a NUL-terminated copy (NULL at the end). */
static char *next_line(const uint8_t **p, const uint8_t *end) {
    if (*p >= end) return NULL;
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, *p, n);
    s[n] = 0;
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    char *line = next_line(&p, end), *ct = next_line(&p, end);
    size_t chunk = p < end ? (size_t)*p++ + 1 : 1;
    const char *method = "GET", *url = line ? line : "/";
    char *sp = line ? strchr(line, ' ') : NULL;
    if (sp) *sp = 0, method = line, url = sp + 1;
    /* the path and the format argument, as libmicrohttpd would split them */
    char *q = strchr(url, '?');
    const char *format = NULL;
    if (q) {
        *q++ = 0;
        for (char *a = strtok(q, "&"); a; a = strtok(NULL, "&"))
            if (!strncmp(a, "format=", 7))
                format = a + 7;
            else if (!strcmp(a, "format"))
                format = "";
    }
    serve_body body = {0};
    for (const uint8_t *b = p; b < end; b += chunk) {
        size_t n = (size_t)(end - b) < chunk ? (size_t)(end - b) : chunk;
        if (serve_body_append(&body, (const char *)b, n, g_ctx.max_body)) abort();
    }
    char logline[64];
    serve_log_escape(logline, (size_t)(chunk % 60) + 4, url, 1024);
    for (const char *c = logline; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) abort();
    int kind = serve_content_type(ct && *ct ? ct : NULL);
    if (kind < SERVE_CT_NONE || kind > SERVE_CT_BAD) abort();
    serve_ctx ctx = g_ctx;
    if (!(chunk & 1)) ctx.max_memory = 0; /* half the inputs without the budget */
    char *out = NULL;
    size_t len = 0;
    /* what the connection thread answers at once, or the worker */
    int status = serve_route(&ctx, method, url, ct && *ct ? ct : NULL, format, &body, &out, &len);
    if (!status) {
        if (!strcmp(url, "/healthz") || !strcmp(url, "/v1/labels") || strcmp(method, "POST") ||
            (ctx.max_memory && serve_extract_memory(ctx.m, body.len) > ctx.max_memory))
            abort(); /* these never need a worker */
        status = serve_respond(&ctx, method, url, ct && *ct ? ct : NULL, format, &body, &out, &len);
    }
    if (status != 200 && status != 400 && status != 404 && status != 405 && status != 413 && status != 415 &&
        status != 500)
        abort();
    if (!out || len < 2 || out[0] != '{' || (status != 200 && !strstr(out, "\"error\""))) abort();
    free(out);
    serve_body_free(&body);
    free(line);
    free(ct);
    return 0;
}
