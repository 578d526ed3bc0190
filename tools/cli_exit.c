/*
 * cli_exit.c - how a subcommand's end becomes the process's exit status: a
 * library error's message (cli_fail), and the output flushed last
 * (cli_finish).  Statuses: 0 success, 1 failure of the work, 2 bad usage.
 */
#include "cli_exit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cli_fail(const casie_error *err) {
    fprintf(stderr, "casie: %s\n", err && err->message[0] ? err->message : casie_status_string(err ? err->code : -1));
    return 1;
}

/* A reader that went away (EPIPE, when SIGPIPE is ignored; otherwise SIGPIPE
 * ends the process) needs no message. */
int cli_finish(int rc) {
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return rc;
    int e = errno ? errno : EIO;
    if (rc == 0 && e != EPIPE) fprintf(stderr, "casie: writing output: %s\n", strerror(e));
    return rc ? rc : 1;
}
