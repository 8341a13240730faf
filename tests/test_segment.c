/* test_segment.c - the segment protocol between real processes: keys,
 * errors, lifetime (also after SIGKILL), timed waits and wake-ups, the
 * buffer ring (frame numbers, a read overwritten after buffer_count - 1
 * publishes), a publisher killed mid-write (with 3 buffers, with 1, and
 * right after a re-layout), growth under a looping reader, and several
 * publishers and readers at once where every read is one whole image. */
#include "check.h"
#include "pattern.h"
#include "inspect.h"
#include "segment.h"

#include <stdbool.h>
#include <sys/stat.h>

static seg_err err;

static void publish(seg *s, uint32_t w, uint32_t h, uint32_t id)
{
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_write_begin(s, w, h, "pattern", &px, &pitch, &err), 0, &err);
    pattern_fill(px, pitch, w, h, id);
    seg_write_end(s, true, NULL);
}

/* ---- names and errors --------------------------------------------------- */

static void test_keys(void)
{
    CHECK_RC(seg_key_check("shmimg", &err), 0, &err);
    CHECK_RC(seg_key_check("A.b_c-9", &err), 0, &err);
    CHECK_RC(seg_key_check("", &err), SEG_EKEY, &err);
    CHECK_RC(seg_key_check(".hidden", &err), SEG_EKEY, &err);
    CHECK_STR_HAS(err.msg, "starts with '.'");
    CHECK_RC(seg_key_check("a/b", &err), SEG_EKEY, &err);
    CHECK_STR_HAS(err.msg, "0x2f");
    CHECK_RC(seg_key_check("sp ace", &err), SEG_EKEY, &err);
    char long_key[66];
    memset(long_key, 'k', 65);
    long_key[65] = '\0';
    CHECK_RC(seg_key_check(long_key, &err), SEG_EKEY, &err);
    long_key[64] = '\0';
    CHECK_RC(seg_key_check(long_key, &err), 0, &err);
    char path[4096];
    CHECK_RC(seg_path("k1", path, sizeof path, &err), 0, &err);
    CHECK_STR_HAS(path, "/shmimg-k1");
}

static void test_missing_and_empty(void)
{
    seg *s;
    CHECK_RC(seg_attach("none", 0, &s, &err), SEG_ENOSEG, &err);
    CHECK_STR_HAS(err.msg, "Unable to attach to shared memory segment. "
                           "Load an image first.");
    CHECK_STR_HAS(err.msg, "'none'");
    CHECK_RC(seg_attach("empty", SEG_CREATE, &s, &err), 0, &err);
    seg_view v;
    CHECK_RC(seg_read_begin(s, &v, &err), SEG_EEMPTY, &err);
    CHECK_STR_HAS(err.msg, "nothing has been published");
    struct stat st;
    CHECK_SYS(stat(seg_file(s), &st));
    CHECK_EQ(st.st_mode & 0777, 0600);
    publish(s, 3, 2, 7);
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(v.image.width, 3);
    CHECK_EQ(v.image.height, 2);
    CHECK_EQ(v.image.pitch, 12);
    CHECK_EQ(v.image.frame, 1);
    CHECK_EQ(v.image.buffer, 0);
    CHECK_EQ(pattern_verify(v.pixels, v.image.pitch, 3, 2), 7);
    CHECK_STR_EQ(v.image.source_name, "pattern");
    CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
    unsigned wanted;
    CHECK_EQ(seg_buffers(s, &wanted), SEG_DEFAULT_BUFFERS);
    CHECK_EQ(wanted, SEG_DEFAULT_BUFFERS);
    CHECK_EQ(seg_detach(s), 1); /* the only user: the file goes */
}

/* ---- lifetime ----------------------------------------------------------- */

static void test_last_detach_removes(void)
{
    seg *a, *b;
    CHECK_RC(seg_attach("life", SEG_CREATE, &a, &err), 0, &err);
    publish(a, 4, 4, 1);
    CHECK_RC(seg_attach("life", 0, &b, &err), 0, &err);
    char path[4096];
    snprintf(path, sizeof path, "%s", seg_file(a));
    CHECK_EQ(seg_detach(a), 0);
    CHECK(test_file_exists(path));
    CHECK_EQ(seg_detach(b), 1);
    CHECK(!test_file_exists(path));

    CHECK_RC(seg_attach("life", SEG_CREATE, &a, &err), 0, &err);
    publish(a, 4, 4, 2);
    seg_set_persist(a, true);
    CHECK_EQ(seg_detach(a), 0);
    CHECK(test_file_exists(path)); /* persistent: stays... */
    CHECK_RC(seg_attach("life", 0, &a, &err), 0, &err);
    CHECK_EQ(seg_detach(a), 0);
    CHECK(test_file_exists(path));
    CHECK_RC(seg_remove("life", NULL, &err), 0, &err); /* ...until removed */
    CHECK(!test_file_exists(path));
    CHECK_RC(seg_remove("life", NULL, &err), SEG_ENOSEG, &err);
}

static int attach_publish_and_hang(void *arg)
{
    int fd = *(int *)arg;
    seg *s;
    CHECK_RC(seg_attach("crash", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 8, 8, 3);
    CHECK_EQ(write(fd, "P", 1), 1);
    for (;;)
        pause();
}

/* Layout 2 keeps the owners' count in attach slots (OFD locks, dropped
 * by the kernel with the process). A file whose only owner was SIGKILLed
 * is stale: listed with 0 attached. The next publisher takes it (layout 1
 * removed and recreated it; see the report: segment.h still says so), and
 * whatever it reads there is a whole frame or nothing; its publish works,
 * and as the last owner out it removes the file. */
static void test_sigkill_leaves_stale_then_reclaimed(void)
{
    pid_t pid = test_spawn_ready(attach_publish_and_hang);
    char path[4096];
    CHECK_RC(seg_path("crash", path, sizeof path, &err), 0, &err);
    seg_status st;
    CHECK_RC(seg_inspect(path, &st, &err), 0, &err);
    CHECK_EQ(st.attached, 1);
    kill(pid, SIGKILL);
    test_wait(pid);
    CHECK_RC(seg_inspect(path, &st, &err), 0, &err);
    CHECK_EQ(st.attached, 0); /* stale: the file is there, nobody holds it */
    struct stat before;
    CHECK_SYS(stat(path, &before));

    seg *s;
    CHECK_RC(seg_attach("crash", SEG_CREATE, &s, &err), 0, &err);
    struct stat after;
    CHECK_SYS(stat(path, &after));
    uint8_t buf[8 * 8 * 4];
    seg_image img;
    int rc = seg_pull(s, buf, sizeof buf, &img, &err);
    CHECK(rc == SEG_EEMPTY || rc == 0);
    if (rc == 0)
        CHECK_EQ(pattern_verify(buf, img.pitch, img.width, img.height), 3);
    printf("SIGKILLed publisher: stale file %s (%s)\n",
           after.st_ino != before.st_ino ? "recreated" : "taken over as is",
           rc == 0 ? "its last frame still readable, whole" : "empty");
    publish(s, 2, 2, 4);
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(pattern_verify(buf, img.pitch, 2, 2), 4);
    CHECK_RC(seg_inspect(path, &st, &err), 0, &err);
    CHECK_EQ(st.attached, 1);
    CHECK_EQ(seg_detach(s), 1);
    CHECK(!test_file_exists(path));
}

static int attach_and_hang(void *arg)
{
    int fd = *(int *)arg;
    seg *s;
    CHECK_RC(seg_attach("crash2", 0, &s, &err), 0, &err);
    CHECK_EQ(write(fd, "A", 1), 1);
    for (;;)
        pause();
}

static void test_sigkilled_reader_does_not_keep_it(void)
{
    seg *s;
    CHECK_RC(seg_attach("crash2", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 2, 2, 5);
    pid_t reader = test_spawn_ready(attach_and_hang);
    kill(reader, SIGKILL);
    test_wait(reader);
    CHECK_EQ(seg_detach(s), 1);
}

/* Issue 16, row 2: a publisher SIGKILLed (no --persist), then readers
 * that attach, read and detach: the file stays for the next publisher,
 * which finds the killed one's frame. */
static void test_reader_never_removes(void)
{
    pid_t pid = test_spawn_ready(attach_publish_and_hang);
    kill(pid, SIGKILL);
    test_wait(pid);
    char path[4096];
    CHECK_RC(seg_path("crash", path, sizeof path, &err), 0, &err);
    for (int i = 0; i < 3; i++) {
        seg *r;
        CHECK_RC(seg_attach("crash", SEG_READER, &r, &err), 0, &err);
        uint8_t buf[8 * 8 * 4];
        seg_image img;
        CHECK_RC(seg_pull(r, buf, sizeof buf, &img, &err), 0, &err);
        CHECK_EQ(pattern_verify(buf, img.pitch, img.width, img.height), 3);
        CHECK_EQ(seg_let_go(r), 0);
        CHECK_EQ(seg_detach(r), 0);
        CHECK(test_file_exists(path));
    }
    /* Nor when the publisher detaches normally while a reader is there:
     * the publisher's last detach removes it; the reader's mapping stays. */
    seg *s, *r;
    CHECK_RC(seg_attach("crash", SEG_CREATE, &s, &err), 0, &err);
    CHECK_RC(seg_attach("crash", SEG_READER, &r, &err), 0, &err);
    CHECK_EQ(seg_detach(s), 1);
    uint8_t buf[8 * 8 * 4];
    seg_image img;
    CHECK_RC(seg_pull(r, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(seg_detach(r), 0);
    /* A reader never creates one either. */
    CHECK_RC(seg_attach("crash", SEG_READER | SEG_CREATE, &r, &err), SEG_EINVAL,
             &err);
    CHECK(!test_file_exists(path));
    printf("readers of a SIGKILLed publisher's segment: 3 attached, read "
           "and detached; the file stayed\n");
}

/* A reader handle that publishes becomes an owner: it keeps the file, and
 * as the last owner out removes it (the window pulls, then publishes). */
static void test_reader_that_publishes_owns(void)
{
    seg *s, *r;
    CHECK_RC(seg_attach("promote", SEG_CREATE, &s, &err), 0, &err);
    CHECK_RC(seg_attach("promote", SEG_READER, &r, &err), 0, &err);
    publish(r, 2, 2, 9);
    CHECK_EQ(seg_detach(s), 0); /* r owns it now */
    char path[4096];
    snprintf(path, sizeof path, "%s", seg_file(r));
    CHECK(test_file_exists(path));
    CHECK_EQ(seg_detach(r), 1);
    CHECK(!test_file_exists(path));
}

/* Row 12: readers, however many, hold no attach slot: 600 readers
 * attached (more than the 512 slots; 200 a process, within a process's
 * mapping guard) and a publisher still gets in. */
static int hold_readers(void *arg)
{
    int fd = *(int *)arg;
    static seg *r[200];
    for (int i = 0; i < 200; i++)
        CHECK_RC(seg_attach("many", SEG_READER, &r[i], &err), 0, &err);
    CHECK_EQ(write(fd, "R", 1), 1);
    for (;;)
        pause();
}

static void test_readers_cannot_lock_out(void)
{
    seg *s;
    CHECK_RC(seg_attach("many", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 2, 2, 1);
    pid_t holders[3];
    for (int i = 0; i < 3; i++)
        holders[i] = test_spawn_ready(hold_readers);
    seg *p;
    CHECK_RC(seg_attach("many", 0, &p, &err), 0, &err);
    publish(p, 2, 2, 2);
    seg_status st;
    CHECK_RC(seg_inspect(seg_file(s), &st, &err), 0, &err);
    CHECK_EQ(st.attached, 2);
    for (int i = 0; i < 3; i++) {
        kill(holders[i], SIGKILL);
        test_wait(holders[i]);
    }
    CHECK_EQ(seg_detach(p), 0);
    CHECK_EQ(seg_detach(s), 1);
    printf("600 readers attached: no slot taken, a second publisher got "
           "in\n");
}

/* Row 3: a child that inherited a handle through fork() touches nothing
 * of the parent's: its publish is refused, its detach only unmaps. */
static int child_of_fork(void *arg)
{
    seg *s = arg;
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_write_begin(s, 2, 2, "child", &px, &pitch, &err), SEG_EINVAL,
             &err);
    CHECK_STR_HAS(err.msg, "a child process attaches its own");
    CHECK_RC(seg_lock(s, &err), SEG_EINVAL, &err);
    uint8_t buf[2 * 2 * 4];
    seg_image img;
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), 0, &err); /* reads */
    CHECK_EQ(seg_let_go(s), 0);
    CHECK_EQ(seg_detach(s), 0);
    return 0;
}

static void test_fork_leaves_parent_alone(void)
{
    seg *s;
    CHECK_RC(seg_attach("fork", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 2, 2, 1);
    char path[4096];
    snprintf(path, sizeof path, "%s", seg_file(s));
    struct stat before, after;
    CHECK_SYS(stat(path, &before));
    CHECK_EQ(test_wait(test_spawn(child_of_fork, s)), 0);
    CHECK_SYS(stat(path, &after));
    CHECK_EQ(after.st_ino, before.st_ino);
    seg_status st;
    CHECK_RC(seg_inspect(path, &st, &err), 0, &err);
    CHECK_EQ(st.attached, 1); /* the parent's slot is still held */
    publish(s, 2, 2, 2);      /* into the live file */
    seg *r;
    CHECK_RC(seg_attach("fork", SEG_READER, &r, &err), 0, &err);
    uint8_t buf[2 * 2 * 4];
    seg_image img;
    CHECK_RC(seg_pull(r, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(pattern_verify(buf, img.pitch, 2, 2), 2);
    seg_detach(r);
    CHECK_EQ(seg_detach(s), 1);
}

/* A reader that comes first waits for the key's file (it makes none). */
static int publish_later(void *arg)
{
    (void)arg;
    test_sleep_ms(200);
    seg *s;
    CHECK_RC(seg_attach("later", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 2, 2, 6);
    seg_set_persist(s, true);
    seg_detach(s);
    return 0;
}

static void test_attach_wait(void)
{
    seg *r;
    CHECK_RC(seg_attach_wait("later", 100, NULL, &r, &err), SEG_ETIMEDOUT,
             &err);
    CHECK_STR_HAS(err.msg, "no segment for key 'later'");
    atomic_bool cancel = true;
    CHECK_RC(seg_attach_wait("later", -1, &cancel, &r, &err), SEG_ECANCELED,
             &err);
    pid_t pid = test_spawn(publish_later, NULL);
    CHECK_RC(seg_attach_wait("later", 60000, NULL, &r, &err), 0, &err);
    CHECK_EQ(test_wait(pid), 0);
    CHECK_RC(seg_wait(r, 0, 60000, NULL, NULL, &err), 0, &err);
    uint8_t buf[2 * 2 * 4];
    seg_image img;
    CHECK_RC(seg_pull(r, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(pattern_verify(buf, img.pitch, 2, 2), 6);
    seg_detach(r);
    CHECK_RC(seg_remove("later", NULL, &err), 0, &err);
}

/* Every handle is an attach of its own; the count must see all of them,
 * also when later attaches fill lower slots than earlier ones. */
static void test_attached_count(void)
{
    enum { n = 10 };
    seg *h[n];
    for (int i = 0; i < n; i++)
        CHECK_RC(seg_attach("count", SEG_CREATE, &h[i], &err), 0, &err);
    for (int i = 0; i < n / 2; i++)
        seg_detach(h[i]);
    for (int i = 0; i < n / 2; i++)
        CHECK_RC(seg_attach("count", 0, &h[i], &err), 0, &err);
    seg_status st;
    CHECK_RC(seg_inspect(seg_file(h[0]), &st, &err), 0, &err);
    CHECK_EQ(st.attached, n);
    for (int i = 0; i < n; i++)
        seg_detach(h[i]);
}

/* ---- waiting ------------------------------------------------------------ */

static void test_timed_wait(void)
{
    seg *s;
    CHECK_RC(seg_attach("wait", SEG_CREATE, &s, &err), 0, &err);
    double t0 = test_now();
    CHECK_RC(seg_wait(s, seg_generation(s), 200, NULL, NULL, &err),
             SEG_ETIMEDOUT, &err);
    double waited = test_now() - t0;
    printf("timed wait of 200 ms returned after %.3f s\n", waited);
    CHECK_CMP_DBL(waited, >=, 0.2);
    CHECK_CMP_DBL(waited, <, 5.0);
    seg_detach(s);
}

static int wait_for_next(void *arg)
{
    int ready_fd = *(int *)arg;
    seg *s;
    CHECK_RC(seg_attach("wait", 0, &s, &err), 0, &err);
    uint32_t seen = seg_generation(s), now;
    CHECK_EQ(write(ready_fd, "W", 1), 1);
    CHECK_RC(seg_wait(s, seen, 10000, NULL, &now, &err), 0, &err);
    CHECK_NE(now, seen);
    seg_view v;
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(now, (uint32_t)(v.image.frame << 2) | v.image.buffer);
    long id =
        pattern_verify(v.pixels, v.image.pitch, v.image.width, v.image.height);
    CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
    seg_detach(s);
    return id == 11 ? 0 : 1;
}

static void test_wait_is_woken(void)
{
    seg *s;
    CHECK_RC(seg_attach("wait", SEG_CREATE, &s, &err), 0, &err);
    int p[2];
    CHECK_SYS(pipe(p));
    pid_t waiters[3];
    for (int i = 0; i < 3; i++)
        waiters[i] = test_spawn(wait_for_next, &p[1]);
    for (int i = 0; i < 3; i++) { /* each has read the generation */
        char c;
        CHECK_EQ(read(p[0], &c, 1), 1);
    }
    close(p[0]);
    close(p[1]);
    test_sleep_ms(50); /* most likely asleep in the kernel by now */
    publish(s, 16, 16, 11);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(test_wait(waiters[i]), 0);
    seg_detach(s);
}

static void test_wake_without_waiters(void)
{
    seg *s;
    CHECK_RC(seg_attach("nowait", SEG_CREATE, &s, &err), 0, &err);
    CHECK_EQ(seg_generation(s), 0);
    for (uint32_t i = 0; i < 1000; i++)
        publish(s, 2, 2, i);
    /* latest = frame << 2 | buffer; frames count every publish, and the
     * ring of 3 buffers turns once every 3 frames. */
    CHECK_EQ(seg_generation(s) >> 2, 1000);
    CHECK_EQ(SHMIMG_LATEST_INDEX(seg_generation(s)), 999 % 3);
    seg_view v;
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(v.image.frame, 1000);
    CHECK_EQ(v.image.buffer, 999 % 3);
    CHECK_EQ(pattern_verify(v.pixels, v.image.pitch, 2, 2), 999);
    CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
    seg_detach(s);
}

/* ---- a publisher killed while writing ----------------------------------- */

/* ---- the buffer ring ---------------------------------------------------- */

/* A view stays whole for buffer_count - 1 further publishes; the next one
 * overwrites it and seg_read_end says so. */
static void test_read_overwritten(void)
{
    for (unsigned n = 1; n <= SHMIMG_MAX_BUFFERS; n++) {
        seg *s;
        CHECK_RC(seg_attach("ring", SEG_CREATE, &s, &err), 0, &err);
        seg_set_buffers(s, n);
        publish(s, 16, 16, 100);
        CHECK_EQ(seg_buffers(s, NULL), n);
        seg_view v;
        CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
        CHECK_EQ(v.image.frame, 1);
        for (unsigned k = 1; k < n; k++) {
            publish(s, 16, 16, 100 + k);
            CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
        }
        CHECK_EQ(pattern_verify(v.pixels, v.image.pitch, 16, 16), 100);
        publish(s, 16, 16, 200);
        CHECK_RC(seg_read_end(s, &v, &err), SEG_ELAPPED, &err);
        CHECK_STR_HAS(err.msg, "overwritten while being read");
        CHECK_RC(seg_read_begin(s, &v, &err), 0, &err); /* the retry */
        CHECK_EQ(v.image.frame, n + 1);
        CHECK_EQ(pattern_verify(v.pixels, v.image.pitch, 16, 16), 200);
        CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
        CHECK_EQ(seg_detach(s), 1);
    }
    /* seg_set_buffers clamps to 1..4. */
    seg *s;
    CHECK_RC(seg_attach("ring", SEG_CREATE, &s, &err), 0, &err);
    unsigned wanted;
    seg_set_buffers(s, 0);
    CHECK_EQ(seg_buffers(s, &wanted), 0); /* nothing published yet */
    CHECK_EQ(wanted, 1);
    seg_set_buffers(s, 9);
    seg_buffers(s, &wanted);
    CHECK_EQ(wanted, SHMIMG_MAX_BUFFERS);
    CHECK_EQ(seg_detach(s), 1);
    printf("ring of 1..4 buffers: a read stays whole for count - 1 "
           "publishes, then ELAPPED, and the retry gets the newest\n");
}

/* A larger frame re-lays the buffers out: the old frames are dropped,
 * the newest is the large one, and the ring goes on from there. */
static void test_relayout(void)
{
    seg *s;
    CHECK_RC(seg_attach("relayout", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 8, 8, 1);
    publish(s, 8, 8, 2);
    publish(s, 100, 100, 3); /* larger than the 4096-byte stride */
    char path[4096];
    snprintf(path, sizeof path, "%s", seg_file(s));
    seg_status st;
    CHECK_RC(seg_inspect(path, &st, &err), 0, &err);
    CHECK_EQ(st.buffer_count, SEG_DEFAULT_BUFFERS);
    CHECK_EQ(st.buffer_stride, 40960);
    CHECK_EQ(st.state, 0);
    CHECK_EQ(st.image.frame, 3);
    unsigned complete = 0;
    for (unsigned i = 0; i < st.buffer_count; i++)
        complete += st.buf[i].seq % 2 == 0 && st.buf[i].image.frame != 0;
    CHECK_EQ(complete, 1); /* the older frames went with the old layout */
    publish(s, 8, 8, 4);   /* smaller frames reuse the large buffers */
    uint8_t buf[100 * 100 * 4];
    seg_image img;
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(img.frame, 4);
    CHECK_EQ(pattern_verify(buf, img.pitch, 8, 8), 4);
    CHECK_RC(seg_inspect(path, &st, &err), 0, &err);
    CHECK_EQ(st.buffer_stride, 40960);
    CHECK_EQ(seg_detach(s), 1);
}

/* ---- a publisher killed while writing ----------------------------------- */

static int die_mid_publish(void *arg)
{
    uint32_t side = (uint32_t)(uintptr_t)arg;
    seg *s;
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_attach("torn", 0, &s, &err), 0, &err);
    CHECK_RC(seg_write_begin(s, side, side, "half.png", &px, &pitch, &err), 0,
             &err);
    memset(px, 0xAB, (size_t)pitch * side / 2); /* half the rows, then die */
    raise(SIGKILL);
    return 1;
}

static void kill_mid_publish(uint32_t side)
{
    pid_t pid = test_spawn(die_mid_publish, (void *)(uintptr_t)side);
    CHECK_EQ(test_wait(pid), 128 + SIGKILL);
}

/* Layout 1 had one buffer: a publisher killed mid-write always left
 * "incomplete". With 3, readers keep the previous frame; "incomplete"
 * remains where no previous frame is left: one buffer, or a kill right
 * after a re-layout. */
static void test_killed_mid_publish(void)
{
    seg *s;
    seg_view v;
    CHECK_RC(seg_attach("torn", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 64, 64, 21);
    kill_mid_publish(64);
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(v.image.frame, 1);
    CHECK_EQ(pattern_verify(v.pixels, v.image.pitch, 64, 64), 21);
    CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
    publish(s, 64, 64, 22); /* takes the dead writer's lock over */
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(pattern_verify(v.pixels, v.image.pitch, 64, 64), 22);
    CHECK_EQ(v.image.frame, 2); /* a publish that never completed is no frame */
    CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
    printf("3 buffers, publisher killed mid-write: the previous frame "
           "stays readable\n");

    /* A re-layout drops the old frames: a kill then leaves nothing. */
    kill_mid_publish(128);
    double t0 = test_now();
    CHECK_RC(seg_read_begin(s, &v, &err), SEG_EINCOMPLETE, &err);
    CHECK_STR_HAS(err.msg, "the publisher stopped while writing; publish "
                           "again");
    printf("killed right after a re-layout: the reader saw the incomplete "
           "frame after %.3f s\n",
           test_now() - t0);
    CHECK_RC(seg_read_begin(s, &v, &err), SEG_EINCOMPLETE, &err);
    publish(s, 32, 32, 23); /* the next publish repairs it */
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_EQ(pattern_verify(v.pixels, v.image.pitch, 32, 32), 23);
    CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
    CHECK_EQ(seg_detach(s), 1);

    /* One buffer: the writer has no other to write. */
    CHECK_RC(seg_attach("torn", SEG_CREATE, &s, &err), 0, &err);
    seg_set_buffers(s, 1);
    publish(s, 64, 64, 24);
    CHECK_EQ(seg_buffers(s, NULL), 1);
    kill_mid_publish(64);
    CHECK_RC(seg_read_begin(s, &v, &err), SEG_EINCOMPLETE, &err);
    uint8_t buf[64 * 64 * 4];
    seg_image img;
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), SEG_EINCOMPLETE, &err);
    publish(s, 64, 64, 25);
    CHECK_RC(seg_pull(s, buf, sizeof buf, &img, &err), 0, &err);
    CHECK_EQ(pattern_verify(buf, img.pitch, 64, 64), 25);
    CHECK_EQ(seg_detach(s), 1);
    printf("1 buffer, publisher killed mid-write: incomplete until the "
           "next publish\n");
}

/* ---- growth and concurrency --------------------------------------------- */

typedef struct reader_args {
    const char *key;
    double seconds;
    uint32_t max_id; /* ids above this one were never published */
} reader_args;

static int reader_loop(void *arg)
{
    reader_args *a = arg;
    seg *s;
    CHECK_RC(seg_attach(a->key, 0, &s, &err), 0, &err);
    size_t cap = 4096;
    uint8_t *buf = malloc(cap);
    long reads = 0, empty = 0;
    double end = test_now() + a->seconds;
    while (test_now() < end) {
        seg_image img;
        int rc = seg_pull(s, buf, cap, &img, &err);
        if (rc == SEG_EINVAL) { /* grew: a bigger buffer, then again */
            cap = (size_t)img.payload_size;
            buf = realloc(buf, cap);
            CHECK(buf);
            continue;
        }
        if (rc == SEG_EEMPTY) {
            empty++;
            continue;
        }
        CHECK_RC(rc, 0, &err);
        long id = pattern_verify(buf, img.pitch, img.width, img.height);
        if (id < 0 || (uint32_t)id > a->max_id) {
            fprintf(stderr, "torn or foreign image %ux%u id %ld\n", img.width,
                    img.height, id);
            return 1;
        }
        reads++;
    }
    printf("reader %d: %ld whole images read, %ld empty\n", (int)getpid(),
           reads, empty);
    free(buf);
    seg_detach(s);
    return reads > 0 ? 0 : 1;
}

static void test_grow_while_reading(void)
{
    seg *s;
    CHECK_RC(seg_attach("grow", SEG_CREATE, &s, &err), 0, &err);
    publish(s, 4, 4, 0);
    reader_args a = {"grow", 1.5, 1000};
    pid_t reader = test_spawn(reader_loop, &a);
    uint32_t id = 1;
    for (uint32_t side = 8; side <= 2048; side *= 2)
        for (int k = 0; k < 4; k++, id++) {
            publish(s, side, side / 2 + 1, id);
            test_sleep_ms(20);
        }
    CHECK_EQ(test_wait(reader), 0);
    seg_detach(s);
}

static int publisher_loop(void *arg)
{
    uint32_t base = *(uint32_t *)arg;
    seg *s;
    CHECK_RC(seg_attach("busy", 0, &s, &err), 0, &err);
    double end = test_now() + 1.5;
    long n = 0;
    while (test_now() < end) {
        uint32_t id = base + (uint32_t)(n % 50);
        publish(s, 64 + id % 7 * 32, 48 + id % 5 * 16, id);
        n++;
    }
    printf("publisher %d: %ld images\n", (int)getpid(), n);
    seg_detach(s);
    return 0;
}

static void test_publishers_and_readers(void)
{
    seg *s;
    CHECK_RC(seg_attach("busy", SEG_CREATE, &s, &err), 0, &err);
    reader_args a = {"busy", 1.5, 2000};
    uint32_t bases[2] = {1000, 1500};
    pid_t pids[5];
    for (int i = 0; i < 2; i++)
        pids[i] = test_spawn(publisher_loop, &bases[i]);
    for (int i = 2; i < 5; i++)
        pids[i] = test_spawn(reader_loop, &a);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(test_wait(pids[i]), 0);
    seg_detach(s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dir = test_dir_create();
    test_keys();
    test_missing_and_empty();
    test_last_detach_removes();
    test_sigkill_leaves_stale_then_reclaimed();
    test_sigkilled_reader_does_not_keep_it();
    test_attached_count();
    test_reader_never_removes();
    test_reader_that_publishes_owns();
    test_readers_cannot_lock_out();
    test_fork_leaves_parent_alone();
    test_attach_wait();
    test_timed_wait();
    test_wait_is_woken();
    test_wake_without_waiters();
    test_read_overwritten();
    test_relayout();
    test_killed_mid_publish();
    test_grow_while_reading();
    test_publishers_and_readers();
    test_dir_remove(dir);
    printf("all segment checks passed\n");
    return 0;
}
