/* shrink.h - a properly filtered smaller copy of the image, for when it is
 * drawn at less than half its size: the GPU's bilinear filter samples 4
 * pixels of every (1/scale)^2, so fine detail aliases (false rings on a
 * zone plate, strokes of text lost). An area (box) filter averages every
 * source pixel that the destination pixel covers, weighted by the part of
 * it covered, as ImageMagick's -filter box -resize does.
 *
 * shrink_surface does the work; the shrinker runs it on a thread of its
 * own for large images, one job at a time, and reports through an SDL
 * user event, like the loader.
 *
 * Ownership: shrinker_start lends the source surface to the thread (its
 * refcount is raised, so freeing it meanwhile frees nothing). The lender
 * promises not to write into a lent surface (shrinker_holds tells); the
 * event's handler gives it back with shrinker_finished. Every refcount
 * change happens on the loop's thread: SDL_FreeSurface is not atomic.
 */
#ifndef SHMIMG_SHRINK_H
#define SHMIMG_SHRINK_H

#include <SDL.h>
#include <stdbool.h>

/* Area-filters src (RGBA32, straight alpha; colours weighted by alpha, so
 * that transparent pixels do not bleed) to w x h pixels, each no larger
 * than src's. Values are averaged as stored (sRGB), as ImageMagick does.
 * Returns: a new RGBA32 surface, or NULL (SDL_GetError says why). */
SDL_Surface *shrink_surface(const SDL_Surface *src, int w, int h);

typedef struct shrink_result {
    SDL_Surface *small;  /* w x h, or NULL on failure */
    SDL_Surface *source; /* the lent surface, given back by _finished */
    unsigned serial;     /* the caller's name for the source's contents */
} shrink_result;

typedef struct shrinker shrinker;

/* event_type: an SDL_RegisterEvents type; the event's data1 is the
 * shrink_result, to be handed to shrinker_finished. */
shrinker *shrinker_create(Uint32 event_type);

/* Waits for a running job, drops its result, frees the shrinker. */
void shrinker_destroy(shrinker *s);

/* Starts filtering src to w x h on the thread, src lent (see above).
 * Returns: 0, or -1 when a job is running or no thread could be made. */
int shrinker_start(shrinker *s, SDL_Surface *src, int w, int h,
                   unsigned serial);

bool shrinker_busy(const shrinker *s);

/* Returns: true while surf is lent to the running job: not to be written. */
bool shrinker_holds(const shrinker *s, const SDL_Surface *surf);

/* Joins the thread, gives the lent surface back; r->small becomes the
 * caller's (r itself is freed). */
SDL_Surface *shrinker_finished(shrinker *s, shrink_result *r);

#endif
