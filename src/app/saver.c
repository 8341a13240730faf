/* saver.c - see saver.h. */
#include "saver.h"

#include "job.h"
#include "save.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct saver {
    job *job; /* the save, one at a time */
};

typedef struct save_job {
    SDL_Surface *image;
    char key[128];
} save_job;

/* Tries shmimg-KEY-STAMP.png, then -1, -2 ...: linked into place only
 * under a name nobody has, atomically (IMAGE_SAVE_NO_CLOBBER). */
static void save_new(const save_job *j, saver_result *r)
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

static void *run(void *arg)
{
    save_job *j = arg;
    saver_result *r = SDL_calloc(1, sizeof *r); /* NULL: said by the app */
    if (r) {
        Uint64 t0 = SDL_GetPerformanceCounter();
        r->width = j->image->w;
        r->height = j->image->h;
        save_new(j, r);
        r->seconds = (double)(SDL_GetPerformanceCounter() - t0) /
                     (double)SDL_GetPerformanceFrequency();
    }
    SDL_FreeSurface(j->image);
    SDL_free(j);
    return r;
}

static void free_result(void *r) { SDL_free(r); }

saver *saver_create(Uint32 event_type)
{
    saver *s = SDL_calloc(1, sizeof *s);
    if (s && !(s->job = job_create(event_type, "shmimg-save", free_result))) {
        SDL_free(s);
        s = NULL;
    }
    return s;
}

void saver_destroy(saver *s)
{
    if (!s)
        return;
    job_destroy(s->job); /* waits: the file is then whole, or not there */
    SDL_free(s);
}

int saver_start(saver *s, SDL_Surface *image, const char *key)
{
    if (job_busy(s->job)) {
        SDL_FreeSurface(image);
        return SDL_SetError("a save is already running");
    }
    save_job *j = SDL_calloc(1, sizeof *j);
    if (!j) {
        SDL_FreeSurface(image);
        return SDL_OutOfMemory();
    }
    j->image = image;
    snprintf(j->key, sizeof j->key, "%s", key);
    if (job_start(s->job, run, j) < 0) {
        SDL_FreeSurface(image);
        SDL_free(j);
        return -1;
    }
    return 0;
}

bool saver_busy(const saver *s) { return job_busy(s->job); }

void saver_finished(saver *s) { job_finished(s->job); }
