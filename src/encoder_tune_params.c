/*
 * encoder_tune_params.c - the task-adaptive stage's parameters: their
 * defaults and their check, before any work (encoder_tune.c).
 */
#include "internal.h"
#include "encoder.h"
#include "encoder_tune.h"

#include <string.h>

casie_encoder_tune_params casie_encoder_tune_default_params(void) {
    casie_encoder_tune_params p;
    memset(&p, 0, sizeof p);
    p.train_layers = 2;
    p.epochs = 3;
    p.batch = 8;
    p.threads = 1;
    p.lr = 5e-5f;
    p.head_lr = 1e-3f;
    p.warmup = 0.1f;
    p.weight_decay = 0.01f;
    p.clip = 1.0f;
    p.event_weight = 1.0f;
    p.seed = 1;
    return p;
}

int casie__tune_check_params(const casie__tune_params *p, const casie_encoder_config *c, int *first, int *last,
                             casie_error *err) {
    int hi = p->enc_last ? p->enc_last : c->n_layers, lo = p->enc_first ? p->enc_first : hi > 3 ? hi - 3 : 1;
    if (p->enc_first < 0 || p->enc_last < 0 || lo < 1 || lo > hi || hi > c->n_layers)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder layers %d..%d: the encoder has layers 1..%d", lo,
                            hi, c->n_layers);
#define BAD(cond, ...)                                                                                                 \
    if (cond) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, __VA_ARGS__)
    BAD(p->train_layers < 1 || p->train_layers > hi, "train_layers %d: 1..%d (the last layer read)", p->train_layers,
        hi);
    BAD(p->epochs < 1 || p->epochs > 1000, "epochs %d: 1..1000", p->epochs);
    BAD(p->batch < 1 || p->batch > 256, "batch %d: 1..256", p->batch);
    BAD(p->max_windows < 0, "max_windows %d: 0 or more", p->max_windows);
    BAD(p->threads < 1 || p->threads > CASIE__TUNE_MAX_THREADS, "threads %d: 1..%d", p->threads,
        CASIE__TUNE_MAX_THREADS);
    BAD(!(p->lr > 0.0f && p->lr < 1.0f), "lr %g: in (0, 1)", (double)p->lr);
    BAD(!(p->head_lr > 0.0f && p->head_lr < 1.0f), "head_lr %g: in (0, 1)", (double)p->head_lr);
    BAD(!(p->warmup >= 0.0f && p->warmup < 1.0f), "warmup %g: in [0, 1)", (double)p->warmup);
    BAD(!(p->weight_decay >= 0.0f && p->weight_decay < 1.0f), "weight_decay %g: in [0, 1)", (double)p->weight_decay);
    BAD(!(p->clip >= 0.0f && p->clip < 1e9f), "clip %g: 0 or more", (double)p->clip);
    BAD(!(p->event_weight > 0.0f && p->event_weight <= 1000.0f), "event_weight %g: in (0, 1000]",
        (double)p->event_weight);
#undef BAD
    *first = lo, *last = hi;
    return CASIE_OK;
}
