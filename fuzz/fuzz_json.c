/* fuzz_json.c - the CASIE JSON reader (annotations and records) on arbitrary
 * bytes; a document it accepts is written back and must read again, with the
 * same text and as many events; its scores are in [0, 1] or unset; and read
 * with CASIE_READ_TEXT_ONLY it gives the same text and id, and no events. */
#include "fuzz_common.h"

static int n_events(const casie_doc *d) {
    int n = 0;
    for (int h = 0; h < d->n_hoppers; h++)
        n += d->hoppers[h].n_events;
    return n;
}

static int score_ok(float s) { return s < 0 || s <= 1; }

static int scores_ok(const casie_doc *d) {
    for (int h = 0; h < d->n_hoppers; h++)
        for (int i = 0; i < d->hoppers[h].n_events; i++) {
            const casie_event *e = &d->hoppers[h].events[i];
            if (!score_ok(e->score)) return 0;
            for (int a = 0; a < e->n_args; a++)
                if (!score_ok(e->args[a].score)) return 0;
        }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_json((const char *)data, size, "fuzz", &err);
    if (!d) {
        if (err.code >= 0 || !err.message[0]) abort(); /* a failure says why */
        return 0;
    }
    if (!scores_ok(d)) abort();
    casie_doc *t = casie_doc_from_json_opts((const char *)data, size, "fuzz", CASIE_READ_TEXT_ONLY, &err);
    if (!t || t->text_len != d->text_len || memcmp(t->text, d->text, d->text_len) || t->n_hoppers ||
        (!t->id) != (!d->id) || (t->id && strcmp(t->id, d->id)))
        abort();
    casie_doc_free(t);
    size_t len = 0;
    char *js = casie_doc_to_json(d, CASIE_JSON_SCORES, &len, &err);
    if (js) {
        casie_doc *again = casie_doc_from_json(js, len, "fuzz (written back)", &err);
        if (!again) {
            fprintf(stderr, "written back but refused: %s\n%s\n", err.message, js);
            abort();
        }
        if (again->text_len != d->text_len || memcmp(again->text, d->text, d->text_len) ||
            n_events(again) != n_events(d))
            abort();
        casie_doc_free(again);
        casie_free(js);
    }
    casie_doc_free(d);
    return 0;
}
