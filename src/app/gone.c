/* gone.c - see gone.h. */
#include "gone.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

struct gone {
    pid_t pid;
    int pidfd;  /* -1: the process had ended before we looked */
    int stopfd; /* eventfd: written by gone_stop */
    Uint32 event_type;
    SDL_Thread *thread;
};

static int watch(void *arg)
{
    gone *g = arg;
    struct pollfd fds[2] = {{.fd = g->stopfd, .events = POLLIN},
                            {.fd = g->pidfd, .events = POLLIN}};
    for (;;) {
        int n = g->pidfd < 0 ? 1 : poll(fds, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || fds[0].revents)
            return 0; /* stopped (or poll broke: say nothing) */
        break;        /* the pidfd is readable, or there was none: ended */
    }
    SDL_Event e = {.user = {.type = g->event_type, .code = (Sint32)g->pid}};
    SDL_PushEvent(&e);
    return 0;
}

gone *gone_start(pid_t pid, Uint32 event_type)
{
    if (pid < 1)
        return NULL;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0 && errno != ESRCH)
        return NULL; /* no pidfd_open (before Linux 5.3), or not ours */
    gone *g = SDL_calloc(1, sizeof *g);
    int stopfd = eventfd(0, EFD_CLOEXEC);
    if (!g || stopfd < 0)
        goto err;
    *g = (gone){
        .pid = pid, .pidfd = pidfd, .stopfd = stopfd, .event_type = event_type};
    g->thread = SDL_CreateThread(watch, "shmimg-gone", g);
    if (!g->thread)
        goto err;
    return g;
err:
    if (pidfd >= 0)
        close(pidfd);
    if (stopfd >= 0)
        close(stopfd);
    SDL_free(g);
    return NULL;
}

void gone_stop(gone *g)
{
    if (!g)
        return;
    uint64_t one = 1;
    (void)!write(g->stopfd, &one, sizeof one);
    SDL_WaitThread(g->thread, NULL);
    close(g->stopfd);
    if (g->pidfd >= 0)
        close(g->pidfd);
    SDL_free(g);
}
