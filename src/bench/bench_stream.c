/* bench_stream.c - row 15: 'shmimg publish --raw' reading 1920x1080 RGBA
 * frames from a pipe as fast as a writer can fill it, against `cat` of the
 * same bytes into /dev/null: what reading whole frames and publishing each
 * one costs over moving the bytes through the pipe at all. Both are real
 * processes, fed by the same writer. */
#include "bench.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { frame_w = 1920, frame_h = 1080 };

/* Writes `frames` copies of frame into fd, then closes it. */
static void write_frames(int fd, const unsigned char *frame, size_t size,
                         int frames)
{
    for (int i = 0; i < frames; i++)
        for (size_t done = 0; done < size;) {
            ssize_t n = write(fd, frame + done, size - done);
            if (n <= 0)
                _exit(1);
            done += (size_t)n;
        }
    close(fd);
    _exit(0);
}

/* Runs argv with its stdin fed `frames` frames by a writer process.
 * Returns: ms per frame, wall clock; -1 when something failed. */
static double feed(char *const argv[], const unsigned char *frame, size_t size,
                   int frames)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    double t0 = bench_now();
    pid_t writer = fork();
    if (writer == 0) {
        close(p[0]);
        write_frames(p[1], frame, size, frames);
    }
    close(p[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t reader;
    int e = posix_spawnp(&reader, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    int st_r = 0, st_w = 0;
    if (e == 0)
        waitpid(reader, &st_r, 0);
    else
        kill(writer, SIGKILL);
    waitpid(writer, &st_w, 0);
    double ms = (bench_now() - t0) * 1e3 / frames;
    bool ok = e == 0 && WIFEXITED(st_r) && WEXITSTATUS(st_r) == 0 &&
              WIFEXITED(st_w) && WEXITSTATUS(st_w) == 0;
    return ok ? ms : -1;
}

void bench_stream(const bench_opts *o)
{
    size_t size = (size_t)frame_w * frame_h * 4;
    unsigned char *frame = malloc(size);
    if (!frame)
        return;
    for (size_t i = 0; i < size; i++)
        frame[i] = (unsigned char)(i * 31 + (i >> 12));
    int frames = o->quick ? 60 : 300, reps = o->quick ? 3 : 7;
    char *publish[] = {(char *)o->shmimg, "publish", "--key",
                       "benchraw",        "--raw",   "1920x1080",
                       "--persist",       "-",       NULL};
    char *rm[] = {(char *)o->shmimg, "rm", "--key", "benchraw", NULL};
    char *cat[] = {"cat", NULL};
    double ours[7], base[7];
    int n = 0;
    for (int i = 0; i < reps; i++) {
        /* Alternate, so that both see the same machine. */
        double a = feed(publish, frame, size, frames);
        feed(rm, frame, 0, 1);
        double b = feed(cat, frame, size, frames);
        if (a < 0 || b < 0)
            continue;
        ours[n] = a;
        base[n++] = b;
    }
    free(frame);
    if (n == 0) {
        bench_note(o, "row 15 not measured: %s publish --raw failed",
                   o->shmimg);
        return;
    }
    stats s = stats_of(ours, n), c = stats_of(base, n);
    char note[160];
    snprintf(note, sizeof note,
             "%.0f frames/s (%.2f GB/s); cat %.0f frames/s; 60 fps needs "
             "16.7 ms a frame",
             1e3 / s.median, size / s.median / 1e6, 1e3 / c.median);
    bench_row_more(o,
                   &(row){"15", "publish --raw from a pipe, per frame",
                          "1920x1080", "ms", s, "cat > /dev/null", c, "", 0,
                          true},
                   &(row_more){ROW_BY_RATIO, note, NULL});
}
