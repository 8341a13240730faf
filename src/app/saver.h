/* saver.h - S in the window: the image on screen is written to a PNG file
 * on a thread of its own, so that the event loop never waits for an
 * encoder (a 3840x2160 image takes up to 0.7 s, more on a loaded machine).
 * The result comes back as an SDL user event.
 *
 * The file is written by image_save (save.h) under a name that nobody has
 * (shmimg-KEY-YYYYmmdd-HHMMSS[-N].png in the working directory), linked
 * into place only when whole: a window closed during a save waits for it
 * (saver_destroy), so no half-written file is ever left.
 *
 * One save runs at a time: the app refuses S while one runs.
 */
#ifndef SHMIMG_SAVER_H
#define SHMIMG_SAVER_H

#include "errors.h"

#include <SDL.h>
#include <limits.h>
#include <stdbool.h>

typedef struct saver_result {
    int rc; /* 0 or a negative shmimg status */
    seg_err err;
    char name[PATH_MAX]; /* the file written (relative to dir) */
    char dir[PATH_MAX];  /* the working directory it went to */
    int width, height;   /* pixels */
    double seconds;      /* how long the save took */
} saver_result;

typedef struct saver saver;

/* event_type: an SDL_RegisterEvents type; the event's data1 is the
 * saver_result, to be freed with SDL_free. */
saver *saver_create(Uint32 event_type);

/* Waits for a save under way to end (its file is then whole, or was never
 * put in place), drops its result, frees the saver. */
void saver_destroy(saver *s);

/* Starts saving image (taken: the saver frees it) for key. Returns: 0, or
 * -1 when a save runs or no thread could be made (SDL_GetError). */
int saver_start(saver *s, SDL_Surface *image, const char *key);

bool saver_busy(const saver *s);

/* Must be called when the result event is handled: joins the thread. */
void saver_finished(saver *s);

#endif
