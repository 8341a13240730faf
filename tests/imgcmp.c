/* imgcmp.c - compares two image files by their decoded RGBA pixels.
 *
 *   imgcmp A B              exit 0 when A and B have the same pixels
 *   imgcmp --size A W H     exit 0 when A decodes to W x H pixels
 *
 * Both files go through IMG_Load and SDL_PIXELFORMAT_RGBA32, the way
 * shmimg publishes them. Prints the first difference. */
#include <SDL.h>
#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SDL_Surface *load(const char *path)
{
    SDL_Surface *raw = IMG_Load(path);
    if (!raw) {
        fprintf(stderr, "imgcmp: cannot decode %s: %s\n", path, IMG_GetError());
        exit(2);
    }
    SDL_Surface *s = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_RGBA32, 0);
    SDL_FreeSurface(raw);
    return s;
}

static int compare(SDL_Surface *a, SDL_Surface *b, const char *na,
                   const char *nb)
{
    if (a->w != b->w || a->h != b->h) {
        fprintf(stderr, "imgcmp: %s is %dx%d, %s is %dx%d\n", na, a->w, a->h,
                nb, b->w, b->h);
        return 1;
    }
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            const Uint8 *pa = (const Uint8 *)a->pixels + y * a->pitch + x * 4;
            const Uint8 *pb = (const Uint8 *)b->pixels + y * b->pitch + x * 4;
            if (memcmp(pa, pb, 4) != 0) {
                fprintf(stderr,
                        "imgcmp: pixel (%d,%d) differs: %02x%02x%02x%02x vs "
                        "%02x%02x%02x%02x\n",
                        x, y, pa[0], pa[1], pa[2], pa[3], pb[0], pb[1], pb[2],
                        pb[3]);
                return 1;
            }
        }
    return 0;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 5 && strcmp(argv[1], "--size") == 0) {
        SDL_Surface *a = load(argv[2]);
        rc = a->w == atoi(argv[3]) && a->h == atoi(argv[4]) ? 0 : 1;
        if (rc)
            fprintf(stderr, "imgcmp: %s is %dx%d, wanted %sx%s\n", argv[2],
                    a->w, a->h, argv[3], argv[4]);
        SDL_FreeSurface(a);
    } else if (argc == 3) {
        SDL_Surface *a = load(argv[1]), *b = load(argv[2]);
        rc = compare(a, b, argv[1], argv[2]);
        SDL_FreeSurface(a);
        SDL_FreeSurface(b);
    } else {
        fprintf(stderr, "usage: imgcmp A B | imgcmp --size A W H\n");
        rc = 2;
    }
    IMG_Quit();
    SDL_Quit();
    return rc;
}
