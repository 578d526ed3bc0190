/*
 * names.c - which argument mentions name someone or something in
 * particular, and the most specific mention an argument stands for.
 *
 * A mention names something when one of its words (past a leading
 * determiner or pronoun) is a name word: one with a digit and a letter or
 * a dot (APT28, 2.17.1, CVE-2018-0950; not "86"), one with a capital letter after its first letter (REvil,
 * WannaCry, IT), or a capitalised word that is not the first word of its
 * sentence, or that is but occurs capitalised inside a sentence elsewhere
 * in the article ("Equifax said" names Equifax when the article also says
 * "breached Equifax"), or that is written in lower case nowhere in the
 * article and is none of a few nouns that stand for unnamed participants
 * ("Microsoft released" names Microsoft; "Hackers", "Patch" and "Users" at
 * the start of a sentence do not).  "the company",
 * "users", "The attackers", "These emails", "the flaw" and pronouns name
 * nothing in particular.
 *
 * An argument that names nothing stands for the first named mention of the
 * same role in its hopper (coreferent events share their participants);
 * failing that, for the one name the whole article gives
 * that role ("the gang" for REvil when REvil is the article's only named
 * attacker).  Only participants' roles are resolved (attacker, victim,
 * tool, vulnerability, patch, product, vendor, discoverer, ...), not data,
 * amounts or times.  Used for STIX names (stix.c) and the summary of `casie render`.
 *
 * Also here: whether a mention is a named group of attackers (an intrusion
 * set in STIX, never a tool).
 *
 * Not here: the STIX writer's key normalisation (stix.c).
 */
#include "internal.h"
#include "doc.h"
#include "names.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Words that open a noun phrase without naming anything. */
static int is_determiner(const char *w, size_t n) {
    static const char *const D[] = {
        "the",  "a",     "an",      "this", "that", "these", "those",   "its",    "their",    "his",     "her",
        "our",  "my",    "your",    "some", "any",  "all",   "both",    "each",   "every",    "several", "many",
        "most", "other", "another", "such", "no",   "one",   "it",      "they",   "them",     "he",      "she",
        "we",   "you",   "i",       "us",   "who",  "which", "someone", "anyone", "everyone", NULL};
    for (int i = 0; D[i]; i++)
        if (strlen(D[i]) == n && !strncasecmp(w, D[i], n)) return 1;
    return 0;
}

/* Does word w[0, n), as written (capitalised), occur in doc's text (its
 * first 256 KB, which bounds the cost on huge inputs) other than as the
 * first word of a sentence? */
static int occurs_inside(const casie_doc *doc, const char *w, size_t n) {
    size_t len = doc->text_len < ((size_t)256 << 10) ? doc->text_len : ((size_t)256 << 10);
    const char *t = doc->text;
    if (n == 0) return 0;
    for (size_t i = 1; i + n <= len; i++) {
        if (t[i] != w[0] || memcmp(t + i, w, n)) continue;
        if (isalnum((unsigned char)t[i - 1]) || (i + n < len && isalnum((unsigned char)t[i + n]))) continue;
        size_t k = i; /* the character before it, past spaces, quotes and brackets */
        while (k > 0 && strchr(" \t\"'([", t[k - 1]))
            k--;
        if (k > 0 && !strchr(".!?:\n\r", t[k - 1])) return 1;
    }
    return 0;
}

/* Does the lower-case form of word w[0, n) occur as a word in doc's text
 * (its first 256 KB)? */
static int occurs_lower(const casie_doc *doc, const char *w, size_t n) {
    size_t len = doc->text_len < ((size_t)256 << 10) ? doc->text_len : ((size_t)256 << 10);
    const char *t = doc->text;
    char low[64];
    if (n == 0 || n >= sizeof low) return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)w[i]);
    for (size_t i = 0; i + n <= len; i++) {
        if (t[i] != low[0] || memcmp(t + i, low, n)) continue;
        if ((i == 0 || !isalnum((unsigned char)t[i - 1])) && (i + n == len || !isalnum((unsigned char)t[i + n])))
            return 1;
    }
    return 0;
}

/* The nouns news uses for participants it does not name, which a sentence
 * can open with ("Hackers stole ...") without the article using them again. */
static int is_common_head(const char *w, size_t n) {
    static const char *const H[] = {"hackers",       "attackers",   "criminals", "cybercriminals", "crooks",
                                    "scammers",      "users",       "customers", "people",         "victims",
                                    "researchers",   "officials",   "employees", "patients",       "students",
                                    "experts",       "authorities", "police",    "investigators",  "companies",
                                    "organizations", "businesses",  "hospitals", "ransomware",     "malware",
                                    "emails",        "messages",    "patches",   "updates",        NULL};
    for (int i = 0; H[i]; i++)
        if (strlen(H[i]) == n && !strncasecmp(w, H[i], n)) return 1;
    return 0;
}

/* Is code point offset `start` of doc the first word of a sentence (only
 * space, quotes and brackets between it and the text's start or a . ! ?
 * or line break)? */
static int sentence_initial(const casie_doc *doc, int32_t start) {
    for (int32_t i = start - 1; i >= 0; i--) {
        uint32_t c = casie__doc_cp(doc, i);
        if (c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '(' || c == '[' || c == 0x201C || c == 0x2018)
            continue;
        return c == '.' || c == '!' || c == '?' || c == '\n' || c == '\r' || c == ':';
    }
    return 1;
}

int casie__mention_named(const casie_doc *doc, const char *text, int32_t start) {
    if (!text) return 0;
    int first_word = 1;
    for (const char *p = text; *p;) {
        while (*p && !isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80))
            p++;
        const char *w = p;
        while (*p && (isalnum((unsigned char)*p) || ((unsigned char)*p & 0x80) || *p == '-' || *p == '.' || *p == '\''))
            p++;
        size_t n = (size_t)(p - w);
        if (!n) break;
        int at_start = w == text, digit = 0, inner_cap = 0, letter_or_dot = 0;
        for (size_t i = 0; i < n; i++) {
            digit |= isdigit((unsigned char)w[i]) != 0;
            letter_or_dot |= isalpha((unsigned char)w[i]) || (w[i] == '.' && i + 1 < n);
            inner_cap |= i > 0 && isupper((unsigned char)w[i]) && isalpha((unsigned char)w[i - 1]);
        }
        if (first_word && is_determiner(w, n)) {
            first_word = 0;
            continue;
        }
        first_word = 0;
        if ((digit && letter_or_dot) || inner_cap) return 1; /* APT28, 2.17.1, WannaCry; not "86" */
        if (isupper((unsigned char)w[0]) || ((unsigned char)w[0] & 0x80)) {
            if (!(at_start && doc && doc->text && start >= 0 && start < doc->n_cp && sentence_initial(doc, start)))
                return 1;
            if (occurs_inside(doc, w, n) || (!occurs_lower(doc, w, n) && !is_common_head(w, n))) return 1;
        }
    }
    return 0;
}

/* A named group of attackers (an intrusion set) rather than an actor: a
 * tracking name (APT28, FIN7, TA505, UNC2452), or a capitalized name followed
 * by a group word ("Lazarus Group", "Turkish Crime Family", "XMR Squad",
 * "Fancy Bear").  "a group of hackers", "the group" and "hacking groups" are
 * not.  A heuristic over the mention's words. */
int casie__is_group_name(const char *s) {
    static const char *const GROUP[] = {"group",      "gang",    "team",      "squad", "crew",  "family",
                                        "collective", "brokers", "syndicate", "bear",  "bears", "panda",
                                        "kitten",     "spider",  "chollima",  NULL};
    static const char *const TRACK[] = {"APT", "FIN", "TA", "UNC", NULL};
    int capital = 0, first = 1;
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t n = (size_t)(p - w);
        if (!n) break;
        if (first) {
            first = 0;
            if ((n == 1 && (*w == 'a' || *w == 'A')) || (n == 2 && !strncasecmp(w, "an", 2)) ||
                (n == 3 && !strncasecmp(w, "one", 3)) || (n == 4 && !strncasecmp(w, "some", 4)))
                return 0;
            if ((n == 3 && !strncasecmp(w, "the", 3)) || (n == 4 && !strncasecmp(w, "this", 4)) ||
                (n == 4 && !strncasecmp(w, "that", 4)))
                continue;
        }
        for (int i = 0; TRACK[i]; i++) {
            size_t t = strlen(TRACK[i]);
            if (n > t && !strncmp(w, TRACK[i], t) && isdigit((unsigned char)w[t])) return 1;
        }
        size_t m = n;
        while (m && !isalnum((unsigned char)w[m - 1]))
            m--; /* "Group," */
        for (int i = 0; GROUP[i]; i++)
            if (capital && m == strlen(GROUP[i]) && !strncasecmp(w, GROUP[i], m)) return 1;
        if (isupper((unsigned char)*w)) capital = 1;
    }
    return 0;
}

/* Roles filled by participants (who or what takes part), which one name
 * stands for across mentions; data, amounts and times are not resolved:
 * "personal information" is not the "Social Security numbers" of another
 * event. */
static int participant(int role) {
    static const char *const P[] = {"Attacker",
                                    "Victim",
                                    "Tool",
                                    "Trusted-Entity",
                                    "Vulnerability",
                                    "Discoverer",
                                    "Vulnerable_System",
                                    "Vulnerable_System_Owner",
                                    "Releaser",
                                    "Patch",
                                    NULL};
    const char *name = casie_role_name(role);
    for (int i = 0; P[i] && name; i++)
        if (!strcmp(name, P[i])) return 1;
    return 0;
}

/* Beyond this many arguments a document is no article: a capitalised first
 * word counts as a name without searching the text for its lower case, so
 * that the work stays linear. */
#define SEARCH_MAX_ARGS 4096

const char **casie_doc_arg_names(const casie_doc *doc, int *n_out, casie_error *err) {
    int n = 0;
    if (n_out) *n_out = 0;
    if (!doc) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_doc_arg_names: no document");
        return NULL;
    }
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int e = 0; e < doc->hoppers[h].n_events; e++)
            n += doc->hoppers[h].events[e].n_args;
    const char **out = calloc((size_t)n + 1, sizeof *out);
    const casie_arg **all = malloc(sizeof *all * ((size_t)n + 1));
    int *hop = malloc(sizeof *hop * ((size_t)n + 1));
    unsigned char *named = malloc((size_t)n + 1);
    if (!out || !all || !hop || !named) {
        free(out), free(all), free(hop), free(named);
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory naming arguments", doc->id ? doc->id : "document");
        return NULL;
    }
    int k = 0;
    for (int h = 0; h < doc->n_hoppers; h++)
        for (int e = 0; e < doc->hoppers[h].n_events; e++)
            for (int q = 0; q < doc->hoppers[h].events[e].n_args; q++) {
                const casie_arg *a = &doc->hoppers[h].events[e].args[q];
                all[k] = a, hop[k] = h;
                named[k] = (unsigned char)casie__mention_named(n <= SEARCH_MAX_ARGS ? doc : NULL, a->text, a->start);
                out[k] = named[k] ? a->text : NULL;
                k++;
            }
    /* per role: the first name in each hopper, and the article's one name */
    const char *only[CASIE_N_ROLES] = {0};
    int distinct[CASIE_N_ROLES] = {0};
    for (int i = 0; i < n; i++) {
        int r = all[i]->role;
        if (!out[i] || r < 0 || r >= CASIE_N_ROLES) continue;
        if (!only[r])
            only[r] = out[i], distinct[r] = 1;
        else if (distinct[r] == 1 && strcasecmp(only[r], out[i]))
            distinct[r] = 2;
    }
    const char *first[CASIE_N_ROLES]; /* the current hopper's first name of each role */
    for (int i = 0, h0 = -1; i < n; i++) {
        if (i == 0 || hop[i] != hop[i - 1]) { /* a new hopper: its first names */
            h0 = i;
            memset(first, 0, sizeof first);
            for (int j = h0; j < n && hop[j] == hop[h0]; j++) {
                int r = all[j]->role;
                if (named[j] && r >= 0 && r < CASIE_N_ROLES && !first[r]) first[r] = all[j]->text;
            }
        }
        int r = all[i]->role;
        if (out[i] || r < 0 || r >= CASIE_N_ROLES || !participant(r)) continue;
        out[i] = first[r] ? first[r] : distinct[r] == 1 ? only[r] : NULL;
    }
    free(all);
    free(hop);
    free(named);
    if (n_out) *n_out = n;
    return out;
}
