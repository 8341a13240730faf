/* text.h - messages drawn with a bitmap font atlas (assets/font.png),
 * loaded with SDL_image: no font library needed.
 *
 * The atlas is a grid of 16 columns of TEXT_CELL_W x TEXT_CELL_H pixel
 * cells, white on transparent, holding these Unicode blocks one after the
 * other, each starting on a new row (cmake/make-assets.sh makes it):
 *     U+0020..U+007F  ASCII                   6 rows
 *     U+00A0..U+017F  Latin-1, Latin Ext-A   14 rows
 *     U+0370..U+03FF  Greek and Coptic        9 rows
 *     U+0400..U+04FF  Cyrillic               16 rows
 * Text is UTF-8. A character outside these blocks, or whose cell is empty
 * (the font has no glyph for it), is drawn as a hollow box the size of a
 * letter, never as '?', which would read as part of a file name. An older,
 * shorter atlas works too: what it lacks is drawn as boxes.
 *
 * Every message has a tone: errors are drawn on red with a '!' disc,
 * successes on green with a tick, the rest on grey with an 'i', so that
 * which is which shows at a glance, before anything is read.
 */
#ifndef SHMIMG_TEXT_H
#define SHMIMG_TEXT_H

#include <SDL.h>
#include <stdbool.h>

#define TEXT_CELL_W  10 /* pixels */
#define TEXT_CELL_H  20 /* pixels */
#define TEXT_ADVANCE 9  /* pixels from one character to the next */
#define TEXT_PADDING 8  /* pixels around the text in a box */
#define TEXT_ICON    16 /* pixels: side of a message's tone icon */
/* Pixels from the left edge of a message box to its first character:
 * padding, icon, gap. */
#define TEXT_INDENT (TEXT_PADDING + TEXT_ICON + TEXT_PADDING)
/* Pixels: height of the one-line status box. */
#define TEXT_STATUS_H (TEXT_CELL_H + 2 * TEXT_PADDING)

typedef enum text_tone {
    TEXT_INFO,    /* what is going on: loading, saving, live mode on */
    TEXT_SUCCESS, /* done: published, pulled, saved */
    TEXT_ERROR,   /* refused or failed: what happened and the way out */
} text_tone;

typedef struct text text;

/* Returns: the font, or NULL (SDL_GetError says why). */
text *text_create(SDL_Renderer *renderer, const char *atlas_path);
void text_destroy(text *t);

/* Returns: the characters (code points) in the first len bytes of s. */
size_t text_length(const char *s, size_t len);

/* Draws the first len bytes of s on one line, top-left at (x, y), each
 * atlas pixel drawn as scale x scale pixels, in colour c.
 * Returns: x after the last character. */
int text_draw(text *t, const char *s, size_t len, int x, int y, int scale,
              SDL_Color c);

/* Returns: true when msg fits on one status line of a w-pixel-wide area
 * whose right `reserved` pixels are taken (by badges). */
bool text_fits_line(const char *msg, int w, int reserved);

/* Draws msg, wrapped at spaces ('\n' breaks), in a box of its tone across
 * a w-pixel-wide area, the box's bottom edge at y = bottom; over whatever
 * is there (the image), which it never moves. */
void text_draw_box(text *t, const char *msg, text_tone tone, int w, int bottom);

/* Draws the opaque status line (TEXT_STATUS_H pixels) of tone at the
 * bottom of a w-pixel-wide area (with no icon when msg is "");
 * msg is cut with "..." before the right
 * `reserved` pixels, which are left for badges. */
void text_draw_status(text *t, const char *msg, text_tone tone, int w,
                      int bottom, int reserved);

/* Returns: the width of label's badge, pixels. */
int text_badge_width(const char *label);

/* Draws a badge: label in white on an opaque box of colour bg,
 * its right edge at x = right, its top at y.
 * Returns: the badge's left edge (x), for the next badge. */
int text_draw_badge(text *t, const char *label, SDL_Color bg, int right, int y);

/* Draws msg (lines split at '\n') on an opaque panel centred in a w x h
 * area, over a dimmed window: readable over any image. */
void text_draw_panel(text *t, const char *msg, int w, int h);

#endif
