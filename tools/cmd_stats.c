/*
 * cmd_stats.c - `casie stats CORPUS_DIR`: counts of documents, sentences,
 * tokens, events, hoppers, realis values, roles and entity types; the spans
 * repaired or dropped on reading; and the gold spans that the tokenizer cuts
 * (spans that do not start and end on token boundaries).
 */
#include "cli_exit.h"
#include "cli_io.h"
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct stats {
    long docs, sents, tokens, hoppers, mixed_hoppers, events, args;
    long subtype[CASIE_N_SUBTYPES], realis[CASIE_N_REALIS], role[CASIE_N_ROLES], entity[CASIE_N_ENTITY_TYPES];
    long repaired, unrepairable;
    long trig_off, arg_off; /* spans not on token boundaries */
} stats;

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Token texts covering [s, e), for --show-misaligned. */
static void print_cover(const casie_doc *d, int32_t s, int32_t e) {
    for (int32_t t = 0; t < d->n_tokens; t++) {
        const casie_token *k = &d->tokens[t];
        if (k->end <= s || k->start >= e) continue;
        int b0 = d->cp_byte[k->start], b1 = d->cp_byte[k->end];
        fprintf(stderr, " [%.*s]", b1 - b0, d->text + b0);
    }
}

static int aligned(const unsigned char *is_start, const unsigned char *is_end, const casie_doc *d, int32_t s,
                   int32_t e) {
    return s >= 0 && s < e && e <= d->n_cp && is_start[s] && is_end[e];
}

static void check_span(long *off, const char *kind, const casie_doc *d, const unsigned char *is_start,
                       const unsigned char *is_end, int32_t s, int32_t e, int show) {
    if (aligned(is_start, is_end, d, s, e)) return;
    (*off)++;
    if (!show) return;
    int ok = s >= 0 && s <= e && e <= d->n_cp;
    int b0 = ok ? d->cp_byte[s] : 0, b1 = ok ? d->cp_byte[e] : 0;
    fprintf(stderr, "misaligned %s %s [%d,%d) \"%.*s\" tokens:", kind, d->id, s, e, b1 - b0, d->text + b0);
    if (ok) print_cover(d, s, e);
    fprintf(stderr, "\n");
}

static int count_doc(stats *st, const casie_doc *d, const char *where, int show) {
    st->docs++;
    st->sents += d->n_sents;
    st->tokens += d->n_tokens;
    st->hoppers += d->n_hoppers;
    st->repaired += d->n_repaired;
    st->unrepairable += d->n_issues;
    for (int i = 0; i < d->n_issues; i++)
        fprintf(stderr, "casie stats: %s: unrepairable span [%d,%d) \"%s\"\n", where, d->issues[i].start,
                d->issues[i].end, d->issues[i].text);
    unsigned char *is_start = calloc((size_t)d->n_cp + 1, 1), *is_end = calloc((size_t)d->n_cp + 1, 1);
    if (!is_start || !is_end) {
        free(is_start);
        free(is_end);
        return 1;
    }
    for (int32_t t = 0; t < d->n_tokens; t++) {
        const casie_token *k = &d->tokens[t];
        if (k->start >= 0 && k->start <= d->n_cp) is_start[k->start] = 1;
        if (k->end >= 0 && k->end <= d->n_cp) is_end[k->end] = 1;
    }
    for (int h = 0; h < d->n_hoppers; h++) {
        const casie_hopper *hop = &d->hoppers[h];
        int mixed = 0;
        for (int i = 0; i < hop->n_events; i++) {
            const casie_event *e = &hop->events[i];
            if (e->subtype != hop->events[0].subtype) mixed = 1;
            st->events++;
            if (e->subtype >= 0 && e->subtype < CASIE_N_SUBTYPES) st->subtype[e->subtype]++;
            if (e->realis >= 0 && e->realis < CASIE_N_REALIS) st->realis[e->realis]++;
            check_span(&st->trig_off, "trigger", d, is_start, is_end, e->start, e->end, show);
            for (int j = 0; j < e->n_args; j++) {
                const casie_arg *a = &e->args[j];
                st->args++;
                if (a->role >= 0 && a->role < CASIE_N_ROLES) st->role[a->role]++;
                if (a->entity >= 0 && a->entity < CASIE_N_ENTITY_TYPES) st->entity[a->entity]++;
                check_span(&st->arg_off, "argument", d, is_start, is_end, a->start, a->end, show);
            }
        }
        st->mixed_hoppers += mixed;
    }
    free(is_start);
    free(is_end);
    return 0;
}

static double pct(long a, long b) { return b ? 100.0 * (double)a / (double)b : 0.0; }

/* Indices 0..n-1 sorted by count, largest first (stable). */
static void by_count(const long *count, int n, int *order) {
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && count[order[j]] > count[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
}

static void print_group(const char *title, const long *count, int n, const char *(*name)(int), long total) {
    int order[64];
    by_count(count, n, order);
    printf("\n%s\n", title);
    for (int i = 0; i < n; i++)
        printf("  %-28s %7ld  %6.2f%%\n", name(order[i]), count[order[i]], pct(count[order[i]], total));
}

static void json_group(const char *key, const long *count, int n, const char *(*name)(int)) {
    printf(", \"%s\": {", key);
    for (int i = 0; i < n; i++)
        printf("%s\"%s\": %ld", i ? ", " : "", name(i), count[i]);
    printf("}");
}

static void print_stats(const stats *s, int json) {
    if (json) {
        printf("{\"documents\": %ld, \"sentences\": %ld, \"tokens\": %ld, \"hoppers\": %ld, \"mixed_hoppers\": %ld, "
               "\"events\": %ld, \"arguments\": %ld, \"repaired_spans\": %ld, \"unrepairable_spans\": %ld, "
               "\"triggers_off_tokens\": %ld, \"triggers_off_tokens_pct\": %.4f, \"arguments_off_tokens\": %ld, "
               "\"arguments_off_tokens_pct\": %.4f, \"spans_off_tokens\": %ld, \"spans_off_tokens_pct\": %.4f",
               s->docs, s->sents, s->tokens, s->hoppers, s->mixed_hoppers, s->events, s->args, s->repaired,
               s->unrepairable, s->trig_off, pct(s->trig_off, s->events), s->arg_off, pct(s->arg_off, s->args),
               s->trig_off + s->arg_off, pct(s->trig_off + s->arg_off, s->events + s->args));
        json_group("subtypes", s->subtype, CASIE_N_SUBTYPES, casie_subtype_name);
        json_group("realis", s->realis, CASIE_N_REALIS, casie_realis_name);
        json_group("roles", s->role, CASIE_N_ROLES, casie_role_name);
        json_group("entity_types", s->entity, CASIE_N_ENTITY_TYPES, casie_entity_name);
        printf("}\n");
        return;
    }
    printf("documents                 %8ld\n", s->docs);
    printf("sentences                 %8ld\n", s->sents);
    printf("tokens                    %8ld\n", s->tokens);
    printf("hoppers                   %8ld  (%ld mix subtypes)\n", s->hoppers, s->mixed_hoppers);
    printf("events                    %8ld\n", s->events);
    printf("arguments                 %8ld\n", s->args);
    printf("spans repaired            %8ld\n", s->repaired);
    printf("spans unrepairable        %8ld  (left out)\n", s->unrepairable);
    printf("triggers off tokens       %8ld  %6.2f%%\n", s->trig_off, pct(s->trig_off, s->events));
    printf("arguments off tokens      %8ld  %6.2f%%\n", s->arg_off, pct(s->arg_off, s->args));
    printf("spans off tokens          %8ld  %6.2f%%\n", s->trig_off + s->arg_off,
           pct(s->trig_off + s->arg_off, s->events + s->args));
    print_group("events by subtype", s->subtype, CASIE_N_SUBTYPES, casie_subtype_name, s->events);
    print_group("realis", s->realis, CASIE_N_REALIS, casie_realis_name, s->events);
    print_group("roles", s->role, CASIE_N_ROLES, casie_role_name, s->args);
    print_group("entity types", s->entity, CASIE_N_ENTITY_TYPES, casie_entity_name, s->args);
}

/* ---- the command line ---- */

typedef struct stats_args {
    const char *split;
    int json, show;
} stats_args;

static const cli_opt OPTIONS[] = {
    {"--split", NULL, "FILE", "only the ids in FILE (or CORPUS_DIR/splits/FILE.txt)", CLI_STRING(stats_args, split)},
    {"--json", NULL, NULL, "print one JSON object", CLI_FLAG(stats_args, json)},
    {"--show-misaligned", NULL, NULL, "list on stderr each gold span off token boundaries", CLI_FLAG(stats_args, show)},
};

static const cli_command STATS = {
    .name = "stats",
    .synopsis = "usage: casie stats CORPUS_DIR [--split FILE] [--json] [--show-misaligned]\n"
                "  CORPUS_DIR             a corpus (with annotation/) or a directory of <id>.json\n",
    CLI_TABLE(OPTIONS),
    .min_args = 1,
    .max_args = 1,
};

int cmd_stats(int argc, char **argv) {
    stats_args a = {0};
    int n_args, rc = cli_parse(&STATS, argc, argv, &a, &n_args);
    if (rc != CLI_GO_ON) return rc;
    const char *dir = argv[0];
    casie_error err = {0};
    char **ids = NULL;
    int n_ids = 0;
    rc = 1;
    casie_corpus *c = NULL;
    stats st;
    memset(&st, 0, sizeof st);
    if (a.split) {
        char path[4096];
        snprintf(path, sizeof path, "%s", a.split);
        if (!file_exists(path) && !strchr(a.split, '/')) snprintf(path, sizeof path, "%s/splits/%s.txt", dir, a.split);
        if (!(ids = casie_read_ids(path, &n_ids, &err))) goto done;
    }
    if (!(c = casie_corpus_read(dir, (const char *const *)ids, n_ids, &err))) goto done;
    char base[4096];
    snprintf(base, sizeof base, "%s/annotation", dir);
    struct stat sb;
    if (stat(base, &sb) != 0 || !S_ISDIR(sb.st_mode)) snprintf(base, sizeof base, "%s", dir);
    for (int i = 0; i < c->n_docs; i++) {
        casie_doc *d = c->docs[i];
        char where[4400];
        snprintf(where, sizeof where, "%s/%s.json", base, d->id);
        if (casie_doc_analyze(d, &err)) goto done;
        if (count_doc(&st, d, where, a.show)) {
            snprintf(err.message, sizeof err.message, "out of memory");
            goto done;
        }
    }
    print_stats(&st, a.json);
    rc = 0;
done:
    if (rc) cli_fail(&err);
    casie_corpus_free(c);
    casie_strings_free(ids, n_ids);
    return rc;
}
