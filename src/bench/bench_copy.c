/* bench_copy.c - moving pixels: publish (rows 1, 2), pull (row 3), and
 * Qt's PNG-serializing data path (row 7), each against the physical
 * limit measured in the same run: a memcpy of the same bytes, warm or
 * into freshly created /dev/shm pages. */
#include "bench.h"

#include "image.h"
#include "save.h"
#include "segment.h"

#include <SDL.h>
#include <SDL_image.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct size2 {
    int w, h;
    const char *name;
} size2;

static const size2 sizes[] = {{512, 512, "512x512"},
                              {1920, 1080, "1920x1080"},
                              {3840, 2160, "3840x2160"}};

static seg_err err;

static void die(const char *what)
{
    fprintf(stderr, "shmimg-bench: %s: %s%s\n", what, err.msg,
            err.msg[0] ? "" : SDL_GetError());
    exit(1);
}

/* Synthetic, photo-like pixels: smooth gradients with a little noise, so
 * that PNG has the work it has on real images. No decoding involved. */
static SDL_Surface *synthetic(int w, int h, Uint32 format)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, format);
    if (format == SDL_PIXELFORMAT_RGB24)
        s = (SDL_FreeSurface(s),
             SDL_CreateRGBSurfaceWithFormat(0, w, h, 24, format));
    if (!s)
        die("cannot make a test image");
    int bpp = s->format->BytesPerPixel;
    uint32_t noise = 12345;
    for (int y = 0; y < h; y++) {
        Uint8 *line = (Uint8 *)s->pixels + (size_t)y * (size_t)s->pitch;
        for (int x = 0; x < w; x++) {
            noise = noise * 1103515245u + 12345u;
            Uint8 n = (Uint8)(noise >> 28);
            Uint8 px[4] = {(Uint8)(x * 255 / w + n), (Uint8)(y * 255 / h + n),
                           (Uint8)((x + y) / 16 + n), 255};
            memcpy(line + x * bpp, px, (size_t)bpp);
        }
    }
    return s;
}

/* A buffer written once, so that its pages are present: "warm". */
static void *warm(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("out of memory");
    memset(p, 1, n);
    return p;
}

/* memcpy that the compiler may not remove. */
static void copy(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    __asm__ __volatile__("" : : "r"(dst) : "memory");
}

/* A new file of n bytes in SHMIMG_DIR (so, /dev/shm), mapped shared. */
typedef struct shm_file {
    char path[SEG_PATH_MAX];
    int fd;
    uint8_t *p;
    size_t n;
} shm_file;

static void shm_file_create(shm_file *f, const char *name, size_t n)
{
    snprintf(f->path, sizeof f->path, "%s/%s-%d", seg_dir(), name,
             (int)getpid());
    f->n = n;
    f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f->fd < 0 || ftruncate(f->fd, (off_t)n) < 0)
        die(f->path);
    f->p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
    if (f->p == MAP_FAILED)
        die(f->path);
}

static void shm_file_remove(shm_file *f)
{
    munmap(f->p, f->n);
    close(f->fd);
    unlink(f->path);
}

/* The first-touch baseline: a new /dev/shm file, mapped, then written
 * once; every page is faulted in and zeroed on the way. */
static double first_touch_copy(const void *src, size_t n)
{
    shm_file f;
    double t0 = bench_now();
    shm_file_create(&f, "first-touch", n);
    copy(f.p, src, n);
    double t = bench_now() - t0;
    shm_file_remove(&f);
    return t;
}

static void publish_rows(const bench_opts *o, const size2 *sz, seg *pub,
                         SDL_Surface *rgba, SDL_Surface *rgb)
{
    size_t bytes = (size_t)sz->w * (size_t)sz->h * 4;
    int reps = bench_reps(o, bytes);
    double *a = calloc((size_t)reps, sizeof *a),
           *b = calloc((size_t)reps, sizeof *b),
           *c = calloc((size_t)reps, sizeof *c);
    void *dst = warm(bytes);
    if (image_publish(pub, rgba, "bench.png", &err) < 0) /* sizes it */
        die("publish");
    for (int i = 0; i < reps; i++) { /* interleaved: drift hits both */
        double t0 = bench_now();
        if (image_publish(pub, rgba, "bench.png", &err) < 0)
            die("publish");
        double t1 = bench_now();
        copy(dst, rgba->pixels, bytes);
        double t2 = bench_now();
        if (image_publish(pub, rgb, "bench.png", &err) < 0)
            die("publish");
        double t3 = bench_now();
        a[i] = (t1 - t0) * 1e3;
        b[i] = (t2 - t1) * 1e3;
        c[i] = (t3 - t2) * 1e3;
    }
    stats base = stats_of(b, reps);
    bench_row(o, &(row){"1a", "publish, steady state, RGBA (canonical)",
                        sz->name, "ms", stats_of(a, reps), "memcpy warm", base,
                        "<= 1.3x", 1.3, true});
    bench_row(o, &(row){"1b", "publish, steady state, RGB24 (converted)",
                        sz->name, "ms", stats_of(c, reps), "memcpy warm", base,
                        "", 0, true});
    free(a);
    free(b);
    free(c);
    free(dst);
}

static void first_publish_row(const bench_opts *o, const size2 *sz,
                              SDL_Surface *rgba)
{
    size_t bytes = (size_t)sz->w * (size_t)sz->h * 4;
    int reps = o->quick ? 3 : bytes <= (1u << 20) ? 51 : 15;
    double *a = calloc((size_t)reps, sizeof *a),
           *b = calloc((size_t)reps, sizeof *b);
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        seg *s;
        if (seg_attach("first", SEG_CREATE, &s, &err) < 0 ||
            image_publish(s, rgba, "bench.png", &err) < 0)
            die("first publish");
        a[i] = (bench_now() - t0) * 1e3;
        seg_detach(s); /* the last one out: removed */
        b[i] = first_touch_copy(rgba->pixels, bytes) * 1e3;
    }
    bench_row(o, &(row){"2", "first publish into a new segment", sz->name, "ms",
                        stats_of(a, reps), "first-touch memcpy",
                        stats_of(b, reps), "<= 1.3x", 1.3, true});
    free(a);
    free(b);
}

static void pull_rows(const bench_opts *o, const size2 *sz, seg *reader,
                      SDL_Surface *rgba)
{
    size_t bytes = (size_t)sz->w * (size_t)sz->h * 4;
    int reps = bench_reps(o, bytes);
    double *a = calloc((size_t)reps, sizeof *a),
           *b = calloc((size_t)reps, sizeof *b);
    void *dst = warm(bytes);
    seg_image img;
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        if (seg_pull(reader, dst, bytes, &img, &err) < 0)
            die("pull");
        double t1 = bench_now();
        copy(dst, rgba->pixels, bytes);
        a[i] = (t1 - t0) * 1e3;
        b[i] = (bench_now() - t1) * 1e3;
    }
    bench_row(o, &(row){"3a", "pull (find newest, validate, copy out, recheck)",
                        sz->name, "ms", stats_of(a, reps), "memcpy warm",
                        stats_of(b, reps), "<= 1.3x", 1.3, true});

    /* Straight into a streaming texture of SDL's software renderer (no
     * window needed), from the mapping (zero-copy: seqlock read). */
    SDL_Surface *screen =
        SDL_CreateRGBSurfaceWithFormat(0, 64, 64, 32, SDL_PIXELFORMAT_RGBA32);
    SDL_Renderer *r = screen ? SDL_CreateSoftwareRenderer(screen) : NULL;
    SDL_Texture *tex =
        r ? SDL_CreateTexture(r, SDL_PIXELFORMAT_RGBA32,
                              SDL_TEXTUREACCESS_STREAMING, sz->w, sz->h)
          : NULL;
    if (!tex)
        die("software renderer");
    for (int i = 0; i < reps; i++) {
        seg_view v;
        double t0 = bench_now();
        if (seg_read_begin(reader, &v, &err) < 0)
            die("read");
        SDL_UpdateTexture(tex, NULL, v.pixels, (int)v.image.pitch);
        seg_read_end(reader, &v, NULL);
        double t1 = bench_now();
        SDL_UpdateTexture(tex, NULL, rgba->pixels, rgba->pitch);
        a[i] = (t1 - t0) * 1e3;
        b[i] = (bench_now() - t1) * 1e3;
    }
    bench_row(o,
              &(row){"3b", "pull into a streaming texture (SW renderer)",
                     sz->name, "ms", stats_of(a, reps), "UpdateTexture private",
                     stats_of(b, reps), "<= 1.2x", 1.2, true});
    SDL_DestroyTexture(tex);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(screen);
    free(a);
    free(b);
    free(dst);
}

/* Qt's example: PNG-encode into a buffer, copy that into shared memory,
 * decode it back out. Against shmimg's publish + pull of the same image. */
static void qt_path_rows(const bench_opts *o, const size2 *sz, seg *pub,
                         seg *reader, SDL_Surface *rgba)
{
    size_t bytes = (size_t)sz->w * (size_t)sz->h * 4;
    size_t cap = bytes + bytes / 8 + (1u << 16);
    int reps = o->quick ? 1 : 3;
    uint8_t *png = warm(cap);
    shm_file shared;
    shm_file_create(&shared, "qt-path", cap);
    uint8_t *shm = shared.p;
    double *qt = calloc((size_t)reps, sizeof *qt),
           *enc = calloc((size_t)reps, sizeof *enc),
           *dec = calloc((size_t)reps, sizeof *dec),
           *ours = calloc((size_t)reps, sizeof *ours);
    SDL_Surface *pulled = NULL;
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        SDL_RWops *rw = SDL_RWFromMem(png, (int)cap);
        if (!rw || IMG_SavePNG_RW(rgba, rw, 0) < 0)
            die("PNG encode");
        size_t n = (size_t)SDL_RWtell(rw);
        SDL_RWclose(rw);
        double t1 = bench_now();
        copy(shm, png, n);
        double t2 = bench_now();
        SDL_Surface *back = IMG_LoadPNG_RW(SDL_RWFromConstMem(shm, (int)n));
        if (!back)
            die("PNG decode");
        double t3 = bench_now();
        SDL_FreeSurface(back);
        qt[i] = t3 - t0;
        enc[i] = (t1 - t0) * 1e3;
        dec[i] = (t3 - t2) * 1e3;

        double u0 = bench_now();
        if (image_publish(pub, rgba, "bench.png", &err) < 0 ||
            image_pull(reader, &pulled, NULL, &err) < 0)
            die("publish + pull");
        ours[i] = bench_now() - u0;
    }
    stats q = stats_of(qt, reps), e = stats_of(enc, reps),
          d = stats_of(dec, reps);
    bench_row(o, &(row){"7", "publish + pull, against Qt's PNG data path",
                        sz->name, "s", stats_of(ours, reps), "PNG enc+copy+dec",
                        q, ">= 100x faster", 0.01, true});
    bench_row(o, &(row){"7a", "  Qt path: PNG encode (serialize)", sz->name,
                        "ms", e, "", (stats){0}, "", 0, true});
    bench_row(o, &(row){"7b", "  Qt path: PNG decode (deserialize)", sz->name,
                        "ms", d, "", (stats){0}, "", 0, true});
    SDL_FreeSurface(pulled);
    free(qt);
    free(enc);
    free(dec);
    free(ours);
    shm_file_remove(&shared);
    free(png);
}

/* Row 14: the window's S and 'pull -o x.png' write PNG through
 * image_save (libpng at zlib level 1, png_fast.h), against SDL_image's
 * IMG_SavePNG_RW (libpng's defaults), both into a file in SHMIMG_DIR. */
static void save_rows(const bench_opts *o, const size2 *sz, SDL_Surface *rgba)
{
    int reps = o->quick ? 1 : 5;
    double *ours = calloc((size_t)reps, sizeof *ours);
    double *theirs = calloc((size_t)reps, sizeof *theirs);
    char path[4200];
    snprintf(path, sizeof path, "%s/bench-save.png", seg_dir());
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        if (image_save(rgba, path, IMAGE_OUT_PNG, 0, &err) < 0)
            die("image_save");
        double t1 = bench_now();
        if (IMG_SavePNG(rgba, path) < 0)
            die("IMG_SavePNG");
        double t2 = bench_now();
        ours[i] = (t1 - t0) * 1e3;
        theirs[i] = (t2 - t1) * 1e3;
    }
    unlink(path);
    bench_row(o, &(row){"14", "save as PNG (S, pull -o x.png)", sz->name, "ms",
                        stats_of(ours, reps), "IMG_SavePNG",
                        stats_of(theirs, reps), "<= 0.6x", 0.6, true});
    free(ours);
    free(theirs);
}

void bench_copy(const bench_opts *o)
{
    size_t count = o->quick ? 2 : sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < count; i++) {
        const size2 *sz = &sizes[i];
        SDL_Surface *rgba = synthetic(sz->w, sz->h, SDL_PIXELFORMAT_RGBA32);
        SDL_Surface *rgb = synthetic(sz->w, sz->h, SDL_PIXELFORMAT_RGB24);
        seg *pub, *reader;
        if (seg_attach("bench", SEG_CREATE, &pub, &err) < 0)
            die("attach");
        publish_rows(o, sz, pub, rgba, rgb);
        if (seg_attach("bench", 0, &reader, &err) < 0)
            die("attach");
        pull_rows(o, sz, reader, rgba);
        first_publish_row(o, sz, rgba);
        if (i == count - 1) {
            qt_path_rows(o, sz, pub, reader, rgba);
            save_rows(o, sz, rgba);
        }
        seg_detach(reader);
        seg_detach(pub);
        SDL_FreeSurface(rgba);
        SDL_FreeSurface(rgb);
    }
}
