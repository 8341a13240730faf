/* segment.c - the core of the segment module: creation, attach slots,
 * lifetime, and the publish/read/wait protocol of layout.h. Validation is
 * in segment_check.c, looking without touching in segment_inspect.c.
 *
 * Reading order: seg_attach (attach_once: open, screen, take_slot, the
 * lifetime check under the lock), seg_detach, then seg_write_begin/end
 * (pick_buffer, relayout) and seg_read_begin/end (find_frame), seg_pull,
 * seg_wait, seg_remove.
 */
#include "segment_internal.h"

#include "futex.h"
#include "guard.h"
#include "shlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A file renamed under us while attaching is retried this many times. */
static const int attach_retries = 16;
/* What an attempt returns to ask for another: not an fd, not an error. */
enum { retry = -1000 };
/* A waiter also checks this often that its file is still the key's and
 * still whole ('shmimg rm' and truncation wake nobody by themselves). */
static const int wait_check_ms = 250;
/* A reader waiting for the writer of the only candidate buffer sleeps on
 * `latest` at most this long between looks at the writer's liveness. */
static const int writer_check_ms = 20;
/* Detaching waits this long for the lock to decide whether it is the last
 * owner out; a publisher stopped while holding it keeps the file. */
static const int detach_lock_ms = 1000;

/* ---- creation ----------------------------------------------------------- */

/* Allocates the pages of [offset, offset + len) (posix_fallocate), so
 * that writing there can never SIGBUS on a full SHMIMG_DIR. It reports
 * errors through its return value, not errno. */
static int reserve(int fd, uint64_t offset, uint64_t len, const char *path,
                   seg_err *err)
{
    int e = posix_fallocate(fd, (off_t)offset, (off_t)len);
    if (e == 0)
        return 0;
    if (e == ENOSPC || e == EDQUOT || e == EFBIG)
        return seg_fail(err, SEG_ENOSPACE,
                        "%s: no space left in %s for %llu bytes (%s)", path,
                        seg_dir(), (unsigned long long)len, strerror(e));
    errno = e;
    return seg_fail_errno(err, path, "posix_fallocate");
}

static uint32_t random_u32(void)
{
    uint32_t v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == sizeof v)
        return v;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 12);
}

bool seg_is_temp_name(const char *name, const char *key)
{
    size_t prefix = 1 + strlen(SEG_FILE_PREFIX);
    if (name[0] != '.' || strncmp(name + 1, SEG_FILE_PREFIX, prefix - 1) != 0)
        return false;
    const char *hex = strrchr(name, '.');
    if (hex - name <= (ptrdiff_t)prefix || strlen(hex + 1) != 8 ||
        strspn(hex + 1, "0123456789abcdef") != 8)
        return false;
    const char *pid = hex - 1;
    while (pid > name + prefix && *pid >= '0' && *pid <= '9')
        pid--;
    if (*pid != '.' || pid + 1 == hex)
        return false;
    char k[SEG_KEY_MAX + 1];
    size_t n = (size_t)(pid - (name + prefix));
    if (n == 0 || n > SEG_KEY_MAX)
        return false;
    memcpy(k, name + prefix, n);
    k[n] = '\0';
    return seg_key_check(k, NULL) == 0 && (!key || strcmp(k, key) == 0);
}

/* A creator holds its temporary file's flock from the moment it made it,
 * so a file whose flock we can take exclusively has no creator any more.
 * (A creator in the microseconds between open and flock loses its file
 * and retries: its link() finds no source.) */
int seg_clean_leftovers(const char *key)
{
    DIR *dir = opendir(seg_dir());
    if (!dir)
        return 0;
    int removed = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        if (!seg_is_temp_name(d->d_name, key))
            continue;
        int fd = openat(dirfd(dir), d->d_name,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st, now;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid() && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            fstatat(dirfd(dir), d->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            now.st_ino == st.st_ino && now.st_dev == st.st_dev &&
            unlinkat(dirfd(dir), d->d_name, 0) == 0)
            removed++;
        close(fd);
    }
    closedir(dir);
    return removed;
}

/* Creates an empty segment under a temporary name (*tmp), flock()ed at
 * once and with a whole header; the caller takes its slot, then links it
 * into place. Returns: the fd, or an error. */
static int create_temp(const char *path, const char *key, unsigned flags,
                       char *tmp, size_t tmp_size, seg_err *err)
{
    seg_clean_leftovers(key);
    snprintf(tmp, tmp_size, "%s/.%s.%ld.%08x", seg_dir(),
             strrchr(path, '/') + 1, (long)getpid(), random_u32());
    int fd = seg_above_stdio(
        open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd < 0)
        return seg_fail_errno(err, path, "create");
    /* At once: the shared flock tells seg_clean_leftovers that we live. */
    int rc = flock(fd, LOCK_SH) < 0 ? seg_fail_errno(err, path, "flock") : 0;
    /* The mode it is shared with, before its name appears (fchmod: the
     * umask does not cut it). */
    mode_t mode = flags & SEG_CREATE_ALL     ? 0644
                  : flags & SEG_CREATE_GROUP ? 0640
                                             : 0600;
    if (rc == 0 && mode != 0600 && fchmod(fd, mode) < 0)
        rc = seg_fail_errno(err, path, "chmod");
    if (rc == 0)
        rc = reserve(fd, 0, SHMIMG_HEADER_SIZE, path, err);
    static shmimg_header fresh; /* zero; only read */
    shmimg_header h = fresh;
    memcpy(h.magic, SHMIMG_MAGIC, sizeof h.magic);
    h.layout_version = SHMIMG_LAYOUT_VERSION;
    h.header_size = SHMIMG_HEADER_SIZE;
    h.payload_offset = SHMIMG_HEADER_SIZE;
    if (rc == 0 && pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        rc = seg_fail_errno(err, path, "write header");
    if (rc < 0) {
        unlink(tmp);
        close(fd);
        return rc;
    }
    return fd;
}

/* ---- attach slots ------------------------------------------------------- */

static bool same_file(const char *path, int fd)
{
    struct stat a, b;
    return stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static struct flock slot_range(uint32_t first, uint32_t count, short type)
{
    struct flock fl = {0};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)(SHMIMG_SLOT_LOCK_BASE + first);
    fl.l_len = count;
    return fl;
}

static int take_slot(seg *s, seg_err *err)
{
    uint32_t start = (uint32_t)getpid() % SHMIMG_SLOTS;
    for (uint32_t k = 0; k < SHMIMG_SLOTS; k++) {
        uint32_t i = (start + k) % SHMIMG_SLOTS;
        struct flock fl = slot_range(i, 1, F_WRLCK);
        if (fcntl(s->fd, F_OFD_SETLK, &fl) < 0) {
            if (errno == EAGAIN || errno == EACCES)
                continue;
            return seg_fail_errno(err, s->path, "lock attach slot");
        }
        uint32_t nonce;
        do
            nonce = random_u32() & (SHLOCK_TOKEN_MASK >> seg_slot_bits);
        while (nonce == 0);
        /* A creator takes its slot before its file has its name, and
         * before mapping it: a mapping made under the temporary name and
         * kept across link() and unlink() trips Valgrind's address-space
         * manager (an assertion in its segment names); pwrite is enough. */
        if (s->hdr)
            atomic_store(&s->hdr->slot_nonce[i], nonce);
        else if (pwrite(s->fd, &nonce, sizeof nonce,
                        (off_t)(offsetof(shmimg_header, slot_nonce) +
                                i * sizeof nonce)) != (ssize_t)sizeof nonce)
            return seg_fail_errno(err, s->path, "write attach slot");
        s->slot = i;
        s->token = nonce << seg_slot_bits | i;
        return 0;
    }
    return seg_fail(err, SEG_ETOOMANY, "%s: all %u attach slots are taken",
                    s->path, SHMIMG_SLOTS);
}

/* The lock's liveness question, answered with the attach slots. */
static bool owner_alive(void *ctx, uint32_t token)
{
    seg *s = ctx;
    uint32_t slot = token & (SHMIMG_SLOTS - 1);
    if (token == s->token)
        return true; /* another thread of ours */
    if (atomic_load(&s->hdr->slot_nonce[slot]) != token >> seg_slot_bits)
        return false; /* the slot was freed or taken by someone new */
    struct flock fl = slot_range(slot, 1, F_WRLCK);
    if (fcntl(s->fd, F_OFD_GETLK, &fl) < 0)
        return true; /* cannot tell: do not steal */
    return fl.l_type == F_WRLCK;
}

/* Counts the write-locked slots in [first, first + count) held by other
 * open file descriptions. F_OFD_GETLK reports one conflicting lock, not
 * necessarily the lowest, so count it and look on both sides of it. A
 * read lock (anyone who can read the file can take one) counts for
 * nothing, but may cover several slots. */
static unsigned count_held(int fd, uint32_t first, uint32_t count, int depth)
{
    if (count == 0 || depth > 64)
        return 0;
    struct flock fl = slot_range(first, count, F_WRLCK);
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    uint64_t end = (uint64_t)first + count;
    uint64_t lo = (uint64_t)fl.l_start, hi;
    if (lo < SHMIMG_SLOT_LOCK_BASE)
        lo = SHMIMG_SLOT_LOCK_BASE;
    lo -= SHMIMG_SLOT_LOCK_BASE;
    hi = fl.l_len == 0 ? end
                       : (uint64_t)fl.l_start + (uint64_t)fl.l_len -
                             SHMIMG_SLOT_LOCK_BASE;
    if (lo < first)
        lo = first;
    if (hi > end)
        hi = end;
    if (lo >= hi)
        return 0; /* not inside the range asked: nothing sensible */
    unsigned here = fl.l_type == F_WRLCK ? (unsigned)(hi - lo) : 0;
    return here + count_held(fd, first, (uint32_t)(lo - first), depth + 1) +
           count_held(fd, (uint32_t)hi, (uint32_t)(end - hi), depth + 1);
}

unsigned seg_count_owners(int fd) { return count_held(fd, 0, SHMIMG_SLOTS, 0); }

/* ---- mappings ----------------------------------------------------------- */

static void unmap_all(seg *s)
{
    guard_unregister(s->guard_payload);
    guard_unregister(s->guard_hdr);
    s->guard_payload = s->guard_hdr = -1;
    if (s->payload)
        munmap(s->payload, s->payload_len);
    if (s->hdr)
        munmap(s->hdr, SHMIMG_HEADER_SIZE);
    s->payload = NULL;
    s->hdr = NULL;
    s->payload_len = 0;
}

/* Registers a fresh mapping with the SIGBUS guard. Returns: 0 or ESYS. */
static int guard_mapping(seg *s, void *addr, size_t len, int *handle,
                         seg_err *err)
{
    *handle = guard_register(addr, len, &s->lost);
    if (*handle < 0)
        return seg_fail(err, SEG_ESYS,
                        "%s: this process has %d segment mappings "
                        "already; detach some first",
                        s->path, GUARD_MAX_MAPPINGS);
    return 0;
}

static int prot(const seg *s)
{
    return s->read_only ? PROT_READ : PROT_READ | PROT_WRITE;
}

/* The error for a file truncated by someone else under our mappings. */
static int fail_truncated(seg *s, seg_err *err)
{
    s->untrusted = false; /* it is the file we attached to: ours to clean */
    return seg_fail(err, SEG_ECORRUPT,
                    "%s: the segment file was truncated by another "
                    "process; its image is lost (publish again)",
                    s->path);
}

/* Copies the mapped header into *snap, then measures the file, then checks
 * the copy against that size. In this order, because capacity only grows
 * after the file did: the copy never has capacity ahead of the size. The
 * caller uses the copy, which nobody else can change under it. */
static int snapshot_header(seg *s, shmimg_header *snap, uint64_t *file_size,
                           seg_err *err)
{
    memcpy(snap, s->hdr, offsetof(shmimg_header, buf));
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return seg_fail_errno(err, s->path, "fstat");
    if (file_size)
        *file_size = (uint64_t)st.st_size;
    return seg_check_header(snap, (uint64_t)st.st_size, s->path, err);
}

/* Makes the payload mapping cover at least `need` bytes from
 * payload_offset, mapping the whole file as it is now. Returns: 0;
 * ECORRUPT when the file is shorter than that (truncated, or a hostile
 * descriptor); ESYS. */
static int cover(seg *s, uint64_t need, seg_err *err)
{
    if (need <= s->payload_len)
        return 0;
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return seg_fail_errno(err, s->path, "fstat");
    uint64_t size = (uint64_t)st.st_size;
    if (size < s->payload_offset + s->payload_len)
        return fail_truncated(s, err);
    if (size < s->payload_offset || need > size - s->payload_offset)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: %llu bytes of "
                        "buffers needed, the file has %llu past the "
                        "header",
                        s->path, (unsigned long long)need,
                        (unsigned long long)(size > s->payload_offset
                                                 ? size - s->payload_offset
                                                 : 0));
    uint64_t len = size - s->payload_offset;
    if (len > SIZE_MAX)
        return seg_fail(err, SEG_ETOOBIG, "%s: payload too large", s->path);
    void *p = mmap(NULL, (size_t)len, prot(s), MAP_SHARED, s->fd,
                   (off_t)s->payload_offset);
    if (p == MAP_FAILED)
        return seg_fail_errno(err, s->path, "mmap payload");
    int handle;
    int rc = guard_mapping(s, p, (size_t)len, &handle, err);
    if (rc < 0) {
        munmap(p, (size_t)len);
        return rc;
    }
    guard_unregister(s->guard_payload);
    if (s->payload)
        munmap(s->payload, s->payload_len);
    s->guard_payload = handle;
    s->payload = p;
    s->payload_len = (size_t)len;
    return 0;
}

/* ---- the lock ----------------------------------------------------------- */

static int fail_read_only(seg *s, seg_err *err)
{
    return seg_fail(err, SEG_EPERM,
                    "%s belongs to uid %u and is shared read-only with "
                    "you; only its owner can publish into it",
                    s->path, (unsigned)s->file_uid);
}

/* A handle belongs to the process that attached it: a child that
 * inherited it through fork() may read through it, but its lock token and
 * attach slot are its parent's. */
static int fail_inherited(seg *s, seg_err *err)
{
    return seg_fail(err, SEG_EINVAL,
                    "%s: this handle was attached by process %u; a "
                    "child process attaches its own to publish",
                    s->path, (unsigned)s->pid);
}

static bool inherited(const seg *s) { return s->pid != (uint32_t)getpid(); }

static int lock_for(seg *s, int timeout_ms, seg_err *err)
{
    if (s->read_only)
        return fail_read_only(s, err);
    if (inherited(s))
        return fail_inherited(s, err);
    if (!s->token)
        return seg_fail(err, SEG_EPERM,
                        "%s: attached as a reader, which takes no lock",
                        s->path);
    int rc = shlock_acquire(&s->hdr->lock_word, s->token, timeout_ms,
                            owner_alive, s);
    if (rc == SEG_ETIMEDOUT)
        return seg_fail(err, rc,
                        "%s: the segment has been locked by pid %u for "
                        "over %d ms",
                        s->path, s->hdr->lock_owner_pid, timeout_ms);
    s->hdr->lock_owner_pid = s->pid;
    return rc;
}

int seg_lock(seg *s, seg_err *err)
{
    return lock_for(s, s->lock_timeout_ms, err);
}

void seg_unlock(seg *s)
{
    s->hdr->lock_owner_pid = 0;
    shlock_release(&s->hdr->lock_word);
}

/* ---- finding the newest frame (readers write nothing) ------------------- */

/* Whether a publisher may still be writing: the lock is held by a live
 * owner other than us (we never read while we write). */
static bool writer_alive(seg *s)
{
    uint32_t w = atomic_load(&s->hdr->lock_word) & SHLOCK_TOKEN_MASK;
    return w != 0 && w != s->token && owner_alive(s, w);
}

static uint32_t load_seq(const shmimg_buffer *b, memory_order order)
{
    return atomic_load_explicit(&((shmimg_buffer *)b)->seq, order);
}

/* Steps 1-4 of "Read" in layout.h. wait_ms: how long to wait while the
 * newest buffer is being written (0: report it as incomplete at once).
 * Returns: 0 with *v; EEMPTY, EINCOMPLETE, ECORRUPT, ETIMEDOUT, ELAPPED. */
static int find_frame(seg *s, seg_view *v, int wait_ms, seg_err *err)
{
    int64_t deadline =
        wait_ms < 0 ? INT64_MAX : monotonic_ns() + (int64_t)wait_ms * 1000000;
    for (int tries = 0; tries < SEG_MAX_LAPS; tries++) {
        uint32_t latest =
            atomic_load_explicit(&s->hdr->latest, memory_order_acquire);
        uint32_t i = SHMIMG_LATEST_INDEX(latest);
        const shmimg_buffer *b = &s->hdr->buf[i];
        uint32_t seq = load_seq(b, memory_order_acquire);
        if (atomic_load(&s->lost))
            return fail_truncated(s, err);
        if (seq % 2) {
            /* Being written: with one buffer the writer reuses the newest
             * one, and a re-layout marks them all. Or its writer died. */
            if (!writer_alive(s) || wait_ms == 0)
                return seg_fail(err, SEG_EINCOMPLETE,
                                "%s: %s (image incomplete)", s->path,
                                seg_strerror(SEG_EINCOMPLETE));
            int64_t left = deadline - monotonic_ns();
            if (left <= 0)
                return seg_fail(err, SEG_ETIMEDOUT,
                                "%s: a publisher (pid %u) has been "
                                "writing the only frame for over %d ms",
                                s->path, s->hdr->lock_owner_pid, wait_ms);
            int64_t slice = (int64_t)writer_check_ms * 1000000;
            futex_wait(&s->hdr->latest, latest, left < slice ? left : slice);
            tries--; /* waiting for a writer is not being lapped */
            continue;
        }
        uint64_t offset;
        seg_copy_descriptor(b, &v->image, &offset);
        atomic_thread_fence(memory_order_acquire);
        if (load_seq(b, memory_order_relaxed) != seq)
            continue; /* rewritten while we copied it */
        v->image.buffer = i;
        if (v->image.frame == 0) {
            if (atomic_load_explicit(&s->hdr->latest, memory_order_acquire) !=
                latest)
                continue; /* a re-layout emptied it after `latest` moved */
            return seg_fail(err, SEG_EEMPTY, "%s: %s", s->path,
                            seg_strerror(SEG_EEMPTY));
        }
        /* What we mapped is inside the file: a frame there needs no
         * fstat. Any other answer is the file's own size's, which a
         * message then names. */
        uint64_t mapped = s->payload_offset + s->payload_len;
        int rc = seg_check_frame(&v->image, offset, s->payload_offset, mapped,
                                 s->path, NULL);
        struct stat st;
        if (rc < 0 && fstat(s->fd, &st) == 0)
            rc = seg_check_frame(&v->image, offset, s->payload_offset,
                                 (uint64_t)st.st_size, s->path, err);
        else if (rc < 0)
            rc = seg_fail_errno(err, s->path, "fstat");
        if (rc == 0)
            rc = cover(s, offset + v->image.payload_size - s->payload_offset,
                       err);
        if (rc < 0) {
            /* A descriptor rewritten since is a publisher's, not garbage. */
            if (load_seq(b, memory_order_acquire) != seq)
                continue;
            if (rc == SEG_ECORRUPT && !atomic_load(&s->lost))
                s->untrusted = true;
            return rc;
        }
        v->pixels = s->payload + (offset - s->payload_offset);
        v->seq = seq;
        return 0;
    }
    return seg_fail(err, SEG_ELAPPED,
                    "%s: %s %d times in a row; this reader is slower "
                    "than the publisher",
                    s->path, seg_strerror(SEG_ELAPPED), SEG_MAX_LAPS);
}

/* ---- attaching ---------------------------------------------------------- */

/* Opens the key's file: read-write when it is ours; read-only for a reader
 * when it is another user's (shared with --share) or not writable. */
static int open_file(seg *s, const char *key, unsigned flags, struct stat *st,
                     seg_err *err)
{
    int fd = seg_open_checked(s->path, O_RDWR, key, false, st, err);
    if (fd == SEG_EPERM && (flags & SEG_READER)) {
        fd = seg_open_checked(s->path, O_RDONLY, key, true, st, err);
        s->read_only = true;
    }
    if (fd >= 0)
        s->file_uid = st->st_uid;
    return fd;
}

/* Maps the header, checks it and the newest frame before we write
 * anything (our slot's nonce), so that a corrupt file is refused
 * untouched. */
static int map_header(seg *s, seg_err *err)
{
    s->hdr = mmap(NULL, SHMIMG_HEADER_SIZE, prot(s), MAP_SHARED, s->fd, 0);
    if (s->hdr == MAP_FAILED) {
        s->hdr = NULL;
        return seg_fail_errno(err, s->path, "mmap header");
    }
    int rc = guard_mapping(s, s->hdr, SHMIMG_HEADER_SIZE, &s->guard_hdr, err);
    if (rc < 0)
        return rc;
    shmimg_header snap;
    rc = snapshot_header(s, &snap, NULL, err);
    if (rc < 0)
        return rc;
    s->payload_offset = snap.payload_offset;
    seg_view v;
    rc = find_frame(s, &v, 0, err);
    if (rc == 0 && atomic_load(&s->lost))
        rc = fail_truncated(s, err);
    return rc == SEG_ECORRUPT ? rc : 0;
}

/* One attempt at attaching. Returns 0, an error, or `retry`. */
static int attach_once(seg *s, const char *key, unsigned flags, seg_err *err)
{
    struct stat st;
    char tmp[SEG_PATH_MAX + 32] = "";
    int fd = open_file(s, key, flags, &st, err);
    if (fd == SEG_ENOSEG && (flags & SEG_CREATE)) {
        fd = create_temp(s->path, key, flags, tmp, sizeof tmp, err);
        if (fd < 0)
            return fd;
        s->read_only = false;
    } else if (fd < 0) {
        return fd;
    } else if (st.st_size < SHMIMG_HEADER_SIZE) {
        close(fd);
        return seg_check_header(NULL, (uint64_t)st.st_size, s->path, err);
    }
    s->fd = fd;
    int rc;
    if (*tmp) {
        /* Slot first, then the name: a file under the key always has an
         * owner, until its last one detaches. */
        rc = take_slot(s, err);
        if (rc == 0 && link(tmp, s->path) < 0)
            /* EEXIST: another process created it first. ENOENT: our
             * temporary was taken for a dead one's. */
            rc = errno == EEXIST || errno == ENOENT
                     ? retry
                     : seg_fail_errno(err, s->path, "link");
        unlink(tmp);
        *tmp = '\0';
        return rc < 0 ? rc : map_header(s, err);
    }
    rc = map_header(s, err);
    if (rc < 0)
        return rc;
    /* A reader holds nothing: no slot, no lock. It neither keeps the file
     * alive nor ever removes it, and any number of them cannot keep a
     * publisher out. It does not wait for the lock either (a publisher
     * stopped mid-write would hold it up): at worst it reads a file just
     * removed, and its waits notice that within 250 ms (seg_wait). */
    if (flags & SEG_READER)
        return same_file(s->path, fd) ? 0 : retry;
    rc = take_slot(s, err);
    if (rc < 0)
        return rc;
    /* The last owner out decides, under the lock, with our slot counted
     * or not yet taken; after its unlink the name no longer leads here. */
    rc = seg_lock(s, err);
    if (rc < 0)
        return rc;
    rc = same_file(s->path, fd) ? 0 : retry;
    seg_unlock(s);
    return rc;
}

int seg_attach(const char *key, unsigned flags, seg **out, seg_err *err)
{
    *out = NULL;
    if ((flags & SEG_READER) && (flags & SEG_CREATE))
        return seg_fail(err, SEG_EINVAL,
                        "a reader never creates a segment (wait for one "
                        "with seg_attach_wait)");
    seg *s = calloc(1, sizeof *s);
    if (!s)
        return seg_fail(err, SEG_ESYS, "out of memory");
    s->lock_timeout_ms = SEG_DEFAULT_LOCK_TIMEOUT_MS;
    s->want_buffers = SEG_DEFAULT_BUFFERS;
    s->pid = (uint32_t)getpid();
    int rc = seg_path(key, s->path, sizeof s->path, err);
    for (int i = 0; rc == 0 && i < attach_retries; i++) {
        s->fd = -1;
        s->guard_hdr = s->guard_payload = -1;
        s->read_only = false;
        atomic_store(&s->lost, false);
        rc = attach_once(s, key, flags, err);
        if (rc == 0) {
            *out = s;
            return 0;
        }
        if (s->hdr && s->token && !s->read_only)
            atomic_store(&s->hdr->slot_nonce[s->slot], 0);
        s->token = 0;
        unmap_all(s);
        if (s->fd >= 0)
            close(s->fd); /* drops the slot's lock */
        if (rc != retry)
            break;
        rc = 0;
    }
    if (rc == 0)
        rc = seg_fail(err, SEG_ESYS,
                      "%s kept changing while attaching; try again", s->path);
    free(s);
    return rc;
}

/* Gives our attach slot back, deciding nothing about the file. */
static void drop_slot(seg *s)
{
    atomic_store(&s->hdr->slot_nonce[s->slot], 0);
    struct flock fl = slot_range(s->slot, 1, F_UNLCK);
    fcntl(s->fd, F_OFD_SETLK, &fl);
    s->token = 0;
}

/* Gives up our attach slot; as the last owner out (and not persistent),
 * removes the file first and wakes its waiters, who follow the key. Last
 * owner out? Counted under the lock while we still hold our slot (our own
 * lock is not counted), so an owner attaching now either is counted or
 * finds the name gone after our unlink. A publisher stopped holding the
 * lock keeps the file. Returns: 1 when the file was removed. */
static int leave_as_owner(seg *s)
{
    int removed = 0;
    bool persist = atomic_load(&s->hdr->flags) & SHMIMG_FLAG_PERSIST;
    bool maybe_last = !persist && !s->untrusted && seg_count_owners(s->fd) == 0;
    if (maybe_last && lock_for(s, detach_lock_ms, NULL) >= 0) {
        if (seg_count_owners(s->fd) == 0 && same_file(s->path, s->fd))
            removed = unlink(s->path) == 0;
        seg_unlock(s);
    }
    if (removed)
        futex_wake(&s->hdr->latest, INT_MAX);
    drop_slot(s);
    return removed;
}

/* Whether we hold a slot that is ours to give up: a child that inherited
 * the handle shares its parent's open file description, so unlocking the
 * slot there would unlock the parent's. */
static bool owns_slot(const seg *s)
{
    return s->token && !s->read_only && !inherited(s);
}

int seg_detach(seg *s)
{
    if (!s)
        return 0;
    int removed = owns_slot(s) ? leave_as_owner(s) : 0;
    unmap_all(s);
    close(s->fd);
    free(s);
    return removed;
}

int seg_let_go(seg *s) { return owns_slot(s) ? leave_as_owner(s) : 0; }

/* A handle attached as a reader that publishes becomes an owner then:
 * it takes a slot, and checks that the name still leads to its file (an
 * owner attaching does the same under the lock). */
static int become_owner(seg *s, seg_err *err)
{
    if (s->read_only)
        return fail_read_only(s, err);
    if (inherited(s))
        return fail_inherited(s, err);
    if (s->token)
        return 0;
    int rc = take_slot(s, err);
    if (rc < 0)
        return rc;
    /* Under the lock, as an attaching owner does: the last owner out
     * counts owners and unlinks under it, so either it counted our slot
     * or its unlink is done and the name check below sees it. Checked
     * without the lock, both could pass and we would publish into an
     * unlinked file. */
    rc = seg_lock(s, err);
    if (rc < 0) {
        drop_slot(s);
        return rc;
    }
    bool same = same_file(s->path, s->fd);
    seg_unlock(s);
    if (!same) {
        drop_slot(s);
        return seg_fail(err, SEG_EGONE,
                        "%s was removed or replaced while we were "
                        "attached; attach again",
                        s->path);
    }
    return 0;
}

const char *seg_file(const seg *s) { return s->path; }

bool seg_read_only(const seg *s) { return s->read_only; }

void seg_set_lock_timeout(seg *s, int timeout_ms)
{
    s->lock_timeout_ms = timeout_ms;
}

void seg_set_persist(seg *s, bool persist)
{
    if (!owns_slot(s))
        return; /* only an owner decides the file's lifetime */
    if (persist)
        atomic_fetch_or(&s->hdr->flags, SHMIMG_FLAG_PERSIST);
    else
        atomic_fetch_and(&s->hdr->flags, ~SHMIMG_FLAG_PERSIST);
}

unsigned seg_create_flag(seg_share share)
{
    return share == SEG_SHARE_ALL     ? SEG_CREATE_ALL
           : share == SEG_SHARE_GROUP ? SEG_CREATE_GROUP
                                      : 0;
}

int seg_set_share(seg *s, seg_share share, seg_err *err)
{
    if (s->read_only)
        return fail_read_only(s, err);
    mode_t mode = share == SEG_SHARE_ALL     ? 0644
                  : share == SEG_SHARE_GROUP ? 0640
                                             : 0600;
    if (fchmod(s->fd, mode) < 0)
        return seg_fail_errno(err, s->path, "chmod");
    return 0;
}

unsigned seg_buffers(const seg *s, unsigned *wanted)
{
    if (wanted)
        *wanted = s->want_buffers;
    uint32_t n = s->hdr->buffer_count;
    return n <= SHMIMG_MAX_BUFFERS ? n : 0;
}

void seg_set_buffers(seg *s, unsigned count)
{
    s->want_buffers = count < 1                    ? 1
                      : count > SHMIMG_MAX_BUFFERS ? SHMIMG_MAX_BUFFERS
                                                   : count;
}

/* Under the lock: the header we hold is still a header. A file truncated
 * under us reads as zeros now (guard.h); one overwritten by a hostile
 * writer has lost its magic. */
static int check_intact(seg *s, seg_err *err)
{
    bool magic = memcmp(s->hdr->magic, SHMIMG_MAGIC, sizeof s->hdr->magic) == 0;
    if (atomic_load(&s->lost))
        return fail_truncated(s, err);
    if (!magic) {
        s->untrusted = true;
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: its magic was "
                        "overwritten while we were attached",
                        s->path);
    }
    return 0;
}

/* ---- publishing --------------------------------------------------------- */

/* Descriptor fields are stored relaxed: readers load them while we write
 * (their seq check discards what they read then), and a plain store
 * racing with a load would be a data race in C11 terms. */
#define STORE(field, value)                                                    \
    __atomic_store_n(&(field), (value), __ATOMIC_RELAXED)

static void set_source_name(shmimg_buffer *b, const char *name)
{
    const char *base = name ? strrchr(name, '/') : NULL;
    base = base ? base + 1 : name ? name : "";
    size_t n = strlen(base);
    if (n >= SHMIMG_NAME_MAX) {
        /* Cut on a UTF-8 character boundary. */
        n = SHMIMG_NAME_MAX - 1;
        while (n > 0 && ((unsigned char)base[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < sizeof b->source_name; i++)
        STORE(b->source_name[i], i < n ? base[i] : '\0');
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Makes seq odd (being written), and orders it before what follows. */
static void mark_writing(shmimg_buffer *b)
{
    uint32_t seq = atomic_load_explicit(&b->seq, memory_order_relaxed);
    if (seq % 2 == 0)
        atomic_store_explicit(&b->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

/* Makes an odd seq even again: what the buffer holds is now whole. */
static void mark_done(shmimg_buffer *b)
{
    uint32_t seq = atomic_load_explicit(&b->seq, memory_order_relaxed);
    atomic_store_explicit(&b->seq, seq | 1u, memory_order_relaxed);
    atomic_store_explicit(&b->seq, (seq | 1u) + 1, memory_order_release);
}

static uint64_t round_up(uint64_t n, uint64_t to)
{
    return (n + to - 1) / to * to;
}

/* Buffer i of a layout with this stride has its pages (reserve), once
 * per buffer and layout: buffers are allocated as they are first written,
 * so a still image costs one buffer, a stream up to want_buffers. */
static int reserve_buffer(seg *s, unsigned i, uint64_t stride, seg_err *err)
{
    if (s->reserved_stride != stride) {
        s->reserved_stride = stride;
        s->reserved_mask = 0;
    }
    if (s->reserved_mask & 1u << i)
        return 0;
    int rc =
        reserve(s->fd, s->payload_offset + i * stride, stride, s->path, err);
    if (rc == 0)
        s->reserved_mask |= 1u << i;
    return rc;
}

/* The frame does not fit the buffers: give each of want_buffers buffers
 * `stride` bytes (the file grows, sparse, to hold them all; buffer 0's
 * pages are reserved now, the others' when first written), and
 * invalidate them all first, since they move. Under the lock.
 * Returns: 0; ENOSPACE (the header unchanged) when buffer 0 does not fit. */
static int relayout(seg *s, uint64_t stride, uint64_t capacity,
                    uint64_t file_size, seg_err *err)
{
    unsigned n = s->want_buffers;
    uint64_t total = s->payload_offset + (uint64_t)n * stride;
    /* Buffer 0's pages first: when they do not fit, the file is left as
     * it was, not grown for nothing. */
    int rc = reserve_buffer(s, 0, stride, err);
    if (rc < 0)
        return rc;
    if (file_size < total && ftruncate(s->fd, (off_t)total) < 0)
        return errno == EFBIG
                   ? seg_fail(err, SEG_ENOSPACE,
                              "%s: a file of %llu bytes is too large "
                              "here (%s)",
                              s->path, (unsigned long long)total,
                              strerror(errno))
                   : seg_fail_errno(err, s->path, "grow the file");
    rc = cover(s, (uint64_t)n * stride, err);
    if (rc < 0)
        return rc;
    shmimg_header *h = s->hdr;
    for (unsigned i = 0; i < SHMIMG_MAX_BUFFERS; i++)
        mark_writing(&h->buf[i]);
    h->buffer_stride = stride;
    h->buffer_count = n;
    if (capacity < (uint64_t)n * stride)
        h->capacity = (uint64_t)n * stride; /* the file has that much */
    s->write_relayout = true;
    s->write_index = 0;
    return 0;
}

/* Picks the oldest buffer of the current layout and reserves its pages.
 * A full SHMIMG_DIR shrinks the ring to the buffers already written (at
 * least buffer 0, reserved by the re-layout): from then on the publisher
 * makes do with them. Returns: 0; the errors of reserve and cover. */
static int pick_buffer(seg *s, unsigned count, uint64_t stride, uint32_t newest,
                       seg_err *err)
{
    int rc = cover(s, (uint64_t)count * stride, err);
    unsigned t = (newest + 1) % count;
    while (rc == 0 &&
           (rc = reserve_buffer(s, t, stride, err)) == SEG_ENOSPACE && t > 0) {
        /* The ring fills in order, so t is the first buffer never
         * written in this layout, and newest is t - 1. */
        count = t;
        s->hdr->buffer_count = count;
        t = (newest + 1) % count;
        rc = 0;
    }
    if (rc == 0) {
        s->write_index = t;
        mark_writing(&s->hdr->buf[t]);
    }
    return rc;
}

int seg_write_begin(seg *s, uint32_t width, uint32_t height,
                    const char *source_name, uint8_t **pixels, uint32_t *pitch,
                    seg_err *err)
{
    int rc = become_owner(s, err);
    if (rc < 0)
        return rc;
    if (width == 0 || height == 0 || width > SEG_MAX_DIMENSION ||
        height > SEG_MAX_DIMENSION)
        return seg_fail(err, SEG_ETOOBIG,
                        "image size %ux%u is not between 1x1 and %ux%u", width,
                        height, SEG_MAX_DIMENSION, SEG_MAX_DIMENSION);
    uint32_t row = width * SHMIMG_BYTES_PER_PIXEL; /* < 2^22 */
    uint64_t size = (uint64_t)row * height;
    uint64_t stride = round_up(size, SHMIMG_BUFFER_ALIGN);

    rc = seg_lock(s, err);
    if (rc < 0)
        return rc;
    shmimg_header *h = s->hdr;
    shmimg_header snap;
    uint64_t file_size;
    rc = check_intact(s, err);
    if (rc == 0)
        rc = snapshot_header(s, &snap, &file_size, err);
    /* Smaller than what we mapped: truncated; growing it again would
     * bring back zeros where the frames were. */
    if (rc == 0 && file_size < s->payload_offset + s->payload_len)
        rc = fail_truncated(s, err);
    if (rc < 0) {
        if (rc == SEG_ECORRUPT && !atomic_load(&s->lost))
            s->untrusted = true;
        seg_unlock(s);
        return rc;
    }
    uint32_t newest = SHMIMG_LATEST_INDEX(atomic_load(&h->latest));
    uint64_t frame = h->buf[newest].frame + 1;
    s->write_relayout = false;
    if (snap.buffer_count == 0 || stride > snap.buffer_stride)
        rc = relayout(s, stride, snap.capacity, file_size, err);
    else
        rc = pick_buffer(s, snap.buffer_count, snap.buffer_stride, newest, err);
    if (rc < 0) {
        seg_unlock(s);
        return rc;
    }
    uint64_t stride_now = s->write_relayout ? stride : snap.buffer_stride;
    shmimg_buffer *b = &h->buf[s->write_index];
    STORE(b->width, width);
    STORE(b->height, height);
    STORE(b->pitch, row);
    STORE(b->pixel_format, SHMIMG_FORMAT_RGBA8);
    STORE(b->publisher_pid, s->pid);
    STORE(b->frame, frame);
    STORE(b->offset, s->payload_offset + s->write_index * stride_now);
    STORE(b->payload_size, size);
    STORE(b->publish_time_ns, realtime_ns());
    set_source_name(b, source_name);
    s->write_frame = frame;
    *pixels = s->payload + s->write_index * stride_now;
    *pitch = row;
    return 0;
}

static void mark_empty(shmimg_buffer *b)
{
    STORE(b->frame, 0);
    STORE(b->payload_size, 0);
    STORE(b->offset, 0);
    STORE(b->width, 0);
    STORE(b->height, 0);
    STORE(b->pitch, 0);
    mark_done(b);
}

int seg_write_end(seg *s, bool complete, seg_err *err)
{
    shmimg_header *h = s->hdr;
    uint32_t t = s->write_index;
    if (complete)
        mark_done(&h->buf[t]);
    /* Incomplete, the buffer stays odd; readers keep the newest complete
     * frame, unless the re-layout dropped it: then they say incomplete. */
    if (complete || s->write_relayout)
        atomic_store_explicit(&h->latest, (uint32_t)(s->write_frame << 2) | t,
                              memory_order_release);
    /* After `latest` moved: a reader still looking at an old buffer sees it
     * odd (it waits and looks again), never empty (it would say so). */
    if (s->write_relayout)
        for (uint32_t i = 0; i < SHMIMG_MAX_BUFFERS; i++)
            if (i != t)
                mark_empty(&h->buf[i]);
    seg_unlock(s);
    futex_wake(&h->latest, INT_MAX);
    /* Pixels written into pages that vanished went nowhere. */
    return atomic_load(&s->lost) ? fail_truncated(s, err) : 0;
}

/* ---- reading ------------------------------------------------------------ */

int seg_read_begin(seg *s, seg_view *v, seg_err *err)
{
    return find_frame(s, v, s->lock_timeout_ms, err);
}

int seg_read_end(seg *s, const seg_view *v, seg_err *err)
{
    atomic_thread_fence(memory_order_acquire);
    uint32_t seq =
        load_seq(&s->hdr->buf[v->image.buffer], memory_order_relaxed);
    if (atomic_load(&s->lost))
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: the file was truncated by another process "
                        "while being read (SIGBUS caught); publish again",
                        s->path);
    if (seq != v->seq)
        return seg_fail(err, SEG_ELAPPED, "%s: %s", s->path,
                        seg_strerror(SEG_ELAPPED));
    return 0;
}

/* The seqlock's deliberate race: a publisher may write these bytes while
 * we copy them; seg_read_end's sequence check throws such a copy away. */
__attribute__((no_sanitize("thread"))) void seg_copy_out(seg *s, void *dst,
                                                         const void *src,
                                                         size_t n)
{
    (void)s;
    memcpy(dst, src, n); /* pages cut away read as zeros (guard.h) */
}

/* One read of the newest frame into dst. */
static int pull_once(seg *s, void *dst, size_t dst_size, seg_image *img,
                     seg_err *err)
{
    seg_view v;
    int rc = seg_read_begin(s, &v, err);
    if (rc < 0)
        return rc;
    *img = v.image;
    if (v.image.payload_size > dst_size)
        return seg_fail(err, SEG_EINVAL,
                        "%s: the image needs %llu bytes, the buffer has "
                        "%zu",
                        s->path, (unsigned long long)v.image.payload_size,
                        dst_size);
    seg_copy_out(s, dst, v.pixels, (size_t)v.image.payload_size);
    return seg_read_end(s, &v, err);
}

int seg_pull(seg *s, void *dst, size_t dst_size, seg_image *img, seg_err *err)
{
    int rc = SEG_ELAPPED;
    for (int laps = 0; laps < SEG_MAX_LAPS && rc == SEG_ELAPPED; laps++) {
        /* One buffer: an unpaced publisher could overwrite it under every
         * copy. A reader of the owner's uid then copies under the lock
         * (the degraded mode docs/format.md describes), with a slot taken
         * for the copy alone; a read-only reader keeps trying. */
        bool borrowed = false, locked = false;
        if (laps >= 2 && !s->read_only && !inherited(s) &&
            seg_buffers(s, NULL) == 1) {
            borrowed = !s->token && take_slot(s, NULL) == 0;
            locked = s->token && seg_lock(s, NULL) >= 0;
        }
        rc = pull_once(s, dst, dst_size, img, err);
        if (locked)
            seg_unlock(s);
        if (borrowed)
            drop_slot(s);
    }
    if (rc == SEG_ELAPPED)
        return seg_fail(err, SEG_ELAPPED,
                        "%s: %s %d times in a row; this reader is slower "
                        "than the publisher",
                        s->path, seg_strerror(SEG_ELAPPED), SEG_MAX_LAPS);
    return rc;
}

int seg_pull_grow(seg *s, uint8_t **buf, size_t *cap, seg_image *img,
                  seg_err *err)
{
    int rc = SEG_EINVAL;
    for (int grown = 0; grown < SEG_MAX_LAPS; grown++) {
        rc = seg_pull(s, *buf, *cap, img, err);
        if (rc != SEG_EINVAL || img->payload_size <= *cap)
            return rc;
        uint8_t *bigger = realloc(*buf, (size_t)img->payload_size);
        if (!bigger)
            return seg_fail(err, SEG_ESYS, "out of memory for a %ux%u frame",
                            img->width, img->height);
        *buf = bigger;
        *cap = (size_t)img->payload_size;
    }
    return rc; /* it grew under us SEG_MAX_LAPS times: say so */
}

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
        return fail_truncated(s, err);
    if (!same_file(s->path, s->fd))
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
            return fail_truncated(s, err);
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

bool seg_replaced(const seg *s) { return !same_file(s->path, s->fd); }

/* ---- removing ----------------------------------------------------------- */

int seg_remove(const char *key, unsigned *attached, seg_err *err)
{
    if (attached)
        *attached = 0;
    char path[SEG_PATH_MAX];
    int rc = seg_path(key, path, sizeof path, err);
    if (rc < 0)
        return rc;
    struct stat st;
    int fd = seg_open_checked(path, O_RDONLY, key, false, &st, err);
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
