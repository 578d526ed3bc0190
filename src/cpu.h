/*
 * cpu.h - the SIMD level this CPU runs, probed once, and the table of the
 * library's hot kernels: one row per level (cpu.c).
 *
 * Internal to the library: names start with casie__ and may change freely.
 */
#ifndef CASIE_CPU_H
#define CASIE_CPU_H

#include "internal.h"

/* The levels; a CPU that runs one runs those below it too. */
enum {
    CASIE_SIMD_BEST = -1,  /* the best this CPU runs (casie__cpu_level) */
    CASIE_SIMD_PLAIN = 0,  /* plain C: any CPU */
    CASIE_SIMD_AVX2 = 1,   /* x86-64 with AVX2 */
    CASIE_SIMD_AVX512 = 2, /* x86-64 with AVX-512 F, BW and VNNI (and AVX2) */
    CASIE_SIMD_LEVELS = 3,
};

/* The level this CPU runs: probed on the first call (thread-safe), the
 * same answer after.  A build with CASIE_NO_AVX512 (make SIMD=avx2) stops
 * at CASIE_SIMD_AVX2, as a CPU without AVX-512 does. */
int casie__cpu_level(void);

/* How a module builds its kernels: the body once, always inlined, and a
 * copy per level that carries the level's target, so that the body (and
 * what it inlines) is compiled for that level's instructions. */
#if defined(__x86_64__) && defined(__GNUC__)
#define CASIE_X86 1
#define CASIE_TARGET_AVX2 __attribute__((target("avx2")))
#define CASIE_TARGET_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))
#else
#define CASIE_X86 0
#define CASIE_TARGET_AVX2
#define CASIE_TARGET_AVX512
#endif
#define CASIE_INLINE static inline __attribute__((always_inline))

/* The copies of kernel `name` from its body, a CASIE_INLINE function of the
 * same name: params is the copies' parameter list, args the body's
 * arguments, both in parentheses.  COPIES2 defines casie__NAME_plain and
 * casie__NAME_avx2, COPIES3 casie__NAME_avx512 too.  With _L the body's
 * first argument is the level, a constant in each copy, so that the body
 * calls the inner kernels of its own level; with _RET the body returns a
 * value of type `type`. */
#define CASIE_ARGS(...) __VA_ARGS__
#define CASIE_COPIES2(name, params, args)                                                                              \
    void casie__##name##_plain params { name args; }                                                                   \
    CASIE_TARGET_AVX2 void casie__##name##_avx2 params { name args; }
#define CASIE_COPIES3(name, params, args)                                                                              \
    CASIE_COPIES2(name, params, args)                                                                                  \
    CASIE_TARGET_AVX512 void casie__##name##_avx512 params { name args; }
#define CASIE_COPIES2_RET(type, name, params, args)                                                                    \
    type casie__##name##_plain params { return name args; }                                                            \
    CASIE_TARGET_AVX2 type casie__##name##_avx2 params { return name args; }
#define CASIE_COPIES2_L(name, params, args)                                                                            \
    void casie__##name##_plain params { name(CASIE_SIMD_PLAIN, CASIE_ARGS args); }                                     \
    CASIE_TARGET_AVX2 void casie__##name##_avx2 params { name(CASIE_SIMD_AVX2, CASIE_ARGS args); }
#define CASIE_COPIES3_L(name, params, args)                                                                            \
    CASIE_COPIES2_L(name, params, args)                                                                                \
    CASIE_TARGET_AVX512 void casie__##name##_avx512 params { name(CASIE_SIMD_AVX512, CASIE_ARGS args); }

/* ---- the kernels: each described where its module declares it ---- */
struct casie__nnet;
struct casie__nn_train;
struct casie__linear;
struct casie__q8mat;

/* nn.c (nn.h): the taggers' networks, inference and training */
typedef void casie__nnet_add_tcol_fn(const float *col, float v, int n, float *z);
typedef void casie__nnet_add_tcols_fn(const float *C, int nc, int n, const float *x, size_t xs, int T, float *z,
                                      size_t zs);
typedef void casie__nnet_sum2_fn(const float *a, const float *b, int n, float *z);
typedef void casie__nnet_project_q_fn(const struct casie__nnet *n, const void *P, int nc, const int8_t *v, float vscale,
                                      float *z, float *work);
typedef void casie__nnet_encode_proj_fn(const struct casie__nnet *n, const void *R, const float *Zx, int len, float *Hs,
                                        int16_t *Hq, float *work);
typedef void casie__nnet_head_fn(const struct casie__nnet *n, int h, const float *u, float *out, float *work);
typedef void casie__nnet_head_base_fn(const struct casie__nnet *n, int h, const float *tail, int c0, float *base);
typedef void casie__nnet_head_from_q_fn(const struct casie__nnet *n, int h, const void *Q, const float *base,
                                        const int16_t *uq, int c0, float *out, float *work);
typedef void casie__nn_train_len_fn(struct casie__nn_train *t, int len); /* train_encode, train_encode_bwd */
typedef void casie__nn_train_head_fwd_fn(struct casie__nn_train *t, int k, int h, float *out);
typedef void casie__nn_train_head_bwd_fn(struct casie__nn_train *t, int k, int h, const float *dout, float *du);
typedef void casie__nn_train_step_fn(struct casie__nn_train *t);
typedef float casie__crf_loss_fn(const float *E, int n, int L, const float *trans, const float *start,
                                 const uint8_t *allowed, const uint8_t *start_ok, const int *gold, float *dE,
                                 float *dtrans, float *dstart, float *work);
/* linear.c (linear.h): the perceptrons' scores */
typedef void casie__linear_score_fn(const struct casie__linear *m, const uint64_t *feats, int n_feats, float *scores);
/* encoder_kernels.c (encoder_kernels.h): the transformer encoder */
typedef void casie__q8_quantize_fn(const float *x, int n, int cols, int stride, int8_t *q, float *scale);
typedef void casie__q8_matmul_fn(const int8_t *xq, const float *xs, int n, const struct casie__q8mat *w,
                                 const float *bias, float *y, int ldy);
typedef void casie__gelu_fn(float *x, size_t n);
typedef void casie__add_layernorm_fn(float *x, const float *add, int n, int H, const float *g, const float *b,
                                     float eps, float *d);
typedef void casie__grad_gemm_fn(int M, int N, int K, const float *a, size_t sam, size_t sak, const float *b,
                                 size_t ldb, float *c, size_t ldc);
typedef void casie__attend_fn(const float *q, const float *k, const float *v, int ld, int n, int dh,
                              const uint8_t *mask, const float *rel, float *ctx, int ldc, float *kt, float *p);

/* One row of the table: every hot kernel, built for one level. */
typedef struct casie__kernels {
    int level; /* CASIE_SIMD_* */
    casie__nnet_add_tcol_fn *nnet_add_tcol;
    casie__grad_gemm_fn *grad_gemm; /* encoder_grad.c: fused multiply-adds, the same bits at every level */
    casie__nnet_add_tcols_fn *nnet_add_tcols;
    casie__nnet_sum2_fn *nnet_sum2;
    casie__nnet_project_q_fn *nnet_project_q;
    casie__nnet_encode_proj_fn *nnet_encode_proj;
    casie__nnet_head_fn *nnet_head;
    casie__nnet_head_base_fn *nnet_head_base;
    casie__nnet_head_from_q_fn *nnet_head_from_q;
    casie__nn_train_len_fn *nn_train_encode;
    casie__nn_train_head_fwd_fn *nn_train_head_fwd;
    casie__nn_train_head_bwd_fn *nn_train_head_bwd;
    casie__nn_train_len_fn *nn_train_encode_bwd;
    casie__nn_train_step_fn *nn_train_step;
    casie__crf_loss_fn *crf_loss;
    casie__linear_score_fn *linear_score;
    casie__q8_quantize_fn *q8_quantize;
    casie__q8_matmul_fn *q8_matmul;
    casie__gelu_fn *gelu;
    casie__add_layernorm_fn *add_layernorm;
    casie__attend_fn *attend;
} casie__kernels;

/* The row of `level`, or this CPU's with CASIE_SIMD_BEST; NULL for a level
 * this CPU does not run.  Rows are immutable; every level's kernels give
 * the same bits (tests compare them), so a test may run any row it gets. */
const casie__kernels *casie__kernels_at(int level);
/* This CPU's row: what every caller goes through. */
static inline const casie__kernels *casie__kernels_best(void) { return casie__kernels_at(CASIE_SIMD_BEST); }

/* Each kernel's copies, defined in its module: _plain, _avx2 and, where an
 * AVX-512 copy pays, _avx512 (the AVX-512 row takes the AVX2 copies of the
 * others). */
casie__nnet_add_tcol_fn casie__nnet_add_tcol_plain, casie__nnet_add_tcol_avx2;
casie__nnet_add_tcols_fn casie__nnet_add_tcols_plain, casie__nnet_add_tcols_avx2, casie__nnet_add_tcols_avx512;
casie__grad_gemm_fn casie__grad_gemm_plain, casie__grad_gemm_avx2;
casie__nnet_sum2_fn casie__nnet_sum2_plain, casie__nnet_sum2_avx2;
casie__nnet_project_q_fn casie__nnet_project_q_plain, casie__nnet_project_q_avx2;
casie__nnet_encode_proj_fn casie__nnet_encode_proj_plain, casie__nnet_encode_proj_avx2;
casie__nnet_head_fn casie__nnet_head_plain, casie__nnet_head_avx2;
casie__nnet_head_base_fn casie__nnet_head_base_plain, casie__nnet_head_base_avx2;
casie__nnet_head_from_q_fn casie__nnet_head_from_q_plain, casie__nnet_head_from_q_avx2;
casie__nn_train_len_fn casie__nn_train_encode_plain, casie__nn_train_encode_avx2;
casie__nn_train_head_fwd_fn casie__nn_train_head_fwd_plain, casie__nn_train_head_fwd_avx2;
casie__nn_train_head_bwd_fn casie__nn_train_head_bwd_plain, casie__nn_train_head_bwd_avx2;
casie__nn_train_len_fn casie__nn_train_encode_bwd_plain, casie__nn_train_encode_bwd_avx2;
casie__nn_train_step_fn casie__nn_train_step_plain, casie__nn_train_step_avx2;
casie__crf_loss_fn casie__crf_loss_plain, casie__crf_loss_avx2;
casie__linear_score_fn casie__linear_score_plain, casie__linear_score_avx2;
casie__q8_quantize_fn casie__q8_quantize_plain, casie__q8_quantize_avx2, casie__q8_quantize_avx512;
casie__q8_matmul_fn casie__q8_matmul_plain, casie__q8_matmul_avx2, casie__q8_matmul_avx512;
casie__gelu_fn casie__gelu_plain, casie__gelu_avx2, casie__gelu_avx512;
casie__add_layernorm_fn casie__add_layernorm_plain, casie__add_layernorm_avx2, casie__add_layernorm_avx512;
casie__attend_fn casie__attend_plain, casie__attend_avx2, casie__attend_avx512;

#endif /* CASIE_CPU_H */
