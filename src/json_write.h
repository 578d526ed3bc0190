/*
 * json_write.h - writing JSON text.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_JSON_WRITE_H
#define CASIE_JSON_WRITE_H

#include "internal.h"

/* ---- JSON writing (json_write.c) ---- */
/* A JSON text growing in a malloc'd buffer p (n bytes, NUL-terminated).  An
 * allocation failure sets nomem and makes every later call a no-op: check it
 * once at the end.  Start zeroed; pretty: newlines and two-space indents. */
typedef struct casie__jw {
    char *p;
    size_t n, cap;
    int nomem;      /* an allocation failed: the buffer is unusable */
    int pretty;     /* newlines and two-space indentation */
    int depth;      /* current nesting, for indentation */
    int need_comma; /* an element was written at this level */
} casie__jw;
struct json_t;
void casie__jw_put(casie__jw *b, const char *s, size_t n); /* raw bytes */
void casie__jw_puts(casie__jw *b, const char *s);
void casie__jw_begin(casie__jw *b, char c);      /* '{' or '[' */
void casie__jw_end(casie__jw *b, char c);        /* '}' or ']' */
void casie__jw_sep(casie__jw *b);                /* before an array element */
void casie__jw_key(casie__jw *b, const char *k); /* before an object member's value */
/* s (n bytes) as a JSON string; invalid UTF-8 written as U+FFFD. */
void casie__jw_str(casie__jw *b, const char *s, size_t n);
void casie__jw_kv(casie__jw *b, const char *k, const char *v); /* "k": "v" */
void casie__jw_int(casie__jw *b, long long v);
void casie__jw_real(casie__jw *b, double v);          /* shortest form; NaN, infinities as null */
void casie__jw_float(casie__jw *b, float f);          /* shortest form that reads back as f */
void casie__jw_value(casie__jw *b, struct json_t *v); /* a jansson value, members in its order */
/* The members of object obj but those named in skip (NULL-terminated, may
 * be NULL), into the open object; returns how many were written. */
int casie__jw_members(casie__jw *b, struct json_t *obj, const char *const *skip);
/* The text written, which the caller frees, and its length in *len (if
 * len is not NULL); NULL, the buffer freed, when an allocation failed. */
char *casie__jw_finish(casie__jw *b, size_t *len);

#endif /* CASIE_JSON_WRITE_H */
