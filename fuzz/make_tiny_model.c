/* make_tiny_model.c - `make_tiny_model FROM TO [ROWS]`: writes the tiny model
 * of tests/tiny_model.h (the seed of fuzz_model, the model of fuzz_jsonl). */
#include "../tests/tiny_model.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: make_tiny_model FROM TO [ROWS]\n");
        return 2;
    }
    casie_error err = {0};
    if (tiny_model_write(argv[1], argv[2], argc > 3 ? (uint32_t)atoi(argv[3]) : 64, &err)) {
        fprintf(stderr, "make_tiny_model: %s\n", err.message);
        return 1;
    }
    return 0;
}
