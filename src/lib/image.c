/* image.c - decode with SDL_image, convert into the segment, copy out. */
#include "image.h"

#include "probe.h"

#include <SDL_image.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t image_max_pixels(void)
{
    const char *s = getenv("SHMIMG_MAX_PIXELS");
    if (s && *s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == 0 && *end == '\0' && v > 0)
            return v;
    }
    return IMAGE_DEFAULT_MAX_PIXELS;
}

/* ---- the allocation ceiling ---------------------------------------------- */

static SDL_malloc_func real_malloc;
static SDL_calloc_func real_calloc;
static SDL_realloc_func real_realloc;
static size_t ceiling;             /* bytes */
static _Thread_local bool refused; /* an allocation of ours hit it */

static void *capped_malloc(size_t n)
{
    if (n > ceiling) {
        refused = true;
        return NULL;
    }
    return real_malloc(n);
}

static void *capped_calloc(size_t count, size_t size)
{
    if (size && count > ceiling / size) {
        refused = true;
        return NULL;
    }
    return real_calloc(count, size);
}

static void *capped_realloc(void *p, size_t n)
{
    if (n > ceiling) {
        refused = true;
        return NULL;
    }
    return real_realloc(p, n);
}

static void install_ceiling(void)
{
    /* Surfaces are SIMD-aligned and may carry a palette: some slack. */
    ceiling = (size_t)image_max_pixels() * SHMIMG_BYTES_PER_PIXEL + (1u << 20);
    SDL_free_func real_free;
    SDL_GetMemoryFunctions(&real_malloc, &real_calloc, &real_realloc,
                           &real_free);
    /* Ours only check and pass on, so memory from before is still freed
     * by the same allocator. */
    SDL_SetMemoryFunctions(capped_malloc, capped_calloc, capped_realloc,
                           real_free);
}

size_t image_limit_allocations(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_ceiling);
    return ceiling;
}

static int check_pixels(const char *path, uint64_t w, uint64_t h,
                        const char *when, shmimg_err *err)
{
    uint64_t limit = image_max_pixels();
    if (w > SEG_MAX_DIMENSION || h > SEG_MAX_DIMENSION || w * h > limit)
        return shmimg_fail(err, SHMIMG_ETOOBIG,
                           "%s: image of %llux%llu pixels is over the limit of "
                           "%llu pixels (SHMIMG_MAX_PIXELS)%s",
                           path, (unsigned long long)w, (unsigned long long)h,
                           (unsigned long long)limit, when);
    return 0;
}

int image_probe_file(const char *path, int *width, int *height)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    probe_size size;
    int rc = probe_image_size(f, &size);
    fclose(f);
    if (rc < 0 || size.width == 0 || size.height == 0 ||
        size.width > SEG_MAX_DIMENSION || size.height > SEG_MAX_DIMENSION)
        return -1;
    *width = (int)size.width;
    *height = (int)size.height;
    return 0;
}

int image_load(const char *path, SDL_Surface **out, shmimg_err *err)
{
    *out = NULL;
    /* Open first and check what we opened: O_NONBLOCK so that a FIFO
     * cannot hang us, and fstat so the checks apply to the very file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return shmimg_fail(err, e == EACCES ? SHMIMG_EPERM : SHMIMG_ESYS,
                           "%s: cannot read it: %s", path, strerror(e));
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = shmimg_fail(err, SHMIMG_ESYS, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = shmimg_fail(err, SHMIMG_ENOTIMAGE, "%s (a directory)", path);
    else if (!S_ISREG(st.st_mode))
        rc = shmimg_fail(err, SHMIMG_ENOTIMAGE, "%s (not a regular file)",
                         path);
    else if (st.st_size == 0)
        rc = shmimg_fail(err, SHMIMG_ENOTIMAGE, "%s (empty: 0 bytes)", path);
    FILE *f = rc == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (rc == 0)
            rc = shmimg_fail(err, SHMIMG_ESYS, "%s: %s", path,
                             strerror(errno));
        close(fd);
        return rc;
    }

    probe_size size;
    if (probe_image_size(f, &size) == 0) {
        rc = check_pixels(path, size.width, size.height,
                          "; refused before decoding", err);
        if (rc < 0) {
            fclose(f);
            return rc;
        }
    }
    rewind(f);
    if (probe_truncated(f) == 1) {
        fclose(f);
        return shmimg_fail(err, SHMIMG_ENOTIMAGE,
                           "%s (truncated: the JPEG data stops before its "
                           "end-of-image marker)",
                           path);
    }
    rewind(f);
    image_limit_allocations();
    SDL_RWops *rw = SDL_RWFromFP(f, SDL_TRUE);
    if (!rw) {
        fclose(f);
        return shmimg_fail(err, SHMIMG_ESYS, "%s: %s", path, SDL_GetError());
    }
    /* The extension is a hint, as in IMG_Load: TGA has no magic number. */
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    const char *ext = dot && (!slash || dot > slash) ? dot + 1 : NULL;
    refused = false;
    SDL_Surface *surface = IMG_LoadTyped_RW(rw, 1, ext);
    if (!surface && refused)
        return shmimg_fail(err, SHMIMG_ETOOBIG,
                           "%s: image too large: decoding it needs more than "
                           "%zu bytes, over the limit of %llu pixels "
                           "(SHMIMG_MAX_PIXELS); refused before allocating",
                           path, ceiling,
                           (unsigned long long)image_max_pixels());
    if (!surface)
        return shmimg_fail(err, SHMIMG_ENOTIMAGE,
                           "%s (SDL_image cannot decode it: %s)", path,
                           IMG_GetError());
    rc = check_pixels(path, (uint64_t)surface->w, (uint64_t)surface->h, "",
                      err);
    if (rc < 0) {
        SDL_FreeSurface(surface);
        return rc;
    }
    *out = surface;
    return 0;
}

/* Indexed and colour-keyed surfaces go through SDL_ConvertSurface, the
 * reference for what every reader must see; the rest convert directly. */
static bool needs_private_conversion(SDL_Surface *src)
{
    return SDL_ISPIXELFORMAT_INDEXED(src->format->format) ||
           SDL_HasColorKey(src);
}

/* RGB24 (what SDL_image makes of JPEGs and RGB PNGs) to RGBA8: SDL's
 * generic blitter takes ~2x a memcpy, and this is the common case. Four
 * pixels (12 bytes in, 16 out) per step with 32-bit words; on a
 * little-endian machine RGBA8 bytes R,G,B,A are the word R | G<<8 | B<<16
 * | A<<24. Same bytes as SDL's conversion: alpha 0xFF. */
static void rgb24_to_rgba8(uint8_t *restrict dst, const uint8_t *restrict src,
                           int width)
{
    int x = 0;
#if SDL_BYTEORDER == SDL_LIL_ENDIAN
    for (; x + 4 <= width; x += 4, src += 12, dst += 16) {
        uint32_t a, b, c, out[4];
        memcpy(&a, src, 4);
        memcpy(&b, src + 4, 4);
        memcpy(&c, src + 8, 4);
        out[0] = a | 0xFF000000u;
        out[1] = (a >> 24) | (b << 8) | 0xFF000000u;
        out[2] = (b >> 16) | (c << 16) | 0xFF000000u;
        out[3] = (c >> 8) | 0xFF000000u;
        memcpy(dst, out, 16);
    }
#endif
    for (; x < width; x++, src += 3, dst += 4) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
        dst[3] = 0xFF;
    }
}

/* Writes src's pixels into dst (RGBA8, pitch bytes a row), in one pass.
 * Returns: 0, or -1 with SDL_GetError(). */
static int convert_into(uint8_t *dst, uint32_t pitch, const SDL_Surface *src)
{
    if (src->format->format == SDL_PIXELFORMAT_RGB24) {
        for (int y = 0; y < src->h; y++)
            rgb24_to_rgba8(dst + (size_t)y * pitch,
                           (const uint8_t *)src->pixels +
                               (size_t)y * (size_t)src->pitch,
                           src->w);
        return 0;
    }
    return SDL_ConvertPixels(src->w, src->h, src->format->format, src->pixels,
                             src->pitch, SDL_PIXELFORMAT_RGBA32, dst,
                             (int)pitch);
}

int image_publish(seg *s, SDL_Surface *src, const char *source_name,
                  shmimg_err *err)
{
    SDL_Surface *converted = NULL;
    if (needs_private_conversion(src)) {
        converted = SDL_ConvertSurfaceFormat(src, SDL_PIXELFORMAT_RGBA32, 0);
        if (!converted)
            return shmimg_fail(err, SHMIMG_ESYS,
                               "%s: cannot convert the image: %s",
                               source_name, SDL_GetError());
        src = converted;
    }
    if (SDL_MUSTLOCK(src) && SDL_LockSurface(src) < 0) {
        SDL_FreeSurface(converted);
        return shmimg_fail(err, SHMIMG_ESYS, "%s: %s", source_name,
                           SDL_GetError());
    }

    uint8_t *dst;
    uint32_t pitch;
    int rc = seg_write_begin(s, (uint32_t)src->w, (uint32_t)src->h,
                             source_name, &dst, &pitch, err);
    if (rc == 0) {
        if (convert_into(dst, pitch, src) < 0)
            rc = shmimg_fail(err, SHMIMG_ESYS,
                             "%s: cannot convert the pixels: %s; the segment "
                             "is marked incomplete",
                             source_name, SDL_GetError());
        int end = seg_write_end(s, rc == 0, err);
        if (rc == 0)
            rc = end;
    }
    if (SDL_MUSTLOCK(src))
        SDL_UnlockSurface(src);
    SDL_FreeSurface(converted);
    return rc;
}

int image_publish_file(seg *s, const char *path, shmimg_err *err)
{
    SDL_Surface *surface;
    int rc = image_load(path, &surface, err);
    if (rc < 0)
        return rc;
    rc = image_publish(s, surface, path, err);
    SDL_FreeSurface(surface);
    return rc;
}

static bool fits(const SDL_Surface *sf, const seg_image *img)
{
    return sf && sf->format->format == SDL_PIXELFORMAT_RGBA32 &&
           (uint32_t)sf->w == img->width && (uint32_t)sf->h == img->height;
}

int image_pull(seg *s, SDL_Surface **io, seg_image *img, shmimg_err *err)
{
    /* Two rounds at most, unless the image changes size between them. */
    for (int round = 0; round < 8; round++) {
        seg_view v;
        int rc = seg_read_begin(s, &v, err);
        if (rc < 0)
            return rc;
        if (fits(*io, &v.image)) {
            SDL_Surface *d = *io;
            size_t row = (size_t)v.image.width * SHMIMG_BYTES_PER_PIXEL;
            if ((size_t)d->pitch == row && v.image.pitch == row)
                rc = seg_copy_out(s, d->pixels, v.pixels,
                                  (size_t)v.image.payload_size, err);
            else
                for (uint32_t y = 0; rc == 0 && y < v.image.height; y++)
                    rc = seg_copy_out(
                        s, (uint8_t *)d->pixels + (size_t)y * (size_t)d->pitch,
                        v.pixels + (size_t)y * v.image.pitch, row, err);
            seg_read_end(s);
            if (rc == 0 && img)
                *img = v.image;
            return rc;
        }
        seg_image want = v.image;
        seg_read_end(s);
        SDL_Surface *fresh = SDL_CreateRGBSurfaceWithFormat(
            0, (int)want.width, (int)want.height, 32, SDL_PIXELFORMAT_RGBA32);
        if (!fresh)
            return shmimg_fail(err, SHMIMG_ESYS,
                               "cannot allocate a %ux%u image: %s", want.width,
                               want.height, SDL_GetError());
        SDL_FreeSurface(*io);
        *io = fresh;
    }
    return shmimg_fail(err, SHMIMG_ESYS,
                       "%s: the image kept changing size while pulling",
                       seg_file(s));
}
