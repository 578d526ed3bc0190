/*
 * passes.c - CPU seconds per extraction pass over the dev articles, end to
 * end and given the gold triggers: the best of several passes after one
 * that warms the caches, timed around casie_extract alone (devpass.h).  For
 * comparing two builds or two models: run both, in turns.
 *
 *   bench/passes MODEL CORPUS_DIR [PASSES]
 */
#include "devpass.h"

int main(int argc, char **argv) {
    devpass_prog = "passes";
    casie_model *m;
    devset s;
    int passes = devpass_args(argc, argv, &m, &s);
    for (int given = 0; given < 2; given++)
        printf("%s: %.3f s per pass over %d dev articles (best of %d)\n", given ? "given triggers" : "end to end",
               dev_pass(m, &s, given, passes, NULL), s.dev->n_docs, passes);
    devset_free(&s);
    casie_model_free(m);
    return 0;
}
