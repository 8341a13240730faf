/* image.c - see image.h: decoded images converted into the segment, and
 * copied out. */
#include "image.h"

#include <stdbool.h>
#include <string.h>

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
                  seg_err *err)
{
    SDL_Surface *converted = NULL;
    if (needs_private_conversion(src)) {
        converted = SDL_ConvertSurfaceFormat(src, SDL_PIXELFORMAT_RGBA32, 0);
        if (!converted)
            return seg_fail(err, SEG_ESYS, "%s: cannot convert the image: %s",
                            source_name, SDL_GetError());
        src = converted;
    }
    if (SDL_MUSTLOCK(src) && SDL_LockSurface(src) < 0) {
        SDL_FreeSurface(converted);
        return seg_fail(err, SEG_ESYS, "%s: %s", source_name, SDL_GetError());
    }

    uint8_t *dst;
    uint32_t pitch;
    int rc = seg_write_begin(s, (uint32_t)src->w, (uint32_t)src->h, source_name,
                             &dst, &pitch, err);
    if (rc == 0) {
        if (convert_into(dst, pitch, src) < 0)
            rc = seg_fail(err, SEG_ESYS,
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

int image_publish_file(seg *s, const char *path, seg_err *err)
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

int image_pull(seg *s, SDL_Surface **io, seg_image *img, seg_err *err)
{
    /* A publisher may overwrite the frame while we copy it (the read is
     * then lapped: read again), or publish one of another size (make a
     * surface that fits, and read again). */
    for (int round = 0; round < SEG_MAX_LAPS; round++) {
        seg_view v;
        int rc = seg_read_begin(s, &v, err);
        if (rc < 0)
            return rc;
        if (!fits(*io, &v.image)) {
            SDL_Surface *fresh = SDL_CreateRGBSurfaceWithFormat(
                0, (int)v.image.width, (int)v.image.height, 32,
                SDL_PIXELFORMAT_RGBA32);
            if (!fresh)
                return seg_fail(err, SEG_ESYS,
                                "cannot allocate a %ux%u image: %s",
                                v.image.width, v.image.height, SDL_GetError());
            SDL_FreeSurface(*io);
            *io = fresh;
        }
        SDL_Surface *d = *io;
        size_t row = (size_t)v.image.width * SHMIMG_BYTES_PER_PIXEL;
        if ((size_t)d->pitch == row && v.image.pitch == row)
            seg_copy_out(s, d->pixels, v.pixels, (size_t)v.image.payload_size);
        else
            for (uint32_t y = 0; y < v.image.height; y++)
                seg_copy_out(
                    s, (uint8_t *)d->pixels + (size_t)y * (size_t)d->pitch,
                    v.pixels + (size_t)y * v.image.pitch, row);
        rc = seg_read_end(s, &v, err);
        if (rc == SEG_ELAPPED)
            continue;
        if (rc == 0 && img)
            *img = v.image;
        return rc;
    }
    return seg_fail(err, SEG_ELAPPED,
                    "%s: %s %d times in a row; this reader is slower than "
                    "the publisher",
                    seg_file(s), seg_strerror(SEG_ELAPPED), SEG_MAX_LAPS);
}
