/* publish.c - publishes a test pattern under a key and keeps it there
 * (persistent) after exiting. Build against an installed libshmimg:
 *     cc publish.c $(pkg-config --cflags --libs shmimg) -o publish
 * Usage: publish KEY WIDTH HEIGHT */
#include <shmimg.h>

#include <stdio.h>
#include <stdlib.h>

#include "pattern.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: publish KEY WIDTH HEIGHT\n");
        return 2;
    }
    uint32_t w = (uint32_t)atoi(argv[2]), h = (uint32_t)atoi(argv[3]);
    uint8_t *rgba = malloc((size_t)w * h * 4);
    if (!rgba)
        return 1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            pattern_pixel(x, y, 1, rgba + ((size_t)y * w + x) * 4);

    shmimg *pub;
    int rc = shmimg_publisher_open(argv[1], &pub);
    if (rc == SHMIMG_OK) {
        shmimg_set_persist(pub, 1); /* outlive this process */
        rc = shmimg_publish(pub, rgba, w, h, 0, SHMIMG_PIXEL_RGBA8, "pattern");
        shmimg_close(pub);
    }
    free(rgba);
    if (rc != SHMIMG_OK) {
        fprintf(stderr, "publish: %s\n", shmimg_last_error());
        return 1;
    }
    printf("published %ux%u under %s (libshmimg %s)\n", w, h, argv[1],
           shmimg_version());
    return 0;
}
