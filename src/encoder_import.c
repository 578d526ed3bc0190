/*
 * encoder_import.c - converts a BERT-family checkpoint in the Hugging Face
 * layout (config.json, vocab.txt, model.safetensors, tokenizer_config.json)
 * into a casie encoder file (docs/FORMAT.md, Part 3), once.
 *
 * Not here: reading the encoder file back (encoder.c).
 *
 * Everything read is untrusted.  Each file is opened without waiting (a
 * FIFO is refused, not read) and must be a regular file.  The safetensors
 * header is checked whole before a byte of data is read: every tensor's
 * offsets within the data, aligned to its values, sized by its shape, none
 * overlapping another.  Then every tensor the configuration implies must be
 * there with the implied shape before anything as large as the claimed
 * weights is allocated, so a config.json claiming a huge encoder over a
 * small file costs nothing.  Every value must be finite.  Anything that is
 * not a BERT encoder with absolute positions and the erf GELU is refused,
 * naming the file and the field or tensor.
 */
#include "internal.h"
#include "byte_order.h"
#include "encoder.h"
#include "encoder_kernels.h"
#include "hash.h"
#include "model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ST_HEADER ((uint64_t)100 << 20) /* a safetensors JSON header at most this long */
#define MAX_JSON_FILE ((size_t)16 << 20)    /* config.json, tokenizer_config.json */
#define MAX_VOCAB_FILE ((size_t)256 << 20)  /* vocab.txt */

/* ======================================================================== */
/* Reading the files                                                        */
/* ======================================================================== */

/* Opens path to read and checks that it is a regular file of at most max
 * bytes; *fd and *size on success.  O_NONBLOCK: opening a FIFO would wait
 * for a writer, forever, before fstat could refuse it (no effect on a
 * regular file). */
static int open_input(const char *path, size_t max, int *fd, size_t *size, casie_error *err) {
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0) return casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
    struct stat sb;
    int rc = CASIE_OK;
    if (fstat(*fd, &sb) != 0)
        rc = casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        rc = casie__error(err, CASIE_ERR_IO, -1, "%s: not a regular file", path);
    else if ((uint64_t)sb.st_size > (uint64_t)max)
        rc = casie__error(err, CASIE_ERR_LIMIT, -1, "%s: %llu bytes, at most %zu", path, (unsigned long long)sb.st_size,
                          max);
    if (rc) {
        close(*fd);
        *fd = -1;
        return rc;
    }
    *size = (size_t)sb.st_size;
    return CASIE_OK;
}

/* The whole of regular file path, at most max bytes, NUL-terminated in *out
 * (malloc'd).  A file that grows while read is cut at its size when opened. */
static int read_input(const char *path, size_t max, char **out, size_t *len, casie_error *err) {
    int fd;
    size_t size, n = 0;
    int rc = open_input(path, max, &fd, &size, err);
    if (rc) return rc;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", path);
    }
    while (n < size) {
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            rc = casie__error(err, CASIE_ERR_IO, -1, "%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return rc;
        }
        if (got == 0) break; /* shrank meanwhile */
        n += (size_t)got;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return CASIE_OK;
}

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

/* The configuration of a BERT checkpoint from config.json's text; *name
 * gets a malloc'd copy of its _name_or_path (NULL when it has none). */
static int read_config_json(const char *file, const char *text, size_t len, casie_encoder_config *c, char **name,
                            casie_error *err) {
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) return casie__error(err, CASIE_ERR_PARSE, je.position, "%s: line %d: %s", file, je.line, je.text);
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
        /* in (0, 1) as the float the file stores: 1e-50 is 0 there, which the loader refuses */
        if (!json_is_number(eps) || !((float)json_number_value(eps) > 0) || !(json_number_value(eps) < 1)) {
            rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: layer_norm_eps must be a number in (0, 1) (as a float)",
                              file);
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

/* do_lower_case from tokenizer_config.json's text (*lower 1, 0, or -1 when
 * there is no file, text NULL, or no such key) and the special pieces'
 * names for arch.  A file that is there must be a JSON object, and what it
 * says of these keys must be readable: guessing past it would tokenize
 * differently from the checkpoint's own tokenizer. */
static int read_tokenizer_config(const char *file, const char *text, size_t len, int arch, specials *sp, int *lower,
                                 casie_error *err) {
    static const char *const BERT[4] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]"};
    static const char *const MPNET[4] = {"<s>", "</s>", "<pad>", "[UNK]"};
    static const char *const KEYS[4] = {"cls_token", "sep_token", "pad_token", "unk_token"};
    for (int k = 0; k < 4; k++)
        snprintf(sp->name[k], sizeof sp->name[k], "%s", arch == CASIE_ENCODER_MPNET ? MPNET[k] : BERT[k]);
    *lower = -1;
    if (!text) return CASIE_OK;
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) return casie__error(err, CASIE_ERR_PARSE, je.position, "%s: line %d: %s", file, je.line, je.text);
    int rc = CASIE_OK;
    json_t *v = json_object_get(root, "do_lower_case");
    if (!json_is_object(root))
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: not a JSON object", file);
    else if (v && !json_is_boolean(v) && !json_is_null(v))
        rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: do_lower_case is not true or false", file);
    else
        *lower = json_is_boolean(v) ? json_is_true(v) : -1;
    for (int k = 0; k < 4 && !rc && arch == CASIE_ENCODER_MPNET; k++) {
        json_t *t = json_object_get(root, KEYS[k]);
        if (json_is_object(t)) t = json_object_get(t, "content");
        if (!t || json_is_null(t)) continue; /* the default name */
        const char *nm = json_string_value(t);
        if (!nm || !*nm || strlen(nm) >= sizeof sp->name[k])
            rc = casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: %s is not a name of 1 to %zu bytes", file, KEYS[k],
                              sizeof sp->name[k] - 1);
        else
            snprintf(sp->name[k], sizeof sp->name[k], "%s", nm);
    }
    json_decref(root);
    return rc;
}

/* ======================================================================== */
/* vocab.txt                                                                */
/* ======================================================================== */

/* The length of the line at text[at, len) without its end: "\n", or
 * "\r\n" as BERT's tokenizers read it (`tokenizers` drops the "\r" of a
 * "\r\n"; `transformers` reads the file with universal newlines).  *next
 * gets where the next line starts. */
static size_t line_at(const char *text, size_t len, size_t at, size_t *next) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - text) : len;
    *next = nl ? end + 1 : len;
    if (nl && end > at && text[end - 1] == '\r') end--;
    return end - at;
}

/* VOCB's bytes (docs/FORMAT.md) from vocab.txt's text, one piece per line;
 * the special ids and whether any piece but those has an ASCII capital
 * outside brackets.  A "\r" anywhere but before a "\n" is refused: the two
 * tokenizers of BERT disagree on it (universal newlines end a line there,
 * `tokenizers` keeps it in the piece).  A special piece that repeats takes
 * the later id, as both tokenizers' maps do; [CLS], [SEP] and [UNK] (or
 * their MPNet names) must be there, since no sequence can be encoded
 * without them; [PAD] may be absent (the mask does without it). */
static int read_vocab(const char *file, const char *text, size_t len, const specials *sp, casie_encoder_config *c,
                      unsigned char **out, size_t *out_len, int *has_upper, casie_error *err) {
    size_t n = 0, next;
    for (size_t at = 0; at < len; at = next) {
        line_at(text, len, at, &next);
        n++;
    }
    if (n != (size_t)c->n_vocab)
        return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: %zu pieces, config.json's vocab_size is %d", file, n,
                            c->n_vocab);
    size_t head = 4 * (n + 1), total = head + len + 1;
    if (total > UINT32_MAX) /* VOCB's offsets are u32 */
        return casie__error(err, CASIE_ERR_LIMIT, -1, "%s: %zu bytes of pieces, at most 4 GB", file, len);
    unsigned char *v = calloc(1, total);
    if (!v) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", file);
    int32_t *ids[4] = {&c->cls_id, &c->sep_id, &c->pad_id, &c->unk_id};
    for (int k = 0; k < 4; k++)
        *ids[k] = -1;
    *has_upper = 0;
    size_t at = head, line_start = 0;
    for (size_t id = 0; id < n; id++, line_start = next) {
        size_t plen = line_at(text, len, line_start, &next);
        const char *piece = text + line_start;
        const char *bad = plen == 0                   ? "an empty piece"
                          : memchr(piece, 0, plen)    ? "a NUL byte in a piece"
                          : memchr(piece, '\r', plen) ? "a carriage return not before a line feed"
                                                      : NULL;
        if (bad) {
            free(v);
            return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: line %zu: %s", file, id + 1, bad);
        }
        int special = 0;
        for (int k = 0; k < 4; k++)
            if (plen == strlen(sp->name[k]) && !memcmp(piece, sp->name[k], plen)) {
                special = 1;
                *ids[k] = (int32_t)id;
            }
        if (!special && !(piece[0] == '[' && piece[plen - 1] == ']'))
            for (size_t i = 0; i < plen; i++)
                *has_upper |= piece[i] >= 'A' && piece[i] <= 'Z';
        casie__put_u32le(v + 4 * id, (uint32_t)at);
        memcpy(v + at, piece, plen);
        at += plen + 1; /* and its NUL (calloc) */
    }
    casie__put_u32le(v + 4 * n, (uint32_t)at);
    static const int NEEDED[3] = {0, 1, 3}; /* cls, sep, unk */
    for (int k = 0; k < 3; k++)
        if (*ids[NEEDED[k]] < 0) {
            free(v);
            return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: no %s piece: no sequence could be encoded", file,
                                sp->name[NEEDED[k]]);
        }
    *out = v;
    *out_len = at;
    return CASIE_OK;
}

/* ======================================================================== */
/* model.safetensors                                                        */
/* ======================================================================== */

typedef struct safetensors {
    const char *path;
    const unsigned char *data; /* after the header */
    size_t data_size;
    json_t *header;     /* name -> {dtype, shape, data_offsets}, every entry checked (st_index) */
    const char *prefix; /* what a tensor's name may start with: "bert." or "mpnet." */
} safetensors;

/* Bytes per value of a safetensors dtype; 0 for one not listed (its
 * offsets are still checked, its size and alignment cannot be). */
static int dtype_size(const char *dt) {
    static const struct {
        const char *name;
        int size;
    } DT[] = {{"F32", 4},  {"F16", 2},     {"BF16", 2},    {"F64", 8},    {"I64", 8}, {"U64", 8},
              {"I32", 4},  {"U32", 4},     {"I16", 2},     {"U16", 2},    {"I8", 1},  {"U8", 1},
              {"BOOL", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1}};
    for (size_t i = 0; i < sizeof DT / sizeof *DT; i++)
        if (!strcmp(dt, DT[i].name)) return DT[i].size;
    return 0;
}

/* A tensor's bytes in the data, for the overlap check. */
typedef struct span {
    uint64_t start, end;
    const char *name;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Checks one header entry: dtype a string, shape a list of sizes,
 * data_offsets [start, end] within the data; for a known dtype, end - start
 * is the shape's count of values and start a multiple of the value size. */
static int st_entry(const safetensors *st, const char *name, json_t *t, span *sp, casie_error *err) {
    json_t *shape = json_object_get(t, "shape"), *offs = json_object_get(t, "data_offsets");
    const char *dt = json_string_value(json_object_get(t, "dtype"));
    json_t *o0 = json_array_get(offs, 0), *o1 = json_array_get(offs, 1);
    if (!json_is_object(t) || !dt || !json_is_array(shape) || json_array_size(shape) > 16)
        return casie__error(err, CASIE_ERR_PARSE, -1, "%s: tensor %s: not {\"dtype\", \"shape\", \"data_offsets\"}",
                            st->path, name);
    if (!json_is_array(offs) || json_array_size(offs) != 2 || !json_is_integer(o0) || !json_is_integer(o1) ||
        json_integer_value(o0) < 0 || json_integer_value(o1) < json_integer_value(o0) ||
        (uint64_t)json_integer_value(o1) > st->data_size)
        return casie__error(err, CASIE_ERR_PARSE, -1, "%s: tensor %s: data_offsets outside the data (%zu bytes)",
                            st->path, name, st->data_size);
    sp->start = (uint64_t)json_integer_value(o0);
    sp->end = (uint64_t)json_integer_value(o1);
    sp->name = name;
    uint64_t count = 1;
    int too_many = 0;
    for (size_t i = 0; i < json_array_size(shape); i++) {
        json_t *d = json_array_get(shape, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return casie__error(err, CASIE_ERR_PARSE, -1, "%s: tensor %s: a shape of sizes >= 0 expected", st->path,
                                name);
        uint64_t k = (uint64_t)json_integer_value(d);
        if (k && count > st->data_size / k) too_many = 1; /* more values than the data has bytes */
        count = too_many ? count : count * k;
    }
    int esz = dtype_size(dt);
    if (!esz) return CASIE_OK;
    if (too_many || count * (uint64_t)esz != sp->end - sp->start)
        return casie__error(err, CASIE_ERR_PARSE, -1,
                            "%s: tensor %s: data_offsets [%llu, %llu] do not hold its shape's values of %s", st->path,
                            name, (unsigned long long)sp->start, (unsigned long long)sp->end, dt);
    if (sp->start % (uint64_t)esz)
        return casie__error(err, CASIE_ERR_PARSE, -1,
                            "%s: tensor %s: data_offsets start at %llu, not aligned to its %d-byte %s values", st->path,
                            name, (unsigned long long)sp->start, esz, dt);
    return CASIE_OK;
}

/* Checks every entry of the header (st_entry), then that no two tensors
 * share a byte (safetensors forbids it; a reader would get one tensor's
 * data as another's). */
static int st_index(const safetensors *st, casie_error *err) {
    size_t n = json_object_size(st->header), k = 0;
    span *sp = malloc((n ? n : 1) * sizeof *sp);
    if (!sp) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory", st->path);
    const char *name;
    json_t *t;
    int rc = CASIE_OK;
    json_object_foreach(st->header, name, t) {
        if (!strcmp(name, "__metadata__")) continue; /* free-form strings */
        if ((rc = st_entry(st, name, t, &sp[k], err))) break;
        k += sp[k].end > sp[k].start; /* an empty tensor has no bytes to share */
    }
    if (!rc) qsort(sp, k, sizeof *sp, span_cmp);
    for (size_t i = 1; i < k && !rc; i++)
        if (sp[i].start < sp[i - 1].end)
            rc = casie__error(err, CASIE_ERR_PARSE, -1,
                              "%s: tensors %s [%llu, %llu] and %s [%llu, %llu] overlap in the data", st->path,
                              sp[i - 1].name, (unsigned long long)sp[i - 1].start, (unsigned long long)sp[i - 1].end,
                              sp[i].name, (unsigned long long)sp[i].start, (unsigned long long)sp[i].end);
        else if (sp[i].end < sp[i - 1].end)
            sp[i] = sp[i - 1]; /* keep the one that reaches furthest, for the next comparison */
    free(sp);
    return rc;
}

/* The safetensors file in buf[0, size): its header parsed and checked.  The
 * tensors' data is read in place. */
static int st_parse(safetensors *st, const char *path, const unsigned char *buf, size_t size, casie_error *err) {
    memset(st, 0, sizeof *st);
    st->path = path;
    if (size < 8) return casie__error(err, CASIE_ERR_PARSE, -1, "%s: not a safetensors file (under 8 bytes)", path);
    uint64_t hlen = casie__get_u64le(buf);
    if (hlen > MAX_ST_HEADER || hlen > size - 8)
        return casie__error(err, CASIE_ERR_PARSE, 0, "%s: header length %llu runs past the file (%zu bytes)", path,
                            (unsigned long long)hlen, size);
    json_error_t je;
    st->header = json_loadb((const char *)buf + 8, (size_t)hlen, 0, &je);
    if (!st->header || !json_is_object(st->header))
        return casie__error(err, CASIE_ERR_PARSE, 8 + je.position, "%s: the header is not a JSON object: %s", path,
                            st->header ? "another JSON value" : je.text);
    st->data = buf + 8 + hlen;
    st->data_size = size - 8 - (size_t)hlen;
    return st_index(st, err);
}

static void st_close(safetensors *st) {
    if (st->header) json_decref(st->header);
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

/* A tensor found in the header: its values and their type. */
typedef struct tensor {
    const unsigned char *p;
    const char *dtype; /* F32, F16 or BF16 */
    int esz;
    uint64_t count;
} tensor;

/* Tensor `name` (or prefix + name, or TensorFlow's names of a layer norm's
 * weights), which must be F32, F16 or BF16 of shape (d0) or (d0, d1) (d1 = 0
 * for one dimension).  st_index has checked its offsets and size. */
static int st_find(const safetensors *st, const char *name, int64_t d0, int64_t d1, tensor *out, casie_error *err) {
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
    json_t *shape = json_object_get(t, "shape");
    int esz = !strcmp(dt, "F32") ? 4 : (!strcmp(dt, "F16") || !strcmp(dt, "BF16")) ? 2 : 0;
    if (!esz)
        return casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: tensor %s has dtype %s (F32, F16 or BF16 only)", st->path,
                            name, dt);
    int nd = d1 ? 2 : 1;
    if ((int)json_array_size(shape) != nd || json_integer_value(json_array_get(shape, 0)) != d0 ||
        (d1 && json_integer_value(json_array_get(shape, 1)) != d1)) {
        char *s = json_dumps(shape, JSON_COMPACT);
        int rc =
            casie__error(err, CASIE_ERR_SCHEMA, -1, "%s: tensor %s has shape %s, config.json implies [%lld%s%.0lld]",
                         st->path, name, s ? s : "?", (long long)d0, d1 ? ", " : "", (long long)d1);
        free(s);
        return rc;
    }
    out->p = st->data + json_integer_value(json_array_get(json_object_get(t, "data_offsets"), 0));
    out->dtype = dt;
    out->esz = esz;
    out->count = (uint64_t)d0 * (uint64_t)(d1 ? d1 : 1);
    return CASIE_OK;
}

/* Tensor `name` (st_find) as malloc'd floats in *out, every one finite. */
static int st_get(const safetensors *st, const char *name, int64_t d0, int64_t d1, float **out, casie_error *err) {
    *out = NULL;
    tensor t;
    int rc = st_find(st, name, d0, d1, &t, err);
    if (rc) return rc;
    float *f = malloc(t.count * sizeof *f);
    if (!f) return casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory for tensor %s", st->path, name);
    for (uint64_t i = 0; i < t.count; i++) {
        const unsigned char *e = t.p + i * (uint64_t)t.esz;
        uint32_t bits;
        if (t.esz == 4) {
            bits = casie__get_u32le(e);
            memcpy(&f[i], &bits, 4);
        } else if (t.dtype[0] == 'B') {
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

/* Copies tensor `name` (n floats) to dst; with dst NULL only finds it with
 * its shape (st_find). */
static int put_floats(const safetensors *st, const char *name, int64_t d0, int64_t d1, const float *dst,
                      casie_error *err) {
    tensor t;
    if (!dst) return st_find(st, name, d0, d1, &t, err);
    float *f;
    int rc = st_get(st, name, d0, d1, &f, err);
    if (rc) return rc;
    memcpy((float *)dst, f, (size_t)d0 * (size_t)(d1 ? d1 : 1) * sizeof *f);
    free(f);
    return CASIE_OK;
}

/* Quantizes tensor `name` into rows [r0, r0 + rows) of m; with m NULL only
 * finds it with its shape. */
static int put_matrix(const safetensors *st, const char *name, int rows, int cols, const casie__q8mat *m, int r0,
                      casie_error *err) {
    tensor t;
    if (!m) return st_find(st, name, rows, cols, &t, err);
    float *f;
    int rc = st_get(st, name, rows, cols, &f, err);
    if (rc) return rc;
    casie__q8_quantize_weights(f, rows, cols, m, r0);
    free(f);
    return CASIE_OK;
}

/* Reads every weight into e's bound arrays or, while e->layers is NULL
 * (nothing allocated yet), only checks that every tensor the configuration
 * implies is there with its shape and a float dtype: the first pass, which
 * costs nothing however large the configuration's claim. */
static int fill_weights(const safetensors *st, casie_encoder *e, casie_error *err) {
    const casie_encoder_config *c = &e->cfg;
    const int H = c->hidden, I = c->intermediate, dry = !e->layers;
    int rc;
    const int mpnet = c->arch == CASIE_ENCODER_MPNET;
#define DST(p) (dry ? NULL : (p)) /* p is not even computed in the first pass */
    if ((rc = put_matrix(st, "embeddings.word_embeddings.weight", c->n_vocab, H, DST(&e->word), 0, err)) ||
        (rc = put_floats(st, "embeddings.position_embeddings.weight", c->max_positions, H, DST(e->pos), err)) ||
        (!mpnet &&
         (rc = put_floats(st, "embeddings.token_type_embeddings.weight", c->type_vocab, H, DST(e->type), err))) ||
        (rc = put_floats(st, "embeddings.LayerNorm.weight", H, 0, DST(e->emb_ln_g), err)) ||
        (rc = put_floats(st, "embeddings.LayerNorm.bias", H, 0, DST(e->emb_ln_b), err)) ||
        (mpnet && (rc = put_floats(st, "encoder.relative_attention_bias.weight", c->rel_buckets, c->n_heads,
                                   DST(e->rel_bias), err))))
        return rc;
    /* the attention's tensors: BERT's names, then MPNet's */
    static const char *const QKV[2][3] = {{"self.query", "self.key", "self.value"}, {"attn.q", "attn.k", "attn.v"}};
    static const char *const ATT_OUT[2] = {"output.dense", "attn.o"}, *const ATT_LN[2] = {"output.LayerNorm",
                                                                                          "LayerNorm"};
    for (int l = 0; l < c->n_layers; l++) {
        casie__enc_layer *L = DST(&e->layers[l]);
        char nm[160];
#define NAME(fmt) (snprintf(nm, sizeof nm, "encoder.layer.%d." fmt, l), nm)
#define ATT(part, what) (snprintf(nm, sizeof nm, "encoder.layer.%d.attention.%s.%s", l, part, what), nm)
        for (int k = 0; k < 3; k++) {
            if ((rc = put_matrix(st, ATT(QKV[mpnet][k], "weight"), H, H, DST(&L->qkv), k * H, err)) ||
                (rc = put_floats(st, ATT(QKV[mpnet][k], "bias"), H, 0, DST(L->b_qkv + k * H), err)))
                return rc;
        }
        if ((rc = put_matrix(st, ATT(ATT_OUT[mpnet], "weight"), H, H, DST(&L->out), 0, err)) ||
            (rc = put_floats(st, ATT(ATT_OUT[mpnet], "bias"), H, 0, DST(L->b_out), err)) ||
            (rc = put_floats(st, ATT(ATT_LN[mpnet], "weight"), H, 0, DST(L->ln1_g), err)) ||
            (rc = put_floats(st, ATT(ATT_LN[mpnet], "bias"), H, 0, DST(L->ln1_b), err)) ||
            (rc = put_matrix(st, NAME("intermediate.dense.weight"), I, H, DST(&L->ff1), 0, err)) ||
            (rc = put_floats(st, NAME("intermediate.dense.bias"), I, 0, DST(L->b_ff1), err)) ||
            (rc = put_matrix(st, NAME("output.dense.weight"), H, I, DST(&L->ff2), 0, err)) ||
            (rc = put_floats(st, NAME("output.dense.bias"), H, 0, DST(L->b_ff2), err)) ||
            (rc = put_floats(st, NAME("output.LayerNorm.weight"), H, 0, DST(L->ln2_g), err)) ||
            (rc = put_floats(st, NAME("output.LayerNorm.bias"), H, 0, DST(L->ln2_b), err)))
            return rc;
#undef NAME
#undef ATT
    }
#undef DST
    return CASIE_OK;
}

/* The four files' names under dir, for messages and for reading. */
typedef struct ckpt_names {
    char cfg[4096], voc[4096], st[4096], tok[4096];
} ckpt_names;

static int ckpt_names_of(const char *dir, ckpt_names *f, casie_error *err) {
    if (snprintf(f->tok, sizeof f->tok, "%s/tokenizer_config.json", dir) >= (int)sizeof f->tok)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "%s: path too long", dir);
    snprintf(f->cfg, sizeof f->cfg, "%s/config.json", dir);
    snprintf(f->voc, sizeof f->voc, "%s/vocab.txt", dir);
    snprintf(f->st, sizeof f->st, "%s/model.safetensors", dir);
    return CASIE_OK;
}

int casie__encoder_import_buffers(const char *dir, const char *config, size_t config_len, const char *tokenizer,
                                  size_t tokenizer_len, const char *vocab, size_t vocab_len, const void *weights,
                                  size_t weights_len, const char *out_path, casie_error *err) {
    if (!dir || !out_path || !config || !vocab || (!weights && weights_len))
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_encoder_import: no directory, file or output");
    ckpt_names f;
    int rc = ckpt_names_of(dir, &f, err);
    if (rc) return rc;

    casie_encoder e;
    memset(&e, 0, sizeof e);
    char *name = NULL;
    unsigned char *vocb = NULL, *wgts = NULL;
    size_t vocb_len = 0;
    safetensors st = {0};
    specials sp;
    int has_upper = 0, lower;
    /* the order matters: nothing proportional to the configuration's claim
     * is allocated before the safetensors header has shown every tensor */
    if ((rc = read_config_json(f.cfg, config, config_len, &e.cfg, &name, err)) ||
        (rc = read_tokenizer_config(f.tok, tokenizer, tokenizer_len, e.cfg.arch, &sp, &lower, err)) ||
        (rc = read_vocab(f.voc, vocab, vocab_len, &sp, &e.cfg, &vocb, &vocb_len, &has_upper, err)))
        goto done;
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
        rc = casie__error(err, name ? CASIE_ERR_LIMIT : CASIE_ERR_NOMEM, -1, "%s: the name is %s", f.cfg,
                          name ? "over 1023 bytes" : "out of memory");
        goto done;
    }
    if ((rc = st_parse(&st, f.st, weights, weights_len, err))) goto done;
    st.prefix = e.cfg.arch == CASIE_ENCODER_MPNET ? "mpnet." : "bert.";
    if ((rc = fill_weights(&st, &e, err))) goto done; /* e.layers NULL: the shapes only */
    uint64_t size = casie__encoder_bind(&e, NULL);
    if (size > SIZE_MAX || !(wgts = aligned_alloc(64, (size_t)((size + 63) & ~(uint64_t)63))) ||
        !(e.layers = calloc((size_t)e.cfg.n_layers, sizeof *e.layers))) {
        rc = casie__error(err, CASIE_ERR_NOMEM, -1, "%s: out of memory for %llu bytes of weights", f.st,
                          (unsigned long long)size);
        goto done;
    }
    memset(wgts, 0, (size_t)size);
    casie__encoder_bind(&e, wgts);
    if ((rc = fill_weights(&st, &e, err))) goto done;

    uint64_t hash = casie__hash_bytes(wgts, (size_t)size, casie__hash_bytes(vocb, vocb_len, 0));
    unsigned char cfg[CASIE__ECFG_SIZE] = {0}; /* encoder.h's layout */
    const casie_encoder_config *c = &e.cfg;
    /* a BERT file as before: version 1, its bytes from ARCH on zero */
    casie__put_u32le(cfg + CASIE__ECFG_VERSION,
                     c->arch == CASIE_ENCODER_BERT ? CASIE__ENC_VERSION_BERT : CASIE__ENC_VERSION);
    casie__put_u32le(cfg + CASIE__ECFG_N_LAYERS, (uint32_t)c->n_layers);
    casie__put_u32le(cfg + CASIE__ECFG_HIDDEN, (uint32_t)c->hidden);
    casie__put_u32le(cfg + CASIE__ECFG_N_HEADS, (uint32_t)c->n_heads);
    casie__put_u32le(cfg + CASIE__ECFG_INTERMEDIATE, (uint32_t)c->intermediate);
    casie__put_u32le(cfg + CASIE__ECFG_MAX_POSITIONS, (uint32_t)c->max_positions);
    casie__put_u32le(cfg + CASIE__ECFG_TYPE_VOCAB, (uint32_t)c->type_vocab);
    casie__put_u32le(cfg + CASIE__ECFG_N_VOCAB, (uint32_t)c->n_vocab);
    uint32_t eps;
    memcpy(&eps, &c->layer_norm_eps, 4);
    casie__put_u32le(cfg + CASIE__ECFG_LAYER_NORM_EPS, eps);
    casie__put_u32le(cfg + CASIE__ECFG_FLAGS, c->lowercase ? 1u : 0u);
    casie__put_u32le(cfg + CASIE__ECFG_CLS_ID, (uint32_t)c->cls_id);
    casie__put_u32le(cfg + CASIE__ECFG_SEP_ID, (uint32_t)c->sep_id);
    casie__put_u32le(cfg + CASIE__ECFG_PAD_ID, (uint32_t)c->pad_id);
    casie__put_u32le(cfg + CASIE__ECFG_UNK_ID, (uint32_t)c->unk_id);
    casie__put_u64le(cfg + CASIE__ECFG_HASH, hash);
    casie__put_u32le(cfg + CASIE__ECFG_WEIGHT_TYPE, CASIE__ENC_WEIGHT_INT8_ROWS);
    casie__put_u32le(cfg + CASIE__ECFG_ACTIVATION, CASIE__ENC_ACT_GELU_ERF);
    if (c->arch != CASIE_ENCODER_BERT) {
        casie__put_u32le(cfg + CASIE__ECFG_ARCH, (uint32_t)c->arch);
        casie__put_u32le(cfg + CASIE__ECFG_REL_BUCKETS, (uint32_t)c->rel_buckets);
        casie__put_u32le(cfg + CASIE__ECFG_POS_OFFSET, (uint32_t)c->pos_offset);
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

int casie_encoder_import(const char *dir, const char *out_path, casie_error *err) {
    if (!dir || !out_path)
        return casie__error(err, CASIE_ERR_INVALID_ARG, -1, "casie_encoder_import: no directory or output");
    ckpt_names f;
    char *config = NULL, *tokenizer = NULL, *vocab = NULL;
    size_t config_len = 0, tokenizer_len = 0, vocab_len = 0, st_size = 0;
    void *map = MAP_FAILED;
    int fd = -1, rc;
    if ((rc = ckpt_names_of(dir, &f, err)) || (rc = read_input(f.cfg, MAX_JSON_FILE, &config, &config_len, err)))
        goto done;
    /* tokenizer_config.json is optional: absent is fine, anything else there must read */
    if (access(f.tok, F_OK) == 0 || errno != ENOENT)
        if ((rc = read_input(f.tok, MAX_JSON_FILE, &tokenizer, &tokenizer_len, err))) goto done;
    if ((rc = read_input(f.voc, MAX_VOCAB_FILE, &vocab, &vocab_len, err)) ||
        (rc = open_input(f.st, SIZE_MAX, &fd, &st_size, err)))
        goto done;
    if (st_size && (map = mmap(NULL, st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        rc = casie__error(err, CASIE_ERR_IO, -1, "%s: cannot map: %s", f.st, strerror(errno));
        goto done;
    }
    rc = casie__encoder_import_buffers(dir, config, config_len, tokenizer, tokenizer_len, vocab, vocab_len,
                                       map == MAP_FAILED ? "" : map, st_size, out_path, err);
done:
    if (map != MAP_FAILED) munmap(map, st_size);
    if (fd >= 0) close(fd);
    free(config);
    free(tokenizer);
    free(vocab);
    return rc;
}
