/*
 * cmd_eval_category.c - the argument category lines of `casie eval`:
 * accuracy of the category on matched arguments (casie_eval_category)
 * beside the majority-class baseline, as table rows or JSON.
 */
#include "cmd.h"

#include <stdio.h>

static const struct {
    int kind;
    const char *name;
} KINDS[2] = {{CASIE_CAT_PURPOSE, "purpose_cat"}, {CASIE_CAT_CAPEC, "capec"}};

static double pct(long a, long b) { return b > 0 ? 100.0 * (double)a / (double)b : 0.0; }

/* Columns: accuracy, the baseline, right, gold (matched pairs), predicted.
 * A kind's row: accuracy on its matched pairs beside the majority class;
 * a category's row (--detail): the share of its gold pairs predicted right
 * beside its share of all pairs (what always answering it scores). */
void eval_print_categories(const casie_eval *ev, int detail) {
    printf("%-46s %7s %7s %7s %7s %7s\n", "category", "acc", "base", "right", "gold", "pred");
    for (int k = 0; k < 2; k++) {
        casie_category_counts c = casie_eval_category(ev, KINDS[k].kind, -1);
        printf("%-46s %7.2f %7.2f %7ld %7ld %7ld\n", KINDS[k].name, pct(c.correct, c.matched),
               pct(c.majority, c.matched), c.correct, c.matched, c.predicted);
        if (!detail) continue;
        for (int i = 0; i < casie_category_count(KINDS[k].kind); i++) {
            casie_category_counts d = casie_eval_category(ev, KINDS[k].kind, i);
            if (!d.matched && !d.predicted) continue;
            char name[96];
            snprintf(name, sizeof name, "  %s/%s", KINDS[k].name, casie_category_name(KINDS[k].kind, i));
            printf("%-46s %7.2f %7.2f %7ld %7ld %7ld\n", name, pct(d.correct, d.matched), pct(d.matched, c.matched),
                   d.correct, d.matched, d.predicted);
        }
    }
}

void eval_json_categories(const casie_eval *ev, int detail) {
    printf(", \"categories\": {");
    for (int k = 0; k < 2; k++) {
        casie_category_counts c = casie_eval_category(ev, KINDS[k].kind, -1);
        printf("%s\"%s\": {\"accuracy\": %.4f, \"majority\": %.4f, \"correct\": %ld, \"matched\": %ld", k ? ", " : "",
               KINDS[k].name, pct(c.correct, c.matched), pct(c.majority, c.matched), c.correct, c.matched);
        if (detail) {
            printf(", \"by_category\": {");
            for (int i = 0, first = 1; i < casie_category_count(KINDS[k].kind); i++) {
                casie_category_counts d = casie_eval_category(ev, KINDS[k].kind, i);
                if (!d.matched && !d.predicted) continue;
                /* names are fixed ASCII without quotes or backslashes */
                printf("%s\"%s\": {\"correct\": %ld, \"gold\": %ld, \"predicted\": %ld}", first ? "" : ", ",
                       casie_category_name(KINDS[k].kind, i), d.correct, d.matched, d.predicted);
                first = 0;
            }
            printf("}");
        }
        printf("}");
    }
    printf("}");
}
