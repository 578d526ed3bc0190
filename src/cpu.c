/*
 * cpu.c - which SIMD level this CPU runs, probed once, and the library's
 * table of hot kernels, one row per level.
 *
 * Not here: the kernels themselves (nn.c, linear.c, encoder_kernels.c),
 * which build the copies the rows point to.
 *
 * How a kernel is chosen, the one way in the library (as ggml's CPU
 * backend does): the first call that needs a kernel probes the CPU once
 * (pthread_once, __builtin_cpu_supports: AVX2; AVX-512 F, BW and VNNI) and
 * settles the level, the best of
 *   CASIE_SIMD_PLAIN   plain C, any CPU
 *   CASIE_SIMD_AVX2    AVX2
 *   CASIE_SIMD_AVX512  AVX-512 with VNNI (a CPU with AVX-512 but no VNNI
 *                      runs the AVX2 row)
 * that it runs; every caller then goes through that level's row of the
 * table below (casie__kernels_best; the module headers' casie__nnet_head,
 * casie__linear_score, ... pass their calls on to it, and the encoder's
 * forward pass reads the row of the level it is given).  Each module builds
 * a kernel's body once and a copy per level with that level's target
 * attribute; where a level gains nothing (the networks and the perceptron
 * scores at AVX-512), its row points at the copies of the level below.
 *
 * Every row gives the same bits: the copies run the same lane-wise
 * arithmetic in the same order, integer sums are exact, and nothing is
 * fused into one rounding (ISO C leaves contraction off; the encoder's
 * files are built with -ffp-contract=off besides).  Tests run each row the
 * CPU has against the plain one (casie__kernels_at); make SIMD=avx2
 * (CASIE_NO_AVX512) stops the probe at AVX2, to measure and test what a
 * CPU without AVX-512 runs.
 */
#include "internal.h"
#include "cpu.h"

#include <pthread.h>

static int probe(void) {
#if CASIE_X86
    __builtin_cpu_init();
    /* every CPU with AVX2 has FMA3 too; encoder_grad.c's product needs both */
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return CASIE_SIMD_PLAIN;
#if !defined(CASIE_NO_AVX512) /* make SIMD=avx2 */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
        return CASIE_SIMD_AVX512;
#endif
    return CASIE_SIMD_AVX2;
#else
    return CASIE_SIMD_PLAIN;
#endif
}

static pthread_once_t probed = PTHREAD_ONCE_INIT;
static int cpu_level; /* written once, under probed */

static void probe_once(void) { cpu_level = probe(); }

int casie__cpu_level(void) {
    pthread_once(&probed, probe_once);
    return cpu_level;
}

/* A module's copies for one level, as the row's fields. */
#define NN_KERNELS(s, wide)                                                                                            \
    .nnet_add_tcol = casie__nnet_add_tcol_##s, .nnet_add_tcols = casie__nnet_add_tcols_##wide,                         \
    .nnet_sum2 = casie__nnet_sum2_##s, .nnet_project_q = casie__nnet_project_q_##s,                                    \
    .nnet_encode_proj = casie__nnet_encode_proj_##s, .nnet_head = casie__nnet_head_##s,                                \
    .nnet_head_base = casie__nnet_head_base_##s, .nnet_head_from_q = casie__nnet_head_from_q_##s,                      \
    .nn_train_encode = casie__nn_train_encode_##s, .nn_train_head_fwd = casie__nn_train_head_fwd_##s,                  \
    .nn_train_head_bwd = casie__nn_train_head_bwd_##s, .nn_train_encode_bwd = casie__nn_train_encode_bwd_##s,          \
    .nn_train_step = casie__nn_train_step_##s, .crf_loss = casie__crf_loss_##s
#define LINEAR_KERNELS(s) .linear_score = casie__linear_score_##s
#define GRAD_KERNELS(s) .grad_gemm = casie__grad_gemm_##s
#define ENCODER_KERNELS(s)                                                                                             \
    .q8_quantize = casie__q8_quantize_##s, .q8_matmul = casie__q8_matmul_##s, .gelu = casie__gelu_##s,                 \
    .add_layernorm = casie__add_layernorm_##s, .attend = casie__attend_##s

static const casie__kernels TABLE[CASIE_SIMD_LEVELS] = {
    {.level = CASIE_SIMD_PLAIN,
     NN_KERNELS(plain, plain),
     LINEAR_KERNELS(plain),
     GRAD_KERNELS(plain),
     ENCODER_KERNELS(plain)},
    {.level = CASIE_SIMD_AVX2, NN_KERNELS(avx2, avx2), LINEAR_KERNELS(avx2), GRAD_KERNELS(avx2), ENCODER_KERNELS(avx2)},
    {.level = CASIE_SIMD_AVX512,
     NN_KERNELS(avx2, avx512),
     LINEAR_KERNELS(avx2),
     GRAD_KERNELS(avx2),
     ENCODER_KERNELS(avx512)},
};

const casie__kernels *casie__kernels_at(int level) {
    int best = casie__cpu_level();
    if (level == CASIE_SIMD_BEST) level = best;
    return level >= CASIE_SIMD_PLAIN && level <= best ? &TABLE[level] : NULL;
}
