/* keys.c - what the window does for a person: the keys (the table
 * `keys`), drops and pastes of files (decoded on the loader's thread, the
 * newest winning), S's save with its spinner, O's file chooser.
 */
#include "app_internal.h"

#include "plain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* While a save runs, the spinner's timer ticks; it stops itself after. */
static SDL_atomic_t spinning;

/* Space: pauses or resumes the animation this window plays; without
 * one, pulls, as P does. */
static void key_space(app *a)
{
    if (!a->player) {
        app_pull(a, false);
        return;
    }
    bool pause = !player_paused(a->player);
    player_set_paused(a->player, pause);
    const image_anim *an = player_anim(a->player);
    if (pause)
        app_say(a, TEXT_INFO, "Paused %s at frame %d of %d; Space resumes",
                a->shown_name, player_frame(a->player) + 1, an->count);
    else
        app_say(a, TEXT_INFO, "Playing %s again", a->shown_name);
    app_update_title(a);
}

void app_start_loading(app *a, char *path, int files)
{
    if (loader_busy(a->loader)) {
        /* The newest drop wins: it replaces any drop already waiting and
         * starts as soon as the running decode ends (whose result is then
         * dropped). A decoder cannot be interrupted, and running two at
         * once would double the memory for nothing. */
        SDL_free(a->pending);
        a->pending = path;
        a->drop_note = files;
        app_say(a, TEXT_INFO,
                "Loading %s ... (after the file being decoded now)",
                app_base_name(path));
        return;
    }
    a->drop_note = files;
    if (loader_start(a->loader, path) < 0)
        app_say(a, TEXT_ERROR, "Cannot start loading %s: %s",
                app_base_name(path), SDL_GetError());
    else
        app_say(a, TEXT_INFO, "Loading %s ...", app_base_name(path));
    SDL_free(path);
}

void app_on_loaded(app *a, loader_result *r)
{
    loader_finished(a->loader);
    if (a->pending) {
        char *next = a->pending;
        a->pending = NULL;
        app_start_loading(a, next, a->drop_note);
    } else if (r->rc < 0) {
        char words[512];
        app_say_error(a, r->err.msg, "%s",
                      plain_file_failure(r->rc, r->path, words, sizeof words));
    } else {
        app_publish(a, r);
    }
    loader_result_free(r);
}

void app_key_pull(app *a) { app_pull(a, false); }

void app_key_live(app *a)
{
    if (a->live) {
        a->live = false;
        app_say(a, TEXT_INFO, "Live mode off");
        app_update_title(a);
        return;
    }
    seg_err err;
    /* Like 'pull --wait': a live window may come first, and waits for a
     * publisher to make the segment (a reader never does). */
    int rc = app_attach(a, SEG_READER, &err);
    if (rc < 0 && rc != SEG_ENOSEG) {
        app_say_failure(a, "Cannot start live mode: ", &err);
        return;
    }
    if (!a->watch)
        a->watch = a->seg ? live_start(a->seg, event_type(EVENT_LIVE))
                          : live_start_key(a->key, event_type(EVENT_LIVE));
    if (!a->watch) {
        app_say(a, TEXT_ERROR, "Cannot start live mode: %s", SDL_GetError());
        return;
    }
    a->live = true;
    app_say(a, TEXT_INFO,
            "Live mode on: each new image under key %s appears here", a->key);
    if (a->seg)
        app_pull(a, true);
    app_update_title(a);
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

void app_show_saving(app *a)
{
    static const char spinner[] = "|/-\\";
    Uint32 ms = SDL_GetTicks() - a->save_started;
    app_set_status_quietly(a, "Saving %dx%d as PNG ... %c %.1f s", a->save_w,
                           a->save_h, spinner[ms / 125 % 4], ms / 1000.0);
}

static void key_save(app *a)
{
    /* Live mode showed the frame straight from the segment: save the
     * newest one (what is on screen, or the one after it). */
    seg_err err;
    if (a->shown_stale) {
        app_release_if_lent(a, &a->shown);
        int rc = a->seg ? image_pull(a->seg, &a->shown, NULL, &err)
                        : seg_fail(&err, SEG_EGONE,
                                   "the frame on screen came from a "
                                   "segment this window has left");
        if (rc < 0) {
            app_say_failure(a, "Cannot save: ", &err);
            return;
        }
        a->shown_stale = false;
    }
    if (!a->shown) {
        app_say(a, TEXT_ERROR,
                "Nothing to save yet: drop an image file here, "
                "press O to open one, or P to pull one");
        return;
    }
    if (saver_busy(a->saver)) {
        app_say(a, TEXT_ERROR,
                "Still saving the previous image; press S again "
                "when it is done");
        return;
    }
    /* A copy: the image on screen may change while the thread writes. */
    SDL_Surface *copy = SDL_DuplicateSurface(a->shown);
    if (!copy || saver_start(a->saver, copy, a->key) < 0) {
        app_say(a, TEXT_ERROR, "Cannot start saving: %s", SDL_GetError());
        return;
    }
    a->save_started = SDL_GetTicks();
    a->save_w = a->shown->w;
    a->save_h = a->shown->h;
    app_say(a, TEXT_INFO, "Saving %dx%d as PNG ...", a->save_w, a->save_h);
    SDL_AtomicSet(&spinning, 1);
    SDL_AddTimer(125, spin_later, NULL);
}

void app_on_saved(app *a, saver_result *r)
{
    saver_finished(a->saver);
    SDL_AtomicSet(&spinning, 0);
    if (!r)
        app_say(a, TEXT_ERROR, "Cannot save: out of memory");
    else if (r->rc < 0)
        app_say(a, TEXT_ERROR, "Cannot save in %s: %s", r->dir, r->err.msg);
    else
        app_say(a, TEXT_SUCCESS, "Saved %s/%s (%dx%d) in %.2f s", r->dir,
                r->name, r->width, r->height, r->seconds);
    SDL_free(r);
}

static void key_detach(app *a)
{
    if (!a->seg) {
        app_say(a, TEXT_INFO, "Not attached to key %s", a->key);
        return;
    }
    app_stop_watch(a);
    a->live = false;
    a->newer = false;
    bool removed = seg_detach(a->seg) == 1;
    a->seg = NULL;
    app_update_title(a);
    app_say(a, TEXT_INFO, "Detached from key %s%s", a->key,
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
        app_say(a, TEXT_INFO, "The file chooser is open already");
        return;
    }
    const char *tool = chooser_tool();
    if (!tool) {
        app_say(a, TEXT_ERROR,
                "No file chooser on this system (zenity or "
                "kdialog): drag an image from your file manager "
                "and drop it here, or copy its path and press "
                "Ctrl+V");
        return;
    }
    if (chooser_open(a->chooser, "shmimg: an image to publish") < 0)
        app_say(a, TEXT_ERROR, "Cannot open the file chooser: %s",
                SDL_GetError());
    else
        app_say(a, TEXT_INFO, "Choose an image in the file chooser (%s) ...",
                tool);
}

void app_on_chosen(app *a, chooser_result *r)
{
    char tool[sizeof r->tool];
    int status = r->status;
    snprintf(tool, sizeof tool, "%s", r->tool);
    char *path = chooser_finished(a->chooser, r);
    if (path) {
        a->batch_verb = "dropped";
        app_start_loading(a, path, 1); /* checked as a drop is */
    } else if (status == 1 || status == 0) {
        app_say(a, TEXT_INFO, "No file chosen");
    } else {
        app_say(a, TEXT_ERROR, "The file chooser (%s) failed (exit status %d)",
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
void app_key_paste(app *a)
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
        app_say(a, TEXT_ERROR,
                "%s: copy an image file (or its full path) and "
                "press Ctrl+V again",
                others ? "The clipboard holds no file path or file:// URI"
                       : "The clipboard is empty");
        return;
    }
    a->batch_verb = "pasted";
    app_start_loading(a, last, files);
}

static const struct {
    SDL_Keycode key;
    void (*run)(app *a);
    const char *help;
} keys[] = {
    {SDLK_p, app_key_pull, "P         pull the image from the segment"},
    {SDLK_SPACE, key_space,
     "Space     pull; or pause an animation played here"},
    {SDLK_l, app_key_live, "L         live mode on/off"},
    {SDLK_s, key_save, "S         save the image as PNG here"},
    {SDLK_d, key_detach, "D         detach from the segment"},
    {SDLK_h, key_help, "H, F1     this help"},
    {SDLK_F1, key_help, NULL},
    {SDLK_q, key_quit, "Q         quit"},
    {SDLK_ESCAPE, key_escape, "Esc       close the help, then quit"},
    {SDLK_o, key_open, "O, Ctrl+O open an image with the file chooser"},
};

void app_on_key(app *a, SDL_Keycode key)
{
    for (size_t i = 0; i < SDL_arraysize(keys); i++)
        if (keys[i].key == key) {
            keys[i].run(a);
            return;
        }
}

void app_keys_help(char *buf, size_t size)
{
    snprintf(buf, size, "Keys\n");
    for (size_t i = 0; i < SDL_arraysize(keys); i++)
        if (keys[i].help) {
            strncat(buf, keys[i].help, size - strlen(buf) - 2);
            strcat(buf, "\n");
        }
    strncat(buf,
            "Ctrl+V    publish the file whose path was copied\n"
            "Click     pull, in an empty window\n"
            "Drop an image file here to publish it.",
            size - strlen(buf) - 1);
}

void app_stop_spinner(void) { SDL_AtomicSet(&spinning, 0); }
