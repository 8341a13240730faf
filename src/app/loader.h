/* loader.h - decodes an image file on a thread of its own, so that the
 * event loop never waits for a decoder (a 3840x2160 PNG takes about a
 * quarter of a second). The result comes back as an SDL user event.
 *
 * One decode runs at a time. The app decides what a drop during a decode
 * means (keys.c: the newest drop wins, and waits for the running decode).
 */
#ifndef SHMIMG_LOADER_H
#define SHMIMG_LOADER_H

#include "anim.h"
#include "errors.h"

#include <SDL.h>
#include <stdbool.h>

typedef struct loader_result {
    char *path;           /* the file decoded */
    SDL_Surface *surface; /* RGBA32, or NULL on failure */
    image_anim *anim;     /* an animation (surface is its first frame) */
    int rc;               /* 0 or a negative shmimg status */
    seg_err err;
} loader_result;

typedef struct loader loader;

/* event_type: an SDL_RegisterEvents type; the event's data1 is the
 * loader_result, to be freed with loader_result_free. */
loader *loader_create(Uint32 event_type);

/* Waits for a running decode, drops its result, frees the loader. */
void loader_destroy(loader *l);

/* Starts decoding path. Returns: 0, or -1 when a decode is running (or no
 * thread could be made; SDL_GetError says which). */
int loader_start(loader *l, const char *path);

bool loader_busy(const loader *l);

/* Must be called when the result event is handled: joins the thread. */
void loader_finished(loader *l);

void loader_result_free(loader_result *r);

#endif
