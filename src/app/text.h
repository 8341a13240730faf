/* text.h - messages drawn with a bitmap font atlas (assets/font.png),
 * loaded with SDL_image: no font library needed.
 *
 * The atlas holds ASCII 32..126 in a 16 x 6 grid of TEXT_CELL_W x
 * TEXT_CELL_H pixel cells, white on transparent; other bytes (UTF-8 file
 * names, say) are drawn as '?'.
 */
#ifndef SHMIMG_TEXT_H
#define SHMIMG_TEXT_H

#include <SDL.h>
#include <stdbool.h>

#define TEXT_CELL_W 10 /* pixels */
#define TEXT_CELL_H 20 /* pixels */
#define TEXT_ADVANCE 9 /* pixels from one character to the next */
#define TEXT_PADDING 8 /* pixels around the text in a box */

typedef struct text text;

/* Returns: the font, or NULL (SDL_GetError says why). */
text *text_create(SDL_Renderer *renderer, const char *atlas_path);
void text_destroy(text *t);

/* Draws msg in a translucent box at the bottom of a w-pixel-wide area
 * whose bottom edge is at y = bottom, wrapping at spaces; '\n' breaks. */
void text_draw_box(text *t, const char *msg, int w, int bottom);

/* Returns: true when msg fits on one status line of a w-pixel-wide area. */
bool text_fits_line(const char *msg, int w);

/* Draws msg on one line at the bottom of a w-pixel-wide area, cut with
 * "..." when it is too long. */
void text_draw_status(text *t, const char *msg, int w, int bottom);

/* Draws msg (lines split at '\n') in a box centred in a w x h area. */
void text_draw_centred(text *t, const char *msg, int w, int h);

#endif
