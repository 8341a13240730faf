/* probe.h - an image's declared size, read from its file header alone.
 *
 * Used to refuse decompression bombs (a small file that declares an image
 * of billions of pixels) before the decoder allocates anything. Knows PNG,
 * GIF, JPEG, BMP, QOI, WEBP and binary/ASCII PNM; other formats are checked
 * after decoding.
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

#endif
