/* fuzz_extract.c - extraction end to end with the default model: arbitrary
 * bytes as an article (or, when they start with '{', as a JSON record), then
 * CASIE JSON and STIX out; checks that every span lies inside the text. */
#include "fuzz_common.h"

static casie_model *g_model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    g_model = fuzz_load_model(fuzz_default_model());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    casie_error err = {0};
    casie_doc *d = size && data[0] == '{' ? casie_doc_from_json((const char *)data, size, "fuzz", &err)
                                          : casie_doc_from_text((const char *)data, size, "fuzz", &err);
    if (!d) return 0;
    if (casie_extract(g_model, d, NULL, &err) == CASIE_OK) {
        for (int h = 0; h < d->n_hoppers; h++)
            for (int i = 0; i < d->hoppers[h].n_events; i++) {
                const casie_event *e = &d->hoppers[h].events[i];
                if (e->start < 0 || e->end <= e->start || e->end > d->n_cp || !(e->score >= 0 && e->score <= 1))
                    abort();
                for (int a = 0; a < e->n_args; a++)
                    if (e->args[a].start < 0 || e->args[a].end <= e->args[a].start || e->args[a].end > d->n_cp ||
                        !(e->args[a].score >= 0 && e->args[a].score <= 1))
                        abort();
            }
        char *js = casie_doc_to_json(d, CASIE_JSON_SCORES, NULL, &err);
        casie_free(js);
        js = casie_doc_to_stix(d, 0, NULL, &err);
        casie_free(js);
    }
    casie_doc_free(d);
    return 0;
}
