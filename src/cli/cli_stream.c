/* cli_stream.c - shmimg as a stream's source: 'publish --raw' reads raw
 * RGBA frames from a file, a FIFO or stdin and publishes each one, and
 * 'publish ANIMATION.gif' plays one; the other end, 'pull --follow', is
 * cli_follow.c.
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
