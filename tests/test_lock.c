/* test_lock.c - the segment lock between real processes: no lost update,
 * a dead holder taken over quickly, a live holder never robbed (even a
 * stopped one, or one in another PID namespace), a reused slot not taken
 * for the dead owner. */
#include "check.h"
#include "segment.h"
#include "shlock.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sched.h>
#include <sys/mman.h>

static seg_err err;

/* A segment holding a 1x1 image: its 4 payload bytes serve as a counter. */
static void publish_counter(void)
{
    seg *s;
    uint8_t *px;
    uint32_t pitch;
    CHECK_RC(seg_attach("lock", SEG_CREATE, &s, &err), 0, &err);
    seg_set_persist(s, true);
    CHECK_RC(seg_write_begin(s, 1, 1, "counter", &px, &pitch, &err), 0, &err);
    memset(px, 0, 4);
    seg_write_end(s, true, NULL);
    seg_detach(s);
}

static volatile uint32_t *counter_of(seg *s)
{
    seg_view v;
    CHECK_RC(seg_read_begin(s, &v, &err), 0, &err);
    CHECK_RC(seg_read_end(s, &v, &err), 0, &err);
    return (volatile uint32_t *)(uintptr_t)v.pixels;
}

enum { procs = 4, rounds = 100000 };

static int incrementer(void *arg)
{
    (void)arg;
    seg *s;
    CHECK_RC(seg_attach("lock", 0, &s, &err), 0, &err);
    volatile uint32_t *counter = counter_of(s);
    for (int i = 0; i < rounds; i++) {
        CHECK_RC(seg_lock(s, &err), 0, &err);
        *counter = *counter + 1; /* not atomic: only the lock protects it */
        seg_unlock(s);
    }
    seg_detach(s);
    return 0;
}

static void test_no_lost_update(void)
{
    pid_t pids[procs];
    double t0 = test_now();
    for (int i = 0; i < procs; i++)
        pids[i] = test_spawn(incrementer, NULL);
    for (int i = 0; i < procs; i++)
        CHECK_EQ(test_wait(pids[i]), 0);
    seg *s;
    CHECK_RC(seg_attach("lock", 0, &s, &err), 0, &err);
    CHECK_EQ(*counter_of(s), procs * rounds);
    seg_detach(s);
    printf("no lost update: %d processes x %d increments in %.2f s\n", procs,
           rounds, test_now() - t0);
}

/* Child: attach, take the lock, tell the parent through fd, then wait to
 * be killed (or stopped). */
static int holder(void *arg)
{
    int fd = *(int *)arg;
    seg *s;
    CHECK_RC(seg_attach("lock", 0, &s, &err), 0, &err);
    CHECK_RC(seg_lock(s, &err), 0, &err);
    CHECK_EQ(write(fd, "L", 1), 1);
    for (;;)
        pause();
}

/* The pipes between the test and the processes that wait for the lock. */
typedef struct waiter_pipes {
    int ready; /* write end: "attached" */
    int go;    /* read end: a byte means "take the lock now" */
} waiter_pipes;

/* Attaches before the holder takes the lock: in layout 2 an owner's
 * attach itself takes the lock briefly (the last-owner-out decision), so
 * an attach behind a dead holder would take it over and the lock call
 * after it would see a free lock. */
static int lock_after_death(void *arg)
{
    waiter_pipes *p = arg;
    seg *s;
    CHECK_RC(seg_attach("lock", 0, &s, &err), 0, &err);
    CHECK_EQ(write(p->ready, "A", 1), 1);
    char c;
    CHECK_EQ(read(p->go, &c, 1), 1);
    int rc = seg_lock(s, &err);
    CHECK(rc == 0 || rc == SHLOCK_TAKEN_OVER);
    seg_unlock(s);
    seg_detach(s);
    return rc == SHLOCK_TAKEN_OVER ? 10 : 0;
}

static void test_dead_holder(void)
{
    int ready[2], go[2];
    CHECK_SYS(pipe(ready));
    CHECK_SYS(pipe(go));
    waiter_pipes p = {ready[1], go[0]};
    pid_t others[2];
    for (int i = 0; i < 2; i++)
        others[i] = test_spawn(lock_after_death, &p);
    for (int i = 0; i < 2; i++) {
        char c;
        CHECK_EQ(read(ready[0], &c, 1), 1);
    }
    pid_t victim = test_spawn_ready(holder);
    CHECK_EQ(write(go[1], "GG", 2), 2);
    test_sleep_ms(50); /* let them start waiting */
    double t0 = test_now();
    kill(victim, SIGKILL);
    CHECK_EQ(test_wait(victim), 128 + SIGKILL);
    int taken_over = 0;
    for (int i = 0; i < 2; i++) {
        int st = test_wait(others[i]);
        CHECK(st == 0 || st == 10);
        taken_over += st == 10;
    }
    double waited = test_now() - t0;
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(go[i]);
    }
    CHECK_EQ(taken_over, 1); /* exactly one of them took the lock over */
    printf("holder SIGKILLed: the others went on after %.3f s\n", waited);
    CHECK_CMP_DBL(waited, <,
                  3.0); /* "about a second"; far above it means a hang */
}

/* (We attach before the holder locks: an attach behind a live, stopped
 * holder waits for it, up to the lock timeout, and that is by design.) */
static void test_live_stopped_holder_kept(void)
{
    seg *s;
    CHECK_RC(seg_attach("lock", 0, &s, &err), 0, &err);
    pid_t victim = test_spawn_ready(holder);
    kill(victim, SIGSTOP);
    seg_set_lock_timeout(s, 600);
    CHECK_RC(seg_lock(s, &err), SEG_ETIMEDOUT, &err);
    CHECK_STR_HAS(err.msg, "locked by pid");
    kill(victim, SIGKILL);
    test_wait(victim);
    seg_set_lock_timeout(s, 5000);
    CHECK_RC(seg_lock(s, &err), SHLOCK_TAKEN_OVER, &err);
    seg_unlock(s);
    seg_detach(s);
    printf("stopped (live) holder kept its lock; taken over once killed\n");
}

/* The lock word names slot i, which a live process holds now, but with
 * another nonce: the owner it names is gone (the slot was reused, as a PID
 * can be), so the lock must be taken over, not waited on for ever. */
static void test_reused_slot_is_dead(void)
{
    seg *live, *s;
    CHECK_RC(seg_attach("lock", 0, &live, &err), 0, &err);
    CHECK_RC(seg_attach("lock", 0, &s, &err), 0, &err);
    char path[4096];
    CHECK_RC(seg_path("lock", path, sizeof path, &err), 0, &err);
    int fd = open(path, O_RDWR);
    CHECK_SYS(fd);
    shmimg_header *h =
        mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK_NE(h, MAP_FAILED);
    uint32_t live_slot = SHMIMG_SLOTS;
    for (uint32_t i = 0; i < SHMIMG_SLOTS; i++)
        if (atomic_load(&h->slot_nonce[i]) != 0) {
            live_slot = i;
            break;
        }
    CHECK_LT(live_slot, SHMIMG_SLOTS);
    uint32_t stale_nonce = atomic_load(&h->slot_nonce[live_slot]) ^ 0x5a5a;
    atomic_store(&h->lock_word, stale_nonce << 9 | live_slot);
    double t0 = test_now();
    CHECK_RC(seg_lock(s, &err), SHLOCK_TAKEN_OVER, &err);
    printf("lock word naming a reused slot taken over after %.3f s\n",
           test_now() - t0);
    seg_unlock(s);
    munmap(h, sizeof *h);
    close(fd);
    seg_detach(s);
    seg_detach(live);
}

/* Child: a new PID namespace, where the holder is pid 1. Tells the parent
 * the holder's pid as seen from outside ('P' + pid); the holder says 'L'. */
static int holder_in_new_pid_namespace(void *arg)
{
    int fd = *(int *)arg;
    if (unshare(CLONE_NEWPID) < 0)
        return 77;
    pid_t pid = fork();
    if (pid == 0)
        _exit(holder(arg));
    char msg[1 + sizeof pid] = {'P'};
    memcpy(msg + 1, &pid, sizeof pid);
    CHECK_EQ(write(fd, msg, sizeof msg), (ssize_t)sizeof msg);
    return test_wait(pid);
}

static void test_other_pid_namespace(void)
{
    seg *s;
    CHECK_RC(seg_attach("lock", 0, &s, &err), 0, &err);
    int p[2];
    CHECK_SYS(pipe(p));
    pid_t outer = test_spawn(holder_in_new_pid_namespace, &p[1]);
    close(p[1]);
    pid_t inner = 0;
    bool locked = false;
    char c;
    while ((!locked || !inner) && read(p[0], &c, 1) == 1) {
        if (c == 'L')
            locked = true;
        else if (c == 'P')
            CHECK_EQ(read(p[0], &inner, sizeof inner), (ssize_t)sizeof inner);
    }
    close(p[0]);
    if (!locked) {
        CHECK_EQ(test_wait(outer), 77);
        printf("SKIP: cannot make a PID namespace here (needs "
               "CAP_SYS_ADMIN)\n");
        exit(77);
    }
    seg_set_lock_timeout(s, 600);
    CHECK_RC(seg_lock(s, &err), SEG_ETIMEDOUT, &err);
    printf("live holder (pid 1 of another PID namespace) kept its lock\n");
    kill(inner, SIGKILL);
    CHECK_EQ(test_wait(outer), 128 + SIGKILL);
    seg_set_lock_timeout(s, 5000);
    CHECK_RC(seg_lock(s, &err), SHLOCK_TAKEN_OVER, &err);
    seg_unlock(s);
    seg_detach(s);
    printf("taken over once it died\n");
}

int main(void)
{
    const char *dir = test_dir_create();
    publish_counter();
    test_no_lost_update();
    test_dead_holder();
    test_live_stopped_holder_kept();
    test_reused_slot_is_dead();
    test_other_pid_namespace();
    seg_remove("lock", NULL, &err);
    test_dir_remove(dir);
    return 0;
}
