/* chooser.c - see chooser.h. */
#include "chooser.h"

#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct chooser {
    job *job;         /* the open chooser, one at a time */
    SDL_atomic_t pid; /* of the tool while it runs, else 0 */
};

typedef struct chooser_job {
    chooser *owner;
    int fd; /* the read end of the tool's stdout */
    pid_t pid;
    chooser_result *result;
} chooser_job;

/* Returns: true when PATH has an executable named name. */
static bool in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char dir[PATH_MAX];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && n < sizeof dir - strlen(name) - 2) {
            snprintf(dir, sizeof dir, "%.*s/%s", (int)n, p, name);
            if (access(dir, X_OK) == 0)
                return true;
        }
        p += n + (p[n] == ':');
    }
    return false;
}

const char *chooser_tool(void)
{
    if (in_path("zenity"))
        return "zenity";
    if (in_path("kdialog"))
        return "kdialog";
    return NULL;
}

/* The thread: reads what the tool prints until it exits. */
static void *watch(void *arg)
{
    chooser_job *j = arg;
    enum { cap = PATH_MAX + 2 };
    char *out = SDL_malloc(cap), drain[256];
    size_t have = 0;
    for (;;) {
        bool keep = out && have < cap - 1; /* no path is longer */
        ssize_t n = read(j->fd, keep ? out + have : drain,
                         keep ? cap - 1 - have : sizeof drain);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (keep)
            have += (size_t)n;
    }
    close(j->fd);
    /* Its stdout is closed: the tool is ending. Not ours to signal any
     * more once reaped (the pid could be reused). */
    SDL_AtomicSet(&j->owner->pid, 0);
    int status;
    while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
        ;
    chooser_result *r = j->result;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (out) {
        out[have] = '\0';
        out[strcspn(out, "\n")] = '\0'; /* one file: its line */
    }
    if (out && r->status == 0 && out[0] && have < cap - 1)
        r->path = out;
    else
        SDL_free(out);
    SDL_free(j);
    return r;
}

static void free_result(void *arg)
{
    chooser_result *r = arg;
    SDL_free(r->path);
    SDL_free(r);
}

chooser *chooser_create(Uint32 event_type)
{
    chooser *c = SDL_calloc(1, sizeof *c);
    if (c &&
        !(c->job = job_create(event_type, "shmimg-chooser", free_result))) {
        SDL_free(c);
        c = NULL;
    }
    return c;
}

char *chooser_finished(chooser *c, chooser_result *r)
{
    job_finished(c->job);
    char *path = r->path;
    SDL_free(r);
    return path;
}

void chooser_destroy(chooser *c)
{
    if (!c)
        return;
    int pid = SDL_AtomicGet(&c->pid);
    if (pid > 0)
        kill(pid, SIGTERM); /* its stdout closes, the thread ends */
    job_destroy(c->job);
    SDL_free(c);
}

int chooser_open(chooser *c, const char *title)
{
    if (job_busy(c->job))
        return SDL_SetError("a file chooser is already open");
    const char *tool = chooser_tool();
    if (!tool)
        return SDL_SetError("no file chooser installed (zenity, kdialog)");
    char title_arg[256];
    snprintf(title_arg, sizeof title_arg, "--title=%s", title);
    char *zenity[] = {"zenity", "--file-selection", title_arg, NULL};
    char *kdialog[] = {"kdialog", "--title", (char *)title, "--getopenfilename",
                       ".",       "image/*", NULL};
    char **argv = strcmp(tool, "zenity") == 0 ? zenity : kdialog;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return SDL_SetError("cannot make a pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    pid_t pid;
    int e = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (e != 0) {
        close(fds[0]);
        return SDL_SetError("cannot start %s: %s", tool, strerror(e));
    }
    chooser_job *j = SDL_calloc(1, sizeof *j);
    chooser_result *r = SDL_calloc(1, sizeof *r);
    bool started = false;
    if (j && r) {
        snprintf(r->tool, sizeof r->tool, "%s", tool);
        *j = (chooser_job){.owner = c, .fd = fds[0], .pid = pid, .result = r};
        SDL_AtomicSet(&c->pid, pid);
        started = job_start(c->job, watch, j) == 0;
    }
    if (!started) {
        SDL_AtomicSet(&c->pid, 0);
        kill(pid, SIGTERM);
        close(fds[0]);
        waitpid(pid, NULL, 0);
        SDL_free(j);
        SDL_free(r);
        return j && r ? -1 : SDL_OutOfMemory();
    }
    return 0;
}

bool chooser_busy(const chooser *c) { return job_busy(c->job); }
