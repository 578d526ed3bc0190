/*
 * test_utf8.c - UTF-8 repair and code-point indexing: every byte that does not
 * begin a valid shortest-form sequence becomes U+FFFD and one code point;
 * valid text passes unchanged; cp_byte indexes every code point; get and put
 * round-trip every scalar value.
 */
#include "test_common.h"

#include "internal.h"

/* Normalizes in[0, len) and checks the output text and code-point starts. */
static void check(const char *in, size_t len, const char *want, size_t want_len, const int32_t *want_cpb,
                  int32_t want_ncp) {
    char *out = NULL;
    size_t out_len = 0;
    int32_t *cpb = NULL, ncp = -1;
    assert_int_equal(casie__utf8_normalize(in, len, &out, &out_len, &cpb, &ncp), CASIE_OK);
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[out_len], '\0');
    assert_int_equal(ncp, want_ncp);
    for (int32_t i = 0; i <= ncp; i++)
        assert_int_equal(cpb[i], want_cpb[i]);
    /* the check and the JSON writer agree with the repair: valid exactly
     * when nothing was replaced */
    int unchanged = want_len == len && !memcmp(want, in, len);
    long bad = casie_utf8_check(in, len);
    if (unchanged)
        assert_int_equal(bad, -1);
    else
        assert_true(bad >= 0 && (size_t)bad < len && casie__utf8_valid_len(in + bad, len - (size_t)bad) == 0);
    free(out);
    free(cpb);
}

#define FFFD "\xEF\xBF\xBD"

static void test_ascii(void **state) {
    (void)state;
    const int32_t cpb[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    check("hello, world", 12, "hello, world", 12, cpb, 12);
    const int32_t cpb0[] = {0};
    check("", 0, "", 0, cpb0, 0);
}

static void test_valid_multibyte(void **state) {
    (void)state;
    /* a (1) é (2) ’ (3) 😀 (4) b (1) */
    const char in[] = "a\xC3\xA9\xE2\x80\x99\xF0\x9F\x98\x80"
                      "b";
    const int32_t cpb[] = {0, 1, 3, 6, 10, 11};
    check(in, sizeof in - 1, in, sizeof in - 1, cpb, 5);
    /* the largest scalar U+10FFFF and the last before the surrogates */
    const char hi[] = "\xF4\x8F\xBF\xBF\xED\x9F\xBF";
    const int32_t cpb2[] = {0, 4, 7};
    check(hi, 7, hi, 7, cpb2, 2);
}

static void test_invalid_bytes(void **state) {
    (void)state;
    /* a stray continuation byte and a byte never used in UTF-8 */
    const int32_t cpb[] = {0, 1, 4, 5, 8, 9};
    check("a\x80"
          "b\xFF"
          "c",
          5, "a" FFFD "b" FFFD "c", 9, cpb, 5);
}

static void test_overlong(void **state) {
    (void)state;
    /* "/" as 2 bytes (C0 AF) and 3 bytes (E0 80 AF): each byte replaced */
    const int32_t cpb[] = {0, 3, 6};
    check("\xC0\xAF", 2, FFFD FFFD, 6, cpb, 2);
    const int32_t cpb3[] = {0, 3, 6, 9};
    check("\xE0\x80\xAF", 3, FFFD FFFD FFFD, 9, cpb3, 3);
    /* U+FFFF as 4 bytes */
    const int32_t cpb4[] = {0, 3, 6, 9, 12};
    check("\xF0\x8F\xBF\xBF", 4, FFFD FFFD FFFD FFFD, 12, cpb4, 4);
}

static void test_surrogates_and_range(void **state) {
    (void)state;
    /* U+D800 encoded directly: 3 invalid bytes */
    const int32_t cpb[] = {0, 3, 6, 9, 10};
    check("\xED\xA0\x80x", 4, FFFD FFFD FFFD "x", 10, cpb, 4);
    /* U+110000 (F4 90 80 80) and an F5 lead */
    const int32_t cpb2[] = {0, 3, 6, 9, 12, 15};
    check("\xF4\x90\x80\x80\xF5", 5, FFFD FFFD FFFD FFFD FFFD, 15, cpb2, 5);
}

static void test_truncated(void **state) {
    (void)state;
    /* a 3-byte sequence cut short at the end of input: two bytes, two U+FFFD */
    const int32_t cpb[] = {0, 1, 4, 7};
    check("a\xE2\x80", 3, "a" FFFD FFFD, 7, cpb, 3);
    /* a 4-byte lead followed by ASCII */
    const int32_t cpb2[] = {0, 3, 4};
    check("\xF0z", 2, FFFD "z", 4, cpb2, 2);
    /* only the length given is read: the valid ’ lies past len */
    char *buf = malloc(2); /* exactly 2 bytes, so ASan sees any over-read */
    assert_non_null(buf);
    memcpy(buf, "\xE2\x80", 2);
    const int32_t cpb3[] = {0, 3, 6};
    check(buf, 2, FFFD FFFD, 6, cpb3, 2);
    free(buf);
}

static void test_nul_kept(void **state) {
    (void)state;
    const int32_t cpb[] = {0, 1, 2, 3};
    check("a\0b", 3, "a\0b", 3, cpb, 3);
}

static void test_long_mixed(void **state) {
    (void)state;
    /* crosses the 8-byte ASCII fast path with an invalid byte inside a block */
    const char in[] = "0123456789abc\x80"
                      "defghijklmnop\xC3\xA9";
    char *out = NULL;
    size_t out_len = 0;
    int32_t *cpb = NULL, ncp = 0;
    assert_int_equal(casie__utf8_normalize(in, sizeof in - 1, &out, &out_len, &cpb, &ncp), CASIE_OK);
    assert_int_equal(ncp, 13 + 1 + 13 + 1);
    assert_int_equal(out_len, 13 + 3 + 13 + 2);
    assert_int_equal(cpb[13], 13);
    assert_int_equal(cpb[14], 16);
    assert_int_equal(cpb[27], 29);
    assert_int_equal(cpb[28], 31);
    assert_memory_equal(out + 13, FFFD, 3);
    free(out);
    free(cpb);
}

static void test_doc_from_text(void **state) {
    (void)state;
    /* the public path: "£5 ’x" with a bad byte; offsets are code points */
    const char in[] = "\xC2\xA3"
                      "5 \xE2\x80\x99x\xFE";
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text(in, sizeof in - 1, "t", &err);
    assert_non_null(d);
    assert_int_equal(d->n_cp, 6);
    assert_int_equal(d->text_len, 2 + 1 + 1 + 3 + 1 + 3);
    const int32_t cpb[] = {0, 2, 3, 4, 7, 8, 11};
    for (int i = 0; i <= 6; i++)
        assert_int_equal(d->cp_byte[i], cpb[i]);
    assert_string_equal(d->text + 8, FFFD);
    casie_doc_free(d);
}

static void test_get_put_roundtrip(void **state) {
    (void)state;
    char buf[8];
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        int n = casie__utf8_put(cp, buf);
        assert_true(n >= 1 && n <= 4);
        assert_int_equal(n, cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
        buf[n] = 0;
        int adv = 0;
        assert_int_equal(casie__utf8_get(buf, &adv), cp);
        assert_int_equal(adv, n);
    }
    /* unencodable values become U+FFFD */
    assert_int_equal(casie__utf8_put(0xD800, buf), 3);
    assert_memory_equal(buf, FFFD, 3);
    assert_int_equal(casie__utf8_put(0x110000, buf), 3);
    assert_memory_equal(buf, FFFD, 3);
}

/* casie_utf8_check gives the offset of the first bad byte, past runs of
 * ASCII read eight at a time. */
static void test_check_offsets(void **state) {
    (void)state;
    assert_int_equal(casie_utf8_check("", 0), -1);
    assert_int_equal(casie_utf8_check("plain ascii text, long enough", 29), -1);
    assert_int_equal(casie_utf8_check("caf\xC3\xA9 \xF0\x9F\x98\x80", 10), -1);
    assert_int_equal(casie_utf8_check("0123456789abcdef\xC3", 17), 16);    /* cut short */
    assert_int_equal(casie_utf8_check("abc\xED\xA0\x80", 6), 3);           /* a surrogate */
    assert_int_equal(casie_utf8_check("abcdefgh\xF4\x90\x80\x80", 12), 8); /* over U+10FFFF */
    assert_int_equal(casie_utf8_check("a\0b\xC0\xAF", 5), 3);              /* NUL valid; overlong not */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_valid_multibyte),
        cmocka_unit_test(test_invalid_bytes),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_surrogates_and_range),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_nul_kept),
        cmocka_unit_test(test_long_mixed),
        cmocka_unit_test(test_doc_from_text),
        cmocka_unit_test(test_get_put_roundtrip),
        cmocka_unit_test(test_check_offsets),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
