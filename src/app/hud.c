/* hud.c - see hud.h. */
#include "hud.h"

#include <stdio.h>
#include <string.h>

/* Tunables: the empty state. */
static const SDL_Color accent = {0x5a, 0x9b, 0xff, 0xff}; /* frame, arrow */
static const SDL_Color zone = {0x26, 0x29, 0x2f, 0xff};   /* inside it */
static const SDL_Color muted = {0xb8, 0xbe, 0xc8, 0xff};  /* small print */
static const SDL_Color cap = {0xe8, 0xea, 0xee, 0xff};    /* a key cap */
static const SDL_Color cap_text = {0x20, 0x22, 0x26, 0xff};
static const int margin = 16; /* pixels from the area's edge to the frame */
static const int dash = 10, gap = 6, stroke = 2; /* pixels */
static const int badge_gap = 6;                  /* pixels */

static void fill(SDL_Renderer *r, SDL_Color c, int x, int y, int w, int h)
{
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    SDL_RenderFillRect(r, &(SDL_Rect){x, y, w, h});
}

/* A dashed frame, its dashes starting at each corner. */
static void dashed_frame(SDL_Renderer *r, SDL_Rect f)
{
    for (int x = f.x; x < f.x + f.w; x += dash + gap) {
        int len = SDL_min(dash, f.x + f.w - x);
        fill(r, accent, x, f.y, len, stroke);
        fill(r, accent, x, f.y + f.h - stroke, len, stroke);
    }
    for (int y = f.y; y < f.y + f.h; y += dash + gap) {
        int len = SDL_min(dash, f.y + f.h - y);
        fill(r, accent, f.x, y, stroke, len);
        fill(r, accent, f.x + f.w - stroke, y, stroke, len);
    }
}

/* An arrow pointing down into a tray, 40 x 36 pixels, top-left at (x, y). */
static void drop_arrow(SDL_Renderer *r, int x, int y)
{
    fill(r, accent, x + 17, y, 6, 16); /* shaft */
    for (int i = 0; i < 10; i++)       /* head */
        fill(r, accent, x + 10 + i, y + 16 + i, 20 - 2 * i, 1);
    fill(r, accent, x, y + 22, 4, 14); /* tray */
    fill(r, accent, x + 36, y + 22, 4, 14);
    fill(r, accent, x, y + 32, 40, 4);
}

/* Width in pixels of a line in which {X} is drawn as a key cap. */
static int markup_width(const char *s)
{
    int w = 0;
    for (const char *p = s; *p;) {
        bool is_cap = *p == '{';
        size_t len = is_cap ? strcspn(p + 1, "}") : strcspn(p, "{");
        w +=
            (int)text_length(p + is_cap, len) * TEXT_ADVANCE + (is_cap ? 8 : 0);
        p += len + (is_cap ? 1 + (p[1 + len] == '}') : 0);
    }
    return w;
}

/* Draws a markup line centred on x = cx. */
static void markup_line(text *t, SDL_Renderer *r, const char *s, int cx, int y,
                        SDL_Color c)
{
    int x = cx - markup_width(s) / 2;
    for (const char *p = s; *p;) {
        bool is_cap = *p == '{';
        size_t len = is_cap ? strcspn(p + 1, "}") : strcspn(p, "{");
        if (is_cap) {
            int w = (int)text_length(p + 1, len) * TEXT_ADVANCE + 8;
            fill(r, cap, x, y - 1, w, TEXT_CELL_H + 2);
            text_draw(t, p + 1, len, x + 4, y, 1, cap_text);
            x += w;
            p += len + 1 + (p[1 + len] == '}');
        } else {
            x = text_draw(t, p, len, x, y, 1, c);
            p += len;
        }
    }
}

void hud_draw_empty(text *t, SDL_Renderer *r, const char *key, int w, int h)
{
    SDL_Rect frame = {margin, margin, w - 2 * margin, h - 2 * margin};
    if (frame.w < 4 * dash || frame.h < 4 * dash)
        return;
    fill(r, zone, frame.x, frame.y, frame.w, frame.h);
    dashed_frame(r, frame);
    SDL_RenderSetClipRect(r, &frame);
    static const char heading[] = "Drop an image here";
    int scale =
        (int)strlen(heading) * TEXT_ADVANCE * 2 + 2 * margin <= frame.w ? 2 : 1;
    bool arrow = frame.h >= 220;
    int lines = 3, line_h = TEXT_CELL_H + 6;
    int block =
        (arrow ? 36 + 14 : 0) + TEXT_CELL_H * scale + 14 + lines * line_h;
    int cx = w / 2, y = frame.y + (frame.h - block) / 2;
    if (arrow) {
        drop_arrow(r, cx - 20, y);
        y += 36 + 14;
    }
    text_draw(t, heading, strlen(heading),
              cx - (int)strlen(heading) * TEXT_ADVANCE * scale / 2, y, scale,
              (SDL_Color){0xff, 0xff, 0xff, 0xff});
    y += TEXT_CELL_H * scale + 14;
    char publish[96];
    snprintf(publish, sizeof publish, "to publish it under key %s", key);
    markup_line(t, r, publish, cx, y, muted);
    markup_line(t, r, "{P} or a click: pull what is published", cx, y + line_h,
                muted);
    markup_line(t, r, "{L} live mode    {H} all keys", cx, y + 2 * line_h,
                muted);
    SDL_RenderSetClipRect(r, NULL);
}

int hud_badges_width(const hud_badge *badges, int n)
{
    int w = 0;
    for (int i = 0; i < n; i++)
        w += text_badge_width(badges[i].label) + badge_gap;
    return n ? w + TEXT_PADDING - badge_gap + TEXT_PADDING : 0;
}

int hud_draw_badges(text *t, const hud_badge *badges, int n, int w, int bottom)
{
    int right = w - TEXT_PADDING;
    int y = bottom - TEXT_STATUS_H + (TEXT_STATUS_H - TEXT_CELL_H - 4) / 2;
    for (int i = 0; i < n; i++)
        right =
            text_draw_badge(t, badges[i].label, badges[i].colour, right, y) -
            badge_gap;
    return n ? w - right - badge_gap + TEXT_PADDING : 0;
}
