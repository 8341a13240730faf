/* loader.c - see loader.h. */
#include "loader.h"

#include "image.h"

struct loader {
    Uint32 event_type;
    SDL_Thread *thread; /* non-NULL while a decode runs or is unreported */
};

typedef struct job {
    loader *owner;
    char *path;
} job;

void loader_result_free(loader_result *r)
{
    if (!r)
        return;
    SDL_FreeSurface(r->surface);
    image_anim_free(r->anim);
    SDL_free(r->path);
    SDL_free(r);
}

/* Decodes, then converts to the canonical format here too: the window
 * shows (and publishes) this private RGBA32 copy, off the event loop. */
static int decode(void *arg)
{
    job *j = arg;
    loader_result *r = SDL_calloc(1, sizeof *r);
    if (!r) {
        SDL_free(j->path);
        SDL_free(j);
        return -1;
    }
    r->path = j->path;
    SDL_Surface *raw = NULL;
    r->rc = image_load_animation(r->path, &r->anim, &r->err);
    if (r->rc == 0 && r->anim)
        raw = SDL_DuplicateSurface(r->anim->frames[0]);
    else if (r->rc == 0)
        r->rc = image_load(r->path, &raw, &r->err);
    if (r->rc == 0 && !raw)
        r->rc = seg_fail(&r->err, SEG_ESYS, "%s: out of memory",
                            r->path);
    if (r->rc == 0) {
        r->surface = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_RGBA32, 0);
        SDL_FreeSurface(raw);
        if (!r->surface)
            r->rc = seg_fail(&r->err, SEG_ESYS,
                                "%s: cannot convert the image: %s", r->path,
                                SDL_GetError());
    }
    SDL_Event e = {.user = {.type = j->owner->event_type, .data1 = r}};
    SDL_free(j);
    if (SDL_PushEvent(&e) != 1)
        loader_result_free(r); /* the app is shutting down */
    return 0;
}

loader *loader_create(Uint32 event_type)
{
    loader *l = SDL_calloc(1, sizeof *l);
    if (l)
        l->event_type = event_type;
    return l;
}

void loader_destroy(loader *l)
{
    if (!l)
        return;
    if (l->thread) {
        SDL_WaitThread(l->thread, NULL);
        /* Its event may still be queued: take it out and free it. */
        SDL_Event e;
        while (SDL_PeepEvents(&e, 1, SDL_GETEVENT, l->event_type,
                              l->event_type) == 1)
            loader_result_free(e.user.data1);
    }
    SDL_free(l);
}

int loader_start(loader *l, const char *path)
{
    if (l->thread)
        return SDL_SetError("a decode is already running");
    job *j = SDL_calloc(1, sizeof *j);
    char *copy = SDL_strdup(path);
    if (!j || !copy) {
        SDL_free(j);
        SDL_free(copy);
        return SDL_OutOfMemory();
    }
    j->owner = l;
    j->path = copy;
    l->thread = SDL_CreateThread(decode, "shmimg-decode", j);
    if (!l->thread) {
        SDL_free(copy);
        SDL_free(j);
        return -1;
    }
    return 0;
}

bool loader_busy(const loader *l) { return l->thread != NULL; }

void loader_finished(loader *l)
{
    if (l->thread) {
        SDL_WaitThread(l->thread, NULL);
        l->thread = NULL;
    }
}
