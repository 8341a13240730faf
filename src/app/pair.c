/* pair.c - see pair.h; also where assets are found. */
#include "pair.h"

#include "app.h"
#include "image.h"
#include "text.h"

#include <SDL.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int app_asset_path(const char *name, char *buf, size_t size)
{
    char exe_dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
    exe_dir[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe_dir, '/');
    if (slash)
        *slash = '\0';
    const char *env = getenv("SHMIMG_ASSETS_DIR");
    char beside[PATH_MAX + 32];
    snprintf(beside, sizeof beside, "%s/../share/shmimg", exe_dir);
    const char *dirs[] = {env, beside, SHMIMG_SOURCE_ASSETS_DIR,
                          SHMIMG_ASSETS_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        snprintf(buf, size, "%s/%s", dirs[i], name);
        if (access(buf, R_OK) == 0)
            return 0;
    }
    return -1;
}

static pid_t spawn(char *const argv[])
{
    /* The resolved path, not /proc/self/exe, so that ps and top name the
     * windows "shmimg" rather than "exe". */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "shmimg: cannot find my own executable: %s\n",
                strerror(errno));
        return -1;
    }
    self[n] = '\0';
    /* We ignore SIGINT (below); the windows must not inherit that, or
     * Ctrl-C would not reach SDL, which turns it into a clean quit. */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int e = posix_spawn(&pid, self, NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (e != 0) {
        fprintf(stderr, "shmimg: cannot start a window: %s\n", strerror(e));
        return -1;
    }
    return pid;
}

int pair_run(const char *key, bool live, const char *image)
{
    char sample[PATH_MAX];
    if (!image) {
        if (app_asset_path("sample.png", sample, sizeof sample) < 0) {
            fprintf(stderr, "shmimg: cannot find the sample image "
                            "(sample.png); give an IMAGE\n");
            return 1;
        }
        image = sample;
    }
    /* Each window gets half the usable display, at most the image's size. */
    if (SDL_Init(SDL_INIT_VIDEO) < 0) {
        fprintf(stderr, "shmimg: cannot open a window: %s\n", SDL_GetError());
        return 1;
    }
    SDL_Rect usable = {0, 0, 1280, 720};
    SDL_GetDisplayUsableBounds(0, &usable);
    SDL_Quit();
    int w = 480, h = 320;
    image_probe_file(image, &w, &h);
    h += TEXT_CELL_H + 2 * TEXT_PADDING; /* the status line */
    int gap = 16;
    w = SDL_max(480, SDL_min(w, usable.w / 2 - gap));
    h = SDL_max(120, SDL_min(h, usable.h - 64));
    int x0 = usable.x + SDL_max(0, (usable.w - 2 * w - gap) / 2);
    int y0 = usable.y + SDL_max(0, (usable.h - h) / 3);

    char left_geo[64], right_geo[64];
    snprintf(left_geo, sizeof left_geo, "%dx%d+%d+%d", w, h, x0, y0);
    snprintf(right_geo, sizeof right_geo, "%dx%d+%d+%d", w, h, x0 + w + gap,
             y0);
    char *left[] = {"shmimg", "--key",       (char *)key, "--geometry",
                    left_geo, (char *)image, NULL};
    char *right[] = {"shmimg",     "--key",   (char *)key,
                     "--geometry", right_geo, live ? "--live" : NULL,
                     NULL};

    /* Ctrl-C reaches both windows through the process group; we only
     * wait for them. */
    signal(SIGINT, SIG_IGN);
    pid_t pids[2] = {spawn(left), -1};
    if (pids[0] > 0)
        pids[1] = spawn(right);
    int status = 0;
    for (int i = 0; i < 2; i++) {
        if (pids[i] < 0) {
            status = 1;
            continue;
        }
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            status = 1;
    }
    return status;
}
