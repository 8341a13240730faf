/* events.h - the window's own SDL user events: one enum, registered once.
 *
 * Threads (the decoder, the saver, the watchers) and timers talk to the
 * event loop only through these; app.c dispatches them with one switch.
 */
#ifndef SHMIMG_EVENTS_H
#define SHMIMG_EVENTS_H

#include <SDL.h>

typedef enum app_event {
    EVENT_LOADED,       /* loader.h: a file decoded (or not) */
    EVENT_LIVE,         /* live.h: a new frame, a replaced or broken file */
    EVENT_COLLAPSE,     /* a long message's time over the image is up */
    EVENT_SAVED,        /* saver.h: S finished */
    EVENT_SPIN,         /* the save spinner's next step */
    EVENT_GONE,         /* gone.h: the shown image's publisher exited */
    EVENT_SHRUNK,       /* shrink.h: the filtered copy is ready */
    EVENT_CHOSEN,       /* chooser.h: O's chooser closed */
    EVENT_TICK,         /* player.h: an animation's next frame is due */
    EVENT_STREAM_CHECK, /* time to see whether a stream stopped */
    EVENT_COUNT
} app_event;

/* Registers the events with SDL; call once, before any thread or timer
 * that posts one. Returns: 0, or -1 (SDL_GetError) when SDL has no room. */
int events_register(void);

/* The SDL event type of e. */
Uint32 event_type(app_event e);

/* Returns: the app_event of an SDL event type, or -1 for SDL's own. */
int event_of(Uint32 type);

#endif
