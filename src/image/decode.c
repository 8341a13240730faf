/* decode.c - see decode.h: image files decoded with SDL_image and libtiff,
 * checked before and after. */
#include "decode.h"

#include "probe.h"
#include "tiffread.h"
#include "truncated.h"

#include <SDL_image.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- settings -------------------------------------------------------------- */

/* The largest SHMIMG_MAX_PIXELS: every image within the segment's per-side
 * limit. Times 4 bytes plus slack it still fits a 64-bit size_t, and
 * install_ceiling clamps where size_t is smaller. */
#define MAX_MAX_PIXELS ((uint64_t)SEG_MAX_DIMENSION * SEG_MAX_DIMENSION)

/* Parses $SHMIMG_MAX_PIXELS: decimal digits only (no sign, space,
 * exponent or suffix, which strtoull would take or wrap: "-1" is 2^64-1).
 * Unset or empty means the default.
 * Returns: 0 and *pixels, or -1 when it does not parse or is out of range
 * (*pixels is then the default). */
static int read_max_pixels(uint64_t *pixels)
{
    *pixels = IMAGE_DEFAULT_MAX_PIXELS;
    const char *s = getenv("SHMIMG_MAX_PIXELS");
    if (!s || !*s)
        return 0;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > MAX_MAX_PIXELS) /* also stops the overflow */
            return -1;
    }
    if (v == 0)
        return -1;
    *pixels = v;
    return 0;
}

uint64_t image_max_pixels(void)
{
    uint64_t pixels;
    read_max_pixels(&pixels);
    return pixels;
}

int image_check_settings(seg_err *err)
{
    uint64_t pixels;
    if (read_max_pixels(&pixels) == 0)
        return 0;
    /* The value goes into the message as it is (cut if long), like every
     * path in the library's messages: callers escape what they print. */
    return seg_fail(err, SEG_ESETTING,
                    "SHMIMG_MAX_PIXELS='%.64s' is not a whole number from "
                    "1 to %llu (the default is %llu)",
                    getenv("SHMIMG_MAX_PIXELS"),
                    (unsigned long long)MAX_MAX_PIXELS,
                    (unsigned long long)IMAGE_DEFAULT_MAX_PIXELS);
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
    const uint64_t slack = 1u << 20;
    uint64_t bytes = image_max_pixels() * SHMIMG_BYTES_PER_PIXEL + slack;
    ceiling = bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;
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

/* Returns: 0, or SEG_ETOOBIG naming the limit that w x h breaks: the
 * segment's per side, or SHMIMG_MAX_PIXELS in all. */
static int check_pixels(const char *path, uint64_t w, uint64_t h,
                        const char *when, seg_err *err)
{
    if (w > SEG_MAX_DIMENSION || h > SEG_MAX_DIMENSION)
        return seg_fail(err, SEG_ETOOBIG,
                        "%s: image of %llux%llu pixels is over the limit of "
                        "%u pixels per side (the largest width and height "
                        "a segment holds)%s",
                        path, (unsigned long long)w, (unsigned long long)h,
                        SEG_MAX_DIMENSION, when);
    uint64_t limit = image_max_pixels();
    if (w * h > limit) /* each side <= 2^20: no overflow */
        return seg_fail(err, SEG_ETOOBIG,
                        "%s: image of %llux%llu pixels is over the limit of "
                        "%llu pixels (SHMIMG_MAX_PIXELS)%s",
                        path, (unsigned long long)w, (unsigned long long)h,
                        (unsigned long long)limit, when);
    return 0;
}

/* The decoders' own limits, below ours: past them the decoder refuses
 * (libpng after printing a warning on stderr), and the reason would be
 * lost in "not an image". */
static const struct decoder_limit {
    probe_format format;
    const char *decoder;
    uint64_t per_side; /* pixels; 0: none */
    uint64_t total;    /* pixels; 0: none */
} decoder_limits[] = {
    /* png_set_user_limits' defaults, PNG_USER_{WIDTH,HEIGHT}_MAX */
    {PROBE_PNG, "libpng", 1000000, 0},
    /* JPEG_MAX_DIMENSION in libjpeg(-turbo)'s jmorecfg.h */
    {PROBE_JPEG, "libjpeg", 65500, 0},
    /* QOI_PIXELS_MAX in the qoi.h SDL_image uses */
    {PROBE_QOI, "SDL_image's QOI decoder", 0, 400000000},
};

/* Returns: 0, or SEG_ETOOBIG naming the decoder's limit that the
 * probed size breaks. */
static int check_decoder_limits(const char *path, const probe_info *info,
                                seg_err *err)
{
    for (size_t i = 0; i < sizeof decoder_limits / sizeof *decoder_limits;
         i++) {
        const struct decoder_limit *l = &decoder_limits[i];
        if (l->format != info->format)
            continue;
        if (l->per_side &&
            (info->width > l->per_side || info->height > l->per_side))
            return seg_fail(err, SEG_ETOOBIG,
                            "%s: image of %llux%llu pixels is over %s's "
                            "read limit of %llu pixels per side; refused "
                            "before decoding",
                            path, (unsigned long long)info->width,
                            (unsigned long long)info->height, l->decoder,
                            (unsigned long long)l->per_side);
        if (l->total && info->width * info->height > l->total)
            return seg_fail(err, SEG_ETOOBIG,
                            "%s: image of %llux%llu pixels is over %s's "
                            "limit of %llu pixels; refused before decoding",
                            path, (unsigned long long)info->width,
                            (unsigned long long)info->height, l->decoder,
                            (unsigned long long)l->total);
    }
    return 0;
}

int image_probe_file(const char *path, int *width, int *height)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    probe_info info;
    int rc = probe_image(f, &info);
    fclose(f);
    if (rc < 0 || info.width == 0 || info.height == 0 ||
        info.width > SEG_MAX_DIMENSION || info.height > SEG_MAX_DIMENSION)
        return -1;
    *width = (int)info.width;
    *height = (int)info.height;
    return 0;
}

/* ---- what SDL_image 2.6 gives wrong ------------------------------------------ */

/* Each corrector below applies only when both the file (probed) and the
 * surface are in the shape that SDL_image 2.6 is known to get wrong, so a
 * later SDL_image that decodes these variants right is left alone. */

/* CMYK and YCCK JPEGs: libjpeg hands over C,M,Y,K bytes (YCCK already
 * converted to CMYK) and SDL_image labels them B,G,R,A (ARGB8888 in
 * memory): red comes out blue, black transparent. Converted in place to
 * RGB with the naive formula R = 255 (1 - C)(1 - K), alpha 255. An Adobe
 * APP14 marker (which libjpeg writes for every CMYK or YCCK file) means
 * the samples are stored inverted, 255 = no ink, as Photoshop does.
 * No colour management: an embedded ICC profile is ignored, as it is for
 * every other format. */
static void cmyk_to_rgb(SDL_Surface *s, bool inverted)
{
    for (int y = 0; y < s->h; y++) {
        uint8_t *p = (uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch;
        for (int x = 0; x < s->w; x++, p += 4) {
            unsigned c = p[0], m = p[1], yel = p[2], k = p[3];
            if (!inverted) {
                c = 255 - c;
                m = 255 - m;
                yel = 255 - yel;
                k = 255 - k;
            }
            /* Now 255 = no ink: R = 255 (c/255)(k/255), rounded. */
            uint8_t rgba[4] = {(uint8_t)((c * k + 127) / 255),
                               (uint8_t)((m * k + 127) / 255),
                               (uint8_t)((yel * k + 127) / 255), 255};
            /* Back into ARGB8888, whose bytes are B,G,R,A here. */
            uint32_t px = (uint32_t)rgba[3] << 24 | (uint32_t)rgba[0] << 16 |
                          (uint32_t)rgba[1] << 8 | rgba[2];
            memcpy(p, &px, 4);
        }
    }
}

/* TIFF with associated alpha: libtiff's RGBA reader (tiffread.c) gives
 * the colour premultiplied, as the file stores it; SDL surfaces, and the
 * segment, hold straight alpha. Un-premultiplied in place (a no-op where
 * alpha is 255). What the file's premultiplication lost is not there to
 * recover: up to 255 / (2 alpha) levels. Straight alpha is read as
 * stored, exactly. */
static void unpremultiply(SDL_Surface *s)
{
    for (int y = 0; y < s->h; y++) {
        uint8_t *p = (uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch;
        for (int x = 0; x < s->w; x++, p += 4) {
            unsigned a = p[3]; /* ABGR8888 and RGBA32: alpha is byte 3 */
            if (a == 255 || a == 0)
                continue;
            for (int i = 0; i < 3; i++) {
                unsigned v = (p[i] * 255u + a / 2) / a;
                p[i] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}

/* Grey PNGs with a tRNS chunk: libpng expands them to grey+alpha, two
 * bytes a pixel, which SDL_image puts in a 16-bit RGB565 surface with a
 * colour key made from the wrong fields: garbage colours. The bytes are
 * right, only their labels are wrong.
 * Returns: a new RGBA32 surface, or NULL with SDL_GetError(). */
static SDL_Surface *grey_alpha_to_rgba(const SDL_Surface *s)
{
    SDL_Surface *out = SDL_CreateRGBSurfaceWithFormat(0, s->w, s->h, 32,
                                                      SDL_PIXELFORMAT_RGBA32);
    if (!out)
        return NULL;
    for (int y = 0; y < s->h; y++) {
        const uint8_t *src =
            (const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch;
        uint8_t *dst = (uint8_t *)out->pixels + (size_t)y * (size_t)out->pitch;
        for (int x = 0; x < s->w; x++, src += 2, dst += 4) {
            dst[0] = dst[1] = dst[2] = src[0];
            dst[3] = src[1];
        }
    }
    return out;
}

/* Replaces *surface by the right pixels where SDL_image 2.6 (or libtiff's
 * RGBA reader) gets them wrong (see above).
 * Returns: 0, or SEG_ESYS when a corrected copy cannot be allocated.
 * On failure *surface is left as it was, for the caller to free. */
static int correct_decoded(const char *path, const probe_info *info,
                           SDL_Surface **surface, seg_err *err)
{
    SDL_Surface *s = *surface;
    Uint32 format = s->format->format;
    if (info->format == PROBE_JPEG && info->jpeg_components == 4 &&
        format == SDL_PIXELFORMAT_ARGB8888)
        cmyk_to_rgb(s, info->adobe_transform >= 0);
    else if (info->format == PROBE_TIFF && info->tiff_alpha == 1 &&
             format == SDL_PIXELFORMAT_ABGR8888)
        unpremultiply(s);
    else if (info->format == PROBE_PNG && info->png_colour_type == 0 &&
             info->png_has_trns && s->format->BytesPerPixel == 2 &&
             !SDL_ISPIXELFORMAT_INDEXED(format)) {
        SDL_Surface *fixed = grey_alpha_to_rgba(s);
        if (!fixed)
            return seg_fail(err, SEG_ESYS, "%s: cannot convert the image: %s",
                            path, SDL_GetError());
        SDL_FreeSurface(s);
        *surface = fixed;
    }
    return 0;
}

int image_open(const char *path, FILE **out, uint64_t *size, seg_err *err)
{
    *out = NULL;
    /* Open first and check what we opened: O_NONBLOCK so that a FIFO
     * cannot hang us, and fstat so the checks apply to the very file. */
    int fd = seg_above_stdio(open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd < 0) {
        int e = errno;
        return seg_fail(err, e == EACCES ? SEG_EPERM : SEG_ESYS,
                        "%s: cannot read it: %s", path, strerror(e));
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = seg_fail(err, SEG_ESYS, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = seg_fail(err, SEG_ENOTIMAGE, "%s (a directory)", path);
    else if (!S_ISREG(st.st_mode))
        rc = seg_fail(err, SEG_ENOTIMAGE, "%s (not a regular file)", path);
    else if (st.st_size == 0)
        rc = seg_fail(err, SEG_ENOTIMAGE, "%s (empty: 0 bytes)", path);
    else if (!(*out = fdopen(fd, "rb")))
        rc = seg_fail(err, SEG_ESYS, "%s: %s", path, strerror(errno));
    if (rc < 0) {
        close(fd);
        return rc;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int image_check_whole(const char *path, FILE *f, uint64_t size,
                      const probe_info *info, seg_err *err)
{
    char why[160];
    if (truncated_check(f, size, info, image_extension(path), why,
                        sizeof why) != 1)
        return 0;
    return seg_fail(err, SEG_ENOTIMAGE, "%s (truncated: %s)", path, why);
}

int image_truncated(const char *path, char *why, size_t why_size)
{
    FILE *f;
    uint64_t size;
    if (image_open(path, &f, &size, NULL) < 0)
        return 0;
    probe_info info;
    if (probe_image(f, &info) < 0)
        info = (probe_info){.format = PROBE_UNKNOWN, .adobe_transform = -1};
    int cut =
        info.format == PROBE_TIFF
            ? tiffread_check(fileno(f), size, why, why_size) == TIFFREAD_CUT
            : truncated_check(f, size, &info, image_extension(path), why,
                              why_size) == 1;
    fclose(f);
    return cut;
}

const char *image_extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) ? dot + 1 : NULL;
}

/* Decodes f with SDL_image, which closes it. Returns: the surface, or
 * NULL with rc set. */
static SDL_Surface *decode_sdl(const char *path, FILE *f, int *rc, seg_err *err)
{
    SDL_RWops *rw = SDL_RWFromFP(f, SDL_TRUE);
    if (!rw) {
        fclose(f);
        *rc = seg_fail(err, SEG_ESYS, "%s: %s", path, SDL_GetError());
        return NULL;
    }
    /* The extension is a hint, as in IMG_Load: TGA has no magic number. */
    SDL_Surface *surface = IMG_LoadTyped_RW(rw, 1, image_extension(path));
    if (!surface && refused)
        *rc = seg_fail(err, SEG_ETOOBIG,
                       "%s: image too large: decoding it needs more than "
                       "%zu bytes, over the limit of %llu pixels "
                       "(SHMIMG_MAX_PIXELS); refused before allocating",
                       path, ceiling, (unsigned long long)image_max_pixels());
    else if (!surface)
        *rc =
            seg_fail(err, SEG_ENOTIMAGE, "%s (SDL_image cannot decode it: %s)",
                     path, IMG_GetError());
    return surface;
}

/* Decodes f, a TIFF, with libtiff (tiffread.h). Returns: the surface,
 * or NULL with rc set. */
static SDL_Surface *decode_tiff(const char *path, FILE *f, uint64_t size,
                                int *rc, seg_err *err)
{
    SDL_Surface *surface;
    char why[256];
    int r =
        tiffread_decode(fileno(f), size, ceiling, &surface, why, sizeof why);
    if (r == TIFFREAD_CUT)
        *rc = seg_fail(err, SEG_ENOTIMAGE, "%s (truncated: %s)", path, why);
    else if (r != TIFFREAD_DECODED && refused)
        *rc = seg_fail(err, SEG_ETOOBIG,
                       "%s: image too large: decoding it needs more than "
                       "%zu bytes, over the limit of %llu pixels "
                       "(SHMIMG_MAX_PIXELS); refused before allocating",
                       path, ceiling, (unsigned long long)image_max_pixels());
    else if (r != TIFFREAD_DECODED)
        *rc = seg_fail(err, SEG_ENOTIMAGE, "%s (libtiff cannot decode it: %s)",
                       path, why);
    return r == TIFFREAD_DECODED ? surface : NULL;
}

int image_load(const char *path, SDL_Surface **out, seg_err *err)
{
    *out = NULL;
    FILE *f = NULL; /* until a decoder takes it */
    SDL_Surface *surface = NULL;
    uint64_t size;
    /* A bad limit is an error here too, so that no caller can miss it. */
    int rc = image_check_settings(err);
    if (rc == 0)
        rc = image_open(path, &f, &size, err);
    if (rc < 0)
        goto out;

    probe_info info;
    if (probe_image(f, &info) < 0)
        info = (probe_info){.format = PROBE_UNKNOWN, .adobe_transform = -1};
    if (info.width > 0) {
        rc = check_pixels(path, info.width, info.height,
                          "; refused before decoding", err);
        if (rc == 0)
            rc = check_decoder_limits(path, &info, err);
        if (rc < 0)
            goto out;
    }
    /* libtiff's RGBA reader sets a CMYK image's alpha to 255: there is
     * nothing to put back. */
    if (info.format == PROBE_TIFF && info.tiff_photometric == 5 &&
        info.tiff_alpha) {
        rc = seg_fail(err, SEG_ENOTIMAGE,
                      "%s (a CMYK TIFF with alpha: libtiff's RGBA reader "
                      "drops the alpha)",
                      path);
        goto out;
    }
    /* A cut file is refused before decoding where the header gave the
     * size. Where it did not (TGA, SVG, ICO, PCX), the allocation ceiling
     * speaks first: a bomb is a short file too, and "too large" is what
     * its reader needs to hear. That check comes after the decode. */
    bool sized = info.width > 0;
    if (sized && (rc = image_check_whole(path, f, size, &info, err)) < 0)
        goto out;
    rewind(f);
    image_limit_allocations();
    refused = false;
    FILE *again = NULL; /* the file for the check after the decode */
    if (!sized) {
        /* Above the standard streams, as every fd of ours. */
        int copy = fcntl(fileno(f), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (copy < 0 || !(again = fdopen(copy, "rb"))) {
            rc = seg_fail(err, SEG_ESYS, "%s: %s", path, strerror(errno));
            if (copy >= 0)
                close(copy);
            goto out;
        }
    }
    if (info.format == PROBE_TIFF) {
        surface = decode_tiff(path, f, size, &rc, err);
    } else {
        surface = decode_sdl(path, f, &rc, err);
        f = NULL; /* closed by SDL_image */
    }
    if (again) {
        /* The truncation is the clearer word, also where the reader
         * failed ("Error reading from datastream"). */
        if (rc != SEG_ETOOBIG) {
            int cut = image_check_whole(path, again, size, &info, err);
            if (cut < 0) {
                SDL_FreeSurface(surface);
                surface = NULL;
                rc = cut;
            }
        }
        fclose(again);
    }
    if (surface)
        rc = check_pixels(path, (uint64_t)surface->w, (uint64_t)surface->h, "",
                          err);
    if (rc == 0)
        rc = correct_decoded(path, &info, &surface, err);
    if (rc == 0) {
        *out = surface;
        surface = NULL;
    }
out:
    SDL_FreeSurface(surface);
    if (f)
        fclose(f);
    return rc;
}
