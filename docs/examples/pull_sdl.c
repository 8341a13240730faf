/* pull_sdl.c - the same check as pull.c through libshmimg-sdl: the frame
 * arrives as an SDL_Surface (shmimg::sdl, or pkg-config shmimg-sdl).
 * Usage: pull_sdl KEY */
#include <shmimg_sdl.h>

#include <stdio.h>
#include <string.h>

#include "pattern.h"

int main(int argc, char **argv)
{
    shmimg *rd;
    SDL_Surface *sf;
    shmimg_frame f;
    if (argc != 2 || shmimg_reader_open(argv[1], &rd) != SHMIMG_OK) {
        fprintf(stderr, "pull_sdl: %s\n",
                argc != 2 ? "usage: pull_sdl KEY" : shmimg_last_error());
        return 2;
    }
    int rc = shmimg_sdl_pull_surface(rd, &sf, &f);
    shmimg_close(rd);
    if (rc != SHMIMG_OK) {
        fprintf(stderr, "pull_sdl: %s\n", shmimg_last_error());
        return 1;
    }
    size_t wrong = 0;
    for (int y = 0; y < sf->h; y++)
        for (int x = 0; x < sf->w; x++) {
            uint8_t want[4];
            pattern_pixel((uint32_t)x, (uint32_t)y, 1, want);
            const uint8_t *px = (const uint8_t *)sf->pixels +
                                (size_t)y * (size_t)sf->pitch + (size_t)x * 4;
            wrong += memcmp(px, want, 4) != 0;
        }
    printf("pulled a %dx%d surface: %zu pixels differ\n", sf->w, sf->h, wrong);
    SDL_FreeSurface(sf);
    return wrong ? 1 : 0;
}
