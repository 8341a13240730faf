/* quitsig.h - the quit signals: which signals, sent from outside, must let
 * a process that holds a segment detach before it goes. One definition,
 * for the command line (cli_common.c) and the window (options.c).
 *
 * A quit signal is one whose default action ends the process and that may
 * be caught: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGTRAP, SIGSYS,
 * SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGPWR, SIGIO,
 * SIGSTKFLT and every real-time signal. Not:
 *   - SIGKILL and SIGSTOP, which cannot be caught;
 *   - the faults SIGSEGV, SIGBUS, SIGILL, SIGFPE: our own bugs, or the
 *     truncation guard's business (guard.h);
 *   - SIGPIPE and SIGXFSZ, which the executable ignores: a reader that
 *     left or a file size limit is an error where it writes;
 *   - what stops, continues or is ignored by default (SIGTSTP, SIGTTIN,
 *     SIGTTOU, SIGCONT, SIGCHLD, SIGURG, SIGWINCH).
 * SIGABRT is caught too: abort() still ends the process (it raises again
 * with the default action once the handler returns), while a 'kill -ABRT'
 * from outside lets the process detach.
 */
#ifndef SHMIMG_QUITSIG_H
#define SHMIMG_QUITSIG_H

#include <signal.h>
#include <stdbool.h>

/* Returns: whether sig (1 to SIGRTMAX) is a quit signal. */
bool quitsig_is(int sig);

/* Fills *set with every quit signal, the real-time ones included. */
void quitsig_fill(sigset_t *set);

#endif
