/* frames.c - the frames of layout.h: publishing (seg_write_begin/end:
 * pick_buffer, relayout, then the seqlock's odd and even seq), reading
 * (find_frame, seg_read_begin/end) and the copies out (seg_pull). The
 * lifetime of the handle is segment.c's.
 */
#include "segment_internal.h"

#include "futex.h"
#include "guard.h"
#include "shlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A reader waiting for the writer of the only candidate buffer sleeps on
 * `latest` at most this long between looks at the writer's liveness. */
static const int writer_check_ms = 20;

/* ---- finding the newest frame (readers write nothing) ------------------- */

/* Whether a publisher may still be writing: the lock is held by a live
 * owner other than us (we never read while we write). */
static bool writer_alive(seg *s)
{
    uint32_t w = atomic_load(&s->hdr->lock_word) & SHLOCK_TOKEN_MASK;
    return w != 0 && w != s->token && seg_owner_alive(s, w);
}

static uint32_t load_seq(const shmimg_buffer *b, memory_order order)
{
    return atomic_load_explicit(&((shmimg_buffer *)b)->seq, order);
}

/* Steps 1-4 of "Read" in layout.h. wait_ms: how long to wait while the
 * newest buffer is being written (0: report it as incomplete at once).
 * Returns: 0 with *v; EEMPTY, EINCOMPLETE, ECORRUPT, ETIMEDOUT, ELAPPED. */
int seg_find_frame(seg *s, seg_view *v, int wait_ms, seg_err *err)
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
            return seg_fail_truncated(s, err);
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
            rc = seg_cover(
                s, offset + v->image.payload_size - s->payload_offset, err);
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
    int rc = seg_reserve(s->fd, s->payload_offset + i * stride, stride, s->path,
                         err);
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
    rc = seg_cover(s, (uint64_t)n * stride, err);
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
    int rc = seg_cover(s, (uint64_t)count * stride, err);
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
    int rc = seg_become_owner(s, err);
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
    rc = seg_check_intact(s, err);
    if (rc == 0)
        rc = seg_snapshot_header(s, &snap, &file_size, err);
    /* Smaller than what we mapped: truncated; growing it again would
     * bring back zeros where the frames were. */
    if (rc == 0 && file_size < s->payload_offset + s->payload_len)
        rc = seg_fail_truncated(s, err);
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
    return atomic_load(&s->lost) ? seg_fail_truncated(s, err) : 0;
}

/* ---- reading ------------------------------------------------------------ */

int seg_read_begin(seg *s, seg_view *v, seg_err *err)
{
    return seg_find_frame(s, v, s->lock_timeout_ms, err);
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
        if (laps >= 2 && !s->read_only && !seg_inherited(s) &&
            seg_buffers(s, NULL) == 1) {
            borrowed = !s->token && seg_take_slot(s, NULL) == 0;
            locked = s->token && seg_lock(s, NULL) >= 0;
        }
        rc = pull_once(s, dst, dst_size, img, err);
        if (locked)
            seg_unlock(s);
        if (borrowed)
            seg_drop_slot(s);
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
