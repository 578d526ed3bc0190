/*
 * tokenize.c - the tokenizer and sentence splitter: turns a document's text
 * into tokens (code-point spans with CASIE_TOK_* flags) and sentences.
 *
 * Tuned on the CASIE corpus so that gold trigger and argument spans start and
 * end on token boundaries.  The method is spaCy's: cut the text at white space
 * into chunks, peel prefixes (opening quotes and brackets, currency symbols)
 * and suffixes (closing punctuation, a final period unless it belongs to an
 * abbreviation, possessive 's, contractions n't 'll 're 've 'd 'm) off each
 * chunk, then split what is left at punctuation that does not join two
 * alphanumeric characters.  URLs, e-mail addresses, domains, file names, IPv4
 * addresses, CVE ids, version numbers and numbers with , or . stay whole.
 *
 * White space is Unicode Z*, control characters (tab, newline, NUL) and
 * format characters (soft hyphen, LRM, ZWSP) that do not sit between two
 * alphanumeric characters; it belongs to no token.  Every other code point
 * belongs to exactly one token.
 *
 * Sentences end after . ! ? or an ellipsis (and any closing quotes or brackets
 * right after it) when white space and a token starting with an uppercase
 * letter, a digit or an opening quote or bracket follow (after an ellipsis:
 * an uppercase letter); after an abbreviation (U.S., a.m.) only when a common
 * sentence-opening word follows ("Inc. The": the period is then split off as
 * its own token); and at a missing space ("compromised.The").  Headlines that
 * run into the first sentence are not split.
 *
 * Not here: Unicode decoding (utf8.c), features (features.c).  No regex
 * engine, no per-token allocation: one scratch array per call, output arrays
 * grown geometrically.
 */
#include "internal.h"
#include "cve_id.h"
#include "tokenize.h"

#include <string.h>
#include <utf8proc.h>

/* ------------------------------------------------------------------------ */
/* Character classes                                                        */
/* ------------------------------------------------------------------------ */

enum {
    K_SPACE = 0, /* white space, controls */
    K_LOWER,     /* Ll */
    K_UPPER,     /* Lu, Lt */
    K_LETTER,    /* other letters and combining marks */
    K_DIGIT,     /* N* */
    K_PUNCT,     /* punctuation and symbols */
    K_FORMAT     /* Cf: joins two alphanumerics, else white space */
};

#define IS_ALNUM(k) ((k) >= K_LOWER && (k) <= K_DIGIT)
#define IS_ALPHA(k) ((k) >= K_LOWER && (k) <= K_LETTER)

#define P_ K_PUNCT
#define S_ K_SPACE
#define D_ K_DIGIT
#define U_ K_UPPER
#define L_ K_LOWER
static const uint8_t ASCII_CLASS[128] = {
    S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_,
    S_, S_, S_, S_, S_, S_, S_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, D_, D_, D_, D_,
    D_, D_, D_, D_, D_, D_, P_, P_, P_, P_, P_, P_, P_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_,
    U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, P_, P_, P_, P_, P_, P_, L_, L_, L_, L_, L_, L_, L_,
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, P_, P_, P_, P_, S_};
#undef P_
#undef S_
#undef D_
#undef U_
#undef L_

static uint8_t char_class(uint32_t cp) {
    if (cp < 128) return ASCII_CLASS[cp];
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LL:
        return K_LOWER;
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return K_UPPER;
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return K_LETTER;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return K_DIGIT;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
        return K_SPACE;
    case UTF8PROC_CATEGORY_CF:
        return K_FORMAT;
    default:
        return K_PUNCT;
    }
}

static int is_apos(uint32_t c) { return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x02BC; }
static int is_open(uint32_t c) {
    return c == '"' || c == '\'' || c == '(' || c == '[' || c == '{' || c == '<' || c == 0x201C || c == 0x2018 ||
           c == 0x00AB || c == 0x2039 || c == 0x201E || c == 0x201A;
}
static int is_close(uint32_t c) {
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == '>' || c == 0x201D || c == 0x2019 ||
           c == 0x00BB || c == 0x203A;
}
static int is_currency(uint32_t c) {
    return c == '$' || (c >= 128 && utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_SC);
}
/* Punctuation peeled off the end of a chunk (besides quotes and brackets). */
static int is_trail(uint32_t c) {
    return c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == 0x2026 || c == '%' || c == '*' ||
           c == 0x2014 || c == 0x2013 || c == 0x2012 || c == 0x2015 || c == 0x2212;
}
static uint32_t lower_ascii(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* ------------------------------------------------------------------------ */
/* Tokenizer state                                                          */
/* ------------------------------------------------------------------------ */

typedef struct tk {
    const uint32_t *c; /* (n + 1,) code points, c[n] = 0 */
    const uint8_t *k;  /* (n + 1,) classes, k[n] = K_SPACE */
    int32_t n;
    casie_token *tok;
    size_t n_tok, cap;
    int nomem;
} tk;

static void emit(tk *t, int32_t s, int32_t e, uint32_t flags) {
    if (t->n_tok == t->cap && casie__grow((void **)&t->tok, &t->cap, t->n_tok + 1, sizeof *t->tok)) {
        t->nomem = 1;
        return;
    }
    casie_token *o = &t->tok[t->n_tok++];
    o->start = s;
    o->end = e;
    o->sent = 0;
    o->flags = flags;
}

/* Does c[i..) start with the ASCII string s (case-insensitive), within [i, b)? */
static int match_ci(const tk *t, int32_t i, int32_t b, const char *s) {
    for (; *s; s++, i++)
        if (i >= b || lower_ascii(t->c[i]) != (uint32_t)(unsigned char)*s) return 0;
    return 1;
}

/* Is c[i, e) equal to the ASCII word w (case-sensitive)? */
static int eq(const tk *t, int32_t i, int32_t e, const char *w) {
    for (; *w; w++, i++)
        if (i >= e || t->c[i] != (uint32_t)(unsigned char)*w) return 0;
    return i == e;
}

static int in_list(const tk *t, int32_t i, int32_t e, const char *const *list) {
    if (e - i > 12) return 0;
    for (; *list; list++)
        if (eq(t, i, e, *list)) return 1;
    return 0;
}

static int in_list_ci(const tk *t, int32_t i, int32_t e, const char *const *list) {
    if (e - i > 12) return 0;
    for (; *list; list++) {
        const char *w = *list;
        int32_t j = i;
        while (*w && j < e && lower_ascii(t->c[j]) == (uint32_t)(unsigned char)*w)
            w++, j++;
        if (!*w && j == e) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Word lists                                                               */
/* ------------------------------------------------------------------------ */

/* Abbreviations written with a final period (without it here). */
static const char *const ABBREV_TITLE[] = {/* never end a sentence */
                                           "Mr",  "Mrs", "Ms",     "Dr",  "Prof", "St",     "Gov", "Sen",  "Rep",
                                           "Gen", "Lt",  "Col",    "Sgt", "Capt", "Rev",    "Hon", "Pres", "Supt",
                                           "Cpl", "Adm", "Maj",    "Mt",  "Ft",   "Messrs", "vs",  "No",   "Nos",
                                           "Vol", "Fig", "approx", "Ph",  "e.g",  "i.e",    "cf",  "al",   NULL};
static const char *const ABBREV_OTHER[] = {/* may end a sentence */
                                           "Inc",  "Corp", "Ltd",  "Co",   "Jr",   "Sr",   "Bros",  "etc",  "Jan",
                                           "Feb",  "Mar",  "Apr",  "Jun",  "Jul",  "Aug",  "Sep",   "Sept", "Oct",
                                           "Nov",  "Dec",  "Mon",  "Tue",  "Tues", "Wed",  "Thu",   "Thur", "Thurs",
                                           "Fri",  "Sat",  "Sun",  "Dept", "Ave",  "Blvd", "Calif", "Mass", "Fla",
                                           "Ariz", "Conn", "Penn", "Tenn", "Minn", "Govt", "Univ",  "Assn", "Pty",
                                           "Ltda", "Md",   "Va",   "Pa",   NULL};

/* Capitalized words that open a sentence after an abbreviation ("... Inc. The"). */
static const char *const OPENERS[] = {"The",         "This",
                                      "That",        "These",
                                      "Those",       "It",
                                      "Its",         "He",
                                      "She",         "They",
                                      "We",          "I",
                                      "In",          "On",
                                      "At",          "A",
                                      "An",          "But",
                                      "And",         "However",
                                      "According",   "After",
                                      "As",          "For",
                                      "If",          "When",
                                      "While",       "Some",
                                      "There",       "Our",
                                      "His",         "Her",
                                      "Their",       "You",
                                      "Your",        "Also",
                                      "Since",       "Although",
                                      "Though",      "Other",
                                      "Meanwhile",   "So",
                                      "What",        "Last",
                                      "Now",         "One",
                                      "Two",         "Three",
                                      "Many",        "Most",
                                      "More",        "Even",
                                      "Still",       "Then",
                                      "To",          "With",
                                      "Without",     "By",
                                      "From",        "Of",
                                      "Over",        "Earlier",
                                      "Later",       "Today",
                                      "Yesterday",   "Such",
                                      "Both",        "Each",
                                      "Every",       "Any",
                                      "Anyone",      "Several",
                                      "Another",     "Why",
                                      "How",         "Who",
                                      "Where",       "Once",
                                      "Because",     "Unfortunately",
                                      "Fortunately", "Furthermore",
                                      "Moreover",    "Additionally",
                                      "Instead",     "Nevertheless",
                                      "Finally",     "First",
                                      "Second",      "Thus",
                                      "Therefore",   "Despite",
                                      "During",      "Among",
                                      "Following",   "Given",
                                      "Based",       "Like",
                                      "Unlike",      "Just",
                                      "Only",        "Not",
                                      "Using",       "Here",
                                      "Whether",     "Similar",
                                      "Besides",     "Yet",
                                      "Upon",        "Specifically",
                                      "Please",      "Due",
                                      "All",         "No",
                                      "Researchers", "Officials",
                                      "Police",      "Hackers",
                                      "Users",       "Attackers",
                                      "Experts",     NULL};

/* File name extensions (lowercase). */
static const char *const FILE_EXT[] = {
    "exe",  "dll", "doc",   "docx",  "docm",      "xls",   "xlsx", "xlsm",  "ppt",  "pptx",   "pdf", "zip",
    "rar",  "7z",  "js",    "jse",   "vbs",       "vbe",   "wsf",  "hta",   "scr",  "bat",    "cmd", "ps1",
    "jar",  "apk", "ipa",   "txt",   "rtf",       "lnk",   "iso",  "img",   "msi",  "bin",    "sh",  "py",
    "php",  "asp", "aspx",  "jsp",   "html",      "htm",   "png",  "jpg",   "jpeg", "gif",    "csv", "sql",
    "json", "xml", "tar",   "gz",    "tgz",       "dat",   "cab",  "dmg",   "pkg",  "sys",    "tmp", "log",
    "cfg",  "ini", "locky", "crypt", "encrypted", "wncry", "wnry", "zepto", "odin", "cerber", "mp3", "mp4",
    "eml",  "msg", "swf",   "svg",   "ico",       "bak",   "db",   NULL};

/* Top-level domains (lowercase); any two-letter ending also counts. */
static const char *const TLD[] = {"com",   "net",     "org",      "gov",    "edu",   "mil",    "int",  "info",
                                  "biz",   "onion",   "xyz",      "top",    "club",  "online", "site", "website",
                                  "tech",  "store",   "work",     "live",   "app",   "dev",    "io",   "ly",
                                  "name",  "pro",     "mobi",     "asia",   "space", "link",   "news", "cloud",
                                  "email", "support", "services", "online", NULL};

/* Number suffixes: 2.5m, 1990s, 21st, 64bit. */
static const char *const NUM_SUFFIX[] = {"k",    "m",    "mn", "b",  "bn", "million", "billion", "s", "st",
                                         "nd",   "rd",   "th", "gb", "mb", "kb",      "tb",      "x", "bit",
                                         "mbps", "gbps", "pm", "am", "h",  "k+",      NULL};

/* ------------------------------------------------------------------------ */
/* Abbreviations                                                            */
/* ------------------------------------------------------------------------ */

enum { AB_NONE = 0, AB_TITLE = 1, AB_OTHER = 2, AB_INITIAL = 3 };

/* Letters alternating with periods: U.S, e.g, a.m (one letter is not). */
static int is_dotted(const tk *t, int32_t i, int32_t e) {
    if (e - i < 3 || (e - i) % 2 == 0) return 0;
    for (int32_t j = i; j < e; j++)
        if (((j - i) % 2 == 0) ? !IS_ALPHA(t->k[j]) : t->c[j] != '.') return 0;
    return 1;
}

/* Is the next word after white space at j (past opening quotes) a common
 * sentence opener?  long_only: ignore the one-letter openers A and I. */
static int opener_follows(const tk *t, int32_t j, int long_only) {
    if (j >= t->n || t->k[j] != K_SPACE) return 0;
    while (j < t->n && t->k[j] == K_SPACE)
        j++;
    while (j < t->n && is_open(t->c[j]))
        j++;
    int32_t e = j;
    while (e < t->n && IS_ALPHA(t->k[e]))
        e++;
    if (long_only && e - j < 2) return 0;
    return in_list(t, j, e, OPENERS);
}

/* Kind of abbreviation c[i, e) is when a period follows it (c[e] == '.'). */
static int abbrev_kind(const tk *t, int32_t i, int32_t e) {
    int32_t len = e - i;
    if (len <= 0) return AB_NONE;
    if (len == 1) return t->k[i] == K_UPPER ? AB_INITIAL : AB_NONE;
    if (is_dotted(t, i, e)) return (eq(t, i, e, "e.g") || eq(t, i, e, "i.e")) ? AB_TITLE : AB_OTHER;
    if (in_list(t, i, e, ABBREV_TITLE)) {
        /* "No." and "Nos." only before a number */
        if (eq(t, i, e, "No") || eq(t, i, e, "Nos")) {
            int32_t j = e + 1;
            while (j < t->n && t->k[j] == K_SPACE)
                j++;
            return t->k[j] == K_DIGIT ? AB_TITLE : AB_NONE;
        }
        return AB_TITLE;
    }
    if (in_list(t, i, e, ABBREV_OTHER)) return AB_OTHER;
    return AB_NONE;
}

/* ------------------------------------------------------------------------ */
/* Classifying a word-like token                                            */
/* ------------------------------------------------------------------------ */

/* Flags of the alphanumeric run c[i, e) (with its inner joiners). */
static uint32_t classify(const tk *t, int32_t i, int32_t e) {
    const uint32_t *c = t->c;
    const uint8_t *k = t->k;
    int n_alpha = 0, n_digit = 0, n_dot = 0, n_other = 0, at = -1;
    int32_t last_dot = -1;
    for (int32_t j = i; j < e; j++) {
        if (IS_ALPHA(k[j]))
            n_alpha++;
        else if (k[j] == K_DIGIT)
            n_digit++;
        else if (c[j] == '.')
            n_dot++, last_dot = j;
        else if (c[j] == '[' && j + 3 < e && c[j + 1] == '.' && c[j + 2] == ']')
            n_dot++, last_dot = j + 2, j += 2;
        else if (c[j] == '@' && at < 0)
            at = (int)(j - i);
        else
            n_other++;
    }
    if (at > 0 && last_dot > i + at) return CASIE_TOK_EMAIL | CASIE_TOK_URL;
    if (at == 0) return CASIE_TOK_WORD; /* @handle */
    if (n_alpha == 0 && n_digit > 0) {
        /* IPv4: four groups of 1-3 digits */
        if (n_dot == 3 && n_other == 0) {
            int groups = 0, len = 0, val = 0, ok = 1;
            for (int32_t j = i; j <= e && ok; j++) {
                if (j == e || c[j] == '.') {
                    if (len < 1 || len > 3 || val > 255) ok = 0;
                    groups++, len = 0, val = 0;
                } else if (++len <= 3) { /* a longer group is no octet: its value cannot matter */
                    val = val * 10 + (int)(c[j] - '0');
                }
            }
            if (ok && groups == 4) return CASIE_TOK_IP;
        }
        if (n_dot >= 2 && n_other == 0) return CASIE_TOK_NUMBER | CASIE_TOK_VERSION;
        return CASIE_TOK_NUMBER;
    }
    if (n_digit > 0) {
        /* v2.1, V10 */
        if ((c[i] == 'v' || c[i] == 'V') && k[i + 1] == K_DIGIT) {
            int32_t j = i + 1;
            while (j < e && (k[j] == K_DIGIT || c[j] == '.'))
                j++;
            if (j == e) return CASIE_TOK_NUMBER | CASIE_TOK_VERSION;
        }
        /* 2.5m, 1990s, 21st */
        if (k[i] == K_DIGIT) {
            int32_t j = i;
            while (j < e && (k[j] == K_DIGIT || c[j] == '.' || c[j] == ','))
                j++;
            if (in_list_ci(t, j, e, NUM_SUFFIX)) return CASIE_TOK_NUMBER;
        }
    }
    if (n_dot > 0 && n_alpha > 0 && last_dot + 1 < e) {
        /* example.com, invoice.doc.exe: by the last part */
        if (in_list_ci(t, last_dot + 1, e, FILE_EXT)) return CASIE_TOK_FILE;
        if (in_list_ci(t, last_dot + 1, e, TLD) ||
            (e - last_dot == 3 && IS_ALPHA(k[last_dot + 1]) && IS_ALPHA(k[last_dot + 2])))
            return CASIE_TOK_URL;
    }
    return n_alpha ? CASIE_TOK_WORD : CASIE_TOK_PUNCT;
}

/* ------------------------------------------------------------------------ */
/* Chunks                                                                   */
/* ------------------------------------------------------------------------ */

/* May c[j] (not alphanumeric, at i < j < b - 1) join the alphanumerics on its
 * two sides into one token? */
static int joins(const tk *t, int32_t j) {
    uint32_t ch = t->c[j];
    uint8_t p = t->k[j - 1], q = t->k[j + 1];
    if (!IS_ALNUM(p) || !IS_ALNUM(q)) return 0;
    switch (ch) {
    case '-':
    case '_':
    case '.':
    case '@':
    case 0x2010:
    case 0x2011:
        return 1;
    case ',':
    case ':':
    case '/':
        return p == K_DIGIT && q == K_DIGIT;
    case '&':
        return p == K_UPPER && q == K_UPPER;
    case '\'':
    case 0x2019:
        return IS_ALPHA(p) && IS_ALPHA(q);
    default:
        return t->k[j] == K_FORMAT;
    }
}

/* What the word scanner knows about the characters it has passed, kept up
 * to date incrementally so that no check rescans the word. */
typedef struct scan {
    int32_t upto;             /* state covers c[i, upto) */
    int all_lower, all_digit; /* every character so far is Ll / a digit */
    int numeric, comma;       /* only digits , . so far; a comma seen */
} scan;

static void scan_to(const tk *t, scan *st, int32_t j) {
    for (; st->upto < j; st->upto++) {
        uint32_t ch = t->c[st->upto];
        uint8_t k = t->k[st->upto];
        st->all_lower &= k == K_LOWER;
        st->all_digit &= k == K_DIGIT;
        st->numeric &= k == K_DIGIT || ch == ',' || ch == '.';
        st->comma |= ch == ',';
    }
}

/* "536,727accounts": a number with digit groups, c[i, j), runs into a word
 * that is not a number suffix (2,000m). */
static int grouped_number_ends(const tk *t, scan *st, int32_t j) {
    scan_to(t, st, j);
    if (!st->numeric || !st->comma) return 0;
    int32_t e = j;
    while (e - j <= 12 && IS_ALPHA(t->k[e]))
        e++;
    return !in_list_ci(t, j, e, NUM_SUFFIX);
}

/* "compromised.The", "29.Wilson": a sentence end with its space missing.  The
 * word so far, c[i, j), is lowercase (2+ letters) or a short number; c[j] is
 * '.', then a capitalized word not followed by another '.' (Trojan.Win.A). */
static int missing_space(const tk *t, scan *st, int32_t i, int32_t j, int32_t b) {
    const uint8_t *k = t->k;
    if (j + 2 >= b || k[j + 1] != K_UPPER || k[j + 2] != K_LOWER) return 0;
    scan_to(t, st, j);
    if (!((st->all_lower && j - i >= 2) || (st->all_digit && j - i <= 4))) return 0;
    int32_t e = j + 1;
    while (IS_ALPHA(k[e]))
        e++;
    return !(t->c[e] == '.' && IS_ALNUM(k[e + 1]));
}

/* End of a URL starting at i (scheme:// or www.): the rest of the core. */
static int url_start(const tk *t, int32_t i, int32_t b) {
    return match_ci(t, i, b, "http://") || match_ci(t, i, b, "https://") || match_ci(t, i, b, "hxxp://") ||
           match_ci(t, i, b, "hxxps://") || match_ci(t, i, b, "ftp://") || match_ci(t, i, b, "www.");
}

/* Tokenizes the core of a chunk, [a, b), after prefixes and suffixes are off. */
static void core(tk *t, int32_t a, int32_t b) {
    const uint32_t *c = t->c;
    const uint8_t *k = t->k;
    int32_t i = a;
    while (i < b && !t->nomem) {
        uint8_t ki = k[i];
        if (ki == K_FORMAT) {
            i++;
            continue;
        }
        int word = IS_ALNUM(ki);
        /* @handle, and .NET / .exe at the start of a chunk */
        if (!word && i + 1 < b && IS_ALNUM(k[i + 1]) && (c[i] == '@' || (c[i] == '.' && i == a))) word = 1;
        if (word) {
            int32_t cl = casie__cve_len(c, i, b); /* CVE–2018–0986, cve-2018-0986 */
            if (cl) {
                emit(t, i, i + cl, CASIE_TOK_CVE);
                i += cl;
                continue;
            }
            if (url_start(t, i, b)) {
                emit(t, i, b, CASIE_TOK_URL);
                return;
            }
            int32_t j = i + 1;
            scan st = {i, 1, 1, 1, 0};
            while (j < b) {
                if (IS_ALNUM(k[j])) {
                    if (IS_ALPHA(k[j]) && k[j - 1] == K_DIGIT && grouped_number_ends(t, &st, j)) break;
                    j++;
                    continue;
                }
                if (c[j] == '.' && missing_space(t, &st, i, j, b)) break;
                if (j + 1 < b && joins(t, j)) {
                    j += 2;
                    continue;
                }
                /* defanged example[.]com */
                if (c[j] == '[' && j + 3 < b && c[j + 1] == '.' && c[j + 2] == ']' && IS_ALNUM(k[j + 3])) {
                    j += 4;
                    continue;
                }
                /* U.S.-based: keep the abbreviation's period */
                if (c[j] == '.' && abbrev_kind(t, i, j) != AB_NONE) {
                    j++;
                    break;
                }
                break;
            }
            uint32_t f;
            if (c[j - 1] == '.' && j - 1 > i)
                f = CASIE_TOK_WORD | CASIE_TOK_ABBREV;
            else
                f = classify(t, i, j);
            /* example.com/path: a domain followed by a path is a URL */
            if ((f & CASIE_TOK_URL) && !(f & CASIE_TOK_EMAIL) && j < b && c[j] == '/') {
                emit(t, i, b, CASIE_TOK_URL);
                return;
            }
            if ((f & CASIE_TOK_NUMBER) && i > 0 && is_currency(c[i - 1])) f |= CASIE_TOK_MONEY;
            if ((f & CASIE_TOK_NUMBER) && j < t->n && c[j] == '%') f |= CASIE_TOK_PERCENT;
            emit(t, i, j, f);
            i = j;
            continue;
        }
        /* punctuation: runs of . - * = _ ~ stay together, the rest is one
         * character per token */
        int32_t j = i + 1;
        uint32_t ch = c[i];
        if (ch == '.' || ch == '-' || ch == '*' || ch == '=' || ch == '_' || ch == '~' || ch == '!' || ch == '?')
            while (j < b && c[j] == ch)
                j++;
        uint32_t f = CASIE_TOK_PUNCT;
        if (is_currency(ch)) f |= CASIE_TOK_MONEY;
        if (ch == '%') f |= CASIE_TOK_PERCENT;
        emit(t, i, j, f);
        i = j;
    }
}

#define MAX_SUFFIX 32

/* Tokenizes one white-space-free chunk [a, b). */
static void chunk(tk *t, int32_t a, int32_t b) {
    const uint32_t *c = t->c;
    const uint8_t *k = t->k;
    /* prefixes */
    while (a < b) {
        if (k[a] == K_FORMAT)
            a++;
        else if (is_open(c[a]) && !(is_apos(c[a]) && b - a >= 2 && (c[a + 1] == 's' || c[a + 1] == 'S') &&
                                    (b - a == 2 || !IS_ALNUM(k[a + 2])))) {
            emit(t, a, a + 1, CASIE_TOK_PUNCT);
            a++;
        } else if (is_currency(c[a])) {
            emit(t, a, a + 1, CASIE_TOK_PUNCT | CASIE_TOK_MONEY);
            a++;
        } else
            break;
    }
    /* suffixes, innermost last */
    int32_t sfx_s[MAX_SUFFIX], sfx_e[MAX_SUFFIX];
    uint32_t sfx_f[MAX_SUFFIX];
    int ns = 0;
    while (b > a && ns < MAX_SUFFIX) {
        uint32_t ch = c[b - 1];
        int32_t len = b - a;
        int32_t s = -1;
        uint32_t f = CASIE_TOK_PUNCT;
        if (k[b - 1] == K_FORMAT) {
            b--;
            continue;
        }
        /* possessive 's and contractions */
        if (len >= 3 && (ch == 's' || ch == 'S' || ch == 'd' || ch == 'D' || ch == 'm' || ch == 'M') &&
            is_apos(c[b - 2]) && IS_ALNUM(k[b - 3]))
            s = b - 2, f = CASIE_TOK_WORD;
        else if (len >= 4 && (ch == 't' || ch == 'T') && is_apos(c[b - 2]) && (c[b - 3] == 'n' || c[b - 3] == 'N') &&
                 IS_ALPHA(k[b - 4]))
            s = b - 3, f = CASIE_TOK_WORD;
        else if (len >= 4 && is_apos(c[b - 3]) && IS_ALPHA(k[b - 4]) &&
                 (match_ci(t, b - 2, b, "ll") || match_ci(t, b - 2, b, "re") || match_ci(t, b - 2, b, "ve")))
            s = b - 3, f = CASIE_TOK_WORD;
        else if (ch == ')' || ch == ']' || ch == '}') {
            uint32_t open = ch == ')' ? '(' : ch == ']' ? '[' : '{';
            int depth = 0;
            for (int32_t j = a; j < b - 1; j++)
                depth += (c[j] == open) - (c[j] == ch);
            if (depth > 0) break; /* balanced inside: Windows(R), wiki/X_(y) */
            s = b - 1;
        } else if (is_close(ch) || is_trail(ch)) {
            s = b - 1;
            while (s > a && c[s - 1] == ch && (ch == '!' || ch == '?' || ch == '*'))
                s--;
            if (ch == '%') f |= CASIE_TOK_PERCENT;
        } else if (ch == '.') {
            if (len >= 2 && c[b - 2] == '.') {
                s = b - 2;
                while (s > a && c[s - 1] == '.')
                    s--;
            } else {
                int ab = abbrev_kind(t, a, b - 1);
                /* "Apple Inc. The ..." and "Plan B. This ...": the period ends
                 * the sentence; "U.S." keeps it either way */
                if (ab == AB_NONE || ((ab == AB_INITIAL || (ab == AB_OTHER && !is_dotted(t, a, b - 1))) &&
                                      opener_follows(t, b, ab == AB_INITIAL)))
                    s = b - 1;
                else
                    break;
            }
        } else
            break;
        sfx_s[ns] = s, sfx_e[ns] = b, sfx_f[ns] = f, ns++;
        b = s;
    }
    if (a < b) core(t, a, b);
    while (ns > 0) {
        ns--;
        emit(t, sfx_s[ns], sfx_e[ns], sfx_f[ns]);
    }
}

/* ------------------------------------------------------------------------ */
/* Sentences                                                                */
/* ------------------------------------------------------------------------ */

static int is_terminator(const tk *t, const casie_token *x) {
    if (!(x->flags & CASIE_TOK_PUNCT)) return 0;
    uint32_t ch = t->c[x->start];
    return ch == '.' || ch == '!' || ch == '?' || ch == 0x2026;
}

/* Does token y open a sentence (after a terminator and white space)? */
static int opens_sentence(const tk *t, const casie_token *y) {
    uint32_t ch = t->c[y->start];
    uint8_t k = t->k[y->start];
    if (k == K_UPPER || k == K_DIGIT) return 1;
    if (is_open(ch) || is_currency(ch) || ch == '@' || ch == '#' || ch == 0x2014 || ch == 0x2013) return 1;
    if (k == K_LETTER) return 1;
    /* iPhone, eBay: a lowercase letter then an uppercase one */
    return k == K_LOWER && y->end - y->start > 1 && t->k[y->start + 1] == K_UPPER;
}

/* A sentence is cut after this many tokens.  None in the corpus has more
 * than 132; text with no sentence ends (a run of commas, a list of numbers)
 * would otherwise be one sentence, and extraction keeps per-token arrays of
 * the longest sentence (its scores, marginals and Viterbi table, about 200
 * bytes a token), so this bounds them. */
#define MAX_SENT_TOKENS 1024

static int split_sentences(tk *t, casie_sentence **sents, int32_t *n_sents) {
    casie_token *tok = t->tok;
    int32_t n = (int32_t)t->n_tok;
    size_t cap = 0, ns = 0;
    casie_sentence *S = NULL;
    if (casie__grow((void **)&S, &cap, 1 + (size_t)n / 16, sizeof *S)) return CASIE_ERR_NOMEM;
    int32_t begin = 0;
    for (int32_t i = 0; i < n; i++) {
        int end = 0;
        int32_t last = i;
        if (is_terminator(t, &tok[i])) {
            /* closing quotes and brackets right after the terminator */
            while (last + 1 < n && tok[last + 1].start == tok[last].end && is_close(t->c[tok[last + 1].start]) &&
                   tok[last + 1].end - tok[last + 1].start == 1)
                last++;
            if (last + 1 < n && tok[last + 1].start > tok[last].end && opens_sentence(t, &tok[last + 1])) end = 1;
            /* "compromised.The": split by the tokenizer, no space */
            if (last == i && last + 1 < n && i > 0 && tok[i].end - tok[i].start == 1 && t->c[tok[i].start] == '.' &&
                tok[i - 1].end == tok[i].start && tok[i + 1].start == tok[i].end &&
                (t->k[tok[i].start - 1] == K_LOWER || t->k[tok[i].start - 1] == K_DIGIT) &&
                t->k[tok[i + 1].start] == K_UPPER && t->k[tok[i + 1].start + 1] == K_LOWER)
                end = 1;
            /* "... the attack. " followed by lowercase: not an end; an
             * ellipsis needs an uppercase letter after it */
            if (end && (t->c[tok[i].start] == 0x2026 || tok[i].end - tok[i].start > 1)) {
                int32_t q = last + 1;
                while (q + 1 < n && is_open(t->c[tok[q].start]) && tok[q].end - tok[q].start == 1)
                    q++;
                if (t->k[tok[q].start] != K_UPPER) end = 0;
            }
        } else if ((tok[i].flags & CASIE_TOK_ABBREV) && i + 1 < n && tok[i + 1].start > tok[i].end) {
            int32_t s = tok[i].start, e = tok[i].end - 1;
            if (abbrev_kind(t, s, e) == AB_OTHER && in_list(t, tok[i + 1].start, tok[i + 1].end, OPENERS)) end = 1;
        }
        if (last == n - 1) end = 1;
        if (last - begin + 1 >= MAX_SENT_TOKENS) last = begin + MAX_SENT_TOKENS - 1, end = 1;
        if (!end) continue;
        if (casie__grow((void **)&S, &cap, ns + 1, sizeof *S)) {
            free(S);
            return CASIE_ERR_NOMEM;
        }
        S[ns].start = tok[begin].start;
        S[ns].end = tok[last].end;
        S[ns].tok_begin = begin;
        S[ns].tok_end = last + 1;
        for (int32_t j = begin; j <= last; j++)
            tok[j].sent = (int32_t)ns;
        ns++;
        begin = last + 1;
        i = last;
    }
    *sents = S;
    *n_sents = (int32_t)ns;
    return CASIE_OK;
}

/* ---- entry points: casie__tokenize, and casie_doc_analyze (once) ---- */

int casie__tokenize(casie_doc *doc, casie_error *err) {
    if (!doc) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "no document");
    const char *id = doc->id ? doc->id : "document";
    int32_t n = doc->text ? doc->n_cp : 0;
    uint32_t *cps = malloc(((size_t)n + 1) * (sizeof *cps + 1));
    tk t = {0};
    casie_sentence *sents = NULL;
    int32_t n_sents = 0;
    if (!cps) goto nomem;
    uint8_t *cls = (uint8_t *)(cps + n + 1);

    /* decode and classify */
    const unsigned char *p = (const unsigned char *)doc->text;
    for (int32_t i = 0; i < n; i++) {
        uint32_t cp = *p;
        if (cp < 128) {
            p++;
            cps[i] = cp;
            cls[i] = ASCII_CLASS[cp];
            continue;
        }
        int adv;
        cp = casie__utf8_get((const char *)p, &adv);
        p += adv;
        cps[i] = cp;
        cls[i] = char_class(cp);
    }
    cps[n] = 0;
    cls[n] = K_SPACE;
    t.c = cps;
    t.k = cls;
    t.n = n;
    if (casie__grow((void **)&t.tok, &t.cap, 16 + (size_t)n / 4, sizeof *t.tok)) goto nomem;

    /* chunks between white space */
    for (int32_t i = 0; i < n && !t.nomem;) {
        if (cls[i] == K_SPACE) {
            i++;
            continue;
        }
        int32_t j = i + 1;
        while (cls[j] != K_SPACE)
            j++;
        chunk(&t, i, j);
        i = j;
    }
    if (t.nomem) goto nomem;
    if (split_sentences(&t, &sents, &n_sents)) goto nomem;

    free(doc->tokens);
    free(doc->sents);
    doc->tokens = t.tok;
    doc->n_tokens = (int32_t)t.n_tok;
    doc->sents = sents;
    doc->n_sents = n_sents;
    free(cps);
    return CASIE_OK;
nomem:
    free(cps);
    free(t.tok);
    return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory tokenizing", id);
}

int casie_doc_analyze(casie_doc *doc, casie_error *err) {
    if (!doc) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "no document");
    if (doc->tokens || (doc->n_cp == 0 && doc->sents)) return CASIE_OK;
    return casie__tokenize(doc, err);
}
