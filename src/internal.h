/*
 * internal.h - what the library's files share and nobody outside sees.
 *
 * Not part of the API: names here start with casie__ and may change freely.
 */
#ifndef CASIE_INTERNAL_H
#define CASIE_INTERNAL_H

#include "casie.h"

/* The hot loops (nn.c, the perceptron scorer in learn.c) are built twice,
 * for AVX2 and for the baseline, and the loader picks one (GCC's
 * target_clones).  Neither uses fused multiply-add (ISO C mode leaves
 * contraction off), so both give the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CASIE_HOT __attribute__((target_clones("avx2", "default")))
#else
#define CASIE_HOT
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define CASIE_UNUSED(x) ((void)(x))

/* Upper bounds on untrusted input. */
#define CASIE_MAX_DOC_BYTES ((size_t)256 << 20) /* one document's text */
#define CASIE_MAX_JSON_DEPTH 64                 /* nesting of a JSON record */

/* ---- errors (common.c) ---- */
/* Fills err (if not NULL) with code, position and a printf-style message;
 * returns code so that `return casie__error(err, ...)` reads naturally. */
int casie__error(casie_error *err, int code, long position, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- memory and strings (common.c) ---- */
char *casie__strdup(const char *s);            /* NULL in, NULL out */
char *casie__strndup(const char *s, size_t n); /* always NUL-terminates */
/* A document id from a path: its base name without extension
 * ("path/to/10012.txt" -> "10012"); malloc'd, NULL when out of memory. */
char *casie__path_id(const char *path);
/* Whether path names a regular file (following links). */
int casie__is_file(const char *path);
/* Reads a whole file; NUL-terminated; *len without the NUL. */
char *casie__read_file(const char *path, size_t *len, casie_error *err);

/* Growable array helper: ensures *cap >= need, elements of size `size`. */
int casie__grow(void **p, size_t *cap, size_t need, size_t size);

/* ---- argument categories (category_names.c, category.c) ---- */
struct json_t;
/* The index of a's category in its kind's table, or -1 (none or unknown). */
int casie__arg_category(const casie_arg *a);
/* The role object's key of a kind's category: "subtype", "CAPEC-Meta", or NULL. */
const char *casie__category_key(int kind);
/* Sets a->category (and category_score) from the role object of an argument
 * of role a->role when it names a known category, and deletes the fields it
 * took (the category and its "confidence") from the object. */
void casie__role_category_read(struct json_t *role, casie_arg *a);
/* Scoring them (eval_category.c): counts per category of matched
 * arguments by gold category (gold), correct ones (right), and by
 * predicted category (pred), for [0] Purpose and [1] CAPEC. */
typedef struct casie__cat_counts {
    long gold[CASIE_N_CAPEC], right[CASIE_N_CAPEC], pred[CASIE_N_CAPEC];
} casie__cat_counts;
typedef struct casie__cat_tally {
    casie__cat_counts k[2];
} casie__cat_tally;
int casie__eval_category_add(casie__cat_tally *t, const casie_doc *gold, const casie_doc *pred);
casie_category_counts casie__eval_category_counts(const casie__cat_tally *t, int kind, int category);
/* The classifier (category.c): the CATG section of a model file. */
typedef struct casie__category casie__category;
struct casie__tokfeat;
void casie__category_free(casie__category *c);
/* Its section's bytes (valid while c lives). */
void casie__category_bytes(const casie__category *c, const void **data, size_t *size);
/* Reads a CATG section s of m's file into m->cat (a file without one leaves
 * m->cat NULL: the model predicts no categories); m's EMBD is read first. */
struct casie__section;
int casie__category_load(casie_model *m, const struct casie__section *s, const char *path, casie_error *err);
/* Sets the category of every argument of doc whose role has a kind (NULL
 * for the others); does nothing when m has no classifier. */
int casie__category_predict(const casie_model *m, casie_doc *doc, const struct casie__tokfeat *tf);
/* Trains a classifier over m's token features on docs' gold categories. */
int casie__category_train(const casie_model *m, casie_doc *const *docs, int n_docs, const casie_train_params *p,
                          casie__category **out, casie_error *err);
/* casie__category_train into m->cat (replacing one), then logs its accuracy
 * on the gold arguments of dev (may be NULL/0). */
int casie__category_attach(casie_model *m, casie_doc *const *train, int n_train, casie_doc *const *dev, int n_dev,
                           const casie_train_params *p, casie_error *err);

/* ---- UTF-8 (utf8.c) ---- */
/* Decodes `len` bytes.  Each byte that does not begin a valid, shortest-form
 * UTF-8 sequence (or a surrogate / > U+10FFFF) becomes U+FFFD and counts as one
 * code point; NUL bytes are kept as U+0000.  Outputs the repaired text
 * (malloc'd, NUL-terminated), its byte length, and cp_byte (n_cp+1 entries). */
int casie__utf8_normalize(const char *in, size_t len, char **out, size_t *out_len, int32_t **cp_byte, int32_t *n_cp);
/* Decodes one code point of valid UTF-8 at s (as produced above); sets *adv. */
uint32_t casie__utf8_get(const char *s, int *adv);
/* Encodes cp into buf (>= 4 bytes); returns the byte count. */
int casie__utf8_put(uint32_t cp, char *buf);
/* Length (1-4) of the valid, shortest-form sequence at s (n >= 1 bytes
 * there), or 0 when s[0] does not begin one: the one definition of valid
 * UTF-8 that repairing, checking and JSON writing share. */
int casie__utf8_valid_len(const char *s, size_t n);

/* ---- JSON writing (json_write.c) ---- */
/* A JSON text growing in a malloc'd buffer p (n bytes, NUL-terminated).  An
 * allocation failure sets nomem and makes every later call a no-op: check it
 * once at the end.  Start zeroed; pretty: newlines and two-space indents. */
typedef struct casie__jw {
    char *p;
    size_t n, cap;
    int nomem;      /* an allocation failed: the buffer is unusable */
    int pretty;     /* newlines and two-space indentation */
    int depth;      /* current nesting, for indentation */
    int need_comma; /* an element was written at this level */
} casie__jw;
struct json_t;
void casie__jw_put(casie__jw *b, const char *s, size_t n); /* raw bytes */
void casie__jw_puts(casie__jw *b, const char *s);
void casie__jw_begin(casie__jw *b, char c);      /* '{' or '[' */
void casie__jw_end(casie__jw *b, char c);        /* '}' or ']' */
void casie__jw_sep(casie__jw *b);                /* before an array element */
void casie__jw_key(casie__jw *b, const char *k); /* before an object member's value */
/* s (n bytes) as a JSON string; invalid UTF-8 written as U+FFFD. */
void casie__jw_str(casie__jw *b, const char *s, size_t n);
void casie__jw_kv(casie__jw *b, const char *k, const char *v); /* "k": "v" */
void casie__jw_int(casie__jw *b, long long v);
void casie__jw_real(casie__jw *b, double v);          /* shortest form; NaN, infinities as null */
void casie__jw_float(casie__jw *b, float f);          /* shortest form that reads back as f */
void casie__jw_value(casie__jw *b, struct json_t *v); /* a jansson value, members in its order */
/* The members of object obj but those named in skip (NULL-terminated, may
 * be NULL), into the open object; returns how many were written. */
int casie__jw_members(casie__jw *b, struct json_t *obj, const char *const *skip);
/* The text written, which the caller frees, and its length in *len (if
 * len is not NULL); NULL, the buffer freed, when an allocation failed. */
char *casie__jw_finish(casie__jw *b, size_t *len);

/* ---- documents (doc.c) ---- */
/* Code point i of doc (0 <= i < n_cp). */
uint32_t casie__doc_cp(const casie_doc *doc, int32_t i);
/* malloc'd copy of code points [start, end) of doc's text, or NULL. */
char *casie__doc_substr(const casie_doc *doc, int32_t start, int32_t end);
/* The title and date of a plain-text article from its first lines, where
 * it has them (doc_meta.c).  CASIE_OK or CASIE_ERR_NOMEM. */
int casie__text_meta(casie_doc *doc);
/* A fresh empty document owning a copy of text (already normalized). */
casie_doc *casie__doc_new(void);
int casie__doc_set_text(casie_doc *doc, const char *bytes, size_t len, casie_error *err);

/* ---- reading and writing documents as JSON (corpus_json.c, corpus_json_write.c) ---- */
/* The members of an argument and of its role object that the reader takes
 * apart; any others are kept as JSON text (casie_arg.extra, role_extra). */
extern const char *const casie__arg_known[];
extern const char *const casie__role_known[];

/* ---- span repair (span_repair.c) ---- */
/* Whether code points [s, e) of d select exactly text (tlen bytes). */
int casie__span_matches(const casie_doc *d, long s, long e, const char *text, size_t tlen);
/* *at: the start (code points) of the occurrence of t (tlen bytes, ncp code
 * points) nearest to s, earlier on ties; -1 when none was found.  Looks near
 * s first, then in the whole text while *full_searched (bytes read by
 * whole-text searches of this document, start at 0) allows.  CASIE_OK, or
 * CASIE_ERR_NOMEM (no message). */
int casie__span_nearest(const casie_doc *d, long s, const char *t, size_t tlen, long ncp, size_t *full_searched,
                        long *at);

/* Frees what an argument owns (its strings), not the struct itself. */
void casie__arg_free(casie_arg *a);
/* Frees an event's arguments (leaves it with none). */
void casie__event_clear_args(casie_event *e);
/* Frees everything an event owns and zeroes it (not the struct itself). */
void casie__event_free(casie_event *e);

/* ---- tokenizer and sentence splitter (tokenize.c) ---- */
/* Fills doc->sents and doc->tokens from doc->text; replaces earlier ones. */
int casie__tokenize(casie_doc *doc, casie_error *err);

/* ---- model file container (model_io.c; format in docs/FORMAT.md) ---- */
/* A model file is a header, a section table and 32-byte aligned sections,
 * each with a 4-character tag and a checksum. */
typedef struct casie__section {
    char tag[5];      /* 4 characters + NUL, e.g. "META", "TRIG" */
    const void *data; /* borrowed: points into the caller's buffer or the mapping */
    uint64_t size;    /* bytes */
} casie__section;

/* Writes sections in order, atomically (temp file + rename). */
int casie__model_file_write(const char *path, const casie__section *secs, int n_secs, casie_error *err);

typedef struct casie__model_file {
    void *map; /* the mapped (or owned) file bytes */
    size_t size;
    int owned;            /* 1: map was malloc'd (parse from memory), 0: mmap'd */
    casie__section *secs; /* (n_secs,) data points into map */
    int n_secs;
} casie__model_file;

/* Maps and validates a file: magic, version, table bounds, alignment, every
 * checksum.  On failure mf is left empty and nothing needs closing. */
int casie__model_file_open(const char *path, casie__model_file *mf, casie_error *err);
/* The same over a memory buffer (copied), for tests and fuzzing. */
int casie__model_file_parse(const void *buf, size_t size, casie__model_file *mf, casie_error *err);
/* The section with this tag, or NULL. */
const casie__section *casie__model_file_find(const casie__model_file *mf, const char *tag);
void casie__model_file_close(casie__model_file *mf);
/* The container holds two kinds of file, each with its own magic (CASIEMDL,
 * CASIEENC), so that a model and an encoder file are never confused; the
 * casie__model_file_* calls above are these with CASIE__FILE_MODEL. */
enum { CASIE__FILE_MODEL = 0, CASIE__FILE_ENCODER = 1 };
int casie__container_write(const char *path, int kind, const casie__section *secs, int n_secs, casie_error *err);
int casie__container_open(const char *path, int kind, casie__model_file *mf, casie_error *err);
int casie__container_parse(const void *buf, size_t size, int kind, casie__model_file *mf, casie_error *err);

/* ---- little-endian fields: every file format goes through these, so the
 * files read and write the same bytes on any host ---- */
static inline uint16_t casie__get_u16le(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t casie__get_u32le(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t casie__get_u64le(const unsigned char *p) {
    return (uint64_t)casie__get_u32le(p) | (uint64_t)casie__get_u32le(p + 4) << 32;
}
static inline void casie__put_u32le(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void casie__put_u64le(unsigned char *p, uint64_t v) {
    casie__put_u32le(p, (uint32_t)v);
    casie__put_u32le(p + 4, (uint32_t)(v >> 32));
}

/* ---- hashing (features.c) ---- */
static inline uint64_t casie__mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}
/* Combines a feature hash with another value (template id, label, ...). */
static inline uint64_t casie__hc(uint64_t h, uint64_t v) {
    return casie__mix64(h ^ (v * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull));
}
uint64_t casie__hash_bytes(const void *p, size_t n, uint64_t seed);

/* A small deterministic generator (xorshift64*): shuffling, initialisation, dropout. */
static inline uint64_t casie__rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* ---- linear learners over hashed features (learn.c) ---- */
/* Weights of a linear model over hashed features: a feature hash h selects
 * the row (h & (n_rows-1)); each row holds one weight per label, padded to
 * `stride` so that a row is one or two cache lines.  Sequence models add a
 * label transition matrix and start scores. */
typedef struct casie__linear {
    uint32_t n_rows;    /* power of two */
    uint32_t n_labels;  /* used labels */
    uint32_t stride;    /* floats per row (n_labels rounded up to 8) */
    float *w;           /* (n_rows, stride), or NULL when wh is used */
    const uint16_t *wh; /* (n_rows, stride) bfloat16 weights of a loaded model (mapped) */
    float *trans;       /* (n_labels, n_labels) from -> to, sequence models only */
    float *start;       /* (n_labels,) */
    /* training only (NULL after casie__linear_finish): */
    float *uw, *utrans, *ustart; /* sums of c * update, for averaging */
    long c;                      /* update clock */
    int owned;                   /* 1: arrays malloc'd; 0: borrowed from a mapping */
    uint32_t fv;                 /* the feature version its weights were trained with */
} casie__linear;
/* The version of the feature templates (features.c) a new model is trained
 * with; models of versions down to CASIE_FEATURE_VERSION_MIN still load and
 * are scored with the templates they were trained with.  4: the realis
 * templates of the trigger's last word and of the previous word with the
 * subtype have ids of their own (in 3 the first shared the sentence's first
 * word's, so the two were one feature).  5: a coreference model over an
 * encoder reads how alike its vectors find two events (coref_feats.c).
 * 6: the trigger templates know whether the token's sentence holds a CVE
 * id. */
#define CASIE_FEATURE_VERSION 6
#define CASIE_FEATURE_VERSION_MIN 3

int casie__linear_init(casie__linear *m, uint32_t n_rows, uint32_t n_labels, int sequence, int training);
void casie__linear_free(casie__linear *m);
/* Replaces w by the averaged weights and drops training state. */
void casie__linear_finish(casie__linear *m);
/* Rounds trained weights to what a saved model holds (bfloat16). */
void casie__linear_round_bf16(casie__linear *m);
uint16_t casie__f32_to_bf16(float f);
/* scores[l] += sum over feats of w[row(f), l] for l < n_labels. */
void casie__linear_score(const casie__linear *m, const uint64_t *feats, int n_feats, float *scores);
/* w[row(f), label] += delta for every f; keeps averaging sums. */
void casie__linear_update(casie__linear *m, const uint64_t *feats, int n_feats, int label, float delta);
/* Best label sequence under emission scores E (n, L) and m's transitions,
 * restricted by allowed (L*L from->to, may be NULL) and start_ok (L, may be
 * NULL).  Writes labels into out (n,).  CASIE_ERR_NOMEM when its scratch
 * cannot be allocated (out untouched). */
int casie__viterbi(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                   int *out);
/* log sum exp of x (n,), -1e30 when every x is. */
float casie__logsumexp(const float *x, int n);
/* Marginals p(y_i = l) (n, L) under the same model, softmax scale `temp`;
 * CASIE_ERR_NOMEM when its scratch cannot be allocated. */
int casie__marginals(const casie__linear *m, const float *E, int n, const uint8_t *allowed, const uint8_t *start_ok,
                     float temp, float *P);

/* ---- neural taggers (nn.c) ---- */
/* A bidirectional LSTM over token vectors (D each, H states per direction)
 * and a head: a tanh hidden layer (K) over a U-vector built by the caller
 * from the states, then L label scores.  Parameters are one float block
 * (layout in nn.c), owned (training) or borrowed from a mapped model. */
typedef struct casie__nnet {
    int32_t D, H, U, K, L;
    int32_t L2; /* labels of a second head over the same kind of input (0: none) */
    size_t n_params;
    size_t o_wf, o_bf, o_wb, o_bb, o_w1[2], o_b1[2], o_w2[2], o_b2[2]; /* offsets into p; [1]: second head */
    size_t o_trans, o_start; /* CRF transitions (L, L) and start scores (L) over head 0's labels */
    const float *p;          /* (n_params,) */
    float *own;              /* p when owned, else NULL */
} casie__nnet;

/* Sets dims and layout without parameters (loading); CASIE_ERR_INVALID_ARG
 * when a dimension is out of range. */
int casie__nnet_dims(casie__nnet *n, int D, int H, int U, int K, int L, int L2);
/* Dims plus freshly initialised owned parameters (Glorot, deterministic). */
int casie__nnet_init(casie__nnet *n, int D, int H, int U, int K, int L, int L2, uint64_t seed);
void casie__nnet_free(casie__nnet *n);
/* Floats of scratch that encode and head need. */
size_t casie__nnet_work(const casie__nnet *n);
/* Inference.  States Hs (len, 2H), [forward; backward], in two steps so
 * that input projections can be shared: the caller fills Zx (len, 2, 4H)
 * with bias + W x_t for each token (project_q, cols_transpose, add_tcol
 * below), then encode_proj runs the recurrences from Zx with R, the
 * recurrent weights quantized by rec_quantize (rec_bytes bytes, int16 with a
 * scale per row, nn.c; made when a model is loaded, or per document for a
 * model in training, so that it never outlives a change of the parameters). */
/* C ((D - c0), 2, 4H) = the input columns c0.. of both directions'
 * weights, transposed; add_tcol adds v * one of them (n = 8H floats) to a
 * token's z (2, 4H). */
void casie__nnet_cols_transpose(const casie__nnet *n, int c0, float *C);
void casie__nnet_add_tcol(const float *col, float v, int n, float *z);
/* z (n,) = a + b */
void casie__nnet_sum2(const float *a, const float *b, int n, float *z);
/* z (2, 4H) = W[:, 0:nc] x for one token, both directions, no bias, for
 * x = vscale * v (an int8 word vector, casie__emb), with the columns
 * quantized by proj_quantize (proj_bytes bytes, int16 with a scale per row,
 * nn.c); work: casie__nnet_work floats. */
size_t casie__nnet_proj_bytes(const casie__nnet *n, int nc);
void casie__nnet_proj_quantize(const casie__nnet *n, int nc, void *P);
void casie__nnet_project_q(const casie__nnet *n, const void *P, int nc, const int8_t *v, float vscale, float *z,
                           float *work);
size_t casie__nnet_rec_bytes(const casie__nnet *n);
void casie__nnet_rec_quantize(const casie__nnet *n, void *R);
void casie__nnet_encode_proj(const casie__nnet *n, const void *R, const float *Zx, int len, float *Hs, int16_t *Hq,
                             float *work);
/* The integer sums use AVX2 when the CPU has it (on 1, the default) or plain
 * C (on 0); both give the same bits (tests compare them). */
void casie__nnet_use_avx2(int on);
/* out (L or L2,) += head h (0 or 1) of u (U,). */
void casie__nnet_head(const casie__nnet *n, int h, const float *u, float *out, float *work);
/* The same head in two parts, for inputs u = [varying (c0,); fixed (U - c0,)]:
 * base (K,) = b1 + W1[:, c0:] fixed, once; then for each varying part,
 * out += head from base + W1[:, :c0] u. */
void casie__nnet_head_base(const casie__nnet *n, int h, const float *tail, int c0, float *base);
/* head_from_q: out += head from base + W1[:, :c0] u, with the varying part
 * as int16 states uq (c0,) (encode_proj's Hq) and
 * head h's first c0 columns quantized by head_quantize (head_bytes bytes;
 * c0 even); with base = b1 and c0 = U it is the whole head 0 of a tagger. */
size_t casie__nnet_head_bytes(const casie__nnet *n, int c0);
void casie__nnet_head_quantize(const casie__nnet *n, int h, int c0, void *Q);
void casie__nnet_head_from_q(const casie__nnet *n, int h, const void *Q, const float *base, const int16_t *uq, int c0,
                             float *out, float *work);

/* Training state of one network: gradients, Adam moments and the caches of
 * the span being trained.  Use: reserve; fill X; train_encode; for each
 * head input k fill U[k] from Hs and train_head_fwd; after the loss,
 * train_head_bwd (adding du into dHs) for each k; train_encode_bwd; step. */
typedef struct casie__nn_train {
    casie__nnet *n;
    float lr, dropout;
    uint64_t rng;
    long step;
    float *g, *m, *v; /* (n_params,) */
    float *avg;       /* (n_params,) running average of the parameters, once averaging begins */
    long n_avg;       /* steps averaged so far (0: not averaging yet) */
    int averaging;    /* set by the caller: average every later step */
    float *X;         /* (len, D) inputs (dropout applied in place) */
    float *act;       /* (len, 2, 4H) gate activations */
    float *cell;      /* (len, 2H) */
    float *Hs, *dHs;  /* (len, 2H) states and their gradients */
    float *U, *A;     /* (n_heads, U) head inputs, (n_heads, K) hidden */
    size_t cap_x, cap_act, cap_cell, cap_hs, cap_dhs, cap_u, cap_a;
} casie__nn_train;

int casie__nn_train_init(casie__nn_train *t, casie__nnet *n, float lr, float dropout, uint64_t seed);
void casie__nn_train_free(casie__nn_train *t);
int casie__nn_train_reserve(casie__nn_train *t, int len, int n_heads);
void casie__nn_train_encode(casie__nn_train *t, int len);
void casie__nn_train_head_fwd(casie__nn_train *t, int k, int h, float *out);
void casie__nn_train_head_bwd(casie__nn_train *t, int k, int h, const float *dout, float *du);
void casie__nn_train_encode_bwd(casie__nn_train *t, int len);
void casie__nn_train_step(casie__nn_train *t);
/* Replaces the network's parameters by their running average (if any). */
void casie__nn_train_finish(casie__nn_train *t);

/* Negative log-likelihood of gold (n,) under a CRF with emissions E (n, L);
 * writes dE = marginals - gold and adds expected - gold counts into dtrans
 * (L*L) and dstart (L).  work: (2n + 1) * L floats. */
float casie__crf_loss(const float *E, int n, int L, const float *trans, const float *start, const uint8_t *allowed,
                      const uint8_t *start_ok, const int *gold, float *dE, float *dtrans, float *dstart, float *work);
/* Word vectors: int8 rows with a scale each; row r of the table belongs to
 * the clustered word whose cluster entry has pad == r + 1. */
typedef struct casie__emb {
    uint32_t n_words, dim;
    const float *scale; /* (n_words,) */
    const int8_t *v;    /* (n_words, dim) */
} casie__emb;

/* ---- features (features.c) ---- */
/* Word clusters (from GloVe k-means), an open-addressing table keyed by the
 * hash of the lowercased word; key 0 marks an empty slot. */
typedef struct casie__cluster_entry {
    uint64_t key;
    uint16_t c[3]; /* cluster ids at three granularities (256, 1024, 4096 by default) */
    uint16_t pad;
} casie__cluster_entry;

typedef struct casie__clusters {
    uint32_t n_slots;                  /* power of two, 0 = no clusters */
    const casie__cluster_entry *slots; /* (n_slots,) */
} casie__clusters;

/* Per-token hashed base features, computed once per document. */
typedef struct casie__tokfeat {
    uint64_t w;     /* lowercased word ('’' read as '\'') */
    uint64_t s;     /* Snowball stem of w */
    uint64_t shape; /* compressed shape: Xx, X, x, d, X.X., ... */
    uint64_t pre3, suf3;
    uint64_t cl[3];  /* cluster ids as hashes, 0 when unknown */
    uint32_t flags;  /* CASIE_TOK_* */
    uint8_t cap;     /* 0 lower, 1 capitalized, 2 all caps, 3 other */
    uint32_t topics; /* document-level: bit k set when topic word k occurs in the document */
    uint32_t sflags; /* sentence-level: the CASIE_TOK_* flags of any of its sentence's tokens */
    uint16_t emb;    /* word vector row + 1, 0 when the word has none */
} casie__tokfeat;

/* Dense token vector: word vector (dim, zeros when unknown), then the
 * columns below, after the word vector: capitalisation (4, one-hot),
 * unknown word (1), the low 10 token flags; casie__tokvec_dim floats.
 * Extraction adds these columns' weights by name (extract.c token_proj). */
enum {
    CASIE_TV_CAP = 0,     /* + casie__tokfeat.cap (0..3) */
    CASIE_TV_UNKNOWN = 4, /* the word has no vector */
    CASIE_TV_FLAGS = 5,   /* + b: token flag bit b, b < CASIE_TV_N_FLAGS */
    CASIE_TV_N_FLAGS = 10,
    CASIE_TOKVEC_EXTRA = 15
};
int casie__tokvec_dim(const casie__emb *e);
void casie__tokvec(const casie__tokfeat *f, const casie__emb *e, float *x);
/* Where token i lies relative to trigger [tb, te), an argument network's
 * last inputs: side (3, one-hot), distance bucket (9, one-hot), trigger
 * subtype (5, one-hot), token of another trigger (1). */
enum {
    CASIE_ARGVEC_SIDES = 3,
    CASIE_ARGVEC_BUCKETS = 9,
    CASIE_AV_SIDE = 0,                                         /* + side */
    CASIE_AV_DIST = CASIE_AV_SIDE + CASIE_ARGVEC_SIDES,        /* + bucket */
    CASIE_AV_SUBTYPE = CASIE_AV_DIST + CASIE_ARGVEC_BUCKETS,   /* + subtype */
    CASIE_AV_OTHER_TRIG = CASIE_AV_SUBTYPE + CASIE_N_SUBTYPES, /* another trigger's token */
    CASIE_ARGVEC_REL = CASIE_AV_OTHER_TRIG + 1
};
void casie__argvec_rel(int i, int tb, int te, int subtype, int other_trig, float *x);
/* Token i's side of the trigger (0 before, 1 after, 2 inside) and distance
 * bucket, the indices of its two ones in the first two groups. */
void casie__argvec_side(int i, int tb, int te, int *side, int *bucket);

/* Token features for every token of an analyzed doc (malloc'd, n_tokens). */
casie__tokfeat *casie__doc_tokfeats(const casie_doc *doc, const casie__clusters *cl);
uint64_t casie__word_hash(const char *s, size_t n); /* of the lowercased form */

#define CASIE_MAX_FEATS 160
/* Trigger tagger features of token i in tokens [b, e) of the doc. */
int casie__trig_feats(const casie__tokfeat *tf, int b, int e, int i, uint32_t fv, uint64_t *out);

/* Argument tagger: features of token i for one trigger. */
typedef struct casie__arg_ctx {
    const casie__tokfeat *tf;
    int b, e;   /* the sentence's tokens [b, e) */
    int tb, te; /* the trigger's tokens [tb, te) */
    int subtype;
    const uint8_t *is_trig; /* (n_tokens,) 1 where some trigger lies, may be NULL */
} casie__arg_ctx;
int casie__arg_feats(const casie__arg_ctx *c, int i, uint64_t *out);
/* Entity type of an argument span [ab, ae) with role and subtype. */
int casie__ent_feats(const casie__tokfeat *tf, int n_tokens, int ab, int ae, int role, int subtype, uint64_t *out);
/* Realis of a trigger [tb, te) in sentence [b, e). */
int casie__realis_feats(const casie__tokfeat *tf, int b, int e, int tb, int te, int subtype, uint32_t fv,
                        uint64_t *out);
/* The template ids of group 0 (triggers), 1 (arguments), 2 (entity types) or
 * 3 (realis): *ids and how many; 0 for another group. */
int casie__template_ids(int group, const int **ids);

/* ---- the model (model.c, train.c, extract.c) ---- */
#define CASIE_MAX_SLOTS 12 /* argument roles per subtype */
/* Arguments are looked for within this many tokens of their trigger (in its
 * sentence): 99% of gold arguments lie within 34 tokens, and the bound keeps
 * the cost linear on a document with no sentence ends. */
#define CASIE_ARG_WINDOW 48
/* Coreference compares an event with at most this many earlier events (no
 * annotated document has more than 31 events). */
#define CASIE_COREF_WINDOW 64
/* At most this many features describe a pair of events for coreference. */
#define CASIE_COREF_FEATS 64
/* The neural encoders read at most this many tokens at once: a longer
 * sentence is encoded in independent pieces, so memory stays bounded. */
#define CASIE_NN_CHUNK 256
#define CASIE_TRIG_LABELS (1 + 2 * CASIE_N_SUBTYPES) /* O, B-st, I-st */
#define CASIE_ARG_LABELS (1 + 2 * CASIE_MAX_SLOTS)   /* O, B-slot, I-slot */

/* A loaded model's cache of each network's input projection of a word
 * vector (both directions, no bias): a word's share of the projection
 * depends on its vector alone, so it is computed once per word for all
 * documents and threads.  Rows [0, rows) of the vectors, the most frequent
 * words; state: 0 empty, 1 being filled (others compute their own), 2
 * ready.  Disabled (z NULL) for models in training, whose weights change. */
typedef struct casie__pool casie__pool;

/* How a model reads its encoder (xvec.c; the XENC section of the model
 * file): which encoder, the windows it runs in, and the weights of its
 * layers in each token's vector. */
#define CASIE_XMIX_MAX 49 /* an encoder's layers + 1 (the embeddings) */
typedef struct casie__xspec {
    uint64_t enc_hash;         /* the encoder's casie_encoder_config.hash */
    int32_t enc_layers;        /* its layers */
    int32_t window, stride;    /* pieces per window ([CLS], [SEP] included), and between window starts */
    float mix[CASIE_XMIX_MAX]; /* weight of layer l's output (0: the embeddings), l <= enc_layers */
    char enc_file[48];         /* the encoder file's name, looked for beside the model (NUL-terminated) */
} casie__xspec;
/* The vectors of a fixed set of documents, made once (training), found by
 * their text (extraction during training runs on copies of the documents). */
typedef struct casie__xcache {
    int n;
    uint64_t *key;     /* (n,) casie__xcache_key of each document */
    int32_t *n_tokens; /* (n,) */
    float **v;         /* (n,) each (n_tokens, xdim) */
} casie__xcache;
/* What extraction derives from a network's weights, made once for a loaded
 * model (casie__projcache) or per document for a model in training. */
typedef struct casie__derived {
    void *R;  /* the recurrent weights, quantized (casie__nnet_rec_quantize) */
    float *C; /* the input columns after the word vector's, transposed */
    void *P;  /* the word-vector columns, quantized (casie__nnet_proj_quantize) */
    void *Q;  /* head 0's first layer over a token's own states, quantized (casie__nnet_head_quantize) */
    /* an argument network's: the sums of the three relation columns that
     * are 1 for a token (side, distance bucket, subtype: rows in that
     * order, 8H floats each) */
    float *T;
} casie__derived;

typedef struct casie__projcache {
    int rows;
    float *z;                     /* (rows, 2 * 4H) */
    _Atomic unsigned char *state; /* (rows,) */
    casie__derived w;             /* R NULL: each document's scratch makes its own */
} casie__projcache;
#define CASIE_PROJCACHE_ROWS 16384

/* The model's five linear models and four networks, each in one order
 * everywhere: m->lin[] and m->nets[] (the same as the named fields), the
 * projection caches m->pc[], an extraction's derived weights. */
enum { CASIE__LIN_TRIG, CASIE__LIN_ARG, CASIE__LIN_ENT, CASIE__LIN_REALIS, CASIE__LIN_COREF, CASIE__N_LIN };
enum { CASIE__NET_TRIG, CASIE__NET_TRIG2, CASIE__NET_ARG, CASIE__NET_ARG2, CASIE__N_NETS };
#define CASIE__NET_IS_ARG(k) ((k) >= CASIE__NET_ARG)

struct casie_model {
    union {
        casie__linear lin[CASIE__N_LIN];
        struct {
            casie__linear trig;   /* (rows, 11) BIO over subtypes, sequence */
            casie__linear arg;    /* (rows, 25) BIO over role slots of the trigger's subtype, sequence */
            casie__linear ent;    /* (rows, 21) entity type of an argument */
            casie__linear realis; /* (rows, 3) */
            casie__linear coref;  /* (rows, 2) is a pair of events coreferent */
        };
    };
    int32_t n_slots[CASIE_N_SUBTYPES];
    int32_t slot_role[CASIE_N_SUBTYPES][CASIE_MAX_SLOTS]; /* role of each slot */
    float trig_bias, arg_bias;                            /* added to non-O labels when decoding (tuned on dev) */
    float trig_temp, arg_temp;                            /* softmax scale of the confidence marginals (tuned on dev) */
    float coref_bias;                                     /* added to every link score when clustering (tuned on dev) */
    float coref_generic; /* added as well when either event is Generic (tuned on dev) */
    /* The taggers and realis add the network's scores to mix * the sparse
     * model's (emissions and transitions alike); the mixes are tuned on dev. */
    float trig_mix, arg_mix, realis_mix;
    union {
        casie__nnet nets[CASIE__N_NETS];
        struct {
            casie__nnet trig_nn;  /* token vectors -> trigger label scores (U = 2H) */
            casie__nnet trig_nn2; /* optional (p NULL: none): a second of trig_nn's shape, another seed, scores added */
            casie__nnet arg_nn;   /* token vectors + relation to the trigger -> slot label scores (U = 4H) */
            casie__nnet arg_nn2;  /* optional (p NULL: none): a second of arg_nn's shape, another seed, scores added */
        };
    };
    casie__emb emb; /* word vectors of the clustered words (n_words 0: none) */
    float *emb_scale_owned;
    int8_t *emb_v_owned;
    casie__clusters clusters;
    casie__cluster_entry *clusters_owned; /* when trained, not mapped */
    char *meta;                           /* JSON object text */
    casie__model_file file;               /* the mapping when loaded */
    casie__projcache pc[CASIE__N_NETS];   /* when loaded (model_cache.c) */
    casie__pool *pool;                    /* when loaded: extraction scratch kept between documents (model_cache.c) */
    /* Dense token inputs from a transformer encoder (xvec.c): xdim floats per
     * token, after casie__tokvec's columns and before an argument network's
     * relation inputs, in every network; 0 for a model without an encoder. */
    int32_t xdim;
    casie__xspec xs;
    casie_encoder *enc;          /* the encoder they come from (owned), when xdim > 0 */
    struct casie__wordpiece *wp; /* its vocabulary's tokenizer (owned) */
    const casie__xcache *xcache; /* training only: the vectors of the training and tuning documents */
    casie__category *cat;        /* argument categories (category.c), or NULL: none predicted */
};
_Static_assert(offsetof(casie_model, coref) == offsetof(casie_model, lin[CASIE__LIN_COREF]), "lin[] and names");
_Static_assert(offsetof(casie_model, arg_nn2) == offsetof(casie_model, nets[CASIE__NET_ARG2]), "nets[] and names");

/* ---- the model object (model.c; its caches in model_cache.c) ---- */
/* A model with empty linear models (training: with averaging state) and no
 * networks, its tuned values at their untuned defaults. */
int casie__model_alloc(casie_model **out, int training);
/* What extraction derives from network n's weights (T for an argument
 * network only): all made, or none and CASIE_ERR_NOMEM; freed with
 * casie__derived_free. */
int casie__derive_weights(const casie__nnet *n, const casie__emb *e, int arg, casie__derived *d);
void casie__derived_free(casie__derived *d);
/* The caches of a loaded model's networks (none without memory: extraction
 * then computes every projection). */
void casie__projcache_init(casie__projcache *pc, const casie__nnet *n, const casie__emb *e, int arg);
void casie__projcache_free(casie__projcache *pc);
/* A pool of up to CASIE__POOL_MAX buffers of one kind, shared by threads:
 * take one (NULL: none kept), give it back (0: kept; else the caller frees
 * it); casie__pool_free frees what is kept with `destroy`. */
#define CASIE__POOL_MAX 16
casie__pool *casie__pool_new(void (*destroy)(void *));
void *casie__pool_take(casie__pool *p);
int casie__pool_give(casie__pool *p, void *item);
void casie__pool_free(casie__pool *p);

/* ---- dense token inputs from an encoder (xvec.c) ---- */
/* The default reading of an encoder: windows of its full length, a stride of
 * three quarters of that, the mean of its last four layers (or all of them,
 * when it has fewer). */
void casie__xspec_default(casie__xspec *xs, const casie_encoder *enc, const char *enc_file);
/* Makes xs read the mean of the encoder's layers first..last (1-based; a 0
 * last is its last layer, a 0 first the fourth layer from last, or 1);
 * INVALID_ARG, xs unchanged, for layers the encoder does not have. */
int casie__xspec_layers(casie__xspec *xs, int first, int last, casie_error *err);
/* Vectors (doc->n_tokens, hidden) of an analyzed doc: each token's is the
 * mean over its word pieces of xs's mix of the encoder's layers; zeros for a
 * token with no piece. */
int casie__xvec_compute(const casie_encoder *enc, const struct casie__wordpiece *wp, const casie__xspec *xs,
                        const casie_doc *doc, float *out, casie_error *err);
/* m's vectors for doc: from m->xcache, else computed into a new array that
 * *owned also points to (the caller frees it).  *out NULL when m has none. */
int casie__doc_xvec(const casie_model *m, const casie_doc *doc, const float **out, float **owned, casie_error *err);
uint64_t casie__xcache_key(const casie_doc *doc);
/* Fills a cache with the vectors of docs (analyzed), on `threads` threads;
 * casie__xcache_free frees what it holds. */
int casie__xcache_fill(casie__xcache *c, const casie_model *m, casie_doc *const *docs, int n, int threads,
                       casie_error *err);
void casie__xcache_free(casie__xcache *c);
/* Loads the encoder that model file `model_path` names in xs (enc_path when
 * not NULL or empty, else xs->enc_file beside the model or in its encoders/
 * folder) and checks it is the one the model was trained with. */
int casie__xvec_attach(casie_model *m, const char *model_path, const char *enc_path, casie_error *err);
/* Sets m up to read encoder enc (taking it over) with spec xs. */
int casie__xvec_use(casie_model *m, casie_encoder *enc, const casie__xspec *xs, casie_error *err);

/* ---- training parameters (train_params.c) ---- */
/* Each parameter in its range (INVALID_ARG naming the first that is not). */
int casie__train_params_check(const casie_train_params *p, casie_error *err);

/* ---- spans and labels shared by training and extraction (labels.c) ---- */
/* Token index range of a code-point span: tokens overlapping [s, e). */
int casie__span_tokens(const casie_doc *doc, int32_t s, int32_t e, int *tb, int *te);
/* The tokens [*b, *e) searched for arguments of trigger tokens [tb, te)
 * (clamped to its sentence, CASIE_ARG_WINDOW and CASIE_NN_CHUNK). */
void casie__arg_window(const casie_doc *doc, int tb, int *te, int *b, int *e);
/* BIO masks: allowed (L*L, from->to) and start_ok (L). */
void casie__trig_masks(uint8_t *allowed, uint8_t *start_ok);
void casie__arg_masks(const casie_model *m, int subtype, uint8_t *allowed, uint8_t *start_ok);

/* ---- coreference pair features (coref_feats.c) ---- */
/* A document's encoder vectors as the coreference features read them: xv
 * (n_tokens, xdim), or NULL for none, and buf: scratch and each sentence's
 * mean vector, made once by casie__coref_vecs_init. */
typedef struct casie__coref_vecs {
    const float *xv;
    int xdim;
    float *buf;
} casie__coref_vecs;
int casie__coref_vecs_init(casie__coref_vecs *cv, const casie_doc *doc, const float *xv, int xdim);
void casie__coref_vecs_free(casie__coref_vecs *cv);
/* The features of the pair of events a, b (a first) into out
 * (CASIE_COREF_FEATS at most); returns how many.  cv: the document's
 * encoder vectors for a coreference model of feature version 5 or later
 * over an encoder (casie__coref_xv), else NULL or cv->xv NULL.  Not
 * reentrant on one cv (its scratch). */
int casie__coref_feats(const casie_doc *doc, const casie__tokfeat *tf, const casie__coref_vecs *cv,
                       const casie_event *a, const casie_event *b, uint64_t *out);
/* xv when m's coreference model reads the encoder's vectors, else NULL. */
const float *casie__coref_xv(const casie_model *m, const float *xv);

/* ---- extraction (extract.c) ---- */
/* Only the trigger stage of casie_extract (each event its own hopper); reads
 * nothing of the model but trig, trig_nn, emb, clusters and trig_bias. */
int casie__extract_triggers(const casie_model *m, casie_doc *doc, casie_error *err);
/* Frees one extraction scratch (what a model's pool holds). */
void casie__extract_scratch_free(void *scratch);

/* ---- CVE ids (cve.c) ---- */
/* The length in code points of a CVE id starting at c[i] (before n): "CVE",
 * an optional dash (any Unicode dash), 4 digits, an optional dash, 4 to 8
 * digits, in any case; 0 when there is none or it runs into more letters. */
int32_t casie__cve_len(const uint32_t *c, int32_t i, int32_t n);
/* "CVE-2018-0986" for a text that is one CVE id as above (1), else 0. */
int casie__cve_normalize(const char *text, char *out, size_t cap);
/* Makes each CVE token the CVE argument of the nearest vulnerability event
 * of each subtype in its sentence (else of the nearest one a sentence away);
 * events scoring under threshold are left alone.  CASIE_OK or NOMEM. */
int casie__cve_args(const casie_doc *doc, casie_event *ev, int n_ev, float threshold);

/* ---- ids (uuid5.c) ---- */
/* The UUIDv5 of `name` in namespace `ns`, as 36 characters + NUL. */
void casie__uuid5(const unsigned char ns[16], const char *name, char out[37]);

/* ---- the HTML page's analyst parts (render_summary.c) ---- */
#define CASIE_HTML_LOW_SCORE 0.5f /* scores under this are shown faint */
/* n bytes of s with & < > " ' as HTML entities (render_html.c): the one
 * escaper of the page's text, attributes included. */
void casie__html_escape(FILE *f, const char *s, size_t n);
/* <h2>title</h2> and a line with the article's date (or, without one,
 * that it is unknown and the day the page was made). */
void casie__html_doc_header(FILE *f, const casie_doc *d);
/* The summary table of d's events, grouped by hopper (nothing without events). */
void casie__html_summary(FILE *f, const casie_doc *d);
/* The filter form (once per page, in its head). */
void casie__html_filters(FILE *f);
/* The inline script that applies the filters (once, at the page's end). */
void casie__html_script(FILE *f);

/* ---- names (names.c) ---- */
/* Does the mention `text`, starting at code point `start` of doc, name
 * someone or something in particular?  doc may be NULL (then a capitalised
 * first word counts as a name). */
int casie__mention_named(const casie_doc *doc, const char *text, int32_t start);
/* A named group of attackers ("APT28", "Lazarus Group", "Fancy Bear"), not
 * "the group" or "a group of hackers": a heuristic over the words. */
int casie__is_group_name(const char *s);

/* ---- named attackers (actors.c) ---- */
/* A Tool of an attack event that is a named group, or a named Attacker of
 * another event of ev[0, n), becomes the event's Attacker. */
void casie__actor_roles(const casie_doc *doc, casie_event *ev, int n);

/* ---- events that cannot be one (event_conflict.c) ---- */
/* 1 when a and b name different CVE ids, or different patch numbers or
 * vulnerable versions: they are never one event. */
int casie__events_conflict(const casie_doc *doc, const casie__tokfeat *tf, const casie_event *a, const casie_event *b);
/* The members of each cluster (by cluster id, an event index) that have an
 * argument a conflict can turn on, one per kind of conflict, so that
 * clustering checks only those. */
typedef struct casie__conflicts {
    int *head, *next; /* (n,) first listed member of a cluster; the next one */
    uint64_t *key;    /* (n,) what a conflict with event i turns on (a hash), 0: nothing */
} casie__conflicts;
int casie__conflicts_init(casie__conflicts *c, const casie_doc *doc, const casie__tokfeat *tf, const casie_event *ev,
                          int n); /* CASIE_OK or NOMEM */
/* Would event j conflict with a member of cluster `cluster`? */
int casie__conflicts_check(const casie__conflicts *c, const casie_doc *doc, const casie__tokfeat *tf,
                           const casie_event *ev, int cluster, int j);
void casie__conflicts_add(casie__conflicts *c, int cluster, int j); /* j joined cluster */
void casie__conflicts_free(casie__conflicts *c);

/* ---- encoder (encoder.c, encoder_import.c, encoder_kernels.c) ---- */
/* casie_encoder_import from the four files' bytes (encoder_import.c; the
 * fuzz target's entry, fuzz/fuzz_encoder_import.c): named after dir in
 * messages; tokenizer NULL when there is no tokenizer_config.json. */
int casie__encoder_import_buffers(const char *dir, const char *config, size_t config_len, const char *tokenizer,
                                  size_t tokenizer_len, const char *vocab, size_t vocab_len, const void *weights,
                                  size_t weights_len, const char *out_path, casie_error *err);
/* A BERT-family transformer encoder loaded from a casie encoder file
 * (docs/FORMAT.md, "The encoder file"): every array points into the mapped
 * file, nothing is copied.  Immutable once loaded; any number of threads may
 * run the forward pass at once, each with its own work buffer. */

/* An int8 matrix with a float scale per row: W[r][c] ~= q[r][c] * scale[r].
 * Rows are padded with zeros to `stride` bytes (a multiple of 64); every q
 * lies in [-127, 127]; sum[r] is the sum of row r's q (the VNNI kernel reads
 * activations as unsigned bytes offset by 128 and subtracts 128 * sum). */
typedef struct casie__q8mat {
    int32_t rows, cols, stride;
    const int8_t *q;    /* (rows, stride) */
    const float *scale; /* (rows,) */
    const int32_t *sum; /* (rows,) */
} casie__q8mat;

typedef struct casie__enc_layer {
    casie__q8mat qkv;           /* (3H, H): query, key and value projections stacked */
    const float *b_qkv;         /* (3H,) */
    casie__q8mat out;           /* (H, H): attention output projection */
    const float *b_out;         /* (H,) */
    const float *ln1_g, *ln1_b; /* (H,) layer norm after attention + residual */
    casie__q8mat ff1;           /* (I, H) */
    const float *b_ff1;         /* (I,) */
    casie__q8mat ff2;           /* (H, I) */
    const float *b_ff2;         /* (H,) */
    const float *ln2_g, *ln2_b; /* (H,) layer norm after feed-forward + residual */
} casie__enc_layer;

struct casie_encoder {
    casie_encoder_config cfg;         /* cfg.name points into the file */
    casie__q8mat word;                /* (n_vocab, H) word embeddings (sum unused) */
    const float *pos;                 /* (max_positions, H) */
    const float *type;                /* (type_vocab, H) */
    const float *emb_ln_g, *emb_ln_b; /* (H,) */
    const float *rel_bias;            /* (rel_buckets, n_heads): MPNet's relative position bias, else NULL */
    casie__enc_layer *layers;         /* (n_layers,) the only allocation besides the mapping */
    const uint32_t *vocab_off;        /* (n_vocab + 1,) piece id's bytes: [vocab_off[id], vocab_off[id+1] - 1) */
    const char *vocab;                /* the pieces, in id order, each NUL-terminated */
    casie__model_file file;
};

/* Piece `id` of the vocabulary (NUL-terminated, in the file; *len its byte
 * length when len is not NULL), or NULL when id is out of range.  The
 * tokenizer reads enc->cfg for n_vocab, lowercase, max_positions and the
 * special ids ([CLS], [SEP], [PAD], [UNK]). */
const char *casie__encoder_piece(const casie_encoder *enc, int32_t id, size_t *len);
/* Points enc's arrays (word, pos, ..., layers[]) into a WGTS block at base,
 * laid out for enc->cfg (docs/FORMAT.md); returns the block's size.  With
 * base NULL, the size only; otherwise enc->layers holds n_layers entries. */
uint64_t casie__encoder_bind(casie_encoder *enc, const unsigned char *base);

/* The int8 kernels (encoder_kernels.c).  Each gives the same int32 sums,
 * so the same floats, bit for bit (tests compare them). */
enum { CASIE_Q8_PLAIN = 0, CASIE_Q8_AVX2 = 1, CASIE_Q8_VNNI = 2, CASIE_Q8_BEST = -1 };
/* Whether this CPU runs kernel k; the best one it runs. */
int casie__q8_supported(int k);
int casie__q8_best(void);
/* Quantizes each row of x (n, cols) to int8 with one scale (absmax / 127):
 * q (n, stride) with zero padding, scale (n,). */
void casie__q8_quantize(const float *x, int n, int cols, int stride, int8_t *q, float *scale);
/* y (n, w->rows), row stride ldy = xq's scale * w's scale * (xq . w) + bias
 * (bias may be NULL), over xq (n, w->stride) from casie__q8_quantize. */
void casie__q8_matmul(int kernel, const int8_t *xq, const float *xs, int n, const casie__q8mat *w, const float *bias,
                      float *y, int ldy);
/* x (n,) = GELU(x), the erf form (erf within 4e-7). */
void casie__gelu(float *x, size_t n);

/* The forward pass (encoder.c).  `layers` selects hidden states: bit l
 * (0 <= l <= n_layers) asks for the output of layer l, 0 being the
 * embeddings after their layer norm; out holds the selected ones in
 * increasing l, each (n, H).  ids (n,) are piece ids with the caller's
 * [CLS]/[SEP]; token types are 0; mask (n,) is 1 for a real piece and 0 for
 * padding (NULL: none is padding); 1 <= n <= max_positions.  work: NULL
 * (allocated per call) or casie__encoder_work_bytes(enc, n) bytes, 64-byte
 * aligned, owned by the calling thread.  kernel: CASIE_Q8_BEST or one that
 * casie__q8_supported.  Reentrant. */
size_t casie__encoder_work_bytes(const casie_encoder *enc, int n);
int casie__encoder_forward(const casie_encoder *enc, const int32_t *ids, const uint8_t *mask, int n, uint64_t layers,
                           int kernel, float *out, void *work, casie_error *err);
/* A sequence of any length, in overlapping windows: ids (n,) are the pieces
 * without [CLS]/[SEP]; each window is [CLS] + up to window - 2 pieces +
 * [SEP] (window <= max_positions), the next starting `stride` pieces later,
 * and each piece takes its vectors from the window where it lies farthest
 * from a cut (a window's end that is not the sequence's own start or end;
 * ties go to the earlier window).  out: as casie__encoder_forward's, each
 * (n, H).
 * Allocates its own scratch; reentrant. */
int casie__encoder_encode_long(const casie_encoder *enc, const int32_t *ids, int n, int window, int stride,
                               uint64_t layers, int kernel, float *out, casie_error *err);
/* The same windows without the whole output: each piece's selected layers
 * are handed to each(user, i, h), h[t] the t-th selected layer's H floats
 * (valid during the call), once per piece, in increasing i.  Memory: one
 * window's states, whatever n. */
typedef void (*casie__piece_fn)(void *user, int i, const float *const *h);
int casie__encoder_encode_long_each(const casie_encoder *enc, const int32_t *ids, int n, int window, int stride,
                                    uint64_t layers, int kernel, casie__piece_fn each, void *user, casie_error *err);

/* ---- WordPiece (wordpiece.c) ---- */
/* BERT's tokenizer (clean-up, CJK split, lower-case and accent stripping
 * for uncased vocabularies, whitespace and punctuation splits, greedy
 * longest-match pieces with "##" continuations), as the Hugging Face
 * tokenizers library does it; details and known differences in
 * wordpiece.c. */
#define CASIE_WP_MAX_WORD 100 /* a word of more characters (normalized) is one [UNK] */

/* The vocabulary, copied, with a hash table over it.  Immutable once made:
 * any number of threads may tokenize with one. */
typedef struct casie__wordpiece {
    int32_t n_vocab;
    int lower;                        /* 1: lower-case and strip accents first (uncased vocabulary) */
    int32_t unk, cls, sep, pad, mask; /* ids of [UNK] [CLS] [SEP] [PAD] [MASK]; pad, mask -1 when absent */
    int32_t max_bytes;                /* the longest entry, in bytes */
    uint32_t n_slots;                 /* power of two, >= 2 n_vocab */
    uint32_t *slot;                   /* (n_slots,) id + 1 of the entry there, 0 empty */
    uint64_t *hash;                   /* (n_vocab,) of each entry's bytes */
    uint32_t *off;                    /* (n_vocab + 1,) entry id is text + off[id], NUL-terminated */
    char *text;
} casie__wordpiece;

/* From the entries in id order (a repeated entry keeps the later id, as
 * vocab.txt readers do).  [UNK], [CLS] and [SEP] must be there:
 * CASIE_ERR_INVALID_ARG names a missing one.  wp is left empty on failure. */
int casie__wordpiece_init(casie__wordpiece *wp, const char *const *vocab, int32_t n_vocab, int lower, casie_error *err);
void casie__wordpiece_free(casie__wordpiece *wp);
/* Id of the entry with these n bytes, or -1. */
int32_t casie__wordpiece_id(const casie__wordpiece *wp, const char *s, size_t n);
/* casie__wordpiece_init over an encoder's vocabulary and lower-case flag;
 * also CASIE_ERR_MODEL_CORRUPT when the file's special ids are not its
 * vocabulary's. */
int casie__wordpiece_from_encoder(casie__wordpiece *wp, const casie_encoder *enc, casie_error *err);

/* A document's pieces, without [CLS] and [SEP] (the encoder adds them to
 * each window: casie__encoder_encode_long takes `id` as it is).  Arrays
 * are owned and reused from one call to the next; free with
 * casie__pieces_free. */
typedef struct casie__pieces {
    int32_t n;                     /* pieces */
    int32_t *id;                   /* (n,) vocabulary ids */
    int32_t *start, *end;          /* (n,) code-point span in doc->text: from the first character the piece
                                    * comes from to the last, inclusive ([UNK]: its whole word) */
    int32_t *tok;                  /* (n,) the first of doc->tokens the span overlaps (-1: none) */
    int32_t n_tokens;              /* doc->n_tokens */
    int32_t *tok_first, *tok_last; /* (n_tokens,) the first and last piece whose span overlaps token t;
                                    * -1 when none does, which only happens to a token whose every
                                    * character BERT drops (U+FFFD, controls, format and private-use
                                    * characters; nonspacing marks, when it lower-cases) */
    size_t cap, cap_tok;
} casie__pieces;

/* Splits doc's text (doc->tokens for the mapping: tokenize first) into
 * pieces.  Reentrant; CASIE_ERR_NOMEM names the document. */
int casie__wordpiece_doc(const casie__wordpiece *wp, const casie_doc *doc, casie__pieces *out, casie_error *err);
void casie__pieces_free(casie__pieces *p);

#endif /* CASIE_INTERNAL_H */
