/* test_api.c - libshmimg's public API (<shmimg.h>, <shmimg_sdl.h>) at its
 * edges, between real processes:
 *   - pitches and sizes whose rows overflow are SHMIMG_ERR_ARGUMENT, and
 *     nothing is read or written (issue 16, row 8);
 *   - a frame that changes size between a peek and a pull, or between two
 *     pulls, is a SMALL_BUFFER to allocate again for, never a bad argument;
 *     libshmimg-sdl copes by itself (row 4);
 *   - a child of fork() that closes an inherited publisher leaves the
 *     parent's segment alone (row 3);
 *   - shmimg_last_error() is escaped: no control byte of a key, a file
 *     name or SDL's reason reaches the caller (row 9);
 *   - shmimg_sdl_publish_file decodes as the command line does (issue 17).
 *
 *   test_api             every check below
 *   test_api NAME        one: overflow, sizes, fork, messages, decoder
 */
#include "check.h"
#include "pattern.h"
#include "shmimg_sdl.h"

#include <SDL_image.h>

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>

/* A public call that must return want; prints its message otherwise. */
#define CHECK_API(expr, want)                                                  \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != (want)) {                                                   \
            fprintf(stderr,                                                    \
                    "%s:%d: %s returned %d (%s), wanted %d (%s): %s\n",        \
                    __FILE__, __LINE__, #expr, rc_, shmimg_strerror(rc_),      \
                    (int)(want), shmimg_strerror(want), shmimg_last_error());  \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static char dir_path[4096];

static void segment_path(const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "%s/shmimg-%s", dir_path, key);
}

/* Publishes a w x h frame whose pixels say id. */
static void publish_id(shmimg *h, uint32_t w, uint32_t ht, uint32_t id)
{
    size_t pitch = (size_t)w * 4;
    uint8_t *px = malloc(pitch * ht);
    CHECK(px);
    pattern_fill(px, (uint32_t)pitch, w, ht, id);
    CHECK_API(shmimg_publish(h, px, w, ht, 0, SHMIMG_PIXEL_RGBA8, "id"),
              SHMIMG_OK);
    free(px);
}

/* Pulls the newest frame (w x h) and returns the id its pixels say. */
static long pull_id(shmimg *h, uint32_t w, uint32_t ht, shmimg_frame *f)
{
    size_t size = (size_t)w * ht * 4;
    uint8_t *px = malloc(size);
    CHECK(px);
    CHECK_API(shmimg_pull(h, px, 0, size, f), SHMIMG_OK);
    CHECK_EQ(f->width, w);
    CHECK_EQ(f->height, ht);
    long id = pattern_verify(px, w * 4, w, ht);
    free(px);
    return id;
}

/* Whether s has a byte that a terminal would act on. */
static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* ---- row 8: rows that overflow ------------------------------------------ */

static void test_overflowing_rows(void)
{
    shmimg *pub, *rd;
    CHECK_API(shmimg_publisher_open("ovf", &pub), SHMIMG_OK);
    publish_id(pub, 16, 16, 1);
    static uint8_t px[16 * 16 * 4];
    const size_t pitches[] = {
        SIZE_MAX,
        SIZE_MAX - 63,
        SIZE_MAX / 4 + 1,
        SIZE_MAX / 2 + 1,
        (SIZE_MAX - 64) / 15 + 1,     /* the least that overflows 16 rows */
        (size_t)PTRDIFF_MAX / 15 + 1, /* in size_t, over PTRDIFF_MAX */
    };
    const shmimg_pixel_format formats[] = {
        SHMIMG_PIXEL_RGBA8,
        SHMIMG_PIXEL_BGRA8,
        SHMIMG_PIXEL_RGB8,
        SHMIMG_PIXEL_GRAY8,
    };
    int refused = 0;
    for (size_t i = 0; i < sizeof pitches / sizeof *pitches; i++)
        for (size_t j = 0; j < sizeof formats / sizeof *formats; j++) {
            CHECK_API(
                shmimg_publish(pub, px, 16, 16, pitches[i], formats[j], "x"),
                SHMIMG_ERR_ARGUMENT);
            CHECK_STR_HAS(shmimg_last_error(), "past the end of memory");
            refused++;
        }
    /* Rows that would run past the end of the address space. */
    const void *top = (const void *)(UINTPTR_MAX - 1000);
    CHECK_API(shmimg_publish(pub, top, 16, 16, 64, SHMIMG_PIXEL_RGBA8, "x"),
              SHMIMG_ERR_ARGUMENT);
    refused++;
    /* One row: the pitch is never used, whatever it is. */
    pattern_fill(px, 64, 16, 1, 2);
    CHECK_API(shmimg_publish(pub, px, 16, 1, SIZE_MAX, SHMIMG_PIXEL_RGBA8, "x"),
              SHMIMG_OK);
    /* A wide pitch that fits: rows 4160 bytes apart. */
    size_t wide = 64 + 4096;
    uint8_t *spaced = calloc(15 * wide + 64, 1);
    CHECK(spaced);
    pattern_fill(spaced, (uint32_t)wide, 16, 16, 3);
    CHECK_API(
        shmimg_publish(pub, spaced, 16, 16, wide, SHMIMG_PIXEL_RGBA8, "x"),
        SHMIMG_OK);
    free(spaced);

    /* Every refused publish left frame 3 the newest. */
    CHECK_API(shmimg_reader_open("ovf", &rd), SHMIMG_OK);
    shmimg_frame f;
    CHECK_EQ(pull_id(rd, 16, 16, &f), 3);
    CHECK_EQ(f.frame, 3);

    /* Pull: dst_size past the end of memory is a bad argument; a
     * dst_pitch whose rows overflow is a buffer too small for the frame. */
    uint8_t dst[16 * 16 * 4];
    CHECK_API(shmimg_pull(rd, dst, 0, SIZE_MAX, &f), SHMIMG_ERR_ARGUMENT);
    CHECK_API(shmimg_pull(rd, dst, 64, (size_t)PTRDIFF_MAX + 1, &f),
              SHMIMG_ERR_ARGUMENT);
    for (size_t i = 0; i < sizeof pitches / sizeof *pitches; i++) {
        memset(&f, 0, sizeof f);
        CHECK_API(shmimg_pull(rd, dst, pitches[i], sizeof dst, &f),
                  SHMIMG_ERR_SMALL_BUFFER);
        CHECK_EQ(f.width, 16);
        CHECK_EQ(f.frame, 3);
    }
    shmimg_close(rd);
    shmimg_close(pub);
    char path[4200];
    segment_path("ovf", path, sizeof path);
    CHECK(!test_file_exists(path)); /* no stale segment */
    printf("rows that overflow: %d publishes refused, %zu pulls told the "
           "buffer is small, frame 3 intact\n",
           refused, sizeof pitches / sizeof *pitches);
}

/* ---- row 4: a frame that changes size under the reader ------------------- */

/* The stop pipe: its read end sees EOF when the publisher should stop. */
static int stop_fd = -1, stop_write_fd = -1;

/* Publishes 8x8 and 40x40 frames in turn, unpaced, until stop_fd ends. */
static int alternating_publisher(void *arg)
{
    int ready = *(int *)arg;
    close(stop_write_fd); /* the parent's alone */
    shmimg *pub;
    CHECK_API(shmimg_publisher_open("grow", &pub), SHMIMG_OK);
    uint32_t n = 1;
    publish_id(pub, 8, 8, n++);
    CHECK_EQ(write(ready, "R", 1), 1);
    for (;; n++) {
        uint32_t side = n % 2 ? 8 : 40;
        publish_id(pub, side, side, n);
        struct pollfd p = {.fd = stop_fd, .events = POLLIN};
        if (n % 16 == 0 && poll(&p, 1, 0) == 1)
            break;
    }
    shmimg_close(pub);
    return 0;
}

static void check_whole(const uint8_t *px, size_t pitch, const shmimg_frame *f,
                        const char *how)
{
    bool sized = (f->width == 8 && f->height == 8) ||
                 (f->width == 40 && f->height == 40);
    CHECK(sized);
    long id = pattern_verify(px, (uint32_t)pitch, f->width, f->height);
    if (id != (long)f->frame) {
        fprintf(stderr,
                "%s: frame %llu (%ux%u) holds the pixels of %ld "
                "(-1: torn)\n",
                how, (unsigned long long)f->frame, f->width, f->height, id);
        exit(1);
    }
}

static void test_size_changes(void)
{
    int stop[2];
    CHECK_SYS(pipe(stop));
    stop_fd = stop[0];
    stop_write_fd = stop[1];
    pid_t pid = test_spawn_ready(alternating_publisher);
    close(stop[0]);
    shmimg *rd;
    CHECK_API(shmimg_reader_open("grow", &rd), SHMIMG_OK);
    enum { rounds = 3000 };
    int surfaces = 0, pulls = 0, small = 0, lapped = 0;
    /* A caller that sizes its buffer from the frame it pulled last: rows
     * exactly that wide (dst_pitch), so a wider frame does not fit them
     * and a narrower one is copied to rows wider than its own. */
    shmimg_frame f;
    CHECK_API(shmimg_peek(rd, &f), SHMIMG_OK);
    size_t pitch = (size_t)f.width * 4, size = pitch * f.height;
    uint8_t *buf = malloc(size);
    CHECK(buf);
    for (int i = 0; i < rounds; i++) {
        SDL_Surface *sf;
        int rc = shmimg_sdl_pull_surface(rd, &sf, &f);
        if (rc == SHMIMG_OK) {
            CHECK_EQ(sf->w, f.width);
            CHECK_EQ(sf->h, f.height);
            check_whole(sf->pixels, (size_t)sf->pitch, &f, "surface");
            SDL_FreeSurface(sf);
            surfaces++;
        } else {
            CHECK_API(rc, SHMIMG_ERR_LAPPED); /* a slow reader, allowed */
            CHECK_EQ(sf, NULL);
            lapped++;
        }
        rc = shmimg_pull(rd, buf, pitch, size, &f);
        if (rc == SHMIMG_ERR_SMALL_BUFFER) {
            small++;
            pitch = (size_t)f.width * 4;
            size = pitch * f.height;
            free(buf);
            buf = malloc(size);
            CHECK(buf);
            continue;
        }
        if (rc == SHMIMG_ERR_LAPPED) {
            lapped++;
            continue;
        }
        CHECK_API(rc, SHMIMG_OK);
        CHECK_CMP_I64(f.width * 4, <=, pitch);
        check_whole(buf, pitch, &f, "pull");
        pulls++;
        if (f.width * 4 != pitch) {
            pitch = (size_t)f.width * 4;
            size = pitch * f.height;
            free(buf);
            buf = malloc(size);
            CHECK(buf);
        }
    }
    free(buf);
    shmimg_close(rd);
    close(stop[1]);
    CHECK_EQ(test_wait(pid), 0);
    CHECK_GT(surfaces + pulls, 0);
    printf("sizes 8x8 and 40x40 in turn: %d surfaces and %d pulls whole, %d "
           "told to allocate again, %d lapped, none refused\n",
           surfaces, pulls, small, lapped);
}

/* ---- row 3: fork() ------------------------------------------------------- */

static int fresh_reader(void *arg)
{
    (void)arg;
    shmimg *rd;
    shmimg_frame f;
    CHECK_API(shmimg_reader_open("fork", &rd), SHMIMG_OK);
    CHECK_EQ(pull_id(rd, 32, 16, &f), 2);
    CHECK_EQ(f.frame, 2);
    CHECK_EQ(f.publisher_pid, getppid());
    shmimg_close(rd);
    return 0;
}

static int second_publisher(void *arg)
{
    (void)arg;
    shmimg *pub;
    CHECK_API(shmimg_publisher_open("fork", &pub), SHMIMG_OK);
    shmimg_close(pub); /* not the last owner: the parent still is one */
    return 0;
}

static void test_fork(void)
{
    char path[4200];
    segment_path("fork", path, sizeof path);
    shmimg *pub, *rd;
    CHECK_API(shmimg_publisher_open("fork", &pub), SHMIMG_OK);
    publish_id(pub, 32, 16, 1);
    CHECK_API(shmimg_reader_open("fork", &rd), SHMIMG_OK);
    fflush(NULL);
    pid_t pid = fork();
    CHECK_CMP_I64(pid, >=, 0);
    if (pid == 0) {
        /* The child's copies: the publisher only closes, the reader
         * reads. */
        uint8_t px[32 * 16 * 4] = {0};
        CHECK_API(
            shmimg_publish(pub, px, 32, 16, 0, SHMIMG_PIXEL_RGBA8, "child"),
            SHMIMG_ERR_ARGUMENT);
        CHECK_STR_HAS(shmimg_last_error(), "after fork()");
        CHECK_API(shmimg_set_persist(pub, 1), SHMIMG_ERR_ARGUMENT);
        shmimg_frame f;
        CHECK_API(shmimg_peek(pub, &f), SHMIMG_ERR_ARGUMENT);
        CHECK_EQ(pull_id(rd, 32, 16, &f), 1);
        shmimg_close(rd);
        shmimg_close(pub);
        exit(0); /* exit, not _exit: whatever runs at exit runs */
    }
    CHECK_EQ(test_wait(pid), 0);
    CHECK(test_file_exists(path));
    publish_id(pub, 32, 16, 2); /* into the live file */
    CHECK_EQ(test_wait(test_spawn(fresh_reader, NULL)), 0);
    /* The parent still holds its attach slot: another publisher's close
     * is not the last owner's. */
    CHECK_EQ(test_wait(test_spawn(second_publisher, NULL)), 0);
    CHECK(test_file_exists(path));
    char *json;
    CHECK_API(shmimg_info_json("fork", &json), SHMIMG_OK);
    CHECK_STR_HAS(json, "\"persist\": false");
    shmimg_free(json);
    shmimg_close(rd);
    shmimg_close(pub);
    CHECK(!test_file_exists(path)); /* the parent was the last owner */
    printf("fork: the child's close left the parent's segment; frame 2 "
           "read by a new reader\n");
}

/* ---- row 9: escaped messages --------------------------------------------- */

static void test_escaped_messages(void)
{
    shmimg *h;
    CHECK_API(shmimg_reader_open("bad\x1b]0;owned\x07key", &h), SHMIMG_ERR_KEY);
    const char *msg = shmimg_last_error();
    CHECK(!has_control(msg));
    CHECK_STR_HAS(msg, "bad\\e]0;owned\\x07key");

    /* A SHMIMG_DIR with ESC and a newline in its name. */
    char *saved = strdup(getenv("SHMIMG_DIR"));
    CHECK(saved);
    setenv("SHMIMG_DIR", "/nonexistent\x1b[31m\nred", 1);
    int rc = shmimg_publisher_open("k", &h);
    CHECK_CMP_I64(rc, <, 0);
    msg = shmimg_last_error();
    CHECK(!has_control(msg));
    CHECK_STR_HAS(msg, "/nonexistent\\e[31m\\nred");
    setenv("SHMIMG_DIR", saved, 1);
    free(saved);

    /* A layer's own message, and a backslash, which cannot fake an
     * escape. */
    CHECK_API(shmimg_set_error(SHMIMG_ERR_SYSTEM, "a\x1b%s\\c", "b"),
              SHMIMG_ERR_SYSTEM);
    CHECK_STR_EQ(shmimg_last_error(), "a\\eb\\\\c");
    /* The longest message, all of it escapes: kept whole. */
    char many[600];
    memset(many, 0x1b, sizeof many - 1);
    many[sizeof many - 1] = '\0';
    shmimg_set_error(SHMIMG_ERR_SYSTEM, "%s", many);
    CHECK_EQ(strlen(shmimg_last_error()), 2 * 511);

    /* libshmimg-sdl: SDL's reason names the file. */
    CHECK_API(shmimg_publisher_open("sdl", &h), SHMIMG_OK);
    char file[4200];
    snprintf(file, sizeof file, "%s/no\x1b[2Jsuch.png", dir_path);
    /* (A missing file is a system error, errno's text in the message, as
     * for `shmimg publish`: one decoder.) */
    CHECK_API(shmimg_sdl_publish_file(h, file), SHMIMG_ERR_SYSTEM);
    msg = shmimg_last_error();
    CHECK(!has_control(msg));
    CHECK_STR_HAS(msg, "no\\e[2Jsuch.png");
    shmimg_close(h);
    printf("messages escaped: a key, SHMIMG_DIR, a layer's text, an SDL "
           "file name\n");
}

/* ---- one decoder (issue 17) ------------------------------------------ */

/* The frame under key, pulled whole into a new buffer (*w x *ht). */
static uint8_t *pull_all(const char *key, uint32_t *w, uint32_t *ht)
{
    shmimg *r;
    shmimg_frame f;
    CHECK_API(shmimg_reader_open(key, &r), SHMIMG_OK);
    CHECK_API(shmimg_peek(r, &f), SHMIMG_OK);
    size_t size = (size_t)f.width * f.height * 4;
    uint8_t *px = malloc(size);
    CHECK(px);
    CHECK_API(shmimg_pull(r, px, 0, size, &f), SHMIMG_OK);
    shmimg_close(r);
    *w = f.width;
    *ht = f.height;
    return px;
}

/* Writes n bytes to path. */
static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f);
    CHECK_EQ(fwrite(p, 1, n, f), n);
    CHECK_EQ(fclose(f), 0);
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* shmimg_sdl_publish_file decodes as `shmimg publish FILE` does: the
 * same pixels for the files SDL_image alone misreads (CMYK JPEGs, TIFF),
 * and the same refusals (a file cut short, a header that declares a huge
 * image, a SHMIMG_MAX_PIXELS that does not parse). */
static void test_one_decoder(void)
{
    const char *cli = getenv("SHMIMG_CLI"), *formats = getenv("SHMIMG_FORMATS");
    if (!cli || !formats) {
        fprintf(stderr, "decoder: SHMIMG_CLI and SHMIMG_FORMATS must be set\n");
        exit(1);
    }
    static const char *const same[] = {"cmyk-adobe.jpg", "cmyk-plain.jpg",
                                       "sample.tif", "sample.png"};
    shmimg *h;
    CHECK_API(shmimg_publisher_open("sdl-file", &h), SHMIMG_OK);
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        char file[4200], cmd[9000];
        snprintf(file, sizeof file, "%s/%s", formats, same[i]);
        snprintf(cmd, sizeof cmd,
                 "'%s' publish --persist --key cli-file '%s' "
                 "> /dev/null",
                 cli, file);
        CHECK_EQ(system(cmd), 0);
        CHECK_API(shmimg_sdl_publish_file(h, file), SHMIMG_OK);
        uint32_t w1, h1, w2, h2;
        uint8_t *lib = pull_all("sdl-file", &w1, &h1);
        uint8_t *exe = pull_all("cli-file", &w2, &h2);
        CHECK_EQ(w1, w2);
        CHECK_EQ(h1, h2);
        CHECK_EQ(memcmp(lib, exe, (size_t)w1 * h1 * 4), 0);
        if (i == 0) {
            /* The check can fail: SDL_image alone gives other pixels. */
            SDL_Surface *raw = IMG_Load(file);
            CHECK(raw);
            SDL_Surface *rgba =
                SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_RGBA32, 0);
            CHECK(rgba);
            bool differs = false;
            for (int y = 0; y < rgba->h && !differs; y++)
                differs = memcmp((uint8_t *)rgba->pixels +
                                     (size_t)y * (size_t)rgba->pitch,
                                 lib + (size_t)y * w1 * 4, (size_t)w1 * 4) != 0;
            CHECK(differs);
            SDL_FreeSurface(rgba);
            SDL_FreeSurface(raw);
        }
        free(lib);
        free(exe);
    }

    /* Cut short: refused, and what was published stays. */
    char src[4200], cut[4200];
    snprintf(src, sizeof src, "%s/sample.png", formats);
    snprintf(cut, sizeof cut, "%s/cut.png", dir_path);
    FILE *f = fopen(src, "rb");
    CHECK(f);
    static uint8_t bytes[1 << 20];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    CHECK_LT(100u, n);
    write_file(cut, bytes, n - 30);
    CHECK_API(shmimg_sdl_publish_file(h, cut), SHMIMG_ERR_NOT_IMAGE);
    CHECK_STR_HAS(shmimg_last_error(), "truncated");

    /* A 40000 x 40000 PNG header: over the pixel limit before decoding. */
    uint8_t png[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                       0,    0,   0,   13,  'I',  'H',  'D',  'R'};
    put_be32(png + 16, 40000);
    put_be32(png + 20, 40000);
    png[24] = 8; /* 8 bits, RGBA, deflate, no filter, no interlace */
    png[25] = 6;
    put_be32(png + 29, crc32_of(png + 12, 17));
    char bomb[4200];
    snprintf(bomb, sizeof bomb, "%s/bomb.png", dir_path);
    write_file(bomb, png, sizeof png);
    CHECK_API(shmimg_sdl_publish_file(h, bomb), SHMIMG_ERR_TOO_BIG);
    CHECK_STR_HAS(shmimg_last_error(), "refused before decoding");

    setenv("SHMIMG_MAX_PIXELS", "12 million", 1);
    CHECK_API(shmimg_sdl_publish_file(h, src), SHMIMG_ERR_SETTING);
    CHECK_STR_HAS(shmimg_last_error(), "SHMIMG_MAX_PIXELS");
    unsetenv("SHMIMG_MAX_PIXELS");

    uint32_t w, ht;
    free(pull_all("sdl-file", &w, &ht)); /* sample.png's frame stayed */
    shmimg_close(h);
    printf("one decoder: 4 files publish the same pixels as the command line; "
           "a cut file, a bomb and a bad setting refused\n");
}

static const struct {
    const char *name;
    void (*run)(void);
} checks[] = {
    {"overflow", test_overflowing_rows},
    {"sizes", test_size_changes},
    {"fork", test_fork},
    {"messages", test_escaped_messages},
    {"decoder", test_one_decoder},
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dir = test_dir_create();
    snprintf(dir_path, sizeof dir_path, "%s", dir);
    int ran = 0;
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++)
        if (argc < 2 || strcmp(argv[1], checks[i].name) == 0) {
            checks[i].run();
            ran++;
        }
    test_dir_remove(dir);
    if (ran == 0) {
        fprintf(stderr,
                "usage: test_api [overflow|sizes|fork|messages|decoder]\n");
        return 2;
    }
    printf("%d api checks passed\n", ran);
    return 0;
}
