/* status.c - what the window says: the status line (messages, which a
 * long one shows whole over the image for a while), the badges, the title.
 * Every name in them is anyone's bytes: escaped (escape.h) on the way.
 */
#include "app_internal.h"

#include "escape.h"
#include "plain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A message too long for the status line is shown whole, over the image,
 * this long (SHMIMG_MESSAGE_MS overrides), then cut to one line. */
static const Uint32 message_expanded_ms = 6000;
/* Badges of the status line: what the window is, whatever was said last. */
static const SDL_Color live_colour = {0xd9, 0x3a, 0x2f, 0xff};
static const SDL_Color publisher_colour = {0x2d, 0x6c, 0xdf, 0xff};
static const SDL_Color playing_colour = {0x2f, 0x9e, 0x57, 0xff};
static const SDL_Color reader_colour = {0x4a, 0x50, 0x58, 0xff};
static const SDL_Color newer_colour = {0xb8, 0x7a, 0x0b, 0xff};

/* A stream is playing into this window: live frames came at this rate
 * (frames per second), measured over the last four, the newest under a
 * second ago. Returns: 0 when they stopped or come slower than 2 a
 * second (single images, not a stream). */
double app_stream_fps(const app *a)
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

void app_check_stream_later(void)
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
int app_check_settings(void)
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
            fprintf(stderr,
                    "shmimg: SHMIMG_MESSAGE_MS='%s' is not a whole "
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
int app_badges(const app *a, hud_badge *out)
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
    double fps = app_stream_fps(a);
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
    return hud_badges_width(b, app_badges(a, b));
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

void app_say(app *a, text_tone tone, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_status(a, tone, true, NULL, fmt, ap);
    va_end(ap);
}

/* An error in plain words; detail, the library's, goes to stderr only. */
void app_say_error(app *a, const char *detail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_status(a, TEXT_ERROR, true, detail, fmt, ap);
    va_end(ap);
}

void app_set_status_quietly(app *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_status(a, TEXT_INFO, false, NULL, fmt, ap);
    va_end(ap);
}

/* The title says what is on screen and where it came from: published by
 * this window, or pulled (live or not) from which process, whether that
 * process still runs, and whether a newer image waits. */
void app_update_title(app *a)
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
                 a->shown_w, a->shown_h, a->player ? ", animated" : "",
                 a->live ? " (live)" : "");
    else if (a->kind == SHOWN_PULLED)
        snprintf(origin, sizeof origin, " (%dx%d) from pid %d%s", a->shown_w,
                 a->shown_h, (int)a->shown_pid,
                 a->publisher_gone ? ", which has exited" : "");
    char raw[SHMIMG_NAME_MAX + SEG_KEY_MAX + 256];
    char stream[48] = "";
    if (app_stream_fps(a) > 0)
        snprintf(stream, sizeof stream, " - stream, %.0f fps",
                 app_stream_fps(a));
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
void app_say_failure(app *a, const char *what, const seg_err *err)
{
    char words[512];
    app_say_error(
        a, err->msg, "%s%s", what,
        plain_segment_failure(err->code, a->key, words, sizeof words));
}

const char *app_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
