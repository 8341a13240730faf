/* pull.c - pulls the newest frame of a key and checks every byte against
 * the test pattern of publish.c. Build against an installed libshmimg:
 *     cc pull.c $(pkg-config --cflags --libs shmimg) -o pull
 * or with CMake (CMakeLists.txt here: find_package(shmimg CONFIG)).
 * Usage: pull KEY        Exit status: 0 when every pixel is as published. */
#include <shmimg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pull KEY\n");
        return 2;
    }
    shmimg *rd;
    shmimg_frame f;
    if (shmimg_reader_open(argv[1], &rd) != SHMIMG_OK ||
        shmimg_peek(rd, &f) != SHMIMG_OK) {
        fprintf(stderr, "pull: %s\n", shmimg_last_error());
        return 1;
    }
    /* Another frame, of another size, may be newest by the time we pull:
     * then *f has its size, and we allocate again. */
    uint8_t *rgba = NULL;
    int rc = SHMIMG_ERR_SMALL_BUFFER;
    for (int tries = 0; tries < 8 && rc == SHMIMG_ERR_SMALL_BUFFER; tries++) {
        size_t size = (size_t)f.width * f.height * 4;
        free(rgba);
        rgba = malloc(size);
        rc = rgba ? shmimg_pull(rd, rgba, 0, size, &f) : SHMIMG_ERR_SYSTEM;
    }
    shmimg_close(rd);
    if (rc != SHMIMG_OK) {
        fprintf(stderr, "pull: %s\n", shmimg_last_error());
        return 1;
    }
    size_t wrong = 0;
    for (uint32_t y = 0; y < f.height; y++)
        for (uint32_t x = 0; x < f.width; x++) {
            uint8_t want[4];
            pattern_pixel(x, y, 1, want);
            wrong += memcmp(rgba + ((size_t)y * f.width + x) * 4, want, 4) != 0;
        }
    free(rgba);
    printf("pulled frame %llu, %ux%u from pid %u: %zu pixels differ\n",
           (unsigned long long)f.frame, f.width, f.height, f.publisher_pid,
           wrong);
    return wrong ? 1 : 0;
}
