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

#include "decode.h"
#include "segment.h"

#include <SDL.h>
#include <stdint.h>
#include <stdio.h>

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
