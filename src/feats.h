/*
 * feats.h - token features, word vectors and clusters.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_FEATS_H
#define CASIE_FEATS_H

#include "internal.h"

/* ---- feature versions ---- */
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

/* ---- word vectors ---- */
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

#endif /* CASIE_FEATS_H */
