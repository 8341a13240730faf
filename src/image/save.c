/* save.c - see save.h.
 *
 * Every byte an encoder produces goes through one SDL_RWops of ours (an
 * "output"), whose write callback writes the whole buffer or records the
 * first errno and refuses everything after it. The encoders' own return
 * values are not trusted for write errors: SDL_image's PNG writer
 * (png_write_data) and JPEG writer (empty_output_buffer, term_destination)
 * ignore SDL_RWwrite's result, and SDL_SaveBMP_RW checks only the pixel
 * rows, not the headers, nor its seeks.
 */
#include "save.h"

#include "png_fast.h"

#include <SDL_image.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const int jpeg_quality = 95;
/* libjpeg's JPEG_MAX_DIMENSION (jmorecfg.h): jpeg_start_compress refuses
 * more, and SDL_image then jumps through an unset jmp_buf. */
static const int64_t jpeg_max_side = 65500;
/* libpng's PNG_USER_WIDTH_MAX and PNG_USER_HEIGHT_MAX (pnglibconf.h), the
 * default user limits png_set_IHDR checks on writing too. */
static const int64_t png_max_side = 1000000;
/* The encoders address pixel rows with int byte offsets. */
static const int64_t max_pixel_bytes = INT_MAX;
/* A temporary's name keeps this much of the target's name, so that
 * ".NAME.shmimg-XXXXXX" stays under NAME_MAX (255). */
enum { TMP_NAME_KEEP = 200 };

image_out_format image_out_format_of(const char *path)
{
    if (strcmp(path, "-") == 0)
        return IMAGE_OUT_PNG;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return IMAGE_OUT_PNG;
    if (strcasecmp(dot, ".png") == 0)
        return IMAGE_OUT_PNG;
    if (strcasecmp(dot, ".bmp") == 0)
        return IMAGE_OUT_BMP;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return IMAGE_OUT_JPG;
    return IMAGE_OUT_UNKNOWN;
}

int image_check_output_size(image_out_format fmt, int width, int height,
                            seg_err *err)
{
    int64_t w = width, h = height;
    if (fmt != IMAGE_OUT_PNG && fmt != IMAGE_OUT_BMP && fmt != IMAGE_OUT_JPG)
        return seg_fail(err, SEG_EINVAL, "unknown output format");
    if (w < 1 || h < 1)
        return seg_fail(err, SEG_EINVAL,
                        "an empty image (%dx%d) cannot be saved", width,
                        height);
    if (fmt == IMAGE_OUT_JPG) {
        if (w > jpeg_max_side || h > jpeg_max_side)
            return seg_fail(err, SEG_ETOOBIG,
                            "%dx%d is too large for JPEG: at most %lld "
                            "pixels per side (libjpeg's "
                            "JPEG_MAX_DIMENSION)",
                            width, height, (long long)jpeg_max_side);
        /* SDL_image encodes from an RGB24 copy, rows padded to 4 bytes. */
        int64_t pitch = (w * 3 + 3) & ~(int64_t)3;
        if (pitch * h > max_pixel_bytes)
            return seg_fail(err, SEG_ETOOBIG,
                            "%dx%d is too large for JPEG: at most 2 GiB "
                            "of RGB pixel data (SDL_image's encoder "
                            "uses int offsets)",
                            width, height);
        return 0;
    }
    if (fmt == IMAGE_OUT_PNG && (w > png_max_side || h > png_max_side))
        return seg_fail(err, SEG_ETOOBIG,
                        "%dx%d is too large for PNG: at most %lld pixels "
                        "per side (libpng's default user limit)",
                        width, height, (long long)png_max_side);
    if (w * h > max_pixel_bytes / 4) /* w * h < 2^62: no overflow */
        return seg_fail(err, SEG_ETOOBIG,
                        "%dx%d is too large for %s: at most 2 GiB of "
                        "pixel data, width x height x 4 bytes (%s uses "
                        "int offsets)",
                        width, height, fmt == IMAGE_OUT_PNG ? "PNG" : "BMP",
                        fmt == IMAGE_OUT_PNG ? "SDL_image's encoder"
                                             : "SDL_SaveBMP");
    return 0;
}

/* ---- the output: checked writes ------------------------------------------ */

/* Writes all n bytes of p to fd, through short writes, EINTR and a
 * non-blocking descriptor.
 * Returns: 0, or the errno of the failure. */
int save_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n > SSIZE_MAX ? SSIZE_MAX : n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                    return errno;
                continue;
            }
            return errno;
        }
        if (k == 0)
            return EIO; /* no progress, no reason: do not loop forever */
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Where the encoder's bytes go: straight to fd, or into memory first when
 * the encoder must seek (BMP) and fd cannot (a pipe, a terminal, a FIFO,
 * an O_APPEND file). */
typedef struct output {
    int fd;
    int seekable; /* lseek works and writes land where it says */
    int error;    /* the first errno; 0 while every write went whole */
    int in_memory;
    Uint8 *buf; /* in_memory: the whole file so far */
    size_t len; /* bytes in buf */
    size_t cap; /* bytes allocated */
    size_t pos; /* in_memory: the write position; else bytes written */
} output;

static output *output_of(SDL_RWops *rw) { return rw->hidden.unknown.data1; }

static size_t output_write(SDL_RWops *rw, const void *p, size_t size,
                           size_t num)
{
    output *o = output_of(rw);
    if (o->error)
        return 0;
    if (size == 0 || num == 0)
        return num;
    if (size > SIZE_MAX / num) {
        o->error = EOVERFLOW;
        return 0;
    }
    size_t n = size * num;
    if (!o->in_memory) {
        o->error = save_write_all(o->fd, p, n);
        if (o->error)
            return 0;
        o->pos += n;
        return num;
    }
    if (o->pos > SIZE_MAX - n) {
        o->error = EOVERFLOW;
        return 0;
    }
    size_t end = o->pos + n;
    if (end > o->cap) {
        size_t cap = o->cap ? o->cap : 65536;
        while (cap < end)
            cap = cap > SIZE_MAX / 2 ? end : cap * 2;
        Uint8 *buf = realloc(o->buf, cap);
        if (!buf) {
            o->error = ENOMEM;
            return 0;
        }
        o->buf = buf;
        o->cap = cap;
    }
    if (o->pos > o->len) /* a seek past the end leaves a hole of zeros */
        memset(o->buf + o->len, 0, o->pos - o->len);
    memcpy(o->buf + o->pos, p, n);
    o->pos = end;
    if (end > o->len)
        o->len = end;
    return num;
}

static Sint64 output_seek(SDL_RWops *rw, Sint64 offset, int whence)
{
    output *o = output_of(rw);
    if (o->error)
        return -1;
    if (o->seekable && !o->in_memory) {
        int how = whence == RW_SEEK_SET   ? SEEK_SET
                  : whence == RW_SEEK_CUR ? SEEK_CUR
                                          : SEEK_END;
        off_t r = lseek(o->fd, (off_t)offset, how);
        if (r < 0) {
            o->error = errno;
            return -1;
        }
        return r;
    }
    Sint64 base = whence == RW_SEEK_SET   ? 0
                  : whence == RW_SEEK_CUR ? (Sint64)o->pos
                                          : (Sint64)o->len;
    if (offset > INT64_MAX - base || base + offset < 0) {
        o->error = EINVAL;
        return -1;
    }
    Sint64 to = base + offset;
    if (!o->in_memory && (size_t)to != o->pos) { /* a stream: tell only */
        o->error = ESPIPE;
        return -1;
    }
    o->pos = (size_t)to;
    return to;
}

static Sint64 output_size(SDL_RWops *rw)
{
    output *o = output_of(rw);
    return o->in_memory ? (Sint64)o->len : -1;
}

static size_t output_read(SDL_RWops *rw, void *p, size_t size, size_t num)
{
    (void)rw, (void)p, (void)size, (void)num;
    return 0;
}

static int output_close(SDL_RWops *rw)
{
    (void)rw; /* the RWops is on the stack, the fd is image_save's */
    return 0;
}

static int encode(SDL_Surface *sf, image_out_format fmt, SDL_RWops *rw)
{
    switch (fmt) {
    case IMAGE_OUT_BMP: return SDL_SaveBMP_RW(sf, rw, 0);
    case IMAGE_OUT_JPG: return IMG_SaveJPG_RW(sf, rw, 0, jpeg_quality);
    default: return png_fast_write(sf, rw);
    }
}

/* Encodes sf into fd; name is the output as people know it.
 * Returns: 0; SEG_EWRITE with errno's reason; SEG_ESYS. */
static int write_image(SDL_Surface *sf, image_out_format fmt, int fd,
                       const char *name, seg_err *err)
{
    output o = {.fd = fd};
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return seg_fail(err, SEG_EWRITE, "%s: %s", name, strerror(errno));
    o.seekable = !(fl & O_APPEND) && lseek(fd, 0, SEEK_CUR) >= 0;
    o.in_memory = fmt == IMAGE_OUT_BMP && !o.seekable;

    SDL_RWops rw = {
        .size = output_size,
        .seek = output_seek,
        .read = output_read,
        .write = output_write,
        .close = output_close,
        .type = SDL_RWOPS_UNKNOWN,
    };
    rw.hidden.unknown.data1 = &o;

    int rc = encode(sf, fmt, &rw);
    if (!o.error && o.in_memory)
        o.error = save_write_all(fd, o.buf, o.len);
    free(o.buf);
    if (o.error == ENOMEM)
        return seg_fail(err, SEG_ESYS, "%s: out of memory", name);
    if (o.error)
        return seg_fail(err, SEG_EWRITE, "%s: %s", name, strerror(o.error));
    if (rc < 0)
        return seg_fail(err, SEG_ESYS, "%s: cannot encode: %s", name,
                        SDL_GetError());
    return 0;
}

/* ---- files ------------------------------------------------------------- */

/* Returns: the process's umask, read without changing it. */
static mode_t current_umask(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return mask;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        unsigned v;
        if (sscanf(line, "Umask: %o", &v) == 1) {
            mask = (mode_t)(v & 0777);
            break;
        }
    }
    fclose(f);
    return mask;
}

/* Writes into an existing device or FIFO at path. */
static int save_in_place(const char *path, save_writer fn, void *ctx,
                         seg_err *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return seg_fail(err, SEG_EWRITE, "%s: %s", path, strerror(errno));
    int rc = fn(fd, path, ctx, err);
    if (close(fd) < 0 && rc == 0 && errno != EINTR)
        rc = seg_fail(err, SEG_EWRITE, "%s: %s", path, strerror(errno));
    return rc;
}

/* Puts the complete temporary tmp in place of target, or at path (which
 * must not exist) with NO_CLOBBER.
 * Returns: 0; SEG_EEXIST; SEG_EWRITE. */
static int put_in_place(const char *tmp, const char *target, const char *path,
                        unsigned flags, seg_err *err)
{
    if (!(flags & IMAGE_SAVE_NO_CLOBBER)) {
        if (rename(tmp, target) < 0)
            return seg_fail(err, SEG_EWRITE, "%s: cannot replace: %s", target,
                            strerror(errno));
        return 0;
    }
    /* link() fails on an existing name, atomically; renameat2's NOREPLACE
     * does the same where hard links are not supported. */
    int rc = link(tmp, path);
    if (rc < 0 && (errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK))
        return renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0
                   ? seg_fail(err, errno == EEXIST ? SEG_EEXIST : SEG_EWRITE,
                              "%s: %s", path, strerror(errno))
                   : 0;
    if (rc < 0)
        return seg_fail(err, errno == EEXIST ? SEG_EEXIST : SEG_EWRITE,
                        "%s: %s", path, strerror(errno));
    unlink(tmp); /* the image is saved; a leftover name is only untidy */
    return 0;
}

/* Writes the directory part of path ("." for a bare name) into dir. */
static void dir_of(const char *path, char dir[PATH_MAX])
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, PATH_MAX, ".");
    else
        snprintf(dir, PATH_MAX, "%.*s", (int)(slash - path + 1), path);
}

/* Flushes the directory entry of target to disk, where possible. */
static void sync_dir_of(const char *target)
{
    char dir[PATH_MAX];
    dir_of(target, dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* the file is in place either way */
        close(fd);
    }
}

/* The temporary file of the save under way, for image_save_abandon,
 * which a signal handler may call: set once the file exists, cleared
 * before it is renamed or removed. */
static char pending_tmp[PATH_MAX];
static volatile sig_atomic_t pending;

void image_save_abandon(void)
{
    if (pending) {
        pending = 0;
        unlink(pending_tmp); /* async-signal-safe */
    }
}

/* Saves into a new file or replaces a regular one (old: its status, NULL
 * for a new name), through a temporary in the target's directory. target
 * is the final name (links resolved), path the name the caller gave. */
static int save_replacing(const char *path, const char *target,
                          const struct stat *old, mode_t mode, save_writer fn,
                          void *ctx, unsigned flags, seg_err *err)
{
    int existed = old != NULL;
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    if (!*base)
        return seg_fail(err, SEG_EWRITE, "%s: is a directory", path);
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%.*s.%.*s.shmimg-XXXXXX",
                     (int)(base - target), target, (int)TMP_NAME_KEEP, base);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return seg_fail(err, SEG_EWRITE, "%s: %s", path,
                        strerror(ENAMETOOLONG));
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return seg_fail(err, SEG_EWRITE,
                        "%s: cannot create a temporary file: %s", path,
                        strerror(errno));
    memcpy(pending_tmp, tmp, sizeof pending_tmp);
    pending = 1;

    int rc = 0;
    if (fchmod(fd, mode) < 0)
        rc = seg_fail(err, SEG_EWRITE, "%s: %s", tmp, strerror(errno));
    /* The replaced file keeps its owner where we may give it (root
     * saving over a user's file); otherwise it becomes ours, as with any
     * program that replaces a file. */
    if (rc == 0 && old &&
        (old->st_uid != geteuid() || old->st_gid != getegid()))
        (void)!fchown(fd, old->st_uid, old->st_gid);
    if (rc == 0)
        rc = fn(fd, path, ctx, err);
    if (rc == 0 && fsync(fd) < 0)
        rc = seg_fail(err, SEG_EWRITE, "%s: %s", path, strerror(errno));
    if (close(fd) < 0 && rc == 0 && errno != EINTR)
        rc = seg_fail(err, SEG_EWRITE, "%s: %s", path, strerror(errno));
    pending = 0; /* from here on, the name is put in place or removed */
    if (rc == 0)
        rc = put_in_place(tmp, target, path, flags, err);
    if (rc < 0) {
        unlink(tmp);
        if (existed && rc == SEG_EWRITE && err) {
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof err->msg - len,
                     " (the file was left as it was)");
        }
        return rc;
    }
    sync_dir_of(target);
    return 0;
}

/* The kernel's fs.protected_symlinks rule, applied whatever the setting:
 * in a sticky world-writable directory (/tmp), a link is followed only
 * when it is ours or the directory owner's. Anyone can plant a link there
 * that points at a file of ours. */
static bool may_follow(const char *path, const struct stat *link)
{
    char dir[PATH_MAX];
    dir_of(path, dir);
    struct stat d;
    if (stat(dir, &d) < 0)
        return false;
    bool shared = (d.st_mode & S_ISVTX) && (d.st_mode & S_IWOTH);
    return !shared || link->st_uid == geteuid() || link->st_uid == d.st_uid;
}

static int save_to_path(const char *path, save_writer fn, void *ctx,
                        unsigned flags, seg_err *err)
{
    struct stat lst, st;
    if (lstat(path, &lst) < 0) {
        if (errno != ENOENT)
            return seg_fail(err, SEG_EWRITE, "%s: %s", path, strerror(errno));
        return save_replacing(path, path, NULL, 0666 & ~current_umask(), fn,
                              ctx, flags, err);
    }
    if (flags & IMAGE_SAVE_NO_CLOBBER) /* link() checks again, atomically */
        return seg_fail(err, SEG_EEXIST, "%s: the file exists", path);
    if (stat(path, &st) < 0)
        return seg_fail(err, SEG_EWRITE, "%s: %s", path,
                        errno == ENOENT ? "a dangling symbolic link"
                                        : strerror(errno));
    if (S_ISDIR(st.st_mode))
        return seg_fail(err, SEG_EWRITE, "%s: is a directory", path);
    if (!S_ISREG(st.st_mode))
        return save_in_place(path, fn, ctx, err);
    if (!S_ISLNK(lst.st_mode))
        return save_replacing(path, path, &st, st.st_mode & 0777, fn, ctx,
                              flags, err);
    if (!may_follow(path, &lst))
        return seg_fail(err, SEG_EWRITE,
                        "%s: a symbolic link of uid %u in a world-writable "
                        "sticky directory; refusing to follow it",
                        path, (unsigned)lst.st_uid);
    char target[PATH_MAX];
    if (!realpath(path, target))
        return seg_fail(err, SEG_EWRITE, "%s: %s", path, strerror(errno));
    return save_replacing(path, target, &st, st.st_mode & 0777, fn, ctx, flags,
                          err);
}

int save_output(const char *path, unsigned flags, save_writer fn, void *ctx,
                seg_err *err)
{
    if (!path || !*path)
        return seg_fail(err, SEG_EINVAL, "save_output: no path");
    if (strcmp(path, "-") == 0) {
        fflush(stdout); /* what the caller printed comes first */
        return fn(STDOUT_FILENO, "standard output", ctx, err);
    }
    return save_to_path(path, fn, ctx, flags, err);
}

typedef struct image_job {
    SDL_Surface *sf;
    image_out_format fmt;
} image_job;

static int write_job(int fd, const char *name, void *ctx, seg_err *err)
{
    image_job *job = ctx;
    return write_image(job->sf, job->fmt, fd, name, err);
}

int image_save(SDL_Surface *sf, const char *path, image_out_format fmt,
               unsigned flags, seg_err *err)
{
    if (!sf || !path || !*path)
        return seg_fail(err, SEG_EINVAL, "image_save: no image or no path");
    const int to_stdout = strcmp(path, "-") == 0;
    const char *name = to_stdout ? "standard output" : path;
    seg_err why;
    int rc = image_check_output_size(fmt, sf->w, sf->h, &why);
    if (rc == 0 && (int64_t)sf->h * sf->pitch > max_pixel_bytes)
        rc = seg_fail(&why, SEG_ETOOBIG,
                      "%d rows of %d bytes are more than 2 GiB", sf->h,
                      sf->pitch);
    if (rc < 0)
        return seg_fail(err, rc, "%s: %s", name, why.msg);
    image_job job = {sf, fmt};
    return save_output(path, flags, write_job, &job, err);
}
