/*
 * encoder_import.c - converts a BERT-family checkpoint in the Hugging Face
 * layout (config.json, vocab.txt, model.safetensors, tokenizer_config.json)
 * into a casie encoder file (docs/FORMAT.md, Part 3), once.
 *
 * Not here: reading the encoder file back (encoder.c).
 *
 * Everything read is untrusted: the safetensors header's offsets are checked
 * against the file before a byte of data is read, each tensor's dtype and
 * shape against the configuration, and every value must be finite.  Anything
 * that is not a BERT encoder with absolute positions and the erf GELU is
 * refused, naming the file and the field or tensor.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ST_HEADER ((uint64_t)100 << 20) /* a safetensors JSON header at most this long */

/* ======================================================================== */
/* config.json                                                              */
/* ======================================================================== */

static int cfg_int(json_t *root, const char *key, const char *file, int lo, int hi, int32_t *out, casie_error *err) {
    json_t *v = json_object_get(root, key);
    if (!v) return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: no \"%s\"", file, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: \"%s\" must be an integer in %d..%d", file, key, lo, hi);
    *out = (int32_t)json_integer_value(v);
    return CASIE_OK;
}

/* The configuration of a BERT checkpoint; *name gets a malloc'd copy of its
 * _name_or_path (NULL when it has none). */
static int read_config_json(const char *file, casie_encoder_config *c, char **name, casie_error *err) {
    json_error_t je;
    json_t *root = json_load_file(file, 0, &je);
    if (!root) {
        if (access(file, R_OK) != 0) return casie__error(err, CASIE_ERR_IO, -1, "%s: %s", file, strerror(errno));
        return casie__error(err, CASIE_ERR_PARSE, je.position, "%s: line %d: %s", file, je.line, je.text);
    }
    int rc = CASIE_OK;
    if (!json_is_object(root)) {
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: not a JSON object", file);
        goto done;
    }
    const char *mt = json_string_value(json_object_get(root, "model_type"));
    if (!mt || (strcmp(mt, "bert") != 0 && strcmp(mt, "mpnet") != 0)) {
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1,
                          "%s: model_type is %s%s%s, not \"bert\" or \"mpnet\": only BERT-family encoders can be "
                          "imported",
                          file, mt ? "\"" : "", mt ? mt : "missing", mt ? "\"" : "");
        goto done;
    }
    c->arch = strcmp(mt, "mpnet") ? CASIE_ENCODER_BERT : CASIE_ENCODER_MPNET;
    json_t *act = json_object_get(root, "hidden_act");
    if (act && (!json_is_string(act) || strcmp(json_string_value(act), "gelu") != 0)) {
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: hidden_act is %s, not \"gelu\" (the erf form, as BERT's)",
                          file, json_is_string(act) ? json_string_value(act) : "not a string");
        goto done;
    }
    json_t *pet = json_object_get(root, "position_embedding_type");
    if (c->arch == CASIE_ENCODER_BERT && pet &&
        (!json_is_string(pet) || strcmp(json_string_value(pet), "absolute") != 0)) {
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: position_embedding_type is not \"absolute\"", file);
        goto done;
    }
    if ((rc = cfg_int(root, "num_hidden_layers", file, 1, 48, &c->n_layers, err)) ||
        (rc = cfg_int(root, "hidden_size", file, 1, 4096, &c->hidden, err)) ||
        (rc = cfg_int(root, "num_attention_heads", file, 1, 256, &c->n_heads, err)) ||
        (rc = cfg_int(root, "intermediate_size", file, 1, 65536, &c->intermediate, err)) ||
        (rc = cfg_int(root, "max_position_embeddings", file, 3, 65536, &c->max_positions, err)) ||
        (rc = cfg_int(root, "vocab_size", file, 1, 4194304, &c->n_vocab, err)))
        goto done;
    if (c->arch == CASIE_ENCODER_BERT) {
        if ((rc = cfg_int(root, "type_vocab_size", file, 1, 256, &c->type_vocab, err))) goto done;
    } else { /* MPNet: no token types (one zero row), positions from the padding id + 1, relative buckets */
        int32_t pad = 1;
        c->type_vocab = 1;
        c->rel_buckets = 32;
        if ((json_object_get(root, "pad_token_id") &&
             (rc = cfg_int(root, "pad_token_id", file, 0, c->max_positions - 4, &pad, err))) ||
            (json_object_get(root, "relative_attention_num_buckets") &&
             (rc = cfg_int(root, "relative_attention_num_buckets", file, 4, 1024, &c->rel_buckets, err))))
            goto done;
        if (c->rel_buckets % 2) {
            rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: relative_attention_num_buckets must be even", file);
            goto done;
        }
        c->pos_offset = pad + 1;
    }
    if (c->hidden % c->n_heads) {
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: hidden_size %d is not a multiple of num_attention_heads %d",
                          file, c->hidden, c->n_heads);
        goto done;
    }
    json_t *eps = json_object_get(root, "layer_norm_eps");
    c->layer_norm_eps = 1e-12f; /* BERT's default */
    if (eps) {
        if (!json_is_number(eps) || !(json_number_value(eps) > 0) || !(json_number_value(eps) < 1)) {
            rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: layer_norm_eps must be a number in (0, 1)", file);
            goto done;
        }
        c->layer_norm_eps = (float)json_number_value(eps);
    }
    const char *nm = json_string_value(json_object_get(root, "_name_or_path"));
    *name = nm && *nm ? casie__strdup(nm) : NULL;
done:
    json_decref(root);
    return rc;
}

/* The special pieces' names: [CLS], [SEP], [PAD], [UNK] for BERT; for
 * MPNet tokenizer_config.json's cls_token, sep_token, pad_token and
 * unk_token (a string or {"content": ...}), else <s>, </s>, <pad>, [UNK]. */
typedef struct specials {
    char name[4][64];
} specials;

/* do_lower_case from tokenizer_config.json (1, 0, or -1 when the file or
 * the key is absent) and the special pieces' names for arch. */
static int read_tokenizer_config(const char *file, int arch, specials *sp) {
    static const char *const BERT[4] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]"};
    static const char *const MPNET[4] = {"<s>", "</s>", "<pad>", "[UNK]"};
    static const char *const KEYS[4] = {"cls_token", "sep_token", "pad_token", "unk_token"};
    for (int k = 0; k < 4; k++)
        snprintf(sp->name[k], sizeof sp->name[k], "%s", arch == CASIE_ENCODER_MPNET ? MPNET[k] : BERT[k]);
    json_t *root = json_load_file(file, 0, NULL);
    if (!root) return -1;
    json_t *v = json_object_get(root, "do_lower_case");
    int r = json_is_boolean(v) ? json_is_true(v) : -1;
    for (int k = 0; k < 4 && arch == CASIE_ENCODER_MPNET; k++) {
        json_t *t = json_object_get(root, KEYS[k]);
        if (json_is_object(t)) t = json_object_get(t, "content");
        const char *nm = json_string_value(t);
        if (nm && *nm && strlen(nm) < sizeof sp->name[k]) snprintf(sp->name[k], sizeof sp->name[k], "%s", nm);
    }
    json_decref(root);
    return r;
}

/* ======================================================================== */
/* vocab.txt                                                                */
/* ======================================================================== */

/* VOCB's bytes (docs/FORMAT.md) from vocab.txt, one piece per line (as
 * BERT's tokenizer reads it: only "\n" ends a line); the special ids and
 * whether any piece but those has an ASCII capital outside brackets. */
static int read_vocab(const char *file, const specials *sp, casie_encoder_config *c, unsigned char **out,
                      size_t *out_len, int *has_upper, casie_error *err) {
    size_t len;
    char *text = casie__read_file(file, &len, err);
    if (!text) return err ? err->code : CASIE_ERR_IO;
    int rc = CASIE_OK;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    if (len && text[len - 1] != '\n') n++;
    if (n != (size_t)c->n_vocab) {
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: %zu pieces, config.json's vocab_size is %d", file, n,
                          c->n_vocab);
        goto done;
    }
    size_t head = 4 * (n + 1), total = head + len + (len && text[len - 1] != '\n');
    if (total > UINT32_MAX) { /* VOCB's offsets are u32 */
        rc = casie__error(err, CASIE_ERR_LIMIT, -1, "%s: %zu bytes of pieces, at most 4 GB", file, len);
        goto done;
    }
    unsigned char *v = calloc(1, total);
    if (!v) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", file);
        goto done;
    }
    int32_t *ids[4] = {&c->cls_id, &c->sep_id, &c->pad_id, &c->unk_id};
    for (int k = 0; k < 4; k++)
        *ids[k] = -1;
    *has_upper = 0;
    size_t at = head, line_start = 0;
    for (size_t id = 0; id < n; id++) {
        const char *end = memchr(text + line_start, '\n', len - line_start);
        size_t line_end = end ? (size_t)(end - text) : len;
        size_t plen = line_end - line_start;
        const char *piece = text + line_start;
        if (plen == 0 || memchr(piece, 0, plen)) {
            rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: line %zu: %s piece", file, id + 1,
                              plen ? "a NUL byte in a" : "an empty");
            free(v);
            goto done;
        }
        int special = 0;
        for (int k = 0; k < 4; k++)
            if (plen == strlen(sp->name[k]) && !memcmp(piece, sp->name[k], plen)) {
                special = 1;
                if (*ids[k] < 0) *ids[k] = (int32_t)id;
            }
        if (!special && !(piece[0] == '[' && piece[plen - 1] == ']'))
            for (size_t i = 0; i < plen; i++)
                *has_upper |= piece[i] >= 'A' && piece[i] <= 'Z';
        casie__put_u32le(v + 4 * id, (uint32_t)at);
        memcpy(v + at, piece, plen);
        at += plen + 1; /* and its NUL (calloc) */
        line_start = line_end + 1;
    }
    casie__put_u32le(v + 4 * n, (uint32_t)at);
    *out = v;
    *out_len = at;
done:
    free(text);
    return rc;
}

/* ======================================================================== */
/* model.safetensors                                                        */
/* ======================================================================== */

typedef struct safetensors {
    const char *path;
    const unsigned char *map;
    size_t size;
    const unsigned char *data; /* after the header */
    size_t data_size;
    json_t *header;     /* name -> {dtype, shape, data_offsets} */
    const char *prefix; /* what a tensor's name may start with: "bert." or "mpnet." */
} safetensors;

static int st_open(safetensors *st, const char *path, casie_error *err) {
    memset(st, 0, sizeof *st);
    st->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 8) {
        close(fd);
        return casie__error(err, CASIE_ERR_PARSE, -1, "%s: not a safetensors file (under 8 bytes or not a file)", path);
    }
    st->size = (size_t)sb.st_size;
    void *m = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return casie__error(err, CASIE_ERR_IO, -1, "%s: cannot map: %s", path, strerror(errno));
    st->map = m;
    uint64_t hlen = casie__get_u64le(st->map);
    if (hlen > MAX_ST_HEADER || hlen > st->size - 8)
        return casie__error(err, CASIE_ERR_PARSE, 0, "%s: header length %llu runs past the file (%zu bytes)", path,
                            (unsigned long long)hlen, st->size);
    json_error_t je;
    st->header = json_loadb((const char *)st->map + 8, (size_t)hlen, 0, &je);
    if (!st->header || !json_is_object(st->header))
        return casie__error(err, CASIE_ERR_PARSE, 8 + je.position, "%s: the header is not a JSON object: %s", path,
                            st->header ? "another JSON value" : je.text);
    st->data = st->map + 8 + hlen;
    st->data_size = st->size - 8 - (size_t)hlen;
    return CASIE_OK;
}

static void st_close(safetensors *st) {
    if (st->header) json_decref(st->header);
    if (st->map) munmap((void *)st->map, st->size);
    memset(st, 0, sizeof *st);
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
    if (exp == 31)
        bits = sign | 0x7f800000u | man << 13; /* inf, nan */
    else if (exp)
        bits = sign | (exp + 112) << 23 | man << 13;
    else if (!man)
        bits = sign;
    else { /* subnormal: normalize */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 1024));
        bits = sign | (uint32_t)(112 - e) << 23 | (man & 1023) << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Tensor `name` (or "bert." + name), of shape (d0) or (d0, d1) (d1 = 0 for
 * one dimension), as malloc'd floats in *out. */
static int st_get(const safetensors *st, const char *name, int64_t d0, int64_t d1, float **out, casie_error *err) {
    *out = NULL;
    char full[300];
    json_t *t = json_object_get(st->header, name);
    snprintf(full, sizeof full, "%s%s", st->prefix, name);
    if (!t) t = json_object_get(st->header, full);
    if (!t) {
        /* checkpoints converted from TensorFlow call a layer norm's weight gamma and its bias beta */
        const char *dot = strrchr(name, '.');
        if (dot && strstr(name, "LayerNorm") && (!strcmp(dot, ".weight") || !strcmp(dot, ".bias"))) {
            char alt[200];
            snprintf(alt, sizeof alt, "%.*s.%s", (int)(dot - name), name, strcmp(dot, ".weight") ? "beta" : "gamma");
            t = json_object_get(st->header, alt);
            snprintf(full, sizeof full, "%s%s", st->prefix, alt);
            if (!t) t = json_object_get(st->header, full);
        }
    }
    if (!t)
        return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: no tensor %s (nor %s%s)", st->path, name, st->prefix, name);
    const char *dt = json_string_value(json_object_get(t, "dtype"));
    json_t *shape = json_object_get(t, "shape"), *offs = json_object_get(t, "data_offsets");
    int esz = !dt ? 0 : !strcmp(dt, "F32") ? 4 : (!strcmp(dt, "F16") || !strcmp(dt, "BF16")) ? 2 : 0;
    if (!esz)
        return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: tensor %s has dtype %s (F32, F16 or BF16 only)", st->path,
                            name, dt ? dt : "(none)");
    int nd = d1 ? 2 : 1;
    if (!json_is_array(shape) || (int)json_array_size(shape) != nd ||
        json_integer_value(json_array_get(shape, 0)) != d0 ||
        (d1 && json_integer_value(json_array_get(shape, 1)) != d1)) {
        char *s = json_dumps(shape, JSON_COMPACT);
        int rc =
            casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: tensor %s has shape %s, config.json implies [%lld%s%.0lld]",
                         st->path, name, s ? s : "?", (long long)d0, d1 ? ", " : "", (long long)d1);
        free(s);
        return rc;
    }
    uint64_t count = (uint64_t)d0 * (uint64_t)(d1 ? d1 : 1);
    json_t *o0 = json_array_get(offs, 0), *o1 = json_array_get(offs, 1);
    if (!json_is_array(offs) || json_array_size(offs) != 2 || !json_is_integer(o0) || !json_is_integer(o1) ||
        json_integer_value(o0) < 0 || json_integer_value(o1) < json_integer_value(o0) ||
        (uint64_t)json_integer_value(o1) > st->data_size ||
        (uint64_t)(json_integer_value(o1) - json_integer_value(o0)) != count * (uint64_t)esz)
        return casie__error(err, CASIE_ERR_PARSE, -1,
                            "%s: tensor %s: data_offsets outside the data (%zu bytes) or not %llu %s values", st->path,
                            name, st->data_size, (unsigned long long)count, dt);
    const unsigned char *p = st->data + json_integer_value(o0);
    float *f = malloc(count * sizeof *f);
    if (!f) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory for tensor %s", st->path, name);
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *e = p + i * (uint64_t)esz;
        uint32_t bits;
        if (esz == 4) {
            bits = casie__get_u32le(e);
            memcpy(&f[i], &bits, 4);
        } else if (dt[0] == 'B') {
            bits = (uint32_t)casie__get_u16le(e) << 16;
            memcpy(&f[i], &bits, 4);
        } else {
            f[i] = half_to_float(casie__get_u16le(e));
        }
        if (!isfinite(f[i])) {
            free(f);
            return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: tensor %s: value %llu is not finite", st->path, name,
                                (unsigned long long)i);
        }
    }
    *out = f;
    return CASIE_OK;
}

/* ======================================================================== */
/* Building the sections                                                    */
/* ======================================================================== */

/* Quantizes w (rows, cols) into rows [r0, r0 + rows) of m: int8 with a scale
 * per row (absmax / 127), the row sums when m has them. */
static void quantize_rows(const float *w, int rows, int cols, const casie__q8mat *m, int r0) {
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t)r * cols;
        int8_t *q = (int8_t *)m->q + (size_t)(r0 + r) * m->stride;
        float mx = 0.0f;
        for (int c = 0; c < cols; c++)
            mx = fabsf(wr[c]) > mx ? fabsf(wr[c]) : mx;
        int32_t sum = 0;
        float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
        for (int c = 0; c < cols; c++) {
            float v = wr[c] * inv;
            int k = (int)(v + (v >= 0.0f ? 0.5f : -0.5f));
            k = k > 127 ? 127 : k < -127 ? -127 : k;
            q[c] = (int8_t)k;
            sum += k;
        }
        ((float *)m->scale)[r0 + r] = mx / 127.0f;
        if (m->sum) ((int32_t *)m->sum)[r0 + r] = sum;
    }
}

/* Copies tensor `name` (n floats) to dst. */
static int put_floats(const safetensors *st, const char *name, int64_t d0, int64_t d1, const float *dst,
                      casie_error *err) {
    float *f;
    int rc = st_get(st, name, d0, d1, &f, err);
    if (rc) return rc;
    memcpy((float *)dst, f, (size_t)d0 * (size_t)(d1 ? d1 : 1) * sizeof *f);
    free(f);
    return CASIE_OK;
}

static int put_matrix(const safetensors *st, const char *name, int rows, int cols, const casie__q8mat *m, int r0,
                      casie_error *err) {
    float *f;
    int rc = st_get(st, name, rows, cols, &f, err);
    if (rc) return rc;
    quantize_rows(f, rows, cols, m, r0);
    free(f);
    return CASIE_OK;
}

static int fill_weights(const safetensors *st, casie_encoder *e, casie_error *err) {
    const casie_encoder_config *c = &e->cfg;
    const int H = c->hidden, I = c->intermediate;
    int rc;
    const int mpnet = c->arch == CASIE_ENCODER_MPNET;
    if ((rc = put_matrix(st, "embeddings.word_embeddings.weight", c->n_vocab, H, &e->word, 0, err)) ||
        (rc = put_floats(st, "embeddings.position_embeddings.weight", c->max_positions, H, e->pos, err)) ||
        (!mpnet && (rc = put_floats(st, "embeddings.token_type_embeddings.weight", c->type_vocab, H, e->type, err))) ||
        (rc = put_floats(st, "embeddings.LayerNorm.weight", H, 0, e->emb_ln_g, err)) ||
        (rc = put_floats(st, "embeddings.LayerNorm.bias", H, 0, e->emb_ln_b, err)) ||
        (mpnet &&
         (rc = put_floats(st, "encoder.relative_attention_bias.weight", c->rel_buckets, c->n_heads, e->rel_bias, err))))
        return rc;
    /* the attention's tensors: BERT's names, then MPNet's */
    static const char *const QKV[2][3] = {{"self.query", "self.key", "self.value"}, {"attn.q", "attn.k", "attn.v"}};
    static const char *const ATT_OUT[2] = {"output.dense", "attn.o"}, *const ATT_LN[2] = {"output.LayerNorm",
                                                                                          "LayerNorm"};
    for (int l = 0; l < c->n_layers; l++) {
        casie__enc_layer *L = &e->layers[l];
        char nm[160];
#define NAME(fmt) (snprintf(nm, sizeof nm, "encoder.layer.%d." fmt, l), nm)
#define ATT(part, what) (snprintf(nm, sizeof nm, "encoder.layer.%d.attention.%s.%s", l, part, what), nm)
        for (int k = 0; k < 3; k++) {
            if ((rc = put_matrix(st, ATT(QKV[mpnet][k], "weight"), H, H, &L->qkv, k * H, err)) ||
                (rc = put_floats(st, ATT(QKV[mpnet][k], "bias"), H, 0, L->b_qkv + k * H, err)))
                return rc;
        }
        if ((rc = put_matrix(st, ATT(ATT_OUT[mpnet], "weight"), H, H, &L->out, 0, err)) ||
            (rc = put_floats(st, ATT(ATT_OUT[mpnet], "bias"), H, 0, L->b_out, err)) ||
            (rc = put_floats(st, ATT(ATT_LN[mpnet], "weight"), H, 0, L->ln1_g, err)) ||
            (rc = put_floats(st, ATT(ATT_LN[mpnet], "bias"), H, 0, L->ln1_b, err)) ||
            (rc = put_matrix(st, NAME("intermediate.dense.weight"), I, H, &L->ff1, 0, err)) ||
            (rc = put_floats(st, NAME("intermediate.dense.bias"), I, 0, L->b_ff1, err)) ||
            (rc = put_matrix(st, NAME("output.dense.weight"), H, I, &L->ff2, 0, err)) ||
            (rc = put_floats(st, NAME("output.dense.bias"), H, 0, L->b_ff2, err)) ||
            (rc = put_floats(st, NAME("output.LayerNorm.weight"), H, 0, L->ln2_g, err)) ||
            (rc = put_floats(st, NAME("output.LayerNorm.bias"), H, 0, L->ln2_b, err)))
            return rc;
#undef NAME
#undef ATT
    }
    return CASIE_OK;
}

int casie_encoder_import(const char *dir, const char *out_path, casie_error *err) {
    if (!dir || !out_path)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_encoder_import: no directory or output");
    char f_cfg[4096], f_voc[4096], f_st[4096], f_tok[4096];
    if (snprintf(f_cfg, sizeof f_cfg, "%s/config.json", dir) >= (int)sizeof f_cfg)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: path too long", dir);
    snprintf(f_voc, sizeof f_voc, "%s/vocab.txt", dir);
    snprintf(f_st, sizeof f_st, "%s/model.safetensors", dir);
    snprintf(f_tok, sizeof f_tok, "%s/tokenizer_config.json", dir);

    casie_encoder e;
    memset(&e, 0, sizeof e);
    char *name = NULL;
    unsigned char *vocb = NULL, *wgts = NULL;
    size_t vocb_len = 0;
    safetensors st = {0};
    int has_upper = 0, rc;
    if ((rc = read_config_json(f_cfg, &e.cfg, &name, err))) goto done;
    specials sp;
    int lower = read_tokenizer_config(f_tok, e.cfg.arch, &sp);
    if ((rc = read_vocab(f_voc, &sp, &e.cfg, &vocb, &vocb_len, &has_upper, err))) goto done;
    e.cfg.lowercase = lower >= 0 ? lower : !has_upper;
    if (!name) { /* the directory's last component */
        const char *b = dir + strlen(dir);
        while (b > dir && b[-1] == '/')
            b--;
        const char *a = b;
        while (a > dir && a[-1] != '/')
            a--;
        name = b > a ? casie__strndup(a, (size_t)(b - a)) : casie__strdup("encoder");
    }
    if (!name || strlen(name) > 1023) {
        rc = casie__error(err, name ? CASIE_ERR_LIMIT : CASIE_ERR_NOMEM, -1, "%s: the name is %s", f_cfg,
                          name ? "over 1023 bytes" : "out of memory");
        goto done;
    }
    if ((rc = st_open(&st, f_st, err))) goto done;
    st.prefix = e.cfg.arch == CASIE_ENCODER_MPNET ? "mpnet." : "bert.";
    uint64_t size = casie__encoder_bind(&e, NULL);
    if (size > SIZE_MAX || !(wgts = aligned_alloc(64, (size_t)((size + 63) & ~(uint64_t)63))) ||
        !(e.layers = calloc((size_t)e.cfg.n_layers, sizeof *e.layers))) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory for %llu bytes of weights", f_st,
                          (unsigned long long)size);
        goto done;
    }
    memset(wgts, 0, (size_t)size);
    casie__encoder_bind(&e, wgts);
    if ((rc = fill_weights(&st, &e, err))) goto done;

    uint64_t hash = casie__hash_bytes(wgts, (size_t)size, casie__hash_bytes(vocb, vocb_len, 0));
    unsigned char cfg[96] = {0};
    const casie_encoder_config *c = &e.cfg;
    casie__put_u32le(cfg + 0, c->arch == CASIE_ENCODER_BERT ? 1u : 2u); /* a BERT file as before */
    casie__put_u32le(cfg + 4, (uint32_t)c->n_layers);
    casie__put_u32le(cfg + 8, (uint32_t)c->hidden);
    casie__put_u32le(cfg + 12, (uint32_t)c->n_heads);
    casie__put_u32le(cfg + 16, (uint32_t)c->intermediate);
    casie__put_u32le(cfg + 20, (uint32_t)c->max_positions);
    casie__put_u32le(cfg + 24, (uint32_t)c->type_vocab);
    casie__put_u32le(cfg + 28, (uint32_t)c->n_vocab);
    uint32_t eps;
    memcpy(&eps, &c->layer_norm_eps, 4);
    casie__put_u32le(cfg + 32, eps);
    casie__put_u32le(cfg + 36, c->lowercase ? 1u : 0u);
    casie__put_u32le(cfg + 40, (uint32_t)c->cls_id);
    casie__put_u32le(cfg + 44, (uint32_t)c->sep_id);
    casie__put_u32le(cfg + 48, (uint32_t)c->pad_id);
    casie__put_u32le(cfg + 52, (uint32_t)c->unk_id);
    casie__put_u32le(cfg + 56, (uint32_t)hash);
    casie__put_u32le(cfg + 60, (uint32_t)(hash >> 32));
    casie__put_u32le(cfg + 64, 1); /* int8 rows */
    casie__put_u32le(cfg + 68, 1); /* GELU, erf */
    if (c->arch != CASIE_ENCODER_BERT) {
        casie__put_u32le(cfg + 72, (uint32_t)c->arch);
        casie__put_u32le(cfg + 76, (uint32_t)c->rel_buckets);
        casie__put_u32le(cfg + 80, (uint32_t)c->pos_offset);
    }
    casie__section secs[4] = {
        {"ECFG", cfg, sizeof cfg},
        {"NAME", name, strlen(name) + 1},
        {"VOCB", vocb, vocb_len},
        {"WGTS", wgts, size},
    };
    rc = casie__container_write(out_path, CASIE__FILE_ENCODER, secs, 4, err);
done:
    st_close(&st);
    free(e.layers);
    free(wgts);
    free(vocb);
    free(name);
    return rc;
}
