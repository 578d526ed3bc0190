/*
 * model_cache.c - what a loaded model keeps for extraction besides its
 * weights: the forms extraction derives from each network's weights (made
 * once at load, or per document for a model in training), the cache of the
 * networks' input projections of the most frequent words, and the pool of
 * extraction scratch that finished documents hand on to the next ones.
 *
 * Not here: the weights and the file (model.c), extraction itself
 * (extract.c, which owns what a scratch holds).
 */
#include "internal.h"
#include "feats.h"
#include "model.h"
#include "nn.h"

#include <pthread.h>
#include <string.h>

/* ---- derived weights and the projection cache ---- */

/* floats of the word vector at the start of a token vector */
static int emb_dim(const casie__emb *e) { return e->n_words ? (int)e->dim : 0; }

static size_t cols_floats(const casie__nnet *n, const casie__emb *e) {
    return (size_t)(n->D - emb_dim(e)) * 8 * (size_t)n->H;
}

#define REL_ROWS (CASIE_ARGVEC_SIDES * CASIE_ARGVEC_BUCKETS * CASIE_N_SUBTYPES)

/* T (REL_ROWS, 8H): an argument network's relation-column sums, from its
 * transposed columns C (casie__nnet_cols_transpose from the word vector on). */
static void rel_table(const casie__nnet *n, const float *C, int dim0, float *T) {
    const int G2 = 8 * n->H;
    const float *rc = C + (size_t)(n->D - CASIE_ARGVEC_REL - dim0) * G2; /* the first relation column */
    for (int side = 0; side < CASIE_ARGVEC_SIDES; side++)
        for (int bk = 0; bk < CASIE_ARGVEC_BUCKETS; bk++)
            for (int st = 0; st < CASIE_N_SUBTYPES; st++) {
                float *row = T + (size_t)((side * CASIE_ARGVEC_BUCKETS + bk) * CASIE_N_SUBTYPES + st) * G2;
                memset(row, 0, sizeof(float) * (size_t)G2);
                casie__nnet_add_tcol(rc + (size_t)(CASIE_AV_SIDE + side) * G2, 1.0f, G2, row);
                casie__nnet_add_tcol(rc + (size_t)(CASIE_AV_DIST + bk) * G2, 1.0f, G2, row);
                casie__nnet_add_tcol(rc + (size_t)(CASIE_AV_SUBTYPE + st) * G2, 1.0f, G2, row);
            }
}

void casie__derived_free(casie__derived *d) {
    free(d->R), free(d->C), free(d->P), free(d->Q), free(d->T);
    memset(d, 0, sizeof *d);
}

int casie__derive_weights(const casie__nnet *n, const casie__emb *e, int arg, casie__derived *d) {
    const int dim = emb_dim(e);
    memset(d, 0, sizeof *d);
    d->R = malloc(casie__nnet_rec_bytes(n));
    d->C = malloc(sizeof(float) * (cols_floats(n, e) ? cols_floats(n, e) : 1));
    d->P = malloc(casie__nnet_proj_bytes(n, dim));
    d->Q = malloc(casie__nnet_head_bytes(n, 2 * n->H));
    d->T = arg ? malloc(sizeof(float) * REL_ROWS * 8 * (size_t)n->H) : NULL;
    if (!d->R || !d->C || !d->P || !d->Q || (arg && !d->T)) {
        casie__derived_free(d);
        return CASIE_ERR_NOMEM;
    }
    casie__nnet_rec_quantize(n, d->R);
    casie__nnet_cols_transpose(n, dim, d->C);
    casie__nnet_proj_quantize(n, dim, d->P);
    casie__nnet_head_quantize(n, 0, 2 * n->H, d->Q); /* a token's own states, both taggers' head 0 */
    if (arg) rel_table(n, d->C, dim, d->T);
    return CASIE_OK;
}

void casie__projcache_init(casie__projcache *pc, const casie__nnet *n, const casie__emb *e, int arg) {
    memset(pc, 0, sizeof *pc);
    if (!n->p) return;
    casie__derive_weights(n, e, arg, &pc->w); /* without memory: each document makes its own */
    int rows = e->n_words < CASIE_PROJCACHE_ROWS ? (int)e->n_words : CASIE_PROJCACHE_ROWS;
    if (rows <= 0) return;
    /* large: calloc maps fresh zero pages, so only the rows filled count */
    pc->z = calloc((size_t)rows * 8 * (size_t)n->H, sizeof(float));
    pc->state = calloc((size_t)rows, sizeof *pc->state);
    if (!pc->z || !pc->state) {
        free(pc->z);
        free((void *)pc->state);
        pc->z = NULL;
        pc->state = NULL;
        return;
    }
    pc->rows = rows;
}

void casie__projcache_free(casie__projcache *pc) {
    free(pc->z);
    free((void *)pc->state);
    casie__derived_free(&pc->w);
    memset(pc, 0, sizeof *pc);
}

/* ---- the scratch pool ---- */

/* A loaded model keeps the scratch of finished extractions for the next
 * ones: its buffers are megabytes, and allocating them afresh for every
 * document cost page faults that took a tenth of the time. */
struct casie__pool {
    pthread_mutex_t mu;
    void (*destroy)(void *);
    int n;
    void *item[CASIE__POOL_MAX];
};

casie__pool *casie__pool_new(void (*destroy)(void *)) {
    casie__pool *p = calloc(1, sizeof *p);
    if (p && pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return NULL;
    }
    if (p) p->destroy = destroy;
    return p;
}

void *casie__pool_take(casie__pool *p) {
    void *item = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->n > 0) item = p->item[--p->n];
    pthread_mutex_unlock(&p->mu);
    return item;
}

int casie__pool_give(casie__pool *p, void *item) {
    pthread_mutex_lock(&p->mu);
    int kept = p->n < CASIE__POOL_MAX;
    if (kept) p->item[p->n++] = item;
    pthread_mutex_unlock(&p->mu);
    return !kept;
}

void casie__pool_free(casie__pool *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++)
        p->destroy(p->item[i]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
