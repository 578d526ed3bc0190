/*
 * cmd_render.c - `casie render`: CASIE JSON in, one self-contained HTML page
 * out: the article with its triggers and arguments highlighted, a legend,
 * and the events grouped by hopper.  This file reads the inputs (JSON or
 * JSONL, files or stdin) and writes the page; the page itself comes from
 * the library (casie_doc_to_html, src/render_html.c).
 */
#include "cli_io.h"
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes one document's section of the page; 0 or -1. */
static int render_doc(FILE *out, const casie_doc *d) {
    casie_error err = {0};
    size_t len;
    char *html = casie_doc_to_html(d, 0, &len, &err);
    if (!html) {
        fprintf(stderr, "casie render: %s: %s\n", d->id ? d->id : "document", err.message);
        return -1;
    }
    fwrite(html, 1, len, out);
    casie_free(html);
    return 0;
}

/* Writes the head or the end of the page (flags CASIE_HTML_HEAD or _TAIL). */
static int render_frame(FILE *out, int flags) {
    casie_error err = {0};
    size_t len;
    char *html = casie_doc_to_html(NULL, flags, &len, &err);
    if (!html) {
        fprintf(stderr, "casie render: %s\n", err.message);
        return -1;
    }
    fwrite(html, 1, len, out);
    casie_free(html);
    return 0;
}

/* Renders every document of one input (a JSON document or JSONL). */
static int render_input(FILE *out, const char *name, const char *buf, size_t len) {
    casie_error err = {0};
    int failed = 0;
    const char *p = buf, *end = buf + len;
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
        i++;
    const char *nl = memchr(buf + i, '\n', len - i);
    int jsonl = nl && nl > buf + i && (nl[-1] == '}' || (nl[-1] == '\r' && nl - 1 > buf + i && nl[-2] == '}'));
    if (!jsonl) {
        casie_doc *d = casie_doc_from_json(buf, len, name, &err);
        if (!d) {
            fprintf(stderr, "casie render: %s\n", err.message);
            return 1;
        }
        failed = render_doc(out, d) != 0;
        casie_doc_free(d);
        return failed;
    }
    long line = 0;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        line++;
        if (e > p) {
            char where[600];
            snprintf(where, sizeof where, "%.500s:%ld", name, line);
            casie_doc *d = casie_doc_from_json(p, (size_t)(e - p), where, &err);
            if (!d) {
                fprintf(stderr, "casie render: %s\n", err.message);
                failed++;
            } else {
                failed += render_doc(out, d) != 0;
                casie_doc_free(d);
            }
        }
        p = e + 1;
    }
    return failed;
}

typedef struct render_args {
    const char *out;
} render_args;

static const cli_opt OPTIONS[] = {
    {"-o", NULL, "FILE", "write the page to FILE, not stdout", CLI_STRING(render_args, out)},
};

static const cli_command RENDER = {
    .name = "render",
    .synopsis = "usage: casie render [-o FILE] [DOC.json|DOCS.jsonl ...]\n"
                "  Writes one self-contained HTML page (no network) showing the documents'\n"
                "  events as `casie extract` wrote them: highlighted spans, a legend, hoppers.\n"
                "  Reads stdin when no file is given.\n",
    CLI_TABLE(OPTIONS),
    .max_args = -1,
};

int cmd_render(int argc, char **argv) {
    render_args a = {0};
    int nfiles, rc = cli_parse(&RENDER, argc, argv, &a, &nfiles);
    if (rc != CLI_GO_ON) return rc;
    const char *outpath = a.out;
    char **files = argv;
    FILE *out = outpath ? fopen(outpath, "wb") : stdout;
    if (!out) {
        fprintf(stderr, "casie render: %s: %s\n", outpath, strerror(errno));
        return 1;
    }
    int failed = render_frame(out, CASIE_HTML_HEAD) != 0;
    for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
        const char *name = nfiles ? files[i] : "<stdin>";
        FILE *in = nfiles && strcmp(files[i], "-") ? fopen(files[i], "rb") : stdin;
        casie_error err = {0};
        if (!in) {
            fprintf(stderr, "casie render: %s: %s\n", name, strerror(errno));
            failed++;
            continue;
        }
        size_t len;
        char *buf = cli_read_stream(in, name, &len, &err);
        if (in != stdin) fclose(in);
        if (!buf) {
            fprintf(stderr, "casie render: %s\n", err.message);
            failed++;
            continue;
        }
        failed += render_input(out, name, buf, len);
        free(buf);
    }
    failed += render_frame(out, CASIE_HTML_TAIL) != 0;
    int werr = fflush(out) != 0 || ferror(out);
    if (outpath && fclose(out) != 0) werr = 1;
    if (werr) {
        if (errno != EPIPE) /* a reader that went away: quietly */
            fprintf(stderr, "casie render: writing %s: %s\n", outpath ? outpath : "output",
                    strerror(errno ? errno : EIO));
        return 1;
    }
    return failed ? 1 : 0;
}
