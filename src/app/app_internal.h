/* app_internal.h - what the window's files share: the app's state and
 * the functions one file gives the others. Not a module boundary: the
 * window is app.c (the loop), status.c, attach.c, keys.c and options.c,
 * cut along its seams; everything else in src/app is a module of its own.
 */
#ifndef SHMIMG_APP_INTERNAL_H
#define SHMIMG_APP_INTERNAL_H

#include "app.h"
#include "chooser.h"
#include "events.h"
#include "gone.h"
#include "hud.h"
#include "image.h"
#include "live.h"
#include "loader.h"
#include "player.h"
#include "saver.h"
#include "shrink.h"
#include "text.h"
#include "view.h"

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* No image yet: the window's size, pixels. */
static const int default_w = 480, default_h = 320;
/* The message line under the image, so that it never hides pixels. */
static const int status_h = TEXT_STATUS_H; /* pixels */
/* Narrowest window: a status line of 51 characters. */
static const int min_w = 480; /* pixels */

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
    saver *saver;           /* S: the PNG is written off the loop */
    shrinker *shrinker;     /* the filtered copy of a large image */
    unsigned shrink_failed; /* the view serial it failed for: no retry */
    Uint32 save_started;    /* SDL_GetTicks() when the save under way began */
    int save_w, save_h;     /* its size, pixels: what is shown may change */
    seg *seg;               /* NULL while detached */
    live *watch;            /* the generation watcher, while attached */
    bool live;              /* live mode: the watcher's news is pulled */
    uint32_t shown_generation; /* of the image on screen (1: unknown) */
    bool newer;                /* a newer image than that waits for P */
    gone *publisher;           /* watches the process whose image is shown */
    pid_t shown_pid;           /* that process; 0: this window published it */
    bool publisher_gone;
    SDL_Surface *shown;    /* private RGBA32 copy of what is on screen */
    bool shown_stale;      /* live mode uploads frames straight from the
                              segment: shown is older than the screen */
    SDL_Surface *incoming; /* pulls land here, then swap with shown */
    player *player;        /* an animation this window publishes, playing */
    Uint32 live_frames[4]; /* SDL_GetTicks() of the last live frames */
    unsigned live_count;   /* live frames shown, all told */
    shown_kind kind;
    int shown_w, shown_h; /* pixels, of what is on screen (live frames
                             have no private copy: shown may be NULL) */
    char shown_name[SHMIMG_NAME_MAX];
    char *pending;   /* the newest drop, waiting for the decoder */
    char *drop_last; /* last file of the drop batch in progress */
    int drop_count;
    int drop_note;          /* files in the batch that is being decoded */
    const char *batch_verb; /* how they came: "dropped", "pasted" */
    chooser *chooser;       /* O: the desktop's file chooser, a child */
    bool sized_to_image;    /* fitted once; after that the size is the user's */
    bool show_help;
    bool dirty;
    bool running;
    char message[SEG_ERR_MSG_MAX + 128];
    text_tone message_tone;
    int message_serial; /* which message the collapse timer is for */
    bool message_expanded;
} app;

typedef struct options {
    const char *key;
    const char *image;
    bool live;
    bool pair;
    bool has_geometry;
    SDL_Rect geometry; /* --geometry WxH+X+Y */
} options;

/* ---- status.c: messages, badges and the title */
double app_stream_fps(const app *a);
void app_check_stream_later(void);
int app_check_settings(void);
int app_badges(const app *a, hud_badge *out);
void app_say(app *a, text_tone tone, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void app_say_error(app *a, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void app_set_status_quietly(app *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void app_say_failure(app *a, const char *what, const seg_err *err);
void app_update_title(app *a);
const char *app_base_name(const char *path);

/* ---- attach.c: the segment: attach, pull, publish; the watchers' news */
void app_stop_watch(app *a);
void app_stop_playing(app *a);
void app_detach(app *a);
int app_attach(app *a, unsigned flags, seg_err *err);
int app_device_scale(const app *a);
void app_release_if_lent(app *a, SDL_Surface **surf);
void app_pull(app *a, bool quiet_when_empty);
void app_publish(app *a, loader_result *r);
void app_on_tick(app *a);
void app_on_watch(app *a, int code, uint32_t generation);

/* ---- keys.c: loading, and the keys */
void app_start_loading(app *a, char *path, int files);
void app_on_loaded(app *a, loader_result *r);
void app_key_pull(app *a);
void app_key_live(app *a);
void app_show_saving(app *a);
void app_on_saved(app *a, saver_result *r);
void app_on_chosen(app *a, chooser_result *r);
void app_key_paste(app *a);
void app_on_key(app *a, SDL_Keycode key);

/* ---- options.c: the window's options, first geometry and signals */
int app_parse_options(int argc, char **argv, options *o);
SDL_Rect app_initial_geometry(const options *o);
void app_route_quit_signals(void);
int app_check_wayland_seat(void);

/* keys.c: the help panel's text, the keys' lines (H, F1). */
void app_keys_help(char *buf, size_t size);
/* keys.c: stops the save spinner's timer (at teardown). */
void app_stop_spinner(void);

#endif
