/*
 * features.c - hashed features for every stage: per-token base features
 * (word, stem, shape, affixes, clusters) computed once per document, and the
 * templates each model combines them into.
 *
 * Not here: learning or decoding (linear.c), label meanings (train.c).
 * Feature templates are identified by small integers mixed into the hash;
 * changing a template changes what a model means, so bump the model format's
 * CASIE_FEATURE_VERSION (internal.h) with it.
 */
#include "internal.h"
#include "doc.h"
#include "feats.h"
#include "hash.h"

#include <libstemmer.h>
#include <string.h>
#include <utf8proc.h>

uint64_t casie__hash_bytes(const void *p, size_t n, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return casie__mix64(h);
}

/* Lowercases one token into buf (UTF-8), mapping ’ ‘ to '.  Returns length. */
static size_t lower_token(const casie_doc *doc, int32_t s, int32_t e, char *buf, size_t cap) {
    size_t n = 0;
    for (int32_t i = s; i < e && n + 4 < cap; i++) {
        uint32_t cp = casie__doc_cp(doc, i);
        if (cp < 128) {
            buf[n++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
            continue;
        }
        if (cp == 0x2019 || cp == 0x2018)
            cp = '\'';
        else
            cp = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        n += (size_t)casie__utf8_put(cp, buf + n);
    }
    buf[n] = 0;
    return n;
}

uint64_t casie__word_hash(const char *s, size_t n) { return casie__hash_bytes(s, n, 0x77); }

static const casie__cluster_entry *cluster_find(const casie__clusters *cl, uint64_t key) {
    if (!cl || !cl->n_slots) return NULL;
    uint32_t mask = cl->n_slots - 1;
    for (uint32_t i = (uint32_t)key & mask, probes = 0; probes < cl->n_slots; i = (i + 1) & mask, probes++) {
        if (cl->slots[i].key == 0) return NULL;
        if (cl->slots[i].key == key) return &cl->slots[i];
    }
    return NULL;
}

casie__tokfeat *casie__doc_tokfeats(const casie_doc *doc, const casie__clusters *cl) {
    casie__tokfeat *tf = calloc(doc->n_tokens ? (size_t)doc->n_tokens : 1, sizeof *tf);
    struct sb_stemmer *stem = sb_stemmer_new("english", NULL);
    if (!tf || !stem) {
        free(tf);
        if (stem) sb_stemmer_delete(stem);
        return NULL;
    }
    char buf[256], shape[64];
    for (int t = 0; t < doc->n_tokens; t++) {
        const casie_token *tok = &doc->tokens[t];
        casie__tokfeat *f = &tf[t];
        size_t n = lower_token(doc, tok->start, tok->end, buf, sizeof buf);
        f->w = casie__word_hash(buf, n);
        const sb_symbol *st = sb_stemmer_stem(stem, (const sb_symbol *)buf, (int)n);
        f->s = st ? casie__hash_bytes(st, (size_t)sb_stemmer_length(stem), 0x5) : f->w;
        /* shape: character classes with runs collapsed, at most 12 */
        size_t k = 0;
        int upper = 0, lower = 0;
        char last = 0;
        for (int32_t i = tok->start; i < tok->end && k < 12; i++) {
            uint32_t cp = casie__doc_cp(doc, i);
            char c;
            if (cp < 128 && cp >= '0' && cp <= '9')
                c = 'd';
            else if (utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_LU)
                c = 'X', upper++;
            else if (utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_LL)
                c = 'x', lower++;
            else
                c = cp < 128 ? (char)cp : '*';
            if (c != last) shape[k++] = c;
            last = c;
        }
        f->shape = casie__hash_bytes(shape, k, 0x9);
        f->cap = upper == 0
                     ? 0
                     : (lower == 0 ? 2
                                   : (casie__doc_cp(doc, tok->start) < 128 && casie__doc_cp(doc, tok->start) >= 'A' &&
                                              casie__doc_cp(doc, tok->start) <= 'Z'
                                          ? 1
                                          : 3));
        /* affixes by bytes of the lowercased form, kept on code-point bounds */
        size_t p3 = 0, cps = 0;
        while (p3 < n && cps < 3) {
            p3++;
            while (p3 < n && ((unsigned char)buf[p3] & 0xC0) == 0x80)
                p3++;
            cps++;
        }
        size_t s3 = n, cpe = 0;
        while (s3 > 0 && cpe < 3) {
            s3--;
            while (s3 > 0 && ((unsigned char)buf[s3] & 0xC0) == 0x80)
                s3--;
            cpe++;
        }
        f->pre3 = casie__hash_bytes(buf, p3, 0x11);
        f->suf3 = casie__hash_bytes(buf + s3, n - s3, 0x12);
        const casie__cluster_entry *ce = cluster_find(cl, f->w);
        for (int l = 0; l < 3; l++)
            f->cl[l] = ce ? casie__hc(0xc100 + (uint64_t)l, ce->c[l]) : 0;
        f->emb = ce ? ce->pad : 0;
        f->flags = tok->flags;
    }
    /* document topics: which of a few telling stems the article contains */
    static const char *const TOPICS[] = {"ransom", "ransomwar", "phish", "breach", "vulner",   "patch",   "updat",
                                         "flaw",   "bitcoin",   "hack",  "stolen", "leak",     "exploit", "fix",
                                         "email",  "malwar",    "scam",  "bug",    "research", "encrypt"};
    uint64_t th[sizeof TOPICS / sizeof TOPICS[0]];
    for (size_t k = 0; k < sizeof TOPICS / sizeof TOPICS[0]; k++)
        th[k] = casie__hash_bytes(TOPICS[k], strlen(TOPICS[k]), 0x5);
    uint32_t topics = 0;
    for (int t = 0; t < doc->n_tokens; t++)
        for (size_t k = 0; k < sizeof TOPICS / sizeof TOPICS[0]; k++)
            if (tf[t].s == th[k]) topics |= 1u << k;
    for (int t = 0; t < doc->n_tokens; t++)
        tf[t].topics = topics;
    for (int k = 0; k < doc->n_sents; k++) {
        const casie_sentence *se = &doc->sents[k];
        uint32_t sf = 0;
        for (int t = se->tok_begin; t < se->tok_end; t++)
            sf |= tf[t].flags;
        for (int t = se->tok_begin; t < se->tok_end; t++)
            tf[t].sflags = sf;
    }
    sb_stemmer_delete(stem);
    return tf;
}

/* ---- dense token vectors for the neural taggers ---- */

int casie__tokvec_dim(const casie__emb *e) { return (e && e->n_words ? (int)e->dim : 0) + CASIE_TOKVEC_EXTRA; }

void casie__tokvec(const casie__tokfeat *f, const casie__emb *e, float *x) {
    int k = 0;
    if (e && e->n_words) {
        if (f->emb && f->emb <= e->n_words) {
            const int8_t *v = e->v + (size_t)(f->emb - 1) * e->dim;
            float sc = e->scale[f->emb - 1];
            for (uint32_t j = 0; j < e->dim; j++)
                x[k++] = sc * (float)v[j];
        } else {
            for (uint32_t j = 0; j < e->dim; j++)
                x[k++] = 0.0f;
        }
    }
    float *ex = x + k; /* the columns after the word vector (internal.h) */
    for (int c = 0; c < CASIE_TV_UNKNOWN - CASIE_TV_CAP; c++)
        ex[CASIE_TV_CAP + c] = f->cap == (unsigned)c;
    ex[CASIE_TV_UNKNOWN] = f->emb == 0;
    for (int b = 0; b < CASIE_TV_N_FLAGS; b++)
        ex[CASIE_TV_FLAGS + b] = (f->flags >> b) & 1u;
}

void casie__argvec_side(int i, int tb, int te, int *side, int *bucket) {
    int d = i < tb ? tb - i : i >= te ? i - te + 1 : 0;
    *side = i < tb ? 0 : i >= te ? 1 : 2;
    static const int B[] = {0, 1, 2, 3, 5, 8, 12, 20};
    int bk = 0;
    while (bk < 8 && d > B[bk])
        bk++;
    *bucket = bk; /* 9 distance buckets */
}

void casie__argvec_rel(int i, int tb, int te, int subtype, int other_trig, float *x) {
    memset(x, 0, sizeof(float) * CASIE_ARGVEC_REL);
    int side, bk;
    casie__argvec_side(i, tb, te, &side, &bk);
    x[CASIE_AV_SIDE + side] = 1;
    x[CASIE_AV_DIST + bk] = 1;
    if (subtype >= 0 && subtype < CASIE_N_SUBTYPES) x[CASIE_AV_SUBTYPE + subtype] = 1;
    x[CASIE_AV_OTHER_TRIG] = (float)other_trig;
}

/* Feature template ids, mixed into every hash: one id per template, unique
 * within each linear model (the four groups below weigh features in
 * separate tables, so ids may repeat across groups).  The values are part of
 * every trained model: never renumber one, add new ones with new values and
 * raise CASIE_FEATURE_VERSION.  casie__template_ids lists each group for the
 * test that no two templates of a group share an id. */
enum {
    /* triggers */
    F_BIAS = 1,
    F_W,
    F_S,
    F_SHAPE,
    F_PRE,
    F_SUF,
    F_CL0,
    F_CL1,
    F_CL2,
    F_FLAGS,
    F_CAP,
    F_W_2GRAM,
    F_S_2GRAM,
    F_SENT_FIRST,
    F_SENT_LAST,
    F_W_NEXT = 112,     /* the word and the next one */
    F_S_NEXT = 113,     /* the stem and the next one */
    F_S_3GRAM = 213,    /* previous, own and next stems */
    F_TOPIC = 514,      /* a telling stem somewhere in the article */
    F_TOPIC_S = 515,    /* that, with the token's stem */
    F_S_FAR = 703,      /* a stem 2-4 tokens away, by side */
    F_CL2_PREV_W = 709, /* the finest cluster with the previous word */
    F_CL2_NEXT_W = 710, /* with the next word */
    F_SENT_CVE = 720,   /* the sentence holds a CVE id (version 6) */
    F_SENT_CVE_S = 721, /* that, with the token's stem */
    /* arguments */
    A_BIAS = 40,
    A_W,
    A_S,
    A_SHAPE,
    A_SUF,
    A_PRE,
    A_CL,
    A_FLAGS,
    A_POS,
    A_DIST,
    A_POS_W,
    A_POS_S,
    A_TRIG_S,
    A_TRIG_W_POS,
    A_PREV_W_POS,
    A_NEXT_W_POS,
    A_IN_TRIG,
    A_BETWEEN_TRIG,
    A_COMMAS,
    A_POS_SHAPE,
    A_PREV_S,
    A_NEXT_S,
    A_TRIG_S_POSD,
    A_CAP,
    A_PREV2_W,
    A_CL_POS,
    A_W_DIST,
    A_TRIG_W,
    A_OTHER_TRIG_POS = 557, /* the token belongs to another trigger, by side */
    A_CL1 = 1046,
    A_CL2 = 2046, /* A_CL's coarser clusters */
    /* entity types */
    E_BIAS = 80,
    E_ROLE,
    E_HEAD,
    E_HEAD_S,
    E_FIRST,
    E_WORD,
    E_SHAPE_HEAD,
    E_CL_HEAD,
    E_LEN,
    E_FLAGS,
    E_ROLE_HEAD,
    E_SUF_HEAD,
    E_CAP,
    E_PREV,
    E_ROLE_SUBTYPE = 81, /* E_ROLE with the subtype (an f2 beside E_ROLE's f1) */
    E_CL_HEAD1 = 1087,
    E_CL_HEAD2 = 2087,
    /* realis */
    R_BIAS = 110,
    R_TRIG_W,
    R_TRIG_S,
    R_BEFORE_W,
    R_AFTER_W,
    R_SENT_W,
    R_FIRST_TRIG_W,
    R_PREV1,
    R_PREV2,
    R_NEXT1,
    R_TRIG_SHAPE,
    R_BEFORE_DIST_W = 413,  /* a word up to 3 before the trigger, with its distance */
    R_SENT_POS = 415,       /* the trigger at the sentence's start, the sentence the article's first */
    R_SENT_FIRST_W = 416,   /* the sentence's first word */
    R_LAST_TRIG_SUF = 417,  /* the trigger's last word's suffix */
    R_NEXT2 = 419,          /* the next two words */
    R_LAST_TRIG_NEXT = 420, /* the trigger's last word and the next */
    R_LAST_TRIG_W = 421,    /* the trigger's last word (feature version 3: 416, R_SENT_FIRST_W's id) */
    R_PREV1_SUBTYPE = 422,  /* the previous word with the subtype (feature version 3: 417) */
};

static const int A_CL_LEVEL[3] = {A_CL, A_CL1, A_CL2}, E_CL_HEAD_LEVEL[3] = {E_CL_HEAD, E_CL_HEAD1, E_CL_HEAD2};

static const int TRIG_IDS[] = {F_BIAS,       F_W,          F_S,        F_SHAPE,     F_PRE,     F_SUF,     F_CL0,
                               F_CL1,        F_CL2,        F_FLAGS,    F_CAP,       F_W_2GRAM, F_S_2GRAM, F_SENT_FIRST,
                               F_SENT_LAST,  F_W_NEXT,     F_S_NEXT,   F_S_3GRAM,   F_TOPIC,   F_TOPIC_S, F_S_FAR,
                               F_CL2_PREV_W, F_CL2_NEXT_W, F_SENT_CVE, F_SENT_CVE_S};
static const int ARG_IDS[] = {
    A_BIAS,           A_W,           A_S,       A_SHAPE,        A_SUF,    A_PRE,       A_CL,
    A_FLAGS,          A_POS,         A_DIST,    A_POS_W,        A_POS_S,  A_TRIG_S,    A_TRIG_W_POS,
    A_PREV_W_POS,     A_NEXT_W_POS,  A_IN_TRIG, A_BETWEEN_TRIG, A_COMMAS, A_POS_SHAPE, A_PREV_S,
    A_NEXT_S,         A_TRIG_S_POSD, A_CAP,     A_PREV2_W,      A_CL_POS, A_W_DIST,    A_TRIG_W,
    A_OTHER_TRIG_POS, A_CL1,         A_CL2};
/* E_ROLE_SUBTYPE shares E_ROLE's id but hashes two values (f2), E_ROLE one
 * (f1): distinct features, so it is not listed apart. */
static const int ENT_IDS[] = {E_BIAS, E_ROLE,  E_HEAD,      E_HEAD_S,   E_FIRST, E_WORD, E_SHAPE_HEAD, E_CL_HEAD,
                              E_LEN,  E_FLAGS, E_ROLE_HEAD, E_SUF_HEAD, E_CAP,   E_PREV, E_CL_HEAD1,   E_CL_HEAD2};
static const int REALIS_IDS[] = {R_BIAS,       R_TRIG_W,         R_TRIG_S,      R_BEFORE_W,     R_AFTER_W,
                                 R_SENT_W,     R_FIRST_TRIG_W,   R_PREV1,       R_PREV2,        R_NEXT1,
                                 R_TRIG_SHAPE, R_BEFORE_DIST_W,  R_SENT_POS,    R_SENT_FIRST_W, R_LAST_TRIG_SUF,
                                 R_NEXT2,      R_LAST_TRIG_NEXT, R_LAST_TRIG_W, R_PREV1_SUBTYPE};

int casie__template_ids(int group, const int **ids) {
    static const struct {
        const int *ids;
        int n;
    } G[4] = {{TRIG_IDS, (int)(sizeof TRIG_IDS / sizeof *TRIG_IDS)},
              {ARG_IDS, (int)(sizeof ARG_IDS / sizeof *ARG_IDS)},
              {ENT_IDS, (int)(sizeof ENT_IDS / sizeof *ENT_IDS)},
              {REALIS_IDS, (int)(sizeof REALIS_IDS / sizeof *REALIS_IDS)}};
    if (group < 0 || group > 3) return 0;
    *ids = G[group].ids;
    return G[group].n;
}

#define PUT(h) (out[n++] = (h))
static inline uint64_t f1(int tmpl, uint64_t a) { return casie__hc(a, (uint64_t)tmpl); }
static inline uint64_t f2(int tmpl, uint64_t a, uint64_t b) { return casie__hc(casie__hc(a, b), (uint64_t)tmpl); }
static inline uint64_t f3(int tmpl, uint64_t a, uint64_t b, uint64_t c) {
    return casie__hc(casie__hc(casie__hc(a, b), c), (uint64_t)tmpl);
}
/* The word at i+off within [b, e), or a boundary symbol. */
#define WORD_AT(tf, b, e, i, field) ((i) >= (b) && (i) < (e) ? (tf)[i].field : ((i) < (b) ? 0xb0b0ull : 0xe0e0ull))

int casie__trig_feats(const casie__tokfeat *tf, int b, int e, int i, uint32_t fv, uint64_t *out) {
    int n = 0;
    PUT(f1(F_BIAS, 0));
    for (int off = -2; off <= 2; off++) {
        uint64_t o = (uint64_t)(off + 8);
        PUT(f2(F_W, o, WORD_AT(tf, b, e, i + off, w)));
        PUT(f2(F_S, o, WORD_AT(tf, b, e, i + off, s)));
        if (off >= -1 && off <= 1) {
            PUT(f2(F_SHAPE, o, WORD_AT(tf, b, e, i + off, shape)));
            if (i + off >= b && i + off < e) {
                for (int l = 0; l < 3; l++)
                    if (tf[i + off].cl[l]) PUT(f2(F_CL0 + l, o, tf[i + off].cl[l]));
            }
        }
    }
    for (int off = -4; off <= 4; off++) /* a bag of nearby stems, sides kept apart */
        if (off && (off < -1 || off > 1) && i + off >= b && i + off < e) PUT(f2(F_S_FAR, off < 0, tf[i + off].s));
    if (tf[i].cl[2]) PUT(f2(F_CL2_PREV_W, tf[i].cl[2], WORD_AT(tf, b, e, i - 1, w)));
    if (tf[i].cl[2]) PUT(f2(F_CL2_NEXT_W, tf[i].cl[2], WORD_AT(tf, b, e, i + 1, w)));
    PUT(f1(F_PRE, tf[i].pre3));
    PUT(f1(F_SUF, tf[i].suf3));
    PUT(f1(F_FLAGS, tf[i].flags));
    PUT(f1(F_CAP, tf[i].cap));
    PUT(f2(F_W_2GRAM, WORD_AT(tf, b, e, i - 1, w), tf[i].w));
    PUT(f2(F_W_NEXT, tf[i].w, WORD_AT(tf, b, e, i + 1, w)));
    PUT(f2(F_S_2GRAM, WORD_AT(tf, b, e, i - 1, s), tf[i].s));
    PUT(f2(F_S_NEXT, tf[i].s, WORD_AT(tf, b, e, i + 1, s)));
    PUT(f3(F_S_3GRAM, WORD_AT(tf, b, e, i - 1, s), tf[i].s, WORD_AT(tf, b, e, i + 1, s)));
    for (int k = 0; k < 20; k++)
        if (tf[i].topics & (1u << k)) {
            PUT(f2(F_TOPIC, (uint64_t)k, 0));
            PUT(f2(F_TOPIC_S, (uint64_t)k, tf[i].s));
        }
    if (i == b) PUT(f1(F_SENT_FIRST, 0));
    if (i == e - 1) PUT(f1(F_SENT_LAST, 0));
    /* a CVE id in the sentence: it is about a vulnerability, its verbs
     * ("closed", "mitigating") more likely one's triggers */
    if (fv >= 6 && (tf[i].sflags & CASIE_TOK_CVE)) {
        PUT(f1(F_SENT_CVE, 0));
        PUT(f2(F_SENT_CVE_S, 0, tf[i].s));
    }
    return n;
}

/* Tokens between a candidate argument and its trigger, bucketed: exact up
 * to 4, then 5-7, 8-12, 13-20 and farther.  Not coref's sent_gap_bucket
 * (extract.c): that one counts sentences, on a coarser scale. */
static uint64_t token_gap_bucket(int d) {
    if (d < 0) d = -d;
    if (d <= 4) return (uint64_t)d;
    if (d <= 7) return 5;
    if (d <= 12) return 6;
    if (d <= 20) return 7;
    return 8;
}

int casie__arg_feats(const casie__arg_ctx *c, int i, uint64_t *out) {
    const casie__tokfeat *tf = c->tf;
    int n = 0, b = c->b, e = c->e;
    uint64_t st = (uint64_t)c->subtype + 1;
    uint64_t pos = i < c->tb ? 1 : (i >= c->te ? 2 : 3);
    int d = i < c->tb ? c->tb - i : (i >= c->te ? i - c->te + 1 : 0);
    uint64_t db = token_gap_bucket(d);
    uint64_t pd = pos * 16 + db;
    uint64_t trig_s = tf[c->te - 1].s, trig_w = tf[c->te - 1].w;
    PUT(f1(A_BIAS, st));
    PUT(f2(A_W, st, tf[i].w));
    PUT(f2(A_S, st, tf[i].s));
    PUT(f2(A_SHAPE, st, tf[i].shape));
    PUT(f2(A_SUF, st, tf[i].suf3));
    PUT(f2(A_PRE, st, tf[i].pre3));
    PUT(f2(A_FLAGS, st, tf[i].flags));
    PUT(f2(A_CAP, st, tf[i].cap));
    for (int l = 0; l < 3; l++)
        if (tf[i].cl[l]) {
            PUT(f2(A_CL_LEVEL[l], st, tf[i].cl[l]));
            if (l == 1) PUT(f3(A_CL_POS, st, pos, tf[i].cl[l]));
        }
    PUT(f2(A_POS, st, pos));
    PUT(f2(A_DIST, st, pd));
    PUT(f3(A_POS_W, st, pos, tf[i].w));
    PUT(f3(A_POS_S, st, pd, tf[i].s));
    PUT(f3(A_POS_SHAPE, st, pd, tf[i].shape));
    PUT(f3(A_TRIG_S, st, trig_s, tf[i].s));
    PUT(f3(A_TRIG_W, st, trig_w, pos));
    PUT(f3(A_TRIG_S_POSD, st, trig_s, pd));
    PUT(f3(A_PREV_W_POS, st, pos, WORD_AT(tf, b, e, i - 1, w)));
    PUT(f3(A_NEXT_W_POS, st, pos, WORD_AT(tf, b, e, i + 1, w)));
    PUT(f2(A_PREV_S, st, WORD_AT(tf, b, e, i - 1, s)));
    PUT(f2(A_NEXT_S, st, WORD_AT(tf, b, e, i + 1, s)));
    PUT(f3(A_PREV2_W, st, WORD_AT(tf, b, e, i - 2, w), WORD_AT(tf, b, e, i - 1, w)));
    PUT(f3(A_W_DIST, st, db, tf[i].w));
    if (pos == 3) PUT(f1(A_IN_TRIG, st));
    /* what lies between the token and the trigger */
    int lo = i < c->tb ? i + 1 : c->te, hi = i < c->tb ? c->tb : i;
    int commas = 0, other_trig = 0;
    static const uint64_t COMMA = 0; /* compared by flags below */
    CASIE_UNUSED(COMMA);
    for (int k = lo; k < hi && k < e; k++) {
        if (tf[k].flags & CASIE_TOK_PUNCT) commas++;
        if (c->is_trig && c->is_trig[k]) other_trig = 1;
    }
    PUT(f3(A_COMMAS, st, pos, (uint64_t)(commas > 3 ? 3 : commas)));

    if (c->is_trig && c->is_trig[i] && pos != 3) PUT(f2(A_OTHER_TRIG_POS, st, pos));
    PUT(f3(A_BETWEEN_TRIG, st, pos, (uint64_t)other_trig));
    return n;
}

int casie__ent_feats(const casie__tokfeat *tf, int n_tokens, int ab, int ae, int role, int subtype, uint64_t *out) {
    int n = 0;
    uint64_t r = (uint64_t)role + 1;
    int head = ae - 1;
    PUT(f1(E_BIAS, 0));
    PUT(f1(E_ROLE, r));
    PUT(f2(E_ROLE_SUBTYPE, r, (uint64_t)subtype + 100));
    PUT(f1(E_HEAD, tf[head].w));
    PUT(f1(E_HEAD_S, tf[head].s));
    PUT(f2(E_ROLE_HEAD, r, tf[head].s));
    PUT(f1(E_FIRST, tf[ab].w));
    PUT(f1(E_SHAPE_HEAD, tf[head].shape));
    PUT(f1(E_SUF_HEAD, tf[head].suf3));
    PUT(f1(E_CAP, tf[head].cap));
    for (int l = 0; l < 3; l++)
        if (tf[head].cl[l]) PUT(f1(E_CL_HEAD_LEVEL[l], tf[head].cl[l]));
    int len = ae - ab;
    PUT(f1(E_LEN, (uint64_t)(len > 6 ? 6 : len)));
    uint32_t fl = 0;
    for (int k = ab; k < ae && n < CASIE_MAX_FEATS - 4; k++) {
        fl |= tf[k].flags;
        if (k - ab < 8) PUT(f1(E_WORD, tf[k].s));
    }
    PUT(f1(E_FLAGS, fl));
    PUT(f1(E_PREV, ab > 0 ? tf[ab - 1].w : 0));
    CASIE_UNUSED(n_tokens);
    return n;
}

int casie__realis_feats(const casie__tokfeat *tf, int b, int e, int tb, int te, int subtype, uint32_t fv,
                        uint64_t *out) {
    int n = 0;
    uint64_t st = (uint64_t)subtype + 1;
    PUT(f1(R_BIAS, st));
    for (int k = tb; k < te && k - tb < 6; k++) {
        PUT(f1(R_TRIG_W, tf[k].w));
        PUT(f2(R_TRIG_S, st, tf[k].s));
    }
    PUT(f1(R_FIRST_TRIG_W, tf[tb].w));
    PUT(f1(fv >= 4 ? R_LAST_TRIG_W : R_SENT_FIRST_W, tf[te - 1].w));
    PUT(f1(R_LAST_TRIG_SUF, tf[te - 1].suf3));
    PUT(f1(R_TRIG_SHAPE, tf[tb].shape));
    PUT(f1(R_PREV1, WORD_AT(tf, b, e, tb - 1, w)));
    PUT(f2(fv >= 4 ? R_PREV1_SUBTYPE : R_LAST_TRIG_SUF, st, WORD_AT(tf, b, e, tb - 1, w)));
    PUT(f2(R_PREV2, WORD_AT(tf, b, e, tb - 2, w), WORD_AT(tf, b, e, tb - 1, w)));
    PUT(f1(R_NEXT1, WORD_AT(tf, b, e, te, w)));
    PUT(f2(R_NEXT2, WORD_AT(tf, b, e, te, w), WORD_AT(tf, b, e, te + 1, w)));
    PUT(f2(R_LAST_TRIG_NEXT, tf[te - 1].w, WORD_AT(tf, b, e, te, w)));
    for (int k = tb - 1; k >= b && k >= tb - 8; k--) {
        PUT(f1(R_BEFORE_W, tf[k].w));
        if (tb - k <= 3) PUT(f2(R_BEFORE_DIST_W, (uint64_t)(tb - k), tf[k].w));
    }
    for (int k = te; k < e && k < te + 5; k++)
        PUT(f1(R_AFTER_W, tf[k].w));
    PUT(f1(R_SENT_POS, (uint64_t)(b == 0) * 2 + (uint64_t)(tb == b)));
    PUT(f1(R_SENT_FIRST_W, tf[b].w));
    for (int k = b; k < e && n < CASIE_MAX_FEATS - 2; k++)
        PUT(f1(R_SENT_W, tf[k].s));
    return n;
}
