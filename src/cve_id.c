/*
 * cve_id.c - CVE ids as written: recognising one however its dashes and
 * case are written (the tokenizer flags each, CASIE_TOK_CVE) and its normal
 * form (CVE-YYYY-NNNN), which the STIX writer names a vulnerability by.
 *
 * Not here: the rule that makes an id an event's CVE argument (cve_rule.c).
 */
#include "internal.h"
#include "cve_id.h"

#include <stdio.h>
#include <string.h>

static int is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static int is_ascii_alnum(uint32_t c) { return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

/* Hyphen, the Unicode dashes U+2010..U+2015 and the minus sign. */
static int is_dash(uint32_t c) { return c == '-' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212; }

int32_t casie__cve_len(const uint32_t *c, int32_t i, int32_t n) {
    if (n - i < 11 || (c[i] | 32) != 'c' || (c[i + 1] | 32) != 'v' || (c[i + 2] | 32) != 'e') return 0;
    if (i > 0 && is_ascii_alnum(c[i - 1])) return 0;
    int32_t j = i + 3;
    if (j < n && is_dash(c[j])) j++;
    int32_t d = 0;
    while (j < n && d < 4 && is_digit(c[j]))
        j++, d++;
    if (d != 4) return 0;
    if (j < n && is_dash(c[j])) j++;
    d = 0;
    while (j < n && is_digit(c[j]))
        j++, d++;
    if (d < 4 || d > 8) return 0;
    /* the id ends here: no letter or digit, nor a joining dash or dot before one */
    if (j < n && is_ascii_alnum(c[j])) return 0;
    if (j + 1 < n && (is_dash(c[j]) || c[j] == '.' || c[j] == '_') && is_ascii_alnum(c[j + 1])) return 0;
    return j - i;
}

int casie__cve_normalize(const char *text, char *out, size_t cap) {
    uint32_t cp[48] = {0};
    int32_t n = 0;
    for (const char *s = text; *s && n < 47;) {
        int adv;
        cp[n++] = casie__utf8_get(s, &adv);
        s += adv;
    }
    if (n == 47 || casie__cve_len(cp, 0, n) != n) return 0;
    char digits[16];
    int nd = 0;
    for (int32_t j = 3; j < n; j++)
        if (is_digit(cp[j]) && nd < 15) digits[nd++] = (char)cp[j];
    digits[nd] = 0;
    /* 4 digits of year, then the sequence number */
    int w = snprintf(out, cap, "CVE-%.4s-%s", digits, digits + 4);
    return w > 0 && (size_t)w < cap;
}
