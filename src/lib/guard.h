/* guard.h - a memcpy that survives SIGBUS.
 *
 * A process we do not control can truncate a segment file while we have
 * it mapped; touching a page past the new end then raises SIGBUS, which
 * would kill a reader. Reads from a segment go through guard_copy: a
 * SIGBUS during the copy makes it return -1 instead. The handler is
 * installed once per process and hands every other SIGBUS to the handler
 * that was there before (or to the default action).
 */
#ifndef SHMIMG_GUARD_H
#define SHMIMG_GUARD_H

#include <stddef.h>

/* Copies n bytes. Returns: 0, or -1 when the source vanished under us. */
int guard_copy(void *dst, const void *src, size_t n);

#endif
