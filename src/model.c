/*
 * model.c - saving, loading and freeing a casie_model.
 *
 * A model file is the container of model_io.c (docs/FORMAT.md) with these
 * sections:
 *   META  JSON object text: versions, training parameters, corpus hashes
 *         (a file whose META is not a JSON object is refused)
 *   LABL  the role slots: i32 n_slots[5], i32 slot_role[5][12]
 *   TRIG ARGS ENTY REAL CORF  one linear model each (layout below)
 *   TUNE  64 bytes, all tuned on dev: f32 trig_bias, arg_bias (decoding
 *         biases), f32 trig_temp, arg_temp (confidence softmax scales), f32
 *         coref_bias (added to every coreference link score), f32 trig_mix,
 *         arg_mix, realis_mix (weights of the sparse models' scores beside the
 *         networks'), f32 coref_generic (added to the link score of a pair
 *         with a Generic event), then zeros
 *   CLUS  word clusters: u32 n_slots, 28 bytes zero, then n_slots entries
 *         {u64 key, u16 c[3], u16 emb}; emb is the word's EMBD row + 1 (0: none)
 *   EMBD  word vectors: u32 n_words, dim, 24 bytes zero, f32 scale[n_words]
 *         (zero padding to 32 bytes), then i8 v[n_words][dim]
 *   NTRG NARG  the neural trigger and argument taggers: u32 D, H, U, K, L, L2
 *         (NARG's second head scores realis), 8 bytes zero, then the f32
 *         parameters (layout in nn.c)
 *   NAR2  optional: a second argument tagger of NARG's shape (another seed),
 *         whose scores are added to NARG's
 *   NTR2  optional: likewise a second trigger tagger of NTRG's shape
 *   XENC  optional: the encoder whose layers are every network's extra token
 *         inputs (xvec.c): u32 xdim (its hidden size), u32 enc_layers, u64
 *         enc_hash, i32 window, i32 stride, 8 bytes zero, char enc_file[48]
 *         (its file name, NUL-padded), then f32 mix[enc_layers + 1]
 * A linear model section: a 32-byte header {u32 n_rows, n_labels, stride,
 * is_sequence, dtype (1 = bfloat16), feature_version, 8 bytes zero}, then
 * f32 trans (L*L) and start (L) when is_sequence, zero padding to a multiple
 * of 32 bytes, then the (n_rows, stride) weights as bfloat16.  Loading maps
 * the file and uses the weights in place: nothing is allocated per feature.
 * All fields are little-endian; loading refuses a big-endian host.
 */
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define FEATURE_VERSION 3

int casie__model_alloc(casie_model **out, int training);

void casie_model_free(casie_model *m) {
    if (!m) return;
    casie__linear_free(&m->trig);
    casie__linear_free(&m->arg);
    casie__linear_free(&m->ent);
    casie__linear_free(&m->realis);
    casie__linear_free(&m->coref);
    casie__nnet_free(&m->trig_nn);
    casie__nnet_free(&m->arg_nn);
    casie__nnet_free(&m->arg_nn2);
    casie__nnet_free(&m->trig_nn2);
    casie__projcache_free(&m->pc_trig);
    casie__projcache_free(&m->pc_trig2);
    casie__projcache_free(&m->pc_arg);
    casie__projcache_free(&m->pc_arg2);
    casie__pool_free(m->pool);
    casie_encoder_free(m->enc);
    if (m->wp) casie__wordpiece_free(m->wp);
    free(m->wp);
    free(m->emb_scale_owned);
    free(m->emb_v_owned);
    free(m->clusters_owned);
    free(m->meta);
    casie__model_file_close(&m->file);
    free(m);
}

char *casie_model_metadata(const casie_model *m) { return m && m->meta ? casie__strdup(m->meta) : NULL; }

static size_t linear_bytes(const casie__linear *m, size_t *weights_at) {
    size_t head = 32;
    if (m->trans) head += sizeof(float) * ((size_t)m->n_labels * m->n_labels + m->n_labels);
    head = (head + 31) & ~(size_t)31;
    *weights_at = head;
    return head + sizeof(uint16_t) * (size_t)m->n_rows * m->stride;
}

static unsigned char *linear_serialize(const casie__linear *m, size_t *size) {
    size_t wat, n = linear_bytes(m, &wat);
    unsigned char *buf = calloc(1, n);
    if (!buf) return NULL;
    casie__put_u32le(buf, m->n_rows);
    casie__put_u32le(buf + 4, m->n_labels);
    casie__put_u32le(buf + 8, m->stride);
    casie__put_u32le(buf + 12, m->trans != NULL);
    casie__put_u32le(buf + 16, 1);
    casie__put_u32le(buf + 20, FEATURE_VERSION);
    if (m->trans) {
        size_t L = m->n_labels;
        memcpy(buf + 32, m->trans, sizeof(float) * L * L);
        memcpy(buf + 32 + sizeof(float) * L * L, m->start, sizeof(float) * L);
    }
    uint16_t *w = (uint16_t *)(buf + wat);
    size_t nw = (size_t)m->n_rows * m->stride;
    for (size_t i = 0; i < nw; i++) w[i] = m->wh ? m->wh[i] : casie__f32_to_bf16(m->w[i]);
    *size = n;
    return buf;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

int casie_model_save(const casie_model *m, const char *path, casie_error *err) {
    if (!m || !path) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_model_save: no model or path");
    if (!host_is_little_endian()) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "big-endian hosts unsupported");
    const casie__linear *lin[5] = {&m->trig, &m->arg, &m->ent, &m->realis, &m->coref};
    static const char *const tags[5] = {"TRIG", "ARGS", "ENTY", "REAL", "CORF"};
    unsigned char *bufs[12] = {0};
    casie__section secs[15];
    int n = 0, rc = CASIE_ERR_NOMEM;
    const char *meta = m->meta ? m->meta : "{}";
    secs[n++] = (casie__section){"META", meta, strlen(meta)};
    int32_t labl[CASIE_N_SUBTYPES * (1 + CASIE_MAX_SLOTS)];
    for (int s = 0; s < CASIE_N_SUBTYPES; s++) {
        labl[s] = m->n_slots[s];
        for (int k = 0; k < CASIE_MAX_SLOTS; k++) labl[CASIE_N_SUBTYPES + s * CASIE_MAX_SLOTS + k] = m->slot_role[s][k];
    }
    secs[n++] = (casie__section){"LABL", labl, sizeof labl};
    for (int i = 0; i < 5; i++) {
        size_t size;
        if (!(bufs[i] = linear_serialize(lin[i], &size))) goto done;
        secs[n] = (casie__section){"", bufs[i], size};
        memcpy(secs[n].tag, tags[i], 5);
        n++;
    }
    size_t csize = 32 + sizeof(casie__cluster_entry) * (size_t)m->clusters.n_slots;
    if (!(bufs[5] = calloc(1, csize))) goto done;
    casie__put_u32le(bufs[5], m->clusters.n_slots);
    if (m->clusters.n_slots) memcpy(bufs[5] + 32, m->clusters.slots, csize - 32);
    secs[n++] = (casie__section){"CLUS", bufs[5], csize};
    const casie__nnet *nets[4] = {&m->trig_nn, &m->arg_nn, &m->arg_nn2, &m->trig_nn2};
    static const char *const ntags[4] = {"NTRG", "NARG", "NAR2", "NTR2"};
    for (int i = 0; i < 4; i++) {
        const casie__nnet *nn = nets[i];
        unsigned char *buf;
        if (i >= 2 && !nn->p) continue; /* optional */
        size_t size = 32 + sizeof(float) * nn->n_params;
        if (!(buf = bufs[i < 2 ? 6 + i : 8 + i] = calloc(1, size))) goto done;
        casie__put_u32le(buf, (uint32_t)nn->D);
        casie__put_u32le(buf + 4, (uint32_t)nn->H);
        casie__put_u32le(buf + 8, (uint32_t)nn->U);
        casie__put_u32le(buf + 12, (uint32_t)nn->K);
        casie__put_u32le(buf + 16, (uint32_t)nn->L);
        casie__put_u32le(buf + 20, (uint32_t)nn->L2);
        if (nn->n_params) memcpy(buf + 32, nn->p, sizeof(float) * nn->n_params);
        secs[n] = (casie__section){"", buf, size};
        memcpy(secs[n].tag, ntags[i], 5);
        n++;
    }
    size_t sc_at = (32 + sizeof(float) * (size_t)m->emb.n_words + 31) & ~(size_t)31;
    size_t esize = sc_at + (size_t)m->emb.n_words * m->emb.dim;
    if (!(bufs[8] = calloc(1, esize))) goto done;
    casie__put_u32le(bufs[8], m->emb.n_words);
    casie__put_u32le(bufs[8] + 4, m->emb.dim);
    if (m->emb.n_words) {
        memcpy(bufs[8] + 32, m->emb.scale, sizeof(float) * m->emb.n_words);
        memcpy(bufs[8] + sc_at, m->emb.v, (size_t)m->emb.n_words * m->emb.dim);
    }
    secs[n++] = (casie__section){"EMBD", bufs[8], esize};
    unsigned char xenc[80 + 4 * CASIE_XMIX_MAX] = {0};
    if (m->xdim > 0) {
        const casie__xspec *xs = &m->xs;
        casie__put_u32le(xenc, (uint32_t)m->xdim);
        casie__put_u32le(xenc + 4, (uint32_t)xs->enc_layers);
        casie__put_u32le(xenc + 8, (uint32_t)xs->enc_hash);
        casie__put_u32le(xenc + 12, (uint32_t)(xs->enc_hash >> 32));
        casie__put_u32le(xenc + 16, (uint32_t)xs->window);
        casie__put_u32le(xenc + 20, (uint32_t)xs->stride);
        memcpy(xenc + 32, xs->enc_file, strnlen(xs->enc_file, sizeof xs->enc_file - 1));
        memcpy(xenc + 80, xs->mix, 4 * (size_t)(xs->enc_layers + 1));
        secs[n++] = (casie__section){"XENC", xenc, 80 + 4 * (size_t)(xs->enc_layers + 1)};
    }
    unsigned char tune[64] = {0};
    memcpy(tune, &m->trig_bias, 4);
    memcpy(tune + 4, &m->arg_bias, 4);
    memcpy(tune + 8, &m->trig_temp, 4);
    memcpy(tune + 12, &m->arg_temp, 4);
    memcpy(tune + 16, &m->coref_bias, 4);
    memcpy(tune + 20, &m->trig_mix, 4);
    memcpy(tune + 24, &m->arg_mix, 4);
    memcpy(tune + 28, &m->realis_mix, 4);
    memcpy(tune + 32, &m->coref_generic, 4);
    secs[n++] = (casie__section){"TUNE", tune, sizeof tune};
    rc = casie__model_file_write(path, secs, n, err);
done:
    for (int i = 0; i < 12; i++) free(bufs[i]);
    if (rc == CASIE_ERR_NOMEM) casie__error(err, rc, -1, "%s: out of memory saving the model", path);
    return rc;
}

static int corrupt(casie_error *err, const char *path, const char *what) {
    return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: %s", path, what);
}

static int linear_map(casie__linear *m, const casie__section *s, uint32_t want_labels, int want_seq, const char *path,
                      casie_error *err) {
    const unsigned char *p = s->data;
    if (s->size < 32) return corrupt(err, path, "short linear section");
    uint32_t rows = casie__get_u32le(p), L = casie__get_u32le(p + 4), stride = casie__get_u32le(p + 8), seq = casie__get_u32le(p + 12);
    uint32_t dtype = casie__get_u32le(p + 16), fv = casie__get_u32le(p + 20);
    if (fv != FEATURE_VERSION)
        return casie__error(err, CASIE_ERR_MODEL_VERSION, -1, "%s: %s section has feature version %u; this casie reads %u",
                            path, s->tag, fv, FEATURE_VERSION);
    if (L != want_labels || (int)seq != want_seq || dtype != 1 || stride < L || stride > L + 8 || rows == 0 ||
        (rows & (rows - 1)) || rows > (1u << 24))
        return corrupt(err, path, "bad linear model header");
    memset(m, 0, sizeof *m);
    m->n_rows = rows, m->n_labels = L, m->stride = stride;
    size_t wat, need = linear_bytes(m, &wat);
    if (seq) {
        /* linear_bytes counts trans only when m->trans is set: recompute */
        size_t head = (32 + sizeof(float) * ((size_t)L * L + L) + 31) & ~(size_t)31;
        wat = head;
        need = head + sizeof(uint16_t) * (size_t)rows * stride;
        m->trans = (float *)(void *)(p + 32);
        m->start = m->trans + (size_t)L * L;
    }
    if (s->size != need) return corrupt(err, path, "linear section size does not match its header");
    m->wh = (const uint16_t *)(const void *)(p + wat);
    m->owned = 0;
    /* a NaN or infinity (exponent all ones) would silently end every decode:
     * refused like any other corruption */
    uint16_t bad = 0;
    for (size_t i = 0, n = (size_t)rows * stride; i < n; i++) bad |= (uint16_t)((m->wh[i] & 0x7f80u) == 0x7f80u);
    for (size_t i = 0; seq && i < (size_t)L * L + L; i++) bad |= (uint16_t)!isfinite(m->trans[i]);
    if (bad) return corrupt(err, path, "non-finite weight in a linear section");
    return CASIE_OK;
}

/* The XENC section into m->xdim and m->xs (the encoder itself is found
 * last, by casie__xvec_attach). */
static int xenc_read(casie_model *m, const casie__section *s, const char *path, casie_error *err) {
    const unsigned char *p = s->data;
    if (s->size < 84) return corrupt(err, path, "short XENC section");
    casie__xspec *xs = &m->xs;
    memset(xs, 0, sizeof *xs);
    uint32_t xdim = casie__get_u32le(p), layers = casie__get_u32le(p + 4);
    xs->enc_hash = (uint64_t)casie__get_u32le(p + 8) | (uint64_t)casie__get_u32le(p + 12) << 32;
    xs->window = (int32_t)casie__get_u32le(p + 16);
    xs->stride = (int32_t)casie__get_u32le(p + 20);
    int zeros = 1;
    for (int i = 24; i < 32; i++) zeros &= p[i] == 0;
    if (xdim < 1 || xdim > 4096 || layers < 1 || layers + 1 > CASIE_XMIX_MAX || s->size != 80 + 4 * ((size_t)layers + 1) ||
        xs->window < 8 || xs->window > 65536 || xs->stride < 1 || xs->stride > xs->window - 2 || !zeros)
        return corrupt(err, path, "bad XENC section");
    xs->enc_layers = (int32_t)layers;
    memcpy(xs->enc_file, p + 32, sizeof xs->enc_file);
    size_t nl = strnlen(xs->enc_file, sizeof xs->enc_file);
    if (nl == 0 || nl == sizeof xs->enc_file || strchr(xs->enc_file, '/') || strcmp(xs->enc_file, "..") == 0)
        return corrupt(err, path, "bad encoder file name in the XENC section");
    memcpy(xs->mix, p + 80, 4 * ((size_t)layers + 1));
    for (uint32_t l = 0; l <= layers; l++)
        if (!(xs->mix[l] >= -100.0f && xs->mix[l] <= 100.0f)) return corrupt(err, path, "bad layer mix in XENC");
    m->xdim = (int32_t)xdim;
    return CASIE_OK;
}

casie_model *casie_model_load(const char *path, casie_error *err) {
    casie_model *m = NULL;
    if (!path) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_model_load: no path");
        return NULL;
    }
    if (!host_is_little_endian()) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: big-endian hosts are not supported", path);
        return NULL;
    }
    if (!(m = calloc(1, sizeof *m))) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        return NULL;
    }
    if (casie__model_file_open(path, &m->file, err)) {
        free(m);
        return NULL;
    }
    static const char *const tags[5] = {"TRIG", "ARGS", "ENTY", "REAL", "CORF"};
    casie__linear *lin[5] = {&m->trig, &m->arg, &m->ent, &m->realis, &m->coref};
    const uint32_t labels[5] = {CASIE_TRIG_LABELS, CASIE_ARG_LABELS, CASIE_N_ENTITY_TYPES, CASIE_N_REALIS, 2};
    const casie__section *s;
    for (int i = 0; i < 5; i++) {
        if (!(s = casie__model_file_find(&m->file, tags[i]))) {
            casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: no %s section", path, tags[i]);
            goto fail;
        }
        if (linear_map(lin[i], s, labels[i], i < 2, path, err)) goto fail;
    }
    if (!(s = casie__model_file_find(&m->file, "LABL")) ||
        s->size != sizeof(int32_t) * CASIE_N_SUBTYPES * (1 + CASIE_MAX_SLOTS)) {
        corrupt(err, path, "missing or bad LABL section");
        goto fail;
    }
    const unsigned char *lp = s->data;
    for (int st = 0; st < CASIE_N_SUBTYPES; st++) {
        int32_t ns = (int32_t)casie__get_u32le(lp + 4 * st);
        if (ns < 0 || ns > CASIE_MAX_SLOTS) {
            corrupt(err, path, "bad role slot count");
            goto fail;
        }
        m->n_slots[st] = ns;
        for (int k = 0; k < CASIE_MAX_SLOTS; k++) {
            int32_t r = (int32_t)casie__get_u32le(lp + 4 * (CASIE_N_SUBTYPES + st * CASIE_MAX_SLOTS + k));
            if ((k < ns && (r < 0 || r >= CASIE_N_ROLES)) || (k >= ns && r != -1)) {
                corrupt(err, path, "bad role slot");
                goto fail;
            }
            m->slot_role[st][k] = r;
        }
    }
    if (!(s = casie__model_file_find(&m->file, "CLUS")) || s->size < 32) {
        corrupt(err, path, "missing CLUS section");
        goto fail;
    }
    uint32_t ncl = casie__get_u32le(s->data);
    if ((ncl & (ncl - 1)) || s->size != 32 + sizeof(casie__cluster_entry) * (size_t)ncl) {
        corrupt(err, path, "bad CLUS section");
        goto fail;
    }
    m->clusters.n_slots = ncl;
    m->clusters.slots = ncl ? (const casie__cluster_entry *)(const void *)((const unsigned char *)s->data + 32) : NULL;
    if (!(s = casie__model_file_find(&m->file, "EMBD")) || s->size < 32) {
        corrupt(err, path, "missing EMBD section");
        goto fail;
    }
    {
        uint32_t nw = casie__get_u32le(s->data), dim = casie__get_u32le((const unsigned char *)s->data + 4);
        size_t sc_at = (32 + sizeof(float) * (size_t)nw + 31) & ~(size_t)31;
        if (nw > 65535 || dim > 1024 || (nw && !dim) || s->size != sc_at + (size_t)nw * dim) {
            corrupt(err, path, "bad EMBD section");
            goto fail;
        }
        m->emb.n_words = nw, m->emb.dim = dim;
        m->emb.scale = (const float *)(const void *)((const unsigned char *)s->data + 32);
        m->emb.v = (const int8_t *)(const void *)((const unsigned char *)s->data + sc_at);
        for (uint32_t i = 0; i < nw; i++)
            if (!(m->emb.scale[i] >= 0 && m->emb.scale[i] < 1e6f)) {
                corrupt(err, path, "bad word vector scale");
                goto fail;
            }
        for (uint32_t i = 0; i < ncl; i++)
            if (m->clusters.slots[i].pad > nw) {
                corrupt(err, path, "a clustered word points past the word vectors");
                goto fail;
            }
    }
    if ((s = casie__model_file_find(&m->file, "XENC")) && xenc_read(m, s, path, err)) goto fail;
    /* the second networks are optional, and of their first's shape */
    static const char *const ntags[4] = {"NTRG", "NARG", "NAR2", "NTR2"};
    casie__nnet *nets[4] = {&m->trig_nn, &m->arg_nn, &m->arg_nn2, &m->trig_nn2};
    const int tv = casie__tokvec_dim(&m->emb) + m->xdim, av = tv + CASIE_ARGVEC_REL;
    const int want_d[4] = {tv, av, av, tv}, is_arg[4] = {0, 1, 1, 0};
    const int want_l[4] = {CASIE_TRIG_LABELS, CASIE_ARG_LABELS, CASIE_ARG_LABELS, CASIE_TRIG_LABELS};
    for (int i = 0; i < 4; i++) {
        if (!(s = casie__model_file_find(&m->file, ntags[i])) || s->size < 32) {
            if (i >= 2 && !s) continue;
            casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: no %s section", path, ntags[i]);
            goto fail;
        }
        const unsigned char *np = s->data;
        int D = (int)casie__get_u32le(np), H = (int)casie__get_u32le(np + 4), U = (int)casie__get_u32le(np + 8), K = (int)casie__get_u32le(np + 12),
            L = (int)casie__get_u32le(np + 16), L2 = (int)casie__get_u32le(np + 20);
        const casie__nnet *first = is_arg[i] ? &m->arg_nn : &m->trig_nn;
        if (D != want_d[i] || L != want_l[i] || (int64_t)U != (int64_t)(is_arg[i] ? 4 : 2) * H ||
            L2 != (is_arg[i] ? CASIE_N_REALIS : 0) || (i >= 2 && (H != first->H || K != first->K)) ||
            casie__nnet_dims(nets[i], D, H, U, K, L, L2) ||
            s->size != 32 + sizeof(float) * nets[i]->n_params) {
            corrupt(err, path, "bad neural tagger section");
            goto fail;
        }
        nets[i]->p = (const float *)(const void *)(np + 32);
        for (size_t k = 0; k < nets[i]->n_params; k++)
            if (!isfinite(nets[i]->p[k])) {
                corrupt(err, path, "non-finite neural tagger weight");
                goto fail;
            }
    }
    if (!(s = casie__model_file_find(&m->file, "TUNE")) || s->size != 64) {
        corrupt(err, path, "missing or bad TUNE section");
        goto fail;
    }
    memcpy(&m->trig_bias, s->data, 4);
    memcpy(&m->arg_bias, (const unsigned char *)s->data + 4, 4);
    memcpy(&m->trig_temp, (const unsigned char *)s->data + 8, 4);
    memcpy(&m->arg_temp, (const unsigned char *)s->data + 12, 4);
    memcpy(&m->coref_bias, (const unsigned char *)s->data + 16, 4);
    memcpy(&m->trig_mix, (const unsigned char *)s->data + 20, 4);
    memcpy(&m->arg_mix, (const unsigned char *)s->data + 24, 4);
    memcpy(&m->realis_mix, (const unsigned char *)s->data + 28, 4);
    memcpy(&m->coref_generic, (const unsigned char *)s->data + 32, 4);
    for (int i = 36; i < 64; i++)
        if (((const unsigned char *)s->data)[i]) {
            corrupt(err, path, "nonzero reserved bytes in the TUNE section");
            goto fail;
        }
    if (!(m->trig_mix >= 0 && m->trig_mix <= 100 && m->arg_mix >= 0 && m->arg_mix <= 100 && m->realis_mix >= 0 &&
          m->realis_mix <= 100)) {
        corrupt(err, path, "score mixes out of range");
        goto fail;
    }
    if (!(m->trig_temp > 0 && m->trig_temp <= 100 && m->arg_temp > 0 && m->arg_temp <= 100)) {
        corrupt(err, path, "confidence temperatures out of range");
        goto fail;
    }
    if (!(m->trig_bias > -1e6f && m->trig_bias < 1e6f && m->arg_bias > -1e6f && m->arg_bias < 1e6f &&
          m->coref_bias > -1e6f && m->coref_bias < 1e6f && m->coref_generic > -1e6f && m->coref_generic < 1e6f)) {
        corrupt(err, path, "decoding biases out of range");
        goto fail;
    }
    if (!(s = casie__model_file_find(&m->file, "META"))) {
        corrupt(err, path, "missing META section");
        goto fail;
    }
    {
        /* the metadata is handed out as JSON (casie serve's /v1/labels):
         * it must be one, an object, with no NUL (nor anything after it) */
        json_error_t je;
        json_t *meta = json_loadb(s->data, (size_t)s->size, 0, &je);
        int parsed = meta != NULL, ok = json_is_object(meta);
        json_decref(meta);
        if (!ok) {
            casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: META is not a JSON object (%s)", path,
                         parsed ? "another JSON value" : je.text);
            goto fail;
        }
    }
    if (!(m->meta = casie__strndup(s->data, (size_t)s->size))) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        goto fail;
    }
    if (m->xdim > 0) { /* the encoder it reads: found, the very one, and of the width the networks take */
        int32_t xdim = m->xdim;
        if (casie__xvec_attach(m, path, err)) goto fail;
        if (m->xdim != xdim) {
            casie__error(err, CASIE_ERR_ENCODER, -1, "%s: encoder %s has %d dimensions, the model reads %d", path,
                         m->xs.enc_file, m->xdim, xdim);
            goto fail;
        }
    }
    /* without memory for them, extraction computes every projection */
    casie__projcache_init(&m->pc_trig, &m->trig_nn, &m->emb, 0);
    casie__projcache_init(&m->pc_trig2, &m->trig_nn2, &m->emb, 0);
    casie__projcache_init(&m->pc_arg, &m->arg_nn, &m->emb, 1);
    casie__projcache_init(&m->pc_arg2, &m->arg_nn2, &m->emb, 1);
    m->pool = casie__pool_new(); /* without it, each extraction allocates its own scratch */
    return m;
fail:
    casie_model_free(m);
    return NULL;
}
