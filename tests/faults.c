/* faults.c - processes that die at the worst moment, a full disk, and load.
 *
 *   faults kills [N]      a publisher SIGKILLed at random moments of a
 *                         publish, N times (100): with 3 buffers every
 *                         later read is the newest complete frame, exactly:
 *                         the previous one when the kill came mid-write,
 *                         the killed publisher's last one when it came
 *                         between publishes; never anything else; the next
 *                         publish takes the dead lock over and works
 *   faults reader-kill    a reader killed mid-read (between read_begin and
 *                         read_end): readers hold no lock, so the publisher
 *                         goes on at once, and nothing is left to reclaim
 *                         (10 times)
 *   faults full           a publish too large for a 2 MiB tmpfs: "no space",
 *                         the previous image intact, no SIGBUS
 *   faults load SECONDS   2 publishers and 8 readers: no torn image, no
 *                         deadlock, no leaked descriptor or mapping
 */
#include "check.h"
#include "pattern.h"
#include "inspect.h"
#include "segment.h"

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/resource.h>

static seg_err err;

typedef struct shape {
    uint32_t w, h, id;
} shape;

/* The images the killed publisher alternates between, and the one the
 * test publishes itself before each round. */
static const shape images[] = {{1024, 768, 1}, {800, 600, 2}, {640, 480, 3}};

static void publish(seg *s, const shape *im)
{
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_write_begin(s, im->w, im->h, "pattern", &px, &pitch, &err), 0,
             &err);
    pattern_fill(px, pitch, im->w, im->h, im->id);
    seg_write_end(s, true, NULL);
}

/* Publishes the two images in turn, with short pauses between, so that a
 * kill lands sometimes mid-write and sometimes between two publishes. */
static int publish_forever(void *arg)
{
    (void)arg;
    seg *s;
    CHECK_RC(seg_attach("faults", 0, &s, &err), 0, &err);
    for (int i = 0;; i = !i) {
        publish(s, &images[i]);
        test_sleep_ms(rand() % 4);
    }
}

/* Reads the newest frame and checks it is one of the images, whole.
 * Returns: its id; *frame gets its frame number. */
static long read_one(seg *s, uint8_t *buf, size_t size, uint64_t *frame)
{
    seg_image img;
    CHECK_RC(seg_pull(s, buf, size, &img, &err), 0, &err);
    long id = pattern_verify(buf, img.pitch, img.width, img.height);
    bool known = false;
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
        known |= id == (long)images[i].id && img.width == images[i].w &&
                 img.height == images[i].h;
    if (!known) {
        fprintf(stderr, "read a torn or foreign %ux%u image (id %ld)\n",
                img.width, img.height, id);
        exit(1);
    }
    *frame = img.frame;
    return id;
}

/* What the killed publisher left, as the file says: whether a buffer is
 * odd (it died writing), and the highest complete frame number. */
static bool died_writing(const char *path, uint64_t *newest)
{
    seg_status *st = malloc(sizeof *st);
    CHECK(st);
    CHECK_RC(seg_inspect(path, st, &err), 0, &err);
    CHECK_EQ(st->problem, 0);
    bool odd = false;
    *newest = 0;
    for (unsigned i = 0; i < st->buffer_count; i++) {
        if (st->buf[i].seq % 2)
            odd = true;
        else if (st->buf[i].image.frame > *newest)
            *newest = st->buf[i].image.frame;
    }
    free(st);
    return odd;
}

static int kills(int rounds)
{
    seg *s;
    CHECK_RC(seg_attach("faults", SEG_CREATE, &s, &err), 0, &err);
    /* The largest image first: the buffers never need a re-layout later,
     * which would drop the previous frames (a kill then leaves
     * "incomplete", tested in test_segment). */
    publish(s, &images[0]);
    CHECK_EQ(seg_buffers(s, NULL), 3);
    /* A dead holder is taken over in about a second; a publish that took
     * 3 s would be a hang, and fails. */
    seg_set_lock_timeout(s, 3000);
    size_t size = 1024 * 768 * 4;
    uint8_t *buf = malloc(size);
    CHECK(buf);
    srand((unsigned)getpid());
    int intact = 0, complete = 0, other = 0;
    double worst = 0;
    for (int i = 0; i < rounds; i++) {
        publish(s, &images[2]);
        pid_t pid = test_spawn(publish_forever, NULL);
        test_sleep_ms(1 + rand() % 15); /* a few publishes, then die */
        kill(pid, SIGKILL);
        CHECK_EQ(test_wait(pid), 128 + SIGKILL);
        uint64_t newest, frame, again;
        bool mid_write = died_writing(seg_file(s), &newest);
        long id = read_one(s, buf, size, &frame);
        if (frame != newest)
            other++;
        else if (mid_write)
            intact++;
        else
            complete++;
        CHECK_EQ(read_one(s, buf, size, &again), id); /* and it stays so */
        CHECK_EQ(again, frame);
        double t0 = test_now();
        publish(s, &images[2]); /* takes the dead lock over, if held */
        double took = test_now() - t0;
        worst = took > worst ? took : worst;
        CHECK_EQ(read_one(s, buf, size, &again), 3);
        CHECK_EQ(again, frame + 1);
    }
    printf("%d publishers SIGKILLed mid-stream: %d killed mid-write with the "
           "previous frame intact, %d between publishes with the new frame "
           "complete, %d other; the next publish went on after %.3f s at "
           "worst\n",
           rounds, intact, complete, other, worst);
    CHECK_EQ(other, 0);
    CHECK_EQ(intact + complete, rounds);
    free(buf);
    seg_detach(s);
    return 0;
}

static int die_mid_read(void *arg)
{
    int fd = *(int *)arg;
    seg *s;
    seg_view v;
    CHECK_RC(seg_attach("faults", 0, &s, &err), 0, &err);
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(write(fd, "R", 1), 1);
    for (;;)
        pause();
}

static int reader_kill(void)
{
    seg *s;
    CHECK_RC(seg_attach("faults", SEG_CREATE, &s, &err), 0, &err);
    seg_set_lock_timeout(s, 2000); /* a wait would show as a failure */
    publish(s, &images[0]);
    size_t size = 1024 * 768 * 4;
    uint8_t *buf = malloc(size);
    CHECK(buf);
    double worst = 0;
    for (int i = 0; i < 10; i++) {
        pid_t pid = test_spawn_ready(die_mid_read);
        seg_status st;
        CHECK_RC(seg_inspect(seg_file(s), &st, &err), 0, &err);
        CHECK_EQ(st.attached, 2);
        CHECK_EQ(st.lock_word, 0); /* the reader holds no lock */
        kill(pid, SIGKILL);
        test_wait(pid);
        CHECK_RC(seg_inspect(seg_file(s), &st, &err), 0, &err);
        CHECK_EQ(st.attached, 1); /* its slot went with it */
        double t0 = test_now();
        publish(s, &images[i % 2]);
        double took = test_now() - t0;
        worst = took > worst ? took : worst;
        uint64_t frame;
        CHECK_EQ(read_one(s, buf, size, &frame), images[i % 2].id);
        CHECK_EQ(frame, (uint64_t)i + 2);
    }
    printf("10 readers SIGKILLed mid-read: every publish went on (%.3f s at "
           "worst), nothing to reclaim\n",
           worst);
    free(buf);
    CHECK_EQ(seg_detach(s), 1);
    return 0;
}

/* A 2 MiB tmpfs, mounted here (we may when root). Elsewhere the same
 * error path is reached through RLIMIT_FSIZE: posix_fallocate then fails
 * with EFBIG instead of ENOSPC. */
static int full(void)
{
    char dir[] = "/tmp/shmimg-full.XXXXXX";
    CHECK(mkdtemp(dir));
    bool mounted = mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0700") == 0;
    if (!mounted) {
        printf("cannot mount a tmpfs here (%s): limiting the file size with "
               "RLIMIT_FSIZE instead\n",
               strerror(errno));
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {2 << 20, 2 << 20};
        CHECK_SYS(setrlimit(RLIMIT_FSIZE, &rl));
    }
    setenv("SHMIMG_DIR", dir, 1);
    seg *s;
    CHECK_RC(seg_attach("full", SEG_CREATE, &s, &err), 0, &err);
    shape small = {256, 256, 7}, big = {1024, 1024, 8};
    publish(s, &small);
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_write_begin(s, big.w, big.h, "big", &px, &pitch, &err),
             SEG_ENOSPACE, &err);
    CHECK_STR_HAS(err.msg, "no space left");
    printf("publish of 4 MiB into a 2 MiB %s: %s\n",
           mounted ? "tmpfs" : "file-size limit", err.msg);
    uint8_t *buf = malloc(256 * 256 * 4);
    seg_image img;
    CHECK_RC(seg_pull(s, buf, 256 * 256 * 4, &img, &err), 0, &err);
    CHECK_EQ(pattern_verify(buf, img.pitch, img.width, img.height), 7);
    publish(s, &small); /* still usable */
    free(buf);
    seg_detach(s);
    if (mounted)
        CHECK_SYS(umount(dir));
    CHECK_SYS(rmdir(dir));
    return 0;
}

/* ---- load --------------------------------------------------------------- */

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    CHECK(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Mappings of files in SHMIMG_DIR: after a detach there must be none.
 * (The total count is no measure: sanitizer runtimes map as they go.) */
static int count_segment_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f);
    const char *dir = getenv("SHMIMG_DIR");
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, dir) != NULL;
    fclose(f);
    return n;
}

typedef struct load_args {
    double seconds;
    int report_fd;
    bool publisher;
    uint32_t base;
} load_args;

/* Each round attaches, works, detaches, so a leak would pile up. */
static int load_worker(void *arg)
{
    load_args *a = arg;
    size_t cap = 1024 * 1024 * 4;
    uint8_t *buf = malloc(cap);
    CHECK(buf);
    long done = 0;
    int fds = -1;
    double end = test_now() + a->seconds;
    for (int round = 0; test_now() < end; round++) {
        seg *s;
        CHECK_RC(seg_attach("load", SEG_CREATE, &s, &err), 0, &err);
        for (int i = 0; i < 50; i++, done++) {
            if (a->publisher) {
                uint32_t id = a->base + (uint32_t)(done % 40);
                shape im = {128 + id % 9 * 64, 96 + id % 7 * 48, id};
                publish(s, &im);
                continue;
            }
            seg_image img;
            int rc = seg_pull(s, buf, cap, &img, &err);
            if (rc == SEG_EEMPTY)
                continue;
            CHECK_RC(rc, 0, &err);
            long id = pattern_verify(buf, img.pitch, img.width, img.height);
            if (id < 1000 || id >= 3000) {
                fprintf(stderr, "torn image %ux%u (id %ld)\n", img.width,
                        img.height, id);
                return 1;
            }
        }
        seg_detach(s);
        CHECK_EQ(count_segment_maps(), 0);
        if (round == 0)
            fds = count_fds();
    }
    CHECK_EQ(count_fds(), fds);
    CHECK_EQ(write(a->report_fd, &done, sizeof done), sizeof done);
    free(buf);
    return 0;
}

static int load(double seconds)
{
    int p[2];
    CHECK_SYS(pipe(p));
    enum { publishers = 2, readers = 8 };
    pid_t pids[publishers + readers];
    load_args args[publishers + readers];
    for (int i = 0; i < publishers + readers; i++) {
        args[i] = (load_args){seconds, p[1], i < publishers,
                              1000 + 1000 * (uint32_t)i};
        pids[i] = test_spawn(load_worker, &args[i]);
    }
    close(p[1]);
    long published = 0, pulled = 0;
    for (int i = 0; i < publishers + readers; i++) {
        CHECK_EQ(test_wait(pids[i]), 0);
        long n;
        CHECK_EQ(read(p[0], &n, sizeof n), sizeof n);
        *(i < publishers ? &published : &pulled) += n;
    }
    printf("load: %d publishers and %d readers for %.0f s: %ld images "
           "published, %ld read whole, 0 torn; no deadlock; descriptors and "
           "mappings steady in every process\n",
           publishers, readers, seconds, published, pulled);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK_CMP_I64(argc, >=, 2);
    const char *dir = test_dir_create();
    int rc;
    if (strcmp(argv[1], "kills") == 0)
        rc = kills(argc > 2 ? atoi(argv[2]) : 100);
    else if (strcmp(argv[1], "reader-kill") == 0)
        rc = reader_kill();
    else if (strcmp(argv[1], "full") == 0)
        rc = full();
    else if (strcmp(argv[1], "load") == 0)
        rc = load(argc > 2 ? atof(argv[2]) : 30);
    else
        rc = 2;
    test_dir_remove(dir);
    return rc;
}
