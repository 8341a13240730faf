/* anim.h - animated images (GIF): every frame decoded once and kept, as
 * RGBA32, with its delay, so that a publisher can play it in a loop.
 *
 * Contract:
 *   - image_load_animation reads GIFs with more than one frame; anything
 *     else (a still GIF, another format) is "not an animation": *out is
 *     NULL and the caller decodes it as a still image (image_load).
 *   - A GIF cut short (its blocks end before the trailer) is refused,
 *     SEG_ENOTIMAGE "PATH (truncated: the GIF data stops before its
 *     trailer, after N whole frames)", whatever N: the same refusal as
 *     image_load's for a still, so that no caller plays or shows part of
 *     a file as if it were the whole.
 *   - The file is opened as image_load opens it (image_open: a FIFO or a
 *     directory is refused, never waited on).
 *   - Memory is bounded before decoding: the frames are counted from the
 *     file's blocks (no pixel decoded), and frames x width x height may not
 *     exceed image_max_pixels() (SHMIMG_MAX_PIXELS; 268435456 pixels, 1 GiB
 *     of RGBA, by default). A larger animation is refused with a message
 *     that gives its frame count and size; it never exhausts memory.
 *   - Delays are milliseconds. A delay under IMAGE_ANIM_MIN_DELAY_MS (GIF
 *     files often say 0 or 10 ms and mean "as fast as the viewer likes") is
 *     played as IMAGE_ANIM_DEFAULT_DELAY_MS, as web browsers do.
 */
#ifndef SHMIMG_ANIM_H
#define SHMIMG_ANIM_H

#include "errors.h"

#include <SDL.h>
#include <stdint.h>

#define IMAGE_ANIM_MIN_DELAY_MS     20
#define IMAGE_ANIM_DEFAULT_DELAY_MS 100

typedef struct image_anim {
    int count;            /* frames, >= 2 */
    int width, height;    /* pixels, the same for every frame */
    SDL_Surface **frames; /* count RGBA32 surfaces */
    int *delays_ms;       /* count delays, each >= IMAGE_ANIM_MIN_DELAY_MS */
    int64_t loop_ms;      /* the sum of the delays */
} image_anim;

/* Decodes the animation in path. Returns: 0 and *out (NULL when path is
 * not an animation); SEG_ETOOBIG (over the memory bound, nothing
 * decoded), SEG_ENOTIMAGE (a cut GIF among them), SEG_EPERM,
 * SEG_ESYS, SEG_ESETTING. */
int image_load_animation(const char *path, image_anim **out, seg_err *err);

void image_anim_free(image_anim *a);

#endif
