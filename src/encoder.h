/*
 * encoder.h - the transformer encoder.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_ENCODER_H
#define CASIE_ENCODER_H

#include "internal.h"
#include "encoder_kernels.h"
#include "model_file.h"

/* ---- encoder (encoder.c, encoder_import.c, encoder_kernels.c) ---- */
/* The ECFG section (docs/FORMAT.md, Part 3), written by encoder_import.c
 * and read by encoder.c: each field's byte offset, a u32 unless noted. */
enum {
    CASIE__ECFG_VERSION = 0, /* CASIE__ENC_VERSION_BERT, or 2 with ARCH..POS_OFFSET */
    CASIE__ECFG_N_LAYERS = 4,
    CASIE__ECFG_HIDDEN = 8,
    CASIE__ECFG_N_HEADS = 12,
    CASIE__ECFG_INTERMEDIATE = 16,
    CASIE__ECFG_MAX_POSITIONS = 20,
    CASIE__ECFG_TYPE_VOCAB = 24,
    CASIE__ECFG_N_VOCAB = 28,
    CASIE__ECFG_LAYER_NORM_EPS = 32, /* f32 */
    CASIE__ECFG_FLAGS = 36,          /* bit 0: uncased */
    CASIE__ECFG_CLS_ID = 40,         /* i32, as the next three */
    CASIE__ECFG_SEP_ID = 44,
    CASIE__ECFG_PAD_ID = 48,
    CASIE__ECFG_UNK_ID = 52,
    CASIE__ECFG_HASH = 56, /* u64 */
    CASIE__ECFG_WEIGHT_TYPE = 64,
    CASIE__ECFG_ACTIVATION = 68,
    CASIE__ECFG_ARCH = 72, /* version 2 on, as the next two; reserved in version 1 */
    CASIE__ECFG_REL_BUCKETS = 76,
    CASIE__ECFG_POS_OFFSET = 80,
    CASIE__ECFG_RESERVED = 84, /* zero up to the end (from ARCH in version 1) */
    CASIE__ECFG_SIZE = 96,
};
/* ECFG's values */
enum {
    CASIE__ENC_VERSION_BERT = 1, /* a BERT encoder's layout: its bytes do not depend on the casie that wrote it */
    CASIE__ENC_VERSION = 2,      /* the newest layout (2: MPNet) */
    CASIE__ENC_WEIGHT_INT8_ROWS = 1,
    CASIE__ENC_ACT_GELU_ERF = 1,
};

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
    casie__enc_layer *layers;         /* (n_layers,) */
    uint8_t *panels;                  /* the layers' matrices packed (casie__q8_pack), or NULL */
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

/* The forward pass (encoder.c).  `layers` selects hidden states: bit l
 * (0 <= l <= n_layers) asks for the output of layer l, 0 being the
 * embeddings after their layer norm; out holds the selected ones in
 * increasing l, each (n, H).  ids (n,) are piece ids with the caller's
 * [CLS]/[SEP]; token types are 0; mask (n,) is 1 for a real piece and 0 for
 * padding (NULL: none is padding); 1 <= n <= max_positions.  work: NULL
 * (allocated per call) or casie__encoder_work_bytes(enc, n) bytes, 64-byte
 * aligned, owned by the calling thread.  kernel: the level whose row of
 * cpu.h's table runs it, CASIE_Q8_BEST (this CPU's) or one that
 * casie__q8_supported (another gives this CPU's).  Reentrant. */
size_t casie__encoder_work_bytes(const casie_encoder *enc, int n);
int casie__encoder_forward(const casie_encoder *enc, const int32_t *ids, const uint8_t *mask, int n, uint64_t layers,
                           int kernel, float *out, void *work, casie_error *err);
/* The same pass by a team of `threads` threads (1..64; the calling one
 * among them): each takes a share of the pieces for the matrix products,
 * layer norms and GELU, and a share of the heads for attention.  The same
 * bits whatever the number; work as above, plus a little per thread. */
int casie__encoder_forward_threads(const casie_encoder *enc, const int32_t *ids, const uint8_t *mask, int n,
                                   uint64_t layers, int kernel, int threads, float *out, void *work, casie_error *err);
/* MPNet's relative position bias for a sequence of n pieces: rel (n_heads,
 * 2n - 1), rel[h][j - i + n - 1] the bias head h adds to query i's score of
 * key j (the buckets of j - i).  Only for an encoder with rel_bias. */
void casie__encoder_rel_bias(const casie_encoder *enc, int n, float *rel);
/* A sequence of any length, in overlapping windows: ids (n,) are the pieces
 * without [CLS]/[SEP]; each window is [CLS] + up to window - 2 pieces +
 * [SEP] (window <= max_positions), the next starting `stride` pieces later,
 * and each piece takes its vectors from the window where it lies farthest
 * from a cut (a window's end that is not the sequence's own start or end;
 * ties go to the earlier window).  out: as casie__encoder_forward's, each
 * (n, H).  threads: each window's pass by that many (the same bits).
 * Allocates its own scratch; reentrant. */
int casie__encoder_encode_long(const casie_encoder *enc, const int32_t *ids, int n, int window, int stride,
                               uint64_t layers, int kernel, int threads, float *out, casie_error *err);
/* The same windows without the whole output: each piece's selected layers
 * are handed to each(user, i, h), h[t] the t-th selected layer's H floats
 * (valid during the call), once per piece, in increasing i.  Memory: one
 * window's states, whatever n. */
typedef void (*casie__piece_fn)(void *user, int i, const float *const *h);
int casie__encoder_encode_long_each(const casie_encoder *enc, const int32_t *ids, int n, int window, int stride,
                                    uint64_t layers, int kernel, int threads, casie__piece_fn each, void *user,
                                    casie_error *err);

#endif /* CASIE_ENCODER_H */
