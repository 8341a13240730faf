/* test_channel.c - layout 2 as a frame channel, between real processes:
 * readers take no lock and write nothing, so a reader stopped or killed in
 * the middle of a read never makes a publish wait; many readers follow a
 * publisher and every frame they get is whole; a SHMIMG_DIR too small for
 * three buffers gets fewer, and one too small for any refuses the frame
 * and keeps the previous one.
 *
 *   test_channel             every check below
 *
 * Frames carry their frame number in every pixel (pattern.h, id = frame),
 * so a torn frame, or one whose pixels are not its descriptor's, shows.
 */
#include "check.h"
#include "pattern.h"
#include "inspect.h"
#include "segment.h"

#include <stdbool.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

static seg_err err;

/* Publishes a w x h frame whose pixels say its frame number.
 * Returns: that frame number. */
static uint64_t publish_frame(seg *s, uint32_t w, uint32_t h)
{
    uint8_t *px;
    uint32_t pitch;
    uint64_t frame = (seg_generation(s) >> 2) + 1;
    CHECK_RC(seg_write_begin(s, w, h, "frame", &px, &pitch, &err), 0, &err);
    pattern_fill(px, pitch, w, h, (uint32_t)frame);
    CHECK_RC(seg_write_end(s, true, &err), 0, &err);
    return frame;
}

/* Checks that what was read is whole and is the frame it says it is. */
static void check_frame(const uint8_t *px, const seg_image *img)
{
    long id = pattern_verify(px, img->pitch, img->width, img->height);
    if (id != (long)img->frame) {
        fprintf(stderr,
                "frame %llu (%ux%u) holds the pixels of %ld (-1: "
                "torn)\n",
                (unsigned long long)img->frame, img->width, img->height, id);
        exit(1);
    }
}

/* ---- a reader stopped in the middle of a read ------------------------- */

typedef struct pipes {
    int to_parent;   /* write end */
    int from_parent; /* read end */
} pipes;

static int stopped_reader(void *arg)
{
    pipes *p = arg;
    seg *s;
    seg_view v;
    CHECK_RC(seg_attach("chan", SEG_READER, &s, &err), 0, &err);
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    size_t n = (size_t)v.image.payload_size;
    uint8_t *half = malloc(n);
    CHECK(half);
    seg_copy_out(s, half, v.pixels, n / 2); /* half of it, then stop */
    CHECK_EQ(write(p->to_parent, "R", 1), 1);
    raise(SIGSTOP);
    /* Continued: the publisher went on meanwhile. */
    seg_copy_out(s, half + n / 2, v.pixels + n / 2, n - n / 2);
    CHECK_RC(seg_read_end(s, &v, &err), SEG_ELAPPED, &err);
    uint64_t newest;
    CHECK_EQ(read(p->from_parent, &newest, sizeof newest), sizeof newest);
    seg_image img;
    CHECK_RC(seg_pull(s, half, n, &img, &err), 0, &err);
    CHECK_EQ(img.frame, newest);
    check_frame(half, &img);
    free(half);
    CHECK_EQ(seg_detach(s), 0);
    return 0;
}

static void test_stopped_reader(void)
{
    seg *s;
    CHECK_RC(seg_attach("chan", SEG_CREATE, &s, &err), 0, &err);
    seg_set_lock_timeout(s, 2000); /* a publish that waited would fail */
    publish_frame(s, 512, 512);
    int up[2], down[2];
    CHECK_SYS(pipe(up));
    CHECK_SYS(pipe(down));
    pipes p = {up[1], down[0]};
    pid_t pid = test_spawn(stopped_reader, &p);
    char c;
    CHECK_EQ(read(up[0], &c, 1), 1);
    int status;
    CHECK(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status));
    seg_status st;
    CHECK_RC(seg_inspect(seg_file(s), &st, &err), 0, &err);
    CHECK_EQ(st.lock_word, 0); /* the stopped reader holds no lock */
    CHECK_EQ(st.attached, 1);  /* nor a slot: only the publisher owns */
    double t0 = test_now();
    uint64_t frame = 0;
    for (int i = 0; i < 20; i++)
        frame = publish_frame(s, 512, 512); /* each returned 0 */
    printf("reader stopped mid-read: 20 publishes went on (%.3f s), the "
           "lock free\n",
           test_now() - t0);
    CHECK_EQ(write(down[1], &frame, sizeof frame), sizeof frame);
    kill(pid, SIGCONT);
    CHECK_EQ(test_wait(pid), 0);
    for (int i = 0; i < 2; i++) {
        close(up[i]);
        close(down[i]);
    }
    printf("continued: its read_end said ELAPPED, the retry got frame %llu "
           "whole\n",
           (unsigned long long)frame);
    CHECK_EQ(seg_detach(s), 1);
}

/* ---- a reader killed in the middle of a read -------------------------- */

static int killed_reader(void *arg)
{
    int fd = *(int *)arg;
    seg *s;
    seg_view v;
    CHECK_RC(seg_attach("chan", SEG_READER, &s, &err), 0, &err);
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(write(fd, "R", 1), 1);
    for (;;)
        pause();
}

static void test_killed_reader(void)
{
    seg *s;
    CHECK_RC(seg_attach("chan", SEG_CREATE, &s, &err), 0, &err);
    seg_set_lock_timeout(s, 2000);
    publish_frame(s, 256, 256);
    pid_t pid = test_spawn_ready(killed_reader);
    kill(pid, SIGKILL);
    CHECK_EQ(test_wait(pid), 128 + SIGKILL);
    seg_status st;
    CHECK_RC(seg_inspect(seg_file(s), &st, &err), 0, &err);
    CHECK_EQ(st.attached, 1); /* its slot went with it */
    CHECK_EQ(st.lock_word, 0);
    uint64_t frame = 0;
    for (int i = 0; i < 10; i++)
        frame = publish_frame(s, 256, 256);
    static uint8_t buf[256 * 256 * 4];
    seg_image img;
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(img.frame, frame);
    check_frame(buf, &img);
    printf("reader SIGKILLed mid-read: 10 publishes went on, nothing to "
           "reclaim\n");
    CHECK_EQ(seg_detach(s), 1);
}

/* ---- many readers following one publisher ----------------------------- */

enum { followers = 8, frames = 300 };

typedef struct follow_args {
    const char *key;
    uint64_t last; /* follow until this frame */
    int ready;     /* write end: "attached" */
    int report;    /* write end: frames got, frames skipped */
} follow_args;

static int follower(void *arg)
{
    follow_args *a = arg;
    seg *s;
    CHECK_RC(seg_attach(a->key, SEG_READER, &s, &err), 0, &err);
    size_t cap = 0;
    uint8_t *buf = NULL;
    uint32_t seen = seg_generation(s);
    CHECK_EQ(write(a->ready, "R", 1), 1);
    uint64_t last = 0;
    long got = 0, skipped = 0;
    while (last < a->last) {
        CHECK_RC(seg_wait(s, seen, 10000, NULL, &seen, &err), 0, &err);
        seg_image img;
        int rc = seg_pull_grow(s, &buf, &cap, &img, &err);
        /* Best effort: lapped again and again by an unpaced publisher on
         * a busy machine, a follower skips; the next frame is another
         * chance (and the last one stays until the publisher goes). */
        if (rc == SEG_ELAPPED)
            continue;
        CHECK_RC(rc, 0, &err);
        check_frame(buf, &img);
        if (img.frame <= last) /* woken by a frame we already have */
            continue;
        skipped += (long)(img.frame - last - 1);
        last = img.frame;
        got++;
    }
    long counts[2] = {got, skipped};
    CHECK_EQ(write(a->report, counts, sizeof counts), sizeof counts);
    free(buf);
    seg_detach(s);
    return 0;
}

/* Starts n followers of key up to frame last, once all are attached.
 * Returns: the read end of their report pipe. */
static int start_followers(const char *key, uint64_t last, pid_t *pids, int n)
{
    int ready[2], report[2];
    CHECK_SYS(pipe(ready));
    CHECK_SYS(pipe(report));
    follow_args a = {key, last, ready[1], report[1]};
    for (int i = 0; i < n; i++)
        pids[i] = test_spawn(follower, &a);
    for (int i = 0; i < n; i++) {
        char c;
        CHECK_EQ(read(ready[0], &c, 1), 1);
    }
    close(ready[0]);
    close(ready[1]);
    close(report[1]);
    return report[0];
}

/* Collects n followers' reports; each must exit 0 (a torn frame or a
 * SIGBUS would not). */
static void finish_followers(int report, pid_t *pids, int n, uint64_t last,
                             const char *what)
{
    long got = 0, skipped = 0;
    for (int i = 0; i < n; i++) {
        CHECK_EQ(test_wait(pids[i]), 0);
        long counts[2];
        CHECK_EQ(read(report, counts, sizeof counts), sizeof counts);
        CHECK_EQ(counts[0] + counts[1], (long)last);
        got += counts[0];
        skipped += counts[1];
    }
    close(report);
    printf("%s: %d readers followed %llu frames: %ld got whole, %ld "
           "skipped, 0 torn\n",
           what, n, (unsigned long long)last, got, skipped);
}

static void test_followers(void)
{
    seg *s;
    CHECK_RC(seg_attach("follow", SEG_CREATE, &s, &err), 0, &err);
    pid_t pids[followers];
    int report = start_followers("follow", frames, pids, followers);
    for (int i = 0; i < frames; i++)
        publish_frame(s, 256, 192);
    finish_followers(report, pids, followers, frames, "8 followers");
    CHECK_EQ(seg_detach(s), 1);
}

/* ---- a SHMIMG_DIR too small for the buffers --------------------------- */

static void test_small_dir(void)
{
    char dir[] = "/tmp/shmimg-small.XXXXXX";
    CHECK(mkdtemp(dir));
    /* 2 MiB: 2 buffers of a 480x480 frame (900 KiB each), not 3. */
    bool mounted = mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0700") == 0;
    struct rlimit old;
    CHECK_SYS(getrlimit(RLIMIT_FSIZE, &old));
    if (!mounted) {
        printf("cannot mount a tmpfs here (%s): limiting the file size to "
               "2 MiB with RLIMIT_FSIZE instead\n",
               strerror(errno));
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {2 << 20, old.rlim_max};
        CHECK_SYS(setrlimit(RLIMIT_FSIZE, &rl));
    }
    char *saved = strdup(getenv("SHMIMG_DIR"));
    setenv("SHMIMG_DIR", dir, 1);
    seg *s;
    CHECK_RC(seg_attach("small", SEG_CREATE, &s, &err), 0, &err);
    seg_set_lock_timeout(s, 2000);
    pid_t pids[2];
    int report = start_followers("small", 60, pids, 2);
    for (int i = 0; i < 30; i++)
        publish_frame(s, 480, 480);
    unsigned wanted;
    CHECK_EQ(seg_buffers(s, &wanted), 2);
    CHECK_EQ(wanted, SEG_DEFAULT_BUFFERS);
    printf("2 MiB %s, 480x480 frames: %u buffers of the %u wanted\n",
           mounted ? "tmpfs" : "file-size limit", seg_buffers(s, NULL), wanted);
    /* 600x600 fits once only, in what the file has already. */
    for (int i = 0; i < 30; i++)
        publish_frame(s, 600, 600);
    CHECK_EQ(seg_buffers(s, NULL), 1);
    finish_followers(report, pids, 2, 60, "small SHMIMG_DIR");

    /* 1024x1024 (4 MiB) fits no buffer: refused, the last frame kept. */
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_write_begin(s, 1024, 1024, "big", &px, &pitch, &err),
             SEG_ENOSPACE, &err);
    CHECK_STR_HAS(err.msg, "no space left");
    printf("a 4 MiB frame: %s\n", err.msg);
    size_t size = 600 * 600 * 4;
    uint8_t *buf = malloc(size);
    CHECK(buf);
    seg_image img;
    CHECK_RC(seg_pull(s, buf, size, &img, &err), 0, &err);
    CHECK_EQ(img.frame, 60);
    check_frame(buf, &img);
    CHECK_EQ(publish_frame(s, 600, 600), 61); /* still usable */
    free(buf);
    CHECK_EQ(seg_detach(s), 1);
    setenv("SHMIMG_DIR", saved, 1);
    free(saved);
    if (mounted)
        CHECK_SYS(umount(dir));
    else
        CHECK_SYS(setrlimit(RLIMIT_FSIZE, &old));
    CHECK_SYS(rmdir(dir));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dir = test_dir_create();
    test_stopped_reader();
    test_killed_reader();
    test_followers();
    test_small_dir();
    test_dir_remove(dir);
    printf("all channel checks passed\n");
    return 0;
}
