/*
 * train_tune.c - after the weights are learnt, choosing on the dev
 * documents what decoding adds to them: the weight of the sparse models
 * beside the networks, the decoding biases, the coreference threshold and
 * Generic offset, the confidence scales.  Each a grid search; ties keep the
 * first value tried.
 */
#include "train.h"
#include "model.h"

/* the sparse mixes tried */
static const float MIX[] = {0.0f, 0.01f, 0.02f, 0.03f, 0.05f, 0.075f, 0.1f, 0.15f, 0.2f, 0.4f, 1.0f};

/* The sparse mix and decoding bias of one tagger: the arguments' (stage 1)
 * by arg_c given gold triggers, the triggers' (stage 0) by trig_c + arg_c
 * end to end. */
static int tune_tagger(trainer *t, casie_doc *const *dev, int n_dev, int stage, casie_error *err) {
    static const float BIAS[] = {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f, 1.5f, 2.0f, 3.0f};
    casie_model *m = t->m;
    float best_m = 0, best_b = 0, *mix = stage ? &m->arg_mix : &m->trig_mix,
          *bias = stage ? &m->arg_bias : &m->trig_bias;
    double best = -1;
    for (size_t i = 0; i < sizeof MIX / sizeof MIX[0]; i++)
        for (size_t j = 0; j < sizeof BIAS / sizeof BIAS[0]; j++) {
            double f1[CASIE_N_METRICS], score;
            *mix = MIX[i], *bias = BIAS[j];
            int rc = casie__dev_scores(m, dev, n_dev, stage ? 1 : 0, t->p->threads, f1, err);
            if (rc) return rc;
            if (stage) {
                score = f1[CASIE_METRIC_ARG_C];
                casie__train_log(t, "tuning arguments: sparse mix %.2f, bias %.2f: dev arg_c (given triggers) %.2f",
                                 (double)MIX[i], (double)BIAS[j], score);
            } else {
                score = f1[CASIE_METRIC_TRIG_C] + f1[CASIE_METRIC_ARG_C];
                casie__train_log(t, "tuning triggers: sparse mix %.2f, bias %.2f: dev trig_c %.2f, arg_c %.2f",
                                 (double)MIX[i], (double)BIAS[j], f1[CASIE_METRIC_TRIG_C], f1[CASIE_METRIC_ARG_C]);
            }
            if (score > best) best = score, best_m = MIX[i], best_b = BIAS[j];
        }
    *mix = best_m, *bias = best_b;
    casie__train_log(t, "tuned %s: sparse mix %.2f, bias %.2f (dev %s %.2f)", stage ? "arguments" : "triggers",
                     (double)best_m, (double)best_b, stage ? "arg_c given triggers" : "trig_c + arg_c", best);
    return CASIE_OK;
}

/* Picks, on the dev documents, how much of the sparse models to mix into
 * the networks' scores and the decoding biases.  Arguments by arg_c and
 * realis by realis, given gold triggers (the trigger stage's parameters do
 * not change those); then triggers by trig_c + arg_c end to end, since the
 * triggers found decide the arguments found; then the coreference
 * threshold and the confidence scales. */
int casie__tune(trainer *t, casie_doc *const *dev, int n_dev, casie_error *err) {
    const int T = t->p->threads;
    casie_model *m = t->m;
    int rc = tune_tagger(t, dev, n_dev, 1, err);
    if (rc) return rc;
    { /* realis, before the triggers: its mix changes nothing they are tuned on */
        float best_r = 0;
        double best = -1;
        for (size_t i = 0; i < sizeof MIX / sizeof MIX[0]; i++) {
            double f1[CASIE_N_METRICS];
            m->realis_mix = MIX[i];
            if ((rc = casie__dev_scores(m, dev, n_dev, 1, T, f1, err))) return rc;
            casie__train_log(t, "tuning realis: sparse mix %.2f: dev realis (given triggers) %.2f", (double)MIX[i],
                             f1[CASIE_METRIC_REALIS]);
            if (f1[CASIE_METRIC_REALIS] > best) best = f1[CASIE_METRIC_REALIS], best_r = MIX[i];
        }
        m->realis_mix = best_r;
    }
    if ((rc = tune_tagger(t, dev, n_dev, 0, err))) return rc;
    /* coreference: the link threshold, and the offset of links with a
     * Generic event, with the best mean of the pairwise and MUC F1 given
     * gold triggers (pairs punish merging too much, MUC splitting too much) */
    {
        static const float CGRID[] = {-8.0f, -4.0f, -2.0f, 0.0f, 1.0f, 2.0f,  3.0f,
                                      4.0f,  5.0f,  6.0f,  7.0f, 8.0f, 10.0f, 12.0f};
        static const float GGRID[] = {0.0f, 3.0f, 6.0f, 9.0f};
        float best_c = 0, best_g = 0;
        double best = -1;
        for (size_t gg = 0; gg < sizeof GGRID / sizeof GGRID[0]; gg++)
            for (size_t g = 0; g < sizeof CGRID / sizeof CGRID[0]; g++) {
                double f1[CASIE_N_METRICS];
                m->coref_bias = CGRID[g];
                m->coref_generic = GGRID[gg];
                if ((rc = casie__dev_scores(m, dev, n_dev, 1, T, f1, err))) return rc;
                double mean = (f1[CASIE_METRIC_COREF] + f1[CASIE_METRIC_COREF_MUC]) / 2;
                casie__train_log(t,
                                 "tuning coreference bias %.2f, Generic offset %.2f: dev (given triggers) coref %.2f, "
                                 "coref_muc %.2f",
                                 (double)CGRID[g], (double)GGRID[gg], f1[CASIE_METRIC_COREF],
                                 f1[CASIE_METRIC_COREF_MUC]);
                if (mean > best) best = mean, best_c = CGRID[g], best_g = GGRID[gg];
            }
        m->coref_bias = best_c;
        m->coref_generic = best_g;
    }
    /* confidence calibration: the softmax scale with the best Brier score */
    static const float TEMPS[] = {2.0f, 1.5f, 1.0f, 0.75f, 0.5f, 0.35f, 0.25f};
    for (int stage = 0; stage < 2; stage++) {
        float best_t = 1.0f;
        double best = 1e9;
        for (size_t g = 0; g < sizeof TEMPS / sizeof TEMPS[0]; g++) {
            double b;
            if (stage == 0)
                m->trig_temp = TEMPS[g];
            else
                m->arg_temp = TEMPS[g];
            if ((rc = casie__dev_brier(m, dev, n_dev, stage, T, &b, err))) return rc;
            casie__train_log(t, "calibrating %s confidence, scale %.3f: Brier score %.4f",
                             stage == 0 ? "trigger" : "argument", (double)TEMPS[g], b);
            if (b < best) best = b, best_t = TEMPS[g];
        }
        if (stage == 0)
            m->trig_temp = best_t;
        else
            m->arg_temp = best_t;
    }
    return CASIE_OK;
}
