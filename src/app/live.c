/* live.c - see live.h. */
#include "live.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct live {
    seg *seg; /* the segment watched, or NULL: waiting for key */
    char key[SEG_KEY_MAX + 1];
    uint32_t seen; /* the generation the app already knows of */
    Uint32 event_type;
    atomic_bool stop;
    atomic_bool done;
    SDL_Thread *thread;
};

static void post(live *l, int code, uint32_t generation)
{
    SDL_Event e = {.user = {.type = l->event_type,
                            .code = code,
                            .data1 = (void *)(uintptr_t)generation}};
    SDL_PushEvent(&e);
}

/* No segment yet: wait for the key's file to appear (a reader never
 * makes one), then tell the app to attach, as after a replacement. */
static int watch_key(void *arg)
{
    live *l = arg;
    if (seg_wait_for_key(l->key, -1, &l->stop, NULL) == 0)
        post(l, LIVE_REPLACED, 0);
    atomic_store(&l->done, true);
    return 0;
}

static int watch(void *arg)
{
    live *l = arg;
    uint32_t seen = l->seen;
    for (;;) {
        uint32_t now;
        int rc = seg_wait(l->seg, seen, LIVE_CHECK_MS, &l->stop, &now, NULL);
        if (rc == SEG_ECANCELED)
            break;
        if (rc == 0) {
            seen = now;
            post(l, LIVE_NEW_IMAGE, now);
        } else if (rc == SEG_EGONE) {
            post(l, LIVE_REPLACED, seen); /* the app attaches again, and starts
                                             a watcher on the new file */
            break;
        } else if (rc == SEG_ECORRUPT) {
            post(l, LIVE_BROKEN, seen); /* truncated: nothing more will come */
            break;
        }
    }
    atomic_store(&l->done, true);
    return 0;
}

static live *start(seg *s, const char *key, Uint32 event_type)
{
    live *l = SDL_calloc(1, sizeof *l);
    if (!l) {
        SDL_OutOfMemory();
        return NULL;
    }
    l->seg = s;
    /* Read here, not in the thread: a frame published between this call
     * and the thread's first look would otherwise count as already seen,
     * while the app, which looked before, never heard of it. */
    l->seen = s ? seg_generation(s) : 0;
    SDL_strlcpy(l->key, key ? key : "", sizeof l->key);
    l->event_type = event_type;
    atomic_init(&l->stop, false);
    atomic_init(&l->done, false);
    l->thread = SDL_CreateThread(s ? watch : watch_key, "shmimg-live", l);
    if (!l->thread) {
        SDL_free(l);
        return NULL;
    }
    return l;
}

live *live_start(seg *s, Uint32 event_type)
{
    return start(s, NULL, event_type);
}

live *live_start_key(const char *key, Uint32 event_type)
{
    return start(NULL, key, event_type);
}

void live_stop(live *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, true);
    /* A wake can slip in between the thread's check of stop and its
     * futex wait; repeat it until the thread has seen stop. */
    while (!atomic_load(&l->done)) {
        if (l->seg) /* a key's wait looks at stop every 250 ms */
            seg_wake_waiters(l->seg);
        SDL_Delay(1);
    }
    SDL_WaitThread(l->thread, NULL);
    SDL_free(l);
}
