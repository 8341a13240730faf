/* loader.c - see loader.h. */
#include "loader.h"

#include "image.h"
#include "job.h"

struct loader {
    job *job; /* the decode, one at a time */
};

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
static void *decode(void *arg)
{
    loader_result *r = arg;
    SDL_Surface *raw = NULL;
    r->rc = image_load_animation(r->path, &r->anim, &r->err);
    if (r->rc == 0 && r->anim)
        raw = SDL_DuplicateSurface(r->anim->frames[0]);
    else if (r->rc == 0)
        r->rc = image_load(r->path, &raw, &r->err);
    if (r->rc == 0 && !raw)
        r->rc = seg_fail(&r->err, SEG_ESYS, "%s: out of memory", r->path);
    if (r->rc == 0) {
        r->surface = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_RGBA32, 0);
        SDL_FreeSurface(raw);
        if (!r->surface)
            r->rc =
                seg_fail(&r->err, SEG_ESYS, "%s: cannot convert the image: %s",
                         r->path, SDL_GetError());
    }
    return r;
}

static void free_result(void *r) { loader_result_free(r); }

loader *loader_create(Uint32 event_type)
{
    loader *l = SDL_calloc(1, sizeof *l);
    if (l && !(l->job = job_create(event_type, "shmimg-decode", free_result))) {
        SDL_free(l);
        l = NULL;
    }
    return l;
}

void loader_destroy(loader *l)
{
    if (!l)
        return;
    job_destroy(l->job);
    SDL_free(l);
}

int loader_start(loader *l, const char *path)
{
    if (job_busy(l->job))
        return SDL_SetError("a decode is already running");
    loader_result *r = SDL_calloc(1, sizeof *r);
    char *copy = SDL_strdup(path);
    if (!r || !copy) {
        SDL_free(r);
        SDL_free(copy);
        return SDL_OutOfMemory();
    }
    r->path = copy;
    if (job_start(l->job, decode, r) < 0) {
        loader_result_free(r);
        return -1;
    }
    return 0;
}

bool loader_busy(const loader *l) { return job_busy(l->job); }

void loader_finished(loader *l) { job_finished(l->job); }
