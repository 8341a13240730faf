/* options.c - the window's command line (--key, --live, --pair,
 * --geometry, an image), the first window's size, and what is checked
 * before SDL starts: the quit signals' routing, the Wayland seat.
 */
#include "app_internal.h"

#include "escape.h"
#include "quitsig.h"
#include "wlseat.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
    char raw[1024], shown[6 * sizeof raw];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_display(raw, shown, sizeof shown); /* it may echo arguments */
    fprintf(stderr, "shmimg: %s", shown);
    fprintf(stderr, " (usage: shmimg [--key K] [--live] [--pair] "
                    "[--geometry WxH+X+Y] [IMAGE]; shmimg --help)\n");
    return 2;
}

int app_parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"live", no_argument, NULL, 'l'},
        {"pair", no_argument, NULL, 'p'},
        {"geometry", required_argument, NULL, 'g'},
        {0},
    };
    *o = (options){.key = SEG_DEFAULT_KEY};
    opterr = 0;
    optind = 1;
    unsigned given = 0; /* bit i: longopts[i] seen */
    int c, i;
    while ((i = -1, c = getopt_long(argc, argv, ":k:", longopts, &i)) != -1) {
        if (c == 'k')
            i = 0;
        if (i >= 0 && (given & 1u << i))
            return usage("option --%s given twice", longopts[i].name);
        if (i >= 0)
            given |= 1u << i;
        /* "--key --live": a forgotten value, not a key named "--live". */
        if (optarg && optarg[0] == '-' && optarg[1] != '\0')
            return usage("option --%s needs a value, got the option '%s'",
                         longopts[i].name, optarg);
        switch (c) {
        case 'k': o->key = optarg; break;
        case 'l': o->live = true; break;
        case 'p': o->pair = true; break;
        case 'g': {
            SDL_Rect *g = &o->geometry;
            char end;
            if (sscanf(optarg, "%dx%d+%d+%d%c", &g->w, &g->h, &g->x, &g->y,
                       &end) != 4 ||
                g->w <= 0 || g->h <= 0)
                return usage("--geometry wants WxH+X+Y, got '%s'", optarg);
            o->has_geometry = true;
            break;
        }
        case ':': return usage("option %s needs a value", argv[optind - 1]);
        default: return usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        o->image = argv[optind++];
    if (optind < argc)
        return usage("one IMAGE at most, got also '%s'", argv[optind]);
    seg_err err;
    if (seg_key_check(o->key, &err) < 0)
        return usage("%s", err.msg);
    return 0;
}

/* The first window opens sized to its image (read from the file's header,
 * so before the decode), clamped to the usable display area. */
SDL_Rect app_initial_geometry(const options *o)
{
    if (o->has_geometry)
        return o->geometry;
    SDL_Rect r = {SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, default_w,
                  default_h};
    int w, h;
    if (o->image && image_probe_file(o->image, &w, &h) == 0) {
        r.w = w;
        r.h = h + status_h;
    }
    SDL_Rect usable;
    if (SDL_GetDisplayUsableBounds(0, &usable) == 0) {
        r.w = SDL_min(r.w, usable.w);
        r.h = SDL_min(r.h, usable.h);
    }
    r.w = SDL_max(r.w, min_w);
    r.h = SDL_max(r.h, 120);
    return r;
}

/* Any other signal that would end the window becomes the SIGTERM that SDL
 * turns into SDL_QUIT, so that the window detaches before it goes. */
static void quit_through_sdl(int sig)
{
    (void)sig;
    raise(SIGTERM); /* SDL's handler only sets a flag its loop reads */
}

/* After SDL_Init, which handles SIGINT and SIGTERM itself: every other
 * quit signal (quitsig.h, the command line's set) goes through SDL too.
 * One that already has a handler, or is ignored, is left as it is. */
void app_route_quit_signals(void)
{
    struct sigaction sa = {0}, old;
    sa.sa_handler = quit_through_sdl;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        if (quitsig_is(sig) && sig != SIGINT && sig != SIGTERM &&
            sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(sig, &sa, NULL);
}

/* SDL 2.26 crashes in SDL_Init on a Wayland compositor that has no seat
 * (Weston's headless backend): ask the compositor first (wlseat.h). With
 * no SDL_VIDEODRIVER SDL picks X11 when DISPLAY is set, so only a
 * Wayland-only session or SDL_VIDEODRIVER=wayland is asked.
 * Returns: 0, or -1 after saying why no window can open. */
int app_check_wayland_seat(void)
{
    const char *driver = getenv("SDL_VIDEODRIVER");
    bool wayland = driver && *driver
                       ? strcmp(driver, "wayland") == 0
                       : getenv("WAYLAND_DISPLAY") && !getenv("DISPLAY");
    if (!wayland || wlseat_present() != 0)
        return 0;
    fprintf(stderr,
            "shmimg: the Wayland compositor has no seat (no "
            "keyboard, no pointer; Weston's headless backend is "
            "one), and SDL %d.%d.%d would crash opening a window "
            "there; run the window under a compositor with a seat, "
            "or under X11 (DISPLAY, SDL_VIDEODRIVER=x11); the "
            "subcommands work anywhere: shmimg --help\n",
            SDL_MAJOR_VERSION, SDL_MINOR_VERSION, SDL_PATCHLEVEL);
    return -1;
}
