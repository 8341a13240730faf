/* gone.h - tells the window when the process that published the image on
 * screen has ended: a thread sleeps in poll() on a pidfd of that process
 * (Linux 5.3), which becomes readable when it exits, and posts an SDL user
 * event. No polling: the thread sleeps until the exit or until stopped.
 *
 * The pid comes from the segment (seg_image.publisher_pid): untrusted, and
 * meaningful only in our PID namespace. It is only ever used to open a
 * pidfd and to be shown as a number. A pid reused between the publish and
 * the pull would be watched in place of the publisher: the window would
 * then say nothing rather than something wrong.
 */
#ifndef SHMIMG_GONE_H
#define SHMIMG_GONE_H

#include <SDL.h>
#include <sys/types.h>

typedef struct gone gone;

/* Starts watching pid. event_type: an SDL_RegisterEvents type; the event
 * (code = pid) is posted once, when the process has ended, at once if it
 * already has. Returns: the watcher, or NULL when pid cannot be watched
 * (no pidfd_open, pid < 1: then nothing is ever posted). */
gone *gone_start(pid_t pid, Uint32 event_type);

/* Stops the thread (it posts nothing after this returns) and frees it. */
void gone_stop(gone *g);

#endif
