/* hostile.c - hostile and broken segments.
 *
 *   hostile cases           the case names, one a line
 *   hostile make CASE       put CASE at $SHMIMG_DIR/shmimg-h
 *   hostile expect CASE     what a reader must say of it (a grep -E regex)
 *   hostile check           the library against every case: the reader gets
 *                           the expected error, inspect and list report it,
 *                           and the file is left exactly as it was; then a
 *                           file truncated under a reader (no SIGBUS)
 *
 * tests/hostile_test.sh runs the command line and the window against the
 * same cases.
 */
#include "check.h"
#include "inspect.h"
#include "segment.h"

#include <fcntl.h>
#include <regex.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static seg_err err;
static char path[SEG_PATH_MAX];

/* A valid header of a w x h image: one buffer, holding frame 1, the
 * newest; the cases then break it. */
static void valid_header(shmimg_header *h, uint32_t w, uint32_t hgt)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, SHMIMG_MAGIC, 8);
    h->layout_version = SHMIMG_LAYOUT_VERSION;
    h->header_size = SHMIMG_HEADER_SIZE;
    atomic_store(&h->latest, 1u << 2 | 0);
    h->buffer_count = 1;
    h->payload_offset = SHMIMG_HEADER_SIZE;
    uint64_t size = (uint64_t)w * 4 * hgt;
    h->buffer_stride = (size + SHMIMG_BUFFER_ALIGN - 1) / SHMIMG_BUFFER_ALIGN *
                       SHMIMG_BUFFER_ALIGN;
    h->capacity = h->buffer_stride;
    shmimg_buffer *b = &h->buf[0];
    atomic_store(&b->seq, 2);
    b->width = w;
    b->height = hgt;
    b->pitch = w * 4;
    b->pixel_format = SHMIMG_FORMAT_RGBA8;
    b->publisher_pid = 1;
    b->frame = 1;
    b->offset = SHMIMG_HEADER_SIZE;
    b->payload_size = size;
    snprintf(b->source_name, sizeof b->source_name, "hostile.png");
}

static void write_file(const char *p, const void *data, size_t n, int mode)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK_SYS(fd);
    CHECK_EQ(write(fd, data, n), (ssize_t)n);
    CHECK_SYS(fchmod(fd, (mode_t)mode));
    close(fd);
}

/* Writes header h and payload bytes of pixels after it. */
static void write_segment(const char *p, const shmimg_header *h, size_t payload,
                          int mode)
{
    size_t n = sizeof *h + payload;
    uint8_t *buf = calloc(1, n);
    CHECK(buf);
    memcpy(buf, h, sizeof *h);
    memset(buf + sizeof *h, 0x5a, payload);
    write_file(p, buf, n, mode);
    free(buf);
}

/* Writes h with the whole payload area its header declares. */
static void write_whole(const char *p, const shmimg_header *h, int mode)
{
    write_segment(p, h, (size_t)h->capacity, mode);
}

/* A change to one field of a valid header: `size` bytes at `at`, little
 * endian, as the file stores them. */
typedef struct patch {
    size_t at;
    size_t size;
    uint64_t value;
} patch;
#define FIELD(f, v)                                                            \
    {                                                                          \
        offsetof(shmimg_header, f), sizeof(((shmimg_header *)0)->f),           \
            (uint64_t)(v)                                                      \
    }

enum { max_patches = 4 };

/* One hostile file. Most are a valid header of a side x side image (one
 * buffer, frame 1) with some fields changed, written with `extra` bytes
 * of payload (-1: the capacity the header declares) at `mode`; the rest
 * are made by `make`. */
typedef struct hostile_case {
    const char *name;
    int expect;       /* what a reader (pull) must report */
    const char *says; /* ... in words: an extended regex of its message */
    uint32_t side;
    patch patches[max_patches];
    long extra;
    int mode;
    void (*make)(const char *p); /* instead of the header: a special file */
} hostile_case;

static void make_short(const char *p) { write_file(p, "SHMIMG\r\n", 8, 0600); }
static void make_empty(const char *p) { write_file(p, "", 0, 0600); }

/* A real layout-1 segment (one 2x2 image), as the shmimg before the
 * frame channel wrote it: magic, version, header size, lock word, lock
 * owner, generation, flags, then width, height, pitch, format, payload
 * offset, size and capacity, publisher, time and the source name. */
static void make_version_1(const char *p)
{
    uint8_t v1[SHMIMG_HEADER_SIZE + 16] = {0};
    uint32_t words[] = {1, SHMIMG_HEADER_SIZE, 0, 0, 2, 1 /* HAS_IMAGE */, 2, 2,
                        8, SHMIMG_FORMAT_RGBA8};
    uint64_t sizes[] = {SHMIMG_HEADER_SIZE, 16, 16};
    memcpy(v1, SHMIMG_MAGIC, 8);
    memcpy(v1 + 8, words, sizeof words);
    memcpy(v1 + 48, sizes, sizeof sizes);
    memcpy(v1 + 88, "version1.png", 12);
    memset(v1 + SHMIMG_HEADER_SIZE, 0x5a, 16);
    write_file(p, v1, sizeof v1, 0600);
}

static void make_symlink(const char *p)
{
    char target[SEG_PATH_MAX + 16];
    snprintf(target, sizeof target, "%s.target", p);
    shmimg_header h;
    valid_header(&h, 2, 2);
    write_whole(target, &h, 0600);
    CHECK_SYS(symlink(target, p));
}

static void make_directory(const char *p) { CHECK_SYS(mkdir(p, 0700)); }
static void make_fifo(const char *p) { CHECK_SYS(mkfifo(p, 0600)); }

/* A bound Unix socket: open() of it fails with ENXIO, before any fstat. */
static void make_socket(const char *p)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    CHECK_CMP_I64(strlen(p), <, sizeof a.sun_path);
    strcpy(a.sun_path, p);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_SYS(fd);
    CHECK_SYS(bind(fd, (struct sockaddr *)&a, sizeof a));
    close(fd); /* the name stays */
}

/* Made by uid 65534 (nobody) in a sticky, world-writable directory, as
 * /dev/shm is. Not in the table: a reader may read it (read-only) now;
 * check_other_user says what must hold. */
static void make_other_user(const char *p)
{
    char dir[SEG_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", p);
    *strrchr(dir, '/') = '\0';
    CHECK_SYS(chmod(dir, 01777));
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
            _exit(3);
        shmimg_header h;
        valid_header(&h, 2, 2);
        write_whole(p, &h, 0600);
        _exit(0);
    }
    CHECK_EQ(test_wait(pid), 0);
}

#define PAST_END (-1000) /* a payload 1000 bytes long, whatever it says */

static const hostile_case cases[] = {
    {"short", SEG_ECORRUPT, "shorter than the 4096-byte segment header",
     .make = make_short},
    {"empty", SEG_ECORRUPT, "shorter than the 4096-byte segment header",
     .make = make_empty},
    {"payload-past-end",
     SEG_ECORRUPT,
     "corrupt segment header: payload area 4096\\+16384 bytes does not fit "
     "in the 5096-byte file",
     64,
     {{0}},
     PAST_END,
     0600,
     NULL},
    /* The header's sizes fit the file, the descriptor's pixels do not. */
    {"descriptor-past-end",
     SEG_ECORRUPT,
     "corrupt segment header: buffer 0's 16384 bytes at offset 12288 do not "
     "lie inside the 20480-byte file",
     64,
     {FIELD(buf[0].offset, SHMIMG_HEADER_SIZE + 8192)},
     -1,
     0600,
     NULL},
    {"descriptor-below-payload",
     SEG_ECORRUPT, /* the header as pixels */
     "corrupt segment header: buffer 0's 16 bytes at offset 0 do not lie "
     "inside the 8192-byte file",
     2,
     {FIELD(buf[0].offset, 0)},
     -1,
     0600,
     NULL},
    /* Every reader names the file's size, not what it had mapped. */
    {"descriptor-below-payload-big",
     SEG_ECORRUPT,
     "corrupt segment header: buffer 0's 16384 bytes at offset 0 do not lie "
     "inside the 20480-byte file",
     64,
     {FIELD(buf[0].offset, 0)},
     -1,
     0600,
     NULL},
    {"descriptor-unaligned",
     SEG_ECORRUPT,
     "corrupt segment header: buffer 0's 16 bytes at offset 4100 do not lie "
     "inside",
     2,
     {FIELD(buf[0].offset, SHMIMG_HEADER_SIZE + 4)},
     -1,
     0600,
     NULL},
    {"too-many-buffers",
     SEG_ECORRUPT,
     "corrupt segment header: 5 buffers of 4096 bytes do not fit the "
     "20480-byte capacity \\(at most 4 buffers",
     2,
     {FIELD(buffer_count, 5), FIELD(capacity, 5 * 4096)},
     -1,
     0600,
     NULL},
    {"stride-unaligned",
     SEG_ECORRUPT,
     "corrupt segment header: 1 buffers of 100 bytes do not fit the "
     "4096-byte capacity",
     2,
     {FIELD(buffer_stride, 100)},
     -1,
     0600,
     NULL},
    {"stride-over-capacity",
     SEG_ECORRUPT, /* 3 x 4096 in 4096 bytes */
     "corrupt segment header: 3 buffers of 4096 bytes do not fit the "
     "4096-byte capacity",
     2,
     {FIELD(buffer_count, 3)},
     -1,
     0600,
     NULL},
    {"overflow-dims",
     SEG_ECORRUPT, /* pitch * height wraps in 32 bits */
     "corrupt segment header: image size 4294967295x4294967295",
     2,
     {FIELD(buf[0].width, 0xFFFFFFFFu), FIELD(buf[0].height, 0xFFFFFFFFu),
      FIELD(buf[0].pitch, 4),
      FIELD(buf[0].payload_size, (uint64_t)4 * 0xFFFFFFFFu)},
     -1,
     0600,
     NULL},
    {"overflow-pitch",
     SEG_ECORRUPT, /* 2^52: fits u64, not the file */
     "corrupt segment header: .*4503599623176192 bytes",
     2,
     {FIELD(buf[0].width, 1u << 20), FIELD(buf[0].height, 1u << 20),
      FIELD(buf[0].pitch, 0xFFFFFFFCu),
      FIELD(buf[0].payload_size, (uint64_t)0xFFFFFFFCu << 20)},
     -1,
     0600,
     NULL},
    {"zero-size",
     SEG_ECORRUPT,
     "corrupt segment header: image size 0x0",
     2,
     {FIELD(buf[0].width, 0), FIELD(buf[0].height, 0),
      FIELD(buf[0].payload_size, 0)},
     -1,
     0600,
     NULL},
    {"negative-size",
     SEG_ECORRUPT, /* -2 and -8 as signed numbers */
     "corrupt segment header: image size 4294967294x4294967288",
     2,
     {FIELD(buf[0].width, (uint32_t)-2), FIELD(buf[0].height, (uint32_t)-8),
      FIELD(buf[0].pitch, (uint32_t)-8)},
     -1,
     0600,
     NULL},
    {"bad-magic",
     SEG_ECORRUPT,
     "wrong magic, this is not a shmimg segment",
     2,
     {{offsetof(shmimg_header, magic) + 6, 2, 0x5858 /* "XX" */}},
     -1,
     0600,
     NULL},
    {"unknown-version",
     SEG_EVERSION,
     "unsupported segment layout version 99 \\(this shmimg reads version 2\\)",
     2,
     {FIELD(layout_version, 99)},
     -1,
     0600,
     NULL},
    {"version-1", SEG_EVERSION,
     "unsupported segment layout version 1 \\(this shmimg reads version 2\\)",
     .make = make_version_1},
    {"bad-header-size",
     SEG_ECORRUPT,
     "corrupt segment header: header size 64",
     2,
     {FIELD(header_size, 64)},
     -1,
     0600,
     NULL},
    {"unaligned-payload",
     SEG_ECORRUPT,
     "corrupt segment header: payload offset 4100",
     2,
     {FIELD(payload_offset, 4100)},
     -1,
     0600,
     NULL},
    {"unknown-pixel-format",
     SEG_ECORRUPT,
     "corrupt segment header: unknown pixel format 7",
     2,
     {FIELD(buf[0].pixel_format, 7)},
     -1,
     0600,
     NULL},
    {"symlink", SEG_ENOTFILE, "is a symbolic link; refusing to follow it",
     .make = make_symlink},
    {"directory", SEG_ENOTFILE, "is a directory, not a segment file",
     .make = make_directory},
    {"fifo", SEG_ENOTFILE, "is a FIFO, not a segment file", .make = make_fifo},
    {"socket", SEG_ENOTFILE, "is a socket, not a segment file",
     .make = make_socket},
    {"group-writable",
     SEG_EPERM,
     "writable by group or others \\(mode 0620\\)",
     2,
     {{0}},
     -1,
     0620,
     NULL},
    {"world-writable",
     SEG_EPERM,
     "writable by group or others \\(mode 0602\\)",
     2,
     {{0}},
     -1,
     0602,
     NULL},
};
enum { ncases = sizeof cases / sizeof cases[0] };

/* Makes c's file at p. */
static void make_case(const hostile_case *c, const char *p)
{
    if (c->make) {
        c->make(p);
        return;
    }
    shmimg_header h;
    valid_header(&h, c->side, c->side);
    for (int i = 0; i < max_patches && c->patches[i].size; i++)
        memcpy((uint8_t *)&h + c->patches[i].at, &c->patches[i].value,
               c->patches[i].size); /* little endian, as the file */
    size_t extra = c->extra == PAST_END ? 1000
                   : c->extra < 0       ? (size_t)h.capacity
                                        : (size_t)c->extra;
    write_segment(p, &h, extra, c->mode);
}

static const hostile_case *find(const char *name)
{
    for (int i = 0; i < ncases; i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    fprintf(stderr, "hostile: no case '%s'\n", name);
    exit(2);
}

/* What must not change: type, inode, mode, owner, size, times, bytes. */
typedef struct fingerprint {
    struct stat st;
    uint64_t hash;
} fingerprint;

static fingerprint fingerprint_of(const char *p)
{
    fingerprint f = {0};
    CHECK_SYS(lstat(p, &f.st));
    f.hash = 1469598103934665603u;
    if (S_ISREG(f.st.st_mode)) {
        FILE *in = fopen(p, "rb");
        CHECK(in);
        int c;
        while ((c = fgetc(in)) != EOF)
            f.hash = (f.hash ^ (uint64_t)c) * 1099511628211u;
        fclose(in);
    }
    return f;
}

static void check_untouched(const fingerprint *a, const char *p,
                            const char *name)
{
    fingerprint b = fingerprint_of(p);
    if (a->st.st_ino != b.st.st_ino || a->st.st_mode != b.st.st_mode ||
        a->st.st_uid != b.st.st_uid || a->st.st_size != b.st.st_size ||
        a->st.st_mtim.tv_nsec != b.st.st_mtim.tv_nsec ||
        a->st.st_mtim.tv_sec != b.st.st_mtim.tv_sec ||
        a->st.st_ctim.tv_nsec != b.st.st_ctim.tv_nsec || a->hash != b.hash) {
        fprintf(stderr, "%s: the file was touched\n", name);
        exit(1);
    }
}

/* Returns: whether msg matches the extended regular expression re. */
static bool says_(const char *msg, const char *re)
{
    regex_t r;
    CHECK_EQ(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
    bool match = regexec(&r, msg, 0, NULL, 0) == 0;
    regfree(&r);
    if (!match)
        fprintf(stderr, "\"%s\" does not match /%s/\n", msg, re);
    return match;
}

static int list_seen;
static int count_h(const seg_status *st, void *ctx)
{
    (void)ctx;
    if (strstr(st->path, "/shmimg-h") && st->problem != 0)
        list_seen++;
    return 0;
}

static void remove_case(const char *p)
{
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
        rmdir(p);
    else
        unlink(p);
    char target[SEG_PATH_MAX + 16];
    snprintf(target, sizeof target, "%s.target", p);
    unlink(target);
}

static void check_case(const hostile_case *c)
{
    make_case(c, path);
    fingerprint before = fingerprint_of(path);
    char target[SEG_PATH_MAX + 16];
    snprintf(target, sizeof target, "%s.target", path);
    fingerprint target_before = {0};
    bool has_target = access(target, F_OK) == 0;
    if (has_target)
        target_before = fingerprint_of(target);

    /* The reader: attach, then pull. */
    seg *s = NULL;
    err.msg[0] = '\0';
    int rc = seg_attach("h", 0, &s, &err);
    if (rc == 0) {
        uint8_t buf[64];
        seg_image img;
        seg_set_lock_timeout(s, 2000);
        rc = seg_pull(s, buf, sizeof buf, &img, &err);
        seg_detach(s);
    }
    if (rc != c->expect) {
        fprintf(stderr, "%s: reader got %d (%s: %s), wanted %d (%s)\n", c->name,
                rc, seg_strerror(rc), err.msg, c->expect,
                seg_strerror(c->expect));
        exit(1);
    }
    CHECK_STR_HAS(err.msg, "/shmimg-h");
    CHECK(says_(err.msg, c->says));
    char said[SEG_ERR_MSG_MAX];
    snprintf(said, sizeof said, "%s", err.msg);

    /* info and list read it without touching it. */
    seg_status *st = malloc(sizeof *st);
    CHECK(st);
    rc = seg_inspect(path, st, &err);
    CHECK(rc < 0 || st->problem != 0);
    free(st);
    list_seen = 0;
    CHECK_RC(seg_list(count_h, NULL, &err), 0, &err);
    CHECK_EQ(list_seen, 1);

    check_untouched(&before, path, c->name);
    if (has_target)
        check_untouched(&target_before, target, c->name);
    printf("%-22s refused: %s\n", c->name, said);
    remove_case(path);
}

/* Publishes a side x side image under key; its file name goes to file.
 * Returns: the attached handle. */
static seg *publish_square(const char *key, uint32_t side, char *file,
                           size_t size)
{
    seg *s;
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_attach(key, SEG_CREATE, &s, &err), 0, &err);
    CHECK_RC(seg_write_begin(s, side, side, "square.png", &px, &pitch, &err), 0,
             &err);
    memset(px, 0x77, (size_t)pitch * side);
    CHECK_RC(seg_write_end(s, true, &err), 0, &err);
    snprintf(file, size, "%s", seg_file(s));
    return s;
}

/* A reader holds the mapping of a large image; another process cuts the
 * file to its header. The next pull must report it, not die of SIGBUS. */
static void check_truncated_under_reader(void)
{
    char cut[SEG_PATH_MAX];
    seg *s = publish_square("cut", 1024, cut, sizeof cut);
    size_t size = 1024 * 1024 * 4;
    uint8_t *buf = malloc(size);
    seg_image img;
    CHECK_RC(seg_pull(s, buf, size, &img, &err), 0, &err);

    pid_t pid = fork();
    if (pid == 0)
        _exit(truncate(cut, SHMIMG_HEADER_SIZE) == 0 ? 0 : 1);
    CHECK_EQ(test_wait(pid), 0);
    CHECK_RC(seg_pull(s, buf, size, &img, &err), SEG_ECORRUPT, &err);
    CHECK_STR_HAS(err.msg, "truncated by another process");
    printf("%-22s refused: %s\n", "truncated-under-reader", err.msg);
    /* The file we attached to, cut by someone else: the last one out
     * removes it, as any segment, so nothing useless is left behind. */
    CHECK_EQ(seg_detach(s), 1);
    CHECK(!test_file_exists(cut));
    free(buf);
}

/* Publishes under key "zero" the 64x64 image the truncation checks cut. */
static seg *publish_small(char *file, size_t size)
{
    return publish_square("zero", 64, file, size);
}

/* In a child: a waiter whose file is cut to 0 bytes while it sleeps gets
 * ECORRUPT within a second (it checks every 250 ms), not SIGBUS. */
static int wait_through_truncation(void *ready)
{
    char file[SEG_PATH_MAX];
    seg *s = publish_small(file, sizeof file);
    CHECK_EQ(write(*(int *)ready, "r", 1), 1);
    double t0 = test_now();
    CHECK_RC(seg_wait(s, seg_generation(s), 10000, NULL, NULL, &err),
             SEG_ECORRUPT, &err);
    CHECK_STR_HAS(err.msg, "truncated by another process");
    double told = test_now() - t0;
    CHECK_CMP_DBL(told, <, 2.0);
    printf("%-22s survived: a waiter, told %.3f s after it began waiting "
           "(the cut came 0.1 s in)\n",
           "truncated-to-zero", told);
    CHECK_EQ(seg_detach(s), 1);
    return 0;
}

/* Every access to the mapping after a cut to 0 bytes, header fields
 * included: a reader, a publisher before and during its write, a waiter,
 * and detach. Each in a child, so that a SIGBUS would show as its death. */
static int touch_after_truncation(void *arg)
{
    int step = (int)(intptr_t)arg;
    char file[SEG_PATH_MAX];
    seg *s = publish_small(file, sizeof file);
    uint8_t *px;
    uint32_t pitch;
    if (step == 2) { /* cut in the middle of a publish */
        CHECK_RC(seg_write_begin(s, 64, 64, "b.png", &px, &pitch, &err), 0,
                 &err);
        CHECK_SYS(truncate(file, 0));
        memset(px, 0x66, (size_t)pitch * 64);
        CHECK_RC(seg_write_end(s, true, &err), SEG_ECORRUPT, &err);
    } else {
        CHECK_SYS(truncate(file, 0));
    }
    uint8_t buf[64 * 64 * 4];
    seg_image img;
    switch (step) {
    case 0:
        CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), SEG_ECORRUPT, &err);
        break;
    case 1:
        CHECK_RC(seg_write_begin(s, 64, 64, "c.png", &px, &pitch, &err),
                 SEG_ECORRUPT, &err);
        break;
    case 3:
        (void)seg_generation(s); /* a bare header load */
        CHECK_RC(seg_check(s, &err), SEG_ECORRUPT, &err);
        break;
    }
    if (step != 2)
        CHECK_STR_HAS(err.msg, "truncated by another process");
    CHECK_EQ(seg_detach(s), 1); /* and the 0-byte file is not left */
    CHECK(!test_file_exists(file));
    return 0;
}

static void check_truncated_to_zero(void)
{
    static const char *what[] = {"pull", "publish", "mid-publish",
                                 "header load"};
    for (int step = 0; step < 4; step++) {
        pid_t pid = test_spawn(touch_after_truncation, (void *)(intptr_t)step);
        CHECK_EQ(test_wait(pid), 0);
        printf("%-22s survived: %s after a cut to 0 bytes\n",
               "truncated-to-zero", what[step]);
    }
    char file[SEG_PATH_MAX];
    snprintf(file, sizeof file, "%s/shmimg-zero", seg_dir());
    pid_t pid = test_spawn_ready(wait_through_truncation);
    test_sleep_ms(100);
    CHECK_SYS(truncate(file, 0));
    CHECK_EQ(test_wait(pid), 0);
}

/* 'shmimg rm' wakes a waiter at once with EGONE, so that it can follow
 * the key to its next file. */
static int wait_through_rm(void *ready)
{
    char file[SEG_PATH_MAX];
    seg *s = publish_small(file, sizeof file);
    CHECK_EQ(write(*(int *)ready, "r", 1), 1);
    CHECK_RC(seg_wait(s, seg_generation(s), 10000, NULL, NULL, &err), SEG_EGONE,
             &err);
    seg_detach(s);
    return 0;
}

static void check_rm_under_waiter(void)
{
    pid_t pid = test_spawn_ready(wait_through_rm);
    test_sleep_ms(100);
    unsigned attached;
    double t0 = test_now();
    CHECK_RC(seg_remove("zero", &attached, &err), 0, &err);
    CHECK_EQ(attached, 1);
    CHECK_EQ(test_wait(pid), 0);
    printf("%-22s the waiter was told and gone %.3f s after rm\n",
           "rm-under-waiter", test_now() - t0);
}

/* Temporary files of creators that died before linking them are removed
 * by the next creator of the key and by list; a living creator's stays. */
static int hold_temp(void *name)
{
    int fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK_SYS(fd);
    CHECK_SYS(flock(fd, LOCK_SH));
    pause();
    return 0;
}

static int count_seen(const seg_status *st, void *ctx)
{
    (void)st;
    (*(int *)ctx)++;
    return 0;
}

static void check_dead_temp_files(void)
{
    char dead[SEG_PATH_MAX], dead2[SEG_PATH_MAX], alive[SEG_PATH_MAX],
        other[SEG_PATH_MAX];
    snprintf(dead, sizeof dead, "%s/.shmimg-tmp.4242.0badf00d", seg_dir());
    snprintf(dead2, sizeof dead2, "%s/.shmimg-tmp2.4243.0badf00d", seg_dir());
    snprintf(alive, sizeof alive, "%s/.shmimg-tmp.4244.00c0ffee", seg_dir());
    snprintf(other, sizeof other, "%s/.shmimg-tmp.notapid.0badf00d", seg_dir());
    write_file(dead, "x", 1, 0600);
    write_file(dead2, "x", 1, 0600);
    write_file(other, "x", 1, 0600);
    pid_t keeper = test_spawn(hold_temp, alive);
    for (int i = 0; i < 200 && !test_file_exists(alive); i++)
        test_sleep_ms(10);
    test_sleep_ms(100); /* its flock follows its open */
    seg *s;
    CHECK_RC(seg_attach("tmp", SEG_CREATE, &s, &err), 0, &err);
    CHECK(!test_file_exists(dead)); /* the key's dead creator: cleaned */
    CHECK(test_file_exists(dead2)); /* another key's: not by this one */
    CHECK(test_file_exists(alive)); /* a living creator's: kept */
    CHECK(test_file_exists(other)); /* not a temporary's name: kept */
    int n = 0;
    CHECK_RC(seg_list(count_seen, &n, &err), 0, &err);
    CHECK(!test_file_exists(dead2)); /* list cleans every key's */
    CHECK(test_file_exists(alive));
    kill(keeper, SIGKILL);
    test_wait(keeper);
    CHECK_RC(seg_list(count_seen, &n, &err), 0, &err);
    CHECK(!test_file_exists(alive)); /* its creator died: now it goes */
    seg_detach(s);
    unlink(other);
    printf("%-22s dead creators' temporary files removed, a live one kept\n",
           "temp-leftovers");
}

/* A lock word left by a process that never existed: taken over, and the
 * (valid) image read. */
static void check_garbage_lock_word(void)
{
    shmimg_header h;
    valid_header(&h, 2, 2);
    atomic_store(&h.lock_word, 0x7abcdef1u);
    write_whole(path, &h, 0600);
    seg *s;
    CHECK_RC(seg_attach("h", 0, &s, &err), 0, &err);
    uint8_t buf[16];
    seg_image img;
    double t0 = test_now();
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(img.frame, 1);
    printf("%-22s taken over after %.3f s, image read\n", "garbage-lock-word",
           test_now() - t0);
    seg_detach(s);
    unlink(path);
}

/* Files that are consistent enough to read, but hold no frame: `latest`
 * names an empty buffer while another holds frame 1; or the newest
 * buffer is odd (being written) and nobody holds the lock (its writer
 * died). The reader says so; inspect reports the state; the file
 * (persistent, so that our detach keeps it) is left as it was. */
static void check_no_frame(const char *name, int expect, const char *says,
                           int state, void (*edit)(shmimg_header *h))
{
    shmimg_header h;
    valid_header(&h, 2, 2);
    atomic_store(&h.flags, SHMIMG_FLAG_PERSIST);
    edit(&h);
    write_whole(path, &h, 0600);
    fingerprint before = fingerprint_of(path);
    seg *s;
    CHECK_RC(seg_attach("h", SEG_READER, &s, &err), 0, &err);
    uint8_t buf[16];
    seg_image img;
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), expect, &err);
    CHECK(says_(err.msg, says));
    char said[SEG_ERR_MSG_MAX];
    snprintf(said, sizeof said, "%s", err.msg);
    CHECK_EQ(seg_detach(s), 0);
    seg_status *st = malloc(sizeof *st);
    CHECK(st);
    CHECK_RC(seg_inspect(path, st, &err), 0, &err);
    CHECK_EQ(st->problem, 0);
    CHECK_EQ(st->state, state);
    free(st);
    check_untouched(&before, path, name);
    printf("%-22s read as: %s\n", name, said);
    unlink(path);
}

static void latest_at_empty(shmimg_header *h)
{
    h->buffer_count = 2;
    h->capacity = 2 * h->buffer_stride;
    atomic_store(&h->latest, 1u << 2 | 1); /* frame 1 in buffer 1: empty */
}

static void dead_writer(shmimg_header *h)
{
    atomic_store(&h->buf[0].seq, 3); /* odd, and the lock is free */
}

/* Another uid's file (mode 0600; we are root, so the kernel lets us read
 * it): an owner's attach and a publish refuse it, rm refuses it; a reader
 * reads it read-only. Nothing of it changes. */
static void check_other_user(void)
{
    if (geteuid() != 0) {
        printf("%-22s skipped: needs root to make uid 65534's file\n",
               "other-user");
        return;
    }
    make_other_user(path);
    fingerprint before = fingerprint_of(path);
    seg *s;
    CHECK_RC(seg_attach("h", 0, &s, &err), SEG_EPERM, &err);
    CHECK(says_(err.msg, "/shmimg-h belongs to uid 65534, not to you"));
    CHECK_RC(seg_attach("h", SEG_CREATE, &s, &err), SEG_EPERM, &err);
    CHECK_RC(seg_remove("h", NULL, &err), SEG_EPERM, &err);
    CHECK(says_(err.msg, "belongs to uid 65534"));
    CHECK_RC(seg_attach("h", SEG_READER, &s, &err), 0, &err);
    CHECK(seg_read_only(s));
    uint8_t buf[16], want[16];
    memset(want, 0x5a, sizeof want);
    seg_image img;
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(memcmp(buf, want, sizeof buf), 0);
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_write_begin(s, 2, 2, "x.png", &px, &pitch, &err), SEG_EPERM,
             &err);
    CHECK(says_(err.msg, "belongs to uid 65534 and is shared read-only with "
                         "you; only its owner can publish into it"));
    CHECK_RC(seg_set_share(s, SEG_SHARE_ALL, &err), SEG_EPERM, &err);
    CHECK_EQ(seg_detach(s), 0);
    check_untouched(&before, path, "other-user");
    printf("%-22s refused to owners, publishers and rm; read read-only; "
           "untouched\n",
           "other-user");
    unlink(path);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "cases") == 0) {
        for (int i = 0; i < ncases; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "expect") == 0) {
        printf("%s\n", find(argv[2])->says);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "make") == 0) {
        CHECK_RC(seg_path("h", path, sizeof path, &err), 0, &err);
        make_case(find(argv[2]), path);
        return 0;
    }
    CHECK(argc == 2 && strcmp(argv[1], "check") == 0);
    const char *dir = test_dir_create();
    CHECK_RC(seg_path("h", path, sizeof path, &err), 0, &err);
    for (int i = 0; i < ncases; i++)
        check_case(&cases[i]);
    check_truncated_under_reader();
    check_truncated_to_zero();
    check_rm_under_waiter();
    check_dead_temp_files();
    check_garbage_lock_word();
    check_no_frame("latest-at-empty", SEG_EEMPTY, "nothing has been published",
                   SEG_EEMPTY, latest_at_empty);
    check_no_frame("dead-writer", SEG_EINCOMPLETE,
                   "the publisher stopped while writing", SEG_EINCOMPLETE,
                   dead_writer);
    check_other_user();
    test_dir_remove(dir);
    printf("%d hostile segments refused untouched, 2 without a frame read "
           "as such, another user's file refused to owners, 6 truncations "
           "survived, 1 garbage lock taken over\n",
           ncases);
    return 0;
}
