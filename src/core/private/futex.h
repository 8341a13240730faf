/* futex.h - the two futex calls shmimg needs, on words in a shared mapping.
 *
 * Always the shared kind (no FUTEX_PRIVATE_FLAG): the waiters are other
 * processes, which the kernel can only match by the file page behind the
 * word, not by a private address.
 */
#ifndef SHMIMG_FUTEX_H
#define SHMIMG_FUTEX_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleeps while *word == expected, for at most timeout_ns (< 0: no limit).
 * Returns: 0 when woken or when *word already differed, -ETIMEDOUT, -EINTR. */
static inline int futex_wait(_Atomic uint32_t *word, uint32_t expected,
                             int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, tsp, NULL,
                0) == 0)
        return 0;
    if (errno == EAGAIN)
        return 0;
    return -errno;
}

/* Returns: CLOCK_MONOTONIC in ns, the clock the waits' deadlines use. */
static inline int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wakes up to n sleepers on word (INT_MAX: all of them). */
static inline void futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

#endif
