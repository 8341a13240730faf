/* sdl.c - libshmimg-sdl (src/libshmimg/include/shmimg_sdl.h), over the
 * public API: what it cannot do with shmimg_publish and shmimg_pull it does
 * not do. Files are decoded by image_load (decode.h), as by the command
 * line and the window. */
#include "shmimg_sdl.h"

#include "decode.h"

#include <string.h>

/* SDL's failure as a shmimg code, with SDL's reason as the message. */
static int sdl_failed(int code, const char *what)
{
    return shmimg_set_error(code, "%s: %s", what, SDL_GetError());
}

int shmimg_sdl_publish_surface(shmimg *h, SDL_Surface *surface,
                               const char *source_name)
{
    if (!surface)
        return shmimg_publish(h, NULL, 0, 0, 0, SHMIMG_PIXEL_RGBA8,
                              source_name);
    if (surface->format->format == SDL_PIXELFORMAT_RGBA32) {
        if (SDL_LockSurface(surface) < 0)
            return sdl_failed(SHMIMG_ERR_SYSTEM, "SDL_LockSurface");
        int rc = shmimg_publish(h, surface->pixels, (uint32_t)surface->w,
                                (uint32_t)surface->h, (size_t)surface->pitch,
                                SHMIMG_PIXEL_RGBA8, source_name);
        SDL_UnlockSurface(surface);
        return rc;
    }
    SDL_Surface *rgba =
        SDL_ConvertSurfaceFormat(surface, SDL_PIXELFORMAT_RGBA32, 0);
    if (!rgba)
        return sdl_failed(SHMIMG_ERR_SYSTEM, "SDL_ConvertSurfaceFormat");
    int rc =
        shmimg_publish(h, rgba->pixels, (uint32_t)rgba->w, (uint32_t)rgba->h,
                       (size_t)rgba->pitch, SHMIMG_PIXEL_RGBA8, source_name);
    SDL_FreeSurface(rgba);
    return rc;
}

int shmimg_sdl_publish_file(shmimg *h, const char *path)
{
    if (!path)
        return shmimg_publish(h, NULL, 0, 0, 0, SHMIMG_PIXEL_RGBA8, NULL);
    /* The command line's decoder: its limits, checks and corrections. */
    SDL_Surface *sf;
    seg_err err = {0};
    int rc = image_load(path, &sf, &err);
    if (rc < 0) /* one set of codes: image_load's are the public ones */
        return shmimg_set_error(rc, "%s", err.msg);
    const char *name = strrchr(path, '/');
    rc = shmimg_sdl_publish_surface(h, sf, name ? name + 1 : path);
    SDL_FreeSurface(sf);
    return rc;
}

/* A w x h RGBA32 surface, or NULL with the reason set. */
static SDL_Surface *new_surface(uint32_t w, uint32_t h)
{
    SDL_Surface *sf = SDL_CreateRGBSurfaceWithFormat(0, (int)w, (int)h, 32,
                                                     SDL_PIXELFORMAT_RGBA32);
    if (!sf)
        sdl_failed(SHMIMG_ERR_SYSTEM, "SDL_CreateRGBSurface");
    return sf;
}

int shmimg_sdl_pull_surface(shmimg *h, SDL_Surface **out, shmimg_frame *frame)
{
    shmimg_frame f;
    if (!out)
        return shmimg_pull(NULL, NULL, 0, 0, NULL);
    *out = NULL;
    int rc = shmimg_peek(h, &f);
    /* The frame may change size between the peek and the pull, and again
     * between two pulls. The surface grows to the largest width and height
     * seen, so a try fails only on a frame larger than any before it; a
     * frame pulled into a larger surface is then copied into its own. */
    uint32_t w = 0, ht = 0;
    for (int tries = 0; rc == SHMIMG_OK && tries < 8; tries++) {
        w = f.width > w ? f.width : w;
        ht = f.height > ht ? f.height : ht;
        SDL_Surface *sf = new_surface(w, ht);
        if (!sf)
            return SHMIMG_ERR_SYSTEM;
        size_t size = (size_t)sf->pitch * (size_t)sf->h;
        rc = shmimg_pull(h, sf->pixels, (size_t)sf->pitch, size, &f);
        if (rc == SHMIMG_OK && (f.width != w || f.height != ht)) {
            SDL_Surface *exact = new_surface(f.width, f.height);
            for (uint32_t y = 0; exact && y < f.height; y++) {
                uint8_t *to = exact->pixels, *from = sf->pixels;
                memcpy(to + (size_t)y * (size_t)exact->pitch,
                       from + (size_t)y * (size_t)sf->pitch,
                       (size_t)f.width * 4);
            }
            SDL_FreeSurface(sf);
            if (!exact)
                return SHMIMG_ERR_SYSTEM;
            sf = exact;
        }
        if (rc == SHMIMG_OK) {
            *out = sf;
            if (frame)
                *frame = f;
            return SHMIMG_OK;
        }
        SDL_FreeSurface(sf);
        if (rc == SHMIMG_ERR_SMALL_BUFFER)
            rc = SHMIMG_OK;
    }
    if (rc == SHMIMG_OK)
        return shmimg_set_error(SHMIMG_ERR_LAPPED,
                                "the frame grew at each of 8 tries");
    return rc;
}
