/* job.h - one job at a time on a thread of its own, its result posted to
 * the event loop as an SDL user event: the common part of the loader, the
 * saver, the shrinker and the file chooser.
 *
 * Contract:
 *   - job_start runs fn(arg) on a new thread; what fn returns (a result
 *     the caller's module defines, or NULL when it had no memory for one)
 *     comes back as an event of the job's type with user.data1 = result.
 *   - The loop calls job_finished when it handles that event: it joins the
 *     thread, and the next job may start.
 *   - job_destroy waits for a running job, and frees with free_result
 *     (on the caller's thread) a result that never reached the loop: still
 *     queued, or refused by a full queue.
 */
#ifndef SHMIMG_JOB_H
#define SHMIMG_JOB_H

#include <SDL.h>
#include <stdbool.h>

typedef struct job job;

typedef void *job_fn(void *arg);
typedef void job_free_fn(void *result);

/* name: the thread's (for debuggers); free_result: frees a result. */
job *job_create(Uint32 event_type, const char *name, job_free_fn *free_result);

/* Returns: 0; -1 when a job runs or no thread could be made (SDL_GetError
 * says which). On -1, arg is still the caller's. */
int job_start(job *j, job_fn *fn, void *arg);

bool job_busy(const job *j);

/* Joins the thread whose result event the loop is handling. */
void job_finished(job *j);

void job_destroy(job *j);

#endif
