/* fuzz_http.c - `casie serve`'s request handling (serve_respond in
 * tools/serve_http.c) without sockets.  The input is
 *   METHOD SP URL [?query] LF content-type LF chunk-size byte, then the body
 * (the URL and content type may be anything; a missing line is an absent
 * header).  The body arrives in chunks of the given size, as libmicrohttpd
 * hands it over, under a small --max-body so that 413 is reached too.  Checks
 * that every answer is JSON-shaped with a known status.  The model is the
 * tiny one (as fuzz_jsonl): the handling does not depend on the weights, and
 * the default model's extraction would take most of each execution
 * (fuzz_extract covers it). */
#include "../tools/serve_http.h"
#include "fuzz_common.h"

static serve_ctx g_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *tiny = getenv("CASIE_TINY_MODEL");
    g_ctx.m = fuzz_load_model(tiny && *tiny ? tiny : CASIE_TINY_MODEL);
    g_ctx.max_body = 4096;
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
            if (!strncmp(a, "format=", 7)) format = a + 7;
            else if (!strcmp(a, "format")) format = "";
    }
    serve_body body = {0};
    for (const uint8_t *b = p; b < end; b += chunk) {
        size_t n = (size_t)(end - b) < chunk ? (size_t)(end - b) : chunk;
        if (serve_body_append(&body, (const char *)b, n, g_ctx.max_body)) abort();
    }
    char *out = NULL;
    size_t len = 0;
    int status = serve_respond(&g_ctx, method, url, ct && *ct ? ct : NULL, format, &body, &out, &len);
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
