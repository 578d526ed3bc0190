/*
 * cli_io.c - what the subcommands share: reading a whole stream, a bounded
 * stream or one bounded line; their options, parsed from a table per
 * command that also prints their --help; loading a model by name and a
 * split of the corpus.  (The options live here, not in a file of their own,
 * because fuzz/fuzz_jsonl.c builds tools/cmd_extract.c with this object and
 * out_dir.o alone.)
 */
#include "cli_io.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *cli_read_bounded(FILE *f, const char *name, size_t max, size_t *len, casie_error *err) {
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err->message, sizeof err->message, "%s: is a directory", name);
            err->code = CASIE_ERR_IO;
            return NULL;
        }
        off_t at = S_ISREG(st.st_mode) ? ftello(f) : -1;
        if (at >= 0 && st.st_size > at && (unsigned long long)(st.st_size - at) > max) {
            snprintf(err->message, sizeof err->message, "%s: %lld bytes, over the limit of %zu bytes for one document",
                     name, (long long)st.st_size, max);
            err->code = CASIE_ERR_LIMIT;
            return NULL;
        }
    }
    size_t cap = max < ((size_t)1 << 16) ? max + 2 : (size_t)1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) goto nomem;
    for (;;) {
        if (n + 1 >= cap) {
            if (n > max) break;
            size_t want = cap * 2 < max + 2 ? cap * 2 : max + 2; /* room for max + 1 bytes and the NUL */
            char *nb = realloc(buf, want);
            if (!nb) goto nomem;
            buf = nb;
            cap = want;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (n > max) {
        free(buf);
        snprintf(err->message, sizeof err->message, "%s: over the limit of %zu bytes for one document", name, max);
        err->code = CASIE_ERR_LIMIT;
        return NULL;
    }
    if (ferror(f)) {
        free(buf);
        snprintf(err->message, sizeof err->message, "%s: read error: %s", name, strerror(errno));
        err->code = CASIE_ERR_IO;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
nomem:
    free(buf);
    snprintf(err->message, sizeof err->message, "%s: out of memory", name);
    err->code = CASIE_ERR_NOMEM;
    return NULL;
}

char *cli_read_stream(FILE *f, const char *name, size_t *len, casie_error *err) {
    return cli_read_bounded(f, name, ((size_t)1 << 31) - 1, len, err); /* 2 GiB */
}

ssize_t cli_read_line(FILE *f, char **buf, size_t *cap, size_t max) {
    size_t n = 0;
    int ch = EOF, too_long = 0;
    flockfile(f);
    while ((ch = getc_unlocked(f)) != EOF) {
        if (n == max && ch != '\n') { /* one byte more than a line may hold: give it back */
            ungetc(ch, f);
            too_long = 1;
            break;
        }
        if (n + 2 > *cap) { /* this byte and the NUL; at most max + 2 (max bytes, '\n', NUL) */
            size_t want = *cap < 256 ? 256 : *cap * 2;
            if (want > max + 2) want = max + 2;
            char *nb = realloc(*buf, want);
            if (!nb) {
                funlockfile(f);
                return -3;
            }
            *buf = nb;
            *cap = want;
        }
        (*buf)[n++] = (char)ch;
        if (ch == '\n') break;
    }
    funlockfile(f);
    if (n == 0 && !too_long) return -1;
    if (*buf) (*buf)[n] = 0;
    return too_long ? -2 : (ssize_t)n;
}

void cli_skip_line(FILE *f) {
    int ch;
    flockfile(f);
    while ((ch = getc_unlocked(f)) != EOF && ch != '\n')
        continue;
    funlockfile(f);
}

int cli_parse_long(const char *s, long lo, long hi, long *out) {
    const char *p = s + (*s == '-');
    if (!*p) return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return -1;
    errno = 0;
    char *end;
    long x = strtol(s, &end, 10);
    if (errno || *end || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out) {
    if (!*s) return -1;
    for (const char *q = s; *q; q++) /* decimal notation only: no space, hex, inf or nan */
        if (!strchr("0123456789.eE+-", *q)) return -1;
    errno = 0;
    char *end;
    double x = strtod(s, &end);
    if (errno || *end || !isfinite(x) || !(x >= lo && x <= hi)) return -1;
    *out = x;
    return 0;
}

int cli_opt_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out) {
    if (cli_parse_long(s, lo, hi, out) == 0) return 0;
    char shown[128];
    fprintf(stderr, "casie %s: %s takes an integer from %ld to %ld, not '%s'\n", cmd, opt, lo, hi,
            cli_printable(s, shown, sizeof shown));
    return -1;
}

int cli_opt_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out) {
    if (cli_parse_double(s, lo, hi, out) == 0) return 0;
    char shown[128];
    fprintf(stderr, "casie %s: %s takes a number from %g to %g, not '%s'\n", cmd, opt, lo, hi,
            cli_printable(s, shown, sizeof shown));
    return -1;
}

/* ---- options ---- */

/* Where --help's descriptions begin. */
#define HELP_COLUMN 25

static const cli_opt *find_opt(const cli_command *c, const char *a) {
    for (int i = 0; i < c->n_opts; i++)
        if (!strcmp(a, c->opts[i].name) || (c->opts[i].alias && !strcmp(a, c->opts[i].alias))) return &c->opts[i];
    return NULL;
}

/* Sets what o sets, from v (NULL for a flag); a is the option as typed.
 * Returns 0, or the exit status. */
static int set_opt(const cli_command *c, const cli_opt *o, void *opts, const char *a, const char *v) {
    void *to = (char *)opts + o->set.at;
    switch (o->set.kind) {
    case CLI_SET_FLAG:
        *(int *)to = 1;
        return 0;
    case CLI_SET_STRING:
        *(const char **)to = v;
        return 0;
    case CLI_SET_LONG:
        return cli_opt_long(c->name, a, v, o->set.lo, o->set.hi, to) ? 2 : 0;
    case CLI_SET_DOUBLE:
        return cli_opt_double(c->name, a, v, o->set.xlo, o->set.xhi, to) ? 2 : 0;
    default:
        return o->set.call(opts, a, v);
    }
}

/* A usage error: "casie NAME: " and the message, then the usage on stderr;
 * returns 2. */
static int usage_error(const cli_command *c, const char *before, const char *a, const char *after) {
    fprintf(stderr, "casie %s: %s%s%s\n", c->name, before, a, after);
    return cli_usage(c, stderr);
}

int cli_parse(const cli_command *c, int argc, char **argv, void *opts, int *n_args) {
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) { /* positional ("-" too); a command that takes none has no such option */
            if (c->max_args == 0) return usage_error(c, "unknown option ", a, "");
            if (c->max_args > 0 && n == c->max_args) return usage_error(c, "too many arguments", "", "");
            argv[n++] = argv[i]; /* n < i: that one has been read */
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return cli_usage(c, stdout);
        const cli_opt *o = find_opt(c, a);
        int other = !o && c->other && c->other(opts, a, NULL) == 0;
        if (!o && !other) return usage_error(c, "unknown option ", a, "");
        const char *v = NULL;
        if (other || o->value) {
            if (i + 1 >= argc) return usage_error(c, "", a, " needs a value");
            v = argv[++i];
        }
        int rc = other ? c->other(opts, a, v) : set_opt(c, o, opts, a, v);
        if (rc) return rc;
    }
    if (n < c->min_args) return cli_usage(c, stderr);
    if (n_args) *n_args = n;
    return CLI_GO_ON;
}

void cli_help_line(FILE *f, const char *flags, const char *help) {
    int col = fprintf(f, "  %s", flags);
    for (const char *s = help;;) {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        if (col + 2 > HELP_COLUMN) { /* no room for the help beside the flags */
            fputc('\n', f);
            col = 0;
        }
        fprintf(f, "%*s%.*s\n", HELP_COLUMN - col, "", len, s);
        col = 0;
        if (!nl) break;
        s = nl + 1;
    }
}

int cli_usage(const cli_command *c, FILE *f) {
    fputs(c->synopsis, f);
    for (int i = 0; i < c->n_opts; i++) {
        const cli_opt *o = &c->opts[i];
        char flags[128];
        snprintf(flags, sizeof flags, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
                 o->value ? " " : "", o->value ? o->value : "");
        cli_help_line(f, flags, o->help);
    }
    if (c->more_help) c->more_help(f);
    if (c->notes) fputs(c->notes, f);
    return f == stdout ? 0 : 2;
}

void cli_trim_after(const casie_model *m, size_t len) {
    if (len >= ((size_t)1 << 20) || casie_extract_memory(m, len) >= ((size_t)32 << 20)) malloc_trim(0);
}

char *cli_printable(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        size_t w = ch < 0x20 || ch == 0x7f ? 4 : 1;
        if (n + w + 4 > cap) { /* no room for this and "..." */
            if (n + 4 <= cap) memcpy(out + n, "...", 3), n += 3;
            break;
        }
        if (w == 4)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", ch);
        else
            out[n++] = (char)ch;
    }
    if (cap) out[n < cap ? n : cap - 1] = 0;
    return out;
}

/* The folders models (and the group catalogue) are looked for in, into
 * dirs (NULL-terminated, 5 entries) with room in dir: the models beside the
 * binary (a build tree's ../models, an install's ../share/casie); then
 * $CASIE_MODEL_DIR (the library reads no environment). */
static void model_dirs(char dir[3][PATH_MAX], const char *dirs[5]) {
    int nd = 0;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *const rel[] = {"/../models", "/models", "/../share/casie"};
        for (int i = 0; i < 3; i++) {
            snprintf(dir[i], sizeof dir[i], "%.*s%s", PATH_MAX - 32, exe, rel[i]);
            dirs[nd++] = dir[i];
        }
    }
    const char *env_dir = getenv("CASIE_MODEL_DIR");
    if (env_dir && *env_dir) dirs[nd++] = env_dir;
    dirs[nd] = NULL;
}

casie_groups *cli_load_groups(const char *path, casie_error *err) {
    if (path && !strcmp(path, "none")) return NULL;
    if (path) return casie_groups_load(path, err);
    char dir[3][PATH_MAX];
    const char *dirs[5] = {NULL};
    model_dirs(dir, dirs);
    return casie_groups_open(dirs, err);
}

casie_model *cli_load_model(const char *name, casie_error *err) {
    if (!name && (name = getenv("CASIE_MODEL")) && !*name) name = NULL; /* set but empty: as unset */
    char dir[3][PATH_MAX];
    const char *dirs[5] = {NULL};
    model_dirs(dir, dirs);
    casie_model_load_params params = casie_model_default_load_params();
    params.dirs = dirs;
    params.encoder_path = getenv("CASIE_ENCODER"); /* NULL or "": the one the model names */
    casie_model *m = casie_model_open_with(name, &params, err);
    if (m && err->message[0]) fprintf(stderr, "casie: %s\n", err->message); /* why not the accurate model */
    if (m && !casie_model_has_categories(m)) /* once: each command loads its model once */
        fprintf(stderr,
                "casie: note: model %s predicts no argument categories (it was made before them; "
                "casie train-categories adds them)\n",
                name && *name ? name : "default");
    return m;
}

const char *cli_default_corpus(void) {
    const char *c = getenv("CASIE_CORPUS");
    return c && *c ? c : "../shared/casie";
}

/* A slice bound of "[A:B]": an optional signed integer; *has = 0 when absent. */
static const char *slice_bound(const char *s, long *v, int *has) {
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    *has = end != s;
    return errno ? NULL : end;
}

/* Splits "NAME[A:B]" (Python's slice of the split's ids: "train[:-70]",
 * "train[-70:]") into NAME and its bounds; 0 when split has no slice, -1 when
 * its slice is malformed. */
static int split_slice(const char *split, size_t *name_len, long *a, int *has_a, long *b, int *has_b) {
    const char *lb = strrchr(split, '[');
    size_t n = strlen(split);
    if (!lb || n < 2 || split[n - 1] != ']') return 0;
    *name_len = (size_t)(lb - split);
    const char *s = slice_bound(lb + 1, a, has_a);
    if (!s || *s != ':') return -1;
    s = slice_bound(s + 1, b, has_b);
    return s && s == split + n - 1 && *name_len > 0 ? 1 : -1;
}

/* Python's meaning of a slice bound over n items. */
static int slice_at(long v, int has, int dflt, int n) {
    if (!has) return dflt;
    if (v < 0) v += n;
    return v < 0 ? 0 : v > n ? n : (int)v;
}

casie_corpus *cli_read_split(const char *corpus, const char *split, casie_error *err) {
    char path[4096];
    size_t name_len = strlen(split);
    long a = 0, b = 0;
    int has_a = 0, has_b = 0, sliced = split_slice(split, &name_len, &a, &has_a, &b, &has_b);
    if (sliced < 0) {
        snprintf(err->message, sizeof err->message, "split %s: a slice is [A:B], whole numbers, either may be left out",
                 split);
        err->code = CASIE_ERR_INVALID_ARG;
        err->position = -1;
        return NULL;
    }
    if (memchr(split, '/', name_len) || strstr(split, ".txt"))
        snprintf(path, sizeof path, "%.*s", (int)name_len, split);
    else
        snprintf(path, sizeof path, "%s/splits/%.*s.txt", corpus, (int)name_len, split);
    int n;
    char **ids = casie_read_ids(path, &n, err);
    if (!ids) return NULL;
    int from = slice_at(a, has_a, 0, n), to = slice_at(b, has_b, n, n);
    if (to < from) to = from;
    casie_corpus *c = casie_corpus_read(corpus, (const char *const *)ids + from, to - from, err);
    casie_strings_free(ids, n);
    return c;
}
