/* events.c - see events.h. */
#include "events.h"

/* Written once by events_register, before any reader exists. */
static Uint32 first = (Uint32)-1;

int events_register(void)
{
    first = SDL_RegisterEvents(EVENT_COUNT);
    return first == (Uint32)-1 ? SDL_SetError("no room for user events") : 0;
}

Uint32 event_type(app_event e) { return first + (Uint32)e; }

int event_of(Uint32 type)
{
    return first != (Uint32)-1 && type >= first && type - first < EVENT_COUNT
               ? (int)(type - first)
               : -1;
}
