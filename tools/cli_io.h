/* cli_io.h - what the casie subcommands share: reading their inputs, their
 * options (a table per command that parses argv and prints --help), loading
 * a model or a split of the corpus. */
#ifndef CASIE_CLI_IO_H
#define CASIE_CLI_IO_H

#include <casie.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* The library's limit on one document's bytes (CASIE_MAX_DOC_BYTES): the CLI
 * checks it before reading past it. */
#define CLI_MAX_DOC_BYTES ((size_t)256 << 20)

/* Reads a whole stream of at most 2 GiB (cli_read_bounded). */
char *cli_read_stream(FILE *f, const char *name, size_t *len, casie_error *err);
/* Reads the rest of a stream, at most max bytes (NUL-terminated, malloc'd).
 * A regular file whose size says it holds more is refused before any read; a
 * pipe is read up to max + 1 bytes and then refused (CASIE_ERR_LIMIT). */
char *cli_read_bounded(FILE *f, const char *name, size_t max, size_t *len, casie_error *err);
/* Reads one line, with its '\n' when there is one, into *buf (grown as
 * needed, NUL-terminated).  Returns its length; -1 at the end of the stream
 * or on a read error (ferror tells which), nothing read; -2 when the line is
 * longer than max bytes: *buf then holds its first max bytes, and the rest is
 * left in the stream (cli_skip_line drops it); -3 out of memory. */
ssize_t cli_read_line(FILE *f, char **buf, size_t *cap, size_t max);
/* Drops the rest of the current line (through its '\n'). */
void cli_skip_line(FILE *f);

/* Numbers on the command line, the same way in every command: the whole
 * string is the number (no space, no trailing characters), within [lo, hi],
 * and an integer is decimal digits with at most a leading '-' (no overflow, no
 * wrap).  cli_parse_* return 0 and set *out, or -1.  cli_opt_* do the same
 * and, on failure, print "casie CMD: OPT takes ... from LO to HI, not 'S'". */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);
int cli_opt_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_opt_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);

/* ---- options: one table per command, read by the parser and by --help ----
 *
 * A command keeps what its options say in a struct of its own; each entry of
 * its table names an option and the field it sets (by offset), or a function
 * that sets it:
 *
 *   static const cli_opt OPTS[] = {
 *       {"--model", "-m", "MODEL", "fast, accurate or a model file", CLI_STRING(args, model)},
 *       {"--threads", NULL, "N", "worker threads, 1 to 64", CLI_LONG(args, threads, 1, 64)},
 *   };
 *
 * The grammar, the same in every command: "-h" or "--help" anywhere prints
 * the help on stdout (status 0); an option is one of the table's names as a
 * whole word ("--threads=2" and "--" are unknown options), followed by its
 * value when it takes one (the next argument, whatever it starts with); any
 * other argument not starting with '-', and "-" itself, is positional.  The
 * first error ends the parse: its message on stderr and a status, 2. */

/* What an option sets: the field at `at` of the command's struct (an int set
 * to 1 for a flag, a const char * borrowed from argv, a long or a double in
 * [lo, hi] read as cli_opt_long and cli_opt_double read them), or what
 * `call` does with the option as typed and its value (NULL for a flag):
 * call returns 0, or the exit status after printing why. */
enum { CLI_SET_FLAG, CLI_SET_STRING, CLI_SET_LONG, CLI_SET_DOUBLE, CLI_SET_CALL };
typedef struct cli_set {
    int kind; /* CLI_SET_* */
    size_t at;
    long lo, hi;     /* CLI_SET_LONG */
    double xlo, xhi; /* CLI_SET_DOUBLE */
    int (*call)(void *opts, const char *opt, const char *value);
} cli_set;
/* clang-format off */
#define CLI_FLAG(T, field)           {CLI_SET_FLAG, offsetof(T, field), 0, 0, 0, 0, NULL}
#define CLI_STRING(T, field)         {CLI_SET_STRING, offsetof(T, field), 0, 0, 0, 0, NULL}
#define CLI_LONG(T, field, lo, hi)   {CLI_SET_LONG, offsetof(T, field), lo, hi, 0, 0, NULL}
#define CLI_DOUBLE(T, field, lo, hi) {CLI_SET_DOUBLE, offsetof(T, field), 0, 0, lo, hi, NULL}
#define CLI_CALL(fn)                 {CLI_SET_CALL, 0, 0, 0, 0, 0, fn}
/* clang-format on */

typedef struct cli_opt {
    const char *name;  /* "--model"; "-o" for an option with a short name only */
    const char *alias; /* the short name of a long option ("-m"), or NULL */
    const char *value; /* what it takes, as --help names it ("MODEL"), or NULL: nothing (a flag) */
    const char *help;  /* its --help text; each '\n' starts a line, aligned under the first */
    cli_set set;
} cli_opt;

typedef struct cli_command {
    const char *name;     /* as messages name it: "casie NAME: ..." */
    const char *synopsis; /* --help before the options: "usage: ..." and what the command does */
    const char *notes;    /* --help after them, or NULL */
    const cli_opt *opts;  /* (n_opts,): CLI_TABLE(opts) */
    int n_opts;
    int min_args; /* positional arguments needed: fewer is a usage error (the usage alone) */
    int max_args; /* positional arguments taken, at most; -1: any number */
    /* options the table does not name (casie train's parameters, from the
     * library's table), or NULL: returns -1 when opt is not one; else opt
     * takes a value and is set from it (value NULL: only asked), returning
     * 0 or the exit status after a message */
    int (*other)(void *opts, const char *opt, const char *value);
    void (*more_help)(FILE *f); /* --help between the options and the notes, or NULL */
} cli_command;

/* A cli_command's table: .opts and .n_opts. */
#define CLI_TABLE(opts_) .opts = (opts_), .n_opts = (int)(sizeof(opts_) / sizeof((opts_)[0]))

/* cli_parse's "no status yet": the command goes on with its work. */
#define CLI_GO_ON (-1)

/* Reads argv[1..argc) (argv[0] is the command's name) into opts, as c says.
 * Returns CLI_GO_ON with the positional arguments moved, in order, to
 * argv[0..*n_args) (n_args may be NULL); or the status to exit with: 0
 * after --help, 2 after a usage error (an unknown option, a missing or bad
 * value, too many or too few arguments) reported on stderr with the usage,
 * or what a `call` returned. */
int cli_parse(const cli_command *c, int argc, char **argv, void *opts, int *n_args);
/* Prints c's --help on f; returns the exit status: 0 on stdout, else 2. */
int cli_usage(const cli_command *c, FILE *f);
/* One option's lines of --help: "  FLAGS", then help from a fixed column
 * (on the next line when FLAGS reach it); help's '\n' start lines. */
void cli_help_line(FILE *f, const char *flags, const char *help);

/* After extracting a text of len bytes with m: hands the memory the
 * extraction took back to the system (malloc_trim) when it was large (a
 * text of 1 MB, or an estimate of 32 MB: any with the accurate model, whose
 * encoder's vectors are thousands of bytes per byte), rather than keep it in
 * the thread's malloc arena, where the next documents fragment it. */
void cli_trim_after(const casie_model *m, size_t len);

/* Copies s to out (cap > 0) for a message: control bytes and DEL become
 * \xHH, the rest is kept; cut (with "...") to fit.  Returns out. */
char *cli_printable(const char *s, char *out, size_t cap);

/* The model -m names (NULL: $CASIE_MODEL, else the default): "fast",
 * "accurate" or a path (casie_model_open), looked for beside the binary
 * first; a note on stderr when the default falls back to the fast model. */
casie_model *cli_load_model(const char *name, casie_error *err);
/* The group catalogue for STIX: the file path, none for "none", else
 * casie-groups.tsv where models are looked for (NULL with err->code
 * CASIE_ERR_IO when there is none: STIX then goes without). */
casie_groups *cli_load_groups(const char *path, casie_error *err);

/* The documents of a split of the corpus, by name (CORPUS/splits/NAME.txt)
 * or by the path of an id list (a name with '/' or ".txt"), all of them or a
 * slice as Python writes it: "train[:-70]" (all but the last 70 ids),
 * "train[-70:]" (the last 70). */
casie_corpus *cli_read_split(const char *corpus, const char *split, casie_error *err);
/* The corpus directory train and train-categories read without --corpus:
 * $CASIE_CORPUS, or ../shared/casie. */
const char *cli_default_corpus(void);

#endif
