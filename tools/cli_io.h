/* cli_io.h - input helpers shared by the casie subcommands. */
#ifndef CASIE_CLI_IO_H
#define CASIE_CLI_IO_H

#include <casie.h>
#include <stdio.h>

/* Called for each document read: doc (owned by the callee) or, when reading
 * failed, NULL and the error.  `where` names the file or file:line; record
 * is the JSONL line number, or 0 for a whole-file document.
 * Returns 1 to count a failure, 0 otherwise. */
typedef int (*cli_doc_fn)(void *user, const char *where, long record, casie_doc *doc, const casie_error *err);

/* Reads a whole stream (NUL-terminated, malloc'd). */
char *cli_read_stream(FILE *f, const char *name, size_t *len, casie_error *err);
/* Splits one input into documents: JSONL (by name, flag or content), one JSON
 * record, a CASIE source file or plain text.  Returns the failure count. */
int cli_for_each_doc(const char *name, const char *buf, size_t len, int force_jsonl, cli_doc_fn fn, void *user);
/* The same over files ("-" or none: stdin). */
int cli_for_each_input(int n_files, char **files, int force_jsonl, cli_doc_fn fn, void *user);
/* $CASIE_MODEL, else models/casie-default.model next to the binary, else the
 * installed data directory. */
const char *cli_default_model(void);

#endif
