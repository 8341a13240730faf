/* shlock.h - a lock for processes that share a mapping: a 32-bit word,
 * C11 atomics, a short spin, then sleep in the kernel (futex). It survives a
 * holder that dies: waiters check whether the owner is still alive and take
 * the lock over when it is not.
 *
 * The lock word:
 *
 *   value          meaning                          who moves it, and how
 *   0              free                             release: exchange -> 0
 *   T              held by token T, no sleeper      acquire: CAS 0 -> T
 *   T | WAITERS    held by T, someone may sleep     waiter: CAS T -> T|W, then
 *                                                   FUTEX_WAIT on T|W
 *
 *   T is the owner's token: 1 .. 0x7fffffff, never 0, never the top bit.
 *   A waiter that slept takes a free lock as T|WAITERS (0 -> T|W), because
 *   other sleepers may remain; release wakes one sleeper only when WAITERS
 *   was set, so an uncontended lock/unlock is two atomic ops, no syscall.
 *
 *   Takeover: a waiter asks owner_alive(ctx, T) once after spinning, and
 *   again whenever its FUTEX_WAIT times out (every
 *   SHLOCK_CHECK_INTERVAL_MS). If the owner is
 *   gone, CAS T[|W] -> mine|W makes it the holder; shlock_acquire then
 *   returns SHLOCK_TAKEN_OVER so the caller can treat the protected data as
 *   possibly half-written. owner_alive must answer "alive" when unsure: a
 *   lock stolen from a live owner is worse than a slow one.
 *
 * Usage:
 *       int rc = shlock_acquire(&hdr->lock_word, my_token, -1, alive, ctx);
 *       if (rc < 0) return rc;              only ETIMEDOUT with a timeout
 *       ... critical section; rc == SHLOCK_TAKEN_OVER after a dead owner ...
 *       shlock_release(&hdr->lock_word);
 */
#ifndef SHMIMG_SHLOCK_H
#define SHMIMG_SHLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SHLOCK_WAITERS           0x80000000u
#define SHLOCK_TOKEN_MASK        0x7fffffffu
#define SHLOCK_TAKEN_OVER        1
#define SHLOCK_CHECK_INTERVAL_MS 100

typedef bool (*shlock_alive_fn)(void *ctx, uint32_t owner_token);

/* Takes the lock for token (1..0x7fffffff).
 * timeout_ms: < 0 waits as long as the owner lives.
 * Returns: 0; SHLOCK_TAKEN_OVER when the previous owner had died holding
 * it; SEG_ETIMEDOUT when timeout_ms passed. */
int shlock_acquire(_Atomic uint32_t *word, uint32_t token, int timeout_ms,
                   shlock_alive_fn owner_alive, void *ctx);

/* Releases a lock held by the caller; wakes one sleeper if any may wait. */
void shlock_release(_Atomic uint32_t *word);

/* Returns: the token holding the lock, 0 when free (for people and tests). */
uint32_t shlock_owner(_Atomic uint32_t *word);

#endif
