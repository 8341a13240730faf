/* hud.h - what the window draws besides the image and the messages: the
 * empty state (what to drop, which key pulls) and the badges that say,
 * all the time, what the window is (live, publisher, reader) whatever the
 * last message was.
 */
#ifndef SHMIMG_HUD_H
#define SHMIMG_HUD_H

#include "text.h"

#include <SDL.h>

/* A badge of the status line. */
typedef struct hud_badge {
    const char *label;
    SDL_Color colour;
} hud_badge;

/* Draws the empty state of a window on key in a w x h area at (0, 0):
 * a dashed drop zone, an arrow, and what to do, with the keys drawn as
 * key caps. */
void hud_draw_empty(text *t, SDL_Renderer *r, const char *key, int w, int h);

/* Returns: the pixels n badges take from the right edge of the status
 * line, a gap before them included (0 for none). */
int hud_badges_width(const hud_badge *badges, int n);

/* Draws n badges right-aligned in the status line whose bottom is at
 * y = bottom in a w-pixel-wide window.
 * Returns: hud_badges_width(badges, n). */
int hud_draw_badges(text *t, const hud_badge *badges, int n, int w, int bottom);

#endif
