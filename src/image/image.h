/* image.h - images in and out of a segment, with SDL2 and SDL2_image.
 *
 * Contract:
 *   - image_load decodes any format SDL_image reads (PNG, JPEG, BMP, GIF,
 *     TGA, TIFF, WEBP, QOI, XPM, SVG, PNM, PCX, ...). It refuses, with a
 *     message naming the file, a missing, unreadable, empty or non-regular
 *     file, data SDL_image cannot decode, and any image over the pixel
 *     limit (image_max_pixels) or the decoder's own (libpng: 1000000
 *     pixels per side; libjpeg: 65500), which it checks from the file's
 *     header before decoding where the format allows, so that a small file
 *     that declares a huge image is refused before the memory is allocated.
 *     It also refuses anything while SHMIMG_MAX_PIXELS is set wrong.
 *   - It refuses a file cut short, "PATH (truncated: what is missing)",
 *     wherever the format tells (truncated.h): JPEG, PNG, GIF (a still or
 *     an animation: the message counts the whole frames), BMP, ICO, TGA,
 *     TIFF, WEBP, QOI, PCX, SVG, XPM; PNM's reader refuses a cut file
 *     itself ("file truncated"). Nothing of a cut file is published.
 *   - TIFFs are decoded with libtiff directly (tiffread.h), straight
 *     alpha exactly as stored; the rest with SDL_image.
 *   - It corrects what SDL_image 2.6 misreads: CMYK and YCCK JPEGs (given
 *     as raw C,M,Y,K bytes), grey PNGs with a transparent grey level
 *     (tRNS; given as garbage RGB565); TIFFs with associated alpha
 *     (premultiplied) are un-premultiplied; it refuses CMYK TIFFs with
 *     alpha, whose alpha libtiff's RGBA reader drops.
 *   - image_publish converts the pixels into the segment's canonical
 *     format (RGBA8, layout.h) straight into the shared payload, in one pass
 *     under the lock. Indexed (palette) and colour-keyed images are first
 *     converted privately, outside the lock, then copied.
 *   - A failed load or publish leaves the published image as it was.
 *   - image_pull returns a surface in SDL_PIXELFORMAT_RGBA32 that equals
 *     SDL_ConvertSurfaceFormat(image_load(file), SDL_PIXELFORMAT_RGBA32)
 *     byte for byte; that is IMG_Load(file) but for the corrections and
 *     the TIFF reader above.
 */
#ifndef SHMIMG_IMAGE_H
#define SHMIMG_IMAGE_H

#include "probe.h"
#include "segment.h"

#include <SDL.h>
#include <stdint.h>
#include <stdio.h>

/* Default of the pixel limit: 16384 x 16384 (a 1 GiB payload). */
#define IMAGE_DEFAULT_MAX_PIXELS (UINT64_C(16384) * 16384)

/* Returns: the pixel limit: $SHMIMG_MAX_PIXELS when it is set right,
 * IMAGE_DEFAULT_MAX_PIXELS when it is unset, empty or wrong (for which
 * image_check_settings gives the error). */
uint64_t image_max_pixels(void);

/* Checks the settings image_load reads: SHMIMG_MAX_PIXELS must be unset,
 * empty or a whole number (digits only) from 1 to SEG_MAX_DIMENSION^2
 * (1099511627776). Call it at start; image_load fails the same way.
 * Returns: 0, or SEG_ESETTING with a message that names the setting,
 * its value and the valid range. */
int image_check_settings(seg_err *err);

/* Puts a ceiling on every allocation made through SDL (surfaces, decoder
 * buffers): image_max_pixels() * 4 bytes and a little more. A decoder
 * asked for more fails, and image_load reports SEG_ETOOBIG, so a file
 * that declares a huge image in a format whose header is not probed is
 * still refused before the memory is taken. Idempotent; image_load calls
 * it too, but call it first thing, before other threads use SDL.
 * Returns: the ceiling, in bytes. */
size_t image_limit_allocations(void);

/* Reads the image size declared in path's header, without decoding.
 * Returns: 0 and *width, *height (pixels); -1 for unknown formats. */
int image_probe_file(const char *path, int *width, int *height);

/* Opens path for reading as image_load does: without waiting on a FIFO,
 * and only a non-empty regular file (checked on the descriptor opened).
 * Returns: 0, *f (at offset 0; the caller closes it) and *size (bytes);
 * SEG_ENOTIMAGE "PATH (why)" for a directory, a non-regular or an
 * empty file; SEG_EPERM, SEG_ESYS. */
int image_open(const char *path, FILE **f, uint64_t *size, seg_err *err);

/* The extension of path's last component, without the dot, or NULL. */
const char *image_extension(const char *path);

/* Checks that f (path, size bytes, probed as *info) is not cut short
 * (truncated.h). Moves f. Returns: 0, or SEG_ENOTIMAGE "PATH
 * (truncated: what is missing)". */
int image_check_whole(const char *path, FILE *f, uint64_t size,
                      const probe_info *info, seg_err *err);

/* Whether path is a file cut short, for a caller that wants to say so in
 * its own words after image_load or image_load_animation refused it.
 * Returns: 1 with why set (what is missing, as in image_load's message);
 * 0 when whole, unreadable, or of a format these checks do not know. */
int image_truncated(const char *path, char *why, size_t why_size);

/* Decodes path into *out (owned by the caller). For SEG_ENOTIMAGE the
 * message is "PATH (why)", to follow a "not an image: " of the caller's.
 * Returns: 0; SEG_ENOTIMAGE, ETOOBIG, EPERM, ESYS, ESETTING. */
int image_load(const char *path, SDL_Surface **out, seg_err *err);

/* Publishes src under source_name (only its base name is kept).
 * Returns: 0 or the errors of seg_write_begin; ESYS if SDL fails. */
int image_publish(seg *s, SDL_Surface *src, const char *source_name,
                  seg_err *err);

/* Loads path and publishes it.
 * Returns: 0, or the errors of image_load and image_publish. */
int image_publish_file(seg *s, const char *path, seg_err *err);

/* Copies the current image into *io: a new RGBA32 surface, or *io itself
 * when it already has the image's size and format. *img gets the metadata
 * (may be NULL). Allocation happens outside the lock. On failure the
 * pixels of *io are undefined: do not pull into what is on screen.
 * Returns: 0, or the errors of seg_read_begin; ESYS if SDL fails. */
int image_pull(seg *s, SDL_Surface **io, seg_image *img, seg_err *err);

#endif
