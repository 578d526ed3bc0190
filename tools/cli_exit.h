/* cli_exit.h - how a subcommand's end becomes the process's exit status. */
#ifndef CASIE_CLI_EXIT_H
#define CASIE_CLI_EXIT_H

#include <casie.h>

/* A library error: prints "casie: <message>" on stderr; returns 1. */
int cli_fail(const casie_error *err);
/* The status the process exits with after a command that returned rc:
 * stdout flushed, and output that could not be written (a full disk) is a
 * message and status 1 unless the command reported it; a reader that went
 * away early (EPIPE) ends it quietly with status 1. */
int cli_finish(int rc);

#endif
