/* bench_harness.c - see bench_live.h: the channel (a shmimg segment, or
 * the bare harness: three frame buffers in a plain shared mapping, a
 * counter word with a raw futex wake, a plain memcpy, and no lock, check
 * or retry), the crew of reader processes, and what each reader does. */
#include "bench_live.h"

#include "futex.h"
#include "image.h"

#include <SDL.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- what the processes share ------------------------------------------- */

ctl_block *live_ctl;
char live_failure[512];

int live_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(live_failure, sizeof live_failure, fmt, ap);
    va_end(ap);
    return -1;
}

/* In a reader: says why it failed, for the parent's row. */
static int child_fail(reader_out *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int child_fail(reader_out *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    return -1;
}

void live_reset(void) { memset(live_ctl, 0, sizeof *live_ctl); }

static void signal_ready(void)
{
    atomic_fetch_add(&live_ctl->ready, 1);
    futex_wake(&live_ctl->ready, INT_MAX);
}

/* memcpy that the compiler may not remove (its destination is never
 * read). */
static void copy(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    __asm__ __volatile__("" : : "r"(dst) : "memory");
}

void live_sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- a channel: a segment, or the bare harness's mapping ----------------- */

/* Publishes frame c->frame + 1 from src; *ms (may be NULL) gets the
 * publisher's own time: seg_write_begin to seg_write_end's return, the
 * pixel copy included; for the bare harness the copy and the wake. */
int live_publish(channel *c, const uint8_t *src, double *ms)
{
    int64_t t0 = monotonic_ns();
    uint64_t f = c->frame + 1;
    if (c->bare) {
        copy(c->buf + f % bare_buffers * c->stride, src, c->bytes);
        atomic_store_explicit(&live_ctl->end_ns[f % stamp_ring], monotonic_ns(),
                              memory_order_relaxed);
        atomic_store_explicit(&live_ctl->counter, (uint32_t)f,
                              memory_order_release);
        futex_wake(&live_ctl->counter, INT_MAX);
    } else {
        seg_err err;
        uint8_t *px;
        uint32_t pitch;
        if (seg_write_begin(c->s, (uint32_t)c->v->width, (uint32_t)c->v->height,
                            "live", &px, &pitch, &err) < 0)
            return live_fail("publish: %s", err.msg);
        copy(px, src, c->bytes); /* pitch is width * 4: one block */
        /* Ordered before the readers see the frame by seg_write_end's
         * release store of `latest`. */
        atomic_store_explicit(&live_ctl->end_ns[f % stamp_ring], monotonic_ns(),
                              memory_order_relaxed);
        if (seg_write_end(c->s, true, &err) < 0)
            return live_fail("publish: %s", err.msg);
    }
    c->frame = f;
    if (ms)
        *ms = (double)(monotonic_ns() - t0) / 1e6;
    return 0;
}

void live_close(channel *c)
{
    if (c->s && seg_detach(c->s) == 0) {
        seg_err err; /* someone still held it: a reader not yet gone */
        seg_remove(LIVE_KEY, NULL, &err);
    }
    c->s = NULL;
    if (c->buf)
        munmap(c->buf, c->stride * bare_buffers);
    c->buf = NULL;
}

/* Opens a new channel and publishes once into each buffer, so that every
 * page is present: these rows measure the steady state (row 2 measures
 * first touches). On failure it is closed again. */
int live_open(channel *c, const video *v, bool bare, const uint8_t *src)
{
    memset(c, 0, sizeof *c);
    c->v = v;
    c->bare = bare;
    c->bytes = (size_t)v->width * (size_t)v->height * 4;
    c->stride = (c->bytes + 4095) / 4096 * 4096;
    if (bare) {
        c->buf = mmap(NULL, c->stride * bare_buffers, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (c->buf == MAP_FAILED) {
            c->buf = NULL;
            return live_fail("mmap: %s", strerror(errno));
        }
    } else {
        seg_err err;
        if (seg_attach(LIVE_KEY, SEG_CREATE, &c->s, &err) < 0) {
            c->s = NULL;
            return live_fail("attach: %s", err.msg);
        }
    }
    for (int i = 0; i < bare_buffers; i++)
        if (live_publish(c, src, NULL) < 0) {
            live_close(c);
            return -1;
        }
    unsigned wanted, have = bare ? bare_buffers : seg_buffers(c->s, &wanted);
    if (have != bare_buffers) {
        live_close(c);
        return live_fail("the segment holds %u buffers, not %d", have,
                         bare_buffers);
    }
    return 0;
}

/* Publishes at the video's rate for `seconds`, on absolute deadlines; a
 * publisher that falls a period behind starts again from now rather than
 * bursting to catch up. Each publish's time goes to ms[] (cap at most).
 * Returns: the number of frames published, or -1. */
int live_publish_paced(channel *c, const uint8_t *src, double seconds,
                       double *ms, int cap)
{
    int64_t period = 1000000000 / c->v->fps;
    int frames = (int)(seconds * c->v->fps);
    if (frames > cap)
        frames = cap;
    int64_t next = monotonic_ns();
    for (int i = 0; i < frames; i++) {
        next += period;
        struct timespec at = {(time_t)(next / 1000000000),
                              (long)(next % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) ==
               EINTR)
            ;
        if (live_publish(c, src, ms ? &ms[i] : NULL) < 0)
            return -1;
        int64_t now = monotonic_ns();
        if (now > next + period)
            next = now;
    }
    return frames;
}

/* Readers leave: seg_wait's cancel flag, then a wake for the sleepers. */
void live_stop_readers(const channel *c)
{
    atomic_store(&live_ctl->stop, true);
    if (c->s)
        seg_wake_waiters(c->s);
    else
        futex_wake(&live_ctl->counter, INT_MAX);
}

/* ---- the reader processes ------------------------------------------------ */

/* Forks n readers running body(c, r); each dies with the benchmark. */
int live_crew_start(crew *cr, int n, reader_body body, const channel *c)
{
    memset(cr, 0, sizeof *cr);
    pid_t parent = getpid();
    fflush(stdout);
    for (int r = 0; r < n; r++) {
        pid_t pid = fork();
        if (pid < 0)
            return live_fail("fork: %s", strerror(errno));
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            _exit(body(c, r) < 0 ? 1 : 0);
        }
        cr->pid[cr->n++] = pid;
    }
    return 0;
}

static bool failed_status(int status)
{
    return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* Reaps the readers that have exited. Returns: how many of all failed. */
static int crew_poll(crew *cr)
{
    int failed = 0;
    for (int r = 0; r < cr->n; r++) {
        if (!cr->reaped[r] &&
            waitpid(cr->pid[r], &cr->status[r], WNOHANG) == cr->pid[r])
            cr->reaped[r] = true;
        if (cr->reaped[r] && failed_status(cr->status[r]))
            failed++;
    }
    return failed;
}

/* The first reader's reason for failing, for a row. */
static int crew_failure(const crew *cr)
{
    for (int r = 0; r < cr->n; r++)
        if (cr->reaped[r] && failed_status(cr->status[r])) {
            const char *why = live_ctl->out[r].error;
            if (why[0])
                return live_fail("reader %d: %s", r, why);
            if (WIFSIGNALED(cr->status[r]))
                return live_fail("reader %d killed by signal %d", r,
                                 WTERMSIG(cr->status[r]));
            return live_fail("reader %d exited with %d", r,
                             WEXITSTATUS(cr->status[r]));
        }
    return 0;
}

/* Waits up to timeout_ms for every reader to exit, then continues and
 * kills the rest. Returns: 0, or -1 when a reader failed or was killed. */
int live_crew_end(crew *cr, int timeout_ms)
{
    int64_t deadline = monotonic_ns() + (int64_t)timeout_ms * 1000000;
    bool all;
    do {
        crew_poll(cr);
        all = true;
        for (int r = 0; r < cr->n; r++)
            all = all && cr->reaped[r];
        if (!all)
            live_sleep_ns(2000000);
    } while (!all && monotonic_ns() < deadline);
    for (int r = 0; r < cr->n; r++)
        if (!cr->reaped[r]) {
            kill(cr->pid[r], SIGCONT);
            kill(cr->pid[r], SIGKILL);
            waitpid(cr->pid[r], &cr->status[r], 0);
            cr->reaped[r] = true;
            snprintf(live_ctl->out[r].error, sizeof live_ctl->out[r].error,
                     "still running after %d ms: killed", timeout_ms);
        }
    return crew_failure(cr);
}

/* Waits until n readers are set up. */
int live_await_ready(crew *cr, uint32_t n)
{
    int64_t deadline = monotonic_ns() + (int64_t)ready_timeout_ms * 1000000;
    uint32_t got;
    while ((got = atomic_load(&live_ctl->ready)) < n) {
        if (crew_poll(cr) > 0)
            return crew_failure(cr);
        if (monotonic_ns() > deadline)
            return live_fail("%u of %u readers ready after %d ms", got, n,
                             ready_timeout_ms);
        futex_wait(&live_ctl->ready, got, 100000000);
    }
    return 0;
}

/* Attaches a reader of its own, as a real second process does. */
static int reader_attach(const channel *c, reader_out *out, seg **s)
{
    seg_err err;
    *s = NULL;
    if (c->bare)
        return 0;
    if (seg_attach(LIVE_KEY, SEG_READER, s, &err) < 0) {
        *s = NULL;
        return child_fail(out, "attach: %s", err.msg);
    }
    return 0;
}

/* Rows 9, 10, 12: follows every frame into a private buffer; shmimg with
 * seg_wait + seg_pull, the bare harness with a futex wait and a memcpy.
 * Records each new frame's latency (ms) from its publish end. */
int live_follower(const channel *c, int r)
{
    reader_out *out = &live_ctl->out[r];
    uint8_t *dst = malloc(c->bytes);
    seg *s = NULL;
    int rc = dst ? reader_attach(c, out, &s) : child_fail(out, "out of memory");
    if (rc < 0)
        goto done;
    memset(dst, 0, c->bytes);
    uint32_t seen =
        s ? seg_generation(s)
          : atomic_load_explicit(&live_ctl->counter, memory_order_acquire);
    uint64_t last = c->frame; /* the channel's warm-up frames */
    signal_ready();
    for (;;) {
        uint64_t frame;
        if (s) {
            seg_err err;
            seg_image img;
            uint32_t now;
            int w = seg_wait(s, seen, -1, &live_ctl->stop, &now, &err);
            if (w == SEG_ECANCELED)
                break;
            if (w < 0) {
                rc = child_fail(out, "seg_wait: %s", err.msg);
                break;
            }
            seen = now;
            w = seg_pull(s, dst, c->bytes, &img, &err);
            if (w == SEG_ELAPPED) {
                out->lapped++;
                continue;
            }
            if (w < 0) {
                rc = child_fail(out, "seg_pull: %s", err.msg);
                break;
            }
            frame = img.frame;
        } else {
            uint32_t now;
            while ((now = atomic_load_explicit(&live_ctl->counter,
                                               memory_order_acquire)) == seen &&
                   !atomic_load(&live_ctl->stop))
                futex_wait(&live_ctl->counter, seen, bare_poll_ns);
            if (now == seen)
                break; /* stopped */
            seen = now;
            copy(dst, c->buf + now % bare_buffers * c->stride, c->bytes);
            frame = now;
        }
        int64_t held = monotonic_ns();
        if (frame <= last)
            continue; /* the same frame again */
        out->skipped += frame - last - 1;
        out->received++;
        last = frame;
        int64_t end = atomic_load_explicit(
            &live_ctl->end_ns[frame % stamp_ring], memory_order_relaxed);
        if (out->n < max_samples)
            live_ctl->sample[r][out->n++] = (double)(held - end) / 1e6;
    }
done:
    if (s)
        seg_detach(s);
    free(dst);
    return rc;
}

/* Row 9e: begins a read, copies half the frame, and stops itself there,
 * between seg_read_begin and seg_read_end. */
int live_stopped_reader(const channel *c, int r)
{
    reader_out *out = &live_ctl->out[r];
    seg_err err;
    seg *s;
    seg_view v;
    uint8_t *dst = malloc(c->bytes / 2);
    int rc = dst ? reader_attach(c, out, &s) : child_fail(out, "out of memory");
    if (rc < 0)
        goto done;
    rc = seg_read_begin(s, &v, &err);
    if (rc < 0) {
        rc = child_fail(out, "seg_read_begin: %s", err.msg);
        seg_detach(s);
        goto done;
    }
    seg_copy_out(s, dst, v.pixels, (size_t)v.image.payload_size / 2);
    signal_ready();
    raise(SIGSTOP); /* mid-read; the parent publishes, then continues us */
    out->end_rc = seg_read_end(s, &v, &err);
    seg_detach(s);
done:
    free(dst);
    return rc;
}

/* Row 11: pulls as fast as it can from live_ctl->go until live_ctl->stop; one
 * sample of pulls/s per rate_window_ns. The bare harness's reader copies
 * the newest buffer, whatever happens to it meanwhile. */
int live_puller(const channel *c, int r)
{
    reader_out *out = &live_ctl->out[r];
    uint8_t *dst = malloc(c->bytes);
    seg *s = NULL;
    int rc = dst ? reader_attach(c, out, &s) : child_fail(out, "out of memory");
    if (rc < 0)
        goto done;
    memset(dst, 0, c->bytes);
    signal_ready();
    while (atomic_load(&live_ctl->go) == 0 && !atomic_load(&live_ctl->stop))
        futex_wait(&live_ctl->go, 0, 100000000);
    int64_t start = monotonic_ns();
    uint64_t in_window = 0;
    while (!atomic_load_explicit(&live_ctl->stop, memory_order_relaxed)) {
        seg_err err;
        seg_image img;
        int w = 0;
        if (s)
            w = seg_pull(s, dst, c->bytes, &img, &err);
        else
            copy(dst,
                 c->buf + atomic_load_explicit(&live_ctl->counter,
                                               memory_order_acquire) %
                              bare_buffers * c->stride,
                 c->bytes);
        if (w == SEG_ELAPPED) {
            out->lapped++;
        } else if (w < 0) {
            rc = child_fail(out, "seg_pull: %s", err.msg);
            break;
        } else {
            out->pulls++;
            in_window++;
        }
        int64_t now = monotonic_ns();
        if (now - start >= rate_window_ns && out->n < max_samples) {
            live_ctl->sample[r][out->n++] =
                (double)in_window / ((double)(now - start) / 1e9);
            in_window = 0;
            start = now;
        }
    }
done:
    if (s)
        seg_detach(s);
    free(dst);
    return rc;
}

/* Row 13: the window's display path, on SDL's software renderer (a
 * streaming texture on a surface: no display needed). Displayed frames
 * alternate between the copy-then-upload path (sample[0]) and zero-copy
 * (sample[1]); each sample is the process's CPU time for one frame, from
 * the wait to the end of the upload, in ms. */
int live_window(const channel *c, int r)
{
    reader_out *out = &live_ctl->out[r];
    seg *s = NULL;
    SDL_Surface *screen = NULL, *frame = NULL;
    SDL_Renderer *ren = NULL;
    SDL_Texture *tex = NULL;
    int rc = reader_attach(c, out, &s);
    if (rc < 0)
        goto done;
    screen =
        SDL_CreateRGBSurfaceWithFormat(0, 64, 64, 32, SDL_PIXELFORMAT_RGBA32);
    ren = screen ? SDL_CreateSoftwareRenderer(screen) : NULL;
    tex = ren ? SDL_CreateTexture(ren, SDL_PIXELFORMAT_RGBA32,
                                  SDL_TEXTUREACCESS_STREAMING, c->v->width,
                                  c->v->height)
              : NULL;
    if (!tex) {
        rc = child_fail(out, "software renderer: %s", SDL_GetError());
        goto done;
    }
    uint32_t seen = seg_generation(s);
    signal_ready();
    for (int k = 0;; k++) {
        seg_err err;
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        uint32_t now;
        int w = seg_wait(s, seen, -1, &live_ctl->stop, &now, &err);
        if (w == SEG_ECANCELED)
            break;
        if (w < 0) {
            rc = child_fail(out, "seg_wait: %s", err.msg);
            break;
        }
        seen = now;
        int path = k % 2;
        if (path == 0) {
            seg_image img;
            w = image_pull(s, &frame, &img, &err);
            if (w == 0 &&
                SDL_UpdateTexture(tex, NULL, frame->pixels, frame->pitch) < 0)
                w = seg_fail(&err, SEG_ESYS, "%s", SDL_GetError());
        } else {
            seg_view v;
            int laps = 0;
            do {
                w = seg_read_begin(s, &v, &err);
                if (w < 0)
                    break;
                SDL_UpdateTexture(tex, NULL, v.pixels, (int)v.image.pitch);
                w = seg_read_end(s, &v, &err);
            } while (w == SEG_ELAPPED && ++laps < SEG_MAX_LAPS);
            out->retries += (uint64_t)laps;
        }
        if (w < 0) {
            rc = child_fail(out, "%s: %s", path ? "zero-copy" : "image_pull",
                            err.msg);
            break;
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        out->received++;
        reader_out *o = &live_ctl->out[path]; /* its sample count: out[0].n and
                                                 out[1].n, one per path */
        if (k / 2 >= warmup_frames && o->n < max_samples)
            live_ctl->sample[path][o->n++] =
                (double)(c1.tv_sec - c0.tv_sec) * 1e3 +
                (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
    }
done:
    SDL_FreeSurface(frame);
    SDL_DestroyTexture(tex);
    SDL_DestroyRenderer(ren);
    SDL_FreeSurface(screen);
    if (s)
        seg_detach(s);
    return rc;
}

/* Waits until every reader has stopped itself (SIGSTOP). */
int live_await_stopped(crew *cr)
{
    int64_t deadline = monotonic_ns() + (int64_t)ready_timeout_ms * 1000000;
    for (int r = 0; r < cr->n; r++) {
        int status;
        pid_t got;
        while ((got = waitpid(cr->pid[r], &status, WUNTRACED | WNOHANG)) == 0 &&
               monotonic_ns() < deadline)
            live_sleep_ns(1000000);
        if (got == cr->pid[r] && WIFSTOPPED(status))
            continue;
        if (got == cr->pid[r]) {
            cr->reaped[r] = true;
            cr->status[r] = status;
            return crew_failure(cr) < 0
                       ? -1
                       : live_fail("reader %d exited early", r);
        }
        return live_fail("reader %d did not stop within %d ms", r,
                         ready_timeout_ms);
    }
    return 0;
}
