/* app.c - the shmimg window: drop an image to publish it, press P to pull.
 *
 * What Qt's "IPC: Shared Memory" example does with two dialogs, with SDL2.
 * Where to start reading: app_main (options, set-up, loop, tear-down), then
 * on_event, which dispatches every event; the keys are in the table `keys`.
 * Decoding runs on a thread (loader.c), live mode on another (live.c); both
 * talk to the loop only through SDL user events. The segment is reached
 * only through the library (image.h, segment.h).
 */
#include "app.h"

#include "chooser.h"
#include "escape.h"
#include "events.h"
#include "gone.h"
#include "hud.h"
#include "image.h"
#include "live.h"
#include "loader.h"
#include "pair.h"
#include "plain.h"
#include "player.h"
#include "quitsig.h"
#include "save.h"
#include "saver.h"
#include "shrink.h"
#include "text.h"
#include "view.h"
#include "wlseat.h"

#include <SDL_image.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Tunables. */
static const int default_w = 480, default_h = 320; /* no image: pixels */
/* The message line under the image, so that it never hides pixels. */
static const int status_h = TEXT_STATUS_H; /* pixels */
/* Narrowest window: a status line of 51 characters. */
static const int min_w = 480; /* pixels */
/* A message too long for the status line is shown whole, over the image,
 * this long (SHMIMG_MESSAGE_MS overrides), then cut to one line. */
static const Uint32 message_expanded_ms = 6000;
static const SDL_Color background = {0x20, 0x22, 0x26, 0xff};
/* Badges of the status line: what the window is, whatever was said last. */
static const SDL_Color live_colour = {0xd9, 0x3a, 0x2f, 0xff};
static const SDL_Color publisher_colour = {0x2d, 0x6c, 0xdf, 0xff};
static const SDL_Color playing_colour = {0x2f, 0x9e, 0x57, 0xff};
static const SDL_Color reader_colour = {0x4a, 0x50, 0x58, 0xff};
static const SDL_Color newer_colour = {0xb8, 0x7a, 0x0b, 0xff};
/* An image of at most this many pixels is area-filtered on the loop (a few
 * ms); a larger one on the shrinker's thread. */
static const long long shrink_on_loop_pixels = 1000 * 1000;

typedef enum shown_kind {
    SHOWN_NOTHING,
    SHOWN_PUBLISHED,
    SHOWN_PULLED,
} shown_kind;

typedef struct app {
    const char *key;
    SDL_Window *window;
    SDL_Renderer *renderer;
    view *view;
    text *font;
    loader *loader;
    saver *saver;         /* S: the PNG is written off the loop */
    shrinker *shrinker;   /* the filtered copy of a large image */
    unsigned shrink_failed; /* the view serial it failed for: no retry */
    Uint32 save_started;  /* SDL_GetTicks() when the save under way began */
    int save_w, save_h;   /* its size, pixels: what is shown may change */
    seg *seg;             /* NULL while detached */
    live *watch;          /* the generation watcher, while attached */
    bool live;            /* live mode: the watcher's news is pulled */
    uint32_t shown_generation; /* of the image on screen (1: unknown) */
    bool newer;           /* a newer image than that waits for P */
    gone *publisher;      /* watches the process whose image is shown */
    pid_t shown_pid;      /* that process; 0: this window published it */
    bool publisher_gone;
    SDL_Surface *shown;   /* private RGBA32 copy of what is on screen */
    bool shown_stale;     /* live mode uploads frames straight from the
                             segment: shown is older than the screen */
    SDL_Surface *incoming; /* pulls land here, then swap with shown */
    player *player;       /* an animation this window publishes, playing */
    Uint32 live_frames[4]; /* SDL_GetTicks() of the last live frames */
    unsigned live_count;  /* live frames shown, all told */
    shown_kind kind;
    int shown_w, shown_h; /* pixels, of what is on screen (live frames
                             have no private copy: shown may be NULL) */
    char shown_name[SHMIMG_NAME_MAX];
    char *pending;        /* the newest drop, waiting for the decoder */
    char *drop_last;      /* last file of the drop batch in progress */
    int drop_count;
    int drop_note;        /* files in the batch that is being decoded */
    const char *batch_verb; /* how they came: "dropped", "pasted" */
    chooser *chooser;     /* O: the desktop's file chooser, a child */
    bool sized_to_image;  /* fitted once; after that the size is the user's */
    bool show_help;
    bool dirty;
    bool running;
    char message[SEG_ERR_MSG_MAX + 128];
    text_tone message_tone;
    int message_serial;   /* which message the collapse timer is for */
    bool message_expanded;
} app;

/* ---- messages and title --------------------------------------------- */

/* SDL user event types are per process; the timer thread needs these. */
/* While a save runs, the spinner's timer ticks; it stops itself after. */
static SDL_atomic_t spinning;

/* A stream is playing into this window: live frames came at this rate
 * (frames per second), measured over the last four, the newest under a
 * second ago. Returns: 0 when they stopped or come slower than 2 a
 * second (single images, not a stream). */
static double stream_fps(const app *a)
{
    if (!a->live || a->live_count < 4)
        return 0;
    Uint32 newest = a->live_frames[(a->live_count - 1) % 4];
    Uint32 oldest = a->live_frames[a->live_count % 4];
    Uint32 now = SDL_GetTicks();
    if (now - newest > 1000 || newest == oldest)
        return 0;
    double fps = 3000.0 / (double)(newest - oldest);
    return fps >= 2 ? fps : 0;
}

/* SDL timer thread: a redraw a second after a live frame, so that the
 * STREAM badge goes when the frames stop. */
static SDL_atomic_t stream_check_pending;
static Uint32 stream_check_later(Uint32 interval, void *unused)
{
    (void)interval;
    (void)unused;
    SDL_AtomicSet(&stream_check_pending, 0);
    SDL_Event e = {.user = {.type = event_type(EVENT_STREAM_CHECK)}};
    SDL_PushEvent(&e);
    return 0;
}

static void check_stream_later(void)
{
    if (SDL_AtomicCAS(&stream_check_pending, 0, 1))
        SDL_AddTimer(1100, stream_check_later, NULL);
}

/* SDL timer thread: tells the loop that message `serial` can shrink. */
static Uint32 collapse_later(Uint32 interval, void *serial)
{
    (void)interval;
    SDL_Event e = {.user = {.type = event_type(EVENT_COLLAPSE),
                            .code = (int)(intptr_t)serial}};
    SDL_PushEvent(&e);
    return 0; /* once */
}

/* SHMIMG_MESSAGE_MS, checked at start (check_settings). */
static Uint32 expanded_ms_setting;

/* Reads SHMIMG_MESSAGE_MS. Returns: 0, or -1 after saying why. */
static int check_settings(void)
{
    expanded_ms_setting = message_expanded_ms;
    const char *env = getenv("SHMIMG_MESSAGE_MS");
    if (env && *env) {
        char *end;
        errno = 0;
        long ms = strtol(env, &end, 10);
        if (errno || end == env || *end || ms < 1 || ms > 600000) {
            char shown[128];
            escape_display(env, shown, sizeof shown);
            fprintf(stderr, "shmimg: SHMIMG_MESSAGE_MS='%s' is not a whole "
                            "number of milliseconds from 1 to 600000\n",
                    shown);
            return -1;
        }
        expanded_ms_setting = (Uint32)ms;
    }
    seg_err err;
    if (image_check_settings(&err) < 0 || seg_dir_check(&err) < 0) {
        char shown[sizeof err.msg * 6];
        escape_display(err.msg, shown, sizeof shown);
        fprintf(stderr, "shmimg: %s\n", shown);
        return -1;
    }
    return 0;
}

/* Returns: the badges the window wears now, in out (5 at most). */
static int badges(const app *a, hud_badge *out)
{
    int n = 0;
    if (a->newer)
        out[n++] = (hud_badge){"NEWER: P", newer_colour};
    if (a->player)
        out[n++] = (hud_badge){player_paused(a->player) ? "PAUSED" : "PLAYING",
                               playing_colour};
    if (a->live)
        out[n++] = (hud_badge){"LIVE", live_colour};
    static char stream[32];
    double fps = stream_fps(a);
    if (fps > 0) {
        snprintf(stream, sizeof stream, "STREAM %.0f FPS", fps);
        out[n++] = (hud_badge){stream, live_colour};
    }
    if (a->kind == SHOWN_PUBLISHED)
        out[n++] = (hud_badge){"PUBLISHER", publisher_colour};
    else if (a->kind == SHOWN_PULLED)
        out[n++] = (hud_badge){"READER", reader_colour};
    return n;
}

static int badges_width(const app *a)
{
    hud_badge b[5];
    return hud_badges_width(b, badges(a, b));
}

/* Sets the status line; log: also on stderr (a spinner's ticks are not),
 * with detail (may be NULL): the library's own words, for stderr only. */
static void vset_status(app *a, text_tone tone, bool log, const char *detail,
                        const char *fmt, va_list ap)
{
    /* File names and segment fields are anybody's bytes: escaped before
     * they reach the status line or a terminal (escape.h). */
    char raw[sizeof a->message];
    vsnprintf(raw, sizeof raw, fmt, ap);
    escape_display(raw, a->message, sizeof a->message);
    a->message_tone = tone;
    const char *label = tone == TEXT_ERROR ? "error: " : "";
    if (log && detail) {
        char shown[SEG_ERR_MSG_MAX * 6];
        escape_display(detail, shown, sizeof shown);
        fprintf(stderr, "shmimg: %s%s (detail: %s)\n", label, a->message,
                shown);
    } else if (log) {
        fprintf(stderr, "shmimg: %s%s\n", label, a->message);
    }
    a->dirty = true;
    a->message_serial++;
    int w = min_w;
    if (a->window)
        SDL_GetWindowSize(a->window, &w, NULL);
    /* A success says what is now on screen (so does the title): cut to
     * the line, it never covers the image that it announces. */
    a->message_expanded = log && tone != TEXT_SUCCESS &&
                          !text_fits_line(a->message, w, badges_width(a));
    if (a->message_expanded)
        SDL_AddTimer(expanded_ms_setting, collapse_later,
                     (void *)(intptr_t)a->message_serial);
}

static void say(app *a, text_tone tone, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(app *a, text_tone tone, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_status(a, tone, true, NULL, fmt, ap);
    va_end(ap);
}

/* An error in plain words; detail, the library's, goes to stderr only. */
static void say_error(app *a, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say_error(app *a, const char *detail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_status(a, TEXT_ERROR, true, detail, fmt, ap);
    va_end(ap);
}

static void set_status_quietly(app *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_status_quietly(app *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_status(a, TEXT_INFO, false, NULL, fmt, ap);
    va_end(ap);
}

/* The title says what is on screen and where it came from: published by
 * this window, or pulled (live or not) from which process, whether that
 * process still runs, and whether a newer image waits. */
static void update_title(app *a)
{
    const char *what = a->kind == SHOWN_NOTHING ? "no image"
                       : a->player && a->kind == SHOWN_PUBLISHED
                           ? (player_paused(a->player) ? "paused" : "playing")
                       : a->kind == SHOWN_PUBLISHED ? "published"
                       : a->live                    ? "live"
                                                    : "pulled";
    char origin[96] = "";
    if (a->kind == SHOWN_PUBLISHED)
        snprintf(origin, sizeof origin, " (%dx%d%s) from this window%s",
                 a->shown_w, a->shown_h,
                 a->player ? ", animated" : "", a->live ? " (live)" : "");
    else if (a->kind == SHOWN_PULLED)
        snprintf(origin, sizeof origin, " (%dx%d) from pid %d%s",
                 a->shown_w, a->shown_h, (int)a->shown_pid,
                 a->publisher_gone ? ", which has exited" : "");
    char raw[SHMIMG_NAME_MAX + SEG_KEY_MAX + 256];
    char stream[48] = "";
    if (stream_fps(a) > 0)
        snprintf(stream, sizeof stream, " - stream, %.0f fps", stream_fps(a));
    snprintf(raw, sizeof raw, "shmimg [%s] %s%s%s%s%s%s", a->key, what,
             a->kind != SHOWN_NOTHING ? ": " : "",
             a->kind != SHOWN_NOTHING ? a->shown_name : "", origin, stream,
             a->newer ? " - newer image: press P" : "");
    /* A window manager shows the title as it is: no escape sequences, no
     * reordering, valid UTF-8 only. */
    char title[sizeof raw * 6];
    escape_display(raw, title, sizeof title);
    SDL_SetWindowTitle(a->window, title);
}

/* An error from the library about the segment: in plain words, with the
 * way out where there is one (plain.h); its own words go to stderr. */
static void say_failure(app *a, const char *what, const seg_err *err)
{
    char words[512];
    say_error(a, err->msg, "%s%s", what,
              plain_segment_failure(err->code, a->key, words, sizeof words));
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- the segment ------------------------------------------------------ */

static void stop_watch(app *a)
{
    live_stop(a->watch);
    a->watch = NULL;
}

static void stop_playing(app *a)
{
    player_destroy(a->player);
    a->player = NULL;
}

static void detach(app *a)
{
    stop_playing(a);
    stop_watch(a);
    seg_detach(a->seg);
    a->seg = NULL;
}

/* Attaches (again, if the key now names another file). */
static int attach(app *a, unsigned flags, seg_err *err)
{
    if (a->seg && !seg_replaced(a->seg))
        return 0;
    if (a->seg)
        detach(a);
    /* Not attached, a watcher may be waiting for the key's file (live
     * mode): it goes on unless we attach now. */
    int rc = seg_attach(a->key, flags, &a->seg, err);
    if (rc == 0)
        stop_watch(a);
    static bool dir_noted;
    char note[SEG_PATH_MAX + 128];
    if (rc == 0 && !dir_noted && seg_dir_note(note, sizeof note) == 1) {
        dir_noted = true; /* once: it is a fact about the machine */
        char shown[sizeof note * 6];
        escape_display(note, shown, sizeof shown); /* SHMIMG_DIR is bytes */
        fprintf(stderr, "shmimg: %s\n", shown);
    }
    if (rc == 0) {
        /* A holder that is alive but stopped would freeze the window:
         * 1 s at most, then the key reports who holds the lock. */
        seg_set_lock_timeout(a->seg, 1000);
        /* One thread sleeps on the generation word whenever we are
         * attached: live mode pulls what it reports, otherwise the window
         * says a newer image waits. (NULL: no thread; no news then.) */
        a->watch = live_start(a->seg, event_type(EVENT_LIVE));
    }
    return rc;
}

/* HiDPI (issue 11, point 4): device pixels per window pixel, a whole
 * number: 1 on most screens, 2 under Weston --scale=2 (the window is
 * made with SDL_WINDOW_ALLOW_HIGHDPI, so the renderer's output is in
 * device pixels). The image is drawn in device pixels, 1:1 when it fits;
 * the text, badges and panels at this scale. */
static int device_scale(const app *a)
{
    int window_w, device_w;
    SDL_GetWindowSize(a->window, &window_w, NULL);
    if (SDL_GetRendererOutputSize(a->renderer, &device_w, NULL) < 0 ||
        window_w <= 0)
        return 1;
    return SDL_max(1, (device_w + window_w / 2) / window_w);
}

static void fit_window_once(app *a, int image_w, int image_h)
{
    if (a->sized_to_image)
        return;
    a->sized_to_image = true;
    SDL_Rect usable;
    int scale = device_scale(a); /* window sizes are in window pixels */
    int w = (image_w + scale - 1) / scale,
        h = (image_h + scale - 1) / scale + status_h;
    if (SDL_GetDisplayUsableBounds(SDL_GetWindowDisplayIndex(a->window),
                                   &usable) == 0) {
        w = SDL_min(w, usable.w);
        h = SDL_min(h, usable.h);
    }
    SDL_SetWindowSize(a->window, SDL_max(w, min_w), SDL_max(h, 120));
}

static void shown_as(app *a, shown_kind kind, const char *name, int w,
                     int h)
{
    a->kind = kind;
    a->shown_w = w;
    a->shown_h = h;
    snprintf(a->shown_name, sizeof a->shown_name, "%s", name);
    fit_window_once(a, w, h);
    update_title(a);
    a->dirty = true;
}

static void show(app *a, shown_kind kind, const char *name)
{
    if (view_set_image(a->view, a->shown) < 0)
        say(a, TEXT_ERROR, "Cannot show the image: %s", SDL_GetError());
    a->shown_stale = false;
    shown_as(a, kind, name, a->shown->w, a->shown->h);
}

/* A surface lent to the shrinker (shrink.h) is not written: let go of it
 * (the shrinker keeps it alive) so that image_pull makes a new one. */
static void release_if_lent(app *a, SDL_Surface **surf)
{
    if (shrinker_holds(a->shrinker, *surf)) {
        SDL_FreeSurface(*surf);
        *surf = NULL;
    }
}

/* Live mode: uploads the newest frame from the segment's mapping straight
 * into the texture, one copy instead of two (the SIGBUS guard covers the
 * mapping, so a file truncated meanwhile reads as zeros and is reported).
 * A publisher may overwrite the frame during the upload: then it is read
 * again before anything is drawn. */
static int pull_to_screen(app *a, seg_image *img, seg_err *err)
{
    for (int round = 0; round < SEG_MAX_LAPS; round++) {
        seg_view v;
        int rc = seg_read_begin(a->seg, &v, err);
        if (rc < 0)
            return rc;
        if (view_upload(a->view, v.pixels, (int)v.image.width,
                        (int)v.image.height, (int)v.image.pitch) < 0)
            return seg_fail(err, SEG_ESYS, "cannot show the frame: %s",
                               SDL_GetError());
        rc = seg_read_end(a->seg, &v, err);
        if (rc == SEG_ELAPPED)
            continue;
        if (rc == 0)
            *img = v.image;
        else if (a->shown) /* never leave a half-read frame on screen */
            view_set_image(a->view, a->shown);
        return rc;
    }
    return seg_fail(err, SEG_ELAPPED, "%s: %s %d times in a row",
                       seg_file(a->seg), seg_strerror(SEG_ELAPPED),
                       SEG_MAX_LAPS);
}

/* Watches the process that published the image now on screen (gone.h);
 * pid: 0 or ours when this window published it. */
static void watch_publisher(app *a, pid_t pid)
{
    if (pid == getpid())
        pid = 0;
    if (pid == a->shown_pid && (a->publisher || pid == 0))
        return; /* the same publisher: what we know of it holds */
    gone_stop(a->publisher);
    a->publisher = pid ? gone_start(pid, event_type(EVENT_GONE)) : NULL;
    a->shown_pid = pid;
    a->publisher_gone = false;
}

/* P, Space and live mode: copy the image out of the segment and show it. */
static void pull(app *a, bool quiet_when_empty)
{
    seg_err err;
    int rc = attach(a, SEG_READER, &err);
    if (rc < 0) {
        say_failure(a, "", &err);
        /* Nothing under the key yet: notice the segment when a publisher
         * makes it, and say that an image waits for P. */
        if (rc == SEG_ENOSEG && !a->watch)
            a->watch = live_start_key(a->key, event_type(EVENT_LIVE));
        return;
    }
    seg_image img;
    release_if_lent(a, &a->incoming);
    rc = a->live ? pull_to_screen(a, &img, &err)
                 : image_pull(a->seg, &a->incoming, &img, &err);
    if (rc == SEG_EEMPTY && quiet_when_empty)
        return;
    if (rc < 0) {
        say_failure(a, "", &err); /* what is on screen stays as it was */
        return;
    }
    a->shown_generation = (uint32_t)(img.frame << 2) | img.buffer;
    a->newer = false;
    watch_publisher(a, (pid_t)img.publisher_pid);
    if (a->live) {
        a->live_frames[a->live_count++ % 4] = SDL_GetTicks();
        check_stream_later();
        a->shown_stale = true;
        shown_as(a, SHOWN_PULLED, img.source_name, (int)img.width,
                 (int)img.height);
    } else {
        SDL_Surface *previous = a->shown;
        a->shown = a->incoming;
        a->incoming = previous; /* reused by the next pull of that size */
        show(a, SHOWN_PULLED, img.source_name);
    }
    say(a, TEXT_SUCCESS, "%s %s (%ux%u) from key %s",
        a->live ? "Live:" : "Pulled",
        img.source_name, img.width, img.height, a->key);
}

/* A decoded file: publish it and show it. */
static void publish(app *a, loader_result *r)
{
    seg_err err;
    char what[SHMIMG_NAME_MAX + 32];
    snprintf(what, sizeof what, "Cannot publish %s: ", base_name(r->path));
    if (attach(a, SEG_CREATE, &err) < 0 ||
        image_publish(a->seg, r->surface, r->path, &err) < 0) {
        say_failure(a, what, &err);
        return;
    }
    stop_playing(a); /* what was playing is replaced */
    if (r->anim) {
        a->player = player_create(r->anim, event_type(EVENT_TICK));
        if (a->player)
            r->anim = NULL; /* the player has it now */
    }
    SDL_FreeSurface(a->shown);
    a->shown = r->surface; /* already RGBA32: the loader converted it */
    r->surface = NULL;
    a->shown_generation = seg_generation(a->seg);
    a->newer = false;
    watch_publisher(a, 0);
    show(a, SHOWN_PUBLISHED, base_name(r->path));
    char also[64] = "";
    if (a->drop_note > 1)
        snprintf(also, sizeof also, " (%d files %s; the last one wins)",
                 a->drop_note, a->batch_verb ? a->batch_verb : "dropped");
    if (a->player) {
        const image_anim *an = player_anim(a->player);
        say(a, TEXT_SUCCESS,
            "Playing %s (%dx%d, %d frames, %.1f s a loop) under key %s; "
            "Space pauses%s",
            base_name(r->path), an->width, an->height, an->count,
            (double)an->loop_ms / 1000, a->key, also);
        return;
    }
    say(a, TEXT_SUCCESS, "Published %s (%dx%d) under key %s%s",
        base_name(r->path),
        a->shown->w, a->shown->h, a->key, also);
}

/* The animation's next frame is due: publish it and show it. */
static void on_tick(app *a)
{
    SDL_Surface *frame = player_advance(a->player);
    seg_err err;
    if (!a->seg || image_publish(a->seg, frame, a->shown_name, &err) < 0) {
        if (!a->seg)
            seg_fail(&err, SEG_EGONE, "the window left the segment");
        stop_playing(a);
        say_failure(a, "Animation stopped: ", &err);
        update_title(a);
        return;
    }
    a->shown_generation = seg_generation(a->seg);
    a->kind = SHOWN_PUBLISHED; /* a P meanwhile showed the same frames */
    if (view_set_image(a->view, frame) < 0)
        say(a, TEXT_ERROR, "Cannot show the image: %s", SDL_GetError());
    a->shown_stale = true; /* S saves the frame in the segment */
    a->dirty = true;
}

/* Space: pauses or resumes the animation this window plays; without
 * one, pulls, as P does. */
static void key_space(app *a)
{
    if (!a->player) {
        pull(a, false);
        return;
    }
    bool pause = !player_paused(a->player);
    player_set_paused(a->player, pause);
    const image_anim *an = player_anim(a->player);
    if (pause)
        say(a, TEXT_INFO, "Paused %s at frame %d of %d; Space resumes",
            a->shown_name, player_frame(a->player) + 1, an->count);
    else
        say(a, TEXT_INFO, "Playing %s again", a->shown_name);
    update_title(a);
}

/* ---- loading ---------------------------------------------------------- */

static void start_loading(app *a, char *path, int files)
{
    if (loader_busy(a->loader)) {
        /* The newest drop wins: it replaces any drop already waiting and
         * starts as soon as the running decode ends (whose result is then
         * dropped). A decoder cannot be interrupted, and running two at
         * once would double the memory for nothing. */
        SDL_free(a->pending);
        a->pending = path;
        a->drop_note = files;
        say(a, TEXT_INFO, "Loading %s ... (after the file being decoded now)",
            base_name(path));
        return;
    }
    a->drop_note = files;
    if (loader_start(a->loader, path) < 0)
        say(a, TEXT_ERROR, "Cannot start loading %s: %s", base_name(path),
            SDL_GetError());
    else
        say(a, TEXT_INFO, "Loading %s ...", base_name(path));
    SDL_free(path);
}

static void on_loaded(app *a, loader_result *r)
{
    loader_finished(a->loader);
    if (a->pending) {
        char *next = a->pending;
        a->pending = NULL;
        start_loading(a, next, a->drop_note);
    } else if (r->rc < 0) {
        char words[512];
        say_error(a, r->err.msg, "%s",
                  plain_file_failure(r->rc, r->path, words, sizeof words));
    } else {
        publish(a, r);
    }
    loader_result_free(r);
}

/* ---- keys --------------------------------------------------------------- */

static void key_pull(app *a) { pull(a, false); }

static void key_live(app *a)
{
    if (a->live) {
        a->live = false;
        say(a, TEXT_INFO, "Live mode off");
        update_title(a);
        return;
    }
    seg_err err;
    /* Like 'pull --wait': a live window may come first, and waits for a
     * publisher to make the segment (a reader never does). */
    int rc = attach(a, SEG_READER, &err);
    if (rc < 0 && rc != SEG_ENOSEG) {
        say_failure(a, "Cannot start live mode: ", &err);
        return;
    }
    if (!a->watch)
        a->watch = a->seg ? live_start(a->seg, event_type(EVENT_LIVE))
                          : live_start_key(a->key, event_type(EVENT_LIVE));
    if (!a->watch) {
        say(a, TEXT_ERROR, "Cannot start live mode: %s", SDL_GetError());
        return;
    }
    a->live = true;
    say(a, TEXT_INFO, "Live mode on: each new image under key %s appears here",
        a->key);
    if (a->seg)
        pull(a, true);
    update_title(a);
}

/* SDL timer thread: one tick of the "Saving ..." spinner. */
static Uint32 spin_later(Uint32 interval, void *unused)
{
    (void)unused;
    if (!SDL_AtomicGet(&spinning))
        return 0;
    SDL_Event e = {.user = {.type = event_type(EVENT_SPIN)}};
    SDL_PushEvent(&e);
    return interval;
}

static void show_saving(app *a)
{
    static const char spinner[] = "|/-\\";
    Uint32 ms = SDL_GetTicks() - a->save_started;
    set_status_quietly(a, "Saving %dx%d as PNG ... %c %.1f s", a->save_w,
                       a->save_h, spinner[ms / 125 % 4], ms / 1000.0);
}

static void key_save(app *a)
{
    /* Live mode showed the frame straight from the segment: save the
     * newest one (what is on screen, or the one after it). */
    seg_err err;
    if (a->shown_stale) {
        release_if_lent(a, &a->shown);
        int rc = a->seg ? image_pull(a->seg, &a->shown, NULL, &err)
                        : seg_fail(&err, SEG_EGONE,
                                      "the frame on screen came from a "
                                      "segment this window has left");
        if (rc < 0) {
            say_failure(a, "Cannot save: ", &err);
            return;
        }
        a->shown_stale = false;
    }
    if (!a->shown) {
        say(a, TEXT_ERROR, "Nothing to save yet: drop an image file here, "
                           "press O to open one, or P to pull one");
        return;
    }
    if (saver_busy(a->saver)) {
        say(a, TEXT_ERROR, "Still saving the previous image; press S again "
                           "when it is done");
        return;
    }
    /* A copy: the image on screen may change while the thread writes. */
    SDL_Surface *copy = SDL_DuplicateSurface(a->shown);
    if (!copy || saver_start(a->saver, copy, a->key) < 0) {
        say(a, TEXT_ERROR, "Cannot start saving: %s", SDL_GetError());
        return;
    }
    a->save_started = SDL_GetTicks();
    a->save_w = a->shown->w;
    a->save_h = a->shown->h;
    say(a, TEXT_INFO, "Saving %dx%d as PNG ...", a->save_w, a->save_h);
    SDL_AtomicSet(&spinning, 1);
    SDL_AddTimer(125, spin_later, NULL);
}

static void on_saved(app *a, saver_result *r)
{
    saver_finished(a->saver);
    SDL_AtomicSet(&spinning, 0);
    if (!r)
        say(a, TEXT_ERROR, "Cannot save: out of memory");
    else if (r->rc < 0)
        say(a, TEXT_ERROR, "Cannot save in %s: %s", r->dir, r->err.msg);
    else
        say(a, TEXT_SUCCESS, "Saved %s/%s (%dx%d) in %.2f s", r->dir, r->name,
            r->width, r->height, r->seconds);
    SDL_free(r);
}

static void key_detach(app *a)
{
    if (!a->seg) {
        say(a, TEXT_INFO, "Not attached to key %s", a->key);
        return;
    }
    stop_watch(a);
    a->live = false;
    a->newer = false;
    bool removed = seg_detach(a->seg) == 1;
    a->seg = NULL;
    update_title(a);
    say(a, TEXT_INFO, "Detached from key %s%s", a->key,
        removed ? "; no other user, so the segment was removed" : "");
}

static void key_help(app *a)
{
    a->show_help = !a->show_help;
    a->dirty = true;
}

static void key_quit(app *a)
{
    if (saver_busy(a->saver))
        fprintf(stderr, "shmimg: finishing the save under way before "
                        "quitting\n");
    a->running = false; /* teardown waits for the save: never half-written */
}

/* Esc closes the help first, then the window. */
static void key_escape(app *a)
{
    if (a->show_help) {
        a->show_help = false;
        a->dirty = true;
        return;
    }
    key_quit(a);
}

/* O and Ctrl+O: the desktop's file chooser in a child process, watched
 * by a thread (chooser.h); the file chosen is published as if dropped. */
static void key_open(app *a)
{
    if (chooser_busy(a->chooser)) {
        say(a, TEXT_INFO, "The file chooser is open already");
        return;
    }
    const char *tool = chooser_tool();
    if (!tool) {
        say(a, TEXT_ERROR, "No file chooser on this system (zenity or "
                           "kdialog): drag an image from your file manager "
                           "and drop it here, or copy its path and press "
                           "Ctrl+V");
        return;
    }
    if (chooser_open(a->chooser, "shmimg: an image to publish") < 0)
        say(a, TEXT_ERROR, "Cannot open the file chooser: %s",
            SDL_GetError());
    else
        say(a, TEXT_INFO, "Choose an image in the file chooser (%s) ...",
            tool);
}

static void on_chosen(app *a, chooser_result *r)
{
    char tool[sizeof r->tool];
    int status = r->status;
    snprintf(tool, sizeof tool, "%s", r->tool);
    char *path = chooser_finished(a->chooser, r);
    if (path) {
        a->batch_verb = "dropped";
        start_loading(a, path, 1); /* checked as a drop is */
    } else if (status == 1 || status == 0) {
        say(a, TEXT_INFO, "No file chosen");
    } else {
        say(a, TEXT_ERROR, "The file chooser (%s) failed (exit status %d)",
            tool, status);
    }
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* One line of the clipboard as a local path: an absolute path as it is,
 * or a file:// URI (file:///p or file://host/p; percent-decoded).
 * Returns: the path (the caller frees it), or NULL when the line is
 * neither, or decodes to a NUL byte. */
static char *clipboard_path(const char *line, size_t len)
{
    static const char scheme[] = "file://";
    bool uri = len >= sizeof scheme - 1 &&
               SDL_strncasecmp(line, scheme, sizeof scheme - 1) == 0;
    if (uri) {
        const char *p = line + sizeof scheme - 1, *end = line + len;
        while (p < end && *p != '/') /* a host: ours, says the desktop */
            p++;
        len = (size_t)(end - p);
        line = p;
    }
    if (len == 0 || line[0] != '/')
        return NULL;
    char *path = SDL_malloc(len + 1);
    if (!path)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (uri && line[i] == '%' && i + 2 < len &&
            (hi = hex_digit(line[i + 1])) >= 0 &&
            (lo = hex_digit(line[i + 2])) >= 0) {
            path[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            path[n++] = line[i];
        }
        if (path[n - 1] == '\0') {
            SDL_free(path);
            return NULL;
        }
    }
    path[n] = '\0';
    return path;
}

/* Ctrl+V: a file path or file:// URI from the clipboard is published as a
 * drop is (the same checks); of several lines the last file wins. */
static void key_paste(app *a)
{
    char *clip = SDL_GetClipboardText(); /* "" when empty or not text */
    char *last = NULL;
    int files = 0, others = 0;
    for (char *line = clip; line && *line;) {
        size_t len = strcspn(line, "\r\n");
        if (len > 0 && line[0] != '#') { /* text/uri-list comments */
            char *path = clipboard_path(line, len);
            if (path) {
                SDL_free(last);
                last = path;
                files++;
            } else {
                others++;
            }
        }
        line += len;
        line += strspn(line, "\r\n");
    }
    SDL_free(clip);
    if (!last) {
        say(a, TEXT_ERROR, "%s: copy an image file (or its full path) and "
                           "press Ctrl+V again",
            others ? "The clipboard holds no file path or file:// URI"
                   : "The clipboard is empty");
        return;
    }
    a->batch_verb = "pasted";
    start_loading(a, last, files);
}

static const struct {
    SDL_Keycode key;
    void (*run)(app *a);
    const char *help;
} keys[] = {
    {SDLK_p, key_pull, "P         pull the image from the segment"},
    {SDLK_SPACE, key_space, "Space     pull; or pause an animation played here"},
    {SDLK_l, key_live, "L         live mode on/off"},
    {SDLK_s, key_save, "S         save the image as PNG here"},
    {SDLK_d, key_detach, "D         detach from the segment"},
    {SDLK_h, key_help, "H, F1     this help"},
    {SDLK_F1, key_help, NULL},
    {SDLK_q, key_quit, "Q         quit"},
    {SDLK_ESCAPE, key_escape, "Esc       close the help, then quit"},
    {SDLK_o, key_open, "O, Ctrl+O open an image with the file chooser"},
};

static void on_key(app *a, SDL_Keycode key)
{
    for (size_t i = 0; i < SDL_arraysize(keys); i++)
        if (keys[i].key == key) {
            keys[i].run(a);
            return;
        }
}

/* Point 3 of issue 11: an image drawn at less than half its size is drawn
 * from an area-filtered copy made for that size (view.h, shrink.h): here
 * for a small image, on the shrinker's thread for a large one (the
 * bilinear picture shows until it is done). Live frames go straight from
 * the segment into the texture at video rate and have no private copy:
 * they are drawn with the bilinear filter, as is a frame whose copy is
 * stale; P makes the copy, and with it the filtered picture. */
static void want_small(app *a, int w, int h)
{
    int sw, sh;
    if (!a->shown || a->shown_stale ||
        !view_wants_small(a->view, w, h, &sw, &sh) ||
        shrinker_busy(a->shrinker) || /* it redraws when done */
        view_serial(a->view) == a->shrink_failed)
        return;
    unsigned serial = view_serial(a->view);
    if ((long long)a->shown->w * a->shown->h <= shrink_on_loop_pixels) {
        SDL_Surface *small = shrink_surface(a->shown, sw, sh);
        if (!small || view_set_small(a->view, small, serial) < 0) {
            a->shrink_failed = serial;
            fprintf(stderr, "shmimg: cannot filter the image to %dx%d: %s\n",
                    sw, sh, SDL_GetError());
        }
        SDL_FreeSurface(small);
    } else if (shrinker_start(a->shrinker, a->shown, sw, sh, serial) < 0) {
        a->shrink_failed = serial;
        fprintf(stderr, "shmimg: cannot filter the image: %s\n",
                SDL_GetError());
    }
}

static void on_shrunk(app *a, shrink_result *r)
{
    unsigned serial = r->serial;
    SDL_Surface *small = shrinker_finished(a->shrinker, r);
    if (!small || view_set_small(a->view, small, serial) < 0) {
        a->shrink_failed = serial;
        fprintf(stderr, "shmimg: cannot filter the image: %s\n",
                SDL_GetError());
    }
    SDL_FreeSurface(small);
    a->dirty = true; /* drawn from it, or another size is wanted now */
}

/* ---- events and drawing ------------------------------------------------ */

/* News from the generation watcher (live.h) about generation. */
static void on_watch(app *a, int code, uint32_t generation)
{
    if (code == LIVE_BROKEN) {
        bool was_live = a->live;
        a->live = a->newer = false;
        detach(a);
        if (was_live)
            say(a, TEXT_ERROR, "Live mode off: the segment file was truncated "
                               "by another process; publish again");
        else
            say(a, TEXT_ERROR, "The segment file of key %s was truncated by "
                               "another process; publish again", a->key);
        update_title(a);
        return;
    }
    if (code == LIVE_REPLACED) {
        /* 'shmimg rm', or a new file under the key: follow it. */
        seg_err err;
        int rc = attach(a, SEG_READER, &err);
        if (rc == SEG_ENOSEG) {
            /* Removed, and no new file yet: watch for the next one, so
             * that its first image shows (live) or is announced. */
            a->watch = live_start_key(a->key, event_type(EVENT_LIVE));
            if (!a->live)
                say(a, TEXT_INFO, "The segment of key %s was removed; what "
                                  "is on screen stays", a->key);
            update_title(a);
            return;
        }
        if (rc < 0) {
            if (a->live)
                say_failure(a, "Live mode: ", &err);
            else
                say(a, TEXT_INFO, "The segment of key %s was removed; what "
                                  "is on screen stays", a->key);
            update_title(a);
            return;
        }
        a->shown_generation = 1; /* of the old file: unknown in the new */
        generation = seg_generation(a->seg);
        if (generation == 0)
            return; /* nothing published in the new file yet */
    }
    if (a->live)
        pull(a, true);
    else if (generation != a->shown_generation && !a->newer) {
        a->newer = true;
        say(a, TEXT_INFO, "Newer image under key %s: press P", a->key);
        update_title(a);
    }
}

/* The process whose image is shown has exited (gone.h). */
static void on_publisher_gone(app *a)
{
    a->publisher_gone = true;
    /* Its last detach removed the segment unless it persists. */
    if (a->seg && !seg_replaced(a->seg))
        say(a, TEXT_INFO, "The publisher of %s (pid %d) has exited; "
                          "its image stays under key %s",
            a->shown_name, (int)a->shown_pid, a->key);
    else
        say(a, TEXT_INFO, "The publisher of %s (pid %d) has exited, "
                          "and its segment with it; what is on "
                          "screen stays",
            a->shown_name, (int)a->shown_pid);
    update_title(a);
}

/* The app's own events (events.h), from its threads and timers. */
static void on_app_event(app *a, SDL_Event *e)
{
    switch (event_of(e->type)) {
    case EVENT_LOADED: on_loaded(a, e->user.data1); break;
    case EVENT_CHOSEN: on_chosen(a, e->user.data1); break;
    case EVENT_SHRUNK: on_shrunk(a, e->user.data1); break;
    case EVENT_SAVED: on_saved(a, e->user.data1); break;
    case EVENT_SPIN:
        if (saver_busy(a->saver))
            show_saving(a);
        break;
    case EVENT_STREAM_CHECK:
        a->dirty = true; /* the STREAM badge may have to go */
        update_title(a);
        if (stream_fps(a) > 0)
            check_stream_later();
        break;
    case EVENT_COLLAPSE:
        if (e->user.code == a->message_serial) {
            a->message_expanded = false;
            a->dirty = true;
        }
        break;
    case EVENT_TICK:
        if (player_owns_event(a->player, e))
            on_tick(a);
        break;
    case EVENT_LIVE:
        if (a->watch)
            on_watch(a, e->user.code, (uint32_t)(uintptr_t)e->user.data1);
        break;
    case EVENT_GONE:
        if (e->user.code == a->shown_pid && a->publisher && !a->publisher_gone)
            on_publisher_gone(a);
        break;
    }
}

static void on_event(app *a, SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT: a->running = false; break;
    case SDL_KEYDOWN:
        /* Every key is a toggle or an action: a held key acts once (the
         * repeats would toggle live mode 15 times a second, queue saves). */
        if (e->key.repeat)
            break;
        if (e->key.keysym.sym == SDLK_v && (e->key.keysym.mod & KMOD_CTRL))
            key_paste(a);
        else
            on_key(a, e->key.keysym.sym); /* Ctrl+O as O */
        break;
    case SDL_DROPBEGIN: a->drop_count = 0; break;
    case SDL_DROPFILE:
        SDL_free(a->drop_last);
        a->drop_last = e->drop.file; /* ours to free */
        a->drop_count++;
        break;
    case SDL_DROPTEXT:
        say(a, TEXT_ERROR, "Dropped text ignored: drop an image file to "
                           "publish it");
        SDL_free(e->drop.file);
        break;
    case SDL_DROPCOMPLETE:
        if (a->drop_last) {
            a->batch_verb = "dropped";
            start_loading(a, a->drop_last, a->drop_count);
            a->drop_last = NULL;
        }
        break;
    case SDL_MOUSEBUTTONUP:
        /* The empty state says so: a click in an empty window pulls. */
        if (e->button.button == SDL_BUTTON_LEFT && a->kind == SHOWN_NOTHING &&
            !a->show_help)
            key_pull(a);
        break;
    case SDL_WINDOWEVENT: a->dirty = true; break;
    default: on_app_event(a, e);
    }
}

static void draw(app *a)
{
    int device_w, device_h;
    SDL_GetRendererOutputSize(a->renderer, &device_w, &device_h);
    SDL_SetRenderDrawColor(a->renderer, background.r, background.g,
                           background.b, background.a);
    SDL_RenderClear(a->renderer);
    /* The image in device pixels; everything else scaled, drawn in
     * window pixels (w x h) through the renderer's scale. */
    int scale = device_scale(a);
    if (a->kind != SHOWN_NOTHING) {
        want_small(a, device_w, device_h - status_h * scale);
        view_draw(a->view, device_w, device_h - status_h * scale);
    }
    int w = device_w / scale, h = device_h / scale;
    SDL_RenderSetScale(a->renderer, (float)scale, (float)scale);
    if (a->font) {
        if (a->kind == SHOWN_NOTHING)
            hud_draw_empty(a->font, a->renderer, a->key, w, h - status_h);
        /* A long message is shown whole over the image, above the status
         * line, which keeps its tone and badges: the image area never
         * changes size. */
        hud_badge b[5];
        int n = badges(a, b), reserved = hud_badges_width(b, n);
        text_draw_status(a->font, a->message_expanded ? "" : a->message,
                         a->message_tone, w, h, reserved);
        hud_draw_badges(a->font, b, n, w, h);
        if (a->message_expanded)
            text_draw_box(a->font, a->message, a->message_tone, w,
                          h - status_h);
        if (a->show_help) {
            char help[1024] = "Keys\n";
            for (size_t i = 0; i < SDL_arraysize(keys); i++)
                if (keys[i].help) {
                    strncat(help, keys[i].help, sizeof help - strlen(help) - 2);
                    strcat(help, "\n");
                }
            strncat(help, "Ctrl+V    publish the file whose path was copied\n"
                          "Click     pull, in an empty window\n"
                          "Drop an image file here to publish it.",
                    sizeof help - strlen(help) - 1);
            text_draw_panel(a->font, help, w, h);
        }
    }
    SDL_RenderSetScale(a->renderer, 1, 1);
    SDL_RenderPresent(a->renderer);
    a->dirty = false;
}

/* ---- set-up and tear-down ------------------------------------------------ */

typedef struct options {
    const char *key;
    const char *image;
    bool live;
    bool pair;
    bool has_geometry;
    SDL_Rect geometry; /* --geometry WxH+X+Y */
} options;

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

static int parse_options(int argc, char **argv, options *o)
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
                       &end) != 4 || g->w <= 0 || g->h <= 0)
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
static SDL_Rect initial_geometry(const options *o)
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

static int setup(app *a, const options *o)
{
    a->key = o->key;
    a->running = true;
    if (events_register() < 0) {
        fprintf(stderr, "shmimg: %s\n", SDL_GetError());
        return -1;
    }
    SDL_Rect g = initial_geometry(o);
    /* Hidden until the renderer exists: the OpenGL renderer replaces the X
     * window of a window made without SDL_WINDOW_OPENGL (SDL_RecreateWindow),
     * so a window shown now would be mapped, then destroyed a moment later:
     * a flash on screen, and a dead window id for whoever found it
     * meanwhile (a drag source, a test driver). */
    a->window = SDL_CreateWindow("shmimg", g.x, g.y, g.w, g.h,
                                 SDL_WINDOW_RESIZABLE |
                                     SDL_WINDOW_ALLOW_HIGHDPI |
                                     SDL_WINDOW_HIDDEN);
    if (!a->window)
        return -1;
    a->sized_to_image = o->image != NULL || o->has_geometry;
    /* Accelerated when there is one (Mesa's llvmpipe under Xvfb), else
     * SDL's software renderer; SDL_RENDER_DRIVER=software forces it. */
    a->renderer = SDL_CreateRenderer(a->window, -1, 0);
    if (!a->renderer)
        a->renderer = SDL_CreateRenderer(a->window, -1, SDL_RENDERER_SOFTWARE);
    if (!a->renderer)
        return -1;
    a->view = view_create(a->renderer);
    a->loader = loader_create(event_type(EVENT_LOADED));
    a->saver = saver_create(event_type(EVENT_SAVED));
    a->shrinker = shrinker_create(event_type(EVENT_SHRUNK));
    a->chooser = chooser_create(event_type(EVENT_CHOSEN));
    if (!a->view || !a->loader || !a->saver || !a->shrinker || !a->chooser)
        return SDL_OutOfMemory();
    char atlas[PATH_MAX];
    if (app_asset_path("font.png", atlas, sizeof atlas) == 0)
        a->font = text_create(a->renderer, atlas);
    if (!a->font)
        fprintf(stderr, "shmimg: no font atlas (font.png): messages go to "
                        "stderr and the title only\n");
    /* The window's icon: what the task bar and Alt-Tab show. */
    char icon_path[PATH_MAX];
    SDL_Surface *icon = app_asset_path("shmimg.png", icon_path,
                                       sizeof icon_path) == 0
                            ? IMG_Load(icon_path) : NULL;
    if (icon) {
        SDL_SetWindowIcon(a->window, icon);
        SDL_FreeSurface(icon);
    }
    SDL_RendererInfo info;
    SDL_GetRendererInfo(a->renderer, &info);
    int scale = device_scale(a);
    if (scale > 1 && o->image && !o->has_geometry) {
        /* Sized to the image in device pixels: 1:1 needs 1/scale. */
        SDL_SetWindowSize(a->window, SDL_max(g.w / scale, min_w),
                          SDL_max((g.h - status_h) / scale + status_h, 120));
    }
    int device_w, device_h;
    SDL_GetWindowSize(a->window, &g.w, &g.h);
    SDL_GetRendererOutputSize(a->renderer, &device_w, &device_h);
    fprintf(stderr, "shmimg: window for key %s, video %s, renderer %s, "
                    "%dx%d (%dx%d device pixels, scale %d)\n",
            a->key, SDL_GetCurrentVideoDriver(), info.name, g.w, g.h,
            device_w, device_h, scale);
    update_title(a);
    SDL_ShowWindow(a->window);
    say(a, TEXT_INFO, "Window for key %s: H shows the keys", a->key);
    if (o->image)
        start_loading(a, SDL_strdup(o->image), 1);
    if (o->live)
        key_live(a);
    return 0;
}

static void teardown(app *a)
{
    stop_playing(a);
    saver_destroy(a->saver); /* a save under way ends whole first */
    shrinker_destroy(a->shrinker);
    chooser_destroy(a->chooser);
    SDL_AtomicSet(&spinning, 0);
    loader_destroy(a->loader);
    detach(a);
    gone_stop(a->publisher);
    SDL_FreeSurface(a->shown);
    SDL_FreeSurface(a->incoming);
    SDL_free(a->pending);
    SDL_free(a->drop_last);
    text_destroy(a->font);
    view_destroy(a->view);
    if (a->renderer)
        SDL_DestroyRenderer(a->renderer);
    if (a->window)
        SDL_DestroyWindow(a->window);
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
static void route_quit_signals(void)
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
static int check_wayland_seat(void)
{
    const char *driver = getenv("SDL_VIDEODRIVER");
    bool wayland = driver && *driver ? strcmp(driver, "wayland") == 0
                                     : getenv("WAYLAND_DISPLAY") &&
                                           !getenv("DISPLAY");
    if (!wayland || wlseat_present() != 0)
        return 0;
    fprintf(stderr, "shmimg: the Wayland compositor has no seat (no "
                    "keyboard, no pointer; Weston's headless backend is "
                    "one), and SDL %d.%d.%d would crash opening a window "
                    "there; run the window under a compositor with a seat, "
                    "or under X11 (DISPLAY, SDL_VIDEODRIVER=x11); the "
                    "subcommands work anywhere: shmimg --help\n",
            SDL_MAJOR_VERSION, SDL_MINOR_VERSION, SDL_PATCHLEVEL);
    return -1;
}

int app_main(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc;
    if (check_settings() < 0)
        return 2;
    if (check_wayland_seat() < 0)
        return 1;
    if (o.pair)
        return pair_run(o.key, o.live, o.image);

    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) < 0) {
        fprintf(stderr, "shmimg: cannot open a window: %s (the subcommands "
                        "work without a display: shmimg --help)\n",
                SDL_GetError());
        return 1;
    }
    /* From here on, one way out: teardown copes with a half-made app. */
    app a = {0};
    rc = 1;
    /* With no display SDL falls back to drivers that draw nowhere: a window
     * nobody can see is worse than an error. (Asked for by name, fine.) */
    const char *driver = SDL_GetCurrentVideoDriver();
    if (driver && !getenv("SDL_VIDEODRIVER") &&
        (strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0)) {
        fprintf(stderr, "shmimg: no display to open a window on (DISPLAY "
                        "or WAYLAND_DISPLAY); the subcommands work without "
                        "one: shmimg --help\n");
        goto out;
    }
    route_quit_signals();
    if (setup(&a, &o) < 0) {
        fprintf(stderr, "shmimg: cannot set up the window: %s\n",
                SDL_GetError());
        goto out;
    }
    /* Sleep until something happens; draw only when something changed. */
    rc = 0;
    while (a.running) {
        SDL_Event e;
        if (!SDL_WaitEvent(&e)) {
            fprintf(stderr, "shmimg: %s\n", SDL_GetError());
            break;
        }
        do
            on_event(&a, &e);
        while (a.running && SDL_PollEvent(&e));
        if (a.dirty && a.running)
            draw(&a);
    }
out:
    teardown(&a);
    SDL_Quit();
    return rc;
}
