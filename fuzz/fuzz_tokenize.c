/* fuzz_tokenize.c - the UTF-8 decoder, sentence splitter and tokenizer on
 * arbitrary bytes; checks that sentences and tokens are in order, inside the
 * text, and that every token belongs to the sentence that claims it. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    casie_error err = {0};
    casie_doc *d = casie_doc_from_text((const char *)data, size, "fuzz", &err);
    if (!d) return 0;
    if (casie_doc_analyze(d, &err) == CASIE_OK) {
        int32_t prev_end = 0;
        for (int i = 0; i < d->n_tokens; i++) {
            const casie_token *t = &d->tokens[i];
            if (t->start < prev_end || t->end <= t->start || t->end > d->n_cp || t->sent < 0 || t->sent >= d->n_sents)
                abort();
            const casie_sentence *s = &d->sents[t->sent];
            if (i < s->tok_begin || i >= s->tok_end || t->start < s->start || t->end > s->end) abort();
            prev_end = t->end;
        }
        for (int i = 0; i < d->n_sents; i++) {
            const casie_sentence *s = &d->sents[i];
            if (s->start > s->end || s->end > d->n_cp || s->tok_begin > s->tok_end || s->tok_end > d->n_tokens) abort();
            if (i && (s->start < d->sents[i - 1].end || s->tok_begin != d->sents[i - 1].tok_end)) abort();
        }
    }
    casie_doc_free(d);
    return 0;
}
