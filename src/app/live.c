/* live.c - see live.h. */
#include "live.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct live {
    seg *seg;
    Uint32 event_type;
    atomic_bool stop;
    atomic_bool done;
    SDL_Thread *thread;
};

static void post(live *l, int code, uint32_t generation)
{
    SDL_Event e = {.user = {.type = l->event_type, .code = code,
                            .data1 = (void *)(uintptr_t)generation}};
    SDL_PushEvent(&e);
}

static int watch(void *arg)
{
    live *l = arg;
    uint32_t seen = seg_generation(l->seg);
    for (;;) {
        uint32_t now;
        int rc = seg_wait(l->seg, seen, LIVE_CHECK_MS, &l->stop, &now, NULL);
        if (rc == SHMIMG_ECANCELED)
            break;
        if (rc == 0) {
            seen = now;
            post(l, LIVE_NEW_IMAGE, now);
        } else if (rc == SHMIMG_EGONE) {
            post(l, LIVE_REPLACED, seen); /* the app attaches again, and starts
                                       a watcher on the new file */
            break;
        } else if (rc == SHMIMG_ECORRUPT) {
            post(l, LIVE_BROKEN, seen); /* truncated: nothing more will come */
            break;
        }
    }
    atomic_store(&l->done, true);
    return 0;
}

live *live_start(seg *s, Uint32 event_type)
{
    live *l = SDL_calloc(1, sizeof *l);
    if (!l) {
        SDL_OutOfMemory();
        return NULL;
    }
    l->seg = s;
    l->event_type = event_type;
    atomic_init(&l->stop, false);
    atomic_init(&l->done, false);
    l->thread = SDL_CreateThread(watch, "shmimg-live", l);
    if (!l->thread) {
        SDL_free(l);
        return NULL;
    }
    return l;
}

void live_stop(live *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, true);
    /* A wake can slip in between the thread's check of stop and its
     * futex wait; repeat it until the thread has seen stop. */
    while (!atomic_load(&l->done)) {
        seg_wake_waiters(l->seg);
        SDL_Delay(1);
    }
    SDL_WaitThread(l->thread, NULL);
    SDL_free(l);
}
