/* anim.c - see anim.h. */
#include "anim.h"

#include "image.h"
#include "probe.h"
#include "truncated.h"

#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void image_anim_free(image_anim *a)
{
    if (!a)
        return;
    for (int i = 0; a->frames && i < a->count; i++)
        SDL_FreeSurface(a->frames[i]);
    free(a->frames);
    free(a->delays_ms);
    free(a);
}

int image_load_animation(const char *path, image_anim **out, seg_err *err)
{
    *out = NULL;
    int rc = image_check_settings(err);
    if (rc < 0)
        return rc;
    FILE *f;
    uint64_t size;
    if ((rc = image_open(path, &f, &size, err)) < 0)
        return rc;
    /* The frames are counted from the blocks, without decoding a pixel.
     * A cut GIF is refused here, as image_load refuses it, whether one
     * frame survives or ten: playing what survived would pass a part for
     * the whole without a word. */
    int frames;
    int cut = truncated_gif(f, &frames);
    probe_info info = {.format = PROBE_GIF};
    char why[160];
    /* The same words as image_load's (truncated_check says them), with
     * no extension: the animation reader goes by the magic bytes alone. */
    if (cut == 1 && truncated_check(f, size, &info, NULL, why, sizeof why))
        rc = seg_fail(err, SEG_ENOTIMAGE, "%s (truncated: %s)", path, why);
    rewind(f);
    if (rc < 0 || cut < 0 || frames < 2) {
        fclose(f);
        return rc; /* 0: not an animation, a still image or not a GIF */
    }
    if (probe_image(f, &info) < 0 || info.width == 0 || info.height == 0) {
        fclose(f);
        return seg_fail(err, SEG_ENOTIMAGE, "%s (a GIF without a size)", path);
    }
    int w = (int)info.width, h = (int)info.height; /* 16 bits each */
    uint64_t pixels = (uint64_t)frames * (uint64_t)w * (uint64_t)h;
    if (pixels > image_max_pixels()) {
        fclose(f);
        return seg_fail(err, SEG_ETOOBIG,
                        "%s: %d frames of %dx%d are %llu pixels, over the "
                        "limit of %llu for an animation kept in memory "
                        "(SHMIMG_MAX_PIXELS); refused before decoding",
                        path, frames, w, h, (unsigned long long)pixels,
                        (unsigned long long)image_max_pixels());
    }
    rewind(f);
    image_limit_allocations();
    /* The very file checked above (IMG_LoadAnimation_RW closes it). */
    SDL_RWops *rw = SDL_RWFromFP(f, SDL_TRUE);
    if (!rw) {
        fclose(f);
        return seg_fail(err, SEG_ESYS, "%s: %s", path, SDL_GetError());
    }
    IMG_Animation *decoded = IMG_LoadAnimation_RW(rw, 1);
    if (!decoded)
        return seg_fail(err, SEG_ENOTIMAGE, "%s (%s)", path, IMG_GetError());
    image_anim *a = calloc(1, sizeof *a);
    if (!a)
        goto nomem;
    a->count = decoded->count;
    a->width = decoded->w;
    a->height = decoded->h;
    a->frames = calloc((size_t)a->count, sizeof *a->frames);
    a->delays_ms = calloc((size_t)a->count, sizeof *a->delays_ms);
    if (!a->frames || !a->delays_ms)
        goto nomem;
    for (int i = 0; i < a->count; i++) {
        /* One frame at a time, freeing each original as we go: at most
         * one frame more than the animation in memory. */
        a->frames[i] = SDL_ConvertSurfaceFormat(decoded->frames[i],
                                                SDL_PIXELFORMAT_RGBA32, 0);
        SDL_FreeSurface(decoded->frames[i]);
        decoded->frames[i] = NULL;
        if (!a->frames[i])
            goto nomem;
        int d = decoded->delays[i];
        a->delays_ms[i] =
            d < IMAGE_ANIM_MIN_DELAY_MS ? IMAGE_ANIM_DEFAULT_DELAY_MS : d;
        a->loop_ms += a->delays_ms[i];
    }
    IMG_FreeAnimation(decoded);
    if (a->count < 2) { /* fewer images than blocks: a still after all */
        image_anim_free(a);
        return 0;
    }
    *out = a;
    return 0;
nomem:
    IMG_FreeAnimation(decoded);
    image_anim_free(a);
    return seg_fail(err, SEG_ESYS,
                    "%s: out of memory for its %d frames of %dx%d", path,
                    frames, w, h);
}
