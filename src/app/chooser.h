/* chooser.h - O and Ctrl+O: the desktop's file chooser, in a child
 * process (zenity, else kdialog, whichever is first found in PATH), read
 * by a thread of ours, so that the event loop never waits for a person
 * choosing a file. The chosen path comes back as an SDL user event.
 *
 * Not through xdg-desktop-portal: its FileChooser answers with a Response
 * signal sent to the unique bus name of the caller, and `gdbus call`
 * leaves the bus as soon as the call returns the request's handle (a
 * `gdbus monitor` on another connection is not sent that signal); the
 * portal needs a D-Bus connection of the app's own, which is a library
 * this project does not take for one dialog.
 */
#ifndef SHMIMG_CHOOSER_H
#define SHMIMG_CHOOSER_H

#include <SDL.h>
#include <stdbool.h>

typedef struct chooser_result {
    char *path;    /* the file chosen (no newline), or NULL: cancelled */
    char tool[16]; /* "zenity" or "kdialog" */
    int status;    /* the tool's exit status; -1 if it did not run */
} chooser_result;

typedef struct chooser chooser;

/* event_type: an SDL_RegisterEvents type; the event's data1 is the
 * chooser_result, to be handed to chooser_finished. */
chooser *chooser_create(Uint32 event_type);

/* Ends a chooser still open (SIGTERM to its process), waits for the
 * thread, drops its result, frees the chooser. */
void chooser_destroy(chooser *c);

/* Returns: the name of the chooser that O would run ("zenity",
 * "kdialog"), or NULL when PATH has none. */
const char *chooser_tool(void);

/* Opens the chooser, titled title (ASCII, ours).
 * Returns: 0, or -1 when one is open, none is installed, or it could not
 * start (SDL_GetError says which). */
int chooser_open(chooser *c, const char *title);

bool chooser_busy(const chooser *c);

/* Joins the thread; frees r but for r->path, which becomes the caller's.
 * Returns: that path (NULL: cancelled or failed). */
char *chooser_finished(chooser *c, chooser_result *r);

#endif
