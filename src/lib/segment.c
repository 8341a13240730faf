/* segment.c - the segment file: naming, checks, creation, attach slots,
 * lifetime, and the publish/read/wait protocol of layout.h.
 *
 * Reading order: seg_attach (open_checked, check_header, stale reclaim,
 * take_slot), then seg_write_begin/end and seg_read_begin/end, then the
 * read-only side (seg_inspect, seg_list) and seg_detach.
 */
#include "segment.h"

#include "futex.h"
#include "guard.h"
#include "shlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

struct seg {
    int fd;
    shmimg_header *hdr;  /* the 4096-byte header, mapped for good */
    uint8_t *payload;    /* mapping of the payload area, or NULL */
    size_t payload_len;  /* bytes mapped at payload */
    uint32_t slot;       /* our attach slot */
    uint32_t token;      /* our lock-owner token: nonce << 9 | slot */
    uint32_t pid;        /* getpid() at attach: it is a syscall, and the
                            lock is taken far more often than we attach */
    uint64_t payload_offset; /* bytes, as checked at attach */
    int lock_timeout_ms;
    bool untrusted;      /* we saw it corrupt: never remove it on detach */
    atomic_bool lost;    /* the file was truncated under our mappings:
                            they now hold zeros (guard.h) */
    int guard_hdr;       /* guard_register handles, -1 when none */
    int guard_payload;
    char path[SEG_PATH_MAX];
};

enum { slot_bits = 9 }; /* 512 slots */
_Static_assert((1u << slot_bits) == SHMIMG_SLOTS, "slot bits");

/* A process mid-detach holds the exclusive flock for microseconds; a
 * shared one is retried this many times, 1 ms apart, before giving up. */
static const int flock_retries = 1000;
/* A file renamed under us while attaching is retried this many times. */
static const int attach_retries = 16;
/* What an attempt returns to ask for another: not an fd, not an error. */
enum { retry = -1000 };
/* A waiter also checks this often that its file is still the key's and
 * still whole ('shmimg rm' and truncation wake nobody by themselves). */
static const int wait_check_ms = 250;

/* ---- names ------------------------------------------------------------ */

const char *seg_dir(void)
{
    const char *dir = getenv("SHMIMG_DIR");
    return dir && *dir ? dir : SEG_DEFAULT_DIR;
}

int seg_key_check(const char *key, shmimg_err *err)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0)
        return shmimg_fail(err, SHMIMG_EKEY, "the key is empty");
    if (n > SEG_KEY_MAX)
        return shmimg_fail(err, SHMIMG_EKEY,
                           "key is %zu characters long; at most %d allowed",
                           n, SEG_KEY_MAX);
    if (key[0] == '.' || key[0] == '-')
        return shmimg_fail(err, SHMIMG_EKEY,
                           "key '%s' starts with '%c'; that is not allowed "
                           "(a hidden name, or one taken for an option)",
                           key, key[0]);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return shmimg_fail(err, SHMIMG_EKEY,
                               "key '%s' has character 0x%02x at position "
                               "%zu; allowed are A-Z a-z 0-9 . _ -",
                               key, c, i + 1);
    }
    return 0;
}

int seg_path(const char *key, char *buf, size_t size, shmimg_err *err)
{
    int rc = seg_key_check(key, err);
    if (rc < 0)
        return rc;
    int n = snprintf(buf, size, "%s/" SEG_FILE_PREFIX "%s", seg_dir(), key);
    if (n < 0 || (size_t)n >= size)
        return shmimg_fail(err, SHMIMG_EINVAL,
                           "SHMIMG_DIR '%s' is too long", seg_dir());
    return 0;
}

/* ---- opening and checking --------------------------------------------- */

/* Moves fd above the standard streams. A program started with stdout
 * closed would otherwise get a segment as fd 1, and its next printf
 * would overwrite the header. Returns: the fd to use, or -1 (errno). */
static int above_stdio(int fd)
{
    if (fd < 0 || fd > STDERR_FILENO)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int e = errno;
    close(fd);
    errno = e;
    return high;
}

int seg_dir_check(shmimg_err *err)
{
    struct stat st;
    if (stat(seg_dir(), &st) < 0)
        return shmimg_fail(err, SHMIMG_ESETTING,
                           "the segment directory %s does not exist (%s; "
                           "set SHMIMG_DIR to an existing directory, or "
                           "unset it for %s)",
                           seg_dir(), strerror(errno), SEG_DEFAULT_DIR);
    if (!S_ISDIR(st.st_mode))
        return shmimg_fail(err, SHMIMG_ESETTING,
                           "the segment directory %s is not a directory "
                           "(SHMIMG_DIR)",
                           seg_dir());
    return 0; /* access itself is checked by what uses it, and named */
}

/* Why a segment file is missing: no segment, or no directory at all. */
static int fail_missing(shmimg_err *err, const char *key)
{
    int rc = seg_dir_check(err);
    if (rc < 0)
        return rc;
    return shmimg_fail(err, SHMIMG_ENOSEG, "%s (no segment for key '%s' in %s)",
                       shmimg_strerror(SHMIMG_ENOSEG), key, seg_dir());
}

int seg_dir_note(char *note, size_t size)
{
    struct statfs sf;
    struct stat st;
    if (stat(seg_dir(), &st) < 0 || !S_ISDIR(st.st_mode) ||
        statfs(seg_dir(), &sf) < 0)
        return -1;
    /* tmpfs and ramfs: memory; anything else is backed by a disk. */
    unsigned long long magic = (unsigned long long)sf.f_type & 0xffffffffu;
    if (magic == 0x01021994 || magic == 0x858458f6)
        return 0;
    static const struct {
        unsigned long long magic;
        const char *name;
    } known[] = {{0xEF53, "ext2/3/4"},     {0x58465342, "xfs"},
                 {0x9123683E, "btrfs"},    {0x794c7630, "overlayfs"},
                 {0x6969, "nfs"},          {0x65735546, "fuse"}};
    char fs[32];
    snprintf(fs, sizeof fs, "filesystem type 0x%llx", magic);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].magic == magic)
            snprintf(fs, sizeof fs, "%s", known[i].name);
    snprintf(note, size,
             "note: %s (SHMIMG_DIR) is on %s, not in memory (tmpfs): "
             "segments there are written to disk and slower",
             seg_dir(), fs);
    return 1;
}

static int fail_errno(shmimg_err *err, const char *path, const char *what)
{
    int e = errno;
    int code = e == EACCES || e == EPERM ? SHMIMG_EPERM
               : e == ENOSPC || e == EDQUOT ? SHMIMG_ENOSPACE
                                            : SHMIMG_ESYS;
    return shmimg_fail(err, code, "%s: %s: %s", path, what, strerror(e));
}

/* Refuses what an attacker or an accident could put at the path. */
static int check_file(int fd, const char *path, struct stat *st,
                      shmimg_err *err)
{
    if (fstat(fd, st) < 0)
        return fail_errno(err, path, "fstat");
    const char *kind = S_ISDIR(st->st_mode)    ? "a directory"
                       : S_ISFIFO(st->st_mode) ? "a FIFO"
                       : S_ISSOCK(st->st_mode) ? "a socket"
                       : S_ISCHR(st->st_mode)  ? "a character device"
                       : S_ISBLK(st->st_mode)  ? "a block device"
                                               : NULL;
    if (kind)
        return shmimg_fail(err, SHMIMG_ENOTFILE,
                           "%s is %s, not a segment file; refusing it", path,
                           kind);
    if (st->st_uid != geteuid())
        return shmimg_fail(err, SHMIMG_EPERM,
                           "%s belongs to uid %u, not to you (uid %u); "
                           "refusing it",
                           path, (unsigned)st->st_uid, (unsigned)geteuid());
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return shmimg_fail(err, SHMIMG_EPERM,
                           "%s is writable by group or others (mode %04o); "
                           "refusing it",
                           path, (unsigned)(st->st_mode & 07777));
    return 0;
}

static int open_checked(const char *path, int oflags, const char *key,
                        struct stat *st, shmimg_err *err)
{
    int fd = above_stdio(
        open(path, oflags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return fail_missing(err, key);
        if (errno == ELOOP)
            return shmimg_fail(err, SHMIMG_ENOTFILE,
                               "%s is a symbolic link; refusing to follow it",
                               path);
        if (errno == EISDIR)
            return shmimg_fail(err, SHMIMG_ENOTFILE,
                               "%s is a directory, not a segment file; "
                               "refusing it",
                               path);
        return fail_errno(err, path, "open");
    }
    int rc = check_file(fd, path, st, err);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* Checks the fixed part of a header against the real file size. h may be
 * NULL when the file is too short to hold a header: that is the first
 * thing checked. */
static int check_header(const shmimg_header *h, uint64_t file_size,
                        const char *path, shmimg_err *err)
{
    if (file_size < SHMIMG_HEADER_SIZE)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s is %llu bytes, shorter than the %u-byte "
                           "segment header (corrupt segment header)",
                           path, (unsigned long long)file_size,
                           SHMIMG_HEADER_SIZE);
    if (memcmp(h->magic, SHMIMG_MAGIC, sizeof h->magic) != 0)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: wrong magic, this is "
                           "not a shmimg segment",
                           path);
    if (h->layout_version != SHMIMG_LAYOUT_VERSION)
        return shmimg_fail(err, SHMIMG_EVERSION,
                           "%s: unsupported segment layout version %u (this "
                           "shmimg reads version %u)",
                           path, h->layout_version, SHMIMG_LAYOUT_VERSION);
    if (h->header_size != SHMIMG_HEADER_SIZE)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: header size %u, "
                           "expected %u",
                           path, h->header_size, SHMIMG_HEADER_SIZE);
    if (h->payload_offset < SHMIMG_HEADER_SIZE ||
        h->payload_offset % SHMIMG_HEADER_SIZE != 0)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: payload offset %llu "
                           "is not a multiple of %u past the header",
                           path, (unsigned long long)h->payload_offset,
                           SHMIMG_HEADER_SIZE);
    if (h->payload_offset > file_size ||
        h->capacity > file_size - h->payload_offset)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: payload area "
                           "%llu+%llu bytes does not fit in the %llu-byte "
                           "file",
                           path, (unsigned long long)h->payload_offset,
                           (unsigned long long)h->capacity,
                           (unsigned long long)file_size);
    return 0;
}

/* Copies the image fields of a header, then checks them. The copy is what
 * the caller uses, so a writer that ignores the lock cannot change the
 * numbers between the check and the use. */
static int check_image(const shmimg_header *h, uint32_t flags,
                       seg_image *img, const char *path, shmimg_err *err)
{
    img->width = h->width;
    img->height = h->height;
    img->pitch = h->pitch;
    img->pixel_format = h->pixel_format;
    img->payload_size = h->payload_size;
    img->publisher_pid = h->publisher_pid;
    img->publish_time_ns = h->publish_time_ns;
    memcpy(img->source_name, h->source_name, sizeof img->source_name);
    img->source_name[sizeof img->source_name - 1] = '\0';
    uint64_t capacity = h->capacity;

    if (flags & SHMIMG_FLAG_WRITING)
        return shmimg_fail(err, SHMIMG_EINCOMPLETE,
                           "%s: %s (image incomplete)", path,
                           shmimg_strerror(SHMIMG_EINCOMPLETE));
    if (!(flags & SHMIMG_FLAG_HAS_IMAGE))
        return shmimg_fail(err, SHMIMG_EEMPTY, "%s: %s", path,
                           shmimg_strerror(SHMIMG_EEMPTY));
    if (img->pixel_format != SHMIMG_FORMAT_RGBA8)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: unknown pixel format "
                           "%u",
                           path, img->pixel_format);
    if (img->width == 0 || img->height == 0 ||
        img->width > SEG_MAX_DIMENSION || img->height > SEG_MAX_DIMENSION)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: image size %ux%u is "
                           "not between 1x1 and %ux%u",
                           path, img->width, img->height, SEG_MAX_DIMENSION,
                           SEG_MAX_DIMENSION);
    /* width and height are <= 2^20, so these products fit in 64 bits. */
    uint64_t row = (uint64_t)img->width * SHMIMG_BYTES_PER_PIXEL;
    if (img->pitch < row ||
        img->payload_size != (uint64_t)img->pitch * img->height)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: pitch %u and payload "
                           "size %llu do not fit a %ux%u image",
                           path, img->pitch,
                           (unsigned long long)img->payload_size, img->width,
                           img->height);
    if (img->payload_size > capacity)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: payload of %llu "
                           "bytes exceeds the %llu-byte capacity",
                           path, (unsigned long long)img->payload_size,
                           (unsigned long long)capacity);
    return 0;
}

/* ---- creation ----------------------------------------------------------- */

/* posix_fallocate reports errors through its return value, not errno. */
static int reserve(int fd, uint64_t size, const char *path, shmimg_err *err)
{
    int e = posix_fallocate(fd, 0, (off_t)size);
    if (e == 0)
        return 0;
    if (e == ENOSPC || e == EDQUOT || e == EFBIG)
        return shmimg_fail(err, SHMIMG_ENOSPACE,
                           "%s: no space left in %s for %llu bytes (%s)", path,
                           seg_dir(), (unsigned long long)size, strerror(e));
    errno = e;
    return fail_errno(err, path, "posix_fallocate");
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

/* Whether name is a creator's temporary file: .shmimg-KEY.PID.XXXXXXXX,
 * of key (any key when key is NULL). */
static bool is_temp_name(const char *name, const char *key)
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

/* Removes the temporary files that creators of key (every key: NULL) left
 * when they died before linking them into place. A creator holds its
 * temporary file's flock from the moment it made it, so a file whose
 * flock we can take exclusively has no creator any more. (A creator in
 * the microseconds between open and flock loses its file and retries:
 * its link() finds no source.) Returns: how many were removed. */
static int clean_leftovers(const char *key)
{
    DIR *dir = opendir(seg_dir());
    if (!dir)
        return 0;
    int removed = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        if (!is_temp_name(d->d_name, key))
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

/* Creates an empty segment under a temporary name, holds it shared, then
 * links it into place, so nobody ever sees a half-made file.
 * Returns: the fd, `retry` when another process created it first, or an
 * error. */
static int create_new(const char *path, const char *key, shmimg_err *err)
{
    clean_leftovers(key);
    char tmp[SEG_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.%08x", seg_dir(),
             strrchr(path, '/') + 1, (long)getpid(), random_u32());
    int fd = above_stdio(open(
        tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd < 0)
        return fail_errno(err, path, "create");
    /* At once: the shared flock tells clean_leftovers that we live. */
    if (flock(fd, LOCK_SH) < 0) {
        int rc = fail_errno(err, path, "flock");
        unlink(tmp);
        close(fd);
        return rc;
    }

    int rc = reserve(fd, SHMIMG_HEADER_SIZE, path, err);
    if (rc < 0)
        goto err;

    static shmimg_header fresh; /* zero; only read */
    shmimg_header h = fresh;
    memcpy(h.magic, SHMIMG_MAGIC, sizeof h.magic);
    h.layout_version = SHMIMG_LAYOUT_VERSION;
    h.header_size = SHMIMG_HEADER_SIZE;
    h.payload_offset = SHMIMG_HEADER_SIZE;
    h.capacity = 0;
    if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
        rc = fail_errno(err, path, "write header");
        goto err;
    }
    if (link(tmp, path) < 0) {
        /* EEXIST: another process created it first. ENOENT: our
         * temporary was taken for a dead one's (see clean_leftovers). */
        rc = errno == EEXIST || errno == ENOENT ? retry
                                                : fail_errno(err, path, "link");
        goto err;
    }
    unlink(tmp);
    return fd;
err:
    unlink(tmp);
    close(fd);
    return rc;
}

/* ---- attaching ---------------------------------------------------------- */

static bool same_file(const char *path, int fd)
{
    struct stat a, b;
    return stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static int hold_shared(int fd, const char *path, shmimg_err *err)
{
    for (int i = 0; i < flock_retries; i++) {
        if (flock(fd, LOCK_SH | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK)
            return fail_errno(err, path, "flock");
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return shmimg_fail(err, SHMIMG_ESYS,
                       "%s is locked exclusively by another process for "
                       "over a second",
                       path);
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

static int take_slot(seg *s, shmimg_err *err)
{
    uint32_t start = (uint32_t)getpid() % SHMIMG_SLOTS;
    for (uint32_t k = 0; k < SHMIMG_SLOTS; k++) {
        uint32_t i = (start + k) % SHMIMG_SLOTS;
        struct flock fl = slot_range(i, 1, F_WRLCK);
        if (fcntl(s->fd, F_OFD_SETLK, &fl) < 0) {
            if (errno == EAGAIN || errno == EACCES)
                continue;
            return fail_errno(err, s->path, "lock attach slot");
        }
        uint32_t nonce;
        do
            nonce = random_u32() & (SHLOCK_TOKEN_MASK >> slot_bits);
        while (nonce == 0);
        atomic_store(&s->hdr->slot_nonce[i], nonce);
        s->slot = i;
        s->token = nonce << slot_bits | i;
        s->pid = (uint32_t)getpid();
        return 0;
    }
    return shmimg_fail(err, SHMIMG_ETOOMANY,
                       "%s: all %u attach slots are taken", s->path,
                       SHMIMG_SLOTS);
}

/* The lock's liveness question, answered with the attach slots. */
static bool owner_alive(void *ctx, uint32_t token)
{
    seg *s = ctx;
    uint32_t slot = token & (SHMIMG_SLOTS - 1);
    if (token == s->token)
        return true; /* another thread of ours */
    if (atomic_load(&s->hdr->slot_nonce[slot]) != token >> slot_bits)
        return false; /* the slot was freed or taken by someone new */
    struct flock fl = slot_range(slot, 1, F_WRLCK);
    if (fcntl(s->fd, F_OFD_GETLK, &fl) < 0)
        return true; /* cannot tell: do not steal */
    return fl.l_type != F_UNLCK;
}

/* Counts the held slots in [first, first + count). F_OFD_GETLK reports
 * one conflicting lock of the range, not necessarily the lowest, so count
 * it and look on both sides of it: one call per held slot, plus one per
 * empty range. */
static unsigned count_held(int fd, uint32_t first, uint32_t count)
{
    if (count == 0)
        return 0;
    struct flock fl = slot_range(first, count, F_WRLCK);
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    uint64_t at = (uint64_t)fl.l_start - SHMIMG_SLOT_LOCK_BASE;
    if (at < first || at >= (uint64_t)first + count)
        return 0; /* not a slot lock of ours: nothing sensible to count */
    uint32_t i = (uint32_t)at;
    return 1 + count_held(fd, first, i - first) +
           count_held(fd, i + 1, first + count - i - 1);
}

static unsigned count_attached(int fd)
{
    return count_held(fd, 0, SHMIMG_SLOTS);
}

/* Screens the image fields before we write anything to the file (our
 * attach slot), so that a corrupt file is refused untouched. Without the
 * lock, fields are trusted only between two equal, even generations (a
 * seqlock read; x86 keeps loads in order, and the authoritative check is
 * repeated under the lock anyway). Returns ECORRUPT, or 0 when the fields
 * look sound or a writer kept them moving. */
static int check_image_unlocked(const shmimg_header *h, const char *path,
                                shmimg_err *err)
{
    uint32_t last_odd = 0;
    for (int tries = 0; tries < 100; tries++) {
        uint32_t g1 = atomic_load_explicit(&h->generation,
                                           memory_order_acquire);
        uint32_t flags = atomic_load(&h->flags);
        seg_image img;
        shmimg_err local;
        int rc = check_image(h, flags, &img, path, &local);
        if (g1 % 2 == 0 &&
            atomic_load_explicit(&h->generation, memory_order_acquire) == g1) {
            if (rc == SHMIMG_ECORRUPT && err)
                *err = local;
            return rc == SHMIMG_ECORRUPT ? rc : 0;
        }
        if (g1 % 2 == 1 && g1 == last_odd)
            return 0; /* a writer that stopped mid-image: reads will say */
        last_odd = g1 % 2 ? g1 : 0;
        nanosleep(&(struct timespec){0, 100000}, NULL);
    }
    return 0;
}

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
                         shmimg_err *err)
{
    *handle = guard_register(addr, len, &s->lost);
    if (*handle < 0)
        return shmimg_fail(err, SHMIMG_ESYS,
                           "%s: this process has %d segment mappings "
                           "already; detach some first",
                           s->path, GUARD_MAX_MAPPINGS);
    return 0;
}

/* The error for a file truncated by someone else under our mappings. */
static int fail_truncated(seg *s, shmimg_err *err)
{
    s->untrusted = false; /* it is the file we attached to: ours to clean */
    return shmimg_fail(err, SHMIMG_ECORRUPT,
                       "%s: the segment file was truncated by another "
                       "process; its image is lost (publish again)",
                       s->path);
}

/* Copies the mapped header into *snap, then measures the file, then checks
 * the copy against that size. In this order, because capacity only grows
 * after the file did: the copy never has capacity ahead of the size. The
 * caller uses the copy, which nobody else can change under it. */
static int snapshot_header(seg *s, shmimg_header *snap, shmimg_err *err)
{
    memcpy(snap, s->hdr, offsetof(shmimg_header, slot_nonce));
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return fail_errno(err, s->path, "fstat");
    return check_header(snap, (uint64_t)st.st_size, s->path, err);
}

/* Maps capacity bytes of payload (the caller has checked the file size). */
static int map_payload(seg *s, uint64_t capacity, shmimg_err *err)
{
    if (capacity <= s->payload_len)
        return 0;
    if (capacity > SIZE_MAX)
        return shmimg_fail(err, SHMIMG_ETOOBIG, "%s: payload too large",
                           s->path);
    void *p = mmap(NULL, (size_t)capacity, PROT_READ | PROT_WRITE,
                   MAP_SHARED, s->fd, (off_t)s->payload_offset);
    if (p == MAP_FAILED)
        return fail_errno(err, s->path, "mmap payload");
    int handle;
    int rc = guard_mapping(s, p, (size_t)capacity, &handle, err);
    if (rc < 0) {
        munmap(p, (size_t)capacity);
        return rc;
    }
    guard_unregister(s->guard_payload);
    if (s->payload)
        munmap(s->payload, s->payload_len);
    s->guard_payload = handle;
    s->payload = p;
    s->payload_len = (size_t)capacity;
    return 0;
}

/* One attempt at attaching. Returns 0, an error, or `retry`. */
static int attach_once(seg *s, const char *key, unsigned flags,
                       shmimg_err *err)
{
    struct stat st;
    bool created = false;
    int fd = open_checked(s->path, O_RDWR, key, &st, err);
    if (fd == SHMIMG_ENOSEG && (flags & SEG_CREATE)) {
        fd = create_new(s->path, key, err);
        if (fd < 0)
            return fd; /* an error, or retry */
        created = true;
    } else if (fd < 0) {
        return fd;
    } else if (st.st_size < SHMIMG_HEADER_SIZE) {
        close(fd);
        return check_header(NULL, (uint64_t)st.st_size, s->path, err);
    }
    s->fd = fd;
    s->hdr = mmap(NULL, SHMIMG_HEADER_SIZE, PROT_READ | PROT_WRITE,
                  MAP_SHARED, fd, 0);
    if (s->hdr == MAP_FAILED) {
        s->hdr = NULL;
        return fail_errno(err, s->path, "mmap header");
    }
    int rc = guard_mapping(s, s->hdr, SHMIMG_HEADER_SIZE, &s->guard_hdr, err);
    if (rc < 0)
        return rc;
    shmimg_header snap;
    rc = snapshot_header(s, &snap, err);
    if (rc == 0)
        rc = check_image_unlocked(s->hdr, s->path, err);
    if (rc == 0 && atomic_load(&s->lost))
        rc = fail_truncated(s, err);
    if (rc < 0)
        return rc;
    s->payload_offset = snap.payload_offset;

    bool persist = atomic_load(&s->hdr->flags) & SHMIMG_FLAG_PERSIST;
    if (created) {
        /* create_new already holds it shared. */
    } else if ((flags & SEG_CREATE) && flock(fd, LOCK_EX | LOCK_NB) == 0) {
        /* Nobody is attached: its processes died without detaching. */
        if (!persist) {
            if (same_file(s->path, fd))
                unlink(s->path);
            return retry; /* reclaimed; create a fresh one */
        }
        if (flock(fd, LOCK_SH) < 0) /* downgrade; nobody else holds it */
            return fail_errno(err, s->path, "flock");
    } else if ((rc = hold_shared(fd, s->path, err)) < 0) {
        return rc;
    }
    if (!same_file(s->path, fd))
        return retry; /* removed by its last user while we came in */

    rc = map_payload(s, snap.capacity, err);
    if (rc == 0)
        rc = take_slot(s, err);
    return rc;
}

int seg_attach(const char *key, unsigned flags, seg **out, shmimg_err *err)
{
    *out = NULL;
    seg *s = calloc(1, sizeof *s);
    if (!s)
        return shmimg_fail(err, SHMIMG_ESYS, "out of memory");
    s->lock_timeout_ms = SEG_DEFAULT_LOCK_TIMEOUT_MS;
    int rc = seg_path(key, s->path, sizeof s->path, err);
    for (int i = 0; rc == 0 && i < attach_retries; i++) {
        s->fd = -1;
        s->guard_hdr = s->guard_payload = -1;
        atomic_store(&s->lost, false);
        rc = attach_once(s, key, flags, err);
        if (rc == 0) {
            *out = s;
            return 0;
        }
        unmap_all(s);
        if (s->fd >= 0)
            close(s->fd);
        if (rc != retry)
            break;
        rc = 0;
    }
    if (rc == 0)
        rc = shmimg_fail(err, SHMIMG_ESYS,
                         "%s kept changing while attaching; try again",
                         s->path);
    free(s);
    return rc;
}

int seg_detach(seg *s)
{
    if (!s)
        return 0;
    bool persist = atomic_load(&s->hdr->flags) & SHMIMG_FLAG_PERSIST;
    atomic_store(&s->hdr->slot_nonce[s->slot], 0);
    unmap_all(s);
    int removed = 0;
    /* Last one out? Only one detacher can win the exclusive lock, and an
     * attacher that raced us rechecks the path after getting its lock. */
    if (flock(s->fd, LOCK_UN) == 0 && flock(s->fd, LOCK_EX | LOCK_NB) == 0 &&
        !persist && !s->untrusted && same_file(s->path, s->fd))
        removed = unlink(s->path) == 0;
    close(s->fd);
    free(s);
    return removed;
}

const char *seg_file(const seg *s) { return s->path; }

void seg_set_lock_timeout(seg *s, int timeout_ms)
{
    s->lock_timeout_ms = timeout_ms;
}

void seg_set_persist(seg *s, bool persist)
{
    if (persist)
        atomic_fetch_or(&s->hdr->flags, SHMIMG_FLAG_PERSIST);
    else
        atomic_fetch_and(&s->hdr->flags, ~SHMIMG_FLAG_PERSIST);
}

/* ---- the lock ----------------------------------------------------------- */

int seg_lock(seg *s, shmimg_err *err)
{
    int rc = shlock_acquire(&s->hdr->lock_word, s->token, s->lock_timeout_ms,
                            owner_alive, s);
    if (rc == SHMIMG_ETIMEDOUT)
        return shmimg_fail(err, rc,
                           "%s: the segment has been locked by pid %u for "
                           "over %d ms",
                           s->path, s->hdr->lock_owner_pid,
                           s->lock_timeout_ms);
    s->hdr->lock_owner_pid = s->pid;
    return rc;
}

void seg_unlock(seg *s)
{
    s->hdr->lock_owner_pid = 0;
    shlock_release(&s->hdr->lock_word);
}

/* Makes sure the payload mapping covers capacity bytes, checking the file
 * really is that large (it can only have grown, unless someone hostile
 * truncated it). */
static int cover_capacity(seg *s, uint64_t capacity, shmimg_err *err)
{
    if (capacity <= s->payload_len)
        return 0;
    shmimg_header snap;
    int rc = snapshot_header(s, &snap, err);
    if (rc < 0)
        return rc;
    if (capacity > snap.capacity)
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: %llu bytes needed, "
                           "capacity is %llu",
                           s->path, (unsigned long long)capacity,
                           (unsigned long long)snap.capacity);
    return map_payload(s, snap.capacity, err);
}

/* Under the lock: the header we hold is still a header. A file
 * truncated under us reads as zeros now (guard.h); one overwritten by a
 * hostile writer has lost its magic. */
static int check_intact(seg *s, shmimg_err *err)
{
    bool magic = memcmp(s->hdr->magic, SHMIMG_MAGIC, sizeof s->hdr->magic) == 0;
    if (atomic_load(&s->lost))
        return fail_truncated(s, err);
    if (!magic) {
        s->untrusted = true;
        return shmimg_fail(err, SHMIMG_ECORRUPT,
                           "%s: corrupt segment header: its magic was "
                           "overwritten while we were attached",
                           s->path);
    }
    return 0;
}

/* ---- publishing --------------------------------------------------------- */

static void set_source_name(shmimg_header *h, const char *name)
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
    memset(h->source_name, 0, sizeof h->source_name);
    memcpy(h->source_name, base, n);
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int seg_write_begin(seg *s, uint32_t width, uint32_t height,
                    const char *source_name, uint8_t **pixels,
                    uint32_t *pitch, shmimg_err *err)
{
    if (width == 0 || height == 0 || width > SEG_MAX_DIMENSION ||
        height > SEG_MAX_DIMENSION)
        return shmimg_fail(err, SHMIMG_ETOOBIG,
                           "image size %ux%u is not between 1x1 and %ux%u",
                           width, height, SEG_MAX_DIMENSION,
                           SEG_MAX_DIMENSION);
    uint32_t row = width * SHMIMG_BYTES_PER_PIXEL; /* < 2^22 */
    uint64_t size = (uint64_t)row * height;
    uint64_t needed = s->payload_offset + size;

    /* Reserve outside the lock: the file only grows, and a bigger file
     * changes nothing for readers until capacity says so. Smaller than
     * what we mapped, it was truncated: growing it again would bring back
     * zeros where the header was. */
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return fail_errno(err, s->path, "fstat");
    if ((uint64_t)st.st_size < s->payload_offset + s->payload_len ||
        atomic_load(&s->lost))
        return fail_truncated(s, err);
    if ((uint64_t)st.st_size < needed) {
        int rc = reserve(s->fd, needed, s->path, err);
        if (rc < 0)
            return rc;
    }

    int rc = seg_lock(s, err);
    if (rc < 0)
        return rc;
    shmimg_header *h = s->hdr;
    rc = check_intact(s, err);
    if (rc < 0) {
        seg_unlock(s);
        return rc;
    }
    if (h->capacity < size)
        h->capacity = size; /* the file has at least `needed` bytes */
    rc = cover_capacity(s, size, err);
    if (rc < 0) {
        seg_unlock(s);
        return rc;
    }

    /* Odd generation and WRITING: from here on a crash is visible. */
    uint32_t g = atomic_load(&h->generation);
    atomic_store(&h->generation, g % 2 ? g + 2 : g + 1);
    atomic_fetch_or(&h->flags, SHMIMG_FLAG_WRITING);
    h->width = width;
    h->height = height;
    h->pitch = row;
    h->pixel_format = SHMIMG_FORMAT_RGBA8;
    h->payload_size = size;
    h->publisher_pid = s->pid;
    h->publish_time_ns = realtime_ns();
    set_source_name(h, source_name);
    *pixels = s->payload;
    *pitch = row;
    return 0;
}

int seg_write_end(seg *s, bool complete, shmimg_err *err)
{
    shmimg_header *h = s->hdr;
    if (complete) {
        uint32_t f = atomic_load(&h->flags);
        atomic_store(&h->flags,
                     (f & ~SHMIMG_FLAG_WRITING) | SHMIMG_FLAG_HAS_IMAGE);
    }
    atomic_fetch_add_explicit(&h->generation, 1, memory_order_release);
    seg_unlock(s);
    futex_wake(&h->generation, INT_MAX);
    /* Pixels written into pages that vanished went nowhere. */
    return atomic_load(&s->lost) ? fail_truncated(s, err) : 0;
}

/* ---- reading ------------------------------------------------------------ */

int seg_read_begin(seg *s, seg_view *v, shmimg_err *err)
{
    int rc = seg_lock(s, err);
    if (rc < 0)
        return rc;
    rc = check_intact(s, err);
    if (rc < 0) {
        seg_unlock(s);
        return rc;
    }
    uint32_t flags = atomic_load(&s->hdr->flags);
    rc = check_image(s->hdr, flags, &v->image, s->path, err);
    if (rc == 0)
        rc = cover_capacity(s, v->image.payload_size, err);
    if (rc == 0 && atomic_load(&s->lost))
        rc = fail_truncated(s, err);
    if (rc < 0) {
        if (rc == SHMIMG_ECORRUPT && !atomic_load(&s->lost))
            s->untrusted = true;
        seg_unlock(s);
        return rc;
    }
    v->image.generation = atomic_load(&s->hdr->generation);
    v->pixels = s->payload;
    return 0;
}

void seg_read_end(seg *s) { seg_unlock(s); }

int seg_pull(seg *s, void *dst, size_t dst_size, seg_image *img,
             shmimg_err *err)
{
    seg_view v;
    int rc = seg_read_begin(s, &v, err);
    if (rc < 0)
        return rc;
    *img = v.image;
    if (v.image.payload_size > dst_size)
        rc = shmimg_fail(err, SHMIMG_EINVAL,
                         "%s: the image needs %llu bytes, the buffer has %zu",
                         s->path, (unsigned long long)v.image.payload_size,
                         dst_size);
    else
        rc = seg_copy_out(s, dst, v.pixels, (size_t)v.image.payload_size,
                          err);
    seg_read_end(s);
    return rc;
}

int seg_copy_out(seg *s, void *dst, const void *src, size_t n,
                 shmimg_err *err)
{
    memcpy(dst, src, n); /* pages cut away read as zeros (guard.h) */
    if (!atomic_load(&s->lost))
        return 0;
    return shmimg_fail(err, SHMIMG_ECORRUPT,
                       "%s: the file was truncated by another process while "
                       "being read (SIGBUS caught); publish again",
                       s->path);
}

uint32_t seg_generation(const seg *s)
{
    return atomic_load_explicit(&s->hdr->generation, memory_order_acquire);
}

int seg_check(seg *s, shmimg_err *err)
{
    struct stat st;
    if (atomic_load(&s->lost) ||
        (fstat(s->fd, &st) == 0 &&
         (uint64_t)st.st_size < s->payload_offset + s->payload_len))
        return fail_truncated(s, err);
    if (!same_file(s->path, s->fd))
        return shmimg_fail(err, SHMIMG_EGONE,
                           "%s was removed or replaced while we were "
                           "attached",
                           s->path);
    return 0;
}

int seg_wait(seg *s, uint32_t seen, int timeout_ms,
             const atomic_bool *cancel, uint32_t *now, shmimg_err *err)
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
        if (g != seen && g % 2 == 0) {
            if (now)
                *now = g;
            return 0;
        }
        if (cancel && atomic_load(cancel))
            return shmimg_fail(err, SHMIMG_ECANCELED, "%s: wait cancelled",
                               s->path);
        /* Woken without a new image ('shmimg rm' wakes us), or time to
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
            return shmimg_fail(err, SHMIMG_ETIMEDOUT,
                               "%s: no new image within %d ms", s->path,
                               timeout_ms);
        int64_t slice = next_check - t < left ? next_check - t : left;
        woken = futex_wait(&s->hdr->generation, g, slice) == 0;
    }
}

void seg_wake_waiters(seg *s) { futex_wake(&s->hdr->generation, INT_MAX); }

bool seg_replaced(const seg *s) { return !same_file(s->path, s->fd); }

/* ---- looking without touching ------------------------------------------- */

int seg_inspect(const char *path, seg_status *st, shmimg_err *err)
{
    memset(st, 0, sizeof *st);
    snprintf(st->path, sizeof st->path, "%s", path);
    struct stat sb;
    const char *key = strrchr(path, '/');
    key = key ? key + 1 : path;
    if (strncmp(key, SEG_FILE_PREFIX, strlen(SEG_FILE_PREFIX)) == 0)
        key += strlen(SEG_FILE_PREFIX);
    int fd = open_checked(path, O_RDONLY, key, &sb, err);
    if (fd < 0)
        return fd;
    st->file_size = sb.st_size;
    st->attached = count_attached(fd);

    static shmimg_header zero;
    shmimg_header h = zero;
    ssize_t got = pread(fd, &h, sizeof h, 0);
    close(fd);
    shmimg_err why = {0};
    if (got < 0)
        return fail_errno(err, path, "read");
    st->problem = check_header(&h, (uint64_t)sb.st_size, path, &why);
    if ((size_t)got == sizeof h && st->problem != SHMIMG_ECORRUPT) {
        st->header_read = st->problem == 0;
        st->layout_version = h.layout_version;
        st->flags = atomic_load(&h.flags);
        st->generation = atomic_load(&h.generation);
        st->lock_word = atomic_load(&h.lock_word);
        st->lock_owner_pid = h.lock_owner_pid;
        st->payload_offset = h.payload_offset;
        st->capacity = h.capacity;
    }
    if (st->problem == 0) {
        int rc = check_image(&h, st->flags, &st->image, path, &why);
        if (rc == SHMIMG_ECORRUPT)
            st->problem = rc;
    }
    if (st->problem)
        snprintf(st->problem_msg, sizeof st->problem_msg, "%s", why.msg);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_segment_name(const struct dirent *d)
{
    size_t n = strlen(SEG_FILE_PREFIX);
    return strncmp(d->d_name, SEG_FILE_PREFIX, n) == 0 &&
           seg_key_check(d->d_name + n, NULL) == 0;
}

int seg_list(int (*fn)(const seg_status *st, void *ctx), void *ctx,
             shmimg_err *err)
{
    clean_leftovers(NULL);
    struct dirent **names;
    int n = scandir(seg_dir(), &names, is_segment_name, by_name);
    if (n < 0)
        return seg_dir_check(err) < 0
                   ? SHMIMG_ESETTING
                   : fail_errno(err, seg_dir(), "read the directory (SHMIMG_DIR)");
    int rc = 0;
    seg_status *st = malloc(sizeof *st);
    for (int i = 0; i < n; i++) {
        if (st && rc == 0) {
            char path[SEG_PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", seg_dir(), names[i]->d_name);
            shmimg_err why;
            if (seg_inspect(path, st, &why) < 0) {
                /* Unopenable: report it as a problem of that entry. */
                memset(st, 0, sizeof *st);
                snprintf(st->path, sizeof st->path, "%s", path);
                struct stat ls;
                if (lstat(path, &ls) == 0)
                    st->file_size = ls.st_size;
                st->problem = why.code;
                snprintf(st->problem_msg, sizeof st->problem_msg, "%s",
                         why.msg);
            }
            rc = fn(st, ctx);
        }
        free(names[i]);
    }
    free(names);
    free(st);
    return rc;
}

int seg_remove(const char *key, unsigned *attached, shmimg_err *err)
{
    if (attached)
        *attached = 0;
    char path[SEG_PATH_MAX];
    int rc = seg_path(key, path, sizeof path, err);
    if (rc < 0)
        return rc;
    struct stat st;
    int fd = open_checked(path, O_RDONLY, key, &st, err);
    if (fd < 0)
        return fd;
    if (attached)
        *attached = count_attached(fd);
    if (unlink(path) < 0) {
        rc = errno == ENOENT ? shmimg_fail(err, SHMIMG_ENOSEG,
                                           "no segment for key '%s' in %s",
                                           key, seg_dir())
                             : fail_errno(err, path, "remove");
        close(fd);
        return rc;
    }
    /* Wake its waiters, so that they follow the key to its next file now
     * rather than at their next check. Read-only: rm writes nothing. */
    if (st.st_size >= SHMIMG_HEADER_SIZE) {
        shmimg_header *h = mmap(NULL, SHMIMG_HEADER_SIZE, PROT_READ,
                                MAP_SHARED, fd, 0);
        if (h != MAP_FAILED) {
            futex_wake(&h->generation, INT_MAX);
            munmap(h, SHMIMG_HEADER_SIZE);
        }
    }
    close(fd);
    return 0;
}
