/* job.c - see job.h. */
#include "job.h"

struct job {
    Uint32 event_type;
    const char *name;
    job_free_fn *free_result;
    SDL_Thread *thread; /* non-NULL while a job runs or is unreported */
    job_fn *fn;         /* the running job: set before its thread starts */
    void *arg;
    void *unposted; /* a result the queue refused (SDL shutting down) */
};

static int run(void *arg)
{
    job *j = arg;
    void *result = j->fn(j->arg);
    SDL_Event e = {.user = {.type = j->event_type, .data1 = result}};
    if (SDL_PushEvent(&e) != 1)
        j->unposted = result; /* freed by job_destroy, on the loop's thread */
    return 0;
}

job *job_create(Uint32 event_type, const char *name, job_free_fn *free_result)
{
    job *j = SDL_calloc(1, sizeof *j);
    if (j)
        *j = (job){
            .event_type = event_type, .name = name, .free_result = free_result};
    return j;
}

int job_start(job *j, job_fn *fn, void *arg)
{
    if (j->thread)
        return SDL_SetError("%s: a job is already running", j->name);
    j->fn = fn;
    j->arg = arg;
    j->thread = SDL_CreateThread(run, j->name, j);
    return j->thread ? 0 : -1;
}

bool job_busy(const job *j) { return j->thread != NULL; }

void job_finished(job *j)
{
    if (j->thread) {
        SDL_WaitThread(j->thread, NULL);
        j->thread = NULL;
    }
}

void job_destroy(job *j)
{
    if (!j)
        return;
    if (j->thread) {
        SDL_WaitThread(j->thread, NULL);
        SDL_Event e;
        while (SDL_PeepEvents(&e, 1, SDL_GETEVENT, j->event_type,
                              j->event_type) == 1)
            if (e.user.data1)
                j->free_result(e.user.data1);
        if (j->unposted)
            j->free_result(j->unposted);
    }
    SDL_free(j);
}
