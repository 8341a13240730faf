/* attach.c - the window and its segment: attach and detach, pull (P,
 * Space, live mode) and publish (a decoded file, an animation's frames),
 * and the news of the generation watcher (live.h) and of the publisher's
 * exit (gone.h). The segment is reached only through the library
 * (image.h, segment.h).
 */
#include "app_internal.h"

#include "escape.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void app_stop_watch(app *a)
{
    live_stop(a->watch);
    a->watch = NULL;
}

void app_stop_playing(app *a)
{
    player_destroy(a->player);
    a->player = NULL;
}

void app_detach(app *a)
{
    app_stop_playing(a);
    app_stop_watch(a);
    seg_detach(a->seg);
    a->seg = NULL;
}

/* Attaches (again, if the key now names another file). */
int app_attach(app *a, unsigned flags, seg_err *err)
{
    if (a->seg && !seg_replaced(a->seg))
        return 0;
    if (a->seg)
        app_detach(a);
    /* Not attached, a watcher may be waiting for the key's file (live
     * mode): it goes on unless we attach now. */
    int rc = seg_attach(a->key, flags, &a->seg, err);
    if (rc == 0)
        app_stop_watch(a);
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
int app_device_scale(const app *a)
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
    int scale = app_device_scale(a); /* window sizes are in window pixels */
    int w = (image_w + scale - 1) / scale,
        h = (image_h + scale - 1) / scale + status_h;
    if (SDL_GetDisplayUsableBounds(SDL_GetWindowDisplayIndex(a->window),
                                   &usable) == 0) {
        w = SDL_min(w, usable.w);
        h = SDL_min(h, usable.h);
    }
    SDL_SetWindowSize(a->window, SDL_max(w, min_w), SDL_max(h, 120));
}

static void shown_as(app *a, shown_kind kind, const char *name, int w, int h)
{
    a->kind = kind;
    a->shown_w = w;
    a->shown_h = h;
    snprintf(a->shown_name, sizeof a->shown_name, "%s", name);
    fit_window_once(a, w, h);
    app_update_title(a);
    a->dirty = true;
}

static void show(app *a, shown_kind kind, const char *name)
{
    if (view_set_image(a->view, a->shown) < 0)
        app_say(a, TEXT_ERROR, "Cannot show the image: %s", SDL_GetError());
    a->shown_stale = false;
    shown_as(a, kind, name, a->shown->w, a->shown->h);
}

/* A surface lent to the shrinker (shrink.h) is not written: let go of it
 * (the shrinker keeps it alive) so that image_pull makes a new one. */
void app_release_if_lent(app *a, SDL_Surface **surf)
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
                    seg_file(a->seg), seg_strerror(SEG_ELAPPED), SEG_MAX_LAPS);
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
void app_pull(app *a, bool quiet_when_empty)
{
    seg_err err;
    int rc = app_attach(a, SEG_READER, &err);
    if (rc < 0) {
        app_say_failure(a, "", &err);
        /* Nothing under the key yet: notice the segment when a publisher
         * makes it, and say that an image waits for P. */
        if (rc == SEG_ENOSEG && !a->watch)
            a->watch = live_start_key(a->key, event_type(EVENT_LIVE));
        return;
    }
    seg_image img;
    app_release_if_lent(a, &a->incoming);
    rc = a->live ? pull_to_screen(a, &img, &err)
                 : image_pull(a->seg, &a->incoming, &img, &err);
    if (rc == SEG_EEMPTY && quiet_when_empty)
        return;
    if (rc < 0) {
        app_say_failure(a, "", &err); /* what is on screen stays as it was */
        return;
    }
    a->shown_generation = (uint32_t)(img.frame << 2) | img.buffer;
    a->newer = false;
    watch_publisher(a, (pid_t)img.publisher_pid);
    if (a->live) {
        a->live_frames[a->live_count++ % 4] = SDL_GetTicks();
        app_check_stream_later();
        a->shown_stale = true;
        shown_as(a, SHOWN_PULLED, img.source_name, (int)img.width,
                 (int)img.height);
    } else {
        SDL_Surface *previous = a->shown;
        a->shown = a->incoming;
        a->incoming = previous; /* reused by the next pull of that size */
        show(a, SHOWN_PULLED, img.source_name);
    }
    app_say(a, TEXT_SUCCESS, "%s %s (%ux%u) from key %s",
            a->live ? "Live:" : "Pulled", img.source_name, img.width,
            img.height, a->key);
}

/* A decoded file: publish it and show it. */
void app_publish(app *a, loader_result *r)
{
    seg_err err;
    char what[SHMIMG_NAME_MAX + 32];
    snprintf(what, sizeof what, "Cannot publish %s: ", app_base_name(r->path));
    if (app_attach(a, SEG_CREATE, &err) < 0 ||
        image_publish(a->seg, r->surface, r->path, &err) < 0) {
        app_say_failure(a, what, &err);
        return;
    }
    app_stop_playing(a); /* what was playing is replaced */
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
    show(a, SHOWN_PUBLISHED, app_base_name(r->path));
    char also[64] = "";
    if (a->drop_note > 1)
        snprintf(also, sizeof also, " (%d files %s; the last one wins)",
                 a->drop_note, a->batch_verb ? a->batch_verb : "dropped");
    if (a->player) {
        const image_anim *an = player_anim(a->player);
        app_say(a, TEXT_SUCCESS,
                "Playing %s (%dx%d, %d frames, %.1f s a loop) under key %s; "
                "Space pauses%s",
                app_base_name(r->path), an->width, an->height, an->count,
                (double)an->loop_ms / 1000, a->key, also);
        return;
    }
    app_say(a, TEXT_SUCCESS, "Published %s (%dx%d) under key %s%s",
            app_base_name(r->path), a->shown->w, a->shown->h, a->key, also);
}

/* The animation's next frame is due: publish it and show it. */
void app_on_tick(app *a)
{
    SDL_Surface *frame = player_advance(a->player);
    seg_err err;
    if (!a->seg || image_publish(a->seg, frame, a->shown_name, &err) < 0) {
        if (!a->seg)
            seg_fail(&err, SEG_EGONE, "the window left the segment");
        app_stop_playing(a);
        app_say_failure(a, "Animation stopped: ", &err);
        app_update_title(a);
        return;
    }
    a->shown_generation = seg_generation(a->seg);
    a->kind = SHOWN_PUBLISHED; /* a P meanwhile showed the same frames */
    if (view_set_image(a->view, frame) < 0)
        app_say(a, TEXT_ERROR, "Cannot show the image: %s", SDL_GetError());
    a->shown_stale = true; /* S saves the frame in the segment */
    a->dirty = true;
}

/* News from the generation watcher (live.h) about generation. */
void app_on_watch(app *a, int code, uint32_t generation)
{
    if (code == LIVE_BROKEN) {
        bool was_live = a->live;
        a->live = a->newer = false;
        app_detach(a);
        if (was_live)
            app_say(a, TEXT_ERROR,
                    "Live mode off: the segment file was truncated "
                    "by another process; publish again");
        else
            app_say(a, TEXT_ERROR,
                    "The segment file of key %s was truncated by "
                    "another process; publish again",
                    a->key);
        app_update_title(a);
        return;
    }
    if (code == LIVE_REPLACED) {
        /* 'shmimg rm', or a new file under the key: follow it. */
        seg_err err;
        int rc = app_attach(a, SEG_READER, &err);
        if (rc == SEG_ENOSEG) {
            /* Removed, and no new file yet: watch for the next one, so
             * that its first image shows (live) or is announced. */
            a->watch = live_start_key(a->key, event_type(EVENT_LIVE));
            if (!a->live)
                app_say(a, TEXT_INFO,
                        "The segment of key %s was removed; what "
                        "is on screen stays",
                        a->key);
            app_update_title(a);
            return;
        }
        if (rc < 0) {
            if (a->live)
                app_say_failure(a, "Live mode: ", &err);
            else
                app_say(a, TEXT_INFO,
                        "The segment of key %s was removed; what "
                        "is on screen stays",
                        a->key);
            app_update_title(a);
            return;
        }
        a->shown_generation = 1; /* of the old file: unknown in the new */
        generation = seg_generation(a->seg);
        if (generation == 0)
            return; /* nothing published in the new file yet */
    }
    if (a->live)
        app_pull(a, true);
    else if (generation != a->shown_generation && !a->newer) {
        a->newer = true;
        app_say(a, TEXT_INFO, "Newer image under key %s: press P", a->key);
        app_update_title(a);
    }
}
