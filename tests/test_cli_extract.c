/*
 * test_cli_extract.c - `casie extract` as a user runs it: formats, JSONL in
 * input order with several threads, error records for bad records, exit
 * codes, output errors, and --given-triggers; -o DIR as an adversary would
 * use it (ids that climb out, symbolic links, long paths, repeated names, a
 * full disk), input formats, byte-order marks, numeric options and inputs
 * over the size limit.
 */
#include "cli_common.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>

#define ART1 "Hackers stole the personal data of 2 million customers from Acme Bank, the company said on Monday."
#define ART2 "Microsoft released a patch for a critical vulnerability in Windows that attackers exploited."

static void sample_article_text_and_json(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(cli_run("extract --format text examples/sample-article.txt", &out, &err), 0);
    assert_non_null(strstr(out, "== sample-article \"Hospital network hit by ransomware, patients diverted\""));
    assert_non_null(strstr(out, "Attack.Ransom"));
    free(out), free(err);
    assert_int_equal(cli_run("extract examples/sample-article.txt", &out, &err), 0);
    assert_non_null(strstr(out, "\"cyberevent\": {")); /* one document: indented */
    assert_non_null(strstr(out, "\"sourcefile\": \"sample-article.txt\""));
    assert_non_null(strstr(out, "\"score\""));
    assert_non_null(strstr(out, "\"link\": \"https://example.org/news/hospital-ransomware\""));
    free(out), free(err);
    assert_int_equal(cli_run("extract --format stix examples/sample-article.txt", &out, &err), 0);
    assert_non_null(strstr(out, "\"type\": \"bundle\""));
    assert_non_null(strstr(out, "\"name\": \"Hospital network hit by ransomware, patients diverted\""));
    free(out), free(err);
    assert_int_equal(cli_run("extract --no-scores examples/sample-article.txt", &out, &err), 0);
    assert_null(strstr(out, "\"score\""));
    free(out), free(err);
}

static void jsonl_order_threads_and_errors(void **state) {
    (void)state;
    /* 150 records (more than one batch), two of them bad */
    size_t cap = 1 << 16, n = 0;
    char *in = malloc(cap);
    assert_non_null(in);
    for (int i = 0; i < 150; i++) {
        char line[512];
        if (i == 70)
            snprintf(line, sizeof line, "{\"id\": \"r%d\", \"text\": 5}\n", i);
        else if (i == 71)
            snprintf(line, sizeof line, "this is not json\n");
        else
            snprintf(line, sizeof line, "{\"id\": \"r%d\", \"text\": \"%s\"}\n", i, i % 2 ? ART1 : ART2);
        size_t k = strlen(line);
        while (n + k + 1 > cap)
            assert_non_null(in = realloc(in, cap *= 2));
        memcpy(in + n, line, k + 1);
        n += k;
    }
    const char *path = cli_write("in.jsonl", in);
    char args[512], *o1, *e1, *o2, *e2;
    snprintf(args, sizeof args, "extract --threads 1 %s", path);
    assert_int_equal(cli_run(args, &o1, &e1), 1); /* failures make the exit status 1 */
    snprintf(args, sizeof args, "extract --threads 2 < %s", path);
    assert_int_equal(cli_run(args, &o2, &e2), 1);
    /* same records, same order, whatever the thread count */
    const char *p1 = strchr(o1, '\n');
    assert_non_null(p1);
    assert_int_equal(cli_count(o1, "\n"), 150);
    assert_int_equal(cli_count(o2, "\n"), 150);
    assert_int_equal(cli_count(o1, "\"error\":"), 2);
    assert_non_null(strstr(o1, "{\"id\":\"")); /* the error records */
    assert_non_null(strstr(e1, "in.jsonl:71: \"text\" is not a string"));
    assert_non_null(strstr(e1, "in.jsonl:72: JSON syntax error"));
    assert_non_null(strstr(e1, "150 records, 2 failed"));
    /* record k of the output is input record k */
    const char *line = o1;
    for (int i = 0; i < 150; i++) {
        char want[64];
        if (i == 70 || i == 71)
            snprintf(want, sizeof want, "in.jsonl:%d\"", i + 1);
        else
            snprintf(want, sizeof want, "\"sourcefile\":\"r%d.txt\"", i);
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        char *hit = strstr(line, want);
        assert_true(hit && hit < end);
        line = end + 1;
    }
    /* stdin with 2 threads gives the same records (names differ: <stdin>) */
    assert_int_equal(cli_count(o2, "\"sourcefile\":\"r"), 148);
    free(o1), free(e1), free(o2), free(e2), free(in);
}

/* The same records through GNU parallel (as Hadoop Streaming or Spark's
 * RDD.pipe would run it: record chunks on stdin, JSONL on stdout) give the
 * same output as one process. */
static void under_gnu_parallel(void **state) {
    (void)state;
    if (system("command -v parallel >/dev/null 2>&1") != 0) {
        const char *ci = getenv("CI");
        if (ci && !strcmp(ci, "true")) fail_msg("GNU parallel is not installed (scripts/setup.sh installs it)");
        skip();
    }
    char in[256], one[256], par[256], cmd[2048];
    snprintf(in, sizeof in, "%s/par.jsonl", cli_tmpdir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (int i = 0; i < 60; i++)
        fprintf(f, "{\"id\": \"p%d\", \"text\": \"%s\"}\n", i, i % 3 ? ART1 : ART2);
    fclose(f);
    snprintf(one, sizeof one, "%s/one.jsonl", cli_tmpdir);
    snprintf(par, sizeof par, "%s/par.out", cli_tmpdir);
    snprintf(cmd, sizeof cmd, "%s extract --jsonl --threads 1 < %s > %s 2>/dev/null", cli_bin, in, one);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "parallel --will-cite --pipe -N 7 --keep-order -j 2 %s extract --jsonl --threads 1 < %s > %s 2>/dev/null",
             cli_bin, in, par);
    assert_int_equal(system(cmd), 0);
    char *a = cli_slurp(one), *b = cli_slurp(par);
    /* the names differ only by the line numbers of each chunk: compare the documents */
    assert_int_equal(cli_count(a, "\n"), 60);
    assert_int_equal(cli_count(b, "\n"), 60);
    assert_string_equal(a, b);
    free(a), free(b);
}

static void bad_input_and_output(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(cli_run("extract /nonexistent/file.txt", &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/file.txt: No such file or directory"));
    assert_non_null(strstr(out, "\"error\":"));
    free(out), free(err);
    assert_int_equal(cli_run("extract -m /nonexistent/model examples/sample-article.txt", &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/model"));
    free(out), free(err);
    const char *bad = cli_write("bad.model", "CASIEMDL but not really a model file at all, just text");
    char args[1024];
    snprintf(args, sizeof args, "extract -m %s examples/sample-article.txt", bad);
    assert_int_equal(cli_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "bad.model"));
    free(out), free(err);
    /* a full disk: a message and a non-zero exit */
    snprintf(args, sizeof args, "%s extract examples/sample-article.txt >/dev/full 2>%s/full.err", cli_bin, cli_tmpdir);
    int rc = system(args);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(args, sizeof args, "%s/full.err", cli_tmpdir);
    err = cli_slurp(args);
    assert_non_null(strstr(err, "No space left on device"));
    free(err);
    assert_int_equal(cli_run("extract --threads 0 x", &out, &err), 2);
    free(out), free(err);
    assert_int_equal(cli_run("extract --trigger-threshold 2 x", &out, &err), 2);
    free(out), free(err);
    /* an empty document is a document with no events */
    const char *empty = cli_write("empty.txt", "   \n\n  ");
    snprintf(args, sizeof args, "extract %s", empty);
    assert_int_equal(cli_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"hopper\": []"));
    free(out), free(err);
}

static void thresholds_trade_recall(void **state) {
    (void)state;
    char *lo, *hi, *e1, *e2;
    assert_int_equal(cli_run("extract examples/sample-article.txt", &lo, &e1), 0);
    assert_int_equal(
        cli_run("extract --trigger-threshold 0.9 --arg-threshold 0.9 examples/sample-article.txt", &hi, &e2), 0);
    assert_true(cli_count(hi, "\"role\"") < cli_count(lo, "\"role\""));
    assert_true(cli_count(hi, "\"nugget\"") <= cli_count(lo, "\"nugget\""));
    free(lo), free(hi), free(e1), free(e2);
}

static void given_triggers_keep_gold(void **state) {
    (void)state;
    const char *corpus = test_corpus();
    if (!corpus) skip();
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "extract --given-triggers %s %s/annotation/1101.json", corpus, corpus);
    assert_int_equal(cli_run(args, &out, &err), 0);
    char gold[512];
    snprintf(gold, sizeof gold, "%s/annotation/1101.json", corpus);
    casie_error e = {0};
    casie_doc *g = casie_doc_load(gold, &e);
    assert_non_null(g);
    casie_doc *p = casie_doc_from_json(out, strlen(out), "out", &e);
    assert_non_null(p);
    casie_eval *ev = casie_eval_new();
    assert_int_equal(casie_eval_add(ev, g, p, &e), CASIE_OK);
    casie_counts c = casie_eval_counts(ev, CASIE_METRIC_TRIG_C, -1, -1);
    assert_int_equal(c.fp, 0);
    assert_int_equal(c.fn, 0);
    assert_true(c.tp > 0);
    casie_eval_free(ev);
    casie_doc_free(g);
    casie_doc_free(p);
    free(out), free(err);
}

/* Output errors in every command: a full disk is a message and exit 1; a
 * reader that stops early (head) ends the writer quietly, whether SIGPIPE
 * kills it or is ignored and writes fail with EPIPE. */
static void output_errors(void **state) {
    (void)state;
    static const char *const cmds[] = {
        "tokenize examples/sample-article.txt",
        "extract --format text examples/sample-article.txt",
        "extract --format stix examples/sample-article.txt",
        "extract --help",
        "--version",
        "stats tests/data",
    };
    char sh[2048], path[256];
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        snprintf(path, sizeof path, "%s/full.err", cli_tmpdir);
        snprintf(sh, sizeof sh, "%s %s >/dev/full 2>%s", cli_bin, cmds[i], path);
        int rc = system(sh);
        char *err = cli_slurp(path);
        if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 1 || !strstr(err, "No space left on device"))
            fail_msg("%s >/dev/full: status %d, stderr '%s'", cmds[i], rc, err);
        free(err);
    }
    snprintf(sh, sizeof sh, "%s extract examples/sample-article.txt | %s render >/dev/full 2>%s/full.err", cli_bin,
             cli_bin, cli_tmpdir);
    assert_int_not_equal(system(sh), 0);
    snprintf(path, sizeof path, "%s/full.err", cli_tmpdir);
    char *err = cli_slurp(path);
    assert_non_null(strstr(err, "No space left on device"));
    free(err);
    /* 3000 records and a long article: far more output than a pipe holds */
    char article[256];
    snprintf(path, sizeof path, "%s/many.jsonl", cli_tmpdir);
    snprintf(article, sizeof article, "%s/long.txt", cli_tmpdir);
    FILE *f = fopen(path, "w"), *a = fopen(article, "w");
    assert_non_null(f);
    assert_non_null(a);
    for (int i = 0; i < 3000; i++) {
        fprintf(f, "{\"id\": \"r%d\", \"text\": \"Hackers stole data from Acme.\"}\n", i);
        fprintf(a, "Record %d: hackers stole data from Acme.\n", i);
    }
    fclose(f);
    fclose(a);
    static const char *const traps[2] = {"", "trap '' PIPE; "};
    for (int t = 0; t < 2; t++) {
        const char *const readers[3] = {"extract --jsonl --threads 2 < ", "tokenize ",
                                        "extract --format text --jsonl < "};
        for (int r = 0; r < 3; r++) {
            snprintf(sh, sizeof sh, "(%s%s %s%s 2>%s/pipe.err; echo $? >%s/pipe.rc) | head -c 100 >/dev/null", traps[t],
                     cli_bin, readers[r], r == 1 ? article : path, cli_tmpdir, cli_tmpdir);
            assert_int_equal(system(sh), 0);
            snprintf(sh, sizeof sh, "%s/pipe.err", cli_tmpdir);
            err = cli_slurp(sh);
            snprintf(sh, sizeof sh, "%s/pipe.rc", cli_tmpdir);
            char *rc = cli_slurp(sh);
            if (err[0] || atoi(rc) == 0) fail_msg("%s%s| head: status %s, stderr '%s'", traps[t], readers[r], rc, err);
            free(err);
            free(rc);
        }
    }
}

/* ---- -o DIR: names, links, overwrites, write errors ---- */

/* Writes a JSONL file of (id, text) records to cli_tmpdir/name; an id of NULL
 * leaves the id out, and ids are written as given (JSON escapes and all). */
static const char *write_records(const char *name, const char *const *ids, int n) {
    static char buf[8192];
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i])
            k += (size_t)snprintf(buf + k, sizeof buf - k, "{\"id\": \"%s\", \"text\": \"record %d: %s\"}\n", ids[i], i,
                                  ART1);
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "{\"text\": \"record %d: %s\"}\n", i, ART1);
    }
    return cli_write(name, buf);
}

static int exists(const char *dir, const char *name) {
    char p[8192];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

/* The number of files in dir (not . and ..) whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix) {
    char sh[1024];
    snprintf(sh, sizeof sh, "ls -A '%s' | grep -c '^%s' > %s/count.txt", dir, prefix, cli_tmpdir);
    if (system(sh) < 0) return -1;
    snprintf(sh, sizeof sh, "%s/count.txt", cli_tmpdir);
    char *c = cli_slurp(sh);
    int n = atoi(c);
    free(c);
    return n;
}

/* Issue 15, 1: an id or sourcefile with ../ writes outside -o DIR. */
static void output_stays_in_dir(void **state) {
    (void)state;
    char out[256], args[1024], *o, *e, ids[2][256];
    snprintf(out, sizeof out, "%s/o1", cli_tmpdir);
    snprintf(ids[0], sizeof ids[0], "../../../../../../../..%s/pwned", cli_tmpdir);
    snprintf(ids[1], sizeof ids[1], "../pwned2");
    const char *const idv[2] = {ids[0], ids[1]};
    const char *in = write_records("climb.jsonl", idv, 2);
    snprintf(args, sizeof args, "extract --jsonl -o %s < %s", out, in);
    assert_int_equal(cli_run(args, &o, &e), 0);
    free(o), free(e);
    assert_false(exists(cli_tmpdir, "pwned.json"));
    assert_false(exists(cli_tmpdir, "pwned2.json"));
    assert_true(exists(out, "%2E.%2Fpwned2.json"));
    assert_int_equal(count_files(out, ""), 2);
    /* a sourcefile climbs the same way */
    const char *sf = cli_write("sf.json", "{\"sourcefile\": \"../../sf-pwned.txt\", \"content\": \"" ART2 "\"}");
    snprintf(args, sizeof args, "extract -o %s %s", out, sf);
    assert_int_equal(cli_run(args, &o, &e), 0);
    free(o), free(e);
    assert_false(exists(cli_tmpdir, "sf-pwned.json"));
    assert_true(exists(out, "%2E.%2F..%2Fsf-pwned.json"));
}

/* Issue 15, 2: a symbolic link in DIR is followed. */
static void output_never_follows_links(void **state) {
    (void)state;
    char out[256], victim[256], link[512], args[1024], *o, *e;
    snprintf(out, sizeof out, "%s/o2", cli_tmpdir);
    assert_int_equal(mkdir(out, 0777), 0);
    snprintf(victim, sizeof victim, "%s", cli_write("victim.json", "precious\n"));
    snprintf(link, sizeof link, "%s/x.json", out);
    assert_int_equal(symlink(victim, link), 0);
    const char *const idv[2] = {"x", "y"};
    const char *in = write_records("links.jsonl", idv, 2);
    for (int force = 0; force < 2; force++) { /* --force replaces files, never links */
        snprintf(args, sizeof args, "extract --jsonl %s -o %s < %s", force ? "--force" : "", out, in);
        assert_int_equal(cli_run(args, &o, &e), 1);
        assert_non_null(strstr(e, "o2/x.json is a symbolic link; not replaced"));
        free(o), free(e);
        char *v = cli_slurp(victim);
        assert_string_equal(v, "precious\n");
        free(v);
        char target[512] = {0};
        assert_true(readlink(link, target, sizeof target - 1) > 0);
        assert_string_equal(target, victim);
    }
    assert_true(exists(out, "y.json"));
    assert_int_equal(count_files(out, ".casie-"), 0);
}

/* Issue 15, 3: an output directory path over 3,000 characters wrote elsewhere. */
static void long_output_dir(void **state) {
    (void)state;
    char dir[4096], args[8000], *o, *e;
    int n = snprintf(dir, sizeof dir, "%s", cli_tmpdir);
    while (n < 3400) { /* 17 levels of 200 characters */
        dir[n++] = '/';
        memset(dir + n, 'd', 199);
        n += 199;
        dir[n] = 0;
        assert_int_equal(mkdir(dir, 0777), 0);
    }
    snprintf(args, sizeof args, "extract -o %s examples/sample-article.txt", dir);
    assert_int_equal(cli_run(args, &o, &e), 0);
    free(o), free(e);
    assert_true(exists(dir, "sample-article.json"));
    /* one over PATH_MAX is an error naming it, not another directory */
    char longer[5000];
    snprintf(longer, sizeof longer, "%s/%0200d/%0200d/%0200d/%0200d", dir, 1, 2, 3, 4);
    snprintf(args, sizeof args, "extract -o %s examples/sample-article.txt", longer);
    assert_int_equal(cli_run(args, &o, &e), 1);
    assert_non_null(strstr(e, "File name too long"));
    free(o), free(e);
}

/* Issue 15, 4: repeated names (one id twice, no id, a/doc.txt and b/doc.txt,
 * an id cut at a NUL) overwrote each other with exit 0; "", "." and ids with
 * line breaks gave odd names; a rerun overwrote the files of the first. */
static void no_silent_overwrites(void **state) {
    (void)state;
    char out[256], args[1024], *o, *e;
    snprintf(out, sizeof out, "%s/o4", cli_tmpdir);
    const char *const idv[9] = {"x", "x", NULL, NULL, "a", "a\\u0000../evil", "", ".", "line\\nbreak"};
    char in[256]; /* cli_write's buffer is reused */
    snprintf(in, sizeof in, "%s", write_records("dups.jsonl", idv, 9));
    snprintf(args, sizeof args, "extract --jsonl -o %s < %s", out, in);
    int rc = cli_run(args, &o, &e);
    assert_non_null(strstr(e, "<stdin>:2: its name is taken in this run; wrote x-2.json"));
    /* the id with a NUL: refused, naming the record (kept as a C string it
     * would be cut there, and the file named after what was left) */
    if (rc != 1 || !strstr(e, "<stdin>:6: \"id\" contains a NUL"))
        fail_msg("the id with a NUL: status %d, stderr '%s'", rc, e);
    free(o), free(e);
    static const char *const names[] = {"x.json",   "x-2.json",     "stdin-3.json", "stdin-4.json",     "a.json",
                                        "a-2.json", "stdin-7.json", "%2E.json",     "line%0Abreak.json"};
    for (int i = 0; i < 9; i++) {
        char p[512];
        if (i == 5) continue;
        snprintf(p, sizeof p, "%s/%s", out, names[i]);
        char *f = cli_slurp(p);
        char want[64];
        snprintf(want, sizeof want, "record %d: ", i); /* each file holds its own record */
        if (!strstr(f, want)) fail_msg("%s does not hold record %d", names[i], i);
        free(f);
    }
    assert_int_equal(count_files(out, ""), 8);
    /* two plain files of one name */
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/a", cli_tmpdir);
    snprintf(b, sizeof b, "%s/b", cli_tmpdir);
    assert_int_equal(mkdir(a, 0777), 0);
    assert_int_equal(mkdir(b, 0777), 0);
    cli_write("a/doc.txt", ART1);
    cli_write("b/doc.txt", ART2);
    snprintf(args, sizeof args, "extract -o %s/o4b %s/doc.txt %s/doc.txt", cli_tmpdir, a, b);
    assert_int_equal(cli_run(args, &o, &e), 0);
    assert_non_null(strstr(e, "b/doc.txt: its name is taken in this run; wrote doc-2.json"));
    free(o), free(e);
    snprintf(args, sizeof args, "%s/o4b/doc-2.json", cli_tmpdir);
    char *f = cli_slurp(args);
    assert_non_null(strstr(f, "Microsoft released a patch"));
    free(f);
    /* a rerun: the files are there; replaced only with --force */
    snprintf(args, sizeof args, "%s/x.json", out);
    FILE *w = fopen(args, "w");
    assert_non_null(w);
    fputs("earlier\n", w);
    fclose(w);
    snprintf(args, sizeof args, "extract --jsonl -o %s < %s", out, in);
    assert_int_equal(cli_run(args, &o, &e), 1);
    assert_non_null(strstr(e, "o4/x.json exists; not replaced without --force"));
    assert_non_null(strstr(e, "9 records, 9 failed"));
    assert_int_equal(cli_count(e, "exists; not replaced without --force"), 8);
    free(o), free(e);
    snprintf(args, sizeof args, "%s/x.json", out);
    f = cli_slurp(args);
    assert_string_equal(f, "earlier\n");
    free(f);
    snprintf(args, sizeof args, "extract --jsonl --force -o %s < %s", out, in);
    assert_int_equal(cli_run(args, &o, &e), 1); /* the record with a NUL in its id */
    free(o), free(e);
    snprintf(args, sizeof args, "%s/x.json", out);
    f = cli_slurp(args);
    assert_non_null(strstr(f, "record 0: "));
    free(f);
    assert_int_equal(count_files(out, ""), 8);
    assert_int_equal(cli_run("extract --force examples/sample-article.txt", &o, &e), 2);
    free(o), free(e);
}

/* Issue 15, 5: on a full disk partial files stayed and a good file was
 * truncated when it was opened.  A file size limit (RLIMIT_FSIZE, EFBIG)
 * stands for the full disk everywhere; a 64 KB tmpfs gives the real ENOSPC
 * where a user namespace can mount one. */
static void write_failure_keeps_old_file(void **state) {
    (void)state;
    char out[256], sh[8192], *o, *e, cwd[1024], abs_bin[1600];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(abs_bin, sizeof abs_bin, "%s%s%s", cli_bin[0] == '/' ? "" : cwd, cli_bin[0] == '/' ? "" : "/", cli_bin);
    snprintf(out, sizeof out, "%s/o5", cli_tmpdir);
    snprintf(sh, sizeof sh, "extract -o %s examples/sample-article.txt", out);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    free(o), free(e);
    snprintf(sh, sizeof sh, "%s/sample-article.json", out);
    char *good = cli_slurp(sh);
    assert_true(strlen(good) > 4096);
    snprintf(sh, sizeof sh,
             "(trap '' XFSZ; ulimit -f 4; %s extract --force -o %s examples/sample-article.txt) >%s/o 2>%s/e", cli_bin,
             out, cli_tmpdir, cli_tmpdir);
    int rc = system(sh);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(sh, sizeof sh, "%s/e", cli_tmpdir);
    e = cli_slurp(sh);
    assert_non_null(strstr(e, "File too large"));
    assert_non_null(strstr(e, "1 record, 1 failed"));
    free(e);
    snprintf(sh, sizeof sh, "%s/sample-article.json", out);
    char *now = cli_slurp(sh);
    assert_string_equal(now, good);
    free(now);
    assert_int_equal(count_files(out, ""), 1);
    /* a full tmpfs: a good file written, the disk filled, the file written again */
    snprintf(
        sh, sizeof sh,
        "unshare -rm sh -c 'mkdir -p %s/mnt && mount -t tmpfs -o size=64k none %s/mnt && cd %s/mnt && "
        "%s extract -o out %s/examples/sample-article.txt && cp out/sample-article.json ../good5 && "
        "head -c 40000 /dev/zero > fill; %s extract --force -o out %s/examples/sample-article.txt; echo $? > ../rc; "
        "cmp -s out/sample-article.json ../good5 && echo same >> ../rc; ls -A out | wc -l >> ../rc' >%s/o 2>%s/e",
        cli_tmpdir, cli_tmpdir, cli_tmpdir, abs_bin, cwd, abs_bin, cwd, cli_tmpdir, cli_tmpdir);
    if (system(sh) != 0) {
        print_message("no tmpfs in a user namespace here: the ENOSPC case is left to RLIMIT_FSIZE\n");
    } else {
        snprintf(sh, sizeof sh, "%s/rc", cli_tmpdir);
        char *r = cli_slurp(sh);
        snprintf(sh, sizeof sh, "%s/e", cli_tmpdir);
        e = cli_slurp(sh);
        /* exit 1, the file as it was, no temporary file beside it */
        if (strcmp(r, "1\nsame\n1\n") || !strstr(e, "No space left on device"))
            fail_msg("full tmpfs: '%s', stderr '%s'", r, e);
        free(r), free(e);
    }
    free(good);
}

/* Issue 15, 6: --given-triggers read outside DIR through the id. */
static void given_triggers_stay_in_dir(void **state) {
    (void)state;
    char sh[2048], *o, *e;
    snprintf(sh, sizeof sh, "%s/gold", cli_tmpdir);
    assert_int_equal(mkdir(sh, 0777), 0);
    snprintf(sh, sizeof sh, "%s/gold/annotation", cli_tmpdir);
    assert_int_equal(mkdir(sh, 0777), 0);
    cli_write("gold/annotation/g1.json", "{\"id\": \"gold-id\", \"text\": \"record 0: " ART1 "\"}");
    cli_write("secret.json", "{\"id\": \"s\", \"text\": \"SECRETWORD from outside the gold directory\"}");
    const char *const idv[2] = {"g1", "../../secret"};
    const char *in = write_records("given.jsonl", idv, 2);
    snprintf(sh, sizeof sh, "extract --jsonl --given-triggers %s/gold < %s", cli_tmpdir, in);
    assert_int_equal(cli_run(sh, &o, &e), 1);
    assert_null(strstr(o, "SECRETWORD"));
    assert_non_null(strstr(o, "\"sourcefile\":\"g1.txt\"")); /* the input's id, not the gold file's */
    assert_null(strstr(o, "gold-id"));
    assert_non_null(strstr(e, "the id \"../../secret\" is not a plain file name"));
    free(o), free(e);
    snprintf(sh, sizeof sh, "extract --given-triggers %s/nonexistent x", cli_tmpdir);
    assert_int_equal(cli_run(sh, &o, &e), 1);
    assert_non_null(strstr(e, "nonexistent: No such file or directory"));
    free(o), free(e);
}

/* --given-triggers reads only regular files inside DIR, and only a gold file
 * with the input's own text: a FIFO there hung the run, a link was followed
 * out of DIR, and a gold file with another text silently replaced the
 * input's text and id. */
static void given_triggers_regular_same_text(void **state) {
    (void)state;
    char sh[2048], *o, *e;
    static const char *const dirs[] = {"g2", "g2/annotation", "elsewhere"};
    for (int i = 0; i < 3; i++) {
        snprintf(sh, sizeof sh, "%s/%s", cli_tmpdir, dirs[i]);
        assert_int_equal(mkdir(sh, 0777), 0);
    }
    cli_write("elsewhere/linked.json", "{\"id\": \"linked\", \"text\": \"record 1: " ART1 "\"}");
    cli_write("g2/annotation/other.json", "{\"id\": \"other\", \"text\": \"ANOTHERTEXT\"}");
    snprintf(sh, sizeof sh, "%s/g2/annotation/fifo.json", cli_tmpdir);
    assert_int_equal(mkfifo(sh, 0666), 0);
    char target[1024];
    snprintf(target, sizeof target, "%s/elsewhere/linked.json", cli_tmpdir);
    snprintf(sh, sizeof sh, "%s/g2/annotation/linked.json", cli_tmpdir);
    assert_int_equal(symlink(target, sh), 0);
    const char *const idv[3] = {"fifo", "linked", "other"};
    const char *in = write_records("given2.jsonl", idv, 3);
    snprintf(sh, sizeof sh, "extract --jsonl --given-triggers %s/g2 < %s", cli_tmpdir, in);
    assert_int_equal(cli_run(sh, &o, &e), 1); /* returns: the FIFO is not opened for reading */
    assert_int_equal(cli_count(o, "\"error\""), 3);
    assert_non_null(strstr(e, "fifo.json: not a regular file"));
    assert_non_null(strstr(e, "linked.json: a link (not followed)"));
    assert_non_null(strstr(e, "the gold file of \"other\" has another text"));
    assert_null(strstr(o, "ANOTHERTEXT"));
    free(o), free(e);
    /* an annotation folder that is itself a link is not followed either */
    snprintf(sh, sizeof sh, "%s/g3", cli_tmpdir);
    assert_int_equal(mkdir(sh, 0777), 0);
    snprintf(target, sizeof target, "%s/elsewhere", cli_tmpdir);
    snprintf(sh, sizeof sh, "%s/g3/annotation", cli_tmpdir);
    assert_int_equal(symlink(target, sh), 0);
    snprintf(sh, sizeof sh, "extract --jsonl --given-triggers %s/g3 < %s", cli_tmpdir, in);
    assert_int_equal(cli_run(sh, &o, &e), 1);
    assert_non_null(strstr(e, "annotation/linked.json: a link (not followed)"));
    free(o), free(e);
}

/* -m "" named no model, and the default was loaded in silence; an empty
 * $CASIE_MODEL is as unset. */
static void empty_model_name_refused(void **state) {
    (void)state;
    char *o, *e;
    const char *in = cli_write("empty-m.txt", ART1);
    char args[512];
    snprintf(args, sizeof args, "extract -m '' %s", in);
    assert_int_not_equal(cli_run(args, &o, &e), 0);
    assert_non_null(strstr(e, "empty model name"));
    assert_int_equal(o[0], 0);
    free(o), free(e);
    const char *was = getenv("CASIE_MODEL");
    char *saved = was ? strdup(was) : NULL;
    setenv("CASIE_MODEL", "", 1);
    snprintf(args, sizeof args, "extract %s", in);
    int rc = cli_run(args, &o, &e);
    if (saved)
        setenv("CASIE_MODEL", saved, 1);
    else
        unsetenv("CASIE_MODEL");
    free(saved);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(o, "cyberevent"));
    free(o), free(e);
}

/* The library reads no environment; the CLI reads $CASIE_MODEL_DIR and
 * $CASIE_ENCODER and passes them in.  A copy of the binary with no models
 * beside it finds "fast" only through $CASIE_MODEL_DIR. */
static void env_read_by_cli(void **state) {
    (void)state;
    char cmd[2048], *o, *e;
    const char *in = cli_write("env.txt", ART1);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/bin' '%s/cwd' && cp '%s' '%s/bin/casie'", cli_tmpdir, cli_tmpdir, cli_bin,
             cli_tmpdir);
    assert_int_equal(system(cmd), 0);
    char models[PATH_MAX];
    assert_non_null(realpath("models", models));
    char o_path[256], e_path[256];
    snprintf(o_path, sizeof o_path, "%s/env.out", cli_tmpdir);
    snprintf(e_path, sizeof e_path, "%s/env.err", cli_tmpdir);
    const char *const dirs[] = {"", models};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "cd '%s/cwd' && CASIE_MODEL_DIR='%s' ../bin/casie extract -m fast '%s' >'%s' 2>'%s'",
                 cli_tmpdir, dirs[k], in, o_path, e_path);
        int rc = system(cmd);
        o = cli_slurp(o_path), e = cli_slurp(e_path);
        if (k == 0) {
            assert_int_not_equal(rc, 0);
            assert_non_null(strstr(e, "no fast model"));
        } else {
            assert_int_equal(rc, 0);
            assert_non_null(strstr(o, "cyberevent"));
        }
        free(o), free(e);
    }
    /* $CASIE_ENCODER names the accurate model's encoder: a missing one is refused, naming it */
    snprintf(cmd, sizeof cmd, "CASIE_ENCODER=/nonexistent/casie-x.enc %s extract -m accurate '%s' >'%s' 2>'%s'",
             cli_bin, in, o_path, e_path);
    assert_int_not_equal(system(cmd), 0);
    e = cli_slurp(e_path);
    assert_non_null(strstr(e, "/nonexistent/casie-x.enc"));
    free(e);
}

/* --format text -o DIR wrote JSON. */
static void text_format_to_dir(void **state) {
    (void)state;
    char sh[1024], *o, *e;
    snprintf(sh, sizeof sh, "extract --format text -o %s/o7 examples/sample-article.txt", cli_tmpdir);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    free(o), free(e);
    snprintf(sh, sizeof sh, "%s/o7/sample-article.txt", cli_tmpdir);
    char *f = cli_slurp(sh);
    assert_non_null(strstr(f, "== sample-article \"Hospital network hit by ransomware"));
    assert_non_null(strstr(f, "Attack.Ransom"));
    free(f);
    snprintf(sh, sizeof sh, "%s/o7", cli_tmpdir);
    assert_int_equal(count_files(sh, ""), 1);
}

/* --threads 2abc and 4294967297 were accepted (atoi). */
static void numeric_options_strict(void **state) {
    (void)state;
    static const char *const bad[] = {
        "--threads 2abc",
        "--threads 4294967297",
        "--threads ''",
        "--threads ' 4'",
        "--threads +4",
        "--threads -1",
        "--threads 65",
        "--threads 0x4",
        "--trigger-threshold 0.5x",
        "--trigger-threshold nan",
        "--arg-threshold inf",
        "--arg-threshold 0x1p-1",
        "--arg-threshold ' 0.5'",
        "--arg-threshold ''",
        "--trigger-threshold 1.5",
        "--trigger-threshold 1e999",
    };
    char args[256], *o, *e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "extract %s examples/sample-article.txt", bad[i]);
        int rc = cli_run(args, &o, &e);
        if (rc != 2 || !strstr(e, " takes ")) fail_msg("%s: status %d, stderr '%s'", bad[i], rc, e);
        free(o), free(e);
    }
    assert_int_equal(
        cli_run("extract --threads 64 --trigger-threshold 1e-1 --arg-threshold 0 examples/sample-article.txt", &o, &e),
        0);
    free(o), free(e);
}

/* A byte-order mark before JSONL on stdin was read as plain text; a plain
 * article starting with '{' failed as JSON, with no way to say it is text. */
static void input_formats(void **state) {
    (void)state;
    char sh[1024], *o, *e;
    char in[256]; /* cli_write's buffer is reused */
    snprintf(in, sizeof in, "%s",
             cli_write("bom.jsonl", "\xEF\xBB\xBF{\"id\": \"b1\", \"text\": \"" ART1 "\"}\n"
                                    "{\"id\": \"b2\", \"text\": \"" ART2 "\"}\n"));
    snprintf(sh, sizeof sh, "extract < %s", in);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    assert_int_equal(cli_count(o, "\n"), 2);
    assert_non_null(strstr(o, "\"sourcefile\":\"b1.txt\""));
    assert_non_null(strstr(o, "\"sourcefile\":\"b2.txt\""));
    free(o), free(e);
    char brace[256];
    snprintf(brace, sizeof brace, "%s", cli_write("brace.txt", "{Update} " ART1));
    snprintf(sh, sizeof sh, "extract %s", brace);
    assert_int_equal(cli_run(sh, &o, &e), 1); /* auto: JSON, and not valid JSON */
    free(o), free(e);
    snprintf(sh, sizeof sh, "extract --input-format text %s", brace);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    assert_non_null(strstr(o, "\"content\": \"{Update} Hackers stole"));
    free(o), free(e);
    /* a JSON record in a .txt file, a source file named .json */
    const char *rec = cli_write("rec.txt", "{\"id\": \"r\", \"text\": \"" ART2 "\"}");
    snprintf(sh, sizeof sh, "extract --input-format json %s", rec);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    assert_non_null(strstr(o, "\"content\": \"Microsoft released"));
    free(o), free(e);
    snprintf(sh, sizeof sh, "cp tests/data/source_sample.txt %s/src.json", cli_tmpdir);
    assert_int_equal(system(sh), 0);
    snprintf(sh, sizeof sh, "extract --input-format source %s/src.json", cli_tmpdir);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    free(o), free(e);
    snprintf(sh, sizeof sh, "extract --input-format jsonl %s", in);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    assert_int_equal(cli_count(o, "\n"), 2);
    free(o), free(e);
    assert_int_equal(cli_run("extract --input-format xml x", &o, &e), 2);
    free(o), free(e);
    assert_int_equal(cli_run("extract --jsonl --input-format text x", &o, &e), 2);
    assert_non_null(strstr(e, "disagree"));
    free(o), free(e);
}

/* A byte-order mark then <title>: a CASIE source file to casie extract, to
 * casie tokenize on stdin (which read it as plain text) and to the library. */
static void bom_source_file_everywhere(void **state) {
    (void)state;
    char sh[1024], *o, *e;
    char src[256];
    snprintf(src, sizeof src, "%s",
             cli_write("bomsrc.txt", "\xEF\xBB\xBF<title>Breach at Acme</title>\n<text>\n" ART1 "\n</text>\n"));
    snprintf(sh, sizeof sh, "extract %s", src);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    assert_non_null(strstr(o, "\"title\": \"Breach at Acme\""));
    assert_non_null(strstr(o, "\"content\": \"Hackers stole"));
    free(o), free(e);
    snprintf(sh, sizeof sh, "tokenize < %s", src);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    assert_non_null(strstr(o, "\t0\t7\tHackers\t"));
    assert_null(strstr(o, "Breach"));
    free(o), free(e);
    snprintf(sh, sizeof sh, "tokenize %s", src);
    assert_int_equal(cli_run(sh, &o, &e), 0);
    assert_non_null(strstr(o, "\t0\t7\tHackers\t"));
    free(o), free(e);
}

/* Input over the 256 MiB limit was read whole before it was refused: a
 * regular file is refused by its size, before any read; a pipe once it has
 * given one byte more than the limit (dd counts what it could write). */
static void oversized_input_refused_first(void **state) {
    (void)state;
    char big[256], sh[1024], *o, *e;
    snprintf(big, sizeof big, "%s/big.txt", cli_tmpdir);
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 300L << 20), 0); /* sparse: no disk used */
    close(fd);
    snprintf(sh, sizeof sh, "extract %s", big);
    assert_int_equal(cli_run(sh, &o, &e), 1);
    assert_non_null(strstr(e, "big.txt: 314572800 bytes, over the limit of 268435456 bytes for one document"));
    free(o), free(e);
    unlink(big);
    snprintf(sh, sizeof sh, "(trap '' PIPE; dd if=/dev/zero bs=1M count=300 2>%s/dd.err) | %s extract >%s/o 2>%s/e",
             cli_tmpdir, cli_bin, cli_tmpdir, cli_tmpdir);
    int rc = system(sh);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(sh, sizeof sh, "%s/e", cli_tmpdir);
    e = cli_slurp(sh);
    assert_non_null(strstr(e, "<stdin>: over the limit of 268435456 bytes for one document"));
    free(e);
    snprintf(sh, sizeof sh, "%s/dd.err", cli_tmpdir);
    char *dd = cli_slurp(sh), *out = strstr(dd, "records out");
    assert_non_null(out);
    while (out > dd && out[-1] != '\n')
        out--;
    long written = atol(out);
    if (written >= 300) fail_msg("the whole pipe was read: %s", dd);
    free(dd);
    /* a JSONL record over the limit: reported with its line, and the next one read */
    snprintf(sh, sizeof sh,
             "{ echo; head -c 270000000 /dev/zero | tr '\\0' a; echo; echo '{\"id\": \"ok\", \"text\": \"" ART1
             "\"}'; } | %s extract --jsonl >%s/o 2>%s/e",
             cli_bin, cli_tmpdir, cli_tmpdir);
    rc = system(sh);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(sh, sizeof sh, "%s/e", cli_tmpdir);
    e = cli_slurp(sh);
    assert_non_null(strstr(e, "<stdin>:2: over the limit of 268435456 bytes for one record"));
    assert_non_null(strstr(e, "2 records, 1 failed"));
    free(e);
    snprintf(sh, sizeof sh, "%s/o", cli_tmpdir);
    o = cli_slurp(sh);
    assert_non_null(strstr(o, "\"sourcefile\":\"ok.txt\""));
    free(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_article_text_and_json),
        cmocka_unit_test(jsonl_order_threads_and_errors),
        cmocka_unit_test(bad_input_and_output),
        cmocka_unit_test(thresholds_trade_recall),
        cmocka_unit_test(given_triggers_keep_gold),
        cmocka_unit_test(under_gnu_parallel),
        cmocka_unit_test(output_errors),
        cmocka_unit_test(output_stays_in_dir),
        cmocka_unit_test(output_never_follows_links),
        cmocka_unit_test(long_output_dir),
        cmocka_unit_test(no_silent_overwrites),
        cmocka_unit_test(write_failure_keeps_old_file),
        cmocka_unit_test(given_triggers_stay_in_dir),
        cmocka_unit_test(given_triggers_regular_same_text),
        cmocka_unit_test(empty_model_name_refused),
        cmocka_unit_test(env_read_by_cli),
        cmocka_unit_test(text_format_to_dir),
        cmocka_unit_test(numeric_options_strict),
        cmocka_unit_test(input_formats),
        cmocka_unit_test(bom_source_file_everywhere),
        cmocka_unit_test(oversized_input_refused_first),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
