/*
 * bench_grad.c - the training side of the encoder (src/encoder_grad.c):
 * seconds for one forward and backward pass of one layer of MPNet's size
 * (H 768, 12 heads, I 3072) with the relative position bias, on one thread,
 * for sequences of 128 and 512 pieces; then one AdamW step over the layer.
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc bench/bench_grad.c \
 *      build/libcasie.a $(pkg-config --libs jansson libutf8proc) -lstemmer -lpthread -lm
 *   bench_grad [REPEATS]        each size's best of REPEATS (default 3)
 *
 * Random weights and inputs: the cost does not depend on their values.
 */
#include "internal.h"
#include "encoder_grad.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* this thread's CPU seconds: on a shared machine, less noisy than the wall clock */
static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float frand(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)((*s >> 11) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

int main(int argc, char **argv) {
    const int H = 768, NH = 12, I = 3072, sizes[2] = {128, 512};
    int repeats = argc > 1 ? atoi(argv[1]) : 3;
    if (repeats < 1) repeats = 1;
    casie_error err = {0};
    casie__enc_layer_f32 L, G, M, V;
    if (casie__enc_layer_f32_init(&L, H, NH, I, 1e-5f, &err) || casie__enc_layer_f32_init(&G, H, NH, I, 1e-5f, &err) ||
        casie__enc_layer_f32_init(&M, H, NH, I, 1e-5f, &err) || casie__enc_layer_f32_init(&V, H, NH, I, 1e-5f, &err)) {
        fprintf(stderr, "bench_grad: %s\n", err.message);
        return 1;
    }
    uint64_t s = 42;
    for (size_t i = 0; i < L.n_params; i++)
        L.mem[i] = 0.05f * frand(&s);
    for (int i = 0; i < H; i++)
        L.ln1_g[i] = L.ln2_g[i] = 1.0f;
    printf("encoder layer H %d, %d heads, I %d (%zu parameters), forward + backward, one thread:\n", H, NH, I,
           L.n_params);
    for (int k = 0; k < 2; k++) {
        const int n = sizes[k];
        casie__enc_layer_acts A;
        if (casie__enc_layer_acts_init(&A, &L, n, &err)) {
            fprintf(stderr, "bench_grad: %s\n", err.message);
            return 1;
        }
        float *x = malloc(sizeof(float) * (size_t)n * H), *dout = malloc(sizeof(float) * (size_t)n * H);
        float *dx = malloc(sizeof(float) * (size_t)n * H), *bias = malloc(sizeof(float) * (size_t)NH * n * n);
        uint8_t *mask = malloc((size_t)n);
        if (!x || !dout || !dx || !bias || !mask) return 1;
        for (size_t i = 0; i < (size_t)n * H; i++)
            x[i] = frand(&s), dout[i] = frand(&s);
        for (size_t i = 0; i < (size_t)NH * n * n; i++)
            bias[i] = 0.5f * frand(&s);
        for (int i = 0; i < n; i++)
            mask[i] = i < n - n / 8;
        double best_f = 1e30, best_b = 1e30, best_cpu = 1e30;
        for (int r = 0; r < repeats; r++) {
            double c0 = cpu_now(), t0 = now();
            casie__enc_layer_f32_forward(&L, x, n, bias, mask, &A);
            double t1 = now();
            casie__enc_layer_f32_backward(&L, dout, &A, dx, &G);
            double t2 = now(), c2 = cpu_now();
            best_f = t1 - t0 < best_f ? t1 - t0 : best_f;
            best_b = t2 - t1 < best_b ? t2 - t1 : best_b;
            best_cpu = c2 - c0 < best_cpu ? c2 - c0 : best_cpu;
        }
        /* flops: the four products forward, twice that backward; attention's four and eight */
        const double fl = 3.0 * 2.0 * n * (4.0 * H * H + 2.0 * H * I) + 3.0 * 4.0 * (double)n * n * H;
        printf("  n %4d: forward %.3f s, backward %.3f s, total %.3f s wall, %.3f s CPU, %.1f GFLOP/s (best of %d)\n",
               n, best_f, best_b, best_f + best_b, best_cpu, fl / (best_f + best_b) * 1e-9, repeats);
        free(x), free(dout), free(dx), free(bias), free(mask);
        casie__enc_layer_acts_free(&A);
    }
    double t0 = now();
    casie__adamw_update(L.mem, G.mem, M.mem, V.mem, L.n_params, 1, 1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f);
    printf("  AdamW step over the layer: %.4f s\n", now() - t0);
    casie__enc_layer_f32_free(&L), casie__enc_layer_f32_free(&G), casie__enc_layer_f32_free(&M);
    casie__enc_layer_f32_free(&V);
    return 0;
}
