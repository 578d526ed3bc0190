/* fuzz_jsonl.c - the JSONL batch reader of `casie extract` (read_input in
 * tools/cmd_extract.c, included here to reach its static functions) on
 * arbitrary bytes: records, blank lines, long lines, bad records, with a small
 * model so that every record also goes through extraction and the ordered
 * writer.  Output goes to /dev/null. */
#include "../tools/cmd_extract.c"
#include "fuzz_common.h"

/* cmd_extract needs it; the CLI's lives in cli_exit.c */
int cli_fail(const casie_error *err) {
    fprintf(stderr, "casie: %s\n", err->message);
    return 1;
}

static casie_model *g_model;
static batch g_batch;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *tiny = getenv("CASIE_TINY_MODEL");
    g_model = fuzz_load_model(tiny && *tiny ? tiny : CASIE_TINY_MODEL);
    if (!freopen("/dev/null", "w", stdout)) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ctx c = {0};
    c.m = g_model;
    c.p = casie_extract_default_params();
    c.scores = 1;
    c.threads = 1;
    c.given_fd = -1;
    memset(&g_batch, 0, sizeof g_batch);
    g_batch.c = &c;
    FILE *f = fmemopen(size ? (void *)data : (void *)"", size, "r");
    if (!f) return 0;
    int rc = read_input(&g_batch, f, "fuzz.jsonl", size && data[0] == '{' ? IN_AUTO : IN_JSONL, -1);
    if (rc == 0) rc = flush_batch(&g_batch);
    fclose(f);
    if (g_batch.n) abort(); /* every record written or reported */
    return 0;
}
