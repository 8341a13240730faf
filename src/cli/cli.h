/* cli.h - the subcommands of the shmimg executable. */
#ifndef SHMIMG_CLI_H
#define SHMIMG_CLI_H

/* Returns: 1 when word names a subcommand (publish, pull, info, list, rm). */
int cli_is_command(const char *word);

/* Runs the subcommand argv[0] with its arguments.
 * Returns: the exit status: 0 success, 1 failure, 2 usage error. */
int cli_run(int argc, char **argv);

#endif
