/* fd.c - seg_above_stdio (segment.h): every descriptor the core and the
 * decoder open goes above the standard streams. Alone in its file so that
 * libshmimg-sdl's decoder can have it without the segment code. */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* A program started with stdout closed would otherwise get a segment as
 * fd 1, and its next printf would overwrite the header.
 * Returns: the fd to use, or -1 (errno). */
int seg_above_stdio(int fd)
{
    if (fd < 0 || fd > STDERR_FILENO)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int e = errno;
    close(fd);
    errno = e;
    return high;
}
