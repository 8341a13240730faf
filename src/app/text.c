/* text.c - see text.h. */
#include "text.h"

#include <SDL_image.h>
#include <stdint.h>
#include <string.h>

/* The atlas's blocks, in the order of their cells (text.h). */
static const struct {
    uint32_t first, last;
} blocks[] = {
    {0x0020, 0x007f},
    {0x00a0, 0x017f},
    {0x0370, 0x03ff},
    {0x0400, 0x04ff},
};
enum { atlas_columns = 16, max_cells = 96 + 224 + 144 + 256 };

/* Tunables: colours of the three tones. */
static const struct {
    SDL_Color bar;  /* the status line and the message box */
    SDL_Color disc; /* the icon and the accent stripe at the left edge */
} tones[] = {
    [TEXT_INFO] = {{0x11, 0x12, 0x14, 0xff}, {0x5b, 0x8d, 0xd9, 0xff}},
    [TEXT_SUCCESS] = {{0x0f, 0x2e, 0x1a, 0xff}, {0x2f, 0xb3, 0x5a, 0xff}},
    [TEXT_ERROR] = {{0x44, 0x10, 0x13, 0xff}, {0xe5, 0x3e, 0x3e, 0xff}},
};
/* A message box over the image: nearly opaque, so that the words stay
 * readable over white; the image shows enough to tell it is still there. */
static const Uint8 box_alpha = 235;
static const SDL_Color white = {0xff, 0xff, 0xff, 0xff};
static const SDL_Color panel = {0x15, 0x17, 0x1a, 0xff};
static const SDL_Color panel_edge = {0x5a, 0x9b, 0xff, 0xff};
static const Uint8 scrim_alpha = 150; /* dims the window behind the help */
static const int accent_w = 3;        /* pixels: the stripe at the left */
static const int padding = TEXT_PADDING;

struct text {
    SDL_Renderer *renderer;
    SDL_Texture *atlas;
    int cells;                  /* cells in the atlas */
    Uint8 drawn[max_cells / 8]; /* bit i: cell i has a glyph */
    SDL_Texture *icons[3];      /* per tone, TEXT_ICON pixels square */
};

/* ---- UTF-8 and the atlas ------------------------------------------------ */

/* Decodes one character of s (at most n bytes). Invalid bytes (messages
 * are escaped, so only a bug brings them) are one U+FFFD each.
 * Returns: the bytes used (>= 1), the character in *cp. */
static size_t next_char(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = u[0] < 0x80                   ? 1
                 : u[0] >= 0xc2 && u[0] < 0xe0 ? 2
                 : u[0] >= 0xe0 && u[0] < 0xf0 ? 3
                 : u[0] >= 0xf0 && u[0] < 0xf5 ? 4
                                               : 0;
    if (len == 0 || len > n) {
        *cp = 0xfffd;
        return 1;
    }
    uint32_t c = len == 1 ? u[0] : u[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        c = c << 6 | (u[i] & 0x3f);
    }
    *cp = c;
    return len;
}

size_t text_length(const char *s, size_t len)
{
    size_t chars = 0;
    uint32_t cp;
    for (size_t i = 0; i < len && s[i]; chars++)
        i += next_char(s + i, len - i, &cp);
    return chars;
}

/* Returns: the atlas cell of cp, or -1 when the atlas has no glyph. */
static int cell_of(const text *t, uint32_t cp)
{
    int base = 0;
    for (size_t b = 0; b < SDL_arraysize(blocks); b++) {
        if (cp >= blocks[b].first && cp <= blocks[b].last) {
            int cell = base + (int)(cp - blocks[b].first);
            if (cell < t->cells && (t->drawn[cell / 8] & 1u << cell % 8))
                return cell;
            return -1;
        }
        base += (int)(blocks[b].last - blocks[b].first + 1);
    }
    return -1;
}

/* Characters drawn as nothing on purpose (their cells are empty). */
static bool blank(uint32_t cp) { return cp == ' ' || cp == 0xa0; }

/* Notes which cells hold a glyph: an empty cell means that the font had
 * none, and such characters get the replacement box. */
static void find_drawn_cells(text *t, SDL_Surface *rgba)
{
    int rows = rgba->h / TEXT_CELL_H;
    t->cells = SDL_min(rows * atlas_columns, (int)max_cells);
    for (int cell = 0; cell < t->cells; cell++) {
        int x0 = cell % atlas_columns * TEXT_CELL_W;
        int y0 = cell / atlas_columns * TEXT_CELL_H;
        bool any = false;
        for (int y = y0; y < y0 + TEXT_CELL_H && !any; y++) {
            const Uint8 *row = (const Uint8 *)rgba->pixels + y * rgba->pitch;
            for (int x = x0; x < x0 + TEXT_CELL_W && !any; x++)
                any = row[4 * x + 3] != 0; /* RGBA32: alpha is byte 3 */
        }
        if (any)
            t->drawn[cell / 8] |= (Uint8)(1u << cell % 8);
    }
}

/* ---- the tone icons ------------------------------------------------------ */

/* Squared distance from (px, py) to the segment (ax, ay)-(bx, by). */
static float dist2(float px, float py, float ax, float ay, float bx, float by)
{
    float dx = bx - ax, dy = by - ay;
    float u = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy);
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    float ex = ax + u * dx - px, ey = ay + u * dy - py;
    return ex * ex + ey * ey;
}

/* Whether (x, y), in icon pixels, is on the white mark of tone. */
static bool on_mark(text_tone tone, float x, float y)
{
    const float w2 = 1.1f * 1.1f; /* half a stroke, squared */
    switch (tone) {
    case TEXT_SUCCESS: /* a tick */
        return dist2(x, y, 4, 8.5f, 7, 11.5f) < w2 ||
               dist2(x, y, 7, 11.5f, 12, 4.5f) < w2;
    case TEXT_ERROR: /* '!' */
        return dist2(x, y, 8, 3.5f, 8, 9) < w2 ||
               dist2(x, y, 8, 12, 8, 12) < w2;
    default: /* 'i' */
        return dist2(x, y, 8, 4, 8, 4) < w2 || dist2(x, y, 8, 7, 8, 12.5f) < w2;
    }
}

/* A disc of the tone's colour with its white mark, anti-aliased by 4 x 4
 * samples per pixel. */
static SDL_Texture *make_icon(SDL_Renderer *r, text_tone tone)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, TEXT_ICON, TEXT_ICON, 32,
                                                    SDL_PIXELFORMAT_RGBA32);
    if (!s)
        return NULL;
    SDL_Color d = tones[tone].disc;
    const float c = TEXT_ICON / 2.0f, radius2 = c * c;
    for (int y = 0; y < TEXT_ICON; y++) {
        Uint32 *row = (Uint32 *)((Uint8 *)s->pixels + y * s->pitch);
        for (int x = 0; x < TEXT_ICON; x++) {
            int in_disc = 0, in_mark = 0;
            for (int sy = 0; sy < 4; sy++)
                for (int sx = 0; sx < 4; sx++) {
                    float fx = x + (sx + 0.5f) / 4, fy = y + (sy + 0.5f) / 4;
                    if ((fx - c) * (fx - c) + (fy - c) * (fy - c) > radius2)
                        continue;
                    in_disc++;
                    in_mark += on_mark(tone, fx, fy);
                }
            /* Over the disc's colour, the mark's share of white. */
            Uint8 rr = (Uint8)(d.r + (255 - d.r) * in_mark / 16);
            Uint8 gg = (Uint8)(d.g + (255 - d.g) * in_mark / 16);
            Uint8 bb = (Uint8)(d.b + (255 - d.b) * in_mark / 16);
            row[x] =
                SDL_MapRGBA(s->format, rr, gg, bb, (Uint8)(255 * in_disc / 16));
        }
    }
    SDL_Texture *tex = SDL_CreateTextureFromSurface(r, s);
    SDL_FreeSurface(s);
    if (tex)
        SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
    return tex;
}

/* ---- create and destroy ---------------------------------------------------- */

text *text_create(SDL_Renderer *renderer, const char *atlas_path)
{
    text *t = NULL;
    SDL_Surface *rgba = NULL, *loaded = IMG_Load(atlas_path);
    if (!loaded)
        return NULL;
    rgba = SDL_ConvertSurfaceFormat(loaded, SDL_PIXELFORMAT_RGBA32, 0);
    t = SDL_calloc(1, sizeof *t);
    if (!rgba || !t) {
        SDL_OutOfMemory();
        goto err;
    }
    t->renderer = renderer;
    find_drawn_cells(t, rgba);
    t->atlas = SDL_CreateTextureFromSurface(renderer, rgba);
    if (!t->atlas)
        goto err;
    SDL_SetTextureBlendMode(t->atlas, SDL_BLENDMODE_BLEND);
    /* Sharp when scaled up (the empty state's heading): the window's
     * default is linear, which would blur the glyphs. */
    SDL_SetTextureScaleMode(t->atlas, SDL_ScaleModeNearest);
    for (int i = 0; i < 3; i++)
        t->icons[i] = make_icon(renderer, (text_tone)i); /* NULL: no icon */
    SDL_FreeSurface(rgba);
    SDL_FreeSurface(loaded);
    return t;
err:
    text_destroy(t);
    SDL_FreeSurface(rgba);
    SDL_FreeSurface(loaded);
    return NULL;
}

void text_destroy(text *t)
{
    if (!t)
        return;
    if (t->atlas)
        SDL_DestroyTexture(t->atlas);
    for (int i = 0; i < 3; i++)
        if (t->icons[i])
            SDL_DestroyTexture(t->icons[i]);
    SDL_free(t);
}

/* ---- drawing ---------------------------------------------------------------- */

static void fill(SDL_Renderer *r, SDL_Color c, SDL_Rect box)
{
    SDL_SetRenderDrawBlendMode(r, c.a == 0xff ? SDL_BLENDMODE_NONE
                                              : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    SDL_RenderFillRect(r, &box);
}

/* The replacement for a character the atlas lacks: a hollow box the size
 * of a capital letter, unlike any letter or punctuation. */
static void draw_missing(text *t, int x, int y, int scale, SDL_Color c)
{
    SDL_Rect box = {x + 1 * scale, y + 4 * scale, 7 * scale, 13 * scale};
    SDL_SetRenderDrawBlendMode(t->renderer, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(t->renderer, c.r, c.g, c.b, 0xff);
    for (int i = 0; i < scale; i++) {
        SDL_RenderDrawRect(t->renderer, &box);
        box = (SDL_Rect){box.x + 1, box.y + 1, box.w - 2, box.h - 2};
    }
}

int text_draw(text *t, const char *s, size_t len, int x, int y, int scale,
              SDL_Color c)
{
    SDL_SetTextureColorMod(t->atlas, c.r, c.g, c.b);
    for (size_t i = 0; i < len && s[i]; x += TEXT_ADVANCE * scale) {
        uint32_t cp;
        i += next_char(s + i, len - i, &cp);
        if (blank(cp))
            continue;
        int cell = cell_of(t, cp);
        if (cell < 0) {
            draw_missing(t, x, y, scale, c);
            continue;
        }
        SDL_Rect src = {cell % atlas_columns * TEXT_CELL_W,
                        cell / atlas_columns * TEXT_CELL_H, TEXT_CELL_W,
                        TEXT_CELL_H};
        SDL_Rect dst = {x, y, TEXT_CELL_W * scale, TEXT_CELL_H * scale};
        SDL_RenderCopy(t->renderer, t->atlas, &src, &dst);
    }
    SDL_SetTextureColorMod(t->atlas, 0xff, 0xff, 0xff);
    return x;
}

typedef struct line {
    const char *start;
    size_t len; /* bytes */
} line;

/* Splits msg into at most max lines of at most cols characters, breaking
 * at spaces where it can. Returns: the number of lines put in out. */
static int wrap(const char *msg, size_t cols, line *out, int max)
{
    int n = 0;
    const char *p = msg;
    while (*p && n < max) {
        size_t end = strcspn(p, "\n"), i = 0, chars = 0, last_space = 0;
        while (i < end && chars < cols) {
            uint32_t cp;
            i += next_char(p + i, end - i, &cp);
            chars++;
            if (i < end && p[i] == ' ')
                last_space = i;
        }
        size_t len = i;
        if (i < end) /* too long: cut at the last space, if any */
            len = last_space ? last_space : i;
        out[n++] = (line){p, len};
        p += len;
        if (*p == ' ' || *p == '\n')
            p++;
    }
    return n;
}

/* Characters that fit in w pixels of a message box. */
static size_t columns(int w)
{
    return (size_t)SDL_max(8, (w - TEXT_INDENT - padding) / TEXT_ADVANCE);
}

bool text_fits_line(const char *msg, int w, int reserved)
{
    return text_length(msg, strlen(msg)) <= columns(w - reserved) &&
           !strchr(msg, '\n');
}

/* The tone's box: the bar, the accent stripe, the icon at the top left
 * (unless the box holds no words). */
static void draw_tone_box(text *t, text_tone tone, SDL_Rect box, Uint8 alpha,
                          bool icon)
{
    SDL_Color bar = tones[tone].bar;
    bar.a = alpha;
    fill(t->renderer, bar, box);
    fill(t->renderer, tones[tone].disc,
         (SDL_Rect){box.x, box.y, accent_w, box.h});
    if (icon && t->icons[tone]) {
        SDL_Rect at = {box.x + padding,
                       box.y + padding + (TEXT_CELL_H - TEXT_ICON) / 2,
                       TEXT_ICON, TEXT_ICON};
        SDL_RenderCopy(t->renderer, t->icons[tone], NULL, &at);
    }
}

void text_draw_box(text *t, const char *msg, text_tone tone, int w, int bottom)
{
    line lines[16];
    int n = wrap(msg, columns(w), lines, 16);
    int h = n * TEXT_CELL_H + 2 * padding;
    SDL_Rect box = {0, bottom - h, w, h};
    draw_tone_box(t, tone, box, box_alpha, true);
    for (int i = 0; i < n; i++)
        text_draw(t, lines[i].start, lines[i].len, box.x + TEXT_INDENT,
                  box.y + padding + i * TEXT_CELL_H, 1, white);
}

void text_draw_status(text *t, const char *msg, text_tone tone, int w,
                      int bottom, int reserved)
{
    SDL_Rect box = {0, bottom - TEXT_STATUS_H, w, TEXT_STATUS_H};
    draw_tone_box(t, tone, box, 0xff, msg[0] != '\0');
    size_t cols = columns(w - reserved), len = strcspn(msg, "\n");
    int x = box.x + TEXT_INDENT, y = box.y + padding;
    if (text_length(msg, len) <= cols) {
        text_draw(t, msg, len, x, y, 1, white);
        return;
    }
    /* Too long: keep the start, which says what, and end with "...". */
    size_t i = 0;
    for (size_t chars = 0; chars + 3 < cols && i < len; chars++) {
        uint32_t cp;
        i += next_char(msg + i, len - i, &cp);
    }
    x = text_draw(t, msg, i, x, y, 1, white);
    text_draw(t, "...", 3, x, y, 1, white);
}

int text_badge_width(const char *label)
{
    return (int)text_length(label, strlen(label)) * TEXT_ADVANCE + 2 * 6;
}

int text_draw_badge(text *t, const char *label, SDL_Color bg, int right, int y)
{
    int w = text_badge_width(label);
    SDL_Rect box = {right - w, y, w, TEXT_CELL_H + 4};
    fill(t->renderer, bg, box);
    text_draw(t, label, strlen(label), box.x + 6, y + 2, 1, white);
    return box.x;
}

void text_draw_panel(text *t, const char *msg, int w, int h)
{
    fill(t->renderer, (SDL_Color){0, 0, 0, scrim_alpha},
         (SDL_Rect){0, 0, w, h});
    line lines[32];
    size_t cols = (size_t)SDL_max(8, (w - 6 * padding) / TEXT_ADVANCE);
    int n = wrap(msg, cols, lines, 32);
    size_t widest = 0;
    for (int i = 0; i < n; i++)
        widest = SDL_max(widest, text_length(lines[i].start, lines[i].len));
    int bw = (int)widest * TEXT_ADVANCE + 4 * padding;
    int bh = n * TEXT_CELL_H + 4 * padding;
    SDL_Rect box = {(w - bw) / 2, (h - bh) / 2, bw, bh};
    fill(t->renderer, panel_edge, box);
    fill(t->renderer, panel,
         (SDL_Rect){box.x + 1, box.y + 1, box.w - 2, box.h - 2});
    for (int i = 0; i < n; i++)
        text_draw(t, lines[i].start, lines[i].len, box.x + 2 * padding,
                  box.y + 2 * padding + i * TEXT_CELL_H, 1,
                  i == 0 ? panel_edge : white);
}
