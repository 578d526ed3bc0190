/* cli_io.h - helpers shared by the casie subcommands. */
#ifndef CASIE_CLI_IO_H
#define CASIE_CLI_IO_H

#include <casie.h>
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

/* The documents of a split of the corpus, by name (CORPUS/splits/NAME.txt)
 * or by the path of an id list (a name with '/' or ".txt"), all of them or a
 * slice as Python writes it: "train[:-70]" (all but the last 70 ids),
 * "train[-70:]" (the last 70). */
casie_corpus *cli_read_split(const char *corpus, const char *split, casie_error *err);
/* The corpus directory train and train-categories read without --corpus:
 * $CASIE_CORPUS, or ../shared/casie. */
const char *cli_default_corpus(void);

#endif
