/* tiffread.h - TIFF files decoded with libtiff directly, instead of through
 * SDL_image.
 *
 * SDL_image 2.6 reads a TIFF with libtiff's TIFFReadRGBAImage, which
 * premultiplies the colour of straight (unassociated) alpha, as
 * ImageMagick and most writers store it: un-premultiplying afterwards
 * cannot restore what the rounding lost (up to 14 levels where alpha is
 * low). And it asks libtiff to go on past a read error, so a cut file
 * decodes with its missing strips left blank. tiffread_decode makes the
 * same call with two changes: straight alpha is read as the file holds it
 * (libtiff is told the alpha is associated, so it copies the samples
 * unchanged), and any error stops the decode. Before decoding it checks
 * that every strip or tile lies inside the file.
 *
 * The result is what SDL_image's reader gives but for those two points:
 * the first directory, top row first, in SDL_PIXELFORMAT_ABGR8888 (R, G,
 * B, A bytes in memory on a little-endian machine); associated alpha is
 * left premultiplied, as stored, for image.c to divide out. libtiff's own
 * messages go into why, never to stderr.
 */
#ifndef SHMIMG_TIFFREAD_H
#define SHMIMG_TIFFREAD_H

#include <SDL.h>
#include <stddef.h>
#include <stdint.h>

enum tiffread_result {
    TIFFREAD_DECODED = 0,
    TIFFREAD_CUT = 1,         /* a strip or tile lies past the file's end */
    TIFFREAD_UNREADABLE = -1, /* libtiff or SDL refused; why says what */
};

/* fd: the open TIFF file (not closed, its offset moved), size its length
 * in bytes; max_alloc: the largest single allocation libtiff may make
 * (bytes). *out: a new surface, owned by the caller, on TIFFREAD_DECODED.
 * Returns: an enum tiffread_result, with why set unless TIFFREAD_DECODED. */
int tiffread_decode(int fd, uint64_t size, size_t max_alloc, SDL_Surface **out,
                    char *why, size_t why_size);

/* The checks alone, without decoding: that the first directory, the tag
 * values it keeps out of line, and every strip or tile lie inside the
 * file. Returns: TIFFREAD_CUT with why; TIFFREAD_DECODED when nothing is
 * cut that these checks can tell (or libtiff cannot open the file). */
int tiffread_check(int fd, uint64_t size, char *why, size_t why_size);

#endif
