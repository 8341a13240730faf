/* wait.c - waiting for a new frame (seg_wait, on the futex word
 * `latest`), for a key's first file (seg_wait_for_key: inotify), and
 * removing a key's file (seg_remove), which wakes the waiters.
 */
#include "segment_internal.h"

#include "futex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* A waiter also checks this often that its file is still the key's and
 * still whole ('shmimg rm' and truncation wake nobody by themselves). */
static const int wait_check_ms = 250;

/* ---- waiting ------------------------------------------------------------ */

uint32_t seg_generation(const seg *s)
{
    return atomic_load_explicit(&s->hdr->latest, memory_order_acquire);
}

int seg_check(seg *s, seg_err *err)
{
    struct stat st;
    if (atomic_load(&s->lost) ||
        (fstat(s->fd, &st) == 0 &&
         (uint64_t)st.st_size < s->payload_offset + s->payload_len))
        return seg_fail_truncated(s, err);
    if (!seg_same_file(s->path, s->fd))
        return seg_fail(err, SEG_EGONE,
                        "%s was removed or replaced while we were "
                        "attached",
                        s->path);
    return 0;
}

int seg_wait(seg *s, uint32_t seen, int timeout_ms, const atomic_bool *cancel,
             uint32_t *now, seg_err *err)
{
    int64_t deadline = timeout_ms < 0
                           ? INT64_MAX
                           : monotonic_ns() + (int64_t)timeout_ms * 1000000;
    int64_t next_check = monotonic_ns() + (int64_t)wait_check_ms * 1000000;
    bool woken = false;
    for (;;) {
        uint32_t g = seg_generation(s);
        if (atomic_load(&s->lost)) /* the load above read a vanished page */
            return seg_fail_truncated(s, err);
        if (g != seen) {
            if (now)
                *now = g;
            return 0;
        }
        if (cancel && atomic_load(cancel))
            return seg_fail(err, SEG_ECANCELED, "%s: wait cancelled", s->path);
        /* Woken without a new frame ('shmimg rm' wakes us), or time to
         * look: is the file still the key's, and whole? */
        int64_t t = monotonic_ns();
        if (woken || t >= next_check) {
            int rc = seg_check(s, err);
            if (rc < 0)
                return rc;
            next_check = t + (int64_t)wait_check_ms * 1000000;
        }
        int64_t left = timeout_ms < 0 ? INT64_MAX : deadline - t;
        if (left <= 0)
            return seg_fail(err, SEG_ETIMEDOUT, "%s: no new image within %d ms",
                            s->path, timeout_ms);
        int64_t slice = next_check - t < left ? next_check - t : left;
        woken = futex_wait(&s->hdr->latest, g, slice) == 0;
    }
}

void seg_wake_waiters(seg *s) { futex_wake(&s->hdr->latest, INT_MAX); }

/* Readers never create a segment, so a reader that comes first waits for
 * the key's file to appear: inotify on the directory wakes it at once
 * (link() and rename() both make the name), and it looks anyway every
 * wait_check_ms, for a cancel flag, a lost event or inotify refused. */
int seg_wait_for_key(const char *key, int timeout_ms, const atomic_bool *cancel,
                     seg_err *err)
{
    char path[SEG_PATH_MAX];
    int rc = seg_path(key, path, sizeof path, err);
    if (rc < 0)
        return rc;
    int64_t deadline = timeout_ms < 0
                           ? INT64_MAX
                           : monotonic_ns() + (int64_t)timeout_ms * 1000000;
    int in = seg_above_stdio(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (in >= 0 &&
        inotify_add_watch(in, seg_dir(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) <
            0) {
        close(in);
        in = -1;
    }
    struct stat st;
    for (;;) {
        if (lstat(path, &st) == 0) {
            rc = 0;
            break;
        }
        int e = errno;
        rc = seg_dir_check(err); /* removed under us? */
        if (rc < 0)
            break;
        if (e != ENOENT) {
            errno = e;
            rc = seg_fail_errno(err, path, "stat");
            break;
        }
        if (cancel && atomic_load(cancel)) {
            rc = seg_fail(err, SEG_ECANCELED, "%s: wait cancelled", path);
            break;
        }
        int64_t left = deadline - monotonic_ns();
        if (left <= 0) {
            rc = seg_fail(err, SEG_ETIMEDOUT,
                          "no segment for key '%s' in %s within %d ms", key,
                          seg_dir(), timeout_ms);
            break;
        }
        int64_t slice = (int64_t)wait_check_ms * 1000000;
        int ms = (int)((left < slice ? left : slice) / 1000000) + 1;
        struct pollfd pfd = {.fd = in, .events = POLLIN};
        if (in < 0 || poll(&pfd, 1, ms) <= 0) {
            if (in < 0) /* no inotify: look every slice */
                poll(NULL, 0, ms);
            continue;
        }
        char events[4096]; /* drained: each wake-up means "look again" */
        while (read(in, events, sizeof events) > 0) {
        }
    }
    if (in >= 0)
        close(in);
    return rc;
}

int seg_attach_wait(const char *key, int timeout_ms, const atomic_bool *cancel,
                    seg **out, seg_err *err)
{
    int64_t deadline = timeout_ms < 0
                           ? INT64_MAX
                           : monotonic_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int rc = seg_attach(key, SEG_READER, out, err);
        if (rc != SEG_ENOSEG)
            return rc;
        /* The file may appear and vanish again before we open it. */
        int64_t left = deadline - monotonic_ns();
        int ms = timeout_ms < 0 ? -1 : left <= 0 ? 0 : (int)(left / 1000000);
        rc = seg_wait_for_key(key, ms, cancel, err);
        if (rc < 0)
            return rc;
    }
}

bool seg_replaced(const seg *s) { return !seg_same_file(s->path, s->fd); }

/* ---- removing ----------------------------------------------------------- */

int seg_remove(const char *key, unsigned *attached, seg_err *err)
{
    if (attached)
        *attached = 0;
    char path[SEG_PATH_MAX];
    int rc = seg_path(key, path, sizeof path, err);
    if (rc < 0)
        return rc;
    /* Ours only; but a mode anyone may write makes a file unusable, not
     * unremovable: rm is how a bad file goes (its bytes are not trusted
     * here, only woken on). */
    struct stat st;
    int fd = seg_open_checked(path, O_RDONLY, key, SEG_OPEN_WRITABLE, &st, err);
    if (fd < 0)
        return fd;
    if (attached)
        *attached = seg_count_owners(fd);
    if (unlink(path) < 0) {
        rc = errno == ENOENT
                 ? seg_fail(err, SEG_ENOSEG, "no segment for key '%s' in %s",
                            key, seg_dir())
                 : seg_fail_errno(err, path, "remove");
        close(fd);
        return rc;
    }
    /* Wake its waiters, so that they follow the key to its next file now
     * rather than at their next check. Read-only: rm writes nothing. */
    if (st.st_size >= SHMIMG_HEADER_SIZE) {
        shmimg_header *h =
            mmap(NULL, SHMIMG_HEADER_SIZE, PROT_READ, MAP_SHARED, fd, 0);
        if (h != MAP_FAILED) {
            futex_wake(&h->latest, INT_MAX);
            munmap(h, SHMIMG_HEADER_SIZE);
        }
    }
    close(fd);
    return 0;
}
