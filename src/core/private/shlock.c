/* shlock.c - see shlock.h for the lock-word state table. */
#include "shlock.h"

#include "errors.h"
#include "futex.h"

#include <time.h>

/* Spin rounds before sleeping. Between two looks at the lock word a
 * spinner waits 1, 2, 4 ... 64 pause instructions (~700 in all): every
 * look pulls the holder's cache line away from it, so looking less often
 * lets the holder finish sooner. Measured with two processes hammering one
 * lock (shmimg-bench row 5): a plain 100-pause spin that looked every time
 * ran ~1.5x slower than a pthread mutex; this backoff runs level with it. */
static const int spin_rounds = 16;
static const int spin_max_delay = 64; /* pause instructions */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline bool try_take(_Atomic uint32_t *word, uint32_t from, uint32_t to)
{
    return atomic_compare_exchange_strong_explicit(
        word, &from, to, memory_order_acquire, memory_order_relaxed);
}

int shlock_acquire(_Atomic uint32_t *word, uint32_t token, int timeout_ms,
                   shlock_alive_fn owner_alive, void *ctx)
{
    if (try_take(word, 0, token))
        return 0;

    for (int i = 0, delay = 1; i < spin_rounds; i++) {
        /* Invariant: we only CAS after seeing 0, so while the lock is held
         * a spinner only reads the line, never writes it. */
        if (atomic_load_explicit(word, memory_order_relaxed) == 0 &&
            try_take(word, 0, token))
            return 0;
        for (int d = 0; d < delay; d++)
            cpu_relax();
        if (delay < spin_max_delay)
            delay *= 2;
    }

    /* A holder already gone (it died, and left the word behind) is taken
     * over now, not after a whole slice of sleep. */
    uint32_t held = atomic_load_explicit(word, memory_order_relaxed);
    if (held != 0 && !owner_alive(ctx, held & SHLOCK_TOKEN_MASK) &&
        try_take(word, held, token | SHLOCK_WAITERS))
        return SHLOCK_TAKEN_OVER;

    const int64_t slice_ns = (int64_t)SHLOCK_CHECK_INTERVAL_MS * 1000000;
    const int64_t deadline =
        timeout_ms < 0 ? INT64_MAX
                       : monotonic_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        uint32_t cur = atomic_load_explicit(word, memory_order_relaxed);
        if (cur == 0) {
            if (try_take(word, 0, token | SHLOCK_WAITERS))
                return 0;
            continue;
        }
        if (!(cur & SHLOCK_WAITERS)) {
            if (!try_take(word, cur, cur | SHLOCK_WAITERS))
                continue;
            cur |= SHLOCK_WAITERS;
        }
        int64_t left = deadline - monotonic_ns();
        if (left <= 0)
            return SEG_ETIMEDOUT;
        int rc = futex_wait(word, cur, left < slice_ns ? left : slice_ns);
        if (rc != -ETIMEDOUT)
            continue;
        /* Nobody woke us for a whole slice: is the owner still there? */
        if (atomic_load_explicit(word, memory_order_relaxed) == cur &&
            !owner_alive(ctx, cur & SHLOCK_TOKEN_MASK) &&
            try_take(word, cur, token | SHLOCK_WAITERS))
            return SHLOCK_TAKEN_OVER;
    }
}

void shlock_release(_Atomic uint32_t *word)
{
    uint32_t old = atomic_exchange_explicit(word, 0, memory_order_release);
    if (old & SHLOCK_WAITERS)
        futex_wake(word, 1);
}

uint32_t shlock_owner(_Atomic uint32_t *word)
{
    return atomic_load_explicit(word, memory_order_relaxed) & SHLOCK_TOKEN_MASK;
}
