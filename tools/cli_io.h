/* cli_io.h - helpers shared by the casie subcommands. */
#ifndef CASIE_CLI_IO_H
#define CASIE_CLI_IO_H

#include <casie.h>
#include <stdio.h>

/* Reads a whole stream (NUL-terminated, malloc'd). */
char *cli_read_stream(FILE *f, const char *name, size_t *len, casie_error *err);
/* $CASIE_MODEL, else models/casie-default.model next to the binary, else the
 * installed data directory. */
const char *cli_default_model(void);

#endif
