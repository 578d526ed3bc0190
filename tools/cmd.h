/*
 * cmd.h - the casie CLI's subcommands.  Each cmd_* takes the arguments after
 * its name (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 failure of the work, 2 bad usage.  Only the CLI prints.
 */
#ifndef CASIE_CMD_H
#define CASIE_CMD_H

#include <casie.h>

int cmd_stats(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_train_categories(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_encoder(int argc, char **argv);

/* casie eval's argument category rows (cmd_eval_category.c): a table after
 * the metrics, or the "categories" member of its JSON object. */
void eval_print_categories(const casie_eval *ev, int detail);
void eval_json_categories(const casie_eval *ev, int detail);

#endif
