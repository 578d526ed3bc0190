/* make_tiny_model.c - `make_tiny_model FROM TO [ROWS [TRIG_BIAS]]`: writes the
 * tiny model of tests/tiny_model.h (the seed of fuzz_model, the model of
 * fuzz_jsonl and fuzz_http), with its trigger bias set to TRIG_BIAS.
 *
 * The tiny model's networks are fresh noise; with the default model's
 * trigger bias (1.25) they find a trigger in every sentence, most of them
 * the whole sentence, and the argument tagger then runs on every sentence
 * of every input (15 times the time per input of the default model).  At
 * -0.95 about a third of 120-byte snippets of the corpus have an event (with
 * arguments), the rest none: the argument, realis, coreference and writer
 * paths are still reached, at a fraction of the cost. */
#include "../tests/tiny_model.h"

#include <stdio.h>

#define TINY_TRIG_BIAS (-0.95f)

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: make_tiny_model FROM TO [ROWS [TRIG_BIAS]]\n");
        return 2;
    }
    casie_error err = {0};
    if (tiny_model_write(argv[1], argv[2], argc > 3 ? (uint32_t)atoi(argv[3]) : 64, &err)) {
        fprintf(stderr, "make_tiny_model: %s\n", err.message);
        return 1;
    }
    casie_model *m = casie_model_load(argv[2], &err);
    if (!m) {
        fprintf(stderr, "make_tiny_model: %s\n", err.message);
        return 1;
    }
    m->trig_bias = argc > 4 ? (float)atof(argv[4]) : TINY_TRIG_BIAS;
    int rc = casie_model_save(m, argv[2], &err);
    casie_model_free(m);
    if (rc) {
        fprintf(stderr, "make_tiny_model: %s\n", err.message);
        return 1;
    }
    return 0;
}
