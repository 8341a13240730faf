/* api.c - libshmimg's public API (src/libshmimg/include/shmimg.h): a thin layer over
 * the segment (src/core/segment.h), whose codes it passes on (errors.h:
 * one set), that keeps the last message per thread, converts pixel formats
 * on publish and row pitches on pull. Everything here but the shmimg_*
 * functions is static; the library is built with -fvisibility=hidden, so
 * the segment's own functions are not exported either. */
#include "api_internal.h"
#include "escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SHMIMG_VERSION
#error "SHMIMG_VERSION is defined by CMake (the project's version)"
#endif

struct shmimg {
    seg *s;
    bool reader;
    pid_t pid;           /* getpid() at open: the handle's process */
    uint64_t seen_frame; /* the last frame pulled; 0: none */
};

/* Escaped (escape_display): a message names keys, files and SDL's words,
 * which are anyone's bytes, and callers print it. An escape is at most 4
 * bytes for one byte of input, so a message of SEG_ERR_MSG_MAX bytes
 * always fits whole. */
static _Thread_local char last_msg[4 * SEG_ERR_MSG_MAX];

/* One set of codes (errors.h): the core's public ones are shmimg.h's. */
#define SAME(pub, seg) _Static_assert((int)(pub) == (int)(seg), #pub)
SAME(SHMIMG_ERR_NO_SEGMENT, SEG_ENOSEG);
SAME(SHMIMG_ERR_EMPTY, SEG_EEMPTY);
SAME(SHMIMG_ERR_INCOMPLETE, SEG_EINCOMPLETE);
SAME(SHMIMG_ERR_CORRUPT, SEG_ECORRUPT);
SAME(SHMIMG_ERR_VERSION, SEG_EVERSION);
SAME(SHMIMG_ERR_PERMISSION, SEG_EPERM);
SAME(SHMIMG_ERR_NOT_FILE, SEG_ENOTFILE);
SAME(SHMIMG_ERR_KEY, SEG_EKEY);
SAME(SHMIMG_ERR_NOT_IMAGE, SEG_ENOTIMAGE);
SAME(SHMIMG_ERR_TOO_BIG, SEG_ETOOBIG);
SAME(SHMIMG_ERR_NO_SPACE, SEG_ENOSPACE);
SAME(SHMIMG_ERR_TIMEOUT, SEG_ETIMEDOUT);
SAME(SHMIMG_ERR_TOO_MANY, SEG_ETOOMANY);
SAME(SHMIMG_ERR_SYSTEM, SEG_ESYS);
SAME(SHMIMG_ERR_ARGUMENT, SEG_EINVAL);
SAME(SHMIMG_ERR_SMALL_BUFFER, SEG_ESMALL);
SAME(SHMIMG_ERR_SETTING, SEG_ESETTING);
SAME(SHMIMG_ERR_GONE, SEG_EGONE);
SAME(SHMIMG_ERR_LAPPED, SEG_ELAPPED);
SAME(SHMIMG_ERR_READ_ONLY, SEG_EREADONLY);
#undef SAME

int shmimg_set_error(int code, const char *fmt, ...)
{
    char raw[SEG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_display(raw, last_msg, sizeof last_msg);
    return code;
}

int shmimg__failed(int code, const seg_err *err)
{
    if (code < SEG_PUBLIC_LAST)
        code = SHMIMG_ERR_SYSTEM; /* the executables' own: never expected */
    return shmimg_set_error(code, "%s",
                            err->msg[0] ? err->msg : seg_strerror(code));
}

const char *shmimg_version(void) { return SHMIMG_VERSION; }

const char *shmimg_last_error(void) { return last_msg; }

const char *shmimg_strerror(int code) { return seg_strerror(code); }

/* ---- handles -------------------------------------------------------------- */

/* A publisher's handle inherited through fork(): its attach slot, lock
 * token and persist flag are the parent's, so the child may only close it
 * (seg_detach then unmaps and closes, touching nothing of the parent's).
 * A reader holds nothing: it may read and close in a child as in its
 * parent. */
static bool inherited(const shmimg *h)
{
    return !h->reader && h->pid != getpid();
}

static int fail_inherited(const shmimg *h)
{
    return shmimg_set_error(SHMIMG_ERR_ARGUMENT,
                            "%s: this publisher handle belongs to pid %ld, "
                            "the process that opened it; after fork() open "
                            "one of your own",
                            seg_file(h->s), (long)h->pid);
}

static int open_as(const char *key, bool reader, shmimg **out)
{
    if (!key || !out)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT,
                                "key and out must not be NULL");
    *out = NULL;
    shmimg *h = calloc(1, sizeof *h);
    if (!h)
        return shmimg_set_error(SHMIMG_ERR_SYSTEM, "out of memory");
    seg_err err = {0};
    /* A reader holds no slot: it never keeps a segment alive nor removes
     * it (segment.h). */
    int rc = seg_attach(key, reader ? SEG_READER : SEG_CREATE, &h->s, &err);
    if (rc < 0)
        goto fail;
    h->reader = reader;
    h->pid = getpid();
    *out = h;
    last_msg[0] = '\0';
    return SHMIMG_OK;
fail:
    free(h);
    return shmimg__failed(rc, &err);
}

int shmimg_publisher_open(const char *key, shmimg **out)
{
    return open_as(key, false, out);
}

int shmimg_reader_open(const char *key, shmimg **out)
{
    return open_as(key, true, out);
}

void shmimg_close(shmimg *h)
{
    if (!h)
        return;
    seg_detach(h->s); /* in a child: unmaps and closes, nothing more */
    free(h);
}

int shmimg_set_persist(shmimg *h, int persist)
{
    if (!h)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "no handle");
    if (h->reader)
        return shmimg_set_error(SHMIMG_ERR_READ_ONLY,
                                "%s: a reader cannot keep the segment",
                                seg_file(h->s));
    if (inherited(h))
        return fail_inherited(h);
    seg_set_persist(h->s, persist != 0);
    return SHMIMG_OK;
}

/* ---- publish -------------------------------------------------------------- */

/* The bytes that height rows of row bytes, pitch bytes apart, span from
 * the first byte of the first to the last byte of the last:
 * (height - 1) * pitch + row. Returns: false when that overflows size_t. */
static bool rows_span(uint32_t height, size_t pitch, size_t row, size_t *span)
{
    size_t gaps = height ? height - 1u : 0;
    if (gaps && pitch > (SIZE_MAX - row) / gaps)
        return false;
    *span = gaps * pitch + row;
    return true;
}

/* Whether span bytes from p can be one object of the caller's: no larger
 * than PTRDIFF_MAX (C's limit) and not past the end of the address space.
 * What lies below that is the caller's word. */
static bool addressable(const void *p, size_t span)
{
    return span <= PTRDIFF_MAX && (uintptr_t)p <= UINTPTR_MAX - span;
}

static unsigned bytes_per_pixel(shmimg_pixel_format format)
{
    switch (format) {
    case SHMIMG_PIXEL_RGBA8:
    case SHMIMG_PIXEL_BGRA8: return 4;
    case SHMIMG_PIXEL_RGB8: return 3;
    case SHMIMG_PIXEL_GRAY8: return 1;
    }
    return 0;
}

static void convert_row(uint8_t *dst, const uint8_t *src, uint32_t width,
                        shmimg_pixel_format format)
{
    switch (format) {
    case SHMIMG_PIXEL_RGBA8: memcpy(dst, src, (size_t)width * 4); break;
    case SHMIMG_PIXEL_BGRA8:
        for (uint32_t x = 0; x < width; x++, dst += 4, src += 4) {
            dst[0] = src[2], dst[1] = src[1], dst[2] = src[0];
            dst[3] = src[3];
        }
        break;
    case SHMIMG_PIXEL_RGB8:
        for (uint32_t x = 0; x < width; x++, dst += 4, src += 3) {
            dst[0] = src[0], dst[1] = src[1], dst[2] = src[2];
            dst[3] = 255;
        }
        break;
    case SHMIMG_PIXEL_GRAY8:
        for (uint32_t x = 0; x < width; x++, dst += 4, src++) {
            dst[0] = dst[1] = dst[2] = *src;
            dst[3] = 255;
        }
        break;
    }
}

int shmimg_publish(shmimg *h, const void *pixels, uint32_t width,
                   uint32_t height, size_t pitch, shmimg_pixel_format format,
                   const char *source_name)
{
    unsigned bpp = bytes_per_pixel(format);
    if (!h || !pixels)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "no handle or no pixels");
    if (bpp == 0)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "unknown pixel format %d",
                                (int)format);
    if (width == 0 || height == 0)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "%ux%u: no pixels", width,
                                height);
    if (width > SEG_MAX_DIMENSION || height > SEG_MAX_DIMENSION)
        return shmimg_set_error(SHMIMG_ERR_TOO_BIG,
                                "%ux%u: over %u pixels wide or high", width,
                                height, SEG_MAX_DIMENSION);
    size_t row = (size_t)width * bpp; /* < 2^22 */
    if (pitch == 0)
        pitch = row;
    if (pitch < row)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT,
                                "pitch %zu is less than a row's %zu bytes",
                                pitch, row);
    size_t span;
    if (!rows_span(height, pitch, row, &span) || !addressable(pixels, span))
        return shmimg_set_error(
            SHMIMG_ERR_ARGUMENT,
            "pitch %zu: %u rows of %zu bytes that far apart "
            "run past the end of memory",
            pitch, height, row);
    if (h->reader)
        return shmimg_set_error(SHMIMG_ERR_READ_ONLY,
                                "%s: opened as a reader, cannot publish",
                                seg_file(h->s));
    if (inherited(h))
        return fail_inherited(h);
    seg_err err = {0};
    uint8_t *dst;
    uint32_t dst_pitch;
    int rc = seg_write_begin(h->s, width, height, source_name, &dst, &dst_pitch,
                             &err);
    if (rc < 0)
        return shmimg__failed(rc, &err);
    const uint8_t *src = pixels;
    if (format == SHMIMG_PIXEL_RGBA8 && pitch == dst_pitch)
        memcpy(dst, src, (size_t)dst_pitch * height);
    else
        for (uint32_t y = 0; y < height; y++)
            convert_row(dst + (size_t)y * dst_pitch, src + (size_t)y * pitch,
                        width, format);
    rc = seg_write_end(h->s, true, &err);
    if (rc < 0)
        return shmimg__failed(rc, &err);
    return SHMIMG_OK;
}

/* ---- pull ----------------------------------------------------------------- */

static void to_frame(const seg_image *img, shmimg_frame *f)
{
    if (!f)
        return;
    memset(f, 0, sizeof *f);
    f->width = img->width;
    f->height = img->height;
    f->pitch = img->pitch;
    f->publisher_pid = img->publisher_pid;
    f->frame = img->frame;
    f->publish_time_ns = img->publish_time_ns;
    snprintf(f->source_name, sizeof f->source_name, "%s", img->source_name);
}

/* Copies the frame of v row by row to dst_pitch-spaced rows. */
static void copy_rows(seg *s, const seg_view *v, uint8_t *dst, size_t dst_pitch)
{
    size_t row = (size_t)v->image.width * SHMIMG_BYTES_PER_PIXEL;
    for (uint32_t y = 0; y < v->image.height; y++)
        seg_copy_out(s, dst + (size_t)y * dst_pitch,
                     v->pixels + (size_t)y * v->image.pitch, row);
}

int shmimg_pull(shmimg *h, void *dst, size_t dst_pitch, size_t dst_size,
                shmimg_frame *frame)
{
    if (!h || (!dst && dst_size))
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "no handle or no buffer");
    if (!addressable(dst, dst_size))
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT,
                                "dst_size %zu runs past the end of memory",
                                dst_size);
    if (inherited(h))
        return fail_inherited(h);
    seg_err err = {0};
    int rc = SEG_ELAPPED;
    seg_image img = {0};
    for (int laps = 0; laps < SEG_MAX_LAPS && rc == SEG_ELAPPED; laps++) {
        seg_view v;
        rc = seg_read_begin(h->s, &v, &err);
        if (rc < 0)
            continue;
        img = v.image;
        /* dst was sized for an earlier frame, maybe: a frame that does not
         * fit its rows or its size is the caller's cue to allocate again,
         * not a bad argument. */
        size_t row = (size_t)img.width * SHMIMG_BYTES_PER_PIXEL;
        size_t pitch = dst_pitch ? dst_pitch : row;
        size_t span;
        if (pitch < row || !rows_span(img.height, pitch, row, &span) ||
            span > dst_size) {
            to_frame(&img, frame);
            if (pitch < row)
                return shmimg_set_error(SHMIMG_ERR_SMALL_BUFFER,
                                        "%s: frame %llu is %ux%u, rows of %zu "
                                        "bytes, wider than dst_pitch %zu",
                                        seg_file(h->s),
                                        (unsigned long long)img.frame,
                                        img.width, img.height, row, dst_pitch);
            return shmimg_set_error(
                SHMIMG_ERR_SMALL_BUFFER,
                "%s: frame %llu is %ux%u (%u rows %zu bytes "
                "apart), dst has %zu bytes",
                seg_file(h->s), (unsigned long long)img.frame, img.width,
                img.height, img.height, pitch, dst_size);
        }
        if (pitch == img.pitch && img.payload_size <= dst_size) {
            /* The segment's own rows: seg_pull's copy, which also knows
             * how to read one buffer under an unpaced publisher. */
            rc = seg_pull(h->s, dst, dst_size, &img, &err);
            /* seg_pull reads the frame newest by then: one too large for
             * dst, or one whose rows are packed at another pitch than
             * dst's, is read again, and sized again. */
            if (rc == SEG_EINVAL || (rc == 0 && img.pitch != pitch))
                rc = SEG_ELAPPED;
            else
                break; /* seg_pull did its own laps */
            continue;
        }
        copy_rows(h->s, &v, dst, pitch);
        rc = seg_read_end(h->s, &v, &err);
    }
    if (rc < 0)
        return shmimg__failed(rc, &err);
    h->seen_frame = img.frame;
    to_frame(&img, frame);
    return SHMIMG_OK;
}

int shmimg_peek(shmimg *h, shmimg_frame *frame)
{
    if (!h)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "no handle");
    if (inherited(h))
        return fail_inherited(h);
    seg_err err = {0};
    int rc = SEG_ELAPPED;
    seg_view v;
    for (int laps = 0; laps < SEG_MAX_LAPS && rc == SEG_ELAPPED; laps++) {
        rc = seg_read_begin(h->s, &v, &err);
        if (rc == 0)
            rc = seg_read_end(h->s, &v, &err);
    }
    if (rc < 0)
        return shmimg__failed(rc, &err);
    to_frame(&v.image, frame);
    return SHMIMG_OK;
}

/* ---- waiting -------------------------------------------------------------- */

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int shmimg_wait(shmimg *h, int timeout_ms)
{
    if (!h)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "no handle");
    if (inherited(h))
        return fail_inherited(h);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : monotonic_ms() + timeout_ms;
    for (bool first = true;; first = false) {
        /* latest: the frame number mod 2^30 above the buffer index (0
         * before the first publish). */
        uint32_t g = seg_generation(h->s);
        if (g != 0 && g >> 2 != (uint32_t)(h->seen_frame & 0x3fffffffu))
            return SHMIMG_OK;
        /* seg_wait looks at the file every 250 ms of one wait: a caller
         * that waits in shorter slices (to run signal handlers between
         * them) would never learn that it was removed. */
        seg_err err = {0};
        int rc = first ? seg_check(h->s, &err) : 0;
        if (rc < 0)
            return shmimg__failed(rc, &err);
        int64_t left = deadline == INT64_MAX ? -1 : deadline - monotonic_ms();
        if (deadline != INT64_MAX && left <= 0)
            return shmimg_set_error(SHMIMG_ERR_TIMEOUT,
                                    "%s: no new frame in %d ms", seg_file(h->s),
                                    timeout_ms);
        rc = seg_wait(h->s, g, left > INT32_MAX ? INT32_MAX : (int)left, NULL,
                      NULL, &err);
        if (rc < 0 && rc != SEG_ETIMEDOUT)
            return shmimg__failed(rc, &err);
    }
}

/* ---- segments by key ------------------------------------------------------ */

int shmimg_remove(const char *key)
{
    if (!key)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "no key");
    seg_err err = {0};
    int rc = seg_remove(key, NULL, &err);
    return rc < 0 ? shmimg__failed(rc, &err) : SHMIMG_OK;
}

void shmimg_free(void *p) { free(p); }
