/*
 * encoder.c - make bench: the transformer encoder's forward pass, pieces per
 * second on one thread, for each int8 kernel the CPU runs, over sequences of
 * 128 and 512 pieces and a long document in windows of 512 (stride 384);
 * then the peak RSS.  Built and run by bench/encoder.sh.
 *
 *   encoder ENCODER_FILE [SECONDS]        SECONDS per measurement (default 2)
 *   encoder --stack K IN OUT              writes OUT: IN's layers repeated K
 *                                         times (a deeper encoder of the same
 *                                         shapes, for timing only)
 *
 * The piece ids are fixed pseudo-random ones: the cost does not depend on
 * which pieces they are.
 */
#include "internal.h"
#include "encoder.h"
#include "hash.h"
#include "encoder_kernels.h"
#include "model_file.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *KERNEL_NAME[3] = {"plain C", "AVX2", "AVX-512 VNNI"};

/* pieces per CPU second of forward passes over n pieces, run for `secs` */
static double time_forward(const casie_encoder *e, int n, int kernel, double secs) {
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    float *out = malloc((size_t)n * e->cfg.hidden * sizeof *out);
    void *work = aligned_alloc(64, casie__encoder_work_bytes(e, n));
    uint64_t rng = 42;
    for (int i = 0; i < n; i++)
        ids[i] = 1000 + (int32_t)(casie__rng_next(&rng) % (uint64_t)(e->cfg.n_vocab - 1000));
    ids[0] = e->cfg.cls_id >= 0 ? e->cfg.cls_id : 0;
    ids[n - 1] = e->cfg.sep_id >= 0 ? e->cfg.sep_id : 0;
    long pieces = 0;
    double t0 = cpu_now();
    casie_error err = {0};
    do {
        if (casie__encoder_forward(e, ids, NULL, n, 1ull << e->cfg.n_layers, kernel, out, work, &err)) {
            fprintf(stderr, "bench: %s\n", err.message);
            exit(1);
        }
        pieces += n;
    } while (cpu_now() - t0 < secs);
    double rate = (double)pieces / (cpu_now() - t0);
    free(ids), free(out), free(work);
    return rate;
}

static double time_long(const casie_encoder *e, int n, double secs) {
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    float *out = malloc((size_t)n * e->cfg.hidden * sizeof *out);
    uint64_t rng = 7;
    for (int i = 0; i < n; i++)
        ids[i] = 1000 + (int32_t)(casie__rng_next(&rng) % (uint64_t)(e->cfg.n_vocab - 1000));
    int window = e->cfg.max_positions < 512 ? e->cfg.max_positions : 512, stride = window * 3 / 4;
    long pieces = 0;
    double t0 = cpu_now();
    casie_error err = {0};
    do {
        if (casie__encoder_encode_long(e, ids, n, window, stride, 1ull << e->cfg.n_layers, CASIE_Q8_BEST, 1, out,
                                       &err)) {
            fprintf(stderr, "bench: %s\n", err.message);
            exit(1);
        }
        pieces += n;
    } while (cpu_now() - t0 < secs);
    double rate = (double)pieces / (cpu_now() - t0);
    free(ids), free(out);
    return rate;
}

/* OUT = IN with its layers repeated k times (ECFG's n_layers and hash
 * changed, WGTS's layer block repeated). */
static int stack(int k, const char *in, const char *out) {
    casie_error err = {0};
    casie_encoder *e = casie_encoder_load(in, &err);
    if (!e) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 1;
    }
    const casie__section *cfg = casie__model_file_find(&e->file, "ECFG"), *w = casie__model_file_find(&e->file, "WGTS");
    size_t head = (size_t)((const unsigned char *)e->layers[0].qkv.q - (const unsigned char *)w->data);
    size_t layers = (size_t)w->size - head, size = head + layers * (size_t)k;
    unsigned char *nw = malloc(size), ncfg[96];
    memcpy(nw, w->data, (size_t)w->size);
    for (int i = 1; i < k; i++)
        memcpy(nw + head + layers * (size_t)i, (const unsigned char *)w->data + head, layers);
    memcpy(ncfg, cfg->data, 96);
    uint32_t nl = (uint32_t)(e->cfg.n_layers * k);
    memcpy(ncfg + 4, &nl, 4); /* little-endian hosts only, as the loader */
    uint64_t h = casie__mix64(e->cfg.hash ^ (uint64_t)k);
    memcpy(ncfg + 56, &h, 8);
    casie__section secs[8];
    int n = e->file.n_secs;
    for (int i = 0; i < n; i++) {
        secs[i] = e->file.secs[i];
        if (!strcmp(secs[i].tag, "ECFG")) secs[i].data = ncfg;
        if (!strcmp(secs[i].tag, "WGTS")) secs[i].data = nw, secs[i].size = size;
    }
    int rc = casie__container_write(out, CASIE__FILE_ENCODER, secs, n, &err);
    if (rc) fprintf(stderr, "bench: %s\n", err.message);
    free(nw);
    casie_encoder_free(e);
    return rc ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--stack")) return stack(atoi(argv[2]), argv[3], argv[4]);
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: encoder ENCODER_FILE [SECONDS] | encoder --stack K IN OUT\n");
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    casie_error err = {0};
    double t0 = now();
    casie_encoder *e = casie_encoder_load(argv[1], &err);
    if (!e) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 1;
    }
    double load = now() - t0;
    const casie_encoder_config *c = &e->cfg;
    printf("encoder %s: %s, %d layers x %d, %d heads, load %.0f ms\n", argv[1], c->name, c->n_layers, c->hidden,
           c->n_heads, 1e3 * load);
    printf("| kernel | pieces/s, 128 a pass | pieces/s, 512 a pass |\n|---|---|---|\n");
    for (int k = CASIE_Q8_PLAIN; k <= CASIE_Q8_VNNI; k++) {
        if (!casie__q8_supported(k)) continue;
        double a = time_forward(e, 128, k, secs), b = time_forward(e, 512, k, secs);
        printf("| %s%s | %.0f | %.0f |\n", KERNEL_NAME[k], k == casie__q8_best() ? " (used)" : "", a, b);
    }
    printf("long document, 4096 pieces in windows of 512 (stride 384): %.0f pieces/s\n", time_long(e, 4096, secs));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    casie_encoder_free(e);
    return 0;
}
