/* truncated.h - image files cut short, found where the decoder would not
 * say so.
 *
 * A file cut in the middle (a download stopped, a copy to a full disk)
 * decodes "fine" in several of SDL_image 2.6's readers: libjpeg pads the
 * rest with grey, the GIF reader plays the frames that survive, the QOI
 * and TGA readers repeat or leave out the missing pixels, the PCX reader
 * makes up a palette, nanosvg draws the shapes before the cut, libpng is
 * never asked for the chunks after the image data. shmimg refuses every
 * cut file it can tell (image.c), with a message that says so.
 *
 * The checks follow the structure each format gives its end, without
 * decoding a pixel: JPEG's end-of-image marker, PNG's IEND chunk, GIF's
 * trailer, QOI's end marker after the pixels its operations make, the
 * bytes a BMP's, ICO's or WEBP's header declares (a BMP's RLE data up to
 * its end-of-bitmap code), the pixels of a TGA's (RLE) data, a PCX's rows
 * and 256-colour palette, an SVG's closing tag, an XPM's closing "};"
 * (its reader refuses a file cut in its strings: "Premature end of
 * data"). TIFF's directory and strips are checked by tiffread.c. PNM is
 * left to its reader, which refuses a cut file ("file truncated").
 *
 * Each check recognises its format as SDL_image does (the same magic
 * bytes; TGA, which has none, by the extension), reads the file through
 * f from its start, and leaves f anywhere.
 */
#ifndef SHMIMG_TRUNCATED_H
#define SHMIMG_TRUNCATED_H

#include "probe.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* f: the image file, size its length in bytes; info: probe_image's
 * result (format PROBE_UNKNOWN when the probe knew nothing); ext: the
 * file name's extension without the dot, or NULL.
 * Returns: 1 when the file is cut short, with why set to what is
 * missing ("the PNG data stops before its IEND chunk"); 0 otherwise
 * (complete, or a format not checked here). */
int truncated_check(FILE *f, uint64_t size, const probe_info *info,
                    const char *ext, char *why, size_t why_size);

/* Walks a GIF's blocks from the start of f, without decoding a pixel,
 * as SDL_image's reader does (a byte that starts no block is skipped).
 * *frames: the images whose data is whole.
 * Returns: 0 when the blocks reach the trailer, 1 when the file ends
 * before it, -1 when f is not a GIF. */
int truncated_gif(FILE *f, int *frames);

#endif
