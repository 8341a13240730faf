/* probe.h - an image's declared size, read from its file header alone.
 *
 * Used to refuse decompression bombs (a small file that declares an image
 * of billions of pixels) before the decoder allocates anything. Knows PNG,
 * GIF, JPEG, BMP, QOI, WEBP, XPM and PNM. Other formats are stopped by the
 * allocation ceiling of image.h before their pixels are allocated.
 */
#ifndef SHMIMG_PROBE_H
#define SHMIMG_PROBE_H

#include <stdint.h>
#include <stdio.h>

typedef struct probe_size {
    uint64_t width;  /* pixels */
    uint64_t height; /* pixels */
} probe_size;

/* Reads from the current position of f (which it moves).
 * Returns: 0 and *size when the format is known and the header readable,
 * -1 otherwise (unknown format: let the decoder decide). */
int probe_image_size(FILE *f, probe_size *size);

/* Looks for the end of the data where a decoder would not: a JPEG whose
 * entropy-coded data stops before its end-of-image marker decodes "fine"
 * in libjpeg, padded with grey. Reads the whole file from the current
 * position. Returns: 1 when f is a truncated JPEG, 0 otherwise. */
int probe_truncated(FILE *f);

#endif
