/* shmimg_sdl.h - libshmimg-sdl: SDL surfaces and image files in and out of
 * shmimg segments. Link with -lshmimg-sdl (pkg-config shmimg-sdl, or
 * find_package(shmimg CONFIG): shmimg::sdl); it brings SDL2 and
 * SDL2_image. Everything in <shmimg.h>'s contract holds here too: the
 * same codes, shmimg_last_error() for the message (escaped: a file name
 * or SDL's reason cannot reach a terminal raw), nothing printed.
 *
 * Usage:
 *       shmimg *pub;
 *       shmimg_publisher_open("photo", &pub);
 *       shmimg_sdl_publish_file(pub, "photo.jpg");   any SDL_image format
 *
 *       SDL_Surface *sf;  shmimg_frame f;
 *       if (shmimg_sdl_pull_surface(rd, &sf, &f) == SHMIMG_OK) {
 *           ...  sf is SDL_PIXELFORMAT_RGBA32, f.width x f.height
 *           SDL_FreeSurface(sf);
 *       }
 */
#ifndef SHMIMG_SDL_H
#define SHMIMG_SDL_H

#include <SDL.h>

#include "shmimg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Publishes surface (any SDL pixel format: converted to RGBA8).
 * Returns: the codes of shmimg_publish; SHMIMG_ERR_SYSTEM when SDL cannot
 * convert it (SDL_GetError in the message). */
SHMIMG_API int shmimg_sdl_publish_surface(shmimg *h, SDL_Surface *surface,
                                          const char *source_name);

/* Decodes the image file at path and publishes it, named after the file,
 * exactly as `shmimg publish FILE` does: the same decoder (SDL_image, and
 * libtiff for TIFF), the same pixel limit (SHMIMG_MAX_PIXELS, 16384 x 16384
 * by default, checked from the header before decoding), the same refusal
 * of files cut short, and the same corrections (CMYK JPEGs, grey PNGs with
 * a transparent level, premultiplied TIFFs).
 * The first call puts a ceiling on SDL's allocations for the whole process
 * (SDL_SetMemoryFunctions; the allocator stays SDL's own): from then on any
 * one allocation through SDL over that limit's 4 bytes per pixel and 1 MiB
 * (1 GiB by default) fails, so that a small file that declares a huge image
 * is refused before its memory is taken.
 * Returns: SHMIMG_ERR_NOT_IMAGE when it does not decode or is cut short
 * (the message says which); TOO_BIG; SETTING (SHMIMG_MAX_PIXELS does not
 * parse); PERMISSION; SYSTEM (it cannot be opened, or is missing: the
 * message has errno's text); the codes of shmimg_publish. */
SHMIMG_API int shmimg_sdl_publish_file(shmimg *h, const char *path);

/* Pulls the newest frame into a new SDL_PIXELFORMAT_RGBA32 surface (*out,
 * freed by the caller with SDL_FreeSurface) and its metadata into *frame
 * (may be NULL). The frame may change size while this runs: the surface
 * has the size of the frame it holds, whichever was newest.
 * Returns: the codes of shmimg_pull but SMALL_BUFFER (LAPPED when the
 * frame grew at each of 8 tries); *out is NULL on failure. */
SHMIMG_API int shmimg_sdl_pull_surface(shmimg *h, SDL_Surface **out,
                                       shmimg_frame *frame);

#ifdef __cplusplus
}
#endif

#endif
