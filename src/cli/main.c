/* main.c - the shmimg executable: a subcommand, or the window.
 *
 * Where to start reading: cli.c for the subcommands, ../app/app.c for the
 * window, ../lib/segment.h for the shared segment they both use.
 */
#include "app.h"
#include "cli.h"
#include "escape.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef SHMIMG_VERSION
#define SHMIMG_VERSION "0"
#endif

static const char help[] =
    "shmimg - share images and video frames between processes through\n"
    "shared memory\n"
    "\n"
    "Usage:\n"
    "  shmimg [--key K] [--live] [--geometry WxH+X+Y] [IMAGE]\n"
    "                                      open a window; drop an image on it\n"
    "                                      (or press O) to publish it, P to\n"
    "                                      pull, L to follow live\n"
    "  shmimg --pair [--key K] [--live] [IMAGE]\n"
    "                                      two windows side by side\n"
    "  shmimg publish [--key K] [--persist] [--share group|all] IMAGE\n"
    "                                      publish (an animated GIF plays),\n"
    "                                      stay attached until a signal such\n"
    "                                      as SIGINT, SIGTERM or SIGHUP\n"
    "                                      (--persist: exit at once and keep\n"
    "                                      the segment until 'rm'; of an\n"
    "                                      animated GIF, the first frame;\n"
    "                                      --share: let the group or everyone\n"
    "                                      read it)\n"
    "  shmimg publish [--key K] [--persist] [--share group|all] --raw WxH\n"
    "         [--fps F] FILE|-             publish raw RGBA frames from a\n"
    "                                      file, FIFO or stdin (--persist:\n"
    "                                      exit at its end, keep the last)\n"
    "  shmimg pull [--key K] [--wait SECONDS] [-o OUT]\n"
    "                                      save the image (.png, .bmp, .jpg;\n"
    "                                      '-' is PNG on stdout; default\n"
    "                                      KEY.png); --wait: the next image\n"
    "  shmimg pull [--key K] --follow [--frames N] [--wait S] [--raw] -o OUT\n"
    "                                      every new frame: raw (-o - for\n"
    "                                      stdout) or numbered images\n"
    "                                      (frame-%06d.png)\n"
    "  shmimg info [--key K] [--json]      the segment's header and buffers\n"
    "  shmimg list [--json]                every segment, alive or stale\n"
    "  shmimg rm [--key K]                 remove a segment\n"
    "\n"
    "Keys are 1-64 of A-Z a-z 0-9 . _ - (not starting with . or -);\n"
    "default "
    "'shmimg'. Key K is the file $SHMIMG_DIR/shmimg-K (default /dev/shm).\n"
    "SHMIMG_MAX_PIXELS limits decoded images (default 268435456).\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

/* Gives each closed standard stream /dev/null, so that no file opened
 * later takes its number: a segment opened as fd 1 would receive every
 * printf over its header. Returns: bit n set when fd n was closed; -1
 * when /dev/null cannot be opened (nothing safe is left to do). */
static int fill_closed_stdio(void)
{
    int closed = 0;
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* The lowest free number: fd itself, as the lower ones are open. */
        int got = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
        if (got != fd)
            return -1;
        closed |= 1 << fd;
    }
    return closed;
}

/* Whether word, given where an IMAGE may stand, is more likely a mistyped
 * subcommand: not a file, no extension, not an option. */
static bool looks_like_command(const char *word)
{
    const char *base = strrchr(word, '/');
    base = base ? base + 1 : word;
    return word[0] != '-' && !strchr(base, '.') && access(word, F_OK) != 0;
}

/* The exit status of --help and --version: whether their text arrived. */
static int written(int closed)
{
    if (!(closed & 1 << STDOUT_FILENO) && fflush(stdout) == 0 &&
        !ferror(stdout))
        return 0;
    if (errno != EPIPE)
        fprintf(stderr, "shmimg: cannot write to standard output: %s\n",
                closed & 1 << STDOUT_FILENO ? "it is closed" : strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    int closed = fill_closed_stdio();
    if (closed < 0)
        return 1;
    /* A reader that goes away is an EPIPE where we write (and checked
     * there), not a death that skips the clean-up. */
    signal(SIGPIPE, SIG_IGN);
    cli_set_closed_stdio((unsigned)closed);
    /* Before any thread uses SDL: the ceiling on SDL's allocations that
     * stops decompression bombs in every format (image.h). */
    image_limit_allocations();
    if (argc >= 2 && cli_is_command(argv[1]))
        return cli_run(argc - 1, argv + 1);
    if (argc >= 2 && looks_like_command(argv[1])) {
        const char *near = cli_nearest_command(argv[1]);
        char word[256];
        escape_display(argv[1], word, sizeof word);
        if (near)
            fprintf(stderr,
                    "shmimg: '%s' is not a command; did you mean "
                    "'%s'? (shmimg --help)\n",
                    word, near);
        else
            fprintf(stderr,
                    "shmimg: '%s' is neither a command (publish, "
                    "pull, info, list, rm) nor an image file "
                    "(shmimg --help)\n",
                    word);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return written(closed);
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("shmimg %s\n", SHMIMG_VERSION);
            return written(closed);
        }
    }
    return app_main(argc, argv);
}
