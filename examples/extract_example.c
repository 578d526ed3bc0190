/*
 * extract_example.c - the smallest useful program over libcasie: load the
 * model, extract events from a text given on the command line (or stdin),
 * print one line per event and argument.
 *
 *   cc extract_example.c $(pkg-config --cflags --libs casie) -o extract_example
 *   ./extract_example MODEL "Hackers stole the data of 2 million customers."
 */
#include <casie.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [TEXT]   (TEXT from stdin when absent)\n", argv[0]);
        return 2;
    }
    static char buf[1 << 20];
    size_t len;
    if (argc > 2) {
        len = strlen(argv[2]);
        if (len >= sizeof buf) len = sizeof buf - 1;
        memcpy(buf, argv[2], len);
    } else {
        len = fread(buf, 1, sizeof buf - 1, stdin);
    }
    casie_error err;
    casie_model *m = casie_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    casie_doc *d = casie_doc_from_text(buf, len, "example", &err);
    if (!d || casie_extract(m, d, NULL, &err) != CASIE_OK) {
        fprintf(stderr, "%s\n", err.message);
        casie_doc_free(d);
        casie_model_free(m);
        return 1;
    }
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            printf("hopper %d: %s (%s) \"%s\" [%d,%d) %.2f\n", h + 1, casie_subtype_name(e->subtype),
                   casie_realis_name(e->realis), e->text, e->start, e->end, e->score);
            for (int a = 0; a < e->n_args; a++)
                printf("  %s: \"%s\" (%s)\n", casie_role_name(e->args[a].role), e->args[a].text,
                       casie_entity_name(e->args[a].entity));
        }
    casie_doc_free(d);
    casie_model_free(m);
    return 0;
}
