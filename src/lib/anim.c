/* anim.c - see anim.h. */
#include "anim.h"

#include "image.h"

#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Skips a chain of GIF data sub-blocks (a size byte, that many bytes, ...,
 * a zero). Returns: 0, or -1 at the end of the file. */
static int skip_sub_blocks(FILE *f)
{
    for (;;) {
        int n = fgetc(f);
        if (n == EOF)
            return -1;
        if (n == 0)
            return 0;
        if (fseek(f, n, SEEK_CUR) < 0)
            return -1;
    }
}

static int skip_colour_table(FILE *f, int packed)
{
    if (!(packed & 0x80))
        return 0;
    return fseek(f, 3L << ((packed & 7) + 1), SEEK_CUR);
}

int image_gif_frames(const char *path)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return -1;
    unsigned char head[13];
    int frames = -1;
    if (fread(head, 1, sizeof head, f) != sizeof head ||
        (memcmp(head, "GIF87a", 6) != 0 && memcmp(head, "GIF89a", 6) != 0) ||
        skip_colour_table(f, head[10]) < 0)
        goto out;
    frames = 0;
    for (;;) {
        int block = fgetc(f);
        if (block == 0x2C) { /* an image: descriptor, table, LZW data */
            unsigned char d[9];
            if (fread(d, 1, sizeof d, f) != sizeof d ||
                skip_colour_table(f, d[8]) < 0 || fgetc(f) == EOF ||
                skip_sub_blocks(f) < 0)
                break; /* cut short: count what was whole */
            frames++;
        } else if (block == 0x21) { /* an extension: label, data */
            if (fgetc(f) == EOF || skip_sub_blocks(f) < 0)
                break;
        } else {
            break; /* the trailer (0x3B), the end, or garbage */
        }
    }
out:
    fclose(f);
    return frames;
}

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

int image_load_animation(const char *path, image_anim **out, shmimg_err *err)
{
    *out = NULL;
    int rc = image_check_settings(err);
    if (rc < 0)
        return rc;
    int frames = image_gif_frames(path);
    if (frames < 2)
        return 0; /* not an animation: a still image, or not a GIF */
    int w, h;
    if (image_probe_file(path, &w, &h) < 0 || w <= 0 || h <= 0)
        return shmimg_fail(err, SHMIMG_ENOTIMAGE, "%s (a GIF without a size)",
                           path);
    uint64_t pixels = (uint64_t)frames * (uint64_t)w * (uint64_t)h;
    if (pixels > image_max_pixels())
        return shmimg_fail(err, SHMIMG_ETOOBIG,
                           "%s: %d frames of %dx%d are %llu pixels, over the "
                           "limit of %llu for an animation kept in memory "
                           "(SHMIMG_MAX_PIXELS); refused before decoding",
                           path, frames, w, h, (unsigned long long)pixels,
                           (unsigned long long)image_max_pixels());
    image_limit_allocations();
    IMG_Animation *decoded = IMG_LoadAnimation(path);
    if (!decoded)
        return shmimg_fail(err, SHMIMG_ENOTIMAGE, "%s (%s)", path,
                           IMG_GetError());
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
        a->delays_ms[i] = d < IMAGE_ANIM_MIN_DELAY_MS
                              ? IMAGE_ANIM_DEFAULT_DELAY_MS
                              : d;
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
    return shmimg_fail(err, SHMIMG_ESYS,
                       "%s: out of memory for its %d frames of %dx%d", path,
                       frames, w, h);
}
