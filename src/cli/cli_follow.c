/* cli_follow.c - shmimg as a stream's end: 'pull --follow' writes every
 * new frame, raw (to a file, a FIFO or stdout) or as numbered images. It
 * waits in quit_wait, as cli_stream.c does (see there): a consumer that
 * stops reading, or a publisher that stalls, cannot hold it past a quit
 * signal.
 */
#include "cli_stream.h"

#include "image.h"
#include "save.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes n bytes to fd, which the caller made non-blocking, waiting for
 * room in quit_wait: a consumer that stops reading cannot hold us past a
 * signal.
 * Returns: 0; SEG_ECANCELED quit; or the errno of the failure (EPIPE: it
 * left). */
static int write_frame(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EINTR)
            return errno;
        if (k == 0)
            return EIO;
        if (quit_wait(fd, POLLOUT, -1) < 0)
            return SEG_ECANCELED;
    }
    return 0;
}

/* ---- pull --follow -------------------------------------------------------- */

/* Checks that pattern holds exactly one integer conversion (%d, %06d, ...)
 * and otherwise only %%. */
static int check_pattern(const char *pattern, seg_err *err)
{
    int conversions = 0;
    for (const char *p = pattern; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        const char *q = p + 1;
        while (*q >= '0' && *q <= '9' && q - p < 4)
            q++;
        if (*q != 'd')
            return seg_fail(err, SEG_EINVAL,
                            "-o %s: the only conversion allowed is one "
                            "integer (%%d, %%06d); write %%%% for a %%",
                            pattern);
        conversions++;
        p = q;
    }
    if (conversions != 1)
        return seg_fail(err, SEG_EINVAL,
                        "-o %s: with --follow, OUT is a pattern with one "
                        "frame number in it, like frame-%%06d.png (or "
                        "use --raw)",
                        pattern);
    return 0;
}

typedef struct follower {
    const opts *o;
    seg *s;
    unsigned long long written;
    unsigned long long skipped;
    uint64_t first, last; /* frame numbers written */
    uint64_t grabbed;     /* the newest frame copied out (0: none) */
    uint32_t w, h;        /* raw: the stream's frame size */
    bool consumer_left;   /* raw: EPIPE */
    bool removed;         /* the segment went away */
    uint8_t *buf;
    size_t buf_size;
    SDL_Surface *sf;
    seg_err err;
} follower;

/* --wait S of a follower: how long it waits for a segment or a new frame
 * before it ends, in ms; -1 (for ever) without, or past INT32_MAX. */
static int follow_idle_ms(const opts *o)
{
    return o->wait_s > 0 && o->wait_s * 1000 < INT32_MAX
               ? (int)(o->wait_s * 1000)
               : -1;
}

/* Waits for a frame newer than the last one written (any, first).
 * Returns: 1 a frame is there; 0 the follow ends (signal, removal, idle
 * for --wait); an error code. */
static int next_frame(follower *f, uint32_t *seen)
{
    int idle_ms = follow_idle_ms(f->o);
    for (;;) {
        if (atomic_load(&quit_asked) || f->removed)
            return 0;
        uint32_t now;
        int rc = seg_wait(f->s, *seen, idle_ms, &quit_asked, &now, &f->err);
        if (rc == 0) {
            *seen = now;
            return 1;
        }
        if (rc == SEG_ECANCELED || rc == SEG_ETIMEDOUT)
            return 0;
        if (rc == SEG_EGONE) {
            f->removed = true;
            /* Frames published just before the removal are still in our
             * mapping: the newest of them is written before we end. */
            now = seg_generation(f->s);
            if (now == *seen)
                return 0;
            *seen = now;
            return 1;
        }
        return rc;
    }
}

/* Copies the newest frame out. Returns: 1 a new frame, 0 not new, or an
 * error. */
static int grab(follower *f)
{
    seg_image img;
    int rc;
    if (f->o->raw_out)
        rc = seg_pull_grow(f->s, &f->buf, &f->buf_size, &img, &f->err);
    else
        rc = image_pull(f->s, &f->sf, &img, &f->err);
    /* Lapped again and again: a publisher faster than our copies. A
     * best-effort follower skips; the next frame is another chance. */
    if (rc == SEG_ELAPPED)
        return 0;
    if (rc < 0)
        return rc;
    if (f->grabbed && img.frame <= f->grabbed)
        return 0;
    f->grabbed = img.frame;
    if (f->o->raw_out) {
        if (f->written && (img.width != f->w || img.height != f->h))
            return seg_fail(&f->err, SEG_EINVAL,
                            "the frame size changed from %ux%u to %ux%u "
                            "(frame %llu); a raw stream cannot follow",
                            f->w, f->h, img.width, img.height,
                            (unsigned long long)img.frame);
        f->w = img.width;
        f->h = img.height;
        /* Packed rows: a pitch wider than the row is squeezed out. */
        size_t row = (size_t)img.width * 4;
        for (uint32_t y = 1; img.pitch != row && y < img.height; y++)
            memmove(f->buf + y * row, f->buf + (size_t)y * img.pitch, row);
    }
    return 1;
}

/* Counts the frame grabbed last as written. */
static void wrote(follower *f)
{
    if (f->written && f->grabbed > f->last + 1)
        f->skipped += f->grabbed - f->last - 1;
    if (!f->written)
        f->first = f->grabbed;
    f->last = f->grabbed;
    f->written++;
}

/* Follows into fd: every new frame, raw. For save_output. */
static int follow_raw(int fd, const char *name, void *ctx, seg_err *err)
{
    follower *f = ctx;
    opening = 0; /* opened: a quit signal now ends the loop below */
    alarm(0);
    /* Non-blocking while we write (restored after): see write_frame. */
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    uint32_t seen = seg_generation(f->s);
    int rc = grab(f); /* the current frame, if there is one */
    for (;;) {
        if (rc == SEG_EEMPTY || rc == SEG_EINCOMPLETE)
            rc = 0;
        if (rc < 0)
            break;
        if (rc == 1) {
            int e = write_frame(fd, f->buf, (size_t)f->w * f->h * 4);
            if (e < 0) { /* a quit signal: the frame is cut short */
                rc = 0;
                break;
            }
            if (e == EPIPE) {
                f->consumer_left = true;
                rc = 0;
                break;
            }
            if (e) {
                rc = seg_fail(&f->err, SEG_EWRITE, "%s: %s", name, strerror(e));
                break;
            }
            wrote(f);
            if (f->o->frames && f->written >= f->o->frames)
                break;
        }
        rc = next_frame(f, &seen);
        if (rc <= 0)
            break;
        rc = grab(f);
    }
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags);
    if (rc < 0 && err)
        *err = f->err;
    return rc < 0 ? rc : 0;
}

/* Follows into numbered image files. */
static int follow_images(follower *f, image_out_format fmt)
{
    uint32_t seen = seg_generation(f->s);
    int rc = grab(f);
    for (;;) {
        if (rc == SEG_EEMPTY || rc == SEG_EINCOMPLETE)
            rc = 0;
        if (rc < 0)
            return rc;
        if (rc == 1) {
            char path[4096];
            /* check_pattern allowed one integer conversion only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            int n = snprintf(path, sizeof path, f->o->out,
                             (int)((f->written + 1) % 1000000000));
#pragma GCC diagnostic pop
            if (n < 0 || (size_t)n >= sizeof path)
                return seg_fail(&f->err, SEG_EINVAL,
                                "-o %s: the file name is too long", f->o->out);
            /* A FIFO or a device may take a save for as long as its
             * reader likes: there a quit signal ends us, as it ends pull
             * (saving). A file is finished first. */
            struct stat st;
            saving = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
            if (saving && atomic_load(&quit_asked)) {
                saving = 0;
                return 0;
            }
            rc = image_save(f->sf, path, fmt, 0, &f->err);
            saving = 0;
            if (rc < 0)
                return rc;
            wrote(f);
            if (f->o->frames && f->written >= f->o->frames)
                return 0;
        }
        rc = next_frame(f, &seen);
        if (rc <= 0)
            return rc;
        rc = grab(f);
    }
}

int stream_follow(const opts *o)
{
    seg_err err;
    image_out_format fmt = IMAGE_OUT_PNG;
    if (!o->out)
        return usage_error("pull", STREAM_PULL_USAGE,
                           "--follow needs -o OUT (- for standard output "
                           "with --raw)");
    if (!o->raw_out) {
        if (check_pattern(o->out, &err) < 0)
            return usage_error("pull", STREAM_PULL_USAGE, "%s", err.msg);
        fmt = image_out_format_of(o->out);
        if (fmt == IMAGE_OUT_UNKNOWN || strcmp(o->out, "-") == 0)
            return usage_error("pull", STREAM_PULL_USAGE,
                               "cannot tell the image format of '%s'; use "
                               ".png, .bmp or .jpg (or --raw)",
                               o->out);
    }
    bool to_stdout = strcmp(o->out, "-") == 0;
    if (to_stdout && (closed_stdio & 1u << STDOUT_FILENO)) {
        say("standard output is closed: nowhere to write the frames (-o -)");
        return EXIT_FAILURE;
    }
    /* Caught, not held: seg_wait sleeps in a futex wait, which a signal
     * interrupts (and which looks at quit_asked every 250 ms anyway);
     * writes wait in quit_wait. */
    catch_quit_signals();
    note_dir_kind();
    follower f = {.o = o};
    /* Like --wait, a follower may come first: it waits for the publisher
     * to make the segment (a reader never does). */
    int rc = attach_reader_waiting(o->key, follow_idle_ms(o), &f.s, &f.err);
    if (rc == SEG_ECANCELED || rc == SEG_ETIMEDOUT)
        rc = 0; /* a quit signal, or idle, before any segment: f.s NULL */
    if (rc < 0)
        return failure(&f.err, o->key);
    /* A raw stream into a regular file goes through a temporary that a
     * failure discards: then nothing of it was kept. */
    struct stat st;
    bool replaced = o->raw_out && !to_stdout &&
                    (stat(o->out, &st) < 0 || S_ISREG(st.st_mode));
    if (!f.s) {
        ; /* nothing to follow: the summary says 0 frames */
    } else if (o->raw_out) {
        /* Opening a FIFO waits for its reader: see opening. */
        opening = 1;
        rc = atomic_load(&quit_asked)
                 ? 0
                 : save_output(o->out, 0, follow_raw, &f, &f.err);
        opening = 0;
        alarm(0);
    } else {
        rc = follow_images(&f, fmt);
    }
    /* A quit signal while opening a FIFO nobody reads: the end asked for. */
    if (rc < 0 && atomic_load(&quit_asked) && f.written == 0)
        rc = 0;
    bool discarded = rc < 0 && replaced && f.written > 0;
    seg_detach(f.s);
    free(f.buf);
    SDL_FreeSurface(f.sf);
    int status = rc < 0 ? failure(&f.err, NULL) : 0;
    char range[96] = "";
    if (f.written)
        snprintf(range, sizeof range, " (frames %llu to %llu)",
                 (unsigned long long)f.first, (unsigned long long)f.last);
    say("followed key %s: %llu frame%s written%s, %llu skipped%s%s", o->key,
        f.written, f.written == 1 ? "" : "s", range, f.skipped,
        f.removed         ? "; the segment was removed"
        : f.consumer_left ? "; the reader of the output went away"
                          : "",
        discarded ? "; none kept: the output was left as it was" : "");
    return status;
}
