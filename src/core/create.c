/* create.c - a new segment file: made whole under a temporary name, then
 * linked into place (so a file under a key always has a whole header and
 * an owner), and the temporary files of creators that died removed
 * (format.md, "Lifetime" and "Leftovers"). seg_attach (segment.c) calls
 * seg_create_temp when the key has no file and the caller publishes.
 */
#include "segment_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- creation ----------------------------------------------------------- */

/* Allocates the pages of [offset, offset + len) (posix_fallocate), so
 * that writing there can never SIGBUS on a full SHMIMG_DIR. It reports
 * errors through its return value, not errno. */
int seg_reserve(int fd, uint64_t offset, uint64_t len, const char *path,
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

uint32_t seg_random_u32(void)
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
int seg_create_temp(const char *path, const char *key, unsigned flags,
                    char *tmp, size_t tmp_size, seg_err *err)
{
    seg_clean_leftovers(key);
    snprintf(tmp, tmp_size, "%s/.%s.%ld.%08x", seg_dir(),
             strrchr(path, '/') + 1, (long)getpid(), seg_random_u32());
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
        rc = seg_reserve(fd, 0, SHMIMG_HEADER_SIZE, path, err);
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
