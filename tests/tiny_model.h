/*
 * tiny_model.h - a small but real casie model file, cut from the default model.
 *
 * The default model holds 2^14..2^17 rows per stage (18 MB): too large to flip
 * every byte of, or to load a few thousand times under a failing allocator.
 * tiny_model_write keeps the first `rows` rows of every stage (features then
 * hash onto those rows, so it still finds events, worse), the transitions,
 * role slots, tuning and metadata, no word clusters or vectors, and two
 * tiny fresh networks; with rows = 64 the file is about 15 KB.  Used by the fault tests and by `make fuzz` (the seed
 * of the model-loader target and the model of the JSONL target).
 *
 * Includes internal.h: link against libcasie.a, not the shared library.
 */
#ifndef CASIE_TINY_MODEL_H
#define CASIE_TINY_MODEL_H

#include "internal.h"
#include "feats.h"
#include "linear.h"
#include "model.h"
#include "nn.h"

#include <string.h>

static int tiny_linear(casie__linear *dst, const casie__linear *src, uint32_t rows) {
    if (casie__linear_init(dst, rows, src->n_labels, src->trans != NULL, 0)) return CASIE_ERR_NOMEM;
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t l = 0; l < src->n_labels; l++) {
            uint32_t bits = (uint32_t)src->wh[(size_t)r * src->stride + l] << 16;
            memcpy(&dst->w[(size_t)r * dst->stride + l], &bits, 4);
        }
    if (src->trans) {
        memcpy(dst->trans, src->trans, sizeof(float) * src->n_labels * src->n_labels);
        memcpy(dst->start, src->start, sizeof(float) * src->n_labels);
    }
    return CASIE_OK;
}

/* Writes a model of `rows` rows per stage (a power of two, at most the
 * smallest stage of the default model) cut from the model at `from`. */
static inline int tiny_model_write(const char *from, const char *to, uint32_t rows, casie_error *err) {
    casie_model *big = casie_model_load(from, err);
    if (!big) return err ? err->code : CASIE_ERR_IO;
    casie_model *m = calloc(1, sizeof *m);
    int rc = CASIE_ERR_NOMEM;
    if (!m) goto done;
    if (tiny_linear(&m->trig, &big->trig, rows) || tiny_linear(&m->arg, &big->arg, rows) ||
        tiny_linear(&m->ent, &big->ent, rows) || tiny_linear(&m->realis, &big->realis, rows) ||
        tiny_linear(&m->coref, &big->coref, rows))
        goto done;
    /* small networks over the token vectors without word vectors (the tiny
     * model has no clusters), freshly initialised: what they score is noise,
     * but every code path runs */
    if (casie__nnet_init(&m->trig_nn, CASIE_TOKVEC_EXTRA, 4, 8, 4, CASIE_TRIG_LABELS, 0, 1) ||
        casie__nnet_init(&m->arg_nn, CASIE_TOKVEC_EXTRA + CASIE_ARGVEC_REL, 4, 16, 4, CASIE_ARG_LABELS, CASIE_N_REALIS,
                         2) ||
        (big->arg_nn2.p && /* the second argument network when the default model has one */
         casie__nnet_init(&m->arg_nn2, CASIE_TOKVEC_EXTRA + CASIE_ARGVEC_REL, 4, 16, 4, CASIE_ARG_LABELS,
                          CASIE_N_REALIS, 3)) ||
        /* and a second trigger network, which the default model does not
         * have, so that the faults and fuzz tests reach NTR2 */
        casie__nnet_init(&m->trig_nn2, CASIE_TOKVEC_EXTRA, 4, 8, 4, CASIE_TRIG_LABELS, 0, 4))
        goto done;
    m->trig_mix = big->trig_mix, m->arg_mix = big->arg_mix, m->realis_mix = big->realis_mix;
    m->coref_bias = big->coref_bias, m->coref_generic = big->coref_generic;
    memcpy(m->n_slots, big->n_slots, sizeof m->n_slots);
    memcpy(m->slot_role, big->slot_role, sizeof m->slot_role);
    m->trig_bias = big->trig_bias, m->arg_bias = big->arg_bias;
    m->trig_temp = big->trig_temp, m->arg_temp = big->arg_temp;
    if (!(m->meta = casie__strdup("{\"tiny\":\"first rows of the default model\"}"))) goto done;
    rc = casie_model_save(m, to, err);
done:
    if (rc == CASIE_ERR_NOMEM) casie__error(err, rc, -1, "tiny model: out of memory");
    casie_model_free(m);
    casie_model_free(big);
    return rc;
}

#endif
