/* guard.c - see guard.h. */
#include "guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

/* The registered mappings. The handler reads them without a lock, so each
 * entry is published by storing `start` last and retired by clearing it
 * first; registration itself is serialised by `table_lock`. */
static struct guarded {
    _Atomic uintptr_t start; /* 0: free */
    _Atomic size_t len;
    atomic_bool *_Atomic lost;
} table[GUARD_MAX_MAPPINGS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* Replaces the registered range holding addr with zero pages. mmap is a
 * plain system call on Linux, safe here although POSIX does not list it.
 * Returns: true when addr was ours. */
static bool rescue(uintptr_t addr)
{
    for (size_t i = 0; i < GUARD_MAX_MAPPINGS; i++) {
        uintptr_t start = atomic_load(&table[i].start);
        size_t len = atomic_load(&table[i].len);
        if (start == 0 || addr - start >= len)
            continue;
        /* The system call itself, not a wrapper that a sanitizer or an
         * allocator may have interposed (not safe in a signal handler). */
        void *p = (void *)syscall(
            SYS_mmap, (void *)start, len, PROT_READ | PROT_WRITE,
            MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return false;
        atomic_store(atomic_load(&table[i].lost), true);
        return true;
    }
    return false;
}

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
    /* No siglongjmp out of here: returning is simpler, and ThreadSanitizer
     * loses track of later signals after a jump out of a handler. */
    if (rescue((uintptr_t)info->si_addr))
        return; /* the access runs again, on zero pages now */
    /* Not ours: put the old disposition back. A fault is then met again
     * when the faulting instruction runs again; a SIGBUS sent by kill()
     * has no instruction to rerun, so it is sent again. */
    sigaction(SIGBUS, &previous, NULL);
    if (info->si_code <= 0)
        raise(sig);
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

int guard_register(void *addr, size_t len, atomic_bool *lost)
{
    pthread_once(&installed, install);
    int handle = -1;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < GUARD_MAX_MAPPINGS; i++)
        if (atomic_load(&table[i].start) == 0) {
            atomic_store(&table[i].len, len);
            atomic_store(&table[i].lost, lost);
            atomic_store(&table[i].start, (uintptr_t)addr);
            handle = (int)i;
            break;
        }
    pthread_mutex_unlock(&table_lock);
    return handle;
}

void guard_unregister(int handle)
{
    if (handle < 0 || handle >= GUARD_MAX_MAPPINGS)
        return;
    pthread_mutex_lock(&table_lock);
    atomic_store(&table[handle].start, 0);
    pthread_mutex_unlock(&table_lock);
}
