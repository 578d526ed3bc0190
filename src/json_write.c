/*
 * json_write.c - the library's one JSON writer: a growable buffer with
 * object, array, string and number writers (casie__jw_*), and the error
 * record the CLI and the service answer with (casie_error_to_json).
 *
 * Strings are escaped here and nowhere else: `"` and `\` with a backslash,
 * \n \r \t \b \f as those escapes, other control characters as \u00XX, and
 * bytes that are not valid UTF-8 (utf8.c decides) as U+FFFD, so that what
 * is written is always valid JSON.  Numbers print in their shortest form
 * (0.8, not 0.80000000000000004), and members in the order they are
 * written, which jansson's own dump does not give for reals.
 *
 * Not here: what a document looks like in JSON (doc_json_write.c), STIX
 * (stix.c, with jansson), reading JSON (jansson).
 */
#include "internal.h"
#include "json_write.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void casie__jw_put(casie__jw *b, const char *s, size_t n) {
    if (b->nomem) return;
    if (casie__grow((void **)&b->p, &b->cap, b->n + n + 1, 1)) {
        b->nomem = 1;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void casie__jw_puts(casie__jw *b, const char *s) { casie__jw_put(b, s, strlen(s)); }
static void putc_(casie__jw *b, char c) { casie__jw_put(b, &c, 1); }

static void newline(casie__jw *b) {
    if (!b->pretty) return;
    putc_(b, '\n');
    for (int i = 0; i < b->depth; i++)
        casie__jw_put(b, "  ", 2);
}

void casie__jw_sep(casie__jw *b) {
    if (b->need_comma) putc_(b, ',');
    newline(b);
    b->need_comma = 1;
}

void casie__jw_begin(casie__jw *b, char c) {
    putc_(b, c);
    b->depth++;
    b->need_comma = 0;
}

void casie__jw_end(casie__jw *b, char c) {
    b->depth--;
    if (b->need_comma) newline(b); /* non-empty container */
    putc_(b, c);
    b->need_comma = 1;
}

void casie__jw_str(casie__jw *b, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: start of pending bytes to copy verbatim */
    putc_(b, '"');
    while (i < n) {
        unsigned c = u[i];
        const char *esc = NULL;
        char tmp[8];
        if (c >= 0x80) {
            int k = casie__utf8_valid_len(s + i, n - i);
            if (k) {
                i += (size_t)k;
                continue;
            }
            esc = "\xEF\xBF\xBD";
        } else if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        }
        if (!esc) {
            i++;
            continue;
        }
        casie__jw_put(b, s + run, i - run);
        casie__jw_puts(b, esc);
        run = ++i;
    }
    casie__jw_put(b, s + run, n - run);
    putc_(b, '"');
}

void casie__jw_key(casie__jw *b, const char *k) {
    casie__jw_sep(b);
    casie__jw_str(b, k, strlen(k));
    casie__jw_put(b, b->pretty ? ": " : ":", b->pretty ? 2 : 1);
}

void casie__jw_kv(casie__jw *b, const char *k, const char *v) {
    casie__jw_key(b, k);
    casie__jw_str(b, v, strlen(v));
}

void casie__jw_int(casie__jw *b, long long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", v);
    casie__jw_puts(b, tmp);
}

void casie__jw_real(casie__jw *b, double v) {
    char tmp[40];
    if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        casie__jw_puts(b, "null"); /* NaN and infinities are not JSON */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    if (!strpbrk(tmp, ".eE")) strcat(tmp, ".0");
    casie__jw_puts(b, tmp);
}

void casie__jw_float(casie__jw *b, float f) {
    char tmp[40];
    if (!isfinite(f)) {
        casie__jw_puts(b, "null"); /* not JSON numbers; callers leave them out */
        return;
    }
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
        if ((float)strtod(tmp, NULL) == f) break;
    }
    if (!strpbrk(tmp, ".eE")) strcat(tmp, ".0");
    casie__jw_puts(b, tmp);
}

void casie__jw_value(casie__jw *b, json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        casie__jw_begin(b, '{');
        casie__jw_members(b, v, NULL);
        casie__jw_end(b, '}');
        break;
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        casie__jw_begin(b, '[');
        json_array_foreach(v, i, x) {
            casie__jw_sep(b);
            casie__jw_value(b, x);
        }
        casie__jw_end(b, ']');
        break;
    }
    case JSON_STRING:
        casie__jw_str(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        casie__jw_int(b, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        casie__jw_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        casie__jw_puts(b, "true");
        break;
    case JSON_FALSE:
        casie__jw_puts(b, "false");
        break;
    default:
        casie__jw_puts(b, "null");
        break;
    }
}

int casie__jw_members(casie__jw *b, json_t *obj, const char *const *skip) {
    const char *k;
    json_t *v;
    int n = 0;
    json_object_foreach(obj, k, v) {
        int known = 0;
        for (int i = 0; skip && skip[i] && !known; i++)
            known = !strcmp(k, skip[i]);
        if (known) continue;
        casie__jw_key(b, k);
        casie__jw_value(b, v);
        n++;
    }
    return n;
}

char *casie__jw_finish(casie__jw *b, size_t *len) {
    if (b->nomem) {
        free(b->p);
        b->p = NULL;
        return NULL;
    }
    if (len) *len = b->n;
    return b->p;
}

char *casie_error_to_json(const char *id, const char *message, size_t *len) {
    casie__jw b = {0};
    casie__jw_begin(&b, '{');
    if (id) casie__jw_kv(&b, "id", id);
    casie__jw_kv(&b, "error", message ? message : "");
    casie__jw_end(&b, '}');
    return casie__jw_finish(&b, len);
}
