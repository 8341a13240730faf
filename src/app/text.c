/* text.c - see text.h. */
#include "text.h"

#include <SDL_image.h>
#include <string.h>

struct text {
    SDL_Renderer *renderer;
    SDL_Texture *atlas;
};

static const int padding = TEXT_PADDING;

text *text_create(SDL_Renderer *renderer, const char *atlas_path)
{
    SDL_Texture *atlas = IMG_LoadTexture(renderer, atlas_path);
    if (!atlas)
        return NULL;
    text *t = SDL_calloc(1, sizeof *t);
    if (!t) {
        SDL_DestroyTexture(atlas);
        SDL_OutOfMemory();
        return NULL;
    }
    SDL_SetTextureBlendMode(atlas, SDL_BLENDMODE_BLEND);
    t->renderer = renderer;
    t->atlas = atlas;
    return t;
}

void text_destroy(text *t)
{
    if (!t)
        return;
    SDL_DestroyTexture(t->atlas);
    SDL_free(t);
}

static void draw_line(text *t, const char *s, size_t n, int x, int y)
{
    for (size_t i = 0; i < n; i++, x += TEXT_ADVANCE) {
        unsigned char c = (unsigned char)s[i];
        if (c < 32 || c > 126)
            c = '?';
        SDL_Rect src = {(c - 32) % 16 * TEXT_CELL_W, (c - 32) / 16 * TEXT_CELL_H,
                        TEXT_CELL_W, TEXT_CELL_H};
        SDL_Rect dst = {x, y, TEXT_CELL_W, TEXT_CELL_H};
        SDL_RenderCopy(t->renderer, t->atlas, &src, &dst);
    }
}

typedef struct line {
    const char *start;
    size_t len;
} line;

/* Splits msg into at most max lines of at most cols characters, breaking
 * at spaces where it can. Returns: the number of lines put in out. */
static int wrap(const char *msg, size_t cols, line *out, int max)
{
    int n = 0;
    const char *p = msg;
    while (*p && n < max) {
        size_t len = strcspn(p, "\n");
        if (len > cols) {
            size_t cut = cols;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            len = cut ? cut : cols;
        }
        out[n++] = (line){p, len};
        p += len;
        if (*p == ' ' || *p == '\n')
            p++;
    }
    return n;
}

static size_t line_columns(int w)
{
    return (size_t)SDL_max(8, (w - 2 * padding) / TEXT_ADVANCE);
}

static void draw_lines(text *t, const line *lines, int n, SDL_Rect box)
{
    SDL_SetRenderDrawBlendMode(t->renderer, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(t->renderer, 0, 0, 0, 200);
    SDL_RenderFillRect(t->renderer, &box);
    for (int i = 0; i < n; i++)
        draw_line(t, lines[i].start, lines[i].len, box.x + padding,
                  box.y + padding + i * TEXT_CELL_H);
}

void text_draw_box(text *t, const char *msg, int w, int bottom)
{
    line lines[16];
    size_t cols = line_columns(w);
    int n = wrap(msg, cols, lines, 16);
    int h = n * TEXT_CELL_H + 2 * padding;
    draw_lines(t, lines, n, (SDL_Rect){0, bottom - h, w, h});
}

bool text_fits_line(const char *msg, int w)
{
    return strlen(msg) <= line_columns(w) && !strchr(msg, '\n');
}

void text_draw_status(text *t, const char *msg, int w, int bottom)
{
    size_t cols = line_columns(w), len = strcspn(msg, "\n");
    char buf[512];
    if (len > cols && cols > 3) { /* keep the start, which says what */
        len = SDL_min(cols - 3, sizeof buf - 4);
        memcpy(buf, msg, len);
        memcpy(buf + len, "...", 3);
        len += 3;
    } else {
        len = SDL_min(len, sizeof buf);
        memcpy(buf, msg, len);
    }
    line one = {buf, len};
    int h = TEXT_CELL_H + 2 * padding;
    draw_lines(t, &one, 1, (SDL_Rect){0, bottom - h, w, h});
}

void text_draw_centred(text *t, const char *msg, int w, int h)
{
    line lines[32];
    size_t cols = (size_t)SDL_max(8, (w - 4 * padding) / TEXT_ADVANCE);
    int n = wrap(msg, cols, lines, 32);
    size_t widest = 0;
    for (int i = 0; i < n; i++)
        widest = SDL_max(widest, lines[i].len);
    int bw = (int)widest * TEXT_ADVANCE + 2 * padding;
    int bh = n * TEXT_CELL_H + 2 * padding;
    draw_lines(t, lines, n, (SDL_Rect){(w - bw) / 2, (h - bh) / 2, bw, bh});
}
