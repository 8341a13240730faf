/* guard.h - mappings that survive a file truncated under them.
 *
 * A process we do not control can truncate a segment file while we have
 * it mapped; touching a page past the new end then raises SIGBUS, which
 * would kill us. Every mapping of a segment file (header and payload) is
 * registered here. A SIGBUS inside one replaces the whole registered range
 * with zero-filled private memory (mmap MAP_FIXED), sets the owner's
 * `lost` flag and returns, so the faulting access runs again and reads
 * zeros. Every access to the mapping, a header field as much as a pixel
 * copy, therefore survives; the owner checks `lost` before it trusts what
 * it read or wrote (frames.c and segment.c do, at the end of each operation). The
 * handler is installed once per process; every other SIGBUS goes to the
 * handler that was there before, or to the default action.
 */
#ifndef SHMIMG_GUARD_H
#define SHMIMG_GUARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Most mappings registered at once per process (two per attached
 * segment). */
#define GUARD_MAX_MAPPINGS 1024

/* Registers [addr, addr + len) (page-aligned, as mmap returns it) as a
 * mapping of a file that others may truncate; *lost is set when that
 * happened. lost must outlive the registration.
 * Returns: a handle >= 0, or -1 when GUARD_MAX_MAPPINGS are registered. */
int guard_register(void *addr, size_t len, atomic_bool *lost);

/* Forgets a registration (call before munmap). handle < 0 is ignored. */
void guard_unregister(int handle);

#endif
