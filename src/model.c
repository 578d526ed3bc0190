/*
 * model.c - the model object: allocating, saving, loading and freeing a
 * casie_model, one table of its file's sections driving all four.
 *
 * A model file is the container of model_file.c (docs/FORMAT.md) with these
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
 *   CATG  optional: the argument category classifier (layout in category.c)
 * A linear model section: a 32-byte header {u32 n_rows, n_labels, stride,
 * is_sequence, dtype (1 = bfloat16), feature_version, 8 bytes zero}, then
 * f32 trans (L*L) and start (L) when is_sequence, zero padding to a multiple
 * of 32 bytes, then the (n_rows, stride) weights as bfloat16.  Loading maps
 * the file and uses the weights in place: nothing is allocated per feature.
 * All fields are little-endian; loading refuses a big-endian host.
 */
#include "internal.h"
#include "byte_order.h"
#include "category.h"
#include "extract.h"
#include "feats.h"
#include "linear.h"
#include "model.h"
#include "model_file.h"
#include "nn.h"
#include "wordpiece.h"
#include "xvec.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* Rows of each linear model (powers of two; see docs/FORMAT.md). */
static const struct {
    uint32_t rows, labels;
    int sequence;
} LINEAR[CASIE__N_LIN] = {
    [CASIE__LIN_TRIG] = {1u << 17, CASIE_TRIG_LABELS, 1},
    [CASIE__LIN_ARG] = {1u << 16, CASIE_ARG_LABELS, 1},
    [CASIE__LIN_ENT] = {1u << 15, CASIE_N_ENTITY_TYPES, 0},
    [CASIE__LIN_REALIS] = {1u << 15, CASIE_N_REALIS, 0},
    [CASIE__LIN_COREF] = {1u << 14, 2, 0},
};

/* The TUNE section: these fields as f32 at 4 * their index, then zeros. */
#define TUNE_SIZE 64
static const size_t TUNE_FIELDS[] = {
    offsetof(casie_model, trig_bias), offsetof(casie_model, arg_bias),   offsetof(casie_model, trig_temp),
    offsetof(casie_model, arg_temp),  offsetof(casie_model, coref_bias), offsetof(casie_model, trig_mix),
    offsetof(casie_model, arg_mix),   offsetof(casie_model, realis_mix), offsetof(casie_model, coref_generic),
};
#define N_TUNE ((int)(sizeof TUNE_FIELDS / sizeof TUNE_FIELDS[0]))

int casie__model_alloc(casie_model **out, int training) {
    casie_model *m = calloc(1, sizeof *m);
    if (!m) return CASIE_ERR_NOMEM;
    for (int i = 0; i < CASIE__N_LIN; i++)
        if (casie__linear_init(&m->lin[i], LINEAR[i].rows, LINEAR[i].labels, LINEAR[i].sequence, training)) {
            casie_model_free(m);
            return CASIE_ERR_NOMEM;
        }
    m->trig_temp = m->arg_temp = 1.0f;
    m->trig_mix = m->arg_mix = m->realis_mix = 0.1f; /* until tuned on dev */
    *out = m;
    return CASIE_OK;
}

char *casie_model_metadata(const casie_model *m) { return m && m->meta ? casie__strdup(m->meta) : NULL; }

int casie_model_has_encoder(const casie_model *m) { return m && m->xdim > 0; }

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* ======================================================================== */
/* The sections, one saver, loader and release each                         */
/* ======================================================================== */

/* A saver fills s with the section's bytes: borrowed from the model, or in
 * a buffer it allocates and hands over in *owned.  It returns CASIE_OK,
 * CASIE_ERR_NOMEM, or ABSENT for an optional section this model lacks. */
#define ABSENT 1
typedef int (*save_fn)(const casie_model *m, int which, casie__section *s, unsigned char **owned);
/* A loader reads a section found in the file into the model (pointing into
 * the mapping where it can), checking it against what was loaded before. */
typedef int (*load_fn)(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err);
/* A release frees what the section's part of the model owns. */
typedef void (*release_fn)(casie_model *m, int which);

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
    casie__put_u32le(buf + 20, m->fv);
    if (m->trans) {
        size_t L = m->n_labels;
        memcpy(buf + 32, m->trans, sizeof(float) * L * L);
        memcpy(buf + 32 + sizeof(float) * L * L, m->start, sizeof(float) * L);
    }
    uint16_t *w = (uint16_t *)(buf + wat);
    size_t nw = (size_t)m->n_rows * m->stride;
    for (size_t i = 0; i < nw; i++)
        w[i] = m->wh ? m->wh[i] : casie__f32_to_bf16(m->w[i]);
    *size = n;
    return buf;
}

static int corrupt(casie_error *err, const char *path, const char *what) {
    return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: %s", path, what);
}

static int linear_map(casie__linear *m, const casie__section *s, uint32_t want_labels, int want_seq, const char *path,
                      casie_error *err) {
    const unsigned char *p = s->data;
    if (s->size < 32) return corrupt(err, path, "short linear section");
    uint32_t rows = casie__get_u32le(p), L = casie__get_u32le(p + 4), stride = casie__get_u32le(p + 8),
             seq = casie__get_u32le(p + 12);
    uint32_t dtype = casie__get_u32le(p + 16), fv = casie__get_u32le(p + 20);
    if (fv < CASIE_FEATURE_VERSION_MIN || fv > CASIE_FEATURE_VERSION)
        return casie__error(err, CASIE_ERR_MODEL_VERSION, -1,
                            "%s: %s section has feature version %u; this casie reads %u to %u", path, s->tag, fv,
                            CASIE_FEATURE_VERSION_MIN, CASIE_FEATURE_VERSION);
    if (L != want_labels || (int)seq != want_seq || dtype != 1 || stride < L || stride > L + 8 || rows == 0 ||
        (rows & (rows - 1)) || rows > (1u << 24))
        return corrupt(err, path, "bad linear model header");
    memset(m, 0, sizeof *m);
    m->n_rows = rows, m->n_labels = L, m->stride = stride, m->fv = fv;
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
    for (size_t i = 0, n = (size_t)rows * stride; i < n; i++)
        bad |= (uint16_t)((m->wh[i] & 0x7f80u) == 0x7f80u);
    for (size_t i = 0; seq && i < (size_t)L * L + L; i++)
        bad |= (uint16_t)!isfinite(m->trans[i]);
    if (bad) return corrupt(err, path, "non-finite weight in a linear section");
    return CASIE_OK;
}

/* The XENC section into m->xdim and m->xs (the encoder itself is found
 * last, by casie__xvec_attach). */
static int xenc_read(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    CASIE_UNUSED(which);
    const unsigned char *p = s->data;
    if (s->size < 84) return corrupt(err, path, "short XENC section");
    casie__xspec *xs = &m->xs;
    memset(xs, 0, sizeof *xs);
    uint32_t xdim = casie__get_u32le(p), layers = casie__get_u32le(p + 4);
    xs->enc_hash = (uint64_t)casie__get_u32le(p + 8) | (uint64_t)casie__get_u32le(p + 12) << 32;
    xs->window = (int32_t)casie__get_u32le(p + 16);
    xs->stride = (int32_t)casie__get_u32le(p + 20);
    int zeros = 1;
    for (int i = 24; i < 32; i++)
        zeros &= p[i] == 0;
    if (xdim < 1 || xdim > 4096 || layers < 1 || layers + 1 > CASIE_XMIX_MAX ||
        s->size != 80 + 4 * ((size_t)layers + 1) || xs->window < 8 || xs->window > 65536 || xs->stride < 1 ||
        xs->stride > xs->window - 2 || !zeros)
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

/* ---- META: the metadata, a JSON object ---- */

static int meta_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    CASIE_UNUSED(which);
    CASIE_UNUSED(owned);
    const char *meta = m->meta ? m->meta : "{}";
    s->data = meta;
    s->size = strlen(meta);
    return CASIE_OK;
}

static int meta_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    CASIE_UNUSED(which);
    /* the metadata is handed out as JSON (casie serve's /v1/labels): it
     * must be one, an object, with no NUL (nor anything after it) */
    json_error_t je;
    json_t *meta = json_loadb(s->data, (size_t)s->size, 0, &je);
    int parsed = meta != NULL, ok = json_is_object(meta);
    json_decref(meta);
    if (!ok)
        return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: META is not a JSON object (%s)", path,
                            parsed ? "another JSON value" : je.text);
    if (!(m->meta = casie__strndup(s->data, (size_t)s->size)))
        return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    return CASIE_OK;
}

static void meta_release(casie_model *m, int which) {
    CASIE_UNUSED(which);
    free(m->meta);
}

/* ---- LABL: the role slots ---- */

#define LABL_INTS (CASIE_N_SUBTYPES * (1 + CASIE_MAX_SLOTS))

static int labl_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    CASIE_UNUSED(which);
    unsigned char *b = *owned = malloc(4 * LABL_INTS);
    if (!b) return CASIE_ERR_NOMEM;
    for (int st = 0; st < CASIE_N_SUBTYPES; st++) {
        casie__put_u32le(b + 4 * st, (uint32_t)m->n_slots[st]);
        for (int k = 0; k < CASIE_MAX_SLOTS; k++)
            casie__put_u32le(b + 4 * (CASIE_N_SUBTYPES + st * CASIE_MAX_SLOTS + k), (uint32_t)m->slot_role[st][k]);
    }
    s->data = b;
    s->size = 4 * LABL_INTS;
    return CASIE_OK;
}

static int labl_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    CASIE_UNUSED(which);
    if (s->size != 4 * LABL_INTS) return corrupt(err, path, "missing or bad LABL section");
    const unsigned char *lp = s->data;
    for (int st = 0; st < CASIE_N_SUBTYPES; st++) {
        int32_t ns = (int32_t)casie__get_u32le(lp + 4 * st);
        if (ns < 0 || ns > CASIE_MAX_SLOTS) return corrupt(err, path, "bad role slot count");
        m->n_slots[st] = ns;
        for (int k = 0; k < CASIE_MAX_SLOTS; k++) {
            int32_t r = (int32_t)casie__get_u32le(lp + 4 * (CASIE_N_SUBTYPES + st * CASIE_MAX_SLOTS + k));
            if ((k < ns && (r < 0 || r >= CASIE_N_ROLES)) || (k >= ns && r != -1))
                return corrupt(err, path, "bad role slot");
            m->slot_role[st][k] = r;
        }
    }
    return CASIE_OK;
}

/* ---- TRIG ARGS ENTY REAL CORF: the linear models ---- */

static int linear_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    size_t size;
    if (!(*owned = linear_serialize(&m->lin[which], &size))) return CASIE_ERR_NOMEM;
    s->data = *owned;
    s->size = size;
    return CASIE_OK;
}

static int linear_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    return linear_map(&m->lin[which], s, LINEAR[which].labels, LINEAR[which].sequence, path, err);
}

static void linear_release(casie_model *m, int which) { casie__linear_free(&m->lin[which]); }

/* ---- CLUS: the word clusters ---- */

static int clus_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    CASIE_UNUSED(which);
    size_t size = 32 + sizeof(casie__cluster_entry) * (size_t)m->clusters.n_slots;
    unsigned char *b = *owned = calloc(1, size);
    if (!b) return CASIE_ERR_NOMEM;
    casie__put_u32le(b, m->clusters.n_slots);
    if (m->clusters.n_slots) memcpy(b + 32, m->clusters.slots, size - 32);
    s->data = b;
    s->size = size;
    return CASIE_OK;
}

static int clus_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    CASIE_UNUSED(which);
    if (s->size < 32) return corrupt(err, path, "missing CLUS section");
    uint32_t ncl = casie__get_u32le(s->data);
    if ((ncl & (ncl - 1)) || s->size != 32 + sizeof(casie__cluster_entry) * (size_t)ncl)
        return corrupt(err, path, "bad CLUS section");
    m->clusters.n_slots = ncl;
    m->clusters.slots = ncl ? (const casie__cluster_entry *)(const void *)((const unsigned char *)s->data + 32) : NULL;
    return CASIE_OK;
}

static void clus_release(casie_model *m, int which) {
    CASIE_UNUSED(which);
    free(m->clusters_owned);
}

/* ---- EMBD: the word vectors ---- */

static size_t embd_scales_end(uint32_t n_words) { return (32 + sizeof(float) * (size_t)n_words + 31) & ~(size_t)31; }

static int embd_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    CASIE_UNUSED(which);
    size_t sc_at = embd_scales_end(m->emb.n_words), size = sc_at + (size_t)m->emb.n_words * m->emb.dim;
    unsigned char *b = *owned = calloc(1, size);
    if (!b) return CASIE_ERR_NOMEM;
    casie__put_u32le(b, m->emb.n_words);
    casie__put_u32le(b + 4, m->emb.dim);
    if (m->emb.n_words) {
        memcpy(b + 32, m->emb.scale, sizeof(float) * m->emb.n_words);
        memcpy(b + sc_at, m->emb.v, (size_t)m->emb.n_words * m->emb.dim);
    }
    s->data = b;
    s->size = size;
    return CASIE_OK;
}

static int embd_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    CASIE_UNUSED(which);
    if (s->size < 32) return corrupt(err, path, "missing EMBD section");
    uint32_t nw = casie__get_u32le(s->data), dim = casie__get_u32le((const unsigned char *)s->data + 4);
    size_t sc_at = embd_scales_end(nw);
    if (nw > 65535 || dim > 1024 || (nw && !dim) || s->size != sc_at + (size_t)nw * dim)
        return corrupt(err, path, "bad EMBD section");
    m->emb.n_words = nw, m->emb.dim = dim;
    m->emb.scale = (const float *)(const void *)((const unsigned char *)s->data + 32);
    m->emb.v = (const int8_t *)(const void *)((const unsigned char *)s->data + sc_at);
    for (uint32_t i = 0; i < nw; i++)
        if (!(m->emb.scale[i] >= 0 && m->emb.scale[i] < 1e6f)) return corrupt(err, path, "bad word vector scale");
    for (uint32_t i = 0; i < m->clusters.n_slots; i++)
        if (m->clusters.slots[i].pad > nw) return corrupt(err, path, "a clustered word points past the word vectors");
    return CASIE_OK;
}

static void embd_release(casie_model *m, int which) {
    CASIE_UNUSED(which);
    free(m->emb_scale_owned);
    free(m->emb_v_owned);
}

/* ---- NTRG NARG NAR2 NTR2: the networks ---- */

static int second_net(int which) { return which == CASIE__NET_TRIG2 || which == CASIE__NET_ARG2; }

static int net_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    const casie__nnet *nn = &m->nets[which];
    if (second_net(which) && !nn->p) return ABSENT;
    size_t size = 32 + sizeof(float) * nn->n_params;
    unsigned char *b = *owned = calloc(1, size);
    if (!b) return CASIE_ERR_NOMEM;
    const int32_t dims[6] = {nn->D, nn->H, nn->U, nn->K, nn->L, nn->L2};
    for (int i = 0; i < 6; i++)
        casie__put_u32le(b + 4 * i, (uint32_t)dims[i]);
    if (nn->n_params) memcpy(b + 32, nn->p, sizeof(float) * nn->n_params);
    s->data = b;
    s->size = size;
    return CASIE_OK;
}

/* A network reads the token vectors (after EMBD and XENC); a second one has
 * its first's shape (loaded before it). */
static int net_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    if (s->size < 32)
        return casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, "%s: corrupt model: no %s section", path, s->tag);
    casie__nnet *nn = &m->nets[which];
    const int is_arg = CASIE__NET_IS_ARG(which), tv = casie__tokvec_dim(&m->emb) + m->xdim;
    const casie__nnet *first = &m->nets[second_net(which) ? which - 1 : which];
    const unsigned char *np = s->data;
    int D = (int)casie__get_u32le(np), H = (int)casie__get_u32le(np + 4), U = (int)casie__get_u32le(np + 8),
        K = (int)casie__get_u32le(np + 12), L = (int)casie__get_u32le(np + 16), L2 = (int)casie__get_u32le(np + 20);
    if (D != tv + (is_arg ? CASIE_ARGVEC_REL : 0) || L != (is_arg ? CASIE_ARG_LABELS : CASIE_TRIG_LABELS) ||
        (int64_t)U != (int64_t)(is_arg ? 4 : 2) * H || L2 != (is_arg ? CASIE_N_REALIS : 0) ||
        (second_net(which) && (H != first->H || K != first->K)) || casie__nnet_dims(nn, D, H, U, K, L, L2) ||
        s->size != 32 + sizeof(float) * nn->n_params)
        return corrupt(err, path, "bad neural tagger section");
    nn->p = (const float *)(const void *)(np + 32);
    for (size_t k = 0; k < nn->n_params; k++)
        if (!isfinite(nn->p[k])) return corrupt(err, path, "non-finite neural tagger weight");
    return CASIE_OK;
}

static void net_release(casie_model *m, int which) {
    casie__nnet_free(&m->nets[which]);
    casie__projcache_free(&m->pc[which]);
}

/* ---- XENC: the encoder the networks read ---- */

static int xenc_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    CASIE_UNUSED(which);
    if (m->xdim <= 0) return ABSENT;
    const casie__xspec *xs = &m->xs;
    size_t size = 80 + 4 * (size_t)(xs->enc_layers + 1);
    unsigned char *b = *owned = calloc(1, size);
    if (!b) return CASIE_ERR_NOMEM;
    casie__put_u32le(b, (uint32_t)m->xdim);
    casie__put_u32le(b + 4, (uint32_t)xs->enc_layers);
    casie__put_u32le(b + 8, (uint32_t)xs->enc_hash);
    casie__put_u32le(b + 12, (uint32_t)(xs->enc_hash >> 32));
    casie__put_u32le(b + 16, (uint32_t)xs->window);
    casie__put_u32le(b + 20, (uint32_t)xs->stride);
    memcpy(b + 32, xs->enc_file, strnlen(xs->enc_file, sizeof xs->enc_file - 1));
    memcpy(b + 80, xs->mix, 4 * (size_t)(xs->enc_layers + 1));
    s->data = b;
    s->size = size;
    return CASIE_OK;
}

static void xenc_release(casie_model *m, int which) {
    CASIE_UNUSED(which);
    casie_encoder_free(m->enc);
    if (m->wp) casie__wordpiece_free(m->wp);
    free(m->wp);
}

/* ---- TUNE: the values tuned on dev ---- */

static int tune_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    CASIE_UNUSED(which);
    unsigned char *b = *owned = calloc(1, TUNE_SIZE);
    if (!b) return CASIE_ERR_NOMEM;
    for (int i = 0; i < N_TUNE; i++)
        memcpy(b + 4 * i, (const char *)m + TUNE_FIELDS[i], 4);
    s->data = b;
    s->size = TUNE_SIZE;
    return CASIE_OK;
}

static int tune_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    CASIE_UNUSED(which);
    if (s->size != TUNE_SIZE) return corrupt(err, path, "missing or bad TUNE section");
    const unsigned char *b = s->data;
    for (int i = 0; i < N_TUNE; i++)
        memcpy((char *)m + TUNE_FIELDS[i], b + 4 * i, 4);
    for (int i = 4 * N_TUNE; i < TUNE_SIZE; i++)
        if (b[i]) return corrupt(err, path, "nonzero reserved bytes in the TUNE section");
    if (!(m->trig_mix >= 0 && m->trig_mix <= 100 && m->arg_mix >= 0 && m->arg_mix <= 100 && m->realis_mix >= 0 &&
          m->realis_mix <= 100))
        return corrupt(err, path, "score mixes out of range");
    if (!(m->trig_temp > 0 && m->trig_temp <= 100 && m->arg_temp > 0 && m->arg_temp <= 100))
        return corrupt(err, path, "confidence temperatures out of range");
    if (!(m->trig_bias > -1e6f && m->trig_bias < 1e6f && m->arg_bias > -1e6f && m->arg_bias < 1e6f &&
          m->coref_bias > -1e6f && m->coref_bias < 1e6f && m->coref_generic > -1e6f && m->coref_generic < 1e6f))
        return corrupt(err, path, "decoding biases out of range");
    return CASIE_OK;
}

/* ---- CATG: the argument category classifier (category.c), optional ---- */

static int catg_save(const casie_model *m, int which, casie__section *s, unsigned char **owned) {
    CASIE_UNUSED(which);
    CASIE_UNUSED(owned);
    if (!m->cat) return ABSENT;
    const void *data;
    size_t size;
    casie__category_bytes(m->cat, &data, &size);
    s->data = data;
    s->size = size;
    return CASIE_OK;
}

static int catg_load(casie_model *m, int which, const casie__section *s, const char *path, casie_error *err) {
    CASIE_UNUSED(which);
    return casie__category_load(m, s, path, err);
}

static void catg_release(casie_model *m, int which) {
    CASIE_UNUSED(which);
    casie__category_free(m->cat);
}

/* ======================================================================== */
/* The table                                                                */
/* ======================================================================== */

/* Every section, in the order of the file.  A loader runs after those of
 * lower passes, which hold what it checks against (the networks read the
 * word vectors' and the encoder's widths; the vectors check the clusters).
 * missing: the complaint when the file lacks it; NULL: optional. */
static const struct section_def {
    char tag[5];
    int which, pass;
    const char *missing;
    save_fn save;
    load_fn load;
    release_fn release;
} SECTIONS[] = {
    {"META", 0, 3, "missing META section", meta_save, meta_load, meta_release},
    {"LABL", 0, 1, "missing or bad LABL section", labl_save, labl_load, NULL},
    {"TRIG", CASIE__LIN_TRIG, 0, "no TRIG section", linear_save, linear_load, linear_release},
    {"ARGS", CASIE__LIN_ARG, 0, "no ARGS section", linear_save, linear_load, linear_release},
    {"ENTY", CASIE__LIN_ENT, 0, "no ENTY section", linear_save, linear_load, linear_release},
    {"REAL", CASIE__LIN_REALIS, 0, "no REAL section", linear_save, linear_load, linear_release},
    {"CORF", CASIE__LIN_COREF, 0, "no CORF section", linear_save, linear_load, linear_release},
    {"CLUS", 0, 1, "missing CLUS section", clus_save, clus_load, clus_release},
    {"NTRG", CASIE__NET_TRIG, 2, "no NTRG section", net_save, net_load, net_release},
    {"NARG", CASIE__NET_ARG, 2, "no NARG section", net_save, net_load, net_release},
    {"NAR2", CASIE__NET_ARG2, 2, NULL, net_save, net_load, net_release},
    {"NTR2", CASIE__NET_TRIG2, 2, NULL, net_save, net_load, net_release},
    {"EMBD", 0, 1, "missing EMBD section", embd_save, embd_load, embd_release},
    {"XENC", 0, 1, NULL, xenc_save, xenc_read, xenc_release},
    {"TUNE", 0, 2, "missing or bad TUNE section", tune_save, tune_load, NULL},
    {"CATG", 0, 2, NULL, catg_save, catg_load, catg_release},
};
#define N_SECTIONS ((int)(sizeof SECTIONS / sizeof SECTIONS[0]))
#define N_PASSES 4

void casie_model_free(casie_model *m) {
    if (!m) return;
    for (int i = 0; i < N_SECTIONS; i++)
        if (SECTIONS[i].release) SECTIONS[i].release(m, SECTIONS[i].which);
    casie__pool_free(m->pool);
    casie__model_file_close(&m->file);
    free(m);
}

int casie_model_save(const casie_model *m, const char *path, casie_error *err) {
    if (!m || !path) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_model_save: no model or path");
    if (!host_is_little_endian()) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "big-endian hosts unsupported");
    unsigned char *owned[N_SECTIONS] = {0};
    casie__section secs[N_SECTIONS];
    int n = 0, rc = CASIE_OK;
    for (int i = 0; i < N_SECTIONS && !rc; i++) {
        casie__section *s = &secs[n];
        memcpy(s->tag, SECTIONS[i].tag, 5);
        rc = SECTIONS[i].save(m, SECTIONS[i].which, s, &owned[i]);
        if (rc == ABSENT)
            rc = CASIE_OK;
        else if (!rc)
            n++;
    }
    if (!rc) rc = casie__model_file_write(path, secs, n, err);
    for (int i = 0; i < N_SECTIONS; i++)
        free(owned[i]);
    if (rc == CASIE_ERR_NOMEM) casie__error(err, rc, -1, "%s: out of memory saving the model", path);
    return rc;
}

casie_model_load_params casie_model_default_load_params(void) {
    casie_model_load_params p = {.dirs = NULL, .encoder_path = NULL};
    return p;
}

casie_model *casie_model_load(const char *path, casie_error *err) { return casie_model_load_with(path, NULL, err); }

casie_model *casie_model_load_with(const char *path, const casie_model_load_params *params, casie_error *err) {
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
    for (int pass = 0; pass < N_PASSES; pass++)
        for (int i = 0; i < N_SECTIONS; i++) {
            const struct section_def *d = &SECTIONS[i];
            if (d->pass != pass) continue;
            const casie__section *s = casie__model_file_find(&m->file, d->tag);
            if (!s && d->missing) {
                corrupt(err, path, d->missing);
                goto fail;
            }
            if (s && d->load(m, d->which, s, path, err)) goto fail;
        }
    if (m->xdim > 0) { /* the encoder it reads: found, the very one, and of the width the networks take */
        int32_t xdim = m->xdim;
        if (casie__xvec_attach(m, path, params ? params->encoder_path : NULL, err)) goto fail;
        if (m->xdim != xdim) {
            casie__error(err, CASIE_ERR_ENCODER, -1, "%s: encoder %s has %d dimensions, the model reads %d", path,
                         m->xs.enc_file, m->xdim, xdim);
            goto fail;
        }
    }
    /* without memory for them, extraction computes every projection */
    for (int k = 0; k < CASIE__N_NETS; k++)
        casie__projcache_init(&m->pc[k], &m->nets[k], &m->emb, CASIE__NET_IS_ARG(k));
    /* without it, each extraction allocates its own scratch */
    m->pool = casie__pool_new(casie__extract_scratch_free);
    return m;
fail:
    casie_model_free(m);
    return NULL;
}
