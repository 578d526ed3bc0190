/* test_common.h - shared helpers for the cmocka test programs. */
#ifndef CASIE_TEST_COMMON_H
#define CASIE_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <casie.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The corpus directory ($CASIE_CORPUS or ../shared/casie), or NULL when it
 * is not on this machine (corpus tests then skip). */
static inline const char *test_corpus(void) {
    const char *c = getenv("CASIE_CORPUS");
    if (!c || !*c) c = "../shared/casie";
    char p[4096];
    snprintf(p, sizeof p, "%s/splits/dev.txt", c);
    return access(p, R_OK) == 0 ? c : NULL;
}

/* text as a document named "t", analysed (sentences and tokens). */
static inline casie_doc *test_analyzed(const char *text) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(text, strlen(text), "t", &err);
    assert_non_null(d);
    assert_int_equal(casie_doc_analyze(d, &err), CASIE_OK);
    return d;
}

/* Reads split `name` of the corpus (first `limit` ids when limit > 0). */
static inline casie_corpus *test_split(const char *corpus, const char *name, int limit) {
    char p[4096];
    snprintf(p, sizeof p, "%s/splits/%s.txt", corpus, name);
    int n;
    casie_error err = {0};
    char **ids = casie_read_ids(p, &n, &err);
    if (!ids) return NULL;
    casie_corpus *c = casie_corpus_read(corpus, (const char *const *)ids, limit > 0 && limit < n ? limit : n, &err);
    if (!c) fprintf(stderr, "test_split: %s\n", err.message);
    casie_strings_free(ids, n);
    return c;
}

/* A hand-annotated golden fixture, tests/data/golden/gold/NAME.json. */
static inline casie_doc *test_gold_doc(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/golden/gold/%s.json", name);
    casie_error err = {0};
    casie_doc *d = casie_doc_load(path, &err);
    if (!d) fail_msg("%s: %s", path, err.message);
    return d;
}

#endif
