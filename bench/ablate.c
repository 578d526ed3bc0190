/*
 * ablate.c - what each part of a model costs and what it buys: the dev
 * figures and the CPU seconds of one extraction pass over the dev articles
 * with the model's networks switched off a group at a time.
 *
 *   bench/ablate MODEL CORPUS_DIR [PASSES]
 *
 * A group switched off leaves its sparse model alone, with weight 1 and bias
 * 0 (argmax and Viterbi do not depend on the scale); realis then comes from
 * the realis perceptron alone.  The confidence scores keep the model's tuned
 * softmax scales, so they are not calibrated in the ablated rows, which do
 * not use them.  Times are those of devpass.h: the thread's CPU clock around
 * casie_extract, the best of PASSES passes (default 3) after a warm-up.
 */
#include "internal.h"
#include "devpass.h"
#include "extract.h"
#include "model.h"

static double f1(casie_eval *ev, int metric) {
    double p, r, f;
    casie_prf(casie_eval_counts(ev, metric, -1, -1), &p, &r, &f);
    return f;
}

int main(int argc, char **argv) {
    devpass_prog = "ablate";
    casie_model *m;
    devset s;
    int passes = devpass_args(argc, argv, &m, &s);
    /* the fields switched below, and their values in the model */
    const struct {
        const float *trig_nn, *trig_nn2, *arg_nn, *arg_nn2;
        float trig_mix, trig_bias, arg_mix, arg_bias, realis_mix;
    } full = {m->trig_nn.p, m->trig_nn2.p, m->arg_nn.p, m->arg_nn2.p, m->trig_mix,
              m->trig_bias, m->arg_mix,    m->arg_bias, m->realis_mix};
    static const char *const NAMES[4] = {"sparse models only", "+ trigger network(s)", "+ argument networks only",
                                         "whole model"};
    printf("| %s: %d dev articles, %.0f KB | trig_c | arg_c | realis | ent_type | coref_muc | given: arg_c / realis / "
           "coref_muc | CPU s per pass (given triggers) | extraction MB/s |\n",
           argv[1], s.dev->n_docs, (double)s.bytes / 1e3);
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < 4; c++) {
        int trig_nets = c & 1, arg_nets = c & 2;
        m->trig_nn.p = trig_nets ? full.trig_nn : NULL;
        m->trig_nn2.p = trig_nets ? full.trig_nn2 : NULL;
        m->trig_mix = trig_nets ? full.trig_mix : 1.0f;
        m->trig_bias = trig_nets ? full.trig_bias : 0.0f;
        m->arg_nn.p = arg_nets ? full.arg_nn : NULL;
        m->arg_nn2.p = arg_nets ? full.arg_nn2 : NULL;
        m->arg_mix = arg_nets ? full.arg_mix : 1.0f;
        m->arg_bias = arg_nets ? full.arg_bias : 0.0f;
        m->realis_mix = arg_nets ? full.realis_mix : 1.0f;
        /* scratch is sized for the networks in use: none kept from before */
        casie__pool_free(m->pool);
        if (!(m->pool = casie__pool_new(casie__extract_scratch_free))) return 1;
        casie_eval *e2e = casie_eval_new(), *given = casie_eval_new();
        if (!e2e || !given) return 1;
        double t = dev_pass(m, &s, 0, passes, e2e), tg = dev_pass(m, &s, 1, passes, given);
        printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f / %.2f / %.2f | %.3f (%.3f) | %.2f |\n", NAMES[c],
               f1(e2e, CASIE_METRIC_TRIG_C), f1(e2e, CASIE_METRIC_ARG_C), f1(e2e, CASIE_METRIC_REALIS),
               f1(e2e, CASIE_METRIC_ENT_TYPE), f1(e2e, CASIE_METRIC_COREF_MUC), f1(given, CASIE_METRIC_ARG_C),
               f1(given, CASIE_METRIC_REALIS), f1(given, CASIE_METRIC_COREF_MUC), t, tg, (double)s.bytes / 1e6 / t);
        fflush(stdout);
        casie_eval_free(e2e);
        casie_eval_free(given);
    }
    devset_free(&s);
    casie_model_free(m);
    return 0;
}
