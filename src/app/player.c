/* player.c - see player.h. */
#include "player.h"

struct player {
    image_anim *anim;
    Uint32 event_type;
    int serial; /* tells this player's ticks from older ones' */
    int frame;  /* shown now */
    Uint64 due; /* SDL_GetTicks64() when the next frame is due */
    SDL_TimerID timer;
    bool paused;
};

/* Each player has its own serial: a tick already queued when its player
 * was destroyed is recognised and ignored. */
static int next_serial = 1;

/* The tick's event type: one per process (the app registers it once). */
static SDL_atomic_t tick_type;

/* SDL's timer thread: only posts the tick. The serial travels in the
 * parameter itself, not in memory a destroyed player would have freed. */
static Uint32 tick(Uint32 interval, void *serial)
{
    (void)interval;
    SDL_Event e = {0};
    e.user.type = (Uint32)SDL_AtomicGet(&tick_type);
    e.user.code = (int)(intptr_t)serial;
    SDL_PushEvent(&e);
    return 0; /* once: player_advance sets the next one */
}

static void arm(player *p)
{
    Uint64 now = SDL_GetTicks64();
    Uint32 wait = p->due > now ? (Uint32)(p->due - now) : 1;
    p->timer = SDL_AddTimer(wait, tick, (void *)(intptr_t)p->serial);
}

player *player_create(image_anim *anim, Uint32 event_type)
{
    player *p = SDL_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->anim = anim;
    p->event_type = event_type;
    SDL_AtomicSet(&tick_type, (int)event_type);
    p->serial = next_serial++;
    p->due = SDL_GetTicks64() + (Uint64)anim->delays_ms[0];
    arm(p);
    return p;
}

void player_destroy(player *p)
{
    if (!p)
        return;
    if (p->timer)
        SDL_RemoveTimer(p->timer);
    image_anim_free(p->anim);
    SDL_free(p);
}

bool player_owns_event(const player *p, const SDL_Event *e)
{
    return p && e->type == p->event_type && e->user.code == p->serial &&
           !p->paused;
}

SDL_Surface *player_advance(player *p)
{
    p->frame = (p->frame + 1) % p->anim->count;
    p->due += (Uint64)p->anim->delays_ms[p->frame];
    Uint64 now = SDL_GetTicks64();
    if (p->due + 1000 < now)
        p->due = now; /* far behind (the machine slept): no burst */
    arm(p);
    return p->anim->frames[p->frame];
}

void player_set_paused(player *p, bool paused)
{
    if (paused == p->paused)
        return;
    p->paused = paused;
    if (paused) {
        SDL_RemoveTimer(p->timer);
        p->timer = 0;
        p->serial = next_serial++; /* a tick in the queue is now stale */
    } else {
        p->due = SDL_GetTicks64() + (Uint64)p->anim->delays_ms[p->frame];
        arm(p);
    }
}

bool player_paused(const player *p) { return p->paused; }

const image_anim *player_anim(const player *p) { return p->anim; }

int player_frame(const player *p) { return p->frame; }
