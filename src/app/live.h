/* live.h - the watcher of the generation word: a helper thread sleeps on
 * the segment's generation word (a futex wait with a timeout, never a
 * poll) and posts an SDL user event whenever a new image is complete. It
 * runs whenever the window is attached: in live mode the window then pulls
 * the image; otherwise it says that a newer one waits for P.
 *
 * seg_wait also tells when the segment file was removed or replaced
 * ('shmimg rm', or every user detached): the thread then posts
 * LIVE_REPLACED and ends, and the window follows the key to the new file
 * with a new watcher. Idle, the thread wakes four times a second (the
 * file check of seg_wait) and uses no measurable CPU.
 */
#ifndef SHMIMG_LIVE_H
#define SHMIMG_LIVE_H

#include "segment.h"

#include <SDL.h>

#define LIVE_CHECK_MS 2000

enum live_event_code {
    LIVE_NEW_IMAGE = 1, /* a new image is complete */
    LIVE_REPLACED = 2,  /* the key now names another file: reattach */
    LIVE_BROKEN = 3,    /* the file was truncated under us; the thread
                           has ended */
};

typedef struct live live;

/* Starts watching s, which must stay attached until live_stop.
 * event_type: an SDL_RegisterEvents type; the event's code is a
 * live_event_code, its data1 the generation (uintptr_t) it is about. Returns: the watcher, or NULL (SDL_GetError). */
live *live_start(seg *s, Uint32 event_type);

/* Waits for key to have a segment file (readers never make one), posts
 * LIVE_REPLACED once it has, and ends: the app then attaches and starts
 * a watcher of the file. Returns: the watcher, or NULL (SDL_GetError). */
live *live_start_key(const char *key, Uint32 event_type);

/* Wakes the thread, waits for it to end, frees it. */
void live_stop(live *l);

#endif
