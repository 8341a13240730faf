/* bench_memory.c - row 8: peak resident memory of the command line
 * publishing and pulling a 3840x2160 image, in payloads, against a bare
 * shmimg process (info) measured the same way in the same run. */
#include "bench.h"

#include <SDL.h>
#include <SDL_image.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs argv quietly; returns its peak RSS in MiB, or -1 if it failed. */
static double peak_rss_mib(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        return -1;
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

void bench_memory(const bench_opts *o)
{
    int w = o->quick ? 1920 : 3840, h = o->quick ? 1080 : 2160;
    char size[32], png[4096], out[4096];
    snprintf(size, sizeof size, "%dx%d", w, h);
    snprintf(png, sizeof png, "%s/memory-in.png", getenv("SHMIMG_DIR"));
    snprintf(out, sizeof out, "%s/memory-out.png", getenv("SHMIMG_DIR"));
    /* The image is made by a child that exits, so that this process
     * stays small: a child's peak RSS starts from its parent's (Linux
     * carries the high-water mark across fork and exec). */
    pid_t maker = fork();
    if (maker == 0) {
        SDL_Surface *s =
            SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGBA32);
        for (int y = 0; s && y < h; y++)
            for (int x = 0; x < w; x++)
                ((Uint32 *)((Uint8 *)s->pixels + y * s->pitch))[x] =
                    (Uint32)(x * 7 + y * 13) | 0xff000000u;
        _exit(s && IMG_SavePNG(s, png) == 0 ? 0 : 1);
    }
    int st;
    if (maker < 0 || waitpid(maker, &st, 0) < 0 || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0) {
        fprintf(stderr, "shmimg-bench: cannot write %s\n", png);
        exit(1);
    }
    double payload_mib = (double)w * h * 4 / (1024.0 * 1024.0);

    char *publish[] = {(char *)o->shmimg, "publish", "--persist", png, NULL};
    char *pull[] = {(char *)o->shmimg, "pull", "-o", out, NULL};
    char *info[] = {(char *)o->shmimg, "info", NULL};
    char *rm[] = {(char *)o->shmimg, "rm", NULL};
    int reps = o->quick ? 1 : 3;
    double pub[3], pul[3], bare[3];
    for (int r = 0; r < reps; r++) {
        pub[r] = peak_rss_mib(publish);
        bare[r] = peak_rss_mib(info);
        pul[r] = peak_rss_mib(pull);
        peak_rss_mib(rm);
        if (pub[r] < 0 || pul[r] < 0 || bare[r] < 0) {
            fprintf(stderr, "shmimg-bench: running %s failed\n", o->shmimg);
            exit(1);
        }
    }
    stats b = stats_of(bare, reps), p = stats_of(pub, reps),
          q = stats_of(pul, reps);
    /* Publish holds the decoded image and the mapping; pull the mapping
     * and one copy. Both: a bare process plus two payloads, at most. */
    double limit = (b.median + 2 * payload_mib) / b.median;
    bench_row(o, &(row){"8a", "peak RSS of 'shmimg publish'", size, "MiB", p,
                        "bare 'shmimg info'", b, "<= bare + 2 payloads", limit,
                        true});
    bench_row(o, &(row){"8b", "peak RSS of 'shmimg pull' (mapping + copy)",
                        size, "MiB", q, "bare 'shmimg info'", b,
                        "<= bare + 2 payloads", limit, true});
    bench_note(o,
               "    payload %.1f MiB: publish = bare + %.2f payloads, pull = "
               "bare + %.2f payloads",
               payload_mib, (p.median - b.median) / payload_mib,
               (q.median - b.median) / payload_mib);
    unlink(png);
    unlink(out);
}
