/*
 * groups.c - the catalogue of threat groups: loading casie-groups.tsv
 * (docs/FORMAT.md, "Group catalogue"; scripts/fetch_groups.sh makes it from
 * the MISP galaxy) and finding the group a mention names.
 *
 * A mention and every catalogue name are reduced to one key: quotes and a
 * possessive dropped, a leading article and the words around a name that
 * say what it is ("ransomware", "gang", "group", "operators", ...) dropped,
 * the rest NFKC case folded.  The keys are sorted once; a mention is looked
 * up in log time.  Where two groups share a key, the one it is the name of
 * (not an alias) wins, then the one first in the file.
 *
 * Not here: what becomes of a group in STIX (stix.c).
 */
#include "internal.h"
#include "groups.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#ifndef CASIE_DATADIR
#define CASIE_DATADIR "/usr/local/share/casie"
#endif

enum {
    LINE_MAX_BYTES = 65536,    /* a line of the file */
    FILE_MAX_BYTES = 64 << 20, /* the whole file */
    KEY_MAX = 256,             /* a key; a longer mention names no group */
    MAX_WORDS = 32,            /* words of a mention looked at */
    MAX_ALIASES = 4096         /* of one group */
};

static const char MAGIC[] = "# casie groups ";
static const int FORMAT_VERSION = 1;

typedef struct key_entry {
    char *key;   /* owned */
    int group;   /* index into groups */
    int primary; /* the group's own name, not an alias */
} key_entry;

struct casie_groups {
    char *text;           /* the file, its separators turned into NULs (owned) */
    casie_group *groups;  /* (n) */
    const char **aliases; /* every group's aliases, one block (owned) */
    int n;
    key_entry *keys; /* (n_keys) sorted by key, primary first, then group */
    int n_keys;
};

/* ======================================================================== */
/* Keys                                                                     */
/* ======================================================================== */

/* Words that say what a name is, not which: dropped around it. */
static int generic_word(const char *w) {
    static const char *const G[] = {
        "ransomware",    "gang",           "group",      "groups", "crew",    "operators",  "operator", "actors",
        "actor",         "threat",         "hackers",    "hacker", "hacking", "cybercrime", "criminal", "criminals",
        "cybercriminal", "cybercriminals", "cartel",     "family", "malware", "strain",     "variant",  "affiliate",
        "affiliates",    "syndicate",      "collective", "raas",   "apt",     NULL};
    for (int i = 0; G[i]; i++)
        if (!strcasecmp(w, G[i])) return 1;
    return 0;
}

/* The bytes of a double quote or guillemet at p (0: none). */
static int dquote_len(const unsigned char *p) {
    if (*p == '"' || *p == '`') return 1;
    if (p[0] == 0xC2 && (p[1] == 0xAB || p[1] == 0xBB)) return 2;                                 /* « » */
    if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0x9C || p[2] == 0x9D || p[2] == 0x9E)) return 3; /* “ ” „ */
    return 0;
}

/* The bytes of a single curly quote at p (0: none). */
static int squote_len(const unsigned char *p) {
    return p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99) ? 3 : 0; /* ‘ ’ */
}

/* Trims quotes, brackets, punctuation and a possessive from the ends of
 * word w (in place). */
static char *trim_word(char *w) {
    for (;;) {
        size_t n = strlen(w);
        if (*w == '\'' || *w == '(' || *w == '[')
            w++;
        else if (n && strchr(".,;:!?)]'", w[n - 1]))
            w[n - 1] = 0;
        else if (n > 2 && (w[n - 1] == 's' || w[n - 1] == 'S') && w[n - 2] == '\'')
            w[n - 2] = 0;
        else
            return w;
    }
}

/* The key of a name or mention into key; *proper (may be NULL): it is
 * written as a name (a capital letter, a digit or a non-ASCII letter).
 * Returns 0 when it has no key: too long, too short (under 3 bytes), no
 * letter, or nothing but a word that says what a name is. */
int casie__group_key(const char *s, char key[256], int *proper) {
    char buf[KEY_MAX], *w[MAX_WORDS];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int q = dquote_len(p), sq = q ? 0 : squote_len(p);
        if (n + 2 >= sizeof buf) return 0;
        if (q) {
            buf[n++] = ' ', p += q;
        } else if (sq) {
            buf[n++] = '\'', p += sq;
        } else {
            buf[n++] = (char)(*p < 0x20 || *p == 0x7f ? ' ' : *p);
            p++;
        }
    }
    buf[n] = 0;
    int nw = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *t = trim_word(tok);
        if (!*t) continue;
        if (nw == MAX_WORDS) return 0;
        w[nw++] = t;
    }
    int i = 0, j = nw;
    if (j - i > 1 && (!strcasecmp(w[i], "the") || !strcasecmp(w[i], "a") || !strcasecmp(w[i], "an"))) i++;
    while (j - i > 1 && generic_word(w[i]))
        i++;
    while (j - i > 1 && generic_word(w[j - 1]))
        j--;
    if (j - i < 1 || (j - i == 1 && generic_word(w[i]))) return 0;
    char joined[KEY_MAX];
    size_t k = 0;
    int prop = 0, letter = 0;
    for (int x = i; x < j; x++) {
        size_t len = strlen(w[x]);
        if (k + len + 2 > sizeof joined) return 0;
        if (k) joined[k++] = ' ';
        for (size_t c = 0; c < len; c++) {
            unsigned char ch = (unsigned char)w[x][c];
            prop |= isupper(ch) || isdigit(ch) || ch >= 0x80;
            letter |= isalpha(ch) || ch >= 0x80;
        }
        memcpy(joined + k, w[x], len);
        k += len;
    }
    joined[k] = 0;
    if (!letter || k < 3) return 0;
    char *folded = (char *)utf8proc_NFKC_Casefold((const utf8proc_uint8_t *)joined);
    if (folded && strlen(folded) < KEY_MAX) {
        strcpy(key, folded);
    } else { /* not valid UTF-8: ASCII lower case */
        for (size_t c = 0; c <= k; c++)
            key[c] = (char)tolower((unsigned char)joined[c]);
    }
    free(folded);
    if (proper) *proper = prop;
    return 1;
}

static int cmp_key(const void *x, const void *y) {
    const key_entry *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    if (c) return c;
    if (a->primary != b->primary) return b->primary - a->primary;
    return a->group - b->group;
}

/* The first entry with key, or -1. */
static int find_key(const casie_groups *g, const char *key) {
    int lo = 0, hi = g->n_keys;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(g->keys[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->n_keys && !strcmp(g->keys[lo].key, key) ? lo : -1;
}

/* Is w a version ("3.0", "2", "v2")? */
static int version_word(const char *w) {
    if (*w == 'v' || *w == 'V') w++;
    if (!isdigit((unsigned char)*w)) return 0;
    for (; *w; w++)
        if (!isdigit((unsigned char)*w) && *w != '.') return 0;
    return 1;
}

const casie_group *casie_groups_match(const casie_groups *g, const char *mention) {
    char key[KEY_MAX];
    int proper = 0;
    if (!g || !mention || !casie__group_key(mention, key, &proper) || !proper) return NULL;
    int at = find_key(g, key);
    char *sp = strrchr(key, ' ');
    if (at < 0 && sp && version_word(sp + 1)) { /* "LockBit 3.0": LockBit */
        *sp = 0;
        at = find_key(g, key);
    }
    return at < 0 ? NULL : &g->groups[g->keys[at].group];
}

/* ======================================================================== */
/* Loading                                                                  */
/* ======================================================================== */

static int is_uuid(const char *s) {
    if (strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

static int bad(casie_error *err, int code, const char *path, long line, const char *what) {
    return casie__error(err, code, line, "%s:%ld: %s", path, line, what);
}

/* Splits line at sep into at most max fields (in place); the count, or
 * max + 1 when there are more. */
static int split(char *line, char sep, char **f, int max) {
    int n = 0;
    for (char *p = line;; p++) {
        if (n == max) return max + 1;
        f[n++] = p;
        p = strchr(p, sep);
        if (!p) return n;
        *p = 0;
    }
}

/* Checks one data line (in place: fields NUL-terminated) into *gr; its
 * aliases counted in *n_alias.  0, or a CASIE_ERR_PARSE set on err. */
static int parse_line(char *line, casie_group *gr, int *n_alias, const char *path, long ln, casie_error *err) {
    char *f[7];
    int nf = split(line, '\t', f, 6);
    if (nf != 6)
        return bad(err, CASIE_ERR_PARSE, path, ln, "not 6 tab-separated fields (kind, id, source, name, aliases, url)");
    if (strcmp(f[0], "actor") && strcmp(f[0], "ransomware"))
        return bad(err, CASIE_ERR_PARSE, path, ln, "the kind is neither actor nor ransomware");
    if (!is_uuid(f[1])) return bad(err, CASIE_ERR_PARSE, path, ln, "the id is not a UUID");
    if (!f[2][0] || strchr(f[2], ' ')) return bad(err, CASIE_ERR_PARSE, path, ln, "no source, or one with a space");
    if (!f[3][0]) return bad(err, CASIE_ERR_PARSE, path, ln, "no name");
    if (f[5][0] && strncmp(f[5], "https://", 8) && strncmp(f[5], "http://", 7))
        return bad(err, CASIE_ERR_PARSE, path, ln, "the url is not an http or https one");
    if (strchr(f[5], ' ')) return bad(err, CASIE_ERR_PARSE, path, ln, "a space in the url");
    int na = 0;
    if (f[4][0]) {
        for (const char *p = f[4]; p; p = strchr(p + 1, '|'))
            na++;
        if (na > MAX_ALIASES) return bad(err, CASIE_ERR_PARSE, path, ln, "too many aliases");
        if (strstr(f[4], "||") || f[4][0] == '|' || f[4][strlen(f[4]) - 1] == '|')
            return bad(err, CASIE_ERR_PARSE, path, ln, "an empty alias");
    }
    gr->kind = f[0], gr->id = f[1], gr->source = f[2], gr->name = f[3], gr->url = f[5];
    gr->aliases = (const char *const *)f[4]; /* the raw list until the aliases are laid out */
    *n_alias = na;
    return 0;
}

/* Reads the file into *out (NUL-terminated). */
static int read_file(const char *path, char **out, size_t *len, casie_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return casie__error(err, CASIE_ERR_IO, -1, "%s: cannot open the group catalogue", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 == cap) {
            if (cap >= FILE_MAX_BYTES) {
                free(buf), fclose(f);
                return casie__error(err, CASIE_ERR_LIMIT, -1, "%s: over %d MiB", path, FILE_MAX_BYTES >> 20);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb, cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, f);
        n += r;
        if (r == 0) break;
    }
    int rd = ferror(f);
    fclose(f);
    if (!buf) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    if (rd) {
        free(buf);
        return casie__error(err, CASIE_ERR_IO, -1, "%s: read error", path);
    }
    buf[n] = 0;
    *out = buf, *len = n;
    return 0;
}

casie_groups *casie_groups_load(const char *path, casie_error *err) {
    if (!path) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_groups_load: no path"), NULL;
    casie_groups *g = calloc(1, sizeof *g);
    size_t len = 0, lines = 1;
    int *nal = NULL, rc = 0;
    if (!g) goto nomem;
    if ((rc = read_file(path, &g->text, &len, err))) goto fail;
    const char *nul = memchr(g->text, 0, len);
    if (nul) { /* a NUL would end a line early and hide the rest */
        long at = 1;
        for (const char *q = g->text; q < nul; q++)
            at += *q == '\n';
        rc = bad(err, CASIE_ERR_PARSE, path, at, "a NUL byte");
        goto fail;
    }
    for (size_t i = 0; i < len; i++)
        lines += g->text[i] == '\n';
    g->groups = calloc(lines, sizeof *g->groups);
    nal = calloc(lines, sizeof *nal);
    if (!g->groups || !nal) goto nomem;
    /* the lines: checked, then split in place */
    long ln = 0, total_alias = 0;
    for (char *p = g->text, *next; p && (size_t)(p - g->text) < len; p = next) {
        ln++;
        char *e = strchr(p, '\n');
        next = e ? e + 1 : NULL;
        if (e) *e = 0;
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r') p[--n] = 0;
        if (n > LINE_MAX_BYTES) {
            rc = bad(err, CASIE_ERR_LIMIT, path, ln, "a line over 64 KiB");
            goto fail;
        }
        for (size_t i = 0; i < n;) {
            int k = casie__utf8_valid_len(p + i, n - i);
            if (!k || (p[i] != '\t' && ((unsigned char)p[i] < 0x20 || p[i] == 0x7f))) {
                rc = bad(err, CASIE_ERR_PARSE, path, ln, k ? "a control character" : "invalid UTF-8");
                goto fail;
            }
            i += (size_t)k;
        }
        if (ln == 1) {
            int v = 0, used = 0;
            if (strncmp(p, MAGIC, sizeof MAGIC - 1) || sscanf(p + sizeof MAGIC - 1, "%d%n", &v, &used) != 1 ||
                p[sizeof MAGIC - 1 + (size_t)used]) {
                rc = bad(err, CASIE_ERR_PARSE, path, ln, "not a casie group catalogue (no \"# casie groups 1\" line)");
                goto fail;
            }
            if (v != FORMAT_VERSION) {
                rc = bad(err, CASIE_ERR_PARSE, path, ln, "a catalogue format this casie does not read (not 1)");
                goto fail;
            }
            continue;
        }
        if (!n || p[0] == '#') continue;
        if ((rc = parse_line(p, &g->groups[g->n], &nal[g->n], path, ln, err))) goto fail;
        for (int q = 0; q < g->n; q++)
            if (!strcmp(g->groups[q].id, g->groups[g->n].id)) {
                rc = bad(err, CASIE_ERR_PARSE, path, ln, "an id given twice");
                goto fail;
            }
        total_alias += nal[g->n];
        g->n++;
    }
    if (ln == 0) {
        rc = bad(err, CASIE_ERR_PARSE, path, 1, "empty: not a casie group catalogue");
        goto fail;
    }
    /* the aliases, one block; then the keys */
    g->aliases = calloc((size_t)total_alias + 1, sizeof *g->aliases);
    g->keys = calloc((size_t)(total_alias + g->n) + 1, sizeof *g->keys);
    if (!g->aliases || !g->keys) goto nomem;
    for (int i = 0, at = 0; i < g->n; i++) {
        casie_group *gr = &g->groups[i];
        char *raw = (char *)gr->aliases;
        gr->aliases = g->aliases + at;
        gr->n_aliases = nal[i] ? split(raw, '|', (char **)(g->aliases + at), nal[i]) : 0;
        at += gr->n_aliases;
        for (int a = -1; a < gr->n_aliases; a++) {
            char key[KEY_MAX];
            if (!casie__group_key(a < 0 ? gr->name : gr->aliases[a], key, NULL)) continue;
            if (!(g->keys[g->n_keys].key = strdup(key))) goto nomem;
            g->keys[g->n_keys].group = i, g->keys[g->n_keys++].primary = a < 0;
        }
    }
    qsort(g->keys, (size_t)g->n_keys, sizeof *g->keys, cmp_key);
    free(nal);
    return g;
nomem:
    casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
fail:
    free(nal);
    casie_groups_free(g);
    return NULL;
}

casie_groups *casie_groups_open(const char *const *dirs, casie_error *err) {
    char path[4096];
    for (int i = 0; dirs && dirs[i]; i++)
        if ((size_t)snprintf(path, sizeof path, "%s/casie-groups.tsv", dirs[i]) < sizeof path && casie__is_file(path))
            return casie_groups_load(path, err);
    const char *const builtin[] = {CASIE_DATADIR, "models"};
    for (int i = 0; i < 2; i++)
        if ((size_t)snprintf(path, sizeof path, "%s/casie-groups.tsv", builtin[i]) < sizeof path &&
            casie__is_file(path))
            return casie_groups_load(path, err);
    casie__error(err, CASIE_ERR_IO, -1,
                 "no group catalogue (casie-groups.tsv) in the model folders: scripts/fetch_groups.sh makes it");
    return NULL;
}

void casie_groups_free(casie_groups *g) {
    if (!g) return;
    for (int i = 0; i < g->n_keys; i++)
        free(g->keys[i].key);
    free(g->keys);
    free(g->aliases);
    free(g->groups);
    free(g->text);
    free(g);
}

int casie_groups_count(const casie_groups *g) { return g ? g->n : 0; }

const casie_group *casie_groups_get(const casie_groups *g, int i) {
    return g && i >= 0 && i < g->n ? &g->groups[i] : NULL;
}
