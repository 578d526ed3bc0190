/*
 * encoder_write.c - an encoder file written again with some of its layers
 * replaced: what fine-tuning (encoder_tune.c) hands back.
 *
 * Every section of the original is copied as it is, in its order, except
 * three: WGTS with the new layers' bytes where the old ones were (the
 * layout is the file's own, so embeddings and other layers keep every
 * byte), ECFG with the hash made again over VOCB and the new WGTS as the
 * import makes it (a model names its encoder by that hash), and NAME
 * marked with the layers replaced.  The file is never written over
 * anything (casie__container_write_new).
 *
 * Not here: the import of a checkpoint (encoder_import.c), the layout
 * (encoder.c's casie__encoder_bind), quantizing (encoder_grad.c).
 */
#include "internal.h"
#include "byte_order.h"
#include "encoder.h"
#include "encoder_tune.h"
#include "hash.h"
#include "model_file.h"

#include <stdio.h>
#include <string.h>

static void copy_q8(const casie__q8mat *to, const casie__q8mat *from) {
    memcpy((void *)to->q, from->q, (size_t)from->rows * (size_t)from->stride);
    memcpy((void *)to->scale, from->scale, sizeof(float) * (size_t)from->rows);
    memcpy((void *)to->sum, from->sum, sizeof(int32_t) * (size_t)from->rows);
}

static void copy_floats(const float *to, const float *from, int n) {
    memcpy((void *)to, from, sizeof(float) * (size_t)n);
}

/* A layer's bytes, in the new WGTS, from one of the same shape. */
static void copy_layer(const casie__enc_layer *to, const casie__enc_layer *from, int H, int I) {
    copy_q8(&to->qkv, &from->qkv);
    copy_floats(to->b_qkv, from->b_qkv, 3 * H);
    copy_q8(&to->out, &from->out);
    copy_floats(to->b_out, from->b_out, H);
    copy_floats(to->ln1_g, from->ln1_g, H);
    copy_floats(to->ln1_b, from->ln1_b, H);
    copy_q8(&to->ff1, &from->ff1);
    copy_floats(to->b_ff1, from->b_ff1, I);
    copy_q8(&to->ff2, &from->ff2);
    copy_floats(to->b_ff2, from->b_ff2, H);
    copy_floats(to->ln2_g, from->ln2_g, H);
    copy_floats(to->ln2_b, from->ln2_b, H);
}

static int same_shape(const casie__q8mat *a, const casie__q8mat *b) {
    return a->rows == b->rows && a->cols == b->cols && a->stride == b->stride;
}

int casie__encoder_write_layers(const casie_encoder *enc, int first, const casie__enc_layer *layers, int n,
                                const char *out_path, casie_error *err) {
    if (!enc || !layers || !out_path || first < 1 || n < 1 || first + n - 1 > enc->cfg.n_layers)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie__encoder_write_layers: bad arguments");
    for (int k = 0; k < n; k++) {
        const casie__enc_layer *a = &enc->layers[first - 1 + k], *b = &layers[k];
        if (!same_shape(&a->qkv, &b->qkv) || !same_shape(&a->out, &b->out) || !same_shape(&a->ff1, &b->ff1) ||
            !same_shape(&a->ff2, &b->ff2))
            return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: layer %d is not the encoder's shape", out_path,
                                first + k);
    }
    const casie__model_file *mf = &enc->file;
    const casie__section *wg = casie__model_file_find(mf, "WGTS"), *vo = casie__model_file_find(mf, "VOCB");
    const casie__section *cf = casie__model_file_find(mf, "ECFG");
    if (!wg || !vo || !cf || cf->size != CASIE__ECFG_SIZE || wg->size > SIZE_MAX - 1)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: the encoder has no file to copy", out_path);
    casie__section *secs = calloc((size_t)mf->n_secs + 1, sizeof *secs);
    unsigned char *wgts = malloc((size_t)wg->size + 1), cfg[CASIE__ECFG_SIZE];
    casie_encoder e;
    memset(&e, 0, sizeof e);
    e.cfg = enc->cfg;
    char name[1024];
    int rc;
    if (!secs || !wgts || !(e.layers = calloc((size_t)e.cfg.n_layers, sizeof *e.layers))) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory writing the encoder", out_path);
        goto done;
    }
    memcpy(wgts, wg->data, (size_t)wg->size);
    casie__encoder_bind(&e, wgts); /* e's arrays: views into the copy */
    for (int k = 0; k < n; k++)
        copy_layer(&e.layers[first - 1 + k], &layers[k], e.cfg.hidden, e.cfg.intermediate);
    memcpy(cfg, cf->data, sizeof cfg);
    casie__put_u64le(cfg + CASIE__ECFG_HASH,
                     casie__hash_bytes(wgts, (size_t)wg->size, casie__hash_bytes(vo->data, (size_t)vo->size, 0)));
    char tail[64];
    int tl = snprintf(tail, sizeof tail, " (tuned: layers %d-%d)", first, first + n - 1);
    snprintf(name, sizeof name, "%.*s%s", (int)(sizeof name - 1 - (size_t)tl), enc->cfg.name, tail);
    for (int i = 0; i < mf->n_secs; i++) {
        secs[i] = mf->secs[i];
        if (!strcmp(secs[i].tag, "ECFG"))
            secs[i].data = cfg;
        else if (!strcmp(secs[i].tag, "NAME"))
            secs[i].data = name, secs[i].size = strlen(name) + 1;
        else if (!strcmp(secs[i].tag, "WGTS"))
            secs[i].data = wgts;
    }
    rc = casie__container_write_new(out_path, CASIE__FILE_ENCODER, secs, mf->n_secs, err);
done:
    free(e.layers);
    free(wgts);
    free(secs);
    return rc;
}
