/*
 * glove_cluster.c - build helper (not part of libcasie).
 *
 * Spherical k-means (cosine similarity on L2-normalized vectors) over the N
 * most frequent words of a glove100.bin file (format: see glove_convert.c),
 * run separately for each K (default 64, 256, 1024).  Deterministic: k-means++
 * seeding with a fixed-seed PRNG, fixed iteration count (stops early when no
 * assignment changes), ties broken by lowest centroid index, centroid sums
 * accumulated sequentially in word order, so the result does not depend on
 * the number of threads.  The assignment step and the k-means++ distance
 * updates run on T pthreads (default 2).
 *
 * Cluster ids are renumbered per K in order of first appearance in frequency
 * order (the cluster of "the" is 0, and so on), so ids are stable and small.
 *
 * Output (TSV, UTF-8, '\n' line ends, no header), one line per word, in the
 * GloVe frequency order:
 *     word \t c<K1> \t c<K2> \t c<K3>
 * i.e. with the defaults `word<TAB>c64<TAB>c256<TAB>c1024`, ids in [0, K).
 *
 * Usage: glove_cluster [-n N] [-k 64,256,1024] [-i ITERS] [-t THREADS]
 *                      [-s SEED] GLOVE.bin OUT.tsv
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/glove.h" /* the reader training uses */

#define MAXK 8
#define BLK 8 /* centroids per transposed block */
#define PT 4  /* points per tile in the assignment kernel */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n) {
    void *q = malloc(n ? n : 1);
    if (!q) {
        fprintf(stderr, "glove_cluster: out of memory\n");
        exit(1);
    }
    return q;
}

static uint64_t rng_state;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }

/* ---- data ---- */
static size_t N, D;
static char **words;
static float *X; /* N x D, unit rows */

/* ---- parallel for ---- */
typedef void (*range_fn)(void *ctx, size_t lo, size_t hi);
struct job {
    range_fn fn;
    void *ctx;
    size_t lo, hi;
};
static int n_threads = 2;

static void *job_run(void *a) {
    struct job *j = a;
    j->fn(j->ctx, j->lo, j->hi);
    return NULL;
}

static void parallel_for(range_fn fn, void *ctx, size_t n) {
    int t = n_threads;
    if (t <= 1 || n < 1024) {
        fn(ctx, 0, n);
        return;
    }
    pthread_t th[64];
    struct job jobs[64];
    if (t > 64) t = 64;
    for (int i = 0; i < t; i++) {
        jobs[i] = (struct job){fn, ctx, n * (size_t)i / (size_t)t, n * (size_t)(i + 1) / (size_t)t};
        if (i > 0 && pthread_create(&th[i], NULL, job_run, &jobs[i]) != 0) {
            fprintf(stderr, "glove_cluster: pthread_create failed\n");
            exit(1);
        }
    }
    job_run(&jobs[0]);
    for (int i = 1; i < t; i++)
        pthread_join(th[i], NULL);
}

/* ---- k-means ---- */
struct km {
    size_t K, KB;      /* K centroids, KB = K rounded up to BLK */
    float *C;          /* K x D unit centroids */
    float *Ct;         /* (KB/BLK) blocks of D x BLK, transposed copy of C */
    int *assign;       /* N */
    float *best;       /* N: cosine to assigned centroid */
    float *mind;       /* N: k-means++ min squared distance */
    const float *newc; /* k-means++: the centroid just added */
};

static void build_ct(struct km *m) {
    for (size_t b = 0; b < m->KB / BLK; b++)
        for (size_t d = 0; d < D; d++)
            for (size_t j = 0; j < BLK; j++) {
                size_t c = b * BLK + j;
                /* padding columns are zero; assign_range skips them */
                m->Ct[(b * D + d) * BLK + j] = c < m->K ? m->C[c * D + d] : 0.0f;
            }
}

static void assign_range(void *ctx, size_t lo, size_t hi) {
    struct km *m = ctx;
    size_t nb = m->KB / BLK;
    for (size_t i0 = lo; i0 < hi; i0 += PT) {
        size_t np = hi - i0 < PT ? hi - i0 : PT;
        const float *xp[PT];
        for (size_t p = 0; p < PT; p++)
            xp[p] = X + (i0 + (p < np ? p : 0)) * D;
        float bs[PT];
        int bc[PT];
        for (size_t p = 0; p < PT; p++) {
            bs[p] = -INFINITY;
            bc[p] = 0;
        }
        for (size_t b = 0; b < nb; b++) {
            const float *ct = m->Ct + b * D * BLK;
            float acc[PT][BLK] = {{0}};
            for (size_t d = 0; d < D; d++) {
                const float *cr = ct + d * BLK;
                for (size_t p = 0; p < PT; p++) {
                    float xv = xp[p][d];
                    for (size_t j = 0; j < BLK; j++)
                        acc[p][j] += xv * cr[j];
                }
            }
            for (size_t p = 0; p < PT; p++)
                for (size_t j = 0; j < BLK; j++) {
                    size_t c = b * BLK + j;
                    if (c < m->K && acc[p][j] > bs[p]) {
                        bs[p] = acc[p][j];
                        bc[p] = (int)c;
                    }
                }
        }
        for (size_t p = 0; p < np; p++) {
            m->assign[i0 + p] = bc[p];
            m->best[i0 + p] = bs[p];
        }
    }
}

static void mind_range(void *ctx, size_t lo, size_t hi) {
    struct km *m = ctx;
    const float *c = m->newc;
    for (size_t i = lo; i < hi; i++) {
        const float *x = X + i * D;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t d = 0;
        for (; d + 4 <= D; d += 4) {
            s0 += x[d] * c[d];
            s1 += x[d + 1] * c[d + 1];
            s2 += x[d + 2] * c[d + 2];
            s3 += x[d + 3] * c[d + 3];
        }
        for (; d < D; d++)
            s0 += x[d] * c[d];
        float dist = 2.0f - 2.0f * ((s0 + s1) + (s2 + s3));
        if (dist < 0) dist = 0;
        if (dist < m->mind[i]) m->mind[i] = dist;
    }
}

static void normalize(float *v) {
    double ss = 0;
    for (size_t d = 0; d < D; d++)
        ss += (double)v[d] * v[d];
    if (ss > 0) {
        float inv = (float)(1.0 / sqrt(ss));
        for (size_t d = 0; d < D; d++)
            v[d] *= inv;
    }
}

static int *kmeans(size_t K, int iters) {
    struct km m = {0};
    m.K = K;
    m.KB = (K + BLK - 1) / BLK * BLK;
    m.C = xmalloc(K * D * sizeof(float));
    m.Ct = xmalloc(m.KB * D * sizeof(float));
    m.assign = xmalloc(N * sizeof(int));
    m.best = xmalloc(N * sizeof(float));
    m.mind = xmalloc(N * sizeof(float));
    double t0 = now();

    /* k-means++ seeding (D^2 sampling, squared euclidean on the sphere) */
    size_t first = (size_t)(rng_next() % N);
    memcpy(m.C, X + first * D, D * sizeof(float));
    for (size_t i = 0; i < N; i++)
        m.mind[i] = INFINITY;
    for (size_t c = 1; c <= K; c++) {
        m.newc = m.C + (c - 1) * D;
        parallel_for(mind_range, &m, N);
        if (c == K) break;
        double tot = 0;
        for (size_t i = 0; i < N; i++)
            tot += m.mind[i];
        double r = rng_unit() * tot, acc = 0;
        size_t pick = N - 1;
        for (size_t i = 0; i < N; i++) {
            acc += m.mind[i];
            if (acc > r && m.mind[i] > 0) {
                pick = i;
                break;
            }
        }
        memcpy(m.C + c * D, X + pick * D, D * sizeof(float));
    }
    fprintf(stderr, "  K=%zu: k-means++ seeding %.2fs\n", K, now() - t0);

    double *sum = xmalloc(K * D * sizeof(double));
    size_t *cnt = xmalloc(K * sizeof(size_t));
    int *prev = xmalloc(N * sizeof(int));
    unsigned char *used = xmalloc(N);
    for (size_t i = 0; i < N; i++)
        prev[i] = -1;

    for (int it = 1; it <= iters; it++) {
        double ti = now();
        build_ct(&m);
        parallel_for(assign_range, &m, N);
        size_t changed = 0;
        double obj = 0;
        for (size_t i = 0; i < N; i++) {
            changed += m.assign[i] != prev[i];
            prev[i] = m.assign[i];
            obj += m.best[i];
        }
        /* update: sequential sums in word order (deterministic) */
        memset(sum, 0, K * D * sizeof(double));
        memset(cnt, 0, K * sizeof(size_t));
        for (size_t i = 0; i < N; i++) {
            double *s = sum + (size_t)m.assign[i] * D;
            const float *x = X + i * D;
            for (size_t d = 0; d < D; d++)
                s[d] += x[d];
            cnt[m.assign[i]]++;
        }
        size_t empty = 0;
        memset(used, 0, N);
        for (size_t c = 0; c < K; c++) {
            float *cv = m.C + c * D;
            if (cnt[c]) {
                for (size_t d = 0; d < D; d++)
                    cv[d] = (float)sum[c * D + d];
                normalize(cv);
                continue;
            }
            /* empty cluster: reseed with the worst-fitting unused word */
            size_t w = 0;
            float ws = INFINITY;
            for (size_t i = 0; i < N; i++)
                if (!used[i] && m.best[i] < ws) {
                    ws = m.best[i];
                    w = i;
                }
            used[w] = 1;
            memcpy(cv, X + w * D, D * sizeof(float));
            empty++;
        }
        fprintf(stderr, "  K=%zu iter %2d: mean cos %.4f, changed %zu, empty %zu, %.2fs\n", K, it, obj / (double)N,
                changed, empty, now() - ti);
        if (changed == 0 && empty == 0) break;
    }
    /* final assignment against the last centroids */
    build_ct(&m);
    parallel_for(assign_range, &m, N);

    /* renumber by first appearance in frequency order */
    int *map = xmalloc(K * sizeof(int));
    for (size_t c = 0; c < K; c++)
        map[c] = -1;
    int next = 0;
    size_t *sz = xmalloc(K * sizeof(size_t));
    memset(sz, 0, K * sizeof(size_t));
    for (size_t i = 0; i < N; i++) {
        int c = m.assign[i];
        if (map[c] < 0) map[c] = next++;
        m.assign[i] = map[c];
        sz[m.assign[i]]++;
    }
    size_t mn = N, mx = 0;
    for (int c = 0; c < next; c++) {
        if (sz[c] < mn) mn = sz[c];
        if (sz[c] > mx) mx = sz[c];
    }
    fprintf(stderr, "  K=%zu: %d non-empty clusters, sizes %zu..%zu, total %.2fs\n", K, next, mn, mx, now() - t0);

    free(sz);
    free(map);
    free(sum);
    free(cnt);
    free(prev);
    free(used);
    free(m.C);
    free(m.Ct);
    free(m.best);
    free(m.mind);
    return m.assign;
}

static void usage(void) {
    fprintf(stderr, "usage: glove_cluster [-n N] [-k 64,256,1024] [-i ITERS] [-t THREADS] "
                    "[-s SEED] GLOVE.bin OUT.tsv\n");
    exit(2);
}

int main(int argc, char **argv) {
    size_t want_n = 100000, ks[MAXK] = {64, 256, 1024};
    int nk = 3, iters = 15;
    uint64_t seed = 20240601;
    int a = 1;
    for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
        if (a + 1 >= argc) usage();
        char o = argv[a][1];
        const char *v = argv[++a];
        if (o == 'n')
            want_n = strtoull(v, NULL, 10);
        else if (o == 'i')
            iters = atoi(v);
        else if (o == 't')
            n_threads = atoi(v);
        else if (o == 's')
            seed = strtoull(v, NULL, 10);
        else if (o == 'k') {
            nk = 0;
            for (const char *s = v; *s && nk < MAXK;) {
                char *e;
                ks[nk++] = strtoull(s, &e, 10);
                s = *e == ',' ? e + 1 : e;
                if (e == s && *e) usage();
            }
        } else
            usage();
    }
    if (argc - a != 2 || want_n == 0 || iters < 1 || n_threads < 1) usage();
    double t0 = now();

    FILE *f = fopen(argv[a], "rb");
    if (!f) {
        perror(argv[a]);
        return 1;
    }
    size_t len = 0, cap = 1 << 20, got;
    unsigned char *buf = xmalloc(cap);
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *grown = realloc(buf, cap *= 2);
            if (!grown) {
                fprintf(stderr, "glove_cluster: out of memory\n");
                return 1;
            }
            buf = grown;
        }
    }
    if (ferror(f)) {
        perror(argv[a]);
        return 1;
    }
    fclose(f);
    casie_glove g;
    if (casie_glove_parse(buf, len, &g)) {
        fprintf(stderr, "glove_cluster: %s: not a glove100.bin word-vector file\n", argv[a]);
        return 1;
    }
    size_t total = g.n_words;
    D = g.dim;
    N = want_n < total ? want_n : total;
    words = xmalloc(N * sizeof *words);
    const char *s = g.words;
    for (size_t i = 0; i < N; i++) {
        words[i] = (char *)s;
        s += strlen(s) + 1;
    }
    X = xmalloc(N * D * sizeof(float));
    for (size_t i = 0; i < N; i++)
        for (size_t d = 0; d < D; d++)
            X[i * D + d] = casie_glove_value(&g, (uint32_t)i, (uint32_t)d);
    for (size_t i = 0; i < N; i++)
        normalize(X + i * D);
    fprintf(stderr, "glove_cluster: %zu of %zu words, dim %zu, %d threads, %d iters, seed %llu; load %.2fs\n", N, total,
            D, n_threads, iters, (unsigned long long)seed, now() - t0);

    int *asg[MAXK];
    for (int k = 0; k < nk; k++) {
        if (ks[k] < 1 || ks[k] > N) {
            fprintf(stderr, "glove_cluster: bad K %zu\n", ks[k]);
            return 1;
        }
        rng_state = seed ^ (0x51ED27A1ull * (uint64_t)ks[k]);
        asg[k] = kmeans(ks[k], iters);
    }

    FILE *out = fopen(argv[a + 1], "w");
    if (!out) {
        perror(argv[a + 1]);
        return 1;
    }
    for (size_t i = 0; i < N; i++) {
        fputs(words[i], out);
        for (int k = 0; k < nk; k++)
            fprintf(out, "\t%d", asg[k][i]);
        fputc('\n', out);
    }
    if (fclose(out) != 0) {
        perror(argv[a + 1]);
        return 1;
    }
    fprintf(stderr, "glove_cluster: wrote %s (%zu lines), total %.2fs\n", argv[a + 1], N, now() - t0);
    return 0;
}
