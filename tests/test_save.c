/* test_save.c - image_save: round trips, failed writes that leave the old
 * file as it was, devices, standard output, links, limits.
 *
 * Every test works in a private directory under /tmp. Failures of the
 * disk are real: a 64 KiB tmpfs in a private mount namespace where the
 * kernel allows it, and RLIMIT_FSIZE (a write past it fails with EFBIG)
 * everywhere. Standard output is a real pipe or device in a child.
 */
#include "check.h"
#include "pattern.h"
#include "save.h"

#include <SDL_image.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

static seg_err err;
static char dir[] = "/tmp/shmimg-save.XXXXXX";

static const char *at(const char *name)
{
    static char paths[4][4096];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

/* A w x h RGBA32 image whose every pixel (alpha too) differs. */
static SDL_Surface *image(int w, int h, uint32_t id)
{
    SDL_Surface *sf =
        SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGBA32);
    CHECK_NE(sf, NULL);
    pattern_fill(sf->pixels, (uint32_t)sf->pitch, (uint32_t)w, (uint32_t)h, id);
    return sf;
}

/* Returns: 1 when the two images have the same size and RGBA pixels. */
static int same_pixels(SDL_Surface *a, SDL_Surface *b)
{
    SDL_Surface *ca = SDL_ConvertSurfaceFormat(a, SDL_PIXELFORMAT_RGBA32, 0);
    SDL_Surface *cb = SDL_ConvertSurfaceFormat(b, SDL_PIXELFORMAT_RGBA32, 0);
    CHECK(ca && cb);
    int same = ca->w == cb->w && ca->h == cb->h;
    for (int y = 0; same && y < ca->h; y++)
        same = memcmp((Uint8 *)ca->pixels + (size_t)y * ca->pitch,
                      (Uint8 *)cb->pixels + (size_t)y * cb->pitch,
                      (size_t)ca->w * 4) == 0;
    SDL_FreeSurface(ca);
    SDL_FreeSurface(cb);
    return same;
}

/* The decoded file equals sf (exactly, or in size only for JPEG). */
static void check_file_is(const char *path, SDL_Surface *sf,
                          image_out_format fmt)
{
    SDL_Surface *got = IMG_Load(path);
    if (!got)
        fprintf(stderr, "IMG_Load(%s): %s\n", path, IMG_GetError());
    CHECK_NE(got, NULL);
    CHECK_EQ(got->w, sf->w);
    CHECK_EQ(got->h, sf->h);
    if (fmt != IMAGE_OUT_JPG)
        CHECK(same_pixels(got, sf));
    SDL_FreeSurface(got);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK_NE(f, NULL);
    char *buf = NULL;
    size_t cap = 0, n = 0, k;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            CHECK_NE(buf, NULL);
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
    } while (k > 0);
    fclose(f);
    *len = n;
    return buf;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK_NE(f, NULL);
    CHECK_CMP_I64(fputs(text, f), >=, 0);
    CHECK_SYS(fclose(f));
}

static void check_content(const char *path, const char *text)
{
    size_t n;
    char *got = slurp(path, &n);
    CHECK_EQ(n, strlen(text));
    CHECK_EQ(memcmp(got, text, n), 0);
    free(got);
}

/* Returns: how many of d's entries are our temporaries. */
static int leftovers(const char *d)
{
    DIR *dd = opendir(d);
    CHECK_NE(dd, NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)))
        if (strstr(e->d_name, ".shmimg-")) {
            fprintf(stderr, "leftover: %s/%s\n", d, e->d_name);
            n++;
        }
    closedir(dd);
    return n;
}

static const char *const ext[] = {
    [IMAGE_OUT_PNG] = "png", [IMAGE_OUT_BMP] = "bmp", [IMAGE_OUT_JPG] = "jpg"};

/* ---- tests ------------------------------------------------------------- */

static void test_format_of(void)
{
    CHECK_EQ(image_out_format_of("-"), IMAGE_OUT_PNG);
    CHECK_EQ(image_out_format_of("out"), IMAGE_OUT_PNG);
    CHECK_EQ(image_out_format_of("a.b/out"), IMAGE_OUT_PNG);
    CHECK_EQ(image_out_format_of("dir/.hidden"), IMAGE_OUT_PNG);
    CHECK_EQ(image_out_format_of("x.PNG"), IMAGE_OUT_PNG);
    CHECK_EQ(image_out_format_of("x.Bmp"), IMAGE_OUT_BMP);
    CHECK_EQ(image_out_format_of("x.jpg"), IMAGE_OUT_JPG);
    CHECK_EQ(image_out_format_of("x.JPEG"), IMAGE_OUT_JPG);
    CHECK_EQ(image_out_format_of("x.gif"), IMAGE_OUT_UNKNOWN);
    CHECK_EQ(image_out_format_of("x."), IMAGE_OUT_UNKNOWN);
}

static void test_limits(void)
{
    CHECK_RC(image_check_output_size(IMAGE_OUT_JPG, 65500, 1, &err), 0, &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_JPG, 1, 65500, &err), 0, &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_JPG, 65501, 1, &err),
             SEG_ETOOBIG, &err);
    CHECK_STR_HAS(err.msg, "65500 pixels per side");
    CHECK_RC(image_check_output_size(IMAGE_OUT_JPG, 1, 65501, &err),
             SEG_ETOOBIG, &err);
    /* 65500 rows of 196500 bytes: past SDL_image's int offsets. */
    CHECK_RC(image_check_output_size(IMAGE_OUT_JPG, 65500, 65500, &err),
             SEG_ETOOBIG, &err);
    CHECK_STR_HAS(err.msg, "2 GiB");
    CHECK_RC(image_check_output_size(IMAGE_OUT_PNG, 1000000, 1, &err), 0, &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_PNG, 1000001, 1, &err),
             SEG_ETOOBIG, &err);
    CHECK_STR_HAS(err.msg, "1000000 pixels per side");
    CHECK_RC(image_check_output_size(IMAGE_OUT_PNG, 1, 1000001, &err),
             SEG_ETOOBIG, &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_BMP, 23170, 23170, &err), 0,
             &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_BMP, 23171, 23171, &err),
             SEG_ETOOBIG, &err);
    CHECK_STR_HAS(err.msg, "BMP");
    CHECK_RC(image_check_output_size(IMAGE_OUT_PNG, 32768, 16385, &err),
             SEG_ETOOBIG, &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_BMP, INT_MAX, INT_MAX, &err),
             SEG_ETOOBIG, &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_PNG, 0, 1, &err), SEG_EINVAL,
             &err);
    CHECK_RC(image_check_output_size(IMAGE_OUT_UNKNOWN, 1, 1, &err), SEG_EINVAL,
             &err);
}

/* JPEG over 65500 pixels: refused before anything is created (the old
 * code died of SIGSEGV in SDL_image and left an empty file). In-process on
 * purpose: a crash fails the test. */
static void test_jpeg_too_big(void)
{
    SDL_Surface *wide = image(65501, 1, 1), *tall = image(1, 65501, 2);
    const char *out = at("big.jpg");
    CHECK_RC(image_save(wide, out, IMAGE_OUT_JPG, 0, &err), SEG_ETOOBIG, &err);
    CHECK_STR_HAS(err.msg, out);
    CHECK_STR_HAS(err.msg, "65500");
    CHECK(!test_file_exists(out));
    CHECK_RC(image_save(tall, out, IMAGE_OUT_JPG, 0, &err), SEG_ETOOBIG, &err);
    CHECK(!test_file_exists(out));
    put(out, "old");
    CHECK_RC(image_save(tall, out, IMAGE_OUT_JPG, 0, &err), SEG_ETOOBIG, &err);
    check_content(out, "old");
    CHECK_EQ(leftovers(dir), 0);
    unlink(out);
    SDL_FreeSurface(wide);
    SDL_FreeSurface(tall);
}

static void test_round_trips(void)
{
    SDL_Surface *sf = image(37, 23, 7); /* odd sizes: padded BMP rows */
    for (int f = IMAGE_OUT_PNG; f <= IMAGE_OUT_JPG; f++) {
        char name[32];
        snprintf(name, sizeof name, "round.%s", ext[f]);
        const char *out = at(name);
        CHECK_RC(image_save(sf, out, f, 0, &err), 0, &err);
        check_file_is(out, sf, f);
        /* Again, over the file just written. */
        SDL_Surface *other = image(37, 23, 8);
        CHECK_RC(image_save(other, out, f, 0, &err), 0, &err);
        check_file_is(out, other, f);
        SDL_FreeSurface(other);
        CHECK_EQ(leftovers(dir), 0);
        unlink(out);
    }
    SDL_FreeSurface(sf);
}

/* A new file gets 0666 & ~umask, a replaced one keeps its mode. */
static void test_modes(void)
{
    SDL_Surface *sf = image(5, 4, 3);
    mode_t old = umask(027);
    const char *out = at("mode.png");
    CHECK_RC(image_save(sf, out, IMAGE_OUT_PNG, 0, &err), 0, &err);
    struct stat st;
    CHECK_SYS(stat(out, &st));
    CHECK_EQ(st.st_mode & 07777, 0640);
    umask(old);
    CHECK_SYS(chmod(out, 0604));
    CHECK_RC(image_save(sf, out, IMAGE_OUT_PNG, 0, &err), 0, &err);
    CHECK_SYS(stat(out, &st));
    CHECK_EQ(st.st_mode & 07777, 0604);
    unlink(out);
    SDL_FreeSurface(sf);
}

static void test_no_clobber(void)
{
    SDL_Surface *sf = image(6, 6, 4);
    const char *out = at("keep.png");
    put(out, "precious");
    CHECK_RC(image_save(sf, out, IMAGE_OUT_PNG, IMAGE_SAVE_NO_CLOBBER, &err),
             SEG_EEXIST, &err);
    CHECK_STR_HAS(err.msg, out);
    check_content(out, "precious");
    unlink(out);
    CHECK_RC(image_save(sf, out, IMAGE_OUT_PNG, IMAGE_SAVE_NO_CLOBBER, &err), 0,
             &err);
    check_file_is(out, sf, IMAGE_OUT_PNG);
    CHECK_EQ(leftovers(dir), 0);
    unlink(out);
    SDL_FreeSurface(sf);
}

/* The link stays a link; the file it names is replaced; the temporary was
 * made beside the target, not beside the link. */
static void test_symlink(void)
{
    SDL_Surface *sf = image(9, 7, 5);
    const char *sub = at("real");
    CHECK_SYS(mkdir(sub, 0700));
    const char *target = at("real/target.bmp");
    const char *link = at("link.bmp");
    put(target, "old");
    CHECK_SYS(symlink("real/target.bmp", link));
    CHECK_SYS(chmod(target, 0600));
    CHECK_RC(image_save(sf, link, IMAGE_OUT_BMP, 0, &err), 0, &err);
    struct stat st;
    CHECK_SYS(lstat(link, &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_SYS(stat(target, &st));
    CHECK_EQ(st.st_mode & 07777, 0600);
    check_file_is(target, sf, IMAGE_OUT_BMP);
    CHECK_EQ(leftovers(dir), 0);
    CHECK_EQ(leftovers(sub), 0);
    CHECK_RC(image_save(sf, link, IMAGE_OUT_BMP, IMAGE_SAVE_NO_CLOBBER, &err),
             SEG_EEXIST, &err);
    /* A dangling link is refused, and nothing appears at its target. */
    unlink(target);
    CHECK_RC(image_save(sf, link, IMAGE_OUT_BMP, 0, &err), SEG_EWRITE, &err);
    CHECK_STR_HAS(err.msg, "dangling");
    CHECK(!test_file_exists(target));
    unlink(link);
    rmdir(sub);
    SDL_FreeSurface(sf);
}

static void test_bad_targets(void)
{
    SDL_Surface *sf = image(4, 4, 6);
    const char *d = at("adir");
    CHECK_SYS(mkdir(d, 0700));
    CHECK_RC(image_save(sf, d, IMAGE_OUT_PNG, 0, &err), SEG_EWRITE, &err);
    CHECK_STR_HAS(err.msg, "is a directory");
    CHECK_EQ(leftovers(dir), 0);
    rmdir(d);
    CHECK_RC(image_save(sf, at("nodir/x.png"), IMAGE_OUT_PNG, 0, &err),
             SEG_EWRITE, &err);
    CHECK_STR_HAS(err.msg, "No such file or directory");
    CHECK_RC(image_save(sf, at("x.gif"), IMAGE_OUT_UNKNOWN, 0, &err),
             SEG_EINVAL, &err);
    CHECK(!test_file_exists(at("x.gif")));
    SDL_FreeSurface(sf);
}

/* Devices are written in place, every write checked: /dev/full fails
 * (the old code said "Pulled"), /dev/null works (BMP seeks on it). */
static void test_devices(void)
{
    SDL_Surface *sf = image(64, 64, 9);
    for (int f = IMAGE_OUT_PNG; f <= IMAGE_OUT_JPG; f++) {
        CHECK_RC(image_save(sf, "/dev/full", f, 0, &err), SEG_EWRITE, &err);
        CHECK_STR_HAS(err.msg, "/dev/full: No space left on device");
        CHECK_RC(image_save(sf, "/dev/null", f, 0, &err), 0, &err);
    }
    SDL_FreeSurface(sf);
}

/* ---- a disk that fills up -------------------------------------------------
 * An old file, a save that cannot be written whole: the save fails with
 * the reason, the old file is byte for byte as it was, and no temporary
 * is left. The old code truncated the file and reported success. */

static const char old_text[] = "the previous image, which must survive";

/* In a child: saves a noisy image too large for what is left. */
static void check_failed_saves(const char *d, const char *reason)
{
    SDL_Surface *big = image(300, 300, 10); /* noise: ~360 KB as PNG */
    for (int f = IMAGE_OUT_PNG; f <= IMAGE_OUT_JPG; f++) {
        char out[4096];
        snprintf(out, sizeof out, "%s/full.%s", d, ext[f]);
        put(out, old_text);
        CHECK_SYS(chmod(out, 0640));
        CHECK_RC(image_save(big, out, f, 0, &err), SEG_EWRITE, &err);
        CHECK_STR_HAS(err.msg, out);
        CHECK_STR_HAS(err.msg, reason);
        CHECK_STR_HAS(err.msg, "left as it was");
        check_content(out, old_text);
        struct stat st;
        CHECK_SYS(stat(out, &st));
        CHECK_EQ(st.st_mode & 07777, 0640);
        CHECK_EQ(leftovers(d), 0);
        /* A new name: nothing at all is left. */
        snprintf(out, sizeof out, "%s/new.%s", d, ext[f]);
        CHECK_RC(image_save(big, out, f, 0, &err), SEG_EWRITE, &err);
        CHECK(!test_file_exists(out));
        CHECK_EQ(leftovers(d), 0);
    }
    SDL_FreeSurface(big);
}

static int fsize_child(void *arg)
{
    (void)arg;
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 4096, .rlim_max = 4096};
    CHECK_SYS(setrlimit(RLIMIT_FSIZE, &rl));
    check_failed_saves(dir, "File too large");
    return 0;
}

static int tmpfs_child(void *arg)
{
    (void)arg;
    const char *mnt = at("small");
    if (unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0)
        return 77;
    check_failed_saves(mnt, "No space left on device");
    /* What fits is still written. */
    SDL_Surface *sf = image(16, 16, 11);
    char out[4096];
    snprintf(out, sizeof out, "%s/full.png", mnt);
    CHECK_RC(image_save(sf, out, IMAGE_OUT_PNG, 0, &err), 0, &err);
    check_file_is(out, sf, IMAGE_OUT_PNG);
    SDL_FreeSurface(sf);
    return 0; /* the mount goes with the namespace */
}

static void test_full_disk(void)
{
    CHECK_EQ(test_wait(test_spawn(fsize_child, NULL)), 0);
    CHECK_SYS(mkdir(at("small"), 0700));
    int rc = test_wait(test_spawn(tmpfs_child, NULL));
    if (rc == 77)
        printf("  (no tmpfs: mount refused; RLIMIT_FSIZE only)\n");
    else
        CHECK_EQ(rc, 0);
    CHECK_SYS(rmdir(at("small"))); /* empty: the tmpfs was private */
}

/* ---- standard output, FIFOs ---------------------------------------------- */

typedef struct stdout_case {
    int fd; /* becomes the child's fd 1; -1: fd 1 closed */
    image_out_format fmt;
    int want;
    const char *reason;
} stdout_case;

static int stdout_child(void *arg)
{
    const stdout_case *c = arg;
    signal(SIGPIPE, SIG_IGN);
    if (c->fd < 0)
        close(STDOUT_FILENO);
    else
        CHECK_EQ(dup2(c->fd, STDOUT_FILENO), STDOUT_FILENO);
    SDL_Surface *sf = image(200, 200, 12);
    CHECK_RC(image_save(sf, "-", c->fmt, 0, &err), c->want, &err);
    if (c->reason)
        CHECK_STR_HAS(err.msg, c->reason);
    SDL_FreeSurface(sf);
    return 0;
}

static void check_stdout_fails(int fd, image_out_format fmt, const char *reason)
{
    stdout_case c = {fd, fmt, SEG_EWRITE, reason};
    CHECK_EQ(test_wait(test_spawn(stdout_child, &c)), 0);
}

/* Reads fd to its end; checks that it decodes to image(200, 200, 12). */
static void check_stream_is_image(int fd, image_out_format fmt)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    CHECK_NE(buf, NULL);
    for (;;) {
        if (n == cap) {
            buf = realloc(buf, cap *= 2);
            CHECK_NE(buf, NULL);
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        CHECK_SYS(k);
        if (k == 0)
            break;
        n += (size_t)k;
    }
    SDL_Surface *got = IMG_Load_RW(SDL_RWFromConstMem(buf, (int)n), 1);
    CHECK_NE(got, NULL);
    SDL_Surface *want = image(200, 200, 12);
    CHECK_EQ(got->w, 200);
    if (fmt != IMAGE_OUT_JPG)
        CHECK(same_pixels(got, want));
    SDL_FreeSurface(got);
    SDL_FreeSurface(want);
    free(buf);
}

static void test_stdout(void)
{
    for (int f = IMAGE_OUT_PNG; f <= IMAGE_OUT_JPG; f++) {
        /* A reader that went away: EPIPE, not success. */
        int p[2];
        CHECK_SYS(pipe(p));
        close(p[0]);
        check_stdout_fails(p[1], f, "standard output: Broken pipe");
        close(p[1]);
        /* A full device. */
        int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
        CHECK_SYS(full);
        check_stdout_fails(full, f, "standard output: No space left");
        close(full);
        /* No standard output at all. */
        check_stdout_fails(-1, f, "Bad file descriptor");
        /* A pipe that is read: the whole image (BMP too, which cannot seek
         * on a pipe). */
        CHECK_SYS(pipe(p));
        stdout_case ok = {p[1], f, 0, NULL};
        pid_t pid = test_spawn(stdout_child, &ok);
        close(p[1]);
        check_stream_is_image(p[0], f);
        close(p[0]);
        CHECK_EQ(test_wait(pid), 0);
    }
}

typedef struct fifo_case {
    const char *path;
    image_out_format fmt;
} fifo_case;

static int fifo_writer(void *arg)
{
    const fifo_case *c = arg;
    SDL_Surface *sf = image(200, 200, 12);
    CHECK_RC(image_save(sf, c->path, c->fmt, 0, &err), 0, &err);
    SDL_FreeSurface(sf);
    return 0;
}

/* An existing FIFO is written in place, not replaced by a file. */
static void test_fifo(void)
{
    const char *fifo = at("fifo");
    CHECK_SYS(mkfifo(fifo, 0600));
    for (int f = IMAGE_OUT_PNG; f <= IMAGE_OUT_JPG; f++) {
        fifo_case c = {fifo, f};
        pid_t pid = test_spawn(fifo_writer, &c);
        int fd = open(fifo, O_RDONLY | O_CLOEXEC);
        CHECK_SYS(fd);
        check_stream_is_image(fd, f);
        close(fd);
        CHECK_EQ(test_wait(pid), 0);
        struct stat st;
        CHECK_SYS(lstat(fifo, &st));
        CHECK(S_ISFIFO(st.st_mode));
    }
    unlink(fifo);
    CHECK_EQ(leftovers(dir), 0);
}

static int remove_one(const char *path, const struct stat *st, int type,
                      struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

int main(void)
{
    alarm(110);
    CHECK_NE(mkdtemp(dir), NULL);
    static const struct {
        const char *name;
        void (*run)(void);
    } tests[] = {
        {"format_of", test_format_of},
        {"limits", test_limits},
        {"jpeg_too_big", test_jpeg_too_big},
        {"round_trips", test_round_trips},
        {"modes", test_modes},
        {"no_clobber", test_no_clobber},
        {"symlink", test_symlink},
        {"bad_targets", test_bad_targets},
        {"devices", test_devices},
        {"full_disk", test_full_disk},
        {"stdout", test_stdout},
        {"fifo", test_fifo},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        tests[i].run();
        printf("ok %zu %s\n", i + 1, tests[i].name);
        fflush(stdout);
    }
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
