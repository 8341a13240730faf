/* guard.c - see guard.h. */
#include "guard.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

/* Set only while this thread copies; the handler jumps back through it. */
static _Thread_local sigjmp_buf *volatile active;
static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
    if (active)
        siglongjmp(*active, 1);
    /* Not ours: put the old disposition back and return, so that the
     * faulting instruction runs again and faults into it. */
    sigaction(SIGBUS, &previous, NULL);
    (void)sig;
    (void)info;
    (void)context;
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous);
}

int guard_copy(void *dst, const void *src, size_t n)
{
    pthread_once(&installed, install);
    sigjmp_buf here;
    /* savemask = 0: SA_NODEFER keeps SIGBUS unblocked in the handler, so
     * there is no mask to restore and no syscall per copy. */
    if (sigsetjmp(here, 0)) {
        active = NULL;
        return -1;
    }
    active = &here;
    memcpy(dst, src, n);
    active = NULL;
    return 0;
}
