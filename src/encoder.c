/*
 * encoder.c - the transformer encoder: loading an encoder file and the
 * forward pass of a BERT-family encoder (embeddings, self-attention with the
 * padding mask, GELU feed-forward, residuals and layer norms; MPNet's
 * relative position bias in the attention), for one sequence or, in
 * overlapping windows, for a sequence of any length.
 *
 * Not here: the numeric kernels, int8 products, GELU, layer norm and
 * attention (encoder_kernels.c), converting a checkpoint
 * (encoder_import.c), WordPiece (wordpiece.c).
 *
 * The file (docs/FORMAT.md, Part 3) is mapped and used in place: the
 * encoder's arrays point into the mapping, and loading checks every byte
 * before anything is used.  Activations live in one work block sized up front
 * (casie__encoder_work_bytes), owned by the calling thread, so any number of
 * threads can share one encoder.
 */
#include "internal.h"
#include "byte_order.h"
#include "encoder.h"
#include "encoder_kernels.h"
#include "model_file.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum {
    MAX_NAME = 1024,
    MAX_FWD_THREADS = 64,     /* a forward pass's team, at most */
    MPNET_MAX_DISTANCE = 128, /* MPNet's relative positions: the last bucket starts near here */
};

static uint64_t align32(uint64_t x) { return (x + 31) & ~(uint64_t)31; }
static int32_t align64i(int32_t x) { return (x + 63) & ~63; }

/* ======================================================================== */
/* The WGTS layout                                                          */
/* ======================================================================== */

/* Walks the arrays of WGTS in file order (docs/FORMAT.md), each at the next
 * multiple of 32 bytes; with base, points enc's arrays at them. */
typedef struct walker {
    const unsigned char *base;
    uint64_t at;
} walker;

static const void *take(walker *w, uint64_t bytes) {
    uint64_t off = align32(w->at);
    w->at = off + bytes;
    return w->base ? w->base + off : NULL;
}

static void take_q8(walker *w, casie__q8mat *m, int32_t rows, int32_t cols, int with_sum) {
    m->rows = rows;
    m->cols = cols;
    m->stride = align64i(cols);
    m->q = take(w, (uint64_t)rows * (uint64_t)m->stride);
    m->scale = take(w, (uint64_t)rows * 4);
    m->sum = with_sum ? take(w, (uint64_t)rows * 4) : NULL;
}

uint64_t casie__encoder_bind(casie_encoder *enc, const unsigned char *base) {
    const casie_encoder_config *c = &enc->cfg;
    uint64_t H = (uint64_t)c->hidden, I = (uint64_t)c->intermediate;
    walker w = {base, 0};
    casie__enc_layer scratch;
    take_q8(&w, &enc->word, c->n_vocab, c->hidden, 0);
    enc->pos = take(&w, (uint64_t)c->max_positions * H * 4);
    enc->type = take(&w, (uint64_t)c->type_vocab * H * 4);
    enc->emb_ln_g = take(&w, H * 4);
    enc->emb_ln_b = take(&w, H * 4);
    enc->rel_bias = c->rel_buckets ? take(&w, (uint64_t)c->rel_buckets * (uint64_t)c->n_heads * 4) : NULL;
    for (int l = 0; l < c->n_layers; l++) {
        casie__enc_layer *L = base ? &enc->layers[l] : &scratch;
        take_q8(&w, &L->qkv, 3 * c->hidden, c->hidden, 1);
        L->b_qkv = take(&w, 3 * H * 4);
        take_q8(&w, &L->out, c->hidden, c->hidden, 1);
        L->b_out = take(&w, H * 4);
        L->ln1_g = take(&w, H * 4);
        L->ln1_b = take(&w, H * 4);
        take_q8(&w, &L->ff1, c->intermediate, c->hidden, 1);
        L->b_ff1 = take(&w, I * 4);
        take_q8(&w, &L->ff2, c->hidden, c->intermediate, 1);
        L->b_ff2 = take(&w, H * 4);
        L->ln2_g = take(&w, H * 4);
        L->ln2_b = take(&w, H * 4);
    }
    return w.at;
}

/* ======================================================================== */
/* Loading                                                                  */
/* ======================================================================== */

#define CORRUPT(...) casie__error(err, CASIE_ERR_MODEL_CORRUPT, -1, __VA_ARGS__)

/* The configuration from ECFG (encoder.h's layout), every field in its range. */
static int read_config(const unsigned char *p, const char *path, casie_encoder_config *c, casie_error *err) {
    uint32_t version = casie__get_u32le(p + CASIE__ECFG_VERSION);
    if (version > CASIE__ENC_VERSION)
        return casie__error(err, CASIE_ERR_MODEL_VERSION, -1,
                            "%s: encoder layout version %u is newer than this casie reads (version %d)", path, version,
                            CASIE__ENC_VERSION);
    if (version == 0) return CORRUPT("%s: corrupt encoder file: ECFG version 0", path);
    const struct {
        const char *name;
        int off;
        uint32_t lo, hi;
        int32_t *to;
    } RANGES[] = {
        {"n_layers", CASIE__ECFG_N_LAYERS, 1, 48, &c->n_layers},
        {"hidden", CASIE__ECFG_HIDDEN, 1, 4096, &c->hidden},
        {"n_heads", CASIE__ECFG_N_HEADS, 1, 256, &c->n_heads},
        {"intermediate", CASIE__ECFG_INTERMEDIATE, 1, 65536, &c->intermediate},
        {"max_positions", CASIE__ECFG_MAX_POSITIONS, 3, 65536, &c->max_positions},
        {"type_vocab", CASIE__ECFG_TYPE_VOCAB, 1, 256, &c->type_vocab},
        {"n_vocab", CASIE__ECFG_N_VOCAB, 1, 4194304, &c->n_vocab},
    };
    for (size_t i = 0; i < sizeof RANGES / sizeof RANGES[0]; i++) {
        uint32_t v = casie__get_u32le(p + RANGES[i].off);
        if (v < RANGES[i].lo || v > RANGES[i].hi)
            return CORRUPT("%s: corrupt encoder file: ECFG %s = %u, outside %u..%u", path, RANGES[i].name, v,
                           RANGES[i].lo, RANGES[i].hi);
        *RANGES[i].to = (int32_t)v;
    }
    if (c->hidden % c->n_heads)
        return CORRUPT("%s: corrupt encoder file: ECFG hidden %d is not a multiple of n_heads %d", path, c->hidden,
                       c->n_heads);
    uint32_t eps_bits = casie__get_u32le(p + CASIE__ECFG_LAYER_NORM_EPS);
    memcpy(&c->layer_norm_eps, &eps_bits, 4);
    if (!isfinite(c->layer_norm_eps) || !(c->layer_norm_eps > 0.0f))
        return CORRUPT("%s: corrupt encoder file: ECFG layer_norm_eps %g", path, (double)c->layer_norm_eps);
    uint32_t flags = casie__get_u32le(p + CASIE__ECFG_FLAGS);
    if (flags & ~1u) return CORRUPT("%s: corrupt encoder file: ECFG unknown flags %#x", path, flags);
    c->lowercase = (int32_t)(flags & 1);
    const struct {
        const char *name;
        int off;
        int32_t *to;
    } IDS[] = {
        {"cls_id", CASIE__ECFG_CLS_ID, &c->cls_id},
        {"sep_id", CASIE__ECFG_SEP_ID, &c->sep_id},
        {"pad_id", CASIE__ECFG_PAD_ID, &c->pad_id},
        {"unk_id", CASIE__ECFG_UNK_ID, &c->unk_id},
    };
    for (int i = 0; i < 4; i++) {
        int32_t id = (int32_t)casie__get_u32le(p + IDS[i].off);
        if (id < -1 || id >= c->n_vocab)
            return CORRUPT("%s: corrupt encoder file: ECFG %s %d outside -1..%d", path, IDS[i].name, id,
                           c->n_vocab - 1);
        *IDS[i].to = id;
    }
    c->hash = casie__get_u64le(p + CASIE__ECFG_HASH);
    uint32_t wt = casie__get_u32le(p + CASIE__ECFG_WEIGHT_TYPE), act = casie__get_u32le(p + CASIE__ECFG_ACTIVATION);
    if (wt != CASIE__ENC_WEIGHT_INT8_ROWS)
        return CORRUPT("%s: corrupt encoder file: ECFG weight_type %u (only 1, int8 rows)", path, wt);
    if (act != CASIE__ENC_ACT_GELU_ERF)
        return CORRUPT("%s: corrupt encoder file: ECFG activation %u (only 1, GELU)", path, act);
    /* version 2 adds the architecture, MPNet's relative position buckets
     * and the first position id; version 1 is BERT, those bytes reserved */
    int reserved = CASIE__ECFG_ARCH;
    c->arch = CASIE_ENCODER_BERT, c->rel_buckets = 0, c->pos_offset = 0;
    if (version >= 2) {
        uint32_t arch = casie__get_u32le(p + CASIE__ECFG_ARCH), nb = casie__get_u32le(p + CASIE__ECFG_REL_BUCKETS);
        uint32_t po = casie__get_u32le(p + CASIE__ECFG_POS_OFFSET);
        if (arch != CASIE_ENCODER_BERT && arch != CASIE_ENCODER_MPNET)
            return CORRUPT("%s: corrupt encoder file: ECFG architecture %u (0 BERT, 1 MPNet)", path, arch);
        if (arch == CASIE_ENCODER_MPNET ? nb < 4 || nb > 1024 || nb % 2 : nb != 0)
            return CORRUPT("%s: corrupt encoder file: ECFG %u relative position buckets", path, nb);
        if (po > (uint32_t)c->max_positions - 3)
            return CORRUPT("%s: corrupt encoder file: ECFG first position %u of %d", path, po, c->max_positions);
        c->arch = (int32_t)arch, c->rel_buckets = (int32_t)nb, c->pos_offset = (int32_t)po;
        reserved = CASIE__ECFG_RESERVED;
    }
    for (int i = reserved; i < CASIE__ECFG_SIZE; i++)
        if (p[i]) return CORRUPT("%s: corrupt encoder file: ECFG reserved byte %d is not zero", path, i);
    return CASIE_OK;
}

static int check_vocab(const casie__section *s, const char *path, int32_t n_vocab, casie_error *err) {
    uint64_t head = 4 * ((uint64_t)n_vocab + 1);
    if (s->size < head)
        return CORRUPT("%s: corrupt encoder file: VOCB (%llu bytes) too short for %d offsets", path,
                       (unsigned long long)s->size, n_vocab + 1);
    const unsigned char *p = s->data;
    uint32_t prev = casie__get_u32le(p);
    if (prev != head)
        return CORRUPT("%s: corrupt encoder file: VOCB offset 0 is %u, expected %llu", path, prev,
                       (unsigned long long)head);
    for (int32_t i = 0; i < n_vocab; i++) {
        uint32_t next = casie__get_u32le(p + 4 * ((size_t)i + 1));
        if (next <= prev + 1 || next > s->size)
            return CORRUPT("%s: corrupt encoder file: VOCB piece %d at bytes %u..%u", path, i, prev, next);
        if (p[next - 1] != 0 || memchr(p + prev, 0, next - 1 - prev))
            return CORRUPT("%s: corrupt encoder file: VOCB piece %d is not one NUL-terminated string", path, i);
        prev = next;
    }
    if (prev != s->size)
        return CORRUPT("%s: corrupt encoder file: VOCB ends at %u, the section has %llu bytes", path, prev,
                       (unsigned long long)s->size);
    return CASIE_OK;
}

static void part_name(char *buf, size_t cap, const char *what, int layer) {
    if (layer >= 0)
        snprintf(buf, cap, "%s of layer %d", what, layer);
    else
        snprintf(buf, cap, "%s", what);
}

static int check_floats(const float *x, uint64_t n, const char *path, const char *what, int layer, casie_error *err) {
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            char name[96];
            part_name(name, sizeof name, what, layer);
            return CORRUPT("%s: corrupt encoder file: %s value %llu is not finite", path, name, (unsigned long long)i);
        }
    return CASIE_OK;
}

/* Every q in [-127, 127], zero padding, sums equal to the rows', scales
 * finite and >= 0. */
static int check_q8(const casie__q8mat *m, const char *path, const char *what, int layer, casie_error *err) {
    char name[96];
    part_name(name, sizeof name, what, layer);
    for (int32_t r = 0; r < m->rows; r++) {
        const int8_t *q = m->q + (size_t)r * m->stride;
        int32_t s = 0;
        int bad = 0;
        for (int32_t c = 0; c < m->cols; c++) {
            s += q[c];
            bad |= q[c] == -128;
        }
        for (int32_t c = m->cols; c < m->stride; c++)
            bad |= q[c] != 0;
        if (bad) return CORRUPT("%s: corrupt encoder file: %s row %d has -128 or nonzero padding", path, name, r);
        if (m->sum && m->sum[r] != s)
            return CORRUPT("%s: corrupt encoder file: %s row %d sums to %d, the file says %d", path, name, r, s,
                           m->sum[r]);
        if (!isfinite(m->scale[r]) || m->scale[r] < 0.0f)
            return CORRUPT("%s: corrupt encoder file: %s row %d has scale %g", path, name, r, (double)m->scale[r]);
    }
    return CASIE_OK;
}

static int check_weights(const casie_encoder *e, const char *path, casie_error *err) {
    const casie_encoder_config *c = &e->cfg;
    uint64_t H = (uint64_t)c->hidden, I = (uint64_t)c->intermediate;
    int rc;
    if ((rc = check_q8(&e->word, path, "word embeddings", -1, err)) ||
        (rc = check_floats(e->pos, (uint64_t)c->max_positions * H, path, "position embeddings", -1, err)) ||
        (rc = check_floats(e->type, (uint64_t)c->type_vocab * H, path, "token type embeddings", -1, err)) ||
        (rc = check_floats(e->emb_ln_g, H, path, "embedding layer norm", -1, err)) ||
        (rc = check_floats(e->emb_ln_b, H, path, "embedding layer norm", -1, err)) ||
        (e->rel_bias && (rc = check_floats(e->rel_bias, (uint64_t)c->rel_buckets * (uint64_t)c->n_heads, path,
                                           "relative position bias", -1, err))))
        return rc;
    for (int l = 0; l < c->n_layers; l++) {
        const casie__enc_layer *L = &e->layers[l];
        if ((rc = check_q8(&L->qkv, path, "query/key/value", l, err)) ||
            (rc = check_floats(L->b_qkv, 3 * H, path, "query/key/value bias", l, err)) ||
            (rc = check_q8(&L->out, path, "attention output", l, err)) ||
            (rc = check_floats(L->b_out, H, path, "attention output bias", l, err)) ||
            (rc = check_floats(L->ln1_g, H, path, "attention layer norm", l, err)) ||
            (rc = check_floats(L->ln1_b, H, path, "attention layer norm", l, err)) ||
            (rc = check_q8(&L->ff1, path, "intermediate", l, err)) ||
            (rc = check_floats(L->b_ff1, I, path, "intermediate bias", l, err)) ||
            (rc = check_q8(&L->ff2, path, "output", l, err)) ||
            (rc = check_floats(L->b_ff2, H, path, "output bias", l, err)) ||
            (rc = check_floats(L->ln2_g, H, path, "output layer norm", l, err)) ||
            (rc = check_floats(L->ln2_b, H, path, "output layer norm", l, err)))
            return rc;
    }
    return CASIE_OK;
}

static const casie__section *need(const casie__model_file *mf, const char *tag, const char *path, casie_error *err) {
    const casie__section *s = casie__model_file_find(mf, tag);
    if (!s) CORRUPT("%s: corrupt encoder file: no %s section", path, tag);
    return s;
}

/* The layers' four matrices packed for the VNNI kernel, in one block
 * beside the mapping (the file keeps its rows, which the other kernels
 * and the training side read). */
static int pack_panels(casie_encoder *e) {
    size_t total = 0;
    for (int l = 0; l < e->cfg.n_layers; l++) {
        casie__q8mat *m[4] = {&e->layers[l].qkv, &e->layers[l].out, &e->layers[l].ff1, &e->layers[l].ff2};
        for (int k = 0; k < 4; k++)
            total += casie__q8_panel_bytes(m[k]);
    }
    if (!(e->panels = aligned_alloc(64, (total + 63) & ~(size_t)63))) return -1;
    size_t at = 0;
    for (int l = 0; l < e->cfg.n_layers; l++) {
        casie__q8mat *m[4] = {&e->layers[l].qkv, &e->layers[l].out, &e->layers[l].ff1, &e->layers[l].ff2};
        for (int k = 0; k < 4; k++) {
            casie__q8_pack(m[k], e->panels + at);
            m[k]->panel = e->panels + at;
            at += casie__q8_panel_bytes(m[k]);
        }
    }
    return 0;
}

casie_encoder *casie_encoder_load(const char *path, casie_error *err) {
    if (!path) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_encoder_load: no path");
        return NULL;
    }
    const uint32_t one = 1;
    unsigned char little;
    memcpy(&little, &one, 1);
    if (!little) {
        casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: encoder files are used in place on little-endian hosts only",
                     path);
        return NULL;
    }
    casie_encoder *e = calloc(1, sizeof *e);
    if (!e) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        return NULL;
    }
    if (casie__container_open(path, CASIE__FILE_ENCODER, &e->file, err)) goto fail;
    const casie__section *cfg = need(&e->file, "ECFG", path, err), *name = NULL, *voc = NULL, *wts = NULL;
    if (!cfg || !(name = need(&e->file, "NAME", path, err)) || !(voc = need(&e->file, "VOCB", path, err)) ||
        !(wts = need(&e->file, "WGTS", path, err)))
        goto fail;
    if (cfg->size != CASIE__ECFG_SIZE) {
        CORRUPT("%s: corrupt encoder file: ECFG has %llu bytes, expected %d", path, (unsigned long long)cfg->size,
                CASIE__ECFG_SIZE);
        goto fail;
    }
    if (read_config(cfg->data, path, &e->cfg, err)) goto fail;
    const char *nm = name->data;
    if (name->size < 1 || name->size > MAX_NAME || nm[name->size - 1] != 0 || strlen(nm) != name->size - 1) {
        CORRUPT("%s: corrupt encoder file: NAME is not one NUL-terminated string of at most %d bytes", path, MAX_NAME);
        goto fail;
    }
    e->cfg.name = nm;
    if (check_vocab(voc, path, e->cfg.n_vocab, err)) goto fail;
    e->vocab_off = voc->data;
    e->vocab = voc->data;
    uint64_t want = casie__encoder_bind(e, NULL);
    if (wts->size != want) {
        CORRUPT("%s: corrupt encoder file: WGTS has %llu bytes, the configuration (%d layers, hidden %d, "
                "intermediate %d, %d pieces) needs %llu",
                path, (unsigned long long)wts->size, e->cfg.n_layers, e->cfg.hidden, e->cfg.intermediate,
                e->cfg.n_vocab, (unsigned long long)want);
        goto fail;
    }
    if (!(e->layers = calloc((size_t)e->cfg.n_layers, sizeof *e->layers))) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        goto fail;
    }
    casie__encoder_bind(e, wts->data);
    if (check_weights(e, path, err)) goto fail;
    if (casie__q8_best() == CASIE_Q8_VNNI && pack_panels(e)) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        goto fail;
    }
    return e;
fail:
    casie_encoder_free(e);
    return NULL;
}

void casie_encoder_free(casie_encoder *enc) {
    if (!enc) return;
    free(enc->layers);
    free(enc->panels);
    casie__model_file_close(&enc->file);
    free(enc);
}

const casie_encoder_config *casie_encoder_get_config(const casie_encoder *enc) { return enc ? &enc->cfg : NULL; }

const char *casie__encoder_piece(const casie_encoder *enc, int32_t id, size_t *len) {
    if (!enc || id < 0 || id >= enc->cfg.n_vocab) return NULL;
    if (len) *len = enc->vocab_off[id + 1] - enc->vocab_off[id] - 1;
    return enc->vocab + enc->vocab_off[id];
}

/* ======================================================================== */
/* The forward pass                                                         */
/* ======================================================================== */

/* The work block: each array at a multiple of 64 bytes. */
typedef struct work_layout {
    size_t x, qkv, ctx, tmp, ff, kt, p, xs, xq, rel, total;
} work_layout;

static size_t up64(size_t x) { return (x + 63) & ~(size_t)63; }

static work_layout layout_work(const casie_encoder_config *c, int n) {
    work_layout w;
    size_t N = (size_t)n, H = (size_t)c->hidden, I = (size_t)c->intermediate, dh = H / (size_t)c->n_heads;
    size_t S = (size_t)align64i(c->hidden > c->intermediate ? c->hidden : c->intermediate);
    size_t at = 0;
    w.x = at, at += up64(N * H * 4);
    w.qkv = at, at += up64(N * 3 * H * 4);
    w.ctx = at, at += up64(N * H * 4);
    w.tmp = at, at += up64(N * H * 4);
    w.ff = at, at += up64(N * I * 4);
    size_t N8 = (N + 15) & ~(size_t)15;
    w.kt = at, at += up64(dh * N8 * 4);
    w.p = at, at += up64(4 * N8 * 4);
    w.xs = at, at += up64(N * 4);
    w.xq = at, at += up64(N * S);
    w.rel = at, at += c->rel_buckets ? up64((size_t)c->n_heads * (2 * N - 1) * 4) : 0;
    w.total = at;
    return w;
}

size_t casie__encoder_work_bytes(const casie_encoder *enc, int n) {
    if (!enc || n < 1) return 0;
    return layout_work(&enc->cfg, n).total;
}

static int n_selected(const casie_encoder *enc, uint64_t layers) {
    int k = 0;
    for (int l = 0; l <= enc->cfg.n_layers && l < 64; l++)
        k += (int)((layers >> l) & 1);
    return k;
}

/* MPNet's bucket for a key `rel` pieces after its query (before: rel < 0):
 * half the buckets for each direction, the first quarter one offset each,
 * the rest on a log scale up to max_distance, computed in float as the
 * reference does so that the boundaries fall the same way. */
static int rel_bucket(int rel, int n_buckets, int max_distance) {
    int half = n_buckets / 2, exact = half / 2, ret = rel > 0 ? half : 0, d = rel < 0 ? -rel : rel;
    if (d < exact) return ret + d;
    float v = logf((float)d / (float)exact) / (float)log((double)max_distance / exact) * (float)(half - exact);
    int large = exact + (int)v;
    return ret + (large < half - 1 ? large : half - 1);
}

void casie__encoder_rel_bias(const casie_encoder *enc, int n, float *rel) {
    const int nh = enc->cfg.n_heads;
    for (int r = -(n - 1); r < n; r++) {
        const float *b = enc->rel_bias + (size_t)rel_bucket(r, enc->cfg.rel_buckets, MPNET_MAX_DISTANCE) * nh;
        for (int h = 0; h < nh; h++)
            rel[(size_t)h * (2 * (size_t)n - 1) + (size_t)(r + n - 1)] = b[h];
    }
}

/* One forward pass shared by a team of threads: each takes a share of the
 * pieces for the products, layer norms and GELU (row by row, so any share
 * gives the same bits), and a share of the heads for attention, which
 * reads every piece's keys and values: the team waits for all after the
 * Q/K/V product and after attention.  Each member has its own attention
 * scratch (kt, p). */
typedef struct fwd_team {
    const casie_encoder *enc;
    const casie__kernels *K;
    const uint8_t *mask;
    uint64_t layers;
    int n, T;
    float *x, *qkv, *ctx, *tmp, *ff, *xs, *rel, *out;
    int8_t *xq;
    float *kt[MAX_FWD_THREADS], *p[MAX_FWD_THREADS];
    pthread_barrier_t bar;
    pthread_mutex_t mu; /* the start: members wait for go, T then final */
    pthread_cond_t cv;
    int go;
} fwd_team;

static void team_wait(fwd_team *tm) {
    if (tm->T > 1) pthread_barrier_wait(&tm->bar);
}

static void fwd_member(fwd_team *tm, int t) {
    const casie_encoder_config *c = &tm->enc->cfg;
    const casie__kernels *K = tm->K;
    const int n = tm->n, H = c->hidden, nh = c->n_heads, dh = H / nh, I = c->intermediate;
    const int i0 = (int)((int64_t)n * t / tm->T), ni = (int)((int64_t)n * (t + 1) / tm->T) - i0;
    const size_t plane = (size_t)n * (size_t)H, r0 = (size_t)i0;
    float *x = tm->x + r0 * H, *ctx = tm->ctx + r0 * H, *tmp = tm->tmp + r0 * H, *ff = tm->ff + r0 * I;
    float *xs = tm->xs + r0, *o = tm->out;
    /* this member's int8 rows: a block of the widest stride per piece, so
     * that members quantizing at different strides never overlap */
    int8_t *xq = tm->xq + r0 * (size_t)(H > I ? align64i(H) : align64i(I));
    if (tm->layers & 1) {
        if (ni) memcpy(o + r0 * H, x, (size_t)ni * H * sizeof *x);
        o += plane;
    }
    for (int l = 0; l < c->n_layers && (tm->layers >> (l + 1)); l++) { /* up to the last layer asked for */
        const casie__enc_layer *L = &tm->enc->layers[l];
        /* self-attention */
        if (ni) {
            K->q8_quantize(x, ni, H, L->qkv.stride, xq, xs);
            K->q8_matmul(xq, xs, ni, &L->qkv, L->b_qkv, tm->qkv + r0 * 3 * H, 3 * H);
        }
        team_wait(tm);
        for (int h = t; h < nh; h += tm->T)
            K->attend(tm->qkv + h * dh, tm->qkv + H + h * dh, tm->qkv + 2 * H + h * dh, 3 * H, n, dh, tm->mask,
                      tm->rel ? tm->rel + (size_t)h * (2 * (size_t)n - 1) : NULL, tm->ctx + h * dh, H, tm->kt[t],
                      tm->p[t]);
        team_wait(tm);
        if (ni) {
            K->q8_quantize(ctx, ni, H, L->out.stride, xq, xs);
            K->q8_matmul(xq, xs, ni, &L->out, L->b_out, tmp, H);
            K->add_layernorm(x, tmp, ni, H, L->ln1_g, L->ln1_b, c->layer_norm_eps, ctx);
            /* feed-forward */
            K->q8_quantize(x, ni, H, L->ff1.stride, xq, xs);
            K->q8_matmul(xq, xs, ni, &L->ff1, L->b_ff1, ff, I);
            K->gelu(ff, (size_t)ni * (size_t)I);
            K->q8_quantize(ff, ni, I, L->ff2.stride, xq, xs);
            K->q8_matmul(xq, xs, ni, &L->ff2, L->b_ff2, tmp, H);
            K->add_layernorm(x, tmp, ni, H, L->ln2_g, L->ln2_b, c->layer_norm_eps, ctx);
        }
        if (l + 1 < 64 && ((tm->layers >> (l + 1)) & 1)) {
            if (ni) memcpy(o + r0 * H, x, (size_t)ni * H * sizeof *x);
            o += plane;
        }
    }
}

typedef struct fwd_arg {
    fwd_team *tm;
    int t;
} fwd_arg;

static void *fwd_thread(void *a) {
    fwd_team *tm = ((fwd_arg *)a)->tm;
    pthread_mutex_lock(&tm->mu);
    while (!tm->go)
        pthread_cond_wait(&tm->cv, &tm->mu);
    pthread_mutex_unlock(&tm->mu);
    fwd_member(tm, ((fwd_arg *)a)->t);
    return NULL;
}

int casie__encoder_forward(const casie_encoder *enc, const int32_t *ids, const uint8_t *mask, int n, uint64_t layers,
                           int kernel, float *out, void *work, casie_error *err) {
    return casie__encoder_forward_threads(enc, ids, mask, n, layers, kernel, 1, out, work, err);
}

int casie__encoder_forward_threads(const casie_encoder *enc, const int32_t *ids, const uint8_t *mask, int n,
                                   uint64_t layers, int kernel, int threads, float *out, void *work, casie_error *err) {
    if (!enc || !ids || !out)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie__encoder_forward: no encoder, ids or output");
    const casie_encoder_config *c = &enc->cfg;
    if (n < 1 || n > c->max_positions - c->pos_offset)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder: %d pieces, expected 1..%d", n,
                            c->max_positions - c->pos_offset);
    if (layers >> (c->n_layers + 1))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder: layer selection %#llx beyond layer %d",
                            (unsigned long long)layers, c->n_layers);
    if (threads < 1 || threads > MAX_FWD_THREADS)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder: %d threads, expected 1..%d", threads,
                            MAX_FWD_THREADS);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= c->n_vocab)
            return casie__error(err, CASIE_ERR_INVALID_ARG, i, "encoder: piece %d has id %d, outside 0..%d", i, ids[i],
                                c->n_vocab - 1);
    work_layout wl = layout_work(c, n);
    const int H = c->hidden, dh = H / c->n_heads;
    const size_t n16 = ((size_t)n + 15) & ~(size_t)15, kt_bytes = up64((size_t)dh * n16 * 4),
                 p_bytes = up64(4 * n16 * 4);
    void *own = NULL;
    unsigned char *extra = NULL; /* the other members' attention scratch */
    if (!work && !(own = work = aligned_alloc(64, wl.total)))
        return casie__error(err, CASIE_ERR_NOMEM, -1, "encoder: out of memory (%zu bytes of work)", wl.total);
    if (threads > 1 && !(extra = aligned_alloc(64, (size_t)(threads - 1) * (kt_bytes + p_bytes)))) {
        free(own);
        return casie__error(err, CASIE_ERR_NOMEM, -1, "encoder: out of memory for %d threads' scratch", threads);
    }
    unsigned char *wb = work;
    fwd_team tm = {.enc = enc, .mask = mask, .layers = layers, .n = n, .T = threads, .out = out};
    tm.x = (float *)(wb + wl.x), tm.qkv = (float *)(wb + wl.qkv), tm.ctx = (float *)(wb + wl.ctx);
    tm.tmp = (float *)(wb + wl.tmp), tm.ff = (float *)(wb + wl.ff), tm.xs = (float *)(wb + wl.xs);
    tm.xq = (int8_t *)(wb + wl.xq);
    tm.kt[0] = (float *)(wb + wl.kt), tm.p[0] = (float *)(wb + wl.p);
    for (int t = 1; t < threads; t++) {
        unsigned char *e = extra + (size_t)(t - 1) * (kt_bytes + p_bytes);
        tm.kt[t] = (float *)e, tm.p[t] = (float *)(e + kt_bytes);
    }
    tm.K = casie__kernels_at(kernel); /* a level this CPU lacks: its own, as BEST */
    if (!tm.K) tm.K = casie__kernels_best();

    /* embeddings: word + position + token type 0, then layer norm.  MPNet
     * numbers the unmasked pieces from pos_offset and gives masked ones
     * the padding's position, pos_offset - 1. */
    float *x = tm.x;
    for (int i = 0, seen = 0; i < n; i++) {
        const int8_t *wq = enc->word.q + (size_t)ids[i] * enc->word.stride;
        float ws = enc->word.scale[ids[i]];
        int pos = c->arch != CASIE_ENCODER_MPNET ? i : mask && !mask[i] ? c->pos_offset - 1 : c->pos_offset + seen++;
        const float *pe = enc->pos + (size_t)pos * H;
        float *xi = x + (size_t)i * H;
        for (int d = 0; d < H; d++)
            xi[d] = (float)wq[d] * ws + pe[d] + enc->type[d];
    }
    tm.K->add_layernorm(x, NULL, n, H, enc->emb_ln_g, enc->emb_ln_b, c->layer_norm_eps, tm.ctx);
    /* MPNet: each head's bias by offset, shared by every layer */
    tm.rel = enc->rel_bias ? (float *)(wb + wl.rel) : NULL;
    if (tm.rel) casie__encoder_rel_bias(enc, n, tm.rel);

    /* the members start once the team's size is known: a thread that
     * cannot be started leaves a smaller team, which gives the same bits */
    pthread_t th[MAX_FWD_THREADS];
    fwd_arg args[MAX_FWD_THREADS];
    int started = 1;
    if (threads > 1) {
        pthread_mutex_init(&tm.mu, NULL);
        pthread_cond_init(&tm.cv, NULL);
        for (; started < threads; started++) {
            args[started] = (fwd_arg){&tm, started};
            if (pthread_create(&th[started], NULL, fwd_thread, &args[started])) break;
        }
        tm.T = started;
        if (started > 1) pthread_barrier_init(&tm.bar, NULL, (unsigned)started);
        pthread_mutex_lock(&tm.mu);
        tm.go = 1;
        pthread_cond_broadcast(&tm.cv);
        pthread_mutex_unlock(&tm.mu);
    }
    fwd_member(&tm, 0);
    for (int t = 1; t < started; t++)
        pthread_join(th[t], NULL);
    if (threads > 1) {
        if (started > 1) pthread_barrier_destroy(&tm.bar);
        pthread_cond_destroy(&tm.cv);
        pthread_mutex_destroy(&tm.mu);
    }
    free(extra);
    free(own);
    return CASIE_OK;
}

/* ======================================================================== */
/* Long sequences                                                           */
/* ======================================================================== */

int casie__encoder_encode_long_each(const casie_encoder *enc, const int32_t *ids, int n, int window, int stride,
                                    uint64_t layers, int kernel, int threads, casie__piece_fn each, void *user,
                                    casie_error *err) {
    if (!enc || (!ids && n) || !each || n < 0)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie__encoder_encode_long: bad arguments");
    const casie_encoder_config *c = &enc->cfg;
    if (c->cls_id < 0 || c->sep_id < 0)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder %s: no [CLS] or [SEP] in its vocabulary", c->name);
    int content = window - 2;
    if (window > c->max_positions - c->pos_offset || content < 1 || stride < 1 || stride > content)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1,
                            "encoder: window %d and stride %d (need 3 <= window <= %d, 1 <= stride <= window - 2)",
                            window, stride, c->max_positions - c->pos_offset);
    if (n == 0) return CASIE_OK;
    int n_sel = n_selected(enc, layers);
    const int H = c->hidden;
    int n_win = n <= content ? 1 : 1 + (n - content + stride - 1) / stride;
    int wlen = n < content ? n + 2 : window;
    size_t work_bytes = casie__encoder_work_bytes(enc, wlen);
    int32_t *wids = malloc((size_t)wlen * sizeof *wids);
    int *pick = malloc((size_t)n * sizeof *pick);
    float *wout = malloc((size_t)(n_sel ? n_sel : 1) * (size_t)wlen * (size_t)H * sizeof(float));
    void *work = aligned_alloc(64, work_bytes);
    int rc = CASIE_OK;
    if (!wids || !pick || !wout || !work) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "encoder: out of memory for %d pieces", n);
        goto done;
    }
    /* window k covers pieces [k * stride, min(k * stride + content, n)); each
     * piece takes the window where its nearer cut-off side is farthest (a
     * side at the sequence's own end cuts nothing off) */
    for (int i = 0; i < n; i++) {
        int best = -1, best_d = -1;
        for (int k = i / stride < n_win ? i / stride : n_win - 1; k >= 0; k--) {
            int s = k * stride, e = s + content < n ? s + content : n;
            if (i < s || i >= e) {
                if (i >= e) break;
                continue;
            }
            int left = s == 0 ? INT_MAX : i - s, right = e == n ? INT_MAX : e - 1 - i;
            int d = left < right ? left : right;
            if (d >= best_d) best_d = d, best = k; /* ties: the earlier window */
        }
        pick[i] = best;
    }
    for (int k = 0; k < n_win; k++) {
        int s = k * stride, e = s + content < n ? s + content : n, m = e - s + 2;
        wids[0] = c->cls_id;
        memcpy(wids + 1, ids + s, (size_t)(e - s) * sizeof *wids);
        wids[m - 1] = c->sep_id;
        if ((rc = casie__encoder_forward_threads(enc, wids, NULL, m, layers, kernel, threads, wout, work, err)))
            goto done;
        for (int i = s; i < e; i++) {
            if (pick[i] != k) continue;
            const float *h[64];
            for (int t = 0; t < n_sel; t++)
                h[t] = wout + ((size_t)t * m + (i - s + 1)) * H;
            each(user, i, h);
        }
    }
done:
    free(wids);
    free(pick);
    free(wout);
    free(work);
    return rc;
}

/* encode_long's output: each piece's selected layers into out (n_sel, n, H). */
typedef struct long_out {
    float *out;
    int n, H, n_sel;
} long_out;

static void long_out_piece(void *user, int i, const float *const *h) {
    const long_out *o = user;
    for (int t = 0; t < o->n_sel; t++)
        memcpy(o->out + ((size_t)t * o->n + i) * o->H, h[t], (size_t)o->H * 4);
}

int casie__encoder_encode_long(const casie_encoder *enc, const int32_t *ids, int n, int window, int stride,
                               uint64_t layers, int kernel, int threads, float *out, casie_error *err) {
    if (!enc || !out) return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie__encoder_encode_long: bad arguments");
    long_out o = {out, n, enc->cfg.hidden, n_selected(enc, layers)};
    return casie__encoder_encode_long_each(enc, ids, n, window, stride, layers, kernel, threads, long_out_piece, &o,
                                           err);
}
