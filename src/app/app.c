/* app.c - the shmimg window: drop an image to publish it, press P to pull.
 *
 * What Qt's "IPC: Shared Memory" example does with two dialogs, with SDL2.
 * Where to start reading: app_main (options, set-up, loop, tear-down), then
 * on_event, which dispatches every event (the app's own with one switch,
 * events.h). The window's other files: status.c (what it says), attach.c
 * (its segment), keys.c (what a person does), options.c.
 * Decoding runs on a thread (loader.c), live mode on another (live.c); both
 * talk to the loop only through SDL user events. The segment is reached
 * only through the library (image.h, segment.h).
 */
#include "app_internal.h"

#include "pair.h"

#include <SDL_image.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const SDL_Color background = {0x20, 0x22, 0x26, 0xff};
/* An image of at most this many pixels is area-filtered on the loop (a few
 * ms); a larger one on the shrinker's thread. */
static const long long shrink_on_loop_pixels = 1000 * 1000;

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

/* The process whose image is shown has exited (gone.h). */
static void on_publisher_gone(app *a)
{
    a->publisher_gone = true;
    /* Its last detach removed the segment unless it persists. */
    if (a->seg && !seg_replaced(a->seg))
        app_say(a, TEXT_INFO,
                "The publisher of %s (pid %d) has exited; "
                "its image stays under key %s",
                a->shown_name, (int)a->shown_pid, a->key);
    else
        app_say(a, TEXT_INFO,
                "The publisher of %s (pid %d) has exited, "
                "and its segment with it; what is on "
                "screen stays",
                a->shown_name, (int)a->shown_pid);
    app_update_title(a);
}

/* The app's own events (events.h), from its threads and timers. */
static void on_app_event(app *a, SDL_Event *e)
{
    switch (event_of(e->type)) {
    case EVENT_LOADED: app_on_loaded(a, e->user.data1); break;
    case EVENT_CHOSEN: app_on_chosen(a, e->user.data1); break;
    case EVENT_SHRUNK: on_shrunk(a, e->user.data1); break;
    case EVENT_SAVED: app_on_saved(a, e->user.data1); break;
    case EVENT_SPIN:
        if (saver_busy(a->saver))
            app_show_saving(a);
        break;
    case EVENT_STREAM_CHECK:
        a->dirty = true; /* the STREAM badge may have to go */
        app_update_title(a);
        if (app_stream_fps(a) > 0)
            app_check_stream_later();
        break;
    case EVENT_COLLAPSE:
        if (e->user.code == a->message_serial) {
            a->message_expanded = false;
            a->dirty = true;
        }
        break;
    case EVENT_TICK:
        if (player_owns_event(a->player, e))
            app_on_tick(a);
        break;
    case EVENT_LIVE:
        if (a->watch)
            app_on_watch(a, e->user.code, (uint32_t)(uintptr_t)e->user.data1);
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
            app_key_paste(a);
        else
            app_on_key(a, e->key.keysym.sym); /* Ctrl+O as O */
        break;
    case SDL_DROPBEGIN: a->drop_count = 0; break;
    case SDL_DROPFILE:
        SDL_free(a->drop_last);
        a->drop_last = e->drop.file; /* ours to free */
        a->drop_count++;
        break;
    case SDL_DROPTEXT:
        app_say(a, TEXT_ERROR,
                "Dropped text ignored: drop an image file to "
                "publish it");
        SDL_free(e->drop.file);
        break;
    case SDL_DROPCOMPLETE:
        if (a->drop_last) {
            a->batch_verb = "dropped";
            app_start_loading(a, a->drop_last, a->drop_count);
            a->drop_last = NULL;
        }
        break;
    case SDL_MOUSEBUTTONUP:
        /* The empty state says so: a click in an empty window pulls. */
        if (e->button.button == SDL_BUTTON_LEFT && a->kind == SHOWN_NOTHING &&
            !a->show_help)
            app_key_pull(a);
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
    int scale = app_device_scale(a);
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
        int n = app_badges(a, b), reserved = hud_badges_width(b, n);
        text_draw_status(a->font, a->message_expanded ? "" : a->message,
                         a->message_tone, w, h, reserved);
        hud_draw_badges(a->font, b, n, w, h);
        if (a->message_expanded)
            text_draw_box(a->font, a->message, a->message_tone, w,
                          h - status_h);
        if (a->show_help) {
            char help[1024];
            app_keys_help(help, sizeof help);
            text_draw_panel(a->font, help, w, h);
        }
    }
    SDL_RenderSetScale(a->renderer, 1, 1);
    SDL_RenderPresent(a->renderer);
    a->dirty = false;
}

static int setup(app *a, const options *o)
{
    a->key = o->key;
    a->running = true;
    if (events_register() < 0) {
        fprintf(stderr, "shmimg: %s\n", SDL_GetError());
        return -1;
    }
    SDL_Rect g = app_initial_geometry(o);
    /* Hidden until the renderer exists: the OpenGL renderer replaces the X
     * window of a window made without SDL_WINDOW_OPENGL (SDL_RecreateWindow),
     * so a window shown now would be mapped, then destroyed a moment later:
     * a flash on screen, and a dead window id for whoever found it
     * meanwhile (a drag source, a test driver). */
    a->window = SDL_CreateWindow(
        "shmimg", g.x, g.y, g.w, g.h,
        SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI | SDL_WINDOW_HIDDEN);
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
    SDL_Surface *icon =
        app_asset_path("shmimg.png", icon_path, sizeof icon_path) == 0
            ? IMG_Load(icon_path)
            : NULL;
    if (icon) {
        SDL_SetWindowIcon(a->window, icon);
        SDL_FreeSurface(icon);
    }
    SDL_RendererInfo info;
    SDL_GetRendererInfo(a->renderer, &info);
    int scale = app_device_scale(a);
    if (scale > 1 && o->image && !o->has_geometry) {
        /* Sized to the image in device pixels: 1:1 needs 1/scale. */
        SDL_SetWindowSize(a->window, SDL_max(g.w / scale, min_w),
                          SDL_max((g.h - status_h) / scale + status_h, 120));
    }
    int device_w, device_h;
    SDL_GetWindowSize(a->window, &g.w, &g.h);
    SDL_GetRendererOutputSize(a->renderer, &device_w, &device_h);
    fprintf(stderr,
            "shmimg: window for key %s, video %s, renderer %s, "
            "%dx%d (%dx%d device pixels, scale %d)\n",
            a->key, SDL_GetCurrentVideoDriver(), info.name, g.w, g.h, device_w,
            device_h, scale);
    app_update_title(a);
    SDL_ShowWindow(a->window);
    app_say(a, TEXT_INFO, "Window for key %s: H shows the keys", a->key);
    if (o->image)
        app_start_loading(a, SDL_strdup(o->image), 1);
    if (o->live)
        app_key_live(a);
    return 0;
}

static void teardown(app *a)
{
    app_stop_playing(a);
    saver_destroy(a->saver); /* a save under way ends whole first */
    shrinker_destroy(a->shrinker);
    chooser_destroy(a->chooser);
    app_stop_spinner();
    loader_destroy(a->loader);
    app_detach(a);
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

int app_main(int argc, char **argv)
{
    options o;
    int rc = app_parse_options(argc, argv, &o);
    if (rc)
        return rc;
    if (app_check_settings() < 0)
        return 2;
    if (app_check_wayland_seat() < 0)
        return 1;
    if (o.pair)
        return pair_run(o.key, o.live, o.image);

    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) < 0) {
        fprintf(stderr,
                "shmimg: cannot open a window: %s (the subcommands "
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
    app_route_quit_signals();
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
