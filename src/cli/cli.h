/* cli.h - the subcommands of the shmimg executable. */
#ifndef SHMIMG_CLI_H
#define SHMIMG_CLI_H

/* Returns: 1 when word names a subcommand (publish, pull, info, list, rm). */
int cli_is_command(const char *word);

/* Returns: the subcommand that word is a likely typo of (at most two
 * edits away), or NULL. */
const char *cli_nearest_command(const char *word);

/* Tells the subcommands which standard streams were closed at start
 * (bit n: fd n), so that 'pull -o -' can refuse a closed stdout. */
void cli_set_closed_stdio(unsigned mask);

/* Runs the subcommand argv[0] with its arguments.
 * Returns: the exit status: 0 success, 1 failure, 2 usage error. */
int cli_run(int argc, char **argv);

#endif
