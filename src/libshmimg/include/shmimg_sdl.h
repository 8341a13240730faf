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

/* Decodes the image file at path with SDL_image and publishes it, named
 * after the file. Returns: SHMIMG_ERR_NOT_IMAGE when it does not decode;
 * the codes of shmimg_publish. */
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
