/*
 * wordpiece.h - the WordPiece tokenizer.
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_WORDPIECE_H
#define CASIE_WORDPIECE_H

#include "internal.h"

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

#endif /* CASIE_WORDPIECE_H */
