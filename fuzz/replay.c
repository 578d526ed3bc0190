/*
 * replay.c - a fuzz target without libFuzzer: `replay_<target> FILE...` runs
 * LLVMFuzzerTestOneInput once on each file.  Built with the ordinary compiler
 * by `make test` (and under ASan by `make asan`), it turns every reproducer
 * in tests/data/fuzz/<target>/ into a regression test (tests/test_fuzz_replay.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        size_t cap = 1 << 16, n = 0, got;
        uint8_t *buf = malloc(cap);
        while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
            if ((n += got) == cap) buf = realloc(buf, cap *= 2);
        fclose(f);
        if (!buf) return 2;
        /* an exact-size copy, so that ASan sees a read past the input */
        uint8_t *in = malloc(n ? n : 1);
        if (!in) return 2;
        for (size_t k = 0; k < n; k++)
            in[k] = buf[k];
        free(buf);
        LLVMFuzzerTestOneInput(in, n);
        free(in);
    }
    fprintf(stderr, "replay: %d inputs\n", argc - 1);
    return 0;
}
