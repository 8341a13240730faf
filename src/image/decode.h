/* decode.h - image files in: decoded with SDL2_image (libtiff for TIFF),
 * checked against decompression bombs and files cut short, and corrected
 * where SDL_image misreads. SDL-bound, segment-free: the command line, the
 * window and libshmimg-sdl all decode through image_load, so one file
 * gives the same pixels whichever door it goes through.
 *
 * The contract of image_load is in image.h's header comment (the loading
 * half of it).
 */
#ifndef SHMIMG_DECODE_H
#define SHMIMG_DECODE_H

#include "probe.h"
#include "segment.h" /* seg_err and the limits only: no segment is touched */

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

#endif
