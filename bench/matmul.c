/*
 * matmul.c - multiply-adds per second of the encoder's int8 product
 * (q8_matmul) alone, one thread, on random int8 rows: what the packed
 * panels (VNNI) and the row kernel (AVX2) reach against the core's peak.
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc bench/matmul.c -o build/bench_matmul \
 *     build/libcasie.a $(pkg-config --libs jansson libutf8proc) -lstemmer -lpthread -lm
 *   build/bench_matmul TOKENS ROWS COLS [LEVEL]     (LEVEL 1 AVX2, 2 VNNI: default)
 *
 * MPNet-base's products: 128 3072 768 (the first feed-forward product at
 * 128 pieces), 512 768 3072 (the second at 512), 512 2304 768 (Q/K/V).
 */
#include "internal.h"
#include "encoder_kernels.h"
#include "cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_matmul TOKENS ROWS COLS [LEVEL]\n");
        return 2;
    }
    const int n = atoi(argv[1]), rows = atoi(argv[2]), cols = atoi(argv[3]);
    const int level = argc > 4 ? atoi(argv[4]) : CASIE_Q8_VNNI, S = (cols + 63) & ~63;
    const casie__kernels *K = casie__kernels_at(level);
    if (n < 1 || rows < 1 || cols < 1 || !K) {
        fprintf(stderr, "bench_matmul: bad sizes, or level %d not on this CPU\n", level);
        return 2;
    }
    int8_t *wq = aligned_alloc(64, (size_t)rows * S), *xq = aligned_alloc(64, (size_t)n * S);
    float *ws = malloc((size_t)rows * sizeof *ws), *xs = malloc((size_t)n * sizeof *xs);
    float *y = malloc((size_t)n * rows * sizeof *y);
    int32_t *sum = calloc((size_t)rows, sizeof *sum);
    if (!wq || !xq || !ws || !xs || !y || !sum) return 1;
    srand(1);
    for (size_t i = 0; i < (size_t)rows * S; i++)
        wq[i] = (int8_t)(rand() % 255 - 127);
    for (size_t i = 0; i < (size_t)n * S; i++)
        xq[i] = (int8_t)(rand() % 255 - 127);
    for (int r = 0; r < rows; r++) {
        ws[r] = 0.01f;
        for (int c = 0; c < S; c++)
            sum[r] += wq[(size_t)r * S + c];
    }
    for (int i = 0; i < n; i++)
        xs[i] = 0.1f;
    casie__q8mat m = {rows, cols, S, wq, ws, sum, NULL};
    uint8_t *panel = NULL;
    if (level == CASIE_Q8_VNNI) { /* as a loaded encoder's layers are */
        if (!(panel = aligned_alloc(64, casie__q8_panel_bytes(&m)))) return 1;
        casie__q8_pack(&m, panel);
        m.panel = panel;
    }
    long it = 0;
    double t0 = now(), t;
    do {
        K->q8_matmul(xq, xs, n, &m, NULL, y, rows);
        it++;
    } while ((t = now() - t0) < 1.0);
    printf("q8_matmul, level %d, %d tokens x %d rows x %d columns: %.1f GMAC/s\n", level, n, rows, cols,
           (double)n * rows * cols * (double)it / t / 1e9);
    free(wq), free(xq), free(ws), free(xs), free(y), free(sum), free(panel);
    return 0;
}
