/*
 * cmd_eval.c - `casie eval GOLD PRED`: scores predicted documents against gold
 * ones and prints precision, recall and F1 per metric.
 *
 * GOLD and PRED are each a directory of <id>.json files (a corpus directory
 * with annotation/ works too) or a JSONL file of CASIE JSON documents.
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- document sources: a directory or a JSONL file ---- */

typedef struct source {
    const char *path;
    char *dir;        /* the directory holding <id>.json, or NULL for JSONL */
    casie_doc **docs; /* JSONL: every document, in file order */
    char **where;     /* JSONL: "file:line" of each document */
    int n_docs;
} source;

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int doc_id_cmp(const void *a, const void *b) {
    const casie_doc *x = *(casie_doc *const *)a, *y = *(casie_doc *const *)b;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

static void source_free(source *s) {
    for (int i = 0; i < s->n_docs; i++) {
        casie_doc_free(s->docs[i]);
        free(s->where[i]);
    }
    free(s->docs);
    free(s->where);
    free(s->dir);
}

/* Reads a JSONL file: every non-blank line is one document. */
static int read_jsonl(source *s, casie_error *err) {
    FILE *f = fopen(s->path, "rb");
    char *line = NULL;
    size_t cap = 0, dcap = 0;
    long lineno = 0;
    ssize_t n;
    if (!f) {
        snprintf(err->message, sizeof err->message, "%s: %s", s->path, strerror(errno));
        return 1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        ssize_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
            i++;
        if (i == n) continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%ld", s->path, lineno);
        casie_doc *d = casie_doc_from_json(line, (size_t)n, where, err);
        if (!d) goto fail;
        if (!d->id) {
            snprintf(err->message, sizeof err->message, "%.200s: no \"id\" or \"sourcefile\"", where);
            casie_doc_free(d);
            goto fail;
        }
        if ((size_t)s->n_docs == dcap) {
            dcap = dcap ? 2 * dcap : 64;
            casie_doc **nd = realloc(s->docs, dcap * sizeof *nd);
            char **nw = nd ? realloc(s->where, dcap * sizeof *nw) : NULL;
            if (nd) s->docs = nd;
            if (nw) s->where = nw;
            if (!nd || !nw) {
                snprintf(err->message, sizeof err->message, "%s: out of memory", s->path);
                casie_doc_free(d);
                goto fail;
            }
        }
        s->docs[s->n_docs] = d;
        if (!(s->where[s->n_docs++] = strdup(where))) {
            snprintf(err->message, sizeof err->message, "%s: out of memory", s->path);
            goto fail;
        }
    }
    free(line);
    fclose(f);
    /* Report repeated ids (lookups take the first). */
    casie_doc **order = malloc((size_t)(s->n_docs ? s->n_docs : 1) * sizeof *order);
    if (!order) {
        snprintf(err->message, sizeof err->message, "%s: out of memory", s->path);
        return 1;
    }
    memcpy(order, s->docs, (size_t)s->n_docs * sizeof *order);
    qsort(order, (size_t)s->n_docs, sizeof *order, doc_id_cmp);
    for (int i = 1; i < s->n_docs; i++)
        if (!strcmp(order[i - 1]->id, order[i]->id))
            fprintf(stderr, "casie eval: warning: %s: id %s appears more than once; using the first\n", s->path,
                    order[i]->id);
    free(order);
    return 0;
fail:
    free(line);
    fclose(f);
    return 1;
}

/* The document with this id in a JSONL source (the first one), or NULL. */
static int jsonl_find(const source *s, const char *id) {
    for (int i = 0; i < s->n_docs; i++)
        if (!strcmp(s->docs[i]->id, id)) return i;
    return -1;
}

static int source_open(source *s, const char *path, casie_error *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    if (is_dir(path)) {
        size_t n = strlen(path) + sizeof "/annotation";
        if (!(s->dir = malloc(n))) {
            snprintf(err->message, sizeof err->message, "%s: out of memory", path);
            return 1;
        }
        snprintf(s->dir, n, "%s/annotation", path);
        if (!is_dir(s->dir)) snprintf(s->dir, n, "%s", path);
        return 0;
    }
    return read_jsonl(s, err);
}

/* ---- scoring ---- */

typedef struct row {
    char name[64];
    casie_counts c;
} row;

static void print_row(const char *name, casie_counts c) {
    double p, r, f;
    casie_prf(c, &p, &r, &f);
    printf("%-38s %7.2f %7.2f %7.2f %7ld %7ld %7ld\n", name, p, r, f, c.tp, c.fp, c.fn);
}

static void json_counts(casie_counts c) {
    double p, r, f;
    casie_prf(c, &p, &r, &f);
    printf("{\"p\": %.4f, \"r\": %.4f, \"f1\": %.4f, \"tp\": %ld, \"fp\": %ld, \"fn\": %ld}", p, r, f, c.tp, c.fp,
           c.fn);
}

static int nonzero(casie_counts c) { return c.tp || c.fp || c.fn; }

static void print_table(const casie_eval *ev, int detail) {
    printf("%-38s %7s %7s %7s %7s %7s %7s\n", "metric", "P", "R", "F1", "tp", "fp", "fn");
    for (int m = 0; m < CASIE_N_METRICS; m++) {
        print_row(casie_metric_name(m), casie_eval_counts(ev, m, -1, -1));
        if (!detail) continue;
        if (m == CASIE_METRIC_TRIG_C || m == CASIE_METRIC_ARG_C || m == CASIE_METRIC_REALIS)
            for (int s = 0; s < CASIE_N_SUBTYPES; s++) {
                casie_counts c = casie_eval_counts(ev, m, s, -1);
                char name[80];
                snprintf(name, sizeof name, "  %s/%s", casie_metric_name(m), casie_subtype_name(s));
                if (nonzero(c)) print_row(name, c);
            }
        if (m == CASIE_METRIC_ARG_C)
            for (int r = 0; r < CASIE_N_ROLES; r++) {
                casie_counts c = casie_eval_counts(ev, m, -1, r);
                char name[80];
                snprintf(name, sizeof name, "  %s/%s", casie_metric_name(m), casie_role_name(r));
                if (nonzero(c)) print_row(name, c);
            }
    }
}

static void print_json(const casie_eval *ev, int detail, int n_docs, int n_missing) {
    printf("{\"documents\": %d, \"missing_predictions\": %d, \"metrics\": {", n_docs, n_missing);
    for (int m = 0; m < CASIE_N_METRICS; m++) {
        printf("%s\"%s\": ", m ? ", " : "", casie_metric_name(m));
        json_counts(casie_eval_counts(ev, m, -1, -1));
    }
    printf("}");
    if (detail) {
        static const int by_subtype[] = {CASIE_METRIC_TRIG_C, CASIE_METRIC_ARG_C, CASIE_METRIC_REALIS};
        printf(", \"by_subtype\": {");
        for (int i = 0; i < 3; i++) {
            printf("%s\"%s\": {", i ? ", " : "", casie_metric_name(by_subtype[i]));
            for (int s = 0; s < CASIE_N_SUBTYPES; s++) {
                printf("%s\"%s\": ", s ? ", " : "", casie_subtype_name(s));
                json_counts(casie_eval_counts(ev, by_subtype[i], s, -1));
            }
            printf("}");
        }
        printf("}, \"by_role\": {\"arg_c\": {");
        for (int r = 0; r < CASIE_N_ROLES; r++) {
            printf("%s\"%s\": ", r ? ", " : "", casie_role_name(r));
            json_counts(casie_eval_counts(ev, CASIE_METRIC_ARG_C, -1, r));
        }
        printf("}}");
    }
    eval_json_categories(ev, detail);
    printf("}\n");
}

static void warn_issues(const casie_doc *d, const char *where) {
    for (int i = 0; i < d->n_issues; i++)
        fprintf(stderr, "casie eval: warning: %s: gold span [%d,%d) \"%s\" matches nowhere in the text; left out\n",
                where, d->issues[i].start, d->issues[i].end, d->issues[i].text);
}

/* Loads the prediction for gold document g; *pred NULL when there is none. */
static int load_pred(const source *ps, const casie_doc *g, casie_doc **pred, const casie_doc **borrowed,
                     casie_error *err) {
    *pred = NULL;
    *borrowed = NULL;
    if (ps->dir) {
        size_t n = strlen(ps->dir) + strlen(g->id) + sizeof "/.json";
        char *path = malloc(n);
        if (!path) return 1;
        snprintf(path, n, "%s/%s.json", ps->dir, g->id);
        if (file_exists(path) && !(*pred = casie_doc_load(path, err))) {
            free(path);
            return 1;
        }
        free(path);
        return 0;
    }
    int i = jsonl_find(ps, g->id);
    if (i >= 0) *borrowed = ps->docs[i];
    return 0;
}

/* ---- the command line ---- */

typedef struct eval_args {
    const char *ids;
    int detail, json;
} eval_args;

static const cli_opt OPTIONS[] = {
    {"--ids", NULL, "FILE", "score only the ids listed in FILE (one a line); default: every gold id",
     CLI_STRING(eval_args, ids)},
    {"--detail", NULL, NULL,
     "add rows per subtype (trig_c, arg_c, realis), per role (arg_c) and per\n"
     "argument category (purpose_cat, capec)",
     CLI_FLAG(eval_args, detail)},
    {"--json", NULL, NULL, "print one JSON object instead of a table", CLI_FLAG(eval_args, json)},
};

static const cli_command EVAL = {
    .name = "eval",
    .synopsis = "usage: casie eval GOLD PRED [--ids FILE] [--detail] [--json]\n"
                "  GOLD, PRED             a directory of <id>.json (or a corpus directory with annotation/),\n"
                "                         or a JSONL file with one CASIE JSON document a line\n",
    .notes = "purpose_cat and capec: accuracy of the argument category on the arguments both sides\n"
             "have (same span and role), beside always answering the most frequent gold category.\n"
             "A document without a prediction counts as an empty prediction (with a warning);\n"
             "with no gold documents, or no prediction for any of them, eval fails (exit 1).\n",
    CLI_TABLE(OPTIONS),
    .min_args = 2,
    .max_args = 2,
};

int cmd_eval(int argc, char **argv) {
    eval_args a = {0};
    int n_args, rc = cli_parse(&EVAL, argc, argv, &a, &n_args);
    if (rc != CLI_GO_ON) return rc;
    const char *gold_path = argv[0], *pred_path = argv[1];
    casie_error err = {0};
    char **ids = NULL;
    int n_ids = 0, n_missing = 0, n_scored = 0, n_gold = 0;
    rc = 1;
    casie_corpus *gold_dir = NULL;
    const casie_doc **golds = NULL; /* the gold documents to score, in order */
    const char **wheres = NULL;     /* where each was read, for warnings */
    char **owned_where = NULL;
    source gs, ps;
    memset(&gs, 0, sizeof gs);
    memset(&ps, 0, sizeof ps);
    casie_eval *ev = casie_eval_new();
    if (!ev) {
        fprintf(stderr, "casie eval: out of memory\n");
        return 1;
    }
    if (a.ids && !(ids = casie_read_ids(a.ids, &n_ids, &err))) goto fail;
    if (source_open(&gs, gold_path, &err) || source_open(&ps, pred_path, &err)) goto fail;

    if (gs.dir) {
        if (!(gold_dir = casie_corpus_read(gold_path, (const char *const *)ids, ids ? n_ids : 0, &err))) goto fail;
        n_gold = gold_dir->n_docs;
    } else
        n_gold = ids ? n_ids : gs.n_docs;
    golds = calloc((size_t)(n_gold ? n_gold : 1), sizeof *golds);
    wheres = calloc((size_t)(n_gold ? n_gold : 1), sizeof *wheres);
    owned_where = calloc((size_t)(n_gold ? n_gold : 1), sizeof *owned_where);
    if (!golds || !wheres || !owned_where) {
        snprintf(err.message, sizeof err.message, "out of memory");
        goto fail;
    }
    for (int i = 0; i < n_gold; i++) {
        if (gold_dir) {
            golds[i] = gold_dir->docs[i];
            size_t n = strlen(gs.dir) + strlen(golds[i]->id) + sizeof "/.json";
            if ((owned_where[i] = malloc(n))) snprintf(owned_where[i], n, "%s/%s.json", gs.dir, golds[i]->id);
            wheres[i] = owned_where[i] ? owned_where[i] : golds[i]->id;
        } else if (ids) {
            int k = jsonl_find(&gs, ids[i]);
            if (k < 0) {
                snprintf(err.message, sizeof err.message, "%s: no document with id %s", gold_path, ids[i]);
                goto fail;
            }
            golds[i] = gs.docs[k];
            wheres[i] = gs.where[k];
        } else {
            golds[i] = gs.docs[i];
            wheres[i] = gs.where[i];
        }
    }

    for (int i = 0; i < n_gold; i++) {
        const casie_doc *g = golds[i], *borrowed;
        casie_doc *owned;
        warn_issues(g, wheres[i]);
        if (load_pred(&ps, g, &owned, &borrowed, &err)) goto fail;
        const casie_doc *p = owned ? owned : borrowed;
        if (!p) {
            fprintf(stderr, "casie eval: warning: no prediction for %s; scored as empty\n", g->id);
            n_missing++;
        } else if (p->text_len && (p->text_len != g->text_len || memcmp(p->text, g->text, g->text_len)))
            fprintf(stderr, "casie eval: warning: %s: the prediction's text differs from the gold text\n", g->id);
        int bad = casie_eval_add(ev, g, p, &err);
        casie_doc_free(owned);
        if (bad) goto fail;
        n_scored++;
    }
    if (n_scored == n_missing) { /* no pair compared: a wrong directory, not a score of zero */
        if (n_gold == 0)
            snprintf(err.message, sizeof err.message, "eval: %.200s: no gold documents to score", gold_path);
        else
            snprintf(err.message, sizeof err.message,
                     "eval: %.150s: no prediction for any of the %d gold documents; nothing was scored", pred_path,
                     n_gold);
        goto fail;
    }
    if (a.json)
        print_json(ev, a.detail, n_scored, n_missing);
    else {
        print_table(ev, a.detail);
        eval_print_categories(ev, a.detail);
        printf("%d documents%s", n_scored, n_missing ? "" : "\n");
        if (n_missing) printf(", %d without a prediction\n", n_missing);
    }
    rc = 0;
fail:
    if (rc) cli_fail(&err);
    if (owned_where)
        for (int i = 0; i < n_gold; i++)
            free(owned_where[i]);
    free(owned_where);
    free(golds);
    free(wheres);
    casie_corpus_free(gold_dir);
    source_free(&gs);
    source_free(&ps);
    casie_strings_free(ids, n_ids);
    casie_eval_free(ev);
    return rc;
}
