/* cli_stream.c - shmimg as a stream endpoint: 'publish --raw' reads raw
 * RGBA frames from a file, a FIFO or stdin and publishes each one;
 * 'pull --follow' writes every new frame, raw or as numbered images.
 *
 * Both wait in quit_wait (cli_common.h), a ppoll with the quit signals
 * open only there, so that a signal is never lost between a check and a
 * blocking call, and a stream that stalls can still be stopped; a quit
 * signal that is pending when the input is already readable (a regular
 * file, /dev/zero, a fast pipe) is let in there too, before each read.
 * Every read and write between two waits is bounded: a read returns what
 * poll said was there, a write to the output is non-blocking.
 */
#include "cli_stream.h"

#include "anim.h"
#include "image.h"
#include "save.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The range of --fps: a frame a minute to a frame a millisecond. */
static const double min_fps = 1.0 / 60, max_fps = 1000;

int stream_parse_size(const char *text, uint32_t *w, uint32_t *h, seg_err *err)
{
    unsigned long long a = 0, b = 0;
    const char *p = text;
    bool ok = *p >= '1' && *p <= '9';
    while (ok && *p >= '0' && *p <= '9' && a <= SEG_MAX_DIMENSION)
        a = a * 10 + (unsigned)(*p++ - '0');
    ok = ok && *p++ == 'x' && *p >= '1' && *p <= '9';
    while (ok && *p >= '0' && *p <= '9' && b <= SEG_MAX_DIMENSION)
        b = b * 10 + (unsigned)(*p++ - '0');
    if (!ok || *p)
        return seg_fail(err, SEG_EINVAL,
                        "--raw needs WIDTHxHEIGHT in pixels, like 640x360, "
                        "got '%s'",
                        text);
    if (a > SEG_MAX_DIMENSION || b > SEG_MAX_DIMENSION)
        return seg_fail(err, SEG_ETOOBIG, "--raw %s: at most %u pixels a side",
                        text, SEG_MAX_DIMENSION);
    if (a * b > image_max_pixels())
        return seg_fail(err, SEG_ETOOBIG,
                        "--raw %s: %llu pixels is over the limit of %llu "
                        "(SHMIMG_MAX_PIXELS)",
                        text, a * b, (unsigned long long)image_max_pixels());
    *w = (uint32_t)a;
    *h = (uint32_t)b;
    return 0;
}

int stream_parse_fps(const char *text, double *fps, seg_err *err)
{
    char *end;
    errno = 0;
    double f = strtod(text, &end);
    if (strspn(text, "0123456789.") != strlen(text) || text[0] == '.' ||
        errno || *end || !(f >= min_fps) || f > max_fps)
        return seg_fail(err, SEG_EINVAL,
                        "--fps needs frames per second, from %g to %g "
                        "(like 30 or 29.97), got '%s'",
                        min_fps, max_fps, text);
    *fps = f;
    return 0;
}

static int wait_for(int fd, int64_t deadline)
{
    return quit_wait(fd, POLLIN, deadline);
}

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

/* ---- publish --raw ------------------------------------------------------- */

/* Reads one whole frame of size bytes into buf.
 * Returns: 1 a frame; 0 end of stream at a frame boundary; SEG_ECANCELED
 * quit;
 * otherwise an error (SEG_EINCOMPLETE: the stream ended mid-frame,
 * *got bytes into it). */
static int read_frame(int fd, uint8_t *buf, size_t size, size_t *got,
                      const char *name, seg_err *err)
{
    *got = 0;
    while (*got < size) {
        int w = wait_for(fd, -1);
        if (w < 0)
            return SEG_ECANCELED;
        ssize_t n = read(fd, buf + *got, size - *got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return seg_fail(err, SEG_ESYS, "%s: read: %s", name,
                            strerror(errno));
        if (n == 0)
            return *got == 0 ? 0 : SEG_EINCOMPLETE;
        *got += (size_t)n;
    }
    return 1;
}

static int publish_frame(seg *s, const uint8_t *frame, uint32_t w, uint32_t h,
                         const char *name, seg_err *err)
{
    uint8_t *px;
    uint32_t pitch;
    int rc = seg_write_begin(s, w, h, name, &px, &pitch, err);
    if (rc < 0)
        return rc;
    size_t row = (size_t)w * 4;
    if (pitch == row)
        memcpy(px, frame, row * h);
    else
        for (uint32_t y = 0; y < h; y++)
            memcpy(px + (size_t)y * pitch, frame + y * row, row);
    return seg_write_end(s, true, err);
}

/* A raw input: where the frames come from, and one frame's buffer. */
typedef struct raw_in {
    int fd;
    bool from_stdin;
    const char *name; /* for people: "standard input", or the path */
    const char *base; /* published as the source: "stdin", or the base name */
    uint32_t w, h;
    size_t size; /* bytes of a frame */
    uint8_t *frame;
} raw_in;

/* Opens source ("-": standard input) for w x h frames, the quit signals
 * held first (they are let in only where we wait: read_frame).
 * Returns: 0, or EXIT_FAILURE after saying why. */
static int open_raw_in(raw_in *in, const char *source, uint32_t w, uint32_t h)
{
    bool from_stdin = strcmp(source, "-") == 0;
    const char *slash = strrchr(source, '/');
    *in = (raw_in){.fd = -1,
                   .from_stdin = from_stdin,
                   .name = from_stdin ? "standard input" : source,
                   .base = from_stdin ? "stdin"
                           : slash    ? slash + 1
                                      : source,
                   .w = w,
                   .h = h,
                   .size = (size_t)w * h * 4};
    if (from_stdin && (closed_stdio & 1u << STDIN_FILENO)) {
        say("standard input is closed: no frames to read");
        return EXIT_FAILURE;
    }
    in->frame = malloc(in->size);
    if (!in->frame) {
        say("cannot allocate a %ux%u frame (%zu bytes)", w, h, in->size);
        return EXIT_FAILURE;
    }
    hold_quit_signals();
    in->fd = from_stdin ? STDIN_FILENO
                        : open(source, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (in->fd < 0) {
        say("%s: %s", source, strerror(errno));
        free(in->frame);
        return EXIT_FAILURE;
    }
    /* A FIFO opened O_NONBLOCK has no writer yet: reads say EOF until one
     * comes. Wait for the first byte with poll, then read blocking. */
    if (!from_stdin)
        fcntl(in->fd, F_SETFL, fcntl(in->fd, F_GETFL) & ~O_NONBLOCK);
    return 0;
}

static void close_raw_in(raw_in *in)
{
    free(in->frame);
    if (!in->from_stdin)
        close(in->fd);
}

/* Reads frames from in and publishes each, paced at fps (0: as they come),
 * until the input ends, a quit signal, or a failure (said). The segment is
 * made with the first whole frame (*s; NULL while none came).
 * Returns: 0 or EXIT_FAILURE; *frames: how many were published. */
static int publish_frames(const opts *o, raw_in *in, double fps, seg **s,
                          unsigned long long *frames)
{
    seg_err err;
    unsigned o_buffers = SHMIMG_MAX_BUFFERS + 1; /* noted so far */
    int64_t start = 0;
    int status = 0;
    for (;;) {
        size_t got;
        int rc = read_frame(in->fd, in->frame, in->size, &got, in->name, &err);
        if (rc < 0 && rc != SEG_ECANCELED) {
            if (rc == SEG_EINCOMPLETE)
                say("%s ended %zu bytes into frame %llu; a %ux%u RGBA frame "
                    "is %zu bytes; that frame was not published%s",
                    in->name, got, *frames + 1, in->w, in->h, in->size,
                    *frames ? " (the previous one stays as it was)" : "");
            else
                say("%s", err.msg);
            return EXIT_FAILURE;
        }
        if (rc == SEG_ECANCELED || rc == 0)
            return status;
        if (!*s) {
            /* The first whole frame: only now does a segment appear. */
            note_dir_kind();
            rc = seg_attach(o->key, SEG_CREATE | seg_create_flag(o->share), s,
                            &err);
            if (rc == 0)
                rc = seg_set_share(*s, o->share, &err);
            if (rc < 0)
                return failure(&err, o->key);
            start = clock_ns();
        }
        if (fps > 0) {
            int64_t due = start + (int64_t)((double)*frames * 1e9 / fps);
            if (wait_for(-1, due) < 0)
                return status;
        }
        rc = publish_frame(*s, in->frame, in->w, in->h, in->base, &err);
        if (rc < 0)
            return failure(&err, o->key);
        /* From the first frame on, not before: a stream that fails later
         * keeps what it published; one that published nothing leaves
         * nothing. */
        if (*frames == 0 && o->persist)
            seg_set_persist(*s, true);
        /* The ring takes its buffers as it fills: a full SHMIMG_DIR shows
         * in the first frames. */
        if (*frames < SHMIMG_MAX_BUFFERS && seg_buffers(*s, NULL) < o_buffers) {
            o_buffers = seg_buffers(*s, NULL);
            note_buffers(*s);
        }
        if ((*frames)++ == 0) {
            out("Publishing %ux%u RGBA frames from %s under key %s in %s",
                in->w, in->h, in->name, o->key, seg_file(*s));
            status = finish_stdout(status, false);
        }
    }
}

/* Says how the stream ended; without --persist, a stream that ended by
 * itself keeps its last frame published until a quit signal.
 * Returns: the command's status. */
static int end_of_stream(const opts *o, const char *name, seg *s, int status,
                         unsigned long long frames)
{
    bool quit = atomic_load(&quit_asked);
    if (!s) {
        if (status == 0 && !quit)
            say("%s: no frame came: nothing was published", name);
        return status ? status : quit ? 0 : EXIT_FAILURE;
    }
    const char *plural = frames == 1 ? "" : "s";
    if (status == 0 && !quit && o->persist) {
        out("End of %s after %llu frame%s; the last stays under key %s "
            "until 'shmimg rm --key %s'",
            name, frames, plural, o->key, o->key);
    } else if (status == 0 && !quit) {
        out("End of %s after %llu frame%s; the last stays published until "
            "SIGINT or SIGTERM",
            name, frames, plural);
        finish_stdout(0, false);
        wait_for(-1, -1);
    } else if (quit) {
        out("Stopped after %llu frame%s", frames, plural);
    }
    status = finish_stdout(status, false);
    seg_detach(s);
    return status;
}

int stream_publish(const opts *o, const char *source)
{
    seg_err err;
    uint32_t w, h;
    double fps = 0;
    if (stream_parse_size(o->raw, &w, &h, &err) < 0)
        return usage_error("publish", STREAM_PUBLISH_USAGE, "%s", err.msg);
    if (o->fps && stream_parse_fps(o->fps, &fps, &err) < 0)
        return usage_error("publish", STREAM_PUBLISH_USAGE, "%s", err.msg);
    raw_in in;
    if (open_raw_in(&in, source, w, h) != 0)
        return EXIT_FAILURE;
    seg *s = NULL;
    unsigned long long frames = 0;
    int status = publish_frames(o, &in, fps, &s, &frames);
    close_raw_in(&in);
    return end_of_stream(o, in.name, s, status, frames);
}

/* ---- publish ANIMATION.gif ------------------------------------------------ */

int stream_play(const opts *o, const image_anim *anim, const char *path)
{
    seg_err err;
    hold_quit_signals();
    note_dir_kind();
    seg *s;
    int rc =
        seg_attach(o->key, SEG_CREATE | seg_create_flag(o->share), &s, &err);
    if (rc < 0)
        return failure(&err, o->key);
    rc = seg_set_share(s, o->share, &err);
    if (rc < 0) {
        seg_detach(s);
        return failure(&err, o->key);
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int status = 0;
    bool announced = false;
    int64_t due = clock_ns();
    for (int i = 0;; i = (i + 1) % anim->count) {
        rc = image_publish(s, anim->frames[i], path, &err);
        if (rc < 0) {
            status = failure(&err, o->key);
            break;
        }
        if (!announced) {
            announced = true;
            note_buffers(s);
            out("Playing %s (%dx%d, %d frames, %.2f s a loop) under key %s "
                "in %s until SIGINT or SIGTERM",
                base, anim->width, anim->height, anim->count,
                (double)anim->loop_ms / 1000, o->key, seg_file(s));
            status = finish_stdout(status, false);
        }
        /* Absolute deadlines: the delays add up without drift. */
        due += (int64_t)anim->delays_ms[i] * 1000000;
        int64_t now = clock_ns();
        if (due < now - 1000000000)
            due = now; /* far behind (the machine slept): no burst */
        if (wait_for(-1, due) < 0)
            break;
    }
    char file[SEG_PATH_MAX];
    snprintf(file, sizeof file, "%s", seg_file(s));
    if (seg_detach(s))
        say("stopped playing; removed %s (last user)", file);
    else if (status == 0)
        say("stopped playing; detached from %s", file);
    return status;
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
