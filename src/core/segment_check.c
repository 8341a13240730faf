/* segment_check.c - validation: keys, the segment directory, the file at a
 * key's path, its header and its buffer descriptors. Every byte of a
 * segment is untrusted; the checks run in the order docs/format.md gives,
 * and the first that fails names the file and what is wrong.
 */
#include "segment_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

/* ---- names ------------------------------------------------------------ */

const char *seg_dir(void)
{
    const char *dir = getenv("SHMIMG_DIR");
    return dir && *dir ? dir : SEG_DEFAULT_DIR;
}

int seg_key_check(const char *key, seg_err *err)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0)
        return seg_fail(err, SEG_EKEY, "the key is empty");
    if (n > SEG_KEY_MAX)
        return seg_fail(err, SEG_EKEY,
                        "key is %zu characters long; at most %d allowed", n,
                        SEG_KEY_MAX);
    if (key[0] == '.' || key[0] == '-')
        return seg_fail(err, SEG_EKEY,
                        "key '%s' starts with '%c'; that is not allowed "
                        "(a hidden name, or one taken for an option)",
                        key, key[0]);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return seg_fail(err, SEG_EKEY,
                            "key '%s' has character 0x%02x at position "
                            "%zu; allowed are A-Z a-z 0-9 . _ -",
                            key, c, i + 1);
    }
    return 0;
}

int seg_path(const char *key, char *buf, size_t size, seg_err *err)
{
    int rc = seg_key_check(key, err);
    if (rc < 0)
        return rc;
    int n = snprintf(buf, size, "%s/" SEG_FILE_PREFIX "%s", seg_dir(), key);
    if (n < 0 || (size_t)n >= size)
        return seg_fail(err, SEG_EINVAL, "SHMIMG_DIR '%s' is too long",
                        seg_dir());
    return 0;
}

/* ---- the directory -------------------------------------------------- */

int seg_dir_check(seg_err *err)
{
    struct stat st;
    if (stat(seg_dir(), &st) < 0)
        return seg_fail(err, SEG_ESETTING,
                        "the segment directory %s does not exist (%s; "
                        "set SHMIMG_DIR to an existing directory, or "
                        "unset it for %s)",
                        seg_dir(), strerror(errno), SEG_DEFAULT_DIR);
    if (!S_ISDIR(st.st_mode))
        return seg_fail(err, SEG_ESETTING,
                        "the segment directory %s is not a directory "
                        "(SHMIMG_DIR)",
                        seg_dir());
    return 0; /* access itself is checked by what uses it, and named */
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
    } known[] = {{0xEF53, "ext2/3/4"},  {0x58465342, "xfs"},
                 {0x9123683E, "btrfs"}, {0x794c7630, "overlayfs"},
                 {0x6969, "nfs"},       {0x65735546, "fuse"}};
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

/* ---- the file ------------------------------------------------------- */

/* Why a segment file is missing: no segment, or no directory at all. */
static int fail_missing(seg_err *err, const char *key)
{
    int rc = seg_dir_check(err);
    if (rc < 0)
        return rc;
    /* The sentence of Qt's example, which shmimg succeeds: its users know
     * it, and the command line and the window say it as it was. */
    return seg_fail(err, SEG_ENOSEG,
                    "Unable to attach to shared memory segment. Load an "
                    "image first. (no segment for key '%s' in %s)",
                    key, seg_dir());
}

int seg_fail_errno(seg_err *err, const char *path, const char *what)
{
    int e = errno;
    int code = e == EACCES || e == EPERM    ? SEG_EPERM
               : e == ENOSPC || e == EDQUOT ? SEG_ENOSPACE
                                            : SEG_ESYS;
    return seg_fail(err, code, "%s: %s: %s", path, what, strerror(e));
}

/* What a file that is not a regular one is, in words; NULL for a
 * regular file (and a symbolic link, which O_NOFOLLOW names itself). */
static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISSOCK(mode) ? "a socket"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
                            : NULL;
}

static int fail_not_file(seg_err *err, const char *path, const char *kind)
{
    return seg_fail(err, SEG_ENOTFILE,
                    "%s is %s, not a segment file; refusing it", path, kind);
}

int seg_check_file(int fd, const char *path, unsigned allow, struct stat *st,
                   seg_err *err)
{
    if (fstat(fd, st) < 0)
        return seg_fail_errno(err, path, "fstat");
    const char *kind = file_kind(st->st_mode);
    if (kind)
        return fail_not_file(err, path, kind);
    if (st->st_uid != geteuid() && !(allow & SEG_OPEN_OTHERS))
        return seg_fail(err, SEG_EPERM,
                        "%s belongs to uid %u, not to you (uid %u); "
                        "refusing it",
                        path, (unsigned)st->st_uid, (unsigned)geteuid());
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(allow & SEG_OPEN_WRITABLE))
        return seg_fail(err, SEG_EPERM,
                        "%s is writable by group or others (mode %04o); "
                        "refusing it",
                        path, (unsigned)(st->st_mode & 07777));
    return 0;
}

int seg_open_checked(const char *path, int oflags, const char *key,
                     unsigned allow, struct stat *st, seg_err *err)
{
    int fd = seg_above_stdio(
        open(path, oflags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return fail_missing(err, key);
        if (errno == ELOOP)
            return seg_fail(err, SEG_ENOTFILE,
                            "%s is a symbolic link; refusing to follow it",
                            path);
        if (errno == EISDIR)
            return seg_fail(err, SEG_ENOTFILE,
                            "%s is a directory, not a segment file; "
                            "refusing it",
                            path);
        /* Another user's file we may not open this way: say whose, as
         * for one we could open (the same words as seg_check_file). A
         * socket cannot be opened at all (ENXIO): say what it is. */
        struct stat other;
        int e = errno;
        const char *kind =
            lstat(path, &other) == 0 ? file_kind(other.st_mode) : NULL;
        if (kind)
            return fail_not_file(err, path, kind);
        if ((e == EACCES || e == EPERM) && !(allow & SEG_OPEN_OTHERS) &&
            lstat(path, &other) == 0 && other.st_uid != geteuid())
            return seg_fail(err, SEG_EPERM,
                            "%s belongs to uid %u, not to you (uid %u); "
                            "refusing it",
                            path, (unsigned)other.st_uid, (unsigned)geteuid());
        errno = e;
        return seg_fail_errno(err, path, "open");
    }
    int rc = seg_check_file(fd, path, allow, st, err);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* ---- the header ----------------------------------------------------- */

int seg_check_header(const shmimg_header *h, uint64_t file_size,
                     const char *path, seg_err *err)
{
    if (file_size < SHMIMG_HEADER_SIZE)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s is %llu bytes, shorter than the %u-byte "
                        "segment header (corrupt segment header)",
                        path, (unsigned long long)file_size,
                        SHMIMG_HEADER_SIZE);
    if (memcmp(h->magic, SHMIMG_MAGIC, sizeof h->magic) != 0)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: wrong magic, this is "
                        "not a shmimg segment",
                        path);
    if (h->layout_version != SHMIMG_LAYOUT_VERSION)
        return seg_fail(err, SEG_EVERSION,
                        "%s: unsupported segment layout version %u (this "
                        "shmimg reads version %u)",
                        path, h->layout_version, SHMIMG_LAYOUT_VERSION);
    if (h->header_size != SHMIMG_HEADER_SIZE)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: header size %u, "
                        "expected %u",
                        path, h->header_size, SHMIMG_HEADER_SIZE);
    uint64_t offset = h->payload_offset, capacity = h->capacity;
    uint64_t stride = h->buffer_stride;
    uint32_t count = h->buffer_count;
    if (offset < SHMIMG_HEADER_SIZE || offset % SHMIMG_BUFFER_ALIGN != 0)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: payload offset %llu "
                        "is not a multiple of %u past the header",
                        path, (unsigned long long)offset, SHMIMG_BUFFER_ALIGN);
    if (offset > file_size || capacity > file_size - offset)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: payload area "
                        "%llu+%llu bytes does not fit in the %llu-byte "
                        "file",
                        path, (unsigned long long)offset,
                        (unsigned long long)capacity,
                        (unsigned long long)file_size);
    if (count > SHMIMG_MAX_BUFFERS || stride % SHMIMG_BUFFER_ALIGN != 0 ||
        (count > 0 && stride > capacity / count))
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: %u buffers of %llu "
                        "bytes do not fit the %llu-byte capacity (at "
                        "most %u buffers, %u-byte aligned)",
                        path, count, (unsigned long long)stride,
                        (unsigned long long)capacity, SHMIMG_MAX_BUFFERS,
                        SHMIMG_BUFFER_ALIGN);
    return 0;
}

/* ---- buffer descriptors --------------------------------------------- */

#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

void seg_copy_descriptor(const shmimg_buffer *d, seg_image *img,
                         uint64_t *offset)
{
    img->width = LOAD(d->width);
    img->height = LOAD(d->height);
    img->pitch = LOAD(d->pitch);
    img->pixel_format = LOAD(d->pixel_format);
    img->publisher_pid = LOAD(d->publisher_pid);
    img->frame = LOAD(d->frame);
    img->payload_size = LOAD(d->payload_size);
    img->publish_time_ns = LOAD(d->publish_time_ns);
    *offset = LOAD(d->offset);
    for (size_t i = 0; i + 1 < sizeof img->source_name; i++)
        img->source_name[i] = LOAD(d->source_name[i]);
    img->source_name[sizeof img->source_name - 1] = '\0';
}

int seg_check_frame(const seg_image *img, uint64_t offset,
                    uint64_t payload_offset, uint64_t file_size,
                    const char *path, seg_err *err)
{
    if (img->pixel_format != SHMIMG_FORMAT_RGBA8)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: unknown pixel format "
                        "%u",
                        path, img->pixel_format);
    if (img->width == 0 || img->height == 0 || img->width > SEG_MAX_DIMENSION ||
        img->height > SEG_MAX_DIMENSION)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: image size %ux%u is "
                        "not between 1x1 and %ux%u",
                        path, img->width, img->height, SEG_MAX_DIMENSION,
                        SEG_MAX_DIMENSION);
    /* width and height are <= 2^20, so these products fit in 64 bits. */
    uint64_t row = (uint64_t)img->width * SHMIMG_BYTES_PER_PIXEL;
    if (img->pitch < row ||
        img->payload_size != (uint64_t)img->pitch * img->height)
        return seg_fail(err, SEG_ECORRUPT,
                        "%s: corrupt segment header: pitch %u and payload "
                        "size %llu do not fit a %ux%u image",
                        path, img->pitch, (unsigned long long)img->payload_size,
                        img->width, img->height);
    if (offset < payload_offset || offset % SHMIMG_BUFFER_ALIGN != 0 ||
        offset > file_size || img->payload_size > file_size - offset)
        return seg_fail(
            err, SEG_ECORRUPT,
            "%s: corrupt segment header: buffer %u's %llu "
            "bytes at offset %llu do not lie inside the "
            "%llu-byte file",
            path, img->buffer, (unsigned long long)img->payload_size,
            (unsigned long long)offset, (unsigned long long)file_size);
    return 0;
}
