/* png_fast.c - see png_fast.h. */
#include "png_fast.h"

#include <png.h>
#include <setjmp.h>

/* zlib level 1: the fastest that still compresses; the Sub filter costs
 * next to nothing and helps photographs and gradients. */
static const int zlib_level = 1;

/* libpng reports errors here; the jump back to png_fast_write is libpng's
 * own (png_jmpbuf), from ordinary code, never from a signal handler. */
static void on_error(png_structp png, png_const_charp msg)
{
    SDL_SetError("libpng: %s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg; /* nothing a person saving a file can act on */
}

static void write_bytes(png_structp png, png_bytep data, png_size_t n)
{
    SDL_RWops *rw = png_get_io_ptr(png);
    if (SDL_RWwrite(rw, data, 1, n) != n)
        png_error(png, "write failed");
}

static void flush_nothing(png_structp png) { (void)png; }

/* The part that libpng may jump out of: only its arguments live across
 * the setjmp, and none of them changes after it.
 * Returns: 0 or -1. */
static int encode_rows(png_structp png, png_infop info, SDL_RWops *rw,
                       SDL_Surface *rgba)
{
    if (setjmp(png_jmpbuf(png)))
        return -1; /* on_error said why */
    png_set_write_fn(png, rw, write_bytes, flush_nothing);
    png_set_IHDR(png, info, (png_uint_32)rgba->w, (png_uint_32)rgba->h, 8,
                 PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, zlib_level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_write_info(png, info);
    for (int y = 0; y < rgba->h; y++)
        png_write_row(png, (png_const_bytep)rgba->pixels +
                               (size_t)y * (size_t)rgba->pitch);
    png_write_end(png, info);
    return 0;
}

int png_fast_write(SDL_Surface *sf, SDL_RWops *rw)
{
    SDL_Surface *rgba = sf;
    if (sf->format->format != SDL_PIXELFORMAT_RGBA32) {
        rgba = SDL_ConvertSurfaceFormat(sf, SDL_PIXELFORMAT_RGBA32, 0);
        if (!rgba)
            return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                              on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = -1;
    if (!png || !info)
        SDL_OutOfMemory();
    else if (SDL_MUSTLOCK(rgba) && SDL_LockSurface(rgba) < 0)
        ; /* SDL said why */
    else {
        rc = encode_rows(png, info, rw, rgba);
        if (SDL_MUSTLOCK(rgba))
            SDL_UnlockSurface(rgba);
    }
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    if (rgba != sf)
        SDL_FreeSurface(rgba);
    return rc;
}
