/* test_roundtrip.c - every image file in a directory survives publish +
 * pull byte for byte (against SDL_ConvertSurfaceFormat of IMG_Load, the
 * reference), and every corrupt one (name starting with 'x', as in the
 * PngSuite) is refused with the previous image intact. Where image_load
 * corrects what SDL_image 2.6 misreads (CMYK JPEG, TIFF with alpha, grey
 * PNG with tRNS: image.h), the reference is image_load's result, and the
 * correction itself is checked against ImageMagick by decode_test.sh.
 * Usage: test_roundtrip DIR MIN_VALID MIN_CORRUPT GOOD_IMAGE */
#include "check.h"
#include "image.h"

#include <SDL_image.h>
#include <dirent.h>

static seg_err err;

static int is_image(const struct dirent *d)
{
    const char *dot = strrchr(d->d_name, '.');
    return d->d_name[0] != '.' && dot && strcmp(dot, ".md") != 0 &&
           strcmp(d->d_name, "LICENSE") != 0;
}

static SDL_Surface *to_rgba(SDL_Surface *raw)
{
    SDL_Surface *ref = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_RGBA32, 0);
    SDL_FreeSurface(raw);
    CHECK_NE(ref, NULL);
    return ref;
}

/* The shapes in which SDL_image 2.6 gives the variants image_load
 * corrects: raw CMYK (ARGB8888) from a JPEG, premultiplied ABGR8888 from
 * a TIFF, grey+alpha bytes in a 16-bit surface from a PNG. */
static bool correctable(const char *path, const SDL_Surface *raw)
{
    const char *dot = strrchr(path, '.');
    Uint32 f = raw->format->format;
    return dot &&
           ((strcmp(dot, ".jpg") == 0 && f == SDL_PIXELFORMAT_ARGB8888) ||
            (strcmp(dot, ".tif") == 0 && f == SDL_PIXELFORMAT_ABGR8888) ||
            (strcmp(dot, ".png") == 0 && raw->format->BytesPerPixel == 2));
}

static int corrected;

static SDL_Surface *reference(const char *path)
{
    SDL_Surface *raw = IMG_Load(path);
    if (!raw)
        return NULL;
    bool may_differ = correctable(path, raw);
    SDL_Surface *ref = to_rgba(raw);
    if (!may_differ)
        return ref;
    SDL_Surface *loaded;
    CHECK_RC(image_load(path, &loaded, &err), 0, &err);
    loaded = to_rgba(loaded);
    if (memcmp(ref->pixels, loaded->pixels,
               (size_t)ref->h * (size_t)ref->pitch) != 0)
        corrected++;
    SDL_FreeSurface(ref);
    return loaded;
}

/* Returns: the first differing byte's row, or -1 when a equals b. */
static int differs(const SDL_Surface *a, const SDL_Surface *b)
{
    CHECK_EQ(a->w, b->w);
    CHECK_EQ(a->h, b->h);
    CHECK_EQ(a->format->format, b->format->format);
    for (int y = 0; y < a->h; y++)
        if (memcmp((const uint8_t *)a->pixels + (size_t)y * (size_t)a->pitch,
                   (const uint8_t *)b->pixels + (size_t)y * (size_t)b->pitch,
                   (size_t)a->w * 4) != 0)
            return y;
    return -1;
}

static void check_pull_equals(seg *s, const SDL_Surface *want, const char *what)
{
    SDL_Surface *got = NULL;
    CHECK_RC(image_pull(s, &got, NULL, &err), 0, &err);
    int row = differs(got, want);
    if (row >= 0) {
        fprintf(stderr,
                "%s: pulled pixels differ from the reference at row "
                "%d\n",
                what, row);
        exit(1);
    }
    SDL_FreeSurface(got);
}

int main(int argc, char **argv)
{
    CHECK_EQ(argc, 5);
    const char *dir = test_dir_create();
    struct dirent **names;
    int n = scandir(argv[1], &names, is_image, alphasort);
    CHECK_CMP_I64(n, >, 0);

    seg *s;
    CHECK_RC(seg_attach("suite", SEG_CREATE, &s, &err), 0, &err);
    int valid = 0, corrupt = 0;
    char path[4096];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]->d_name);
        if (names[i]->d_name[0] == 'x')
            continue;
        SDL_Surface *want = reference(path);
        if (!want) {
            fprintf(stderr, "%s: IMG_Load cannot read it: %s\n", path,
                    IMG_GetError());
            return 1;
        }
        CHECK_RC(image_publish_file(s, path, &err), 0, &err);
        check_pull_equals(s, want, path);
        SDL_FreeSurface(want);
        valid++;
    }

    /* The corrupt ones, each after a good image that must survive it. */
    snprintf(path, sizeof path, "%s", argv[4]);
    SDL_Surface *good = reference(path);
    CHECK_RC(image_publish_file(s, path, &err), 0, &err);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != 'x')
            continue;
        char bad[4096];
        snprintf(bad, sizeof bad, "%s/%s", argv[1], names[i]->d_name);
        err.msg[0] = '\0';
        int rc = image_publish_file(s, bad, &err);
        if (rc != SEG_ENOTIMAGE) {
            fprintf(stderr,
                    "%s: publish returned %d (%s), wanted "
                    "SEG_ENOTIMAGE\n",
                    bad, rc, err.msg);
            return 1;
        }
        CHECK_STR_HAS(err.msg, names[i]->d_name);
        check_pull_equals(s, good, bad);
        corrupt++;
    }
    SDL_FreeSurface(good);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    CHECK_EQ(seg_detach(s), 1);
    test_dir_remove(dir);
    printf("%s: %d valid images round-tripped byte-exact (%d of them as "
           "corrected by image_load); %d corrupt ones refused, previous image "
           "intact\n",
           argv[1], valid, corrected, corrupt);
    /* Exactly: a file that stopped being read (a codec missing from the
     * build, a sample deleted) must fail the test, not thin it out. */
    CHECK_EQ(valid, atoi(argv[2]));
    CHECK_EQ(corrupt, atoi(argv[3]));
    return 0;
}
