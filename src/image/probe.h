/* probe.h - an image's format and declared size, read from its file
 * header alone.
 *
 * Used to refuse decompression bombs (a small file that declares an image
 * of billions of pixels) before the decoder allocates anything, and images
 * over a decoder's own limits before the decoder prints about them. Knows
 * the size in PNG, GIF, JPEG, BMP, QOI, WEBP, XPM, PNM and TIFF (its first
 * directory). Other formats are stopped by the allocation ceiling of image.h
 * before their pixels are allocated.
 *
 * Also reports what image.c needs to correct what SDL_image 2.6 gives for
 * a few variants: the components and Adobe transform of a JPEG (CMYK and
 * YCCK come as raw C,M,Y,K bytes), a grey PNG with a tRNS chunk, a TIFF's
 * colour model and kind of alpha.
 */
#ifndef SHMIMG_PROBE_H
#define SHMIMG_PROBE_H

#include <stdint.h>
#include <stdio.h>

typedef enum probe_format {
    PROBE_UNKNOWN,
    PROBE_PNG,
    PROBE_GIF,
    PROBE_JPEG,
    PROBE_BMP,
    PROBE_QOI,
    PROBE_WEBP,
    PROBE_XPM,
    PROBE_PNM,
    PROBE_TIFF,
} probe_format;

typedef struct probe_info {
    probe_format format;
    uint64_t width;  /* pixels; 0 when the format's size is not probed */
    uint64_t height; /* pixels; 0 likewise */
    /* JPEG: components in the frame header (1 grey, 3 YCbCr or RGB, 4 CMYK
     * or YCCK), and the transform byte of the APP14 "Adobe" marker (0 CMYK
     * or RGB, 1 YCbCr, 2 YCCK), -1 without that marker. An Adobe marker
     * also means 4-component samples are stored inverted (255 = no ink). */
    int jpeg_components;
    int adobe_transform;
    /* PNG: the IHDR colour type, and whether a tRNS chunk comes before
     * the first IDAT. */
    int png_colour_type;
    int png_has_trns;
    /* TIFF, first directory: PhotometricInterpretation (0, 1 grey, 2 RGB,
     * 3 palette, 5 CMYK...; -1 when absent), and the first ExtraSamples
     * value (1 associated alpha, 2 unassociated alpha; 0 none). */
    int tiff_photometric;
    int tiff_alpha;
} probe_info;

/* Reads from the current position of f (which it moves).
 * Returns: 0 and *info when the format is known and its header readable
 * (width and height 0 when a TIFF's directory does not give them), -1
 * otherwise
 * (unknown format: let the decoder decide). */
int probe_image(FILE *f, probe_info *info);

#endif
