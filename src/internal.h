/*
 * internal.h - what the library's files share and nobody outside sees.
 *
 * Not part of the API: names here start with casie__ and may change freely.
 */
#ifndef CASIE_INTERNAL_H
#define CASIE_INTERNAL_H

#include "casie.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#define CASIE_UNUSED(x) ((void)(x))

/* Upper bounds on untrusted input. */
#define CASIE_MAX_DOC_BYTES ((size_t)256 << 20) /* one document's text */
#define CASIE_MAX_JSON_DEPTH 64                 /* nesting of a JSON record */

/* ---- errors (common.c) ---- */
/* Fills err (if not NULL) with code, position and a printf-style message;
 * returns code so that `return casie__error(err, ...)` reads naturally. */
int casie__error(casie_error *err, int code, long position, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- memory and strings (common.c) ---- */
char *casie__strdup(const char *s);             /* NULL in, NULL out */
char *casie__strndup(const char *s, size_t n);  /* always NUL-terminates */
/* Reads a whole file; NUL-terminated; *len without the NUL. */
char *casie__read_file(const char *path, size_t *len, casie_error *err);

/* Growable array helper: ensures *cap >= need, elements of size `size`. */
int casie__grow(void **p, size_t *cap, size_t need, size_t size);

/* ---- UTF-8 (utf8.c) ---- */
/* Decodes `len` bytes.  Each byte that does not begin a valid, shortest-form
 * UTF-8 sequence (or a surrogate / > U+10FFFF) becomes U+FFFD and counts as one
 * code point; NUL bytes are kept as U+0000.  Outputs the repaired text
 * (malloc'd, NUL-terminated), its byte length, and cp_byte (n_cp+1 entries). */
int casie__utf8_normalize(const char *in, size_t len, char **out, size_t *out_len, int32_t **cp_byte,
                          int32_t *n_cp);
/* Decodes one code point of valid UTF-8 at s (as produced above); sets *adv. */
uint32_t casie__utf8_get(const char *s, int *adv);
/* Encodes cp into buf (>= 4 bytes); returns the byte count. */
int casie__utf8_put(uint32_t cp, char *buf);

/* ---- documents (doc.c) ---- */
/* Code point i of doc (0 <= i < n_cp). */
uint32_t casie__doc_cp(const casie_doc *doc, int32_t i);
/* malloc'd copy of code points [start, end) of doc's text, or NULL. */
char *casie__doc_substr(const casie_doc *doc, int32_t start, int32_t end);
/* A fresh empty document owning a copy of text (already normalized). */
casie_doc *casie__doc_new(void);
int casie__doc_set_text(casie_doc *doc, const char *bytes, size_t len, casie_error *err);

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
    void *map;             /* the mapped (or owned) file bytes */
    size_t size;
    int owned;             /* 1: map was malloc'd (parse from memory), 0: mmap'd */
    casie__section *secs;  /* (n_secs,) data points into map */
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

/* ---- hashing (features.c) ---- */
static inline uint64_t casie__mix64(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}
/* Combines a feature hash with another value (template id, label, ...). */
static inline uint64_t casie__hc(uint64_t h, uint64_t v) { return casie__mix64(h ^ (v * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull)); }
uint64_t casie__hash_bytes(const void *p, size_t n, uint64_t seed);

/* ---- linear learners over hashed features (learn.c) ---- */
/* Weights of a linear model over hashed features: a feature hash h selects
 * the row (h & (n_rows-1)); each row holds one weight per label, padded to
 * `stride` so that a row is one or two cache lines.  Sequence models add a
 * label transition matrix and start scores. */
typedef struct casie__linear {
    uint32_t n_rows;   /* power of two */
    uint32_t n_labels; /* used labels */
    uint32_t stride;   /* floats per row (n_labels rounded up to 8) */
    float *w;          /* (n_rows, stride), or NULL when wh is used */
    const uint16_t *wh; /* (n_rows, stride) bfloat16 weights of a loaded model (mapped) */
    float *trans;      /* (n_labels, n_labels) from -> to, sequence models only */
    float *start;      /* (n_labels,) */
    /* training only (NULL after casie__linear_finish): */
    float *uw, *utrans, *ustart; /* sums of c * update, for averaging */
    long c;                      /* update clock */
    int owned;                   /* 1: arrays malloc'd; 0: borrowed from a mapping */
} casie__linear;

int casie__linear_init(casie__linear *m, uint32_t n_rows, uint32_t n_labels, int sequence, int training);
void casie__linear_free(casie__linear *m);
/* Replaces w by the averaged weights and drops training state. */
void casie__linear_finish(casie__linear *m);
/* dst += src and m *= k over all weights (averaging several training runs). */
void casie__linear_add(casie__linear *dst, const casie__linear *src);
void casie__linear_scale(casie__linear *m, float k);
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
/* Marginals p(y_i = l) (n, L) under the same model, softmax scale `temp`;
 * CASIE_ERR_NOMEM when its scratch cannot be allocated. */
int casie__marginals(const casie__linear *m, const float *E, int n, const uint8_t *allowed,
                      const uint8_t *start_ok, float temp, float *P);

/* ---- features (features.c) ---- */
/* Word clusters (from GloVe k-means), an open-addressing table keyed by the
 * hash of the lowercased word; key 0 marks an empty slot. */
typedef struct casie__cluster_entry {
    uint64_t key;
    uint16_t c[3]; /* cluster ids at three granularities (256, 1024, 4096 by default) */
    uint16_t pad;
} casie__cluster_entry;

typedef struct casie__clusters {
    uint32_t n_slots;                   /* power of two, 0 = no clusters */
    const casie__cluster_entry *slots;  /* (n_slots,) */
} casie__clusters;

/* Per-token hashed base features, computed once per document. */
typedef struct casie__tokfeat {
    uint64_t w;     /* lowercased word ('’' read as '\'') */
    uint64_t s;     /* Snowball stem of w */
    uint64_t shape; /* compressed shape: Xx, X, x, d, X.X., ... */
    uint64_t pre3, suf3;
    uint64_t cl[3]; /* cluster ids as hashes, 0 when unknown */
    uint32_t flags; /* CASIE_TOK_* */
    uint8_t cap;    /* 0 lower, 1 capitalized, 2 all caps, 3 other */
    uint32_t topics; /* document-level: bit k set when topic word k occurs in the document */
} casie__tokfeat;

/* Token features for every token of an analyzed doc (malloc'd, n_tokens). */
casie__tokfeat *casie__doc_tokfeats(const casie_doc *doc, const casie__clusters *cl);
uint64_t casie__word_hash(const char *s, size_t n); /* of the lowercased form */

#define CASIE_MAX_FEATS 160
/* Trigger tagger features of token i in tokens [b, e) of the doc. */
int casie__trig_feats(const casie__tokfeat *tf, int b, int e, int i, uint64_t *out);

/* Argument tagger: features of token i for one trigger. */
typedef struct casie__arg_ctx {
    const casie__tokfeat *tf;
    int b, e;             /* the sentence's tokens [b, e) */
    int tb, te;           /* the trigger's tokens [tb, te) */
    int subtype;
    const uint8_t *is_trig; /* (n_tokens,) 1 where some trigger lies, may be NULL */
} casie__arg_ctx;
int casie__arg_feats(const casie__arg_ctx *c, int i, uint64_t *out);
/* Entity type of an argument span [ab, ae) with role and subtype. */
int casie__ent_feats(const casie__tokfeat *tf, int n_tokens, int ab, int ae, int role, int subtype, uint64_t *out);
/* Realis of a trigger [tb, te) in sentence [b, e). */
int casie__realis_feats(const casie__tokfeat *tf, int b, int e, int tb, int te, int subtype, uint64_t *out);

/* ---- the model (model.c, train.c, extract.c) ---- */
#define CASIE_MAX_SLOTS 12 /* argument roles per subtype */
/* Arguments are looked for within this many tokens of their trigger (in its
 * sentence): 99% of gold arguments lie within 34 tokens, and the bound keeps
 * the cost linear on a document with no sentence ends. */
#define CASIE_ARG_WINDOW 48
/* Coreference compares an event with at most this many earlier events (no
 * annotated document has more than 31 events). */
#define CASIE_COREF_WINDOW 64
#define CASIE_TRIG_LABELS (1 + 2 * CASIE_N_SUBTYPES)  /* O, B-st, I-st */
#define CASIE_ARG_LABELS (1 + 2 * CASIE_MAX_SLOTS)    /* O, B-slot, I-slot */

struct casie_model {
    casie__linear trig;   /* (rows, 11) BIO over subtypes, sequence */
    casie__linear arg;    /* (rows, 25) BIO over role slots of the trigger's subtype, sequence */
    casie__linear ent;    /* (rows, 21) entity type of an argument */
    casie__linear realis; /* (rows, 3) */
    casie__linear coref;  /* (rows, 2) is a pair of events coreferent */
    int32_t n_slots[CASIE_N_SUBTYPES];
    int32_t slot_role[CASIE_N_SUBTYPES][CASIE_MAX_SLOTS]; /* role of each slot */
    float trig_bias, arg_bias;            /* added to non-O labels when decoding (tuned on dev) */
    float trig_temp, arg_temp;            /* softmax scale of the confidence marginals (tuned on dev) */
    casie__clusters clusters;
    casie__cluster_entry *clusters_owned; /* when trained, not mapped */
    char *meta;                           /* JSON object text */
    casie__model_file file;               /* the mapping when loaded */
};

/* Label helpers shared by training and extraction. */
/* BIO masks: allowed (L*L, from->to) and start_ok (L). */
void casie__trig_masks(uint8_t *allowed, uint8_t *start_ok);
void casie__arg_masks(const casie_model *m, int subtype, uint8_t *allowed, uint8_t *start_ok);
int casie__coref_feats(const casie_doc *doc, const casie__tokfeat *tf, const casie_event *a, const casie_event *b,
                       uint64_t *out);
/* Token index range of a code-point span: tokens overlapping [s, e). */
int casie__span_tokens(const casie_doc *doc, int32_t s, int32_t e, int *tb, int *te);

#endif /* CASIE_INTERNAL_H */
