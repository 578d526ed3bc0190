/*
 * xvec.c - dense token inputs from a transformer encoder.
 *
 * A model with an encoder (m->xdim > 0) gives every network, for each token,
 * xdim more inputs: a fixed mix of the encoder's layers (m->xs.mix), averaged
 * over the token's word pieces.  The document runs through the encoder in
 * overlapping windows (casie__encoder_encode_long), so its length is not
 * bounded by the encoder's positions.
 *
 * Extraction computes the vectors once per document; training computes them
 * once per training and tuning document and keeps them (casie__xcache), so
 * that scoring after every epoch does not run the encoder again.
 *
 * The model file records which encoder (its hash and file name) and how it
 * is read (section XENC, model.c); casie__xvec_attach finds that encoder
 * when the model is loaded and refuses any other.
 *
 * Not here: the tokenizer (wordpiece.c), the forward pass (encoder.c), how
 * the networks use the inputs (extract.c, train.c).
 */
#include "internal.h"
#include "encoder.h"
#include "encoder_kernels.h"
#include "hash.h"
#include "model.h"
#include "wordpiece.h"
#include "xvec.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

int casie__xspec_layers(casie__xspec *xs, int first, int last, casie_error *err) {
    const int nl = xs->enc_layers;
    if (!last) last = nl;
    if (!first) first = last > 3 ? last - 3 : 1;
    if (first < 1 || first > last || last > nl)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "encoder layers %d..%d: the encoder has layers 1..%d",
                            first, last, nl);
    memset(xs->mix, 0, sizeof xs->mix);
    for (int l = first; l <= last; l++)
        xs->mix[l] = 1.0f / (float)(last - first + 1);
    return CASIE_OK;
}

void casie__xspec_default(casie__xspec *xs, const casie_encoder *enc, const char *enc_file) {
    const casie_encoder_config *c = casie_encoder_get_config(enc);
    memset(xs, 0, sizeof *xs);
    xs->enc_hash = c->hash;
    xs->enc_layers = c->n_layers;
    xs->window = c->max_positions - c->pos_offset; /* MPNet's first pieces take positions 2.. */
    xs->stride = xs->window * 3 / 4;
    casie__xspec_layers(xs, 0, 0, NULL); /* the last four: always within the encoder */
    if (enc_file) {
        const char *base = strrchr(enc_file, '/');
        base = base ? base + 1 : enc_file;
        snprintf(xs->enc_file, sizeof xs->enc_file, "%s", base);
    }
}

/* The layers xs reads, as casie__encoder_forward's bit mask. */
static uint64_t layer_mask(const casie__xspec *xs) {
    uint64_t mask = 0;
    for (int l = 0; l <= xs->enc_layers && l < CASIE_XMIX_MAX && l < 64; l++)
        if (xs->mix[l] != 0.0f) mask |= 1ull << l;
    return mask;
}

/* Pooling of pieces into tokens as the encoder hands them out: piece i's
 * mix of the layers is added to every token whose pieces include it. */
typedef struct pool_ctx {
    const casie_doc *doc;
    const casie__pieces *pc;
    const float *w; /* (n_sel,) the mix weights of the selected layers, in layer order */
    int n_sel, H, n_tokens;
    float *mixed; /* (H,) */
    float *out;   /* (n_tokens, H) */
} pool_ctx;

static void pool_piece(void *user, int i, const float *const *h) {
    pool_ctx *c = user;
    const int H = c->H;
    memset(c->mixed, 0, sizeof(float) * (size_t)H);
    for (int t = 0; t < c->n_sel; t++)
        for (int j = 0; j < H; j++)
            c->mixed[j] += c->w[t] * h[t][j];
    /* the tokens its span overlaps: from the first one on, while they start before it ends */
    for (int32_t t = c->pc->tok[i]; t >= 0 && t < c->n_tokens && c->doc->tokens[t].start < c->pc->end[i]; t++) {
        if (c->pc->tok_first[t] < 0 || c->pc->tok_first[t] > i || c->pc->tok_last[t] < i) continue;
        float *o = c->out + (size_t)t * (size_t)H;
        for (int j = 0; j < H; j++)
            o[j] += c->mixed[j];
    }
}

int casie__xvec_compute(const casie_encoder *enc, const struct casie__wordpiece *wp, const casie__xspec *xs,
                        const casie_doc *doc, int threads, float *out, casie_error *err) {
    const int H = casie_encoder_get_config(enc)->hidden;
    const char *name = doc->id ? doc->id : "document";
    memset(out, 0, sizeof(float) * (size_t)doc->n_tokens * (size_t)H);
    casie__pieces pc;
    memset(&pc, 0, sizeof pc);
    int rc = casie__wordpiece_doc(wp, doc, &pc, err);
    if (rc || pc.n == 0) {
        casie__pieces_free(&pc);
        return rc;
    }
    const uint64_t mask = layer_mask(xs);
    float w[64];
    int nl = 0;
    for (int l = 0; l < 64; l++)
        if ((mask >> l) & 1u) w[nl++] = xs->mix[l];
    pool_ctx c = {doc,
                  &pc,
                  w,
                  nl,
                  H,
                  doc->n_tokens < pc.n_tokens ? doc->n_tokens : pc.n_tokens,
                  malloc(sizeof(float) * (size_t)H),
                  out};
    if (!c.mixed) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory encoding %d word pieces", name, pc.n);
        goto done;
    }
    /* the windows' states go straight into the tokens: memory is one window's, whatever the length */
    if ((rc = casie__encoder_encode_long_each(enc, pc.id, pc.n, xs->window, xs->stride, mask, CASIE_Q8_BEST, threads,
                                              pool_piece, &c, err)))
        goto done;
    /* each token's mean over the pieces that overlap it */
    for (int32_t t = 0; t < c.n_tokens; t++) {
        int32_t a = pc.tok_first[t], b = pc.tok_last[t];
        if (a < 0 || b < a) continue;
        float *o = out + (size_t)t * (size_t)H, inv = 1.0f / (float)(b - a + 1);
        for (int j = 0; j < H; j++)
            o[j] *= inv;
    }
done:
    free(c.mixed);
    casie__pieces_free(&pc);
    return rc;
}

int casie__doc_xvec(const casie_model *m, const casie_doc *doc, int threads, const float **out, float **owned,
                    casie_error *err) {
    *out = NULL;
    *owned = NULL;
    if (m->xdim <= 0) return CASIE_OK;
    if (m->xcache) {
        uint64_t key = casie__xcache_key(doc);
        for (int i = 0; i < m->xcache->n; i++)
            if (m->xcache->key[i] == key && m->xcache->n_tokens[i] == doc->n_tokens) {
                *out = m->xcache->v[i];
                return CASIE_OK;
            }
    }
    if (!m->enc || !m->wp)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "the model reads an encoder that is not loaded");
    float *v = malloc(sizeof(float) * ((size_t)doc->n_tokens + 1) * (size_t)m->xdim);
    if (!v)
        return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory for the encoder's vectors",
                            doc->id ? doc->id : "document");
    int rc = casie__xvec_compute(m->enc, m->wp, &m->xs, doc, threads, v, err);
    if (rc) {
        free(v);
        return rc;
    }
    *out = *owned = v;
    return CASIE_OK;
}

uint64_t casie__xcache_key(const casie_doc *doc) { return casie__hash_bytes(doc->text, doc->text_len, 0x78766563); }

void casie__xcache_free(casie__xcache *c) {
    for (int i = 0; c->v && i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    free(c->key);
    free(c->n_tokens);
    memset(c, 0, sizeof *c);
}

typedef struct fill_job {
    casie__xcache *c;
    const casie_model *m;
    casie_doc *const *docs;
    _Atomic int next;
    _Atomic int rc;
    casie_error err; /* the first failure's */
    pthread_mutex_t mu;
} fill_job;

static void *fill_worker(void *arg) {
    fill_job *j = arg;
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->c->n || atomic_load(&j->rc)) return NULL;
        const casie_doc *doc = j->docs[i];
        casie_error e;
        int rc = CASIE_ERR_NOMEM;
        float *v = malloc(sizeof(float) * ((size_t)doc->n_tokens + 1) * (size_t)j->m->xdim);
        if (!v)
            casie__error(&e, rc, -1, "%s: out of memory for the encoder's vectors", doc->id ? doc->id : "document");
        else
            rc = casie__xvec_compute(j->m->enc, j->m->wp, &j->m->xs, doc, 1, v, &e);
        if (rc) {
            free(v);
            pthread_mutex_lock(&j->mu);
            if (!atomic_load(&j->rc)) j->err = e, atomic_store(&j->rc, rc);
            pthread_mutex_unlock(&j->mu);
            return NULL;
        }
        j->c->v[i] = v;
    }
}

int casie__xcache_fill(casie__xcache *c, const casie_model *m, casie_doc *const *docs, int n, int threads,
                       casie_error *err) {
    memset(c, 0, sizeof *c);
    c->key = malloc(sizeof(uint64_t) * ((size_t)n + 1));
    c->n_tokens = malloc(sizeof(int32_t) * ((size_t)n + 1));
    c->v = calloc((size_t)n + 1, sizeof(float *));
    if (!c->key || !c->n_tokens || !c->v) {
        casie__xcache_free(c);
        return casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory for the encoder's vectors of %d documents", n);
    }
    c->n = n;
    for (int i = 0; i < n; i++)
        c->key[i] = casie__xcache_key(docs[i]), c->n_tokens[i] = docs[i]->n_tokens;
    fill_job j = {.c = c, .m = m, .docs = docs};
    atomic_init(&j.next, 0);
    atomic_init(&j.rc, 0);
    pthread_mutex_init(&j.mu, NULL);
    pthread_t th[64];
    int nt = 0;
    for (; nt < threads - 1 && nt < 64; nt++)
        if (pthread_create(&th[nt], NULL, fill_worker, &j)) break;
    fill_worker(&j);
    for (int k = 0; k < nt; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&j.mu);
    int rc = atomic_load(&j.rc);
    if (rc) {
        if (err) *err = j.err;
        casie__xcache_free(c);
    }
    return rc;
}

int casie__xvec_use(casie_model *m, casie_encoder *enc, const casie__xspec *xs, casie_error *err) {
    const casie_encoder_config *c = casie_encoder_get_config(enc);
    if (xs->enc_hash != c->hash || xs->enc_layers != c->n_layers)
        return casie__error(err, CASIE_ERR_ENCODER, -1,
                            "encoder %s (hash %016llx, %d layers) is not the one the model was trained with "
                            "(%s: hash %016llx, %d layers)",
                            c->name ? c->name : "?", (unsigned long long)c->hash, c->n_layers, xs->enc_file,
                            (unsigned long long)xs->enc_hash, xs->enc_layers);
    casie__wordpiece *wp = calloc(1, sizeof *wp);
    if (!wp) return casie__error(err, CASIE_ERR_NOMEM, -1, "out of memory for the encoder's vocabulary");
    int rc = casie__wordpiece_from_encoder(wp, enc, err);
    if (rc) {
        free(wp);
        return rc;
    }
    m->xs = *xs;
    m->xdim = c->hidden;
    m->enc = enc;
    m->wp = wp;
    return CASIE_OK;
}

int casie__xvec_attach(casie_model *m, const char *model_path, const char *enc_path, casie_error *err) {
    char path[4096];
    path[0] = 0;
    if (enc_path && *enc_path) {
        if ((size_t)snprintf(path, sizeof path, "%s", enc_path) >= sizeof path)
            return casie__error(err, CASIE_ERR_LIMIT, -1, "%s: encoder path too long", model_path);
    } else {
        const char *slash = strrchr(model_path, '/');
        int dl = slash ? (int)(slash - model_path) : 1;
        const char *dir = slash ? model_path : ".";
        static const char *const where[] = {"%.*s/%s", "%.*s/encoders/%s"};
        for (int k = 0; k < 2 && !path[0]; k++) {
            snprintf(path, sizeof path, where[k], dl, dir, m->xs.enc_file);
            if (!casie__is_file(path)) path[0] = 0;
        }
        if (!path[0])
            return casie__error(err, CASIE_ERR_ENCODER, -1,
                                "%s: the model reads encoder %s, found neither beside it nor in its encoders/ "
                                "folder (scripts/fetch_encoder.sh fetches it; the load parameters' encoder path, "
                                "$CASIE_ENCODER to the CLI, names another)",
                                model_path, m->xs.enc_file);
    }
    casie_error own, *e = err ? err : &own;
    casie_encoder *enc = casie_encoder_load(path, e);
    if (!enc) return e->code;
    /* refused here, not by every extraction (casie__encoder_encode_long's
     * check) after a load that looked sound */
    const casie_encoder_config *c = casie_encoder_get_config(enc);
    const int most = c->max_positions - c->pos_offset; /* c lives in enc: read before freeing it */
    if (m->xs.window > most) {
        casie_encoder_free(enc);
        return casie__error(err, CASIE_ERR_ENCODER, -1,
                            "%s: the model reads windows of %d pieces; encoder %s takes at most %d", model_path,
                            m->xs.window, path, most);
    }
    int rc = casie__xvec_use(m, enc, &m->xs, err);
    if (rc) casie_encoder_free(enc);
    return rc;
}
