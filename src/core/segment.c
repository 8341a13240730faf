/* segment.c - the core of the segment module: creation, attach slots,
 * lifetime (attach, detach, who owns the file), the lock and the handle's
 * settings. The frames themselves are in frames.c (publish and read),
 * waiting and removal in wait.c; validation in segment_check.c, looking
 * without touching in inspect.c.
 *
 * Reading order: seg_attach (attach_once: open, screen, take_slot, the
 * lifetime check under the lock), seg_detach, then frames.c and wait.c.
 */
#include "segment_internal.h"

#include "futex.h"
#include "guard.h"
#include "shlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* A file renamed under us while attaching is retried this many times. */
static const int attach_retries = 16;
/* What an attempt returns to ask for another: not an fd, not an error. */
enum { retry = -1000 };
/* Detaching waits this long for the lock to decide whether it is the last
 * owner out; a publisher stopped while holding it keeps the file. */
static const int detach_lock_ms = 1000;

/* ---- attach slots ------------------------------------------------------- */

bool seg_same_file(const char *path, int fd)
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

int seg_take_slot(seg *s, seg_err *err)
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
            nonce = seg_random_u32() & (SHLOCK_TOKEN_MASK >> seg_slot_bits);
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
bool seg_owner_alive(void *ctx, uint32_t token)
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
int seg_fail_truncated(seg *s, seg_err *err)
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
int seg_snapshot_header(seg *s, shmimg_header *snap, uint64_t *file_size,
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
int seg_cover(seg *s, uint64_t need, seg_err *err)
{
    if (need <= s->payload_len)
        return 0;
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return seg_fail_errno(err, s->path, "fstat");
    uint64_t size = (uint64_t)st.st_size;
    if (size < s->payload_offset + s->payload_len)
        return seg_fail_truncated(s, err);
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

bool seg_inherited(const seg *s) { return s->pid != (uint32_t)getpid(); }

static int lock_for(seg *s, int timeout_ms, seg_err *err)
{
    if (s->read_only)
        return fail_read_only(s, err);
    if (seg_inherited(s))
        return fail_inherited(s, err);
    if (!s->token)
        return seg_fail(err, SEG_EPERM,
                        "%s: attached as a reader, which takes no lock",
                        s->path);
    int rc = shlock_acquire(&s->hdr->lock_word, s->token, timeout_ms,
                            seg_owner_alive, s);
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

/* ---- attaching ---------------------------------------------------------- */

/* Opens the key's file: read-write when it is ours; read-only for a reader
 * when it is another user's (shared with --share) or not writable. */
static int open_file(seg *s, const char *key, unsigned flags, struct stat *st,
                     seg_err *err)
{
    int fd = seg_open_checked(s->path, O_RDWR, key, 0, st, err);
    if (fd == SEG_EPERM && (flags & SEG_READER)) {
        fd = seg_open_checked(s->path, O_RDONLY, key, SEG_OPEN_OTHERS, st, err);
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
    rc = seg_snapshot_header(s, &snap, NULL, err);
    if (rc < 0)
        return rc;
    s->payload_offset = snap.payload_offset;
    seg_view v;
    rc = seg_find_frame(s, &v, 0, err);
    if (rc == 0 && atomic_load(&s->lost))
        rc = seg_fail_truncated(s, err);
    return rc == SEG_ECORRUPT ? rc : 0;
}

/* One attempt at attaching. Returns 0, an error, or `retry`. */
static int attach_once(seg *s, const char *key, unsigned flags, seg_err *err)
{
    struct stat st;
    char tmp[SEG_PATH_MAX + 32] = "";
    int fd = open_file(s, key, flags, &st, err);
    if (fd == SEG_ENOSEG && (flags & SEG_CREATE)) {
        fd = seg_create_temp(s->path, key, flags, tmp, sizeof tmp, err);
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
        rc = seg_take_slot(s, err);
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
        return seg_same_file(s->path, fd) ? 0 : retry;
    rc = seg_take_slot(s, err);
    if (rc < 0)
        return rc;
    /* The last owner out decides, under the lock, with our slot counted
     * or not yet taken; after its unlink the name no longer leads here. */
    rc = seg_lock(s, err);
    if (rc < 0)
        return rc;
    rc = seg_same_file(s->path, fd) ? 0 : retry;
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
void seg_drop_slot(seg *s)
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
        if (seg_count_owners(s->fd) == 0 && seg_same_file(s->path, s->fd))
            removed = unlink(s->path) == 0;
        seg_unlock(s);
    }
    if (removed)
        futex_wake(&s->hdr->latest, INT_MAX);
    seg_drop_slot(s);
    return removed;
}

/* Whether we hold a slot that is ours to give up: a child that inherited
 * the handle shares its parent's open file description, so unlocking the
 * slot there would unlock the parent's. */
static bool owns_slot(const seg *s)
{
    return s->token && !s->read_only && !seg_inherited(s);
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
int seg_become_owner(seg *s, seg_err *err)
{
    if (s->read_only)
        return fail_read_only(s, err);
    if (seg_inherited(s))
        return fail_inherited(s, err);
    if (s->token)
        return 0;
    int rc = seg_take_slot(s, err);
    if (rc < 0)
        return rc;
    /* Under the lock, as an attaching owner does: the last owner out
     * counts owners and unlinks under it, so either it counted our slot
     * or its unlink is done and the name check below sees it. Checked
     * without the lock, both could pass and we would publish into an
     * unlinked file. */
    rc = seg_lock(s, err);
    if (rc < 0) {
        seg_drop_slot(s);
        return rc;
    }
    bool same = seg_same_file(s->path, s->fd);
    seg_unlock(s);
    if (!same) {
        seg_drop_slot(s);
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
int seg_check_intact(seg *s, seg_err *err)
{
    bool magic = memcmp(s->hdr->magic, SHMIMG_MAGIC, sizeof s->hdr->magic) == 0;
    if (atomic_load(&s->lost))
        return seg_fail_truncated(s, err);
    if (!magic) {
        s->untrusted = true;
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: its magic was "
                        "overwritten while we were attached",
                        s->path);
    }
    return 0;
}
