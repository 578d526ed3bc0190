/*
 * model.h - the model: its parts and its object.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_MODEL_H
#define CASIE_MODEL_H

#include "internal.h"
#include "category.h"
#include "feats.h"
#include "linear.h"
#include "model_file.h"
#include "nn.h"
#include "wordpiece.h"

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

#endif /* CASIE_MODEL_H */
