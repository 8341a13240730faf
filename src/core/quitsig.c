/* quitsig.c - see quitsig.h. */
#include "quitsig.h"

bool quitsig_is(int sig)
{
    if (sig < 1 || sig > SIGRTMAX || (sig >= 32 && sig < SIGRTMIN))
        return false; /* not a signal, or one the C library keeps */
    switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGPIPE:
    case SIGXFSZ:
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU: return false;
    default: return true;
    }
}

void quitsig_fill(sigset_t *set)
{
    sigemptyset(set);
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        if (quitsig_is(sig))
            sigaddset(set, sig);
}
