/* saver.c - see saver.h. */
#include "saver.h"

#include "save.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct saver {
    Uint32 event_type;
    SDL_Thread *thread; /* non-NULL while a save runs or is unreported */
};

typedef struct job {
    saver *owner;
    SDL_Surface *image;
    char key[128];
} job;

/* Tries shmimg-KEY-STAMP.png, then -1, -2 ...: linked into place only
 * under a name nobody has, atomically (IMAGE_SAVE_NO_CLOBBER). */
static void save_new(job *j, saver_result *r)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    if (!getcwd(r->dir, sizeof r->dir))
        snprintf(r->dir, sizeof r->dir, ".");
    r->rc = SEG_EEXIST;
    for (int n = 0; n < 1000 && r->rc == SEG_EEXIST; n++) {
        if (n == 0)
            snprintf(r->name, sizeof r->name, "shmimg-%s-%s.png", j->key,
                     stamp);
        else
            snprintf(r->name, sizeof r->name, "shmimg-%s-%s-%d.png", j->key,
                     stamp, n);
        r->rc = image_save(j->image, r->name, IMAGE_OUT_PNG,
                           IMAGE_SAVE_NO_CLOBBER, &r->err);
    }
}

static int run(void *arg)
{
    job *j = arg;
    saver_result *r = SDL_calloc(1, sizeof *r);
    if (r) {
        Uint64 t0 = SDL_GetPerformanceCounter();
        r->width = j->image->w;
        r->height = j->image->h;
        save_new(j, r);
        r->seconds = (double)(SDL_GetPerformanceCounter() - t0) /
                     (double)SDL_GetPerformanceFrequency();
    }
    SDL_Event e = {.user = {.type = j->owner->event_type, .data1 = r}};
    SDL_FreeSurface(j->image);
    SDL_free(j);
    if (r && SDL_PushEvent(&e) != 1)
        SDL_free(r); /* the app is shutting down */
    return 0;
}

saver *saver_create(Uint32 event_type)
{
    saver *s = SDL_calloc(1, sizeof *s);
    if (s)
        s->event_type = event_type;
    return s;
}

void saver_destroy(saver *s)
{
    if (!s)
        return;
    if (s->thread) {
        SDL_WaitThread(s->thread, NULL);
        SDL_Event e; /* its event may be queued: take it out, free it */
        while (SDL_PeepEvents(&e, 1, SDL_GETEVENT, s->event_type,
                              s->event_type) == 1)
            SDL_free(e.user.data1);
    }
    SDL_free(s);
}

int saver_start(saver *s, SDL_Surface *image, const char *key)
{
    if (s->thread) {
        SDL_FreeSurface(image);
        return SDL_SetError("a save is already running");
    }
    job *j = SDL_calloc(1, sizeof *j);
    if (!j) {
        SDL_FreeSurface(image);
        return SDL_OutOfMemory();
    }
    j->owner = s;
    j->image = image;
    snprintf(j->key, sizeof j->key, "%s", key);
    s->thread = SDL_CreateThread(run, "shmimg-save", j);
    if (!s->thread) {
        SDL_FreeSurface(image);
        SDL_free(j);
        return -1;
    }
    return 0;
}

bool saver_busy(const saver *s) { return s->thread != NULL; }

void saver_finished(saver *s)
{
    if (s->thread) {
        SDL_WaitThread(s->thread, NULL);
        s->thread = NULL;
    }
}
