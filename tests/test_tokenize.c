/*
 * test_tokenize.c - the tokenizer and sentence splitter, through the public
 * API (casie_doc_from_text + casie_doc_analyze): exact token lists for each
 * kind of token the tokenizer keeps whole or splits, code-point offsets after
 * non-ASCII text, flags, sentence boundaries, and the invariants (tokens in
 * order, no white space inside, every other code point in exactly one token)
 * over random text and the corpus.
 */
#include "test_common.h"

#include <utf8proc.h>

/* Text of token i (static buffer). */
static const char *tok_text(const casie_doc *d, int i) {
    static char buf[512];
    int32_t b0 = d->cp_byte[d->tokens[i].start], b1 = d->cp_byte[d->tokens[i].end];
    assert_true(b1 - b0 < (int32_t)sizeof buf);
    memcpy(buf, d->text + b0, (size_t)(b1 - b0));
    buf[b1 - b0] = 0;
    return buf;
}

/* Asserts that text tokenizes into exactly the NULL-terminated list want. */
static void expect_tokens(const char *text, const char *const *want) {
    casie_doc *d = test_analyzed(text);
    int n = 0;
    while (want[n])
        n++;
    for (int i = 0; i < d->n_tokens && i < n; i++) {
        if (strcmp(tok_text(d, i), want[i]) != 0)
            fail_msg("\"%s\": token %d is \"%s\", want \"%s\"", text, i, tok_text(d, i), want[i]);
    }
    if (d->n_tokens != n) fail_msg("\"%s\": %d tokens, want %d", text, d->n_tokens, n);
    casie_doc_free(d);
}

#define TOKENS(text, ...)                                                                                              \
    do {                                                                                                               \
        static const char *const want_[] = {__VA_ARGS__, NULL};                                                        \
        expect_tokens(text, want_);                                                                                    \
    } while (0)

/* Index of the first token whose text is s, or fails. */
static int find_tok(const casie_doc *d, const char *s) {
    for (int i = 0; i < d->n_tokens; i++)
        if (strcmp(tok_text(d, i), s) == 0) return i;
    fail_msg("no token \"%s\"", s);
    return -1;
}

/* Asserts that the token with text s spans [start, end) and has all of flags. */
static void expect_tok(const casie_doc *d, const char *s, int32_t start, int32_t end, uint32_t flags) {
    int i = find_tok(d, s);
    assert_int_equal(d->tokens[i].start, start);
    assert_int_equal(d->tokens[i].end, end);
    if ((d->tokens[i].flags & flags) != flags)
        fail_msg("token \"%s\": flags 0x%x, want 0x%x", s, d->tokens[i].flags, flags);
}

/* Asserts the sentences of text, as their exact texts. */
static void expect_sents(const char *text, const char *const *want) {
    casie_doc *d = test_analyzed(text);
    int n = 0;
    while (want[n])
        n++;
    for (int s = 0; s < d->n_sents && s < n; s++) {
        int32_t b0 = d->cp_byte[d->sents[s].start], b1 = d->cp_byte[d->sents[s].end];
        if ((size_t)(b1 - b0) != strlen(want[s]) || memcmp(d->text + b0, want[s], (size_t)(b1 - b0)) != 0)
            fail_msg("\"%s\": sentence %d is \"%.*s\", want \"%s\"", text, s, (int)(b1 - b0), d->text + b0, want[s]);
    }
    if (d->n_sents != n) fail_msg("\"%s\": %d sentences, want %d", text, d->n_sents, n);
    casie_doc_free(d);
}

#define SENTS(text, ...)                                                                                               \
    do {                                                                                                               \
        static const char *const want_[] = {__VA_ARGS__, NULL};                                                        \
        expect_sents(text, want_);                                                                                     \
    } while (0)

/* ---- tokens kept whole ---- */

static void test_urls(void **state) {
    (void)state;
    TOKENS("See http://evil.com/a?b=1, www.x.com/path and bit.ly.", "See", "http://evil.com/a?b=1", ",",
           "www.x.com/path", "and", "bit.ly", ".");
    TOKENS("(https://example.org/x_(y)) or example.com/login.php.", "(", "https://example.org/x_(y)", ")", "or",
           "example.com/login.php", ".");
    TOKENS("at hxxp://bad[.]com/x.exe", "at", "hxxp://bad[.]com/x.exe");
    TOKENS("lloydstbs[.]com.", "lloydstbs[.]com", ".");
    casie_doc *d = test_analyzed("’’ www.x.com/a and bit.ly");
    expect_tok(d, "www.x.com/a", 3, 14, CASIE_TOK_URL);
    expect_tok(d, "bit.ly", 19, 25, CASIE_TOK_URL);
    casie_doc_free(d);
    d = test_analyzed("’ police-pay[.]com");
    expect_tok(d, "police-pay[.]com", 2, 18, CASIE_TOK_URL);
    casie_doc_free(d);
}

static void test_emails(void **state) {
    (void)state;
    TOKENS("Write to spam@docusign.com, or john.doe@example.co.uk.", "Write", "to", "spam@docusign.com", ",", "or",
           "john.doe@example.co.uk", ".");
    TOKENS("\"hhhh@mailinator.com,\" he said", "\"", "hhhh@mailinator.com", ",", "\"", "he", "said");
    casie_doc *d = test_analyzed("“£” a@b.com");
    expect_tok(d, "a@b.com", 4, 11, CASIE_TOK_EMAIL | CASIE_TOK_URL);
    casie_doc_free(d);
}

static void test_domains_and_files(void **state) {
    (void)state;
    TOKENS("Open invoice.doc.exe from example.com or report.pdf.", "Open", "invoice.doc.exe", "from", "example.com",
           "or", "report.pdf", ".");
    casie_doc *d = test_analyzed("é invoice.doc.exe and example.com");
    expect_tok(d, "invoice.doc.exe", 2, 17, CASIE_TOK_FILE);
    expect_tok(d, "example.com", 22, 33, CASIE_TOK_URL);
    casie_doc_free(d);
}

static void test_ipv4(void **state) {
    (void)state;
    TOKENS("from 192.168.1.10: blocked", "from", "192.168.1.10", ":", "blocked");
    casie_doc *d = test_analyzed("—10.0.0.1 4.5.0.324");
    expect_tok(d, "10.0.0.1", 1, 9, CASIE_TOK_IP);
    expect_tok(d, "4.5.0.324", 10, 19, CASIE_TOK_VERSION); /* 324 > 255: not an address */
    assert_false(d->tokens[2].flags & CASIE_TOK_IP);
    casie_doc_free(d);
    /* a group of digits too long for an int is no octet (and no overflow: fuzz_tokenize) */
    d = test_analyzed("1.2.3.4444444444444");
    assert_int_equal(d->n_tokens, 1);
    assert_false(d->tokens[0].flags & CASIE_TOK_IP);
    casie_doc_free(d);
}

static void test_cve(void **state) {
    (void)state;
    TOKENS("CVE-2017-0144 and CVE-2017-0144's fix (CVE-2016-10033).", "CVE-2017-0144", "and", "CVE-2017-0144", "'s",
           "fix", "(", "CVE-2016-10033", ")", ".");
    casie_doc *d = test_analyzed("£ CVE-2017-0144’s");
    expect_tok(d, "CVE-2017-0144", 2, 15, CASIE_TOK_CVE);
    expect_tok(d, "’s", 15, 17, CASIE_TOK_WORD);
    casie_doc_free(d);
}

static void test_versions_and_numbers(void **state) {
    (void)state;
    TOKENS("iOS 10.3.2 and v2.1 fix 1,000 of 2.5 bugs in 2017.", "iOS", "10.3.2", "and", "v2.1", "fix", "1,000", "of",
           "2.5", "bugs", "in", "2017", ".");
    TOKENS("Version 2.0. The 1990s", "Version", "2.0", ".", "The", "1990s");
    casie_doc *d = test_analyzed("’ 10.3.2 v2.1 1,000");
    expect_tok(d, "10.3.2", 2, 8, CASIE_TOK_NUMBER | CASIE_TOK_VERSION);
    expect_tok(d, "v2.1", 9, 13, CASIE_TOK_VERSION);
    expect_tok(d, "1,000", 14, 19, CASIE_TOK_NUMBER);
    casie_doc_free(d);
}

static void test_money_and_percent(void **state) {
    (void)state;
    TOKENS("paid $2.5m and £1,000 (50%) or €300.", "paid", "$", "2.5m", "and", "£", "1,000", "(", "50", "%", ")", "or",
           "€", "300", ".");
    casie_doc *d = test_analyzed("’£1,000 and $2.5m, 50%");
    expect_tok(d, "£", 1, 2, CASIE_TOK_MONEY | CASIE_TOK_PUNCT);
    expect_tok(d, "1,000", 2, 7, CASIE_TOK_NUMBER | CASIE_TOK_MONEY);
    expect_tok(d, "$", 12, 13, CASIE_TOK_MONEY);
    expect_tok(d, "2.5m", 13, 17, CASIE_TOK_NUMBER | CASIE_TOK_MONEY);
    expect_tok(d, "50", 19, 21, CASIE_TOK_NUMBER | CASIE_TOK_PERCENT);
    expect_tok(d, "%", 21, 22, CASIE_TOK_PERCENT);
    casie_doc_free(d);
}

static void test_hyphens(void **state) {
    (void)state;
    TOKENS("spear-phishing e-mail over Wi-Fi, state-of-the-art", "spear-phishing", "e-mail", "over", "Wi-Fi", ",",
           "state-of-the-art");
    casie_doc *d = test_analyzed("“spear-phishing”");
    expect_tok(d, "spear-phishing", 1, 15, CASIE_TOK_WORD);
    casie_doc_free(d);
}

static void test_possessives_and_contractions(void **state) {
    (void)state;
    TOKENS("the county's and county’s systems, the hackers’ data", "the", "county", "'s", "and", "county", "’s",
           "systems", ",", "the", "hackers", "’", "data");
    TOKENS("don't can’t won't I'm they’re we've I'll he'd", "do", "n't", "ca", "n’t", "wo", "n't", "I", "'m", "they",
           "’re", "we", "'ve", "I", "'ll", "he", "'d");
    TOKENS("O'Brien", "O'Brien");
    casie_doc *d = test_analyzed("£ county’s");
    expect_tok(d, "county", 2, 8, CASIE_TOK_WORD);
    expect_tok(d, "’s", 8, 10, CASIE_TOK_WORD);
    casie_doc_free(d);
}

static void test_quotes_and_dashes(void **state) {
    (void)state;
    TOKENS("“Hack Back!” — said ‘him’ – 5−3 \"ok\" 'yes'", "“", "Hack", "Back", "!", "”", "—", "said", "‘", "him", "’",
           "–", "5", "−", "3", "\"", "ok", "\"", "'", "yes", "'");
    TOKENS("attack—the end…", "attack", "—", "the", "end", "…");
    TOKENS("wait... what", "wait", "...", "what");
    casie_doc *d = test_analyzed("’“x”—y");
    expect_tok(d, "“", 1, 2, CASIE_TOK_PUNCT);
    expect_tok(d, "x", 2, 3, CASIE_TOK_WORD);
    expect_tok(d, "—", 4, 5, CASIE_TOK_PUNCT);
    casie_doc_free(d);
}

static void test_abbreviations(void **state) {
    (void)state;
    TOKENS("the U.S. and Apple Inc. in Jan. by J. Smith, e.g., Mr. Li etc.", "the", "U.S.", "and", "Apple", "Inc.",
           "in", "Jan.", "by", "J.", "Smith", ",", "e.g.", ",", "Mr.", "Li", "etc.");
    TOKENS("No. 5 and no. Then", "No.", "5", "and", "no", ".", "Then");
    TOKENS("U.S.-based", "U.S.", "-", "based");
    casie_doc *d = test_analyzed("‘ U.S. Inc.");
    expect_tok(d, "U.S.", 2, 6, CASIE_TOK_ABBREV);
    expect_tok(d, "Inc.", 7, 11, CASIE_TOK_ABBREV);
    casie_doc_free(d);
}

static void test_sentence_final_period(void **state) {
    (void)state;
    TOKENS("It ended. Apple Inc. The end.", "It", "ended", ".", "Apple", "Inc", ".", "The", "end", ".");
    TOKENS("was compromised.The attackers", "was", "compromised", ".", "The", "attackers");
    TOKENS("536,727accounts", "536,727", "accounts");
}

static void test_other(void **state) {
    (void)state;
    TOKENS("AT&T at 10:30 on 3/4/2017 and/or @POTUS #1 C#", "AT&T", "at", "10:30", "on", "3/4/2017", "and", "/", "or",
           "@POTUS", "#", "1", "C", "#");
    /* soft hyphen inside a word joins it; a stray format character is space */
    TOKENS("cyber\xC2\xADsecurity \xE2\x80\x8EWord", "cyber\xC2\xADsecurity", "Word");
    /* invalid bytes read as U+FFFD, a symbol token */
    TOKENS("a\xFF"
           "b",
           "a", "\xEF\xBF\xBD", "b");
    TOKENS("tab\there\nnew\xC2\xA0line", "tab", "here", "new", "line");
}

/* ---- sentences ---- */

static void test_sentences_abbreviations(void **state) {
    (void)state;
    SENTS("Mr. Smith met Dr. Jones at St. Jude in the U.S. on Jan. 5. They left.",
          "Mr. Smith met Dr. Jones at St. Jude in the U.S. on Jan. 5.", "They left.");
    SENTS("It hit Apple Inc. The company said so. It hit the U.S. Department of Defense.", "It hit Apple Inc.",
          "The company said so.", "It hit the U.S. Department of Defense.");
    SENTS("See e.g. Microsoft. By J. Smith, vs. Google.", "See e.g. Microsoft.", "By J. Smith, vs. Google.");
}

static void test_sentences_urls_and_numbers(void **state) {
    (void)state;
    SENTS("Visit www.example.com/a.b for more. Then mail x.y@z.com. Done.", "Visit www.example.com/a.b for more.",
          "Then mail x.y@z.com.", "Done.");
    SENTS("It rose 2.5 percent. Version 10.3.2 is out. Open report.pdf. 3 died.", "It rose 2.5 percent.",
          "Version 10.3.2 is out.", "Open report.pdf.", "3 died.");
}

static void test_sentences_quotes(void **state) {
    (void)state;
    SENTS("He said “stop.” Then he left! She asked (why?) Nobody knew. \"Yes.\" 'No.' Fine", "He said “stop.”",
          "Then he left!", "She asked (why?)", "Nobody knew.", "\"Yes.\"", "'No.'", "Fine");
    SENTS("Really? “Yes,” he said.", "Really?", "“Yes,” he said.");
}

static void test_sentences_no_split(void **state) {
    (void)state;
    /* lowercase after a period, an ellipsis before lowercase, headlines */
    SENTS("the end. and more... and then", "the end. and more... and then");
    SENTS("LICKING COUNTY Officials in Licking County tell 10TV that ransom was demanded.",
          "LICKING COUNTY Officials in Licking County tell 10TV that ransom was demanded.");
    SENTS("was compromised.The attackers fled.", "was compromised.", "The attackers fled.");
    SENTS("  lone  ", "lone");
}

static void test_empty(void **state) {
    (void)state;
    const char *texts[] = {"", "   \t\n ", "\xC2\xA0"};
    for (int k = 0; k < 3; k++) {
        casie_doc *d = test_analyzed(texts[k]);
        assert_int_equal(d->n_tokens, 0);
        assert_int_equal(d->n_sents, 0);
        assert_int_equal(casie_doc_analyze(d, NULL), CASIE_OK); /* idempotent */
        casie_doc_free(d);
    }
}

/* ---- invariants ---- */

static int is_space_cp(uint32_t cp) {
    if (cp < 128) return cp <= 32 || cp == 127;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP ||
           c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF;
}

static uint32_t cp_at(const casie_doc *d, int32_t i) {
    utf8proc_int32_t cp;
    utf8proc_iterate((const utf8proc_uint8_t *)d->text + d->cp_byte[i], d->cp_byte[i + 1] - d->cp_byte[i], &cp);
    return (uint32_t)cp;
}

static void check_invariants(const casie_doc *d) {
    char *covered = calloc((size_t)d->n_cp + 1, 1);
    assert_non_null(covered);
    for (int i = 0; i < d->n_tokens; i++) {
        const casie_token *t = &d->tokens[i];
        assert_true(t->start < t->end);
        assert_true(t->start >= 0 && t->end <= d->n_cp);
        if (i > 0) assert_true(d->tokens[i - 1].end <= t->start);
        assert_true(t->flags != 0);
        for (int32_t k = t->start; k < t->end; k++) {
            /* format characters may sit inside a word; nothing else spacey */
            uint32_t cp = cp_at(d, k);
            if (is_space_cp(cp)) assert_int_equal(utf8proc_category((utf8proc_int32_t)cp), UTF8PROC_CATEGORY_CF);
            covered[k] = 1;
        }
        assert_false(is_space_cp(cp_at(d, t->start)));
        assert_false(is_space_cp(cp_at(d, t->end - 1)));
    }
    for (int32_t k = 0; k < d->n_cp; k++)
        if (!covered[k] && !is_space_cp(cp_at(d, k))) fail_msg("%s: code point %d in no token", d->id, k);
    free(covered);
    /* sentences partition the tokens */
    int32_t next = 0;
    for (int s = 0; s < d->n_sents; s++) {
        const casie_sentence *S = &d->sents[s];
        assert_int_equal(S->tok_begin, next);
        assert_true(S->tok_end > S->tok_begin);
        assert_int_equal(S->start, d->tokens[S->tok_begin].start);
        assert_int_equal(S->end, d->tokens[S->tok_end - 1].end);
        for (int32_t i = S->tok_begin; i < S->tok_end; i++)
            assert_int_equal(d->tokens[i].sent, s);
        next = S->tok_end;
    }
    assert_int_equal(next, d->n_tokens);
}

static void test_invariants_random(void **state) {
    (void)state;
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "7",
                                         ".",
                                         ",",
                                         "'",
                                         "’",
                                         "s",
                                         "t",
                                         "n",
                                         "-",
                                         "—",
                                         "@",
                                         "/",
                                         ":",
                                         "http://",
                                         "www.",
                                         "$",
                                         "£",
                                         "%",
                                         "(",
                                         ")",
                                         "\"",
                                         "“",
                                         "”",
                                         " ",
                                         " ",
                                         "  ",
                                         "\xC2\xA0",
                                         "\xC2\xAD",
                                         "\xE2\x80\x8E",
                                         "\xFF",
                                         "é",
                                         "…",
                                         "U.S.",
                                         "Inc.",
                                         "CVE-2017-",
                                         "0144",
                                         "e.g.",
                                         "[.]",
                                         "#",
                                         "&",
                                         "_",
                                         "!",
                                         "?",
                                         "1,000",
                                         "\t",
                                         "\0"};
    const int np = (int)(sizeof pieces / sizeof *pieces);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char buf[4096];
    for (int round = 0; round < 3000; round++) {
        size_t n = 0;
        int len = 1 + round % 200;
        for (int k = 0; k < len; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            const char *p = pieces[(x >> 33) % (uint64_t)np];
            size_t pl = *p ? strlen(p) : 1; /* "\0" is one NUL byte */
            if (n + pl >= sizeof buf) break;
            memcpy(buf + n, p, pl);
            n += pl;
        }
        casie_error err = {0};
        casie_doc *d = casie_doc_from_text(buf, n, "random", &err);
        assert_non_null(d);
        assert_int_equal(casie_doc_analyze(d, &err), CASIE_OK);
        check_invariants(d);
        casie_doc_free(d);
    }
}

static void test_invariants_corpus(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    casie_corpus *c = test_split(corpus, "dev", 0);
    assert_non_null(c);
    long toks = 0;
    for (int i = 0; i < c->n_docs; i++) {
        assert_int_equal(casie_doc_analyze(c->docs[i], NULL), CASIE_OK);
        check_invariants(c->docs[i]);
        toks += c->docs[i]->n_tokens;
    }
    assert_true(toks > 10000);
    casie_corpus_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_emails),
        cmocka_unit_test(test_domains_and_files),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_cve),
        cmocka_unit_test(test_versions_and_numbers),
        cmocka_unit_test(test_money_and_percent),
        cmocka_unit_test(test_hyphens),
        cmocka_unit_test(test_possessives_and_contractions),
        cmocka_unit_test(test_quotes_and_dashes),
        cmocka_unit_test(test_abbreviations),
        cmocka_unit_test(test_sentence_final_period),
        cmocka_unit_test(test_other),
        cmocka_unit_test(test_sentences_abbreviations),
        cmocka_unit_test(test_sentences_urls_and_numbers),
        cmocka_unit_test(test_sentences_quotes),
        cmocka_unit_test(test_sentences_no_split),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_invariants_random),
        cmocka_unit_test(test_invariants_corpus),
    };
    return cmocka_run_group_tests_name("tokenize", tests, NULL, NULL);
}
