/* view.h - the image on screen: a streaming texture in the segment's
 * canonical format (SDL_PIXELFORMAT_RGBA32), drawn 1:1 when it fits,
 * otherwise scaled to fit with its aspect ratio kept, centred, over a
 * checkerboard that shows through transparent pixels. */
#ifndef SHMIMG_VIEW_H
#define SHMIMG_VIEW_H

#include <SDL.h>
#include <stdbool.h>

typedef struct view view;

view *view_create(SDL_Renderer *renderer);
void view_destroy(view *v);

/* Uploads an RGBA32 surface (no conversion), replacing the texture when
 * the size changed. Returns: 0, or -1 (SDL_GetError says why). */
int view_set_image(view *v, const SDL_Surface *rgba);

/* Uploads w x h RGBA32 pixels, rows pitch bytes apart, from anywhere
 * (a segment's mapping: the one copy of zero-copy display), replacing the
 * texture when the size changed. Returns: 0, or -1 (SDL_GetError). */
int view_upload(view *v, const void *pixels, int w, int h, int pitch);

bool view_has_image(const view *v);

/* Returns: where the image goes in a win_w x win_h window. */
SDL_Rect view_place(const view *v, int win_w, int win_h);

/* Draws the image (and the checkerboard under it): from the filtered
 * copy when there is one for this image at the size it is drawn. */
void view_draw(view *v, int win_w, int win_h);

/* Returns: a number that changes with every upload (the image's
 * identity, for view_set_small). */
unsigned view_serial(const view *v);

/* Returns: true when the image is drawn at less than half its size in a
 * win_w x win_h area and no filtered copy of that size (*w x *h, pixels)
 * exists for it: the caller should make one (shrink.h). */
bool view_wants_small(const view *v, int win_w, int win_h, int *w, int *h);

/* Keeps rgba, the filtered copy of the image of that serial, as a
 * texture; ignored when another image was uploaded since.
 * Returns: 0, or -1 (SDL_GetError). */
int view_set_small(view *v, const SDL_Surface *rgba, unsigned serial);

#endif
