/*
 * model.c - saving, loading and freeing a casie_model.
 *
 * A model file is the container of model_io.c (docs/FORMAT.md) with these
 * sections:
 *   META  JSON object text: versions, training parameters, corpus hashes
 *   LABL  the role slots: i32 n_slots[5], i32 slot_role[5][12]
 *   TRIG ARGS ENTY REAL CORF  one linear model each (layout below)
 *   TUNE  f32 trig_bias, arg_bias (decoding biases), f32 trig_temp, arg_temp
 *         (confidence softmax scales), all tuned on dev; zero padding to 32 bytes
 *   CLUS  word clusters: u32 n_slots, 28 bytes zero, then n_slots entries
 *         {u64 key, u16 c[3], u16 pad}
 * A linear model section: a 32-byte header {u32 n_rows, n_labels, stride,
 * is_sequence, dtype (1 = bfloat16), feature_version, 8 bytes zero}, then
 * f32 trans (L*L) and start (L) when is_sequence, zero padding to a multiple
 * of 32 bytes, then the (n_rows, stride) weights as bfloat16.  Loading maps
 * the file and uses the weights in place: nothing is allocated per feature.
 * All fields are little-endian; loading refuses a big-endian host.
 */
#include "internal.h"

#include <string.h>

#define FEATURE_VERSION 1

int casie__model_alloc(casie_model **out, int training);

void casie_model_free(casie_model *m) {
    if (!m) return;
    casie__linear_free(&m->trig);
    casie__linear_free(&m->arg);
    casie__linear_free(&m->ent);
    casie__linear_free(&m->realis);
    casie__linear_free(&m->coref);
    free(m->clusters_owned);
    free(m->meta);
    casie__model_file_close(&m->file);
    free(m);
}

char *casie_model_metadata(const casie_model *m) { return m && m->meta ? casie__strdup(m->meta) : NULL; }

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

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
    put_u32(buf, m->n_rows);
    put_u32(buf + 4, m->n_labels);
    put_u32(buf + 8, m->stride);
    put_u32(buf + 12, m->trans != NULL);
    put_u32(buf + 16, 1);
    put_u32(buf + 20, FEATURE_VERSION);
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
    unsigned char *bufs[7] = {0};
    casie__section secs[9];
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
    put_u32(bufs[5], m->clusters.n_slots);
    if (m->clusters.n_slots) memcpy(bufs[5] + 32, m->clusters.slots, csize - 32);
    secs[n++] = (casie__section){"CLUS", bufs[5], csize};
    unsigned char tune[32] = {0};
    memcpy(tune, &m->trig_bias, 4);
    memcpy(tune + 4, &m->arg_bias, 4);
    memcpy(tune + 8, &m->trig_temp, 4);
    memcpy(tune + 12, &m->arg_temp, 4);
    secs[n++] = (casie__section){"TUNE", tune, sizeof tune};
    rc = casie__model_file_write(path, secs, n, err);
done:
    for (int i = 0; i < 7; i++) free(bufs[i]);
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
    uint32_t rows = get_u32(p), L = get_u32(p + 4), stride = get_u32(p + 8), seq = get_u32(p + 12);
    uint32_t dtype = get_u32(p + 16), fv = get_u32(p + 20);
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
        int32_t ns = (int32_t)get_u32(lp + 4 * st);
        if (ns < 0 || ns > CASIE_MAX_SLOTS) {
            corrupt(err, path, "bad role slot count");
            goto fail;
        }
        m->n_slots[st] = ns;
        for (int k = 0; k < CASIE_MAX_SLOTS; k++) {
            int32_t r = (int32_t)get_u32(lp + 4 * (CASIE_N_SUBTYPES + st * CASIE_MAX_SLOTS + k));
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
    uint32_t ncl = get_u32(s->data);
    if ((ncl & (ncl - 1)) || s->size != 32 + sizeof(casie__cluster_entry) * (size_t)ncl) {
        corrupt(err, path, "bad CLUS section");
        goto fail;
    }
    m->clusters.n_slots = ncl;
    m->clusters.slots = ncl ? (const casie__cluster_entry *)(const void *)((const unsigned char *)s->data + 32) : NULL;
    if (!(s = casie__model_file_find(&m->file, "TUNE")) || s->size != 32) {
        corrupt(err, path, "missing or bad TUNE section");
        goto fail;
    }
    memcpy(&m->trig_bias, s->data, 4);
    memcpy(&m->arg_bias, (const unsigned char *)s->data + 4, 4);
    memcpy(&m->trig_temp, (const unsigned char *)s->data + 8, 4);
    memcpy(&m->arg_temp, (const unsigned char *)s->data + 12, 4);
    if (!(m->trig_temp > 0 && m->trig_temp <= 100 && m->arg_temp > 0 && m->arg_temp <= 100)) {
        corrupt(err, path, "confidence temperatures out of range");
        goto fail;
    }
    if (!(m->trig_bias > -1e6f && m->trig_bias < 1e6f && m->arg_bias > -1e6f && m->arg_bias < 1e6f)) {
        corrupt(err, path, "decoding biases out of range");
        goto fail;
    }
    if (!(s = casie__model_file_find(&m->file, "META"))) {
        corrupt(err, path, "missing META section");
        goto fail;
    }
    if (!(m->meta = casie__strndup(s->data, (size_t)s->size))) {
        casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
        goto fail;
    }
    return m;
fail:
    casie_model_free(m);
    return NULL;
}
