/* view.c - see view.h. */
#include "view.h"

struct view {
    SDL_Renderer *renderer;
    SDL_Texture *image;
    int w, h;              /* pixels */
    SDL_Texture *checker;  /* one tile of the checkerboard */
    unsigned serial;       /* bumped by every upload */
    SDL_Texture *small;    /* the area-filtered copy (shrink.h), or NULL */
    int small_w, small_h;  /* pixels */
    unsigned small_serial; /* of the image it was made from */
};

/* Below this scale the GPU's bilinear filter aliases: draw the filtered
 * copy (issue 11, point 3). */
static bool too_small(const view *v, SDL_Rect at)
{
    return 2 * at.w < v->w || 2 * at.h < v->h;
}

enum { checker_square = 8, checker_tile = 64 }; /* pixels */

static SDL_Texture *make_checker(SDL_Renderer *r)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(
        0, checker_tile, checker_tile, 32, SDL_PIXELFORMAT_RGBA32);
    if (!s)
        return NULL;
    for (int y = 0; y < checker_tile; y++) {
        Uint32 *row = (Uint32 *)((Uint8 *)s->pixels + y * s->pitch);
        for (int x = 0; x < checker_tile; x++) {
            bool light = ((x / checker_square) + (y / checker_square)) % 2;
            Uint8 c = light ? 0xcc : 0x99;
            row[x] = SDL_MapRGBA(s->format, c, c, c, 0xff);
        }
    }
    SDL_Texture *t = SDL_CreateTextureFromSurface(r, s);
    SDL_FreeSurface(s);
    return t;
}

view *view_create(SDL_Renderer *renderer)
{
    view *v = SDL_calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->renderer = renderer;
    v->checker = make_checker(renderer);
    return v;
}

void view_destroy(view *v)
{
    if (!v)
        return;
    if (v->image)
        SDL_DestroyTexture(v->image);
    if (v->checker)
        SDL_DestroyTexture(v->checker);
    if (v->small)
        SDL_DestroyTexture(v->small);
    SDL_free(v);
}

int view_set_image(view *v, const SDL_Surface *rgba)
{
    if (rgba->format->format != SDL_PIXELFORMAT_RGBA32)
        return SDL_SetError("view_set_image: not an RGBA32 surface");
    return view_upload(v, rgba->pixels, rgba->w, rgba->h, rgba->pitch);
}

int view_upload(view *v, const void *pixels, int w, int h, int pitch)
{
    v->serial++;
    if (!v->image || v->w != w || v->h != h) {
        SDL_Texture *t = SDL_CreateTexture(v->renderer, SDL_PIXELFORMAT_RGBA32,
                                           SDL_TEXTUREACCESS_STREAMING, w, h);
        if (!t)
            return -1;
        SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
        if (v->image)
            SDL_DestroyTexture(v->image);
        v->image = t;
        v->w = w;
        v->h = h;
    }
    return SDL_UpdateTexture(v->image, NULL, pixels, pitch);
}

bool view_has_image(const view *v) { return v->image != NULL; }

SDL_Rect view_place(const view *v, int win_w, int win_h)
{
    if (v->w <= win_w && v->h <= win_h) /* fits: pixel exact */
        return (SDL_Rect){(win_w - v->w) / 2, (win_h - v->h) / 2, v->w, v->h};
    /* Scale by the tighter ratio; compare in 64 bits to avoid rounding. */
    int w, h;
    if ((long long)win_w * v->h <= (long long)win_h * v->w) {
        w = win_w;
        h = (int)((long long)v->h * win_w / v->w);
    } else {
        h = win_h;
        w = (int)((long long)v->w * win_h / v->h);
    }
    w = SDL_max(w, 1);
    h = SDL_max(h, 1);
    return (SDL_Rect){(win_w - w) / 2, (win_h - h) / 2, w, h};
}

void view_draw(view *v, int win_w, int win_h)
{
    if (!v->image)
        return;
    SDL_Rect at = view_place(v, win_w, win_h);
    if (v->checker) {
        SDL_RenderSetClipRect(v->renderer, &at);
        for (int y = at.y; y < at.y + at.h; y += checker_tile)
            for (int x = at.x; x < at.x + at.w; x += checker_tile)
                SDL_RenderCopy(v->renderer, v->checker, NULL,
                               &(SDL_Rect){x, y, checker_tile, checker_tile});
        SDL_RenderSetClipRect(v->renderer, NULL);
    }
    bool small = v->small && v->small_serial == v->serial &&
                 v->small_w == at.w && v->small_h == at.h;
    SDL_RenderCopy(v->renderer, small ? v->small : v->image, NULL, &at);
}

unsigned view_serial(const view *v) { return v->serial; }

bool view_wants_small(const view *v, int win_w, int win_h, int *w, int *h)
{
    if (!v->image)
        return false;
    SDL_Rect at = view_place(v, win_w, win_h);
    *w = at.w;
    *h = at.h;
    return too_small(v, at) && !(v->small && v->small_serial == v->serial &&
                                 v->small_w == at.w && v->small_h == at.h);
}

int view_set_small(view *v, const SDL_Surface *rgba, unsigned serial)
{
    if (serial != v->serial)
        return 0; /* made from an image no longer shown */
    if (rgba->format->format != SDL_PIXELFORMAT_RGBA32)
        return SDL_SetError("view_set_small: not an RGBA32 surface");
    SDL_Texture *t =
        SDL_CreateTexture(v->renderer, SDL_PIXELFORMAT_RGBA32,
                          SDL_TEXTUREACCESS_STATIC, rgba->w, rgba->h);
    if (!t)
        return -1;
    SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
    /* Drawn 1:1: nearest, so that no filter touches it again. */
    SDL_SetTextureScaleMode(t, SDL_ScaleModeNearest);
    if (SDL_UpdateTexture(t, NULL, rgba->pixels, rgba->pitch) < 0) {
        SDL_DestroyTexture(t);
        return -1;
    }
    if (v->small)
        SDL_DestroyTexture(v->small);
    v->small = t;
    v->small_w = rgba->w;
    v->small_h = rgba->h;
    v->small_serial = serial;
    return 0;
}
