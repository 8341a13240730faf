/* bench_locks.c - the lock (rows 4, 5) and the live-mode wake-up (row 6).
 *
 * The same workloads run on shmimg's lock and on the process-shared locks
 * a C program could use instead: a pthread mutex (plain and robust), a
 * sem_t, and a System V semaphore with SEM_UNDO (what Qt's
 * QSystemSemaphore does on Linux).
 */
#include "bench.h"

#include "futex.h"
#include "segment.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

static seg_err err;

static void die(const char *what)
{
    fprintf(stderr, "shmimg-bench: %s: %s (%s)\n", what, err.msg,
            strerror(errno));
    exit(1);
}

/* Everything the processes share, in one anonymous MAP_SHARED mapping. */
typedef struct shared {
    pthread_mutex_t mutex;
    pthread_mutex_t robust;
    sem_t sem;
    int semid;
    volatile uint64_t counter;  /* for the non-shmimg locks */
    _Atomic uint32_t ack, word; /* row 6 hand-shake and raw futex */
    double sent;                /* row 6: when the publish ended */
    double latency[];           /* row 6: seconds, one per round */
} shared;

static shared *sh;
static seg *handle; /* this process's shmimg attach */

/* ---- the locks under test ------------------------------------------------ */

typedef struct lock_kind {
    const char *name;
    void (*lock)(void);
    void (*unlock)(void);
} lock_kind;

static void shmimg_lock(void)
{
    if (seg_lock(handle, &err) < 0)
        die("seg_lock");
}
static void shmimg_unlock(void) { seg_unlock(handle); }
static void mutex_lock(void) { pthread_mutex_lock(&sh->mutex); }
static void mutex_unlock(void) { pthread_mutex_unlock(&sh->mutex); }
static void robust_lock(void) { pthread_mutex_lock(&sh->robust); }
static void robust_unlock(void) { pthread_mutex_unlock(&sh->robust); }
static void sem_lock(void)
{
    while (sem_wait(&sh->sem) < 0 && errno == EINTR)
        ;
}
static void sem_unlock(void) { sem_post(&sh->sem); }
static void sysv_op(short delta)
{
    struct sembuf op = {0, delta, SEM_UNDO};
    while (semop(sh->semid, &op, 1) < 0)
        if (errno != EINTR)
            die("semop");
}
static void sysv_lock(void) { sysv_op(-1); }
static void sysv_unlock(void) { sysv_op(1); }

static const lock_kind kinds[] = {
    {"shmimg", shmimg_lock, shmimg_unlock},
    {"pthread mutex (pshared)", mutex_lock, mutex_unlock},
    {"pthread mutex (pshared, robust)", robust_lock, robust_unlock},
    {"sem_t (pshared)", sem_lock, sem_unlock},
    {"System V sem, SEM_UNDO", sysv_lock, sysv_unlock},
};
enum { nkinds = sizeof kinds / sizeof kinds[0] };

static void setup_shared(size_t rounds)
{
    sh = mmap(NULL, sizeof *sh + rounds * sizeof(double),
              PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap");
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->mutex, &a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&sh->robust, &a);
    pthread_mutexattr_destroy(&a);
    sem_init(&sh->sem, 1, 1);
    sh->semid = semget(IPC_PRIVATE, 1, 0600);
    if (sh->semid < 0 || semctl(sh->semid, 0, SETVAL, 1) < 0)
        die("semget");
}

/* The counter the contended row increments: in the segment for shmimg. */
static volatile uint64_t *counter_of(const lock_kind *k)
{
    if (k != &kinds[0])
        return &sh->counter;
    seg_view v;
    if (seg_read_begin(handle, &v, &err) < 0)
        die("read");
    seg_read_end(handle, &v, NULL);
    return (volatile uint64_t *)(uintptr_t)v.pixels;
}

static void attach(void)
{
    if (seg_attach("locks", 0, &handle, &err) < 0)
        die("attach");
}

/* ---- row 4: uncontended --------------------------------------------------- */

static void uncontended_rows(const bench_opts *o)
{
    int reps = o->quick ? 3 : 7;
    stats result[nkinds];
    for (int k = 0; k < nkinds; k++) {
        long pairs = k == nkinds - 1 ? (o->quick ? 20000 : 500000)
                                     : (o->quick ? 200000 : 5000000);
        double ns[7];
        for (int r = 0; r < reps; r++) {
            double t0 = bench_now();
            for (long i = 0; i < pairs; i++) {
                kinds[k].lock();
                kinds[k].unlock();
            }
            ns[r] = (bench_now() - t0) / (double)pairs * 1e9;
        }
        result[k] = stats_of(ns, reps);
    }
    for (int k = 1; k < nkinds; k++) {
        bool sysv = k == nkinds - 1;
        bench_row(o, &(row){sysv     ? "4d"
                            : k == 1 ? "4a"
                            : k == 2 ? "4b"
                                     : "4c",
                            "lock+unlock pair, uncontended", "", "ns",
                            result[0], kinds[k].name, result[k],
                            sysv     ? ">= 20x faster"
                            : k == 1 ? "<= 1.0x"
                                     : "",
                            sysv ? 0.05 : 1.0, true});
    }
}

/* ---- row 5: two processes, contended -------------------------------------- */

static long contended_rounds;

static void increment_loop(const lock_kind *k)
{
    volatile uint64_t *counter = counter_of(k);
    for (long i = 0; i < contended_rounds; i++) {
        k->lock();
        *counter = *counter + 1;
        k->unlock();
    }
}

static double contended_once(const lock_kind *k)
{
    volatile uint64_t *counter = counter_of(k);
    *counter = 0;
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        attach(); /* a slot of its own, as a real second process has */
        increment_loop(k);
        seg_detach(handle);
        _exit(0);
    }
    increment_loop(k);
    int status;
    waitpid(pid, &status, 0);
    double t = bench_now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        *counter != 2 * (uint64_t)contended_rounds) {
        fprintf(stderr, "shmimg-bench: %s lost updates: %llu, wanted %llu\n",
                k->name, (unsigned long long)*counter,
                2 * (unsigned long long)contended_rounds);
        exit(1);
    }
    return t;
}

static void contended_rows(const bench_opts *o)
{
    contended_rounds = o->quick ? 20000 : 1000000;
    enum { max_reps = 5 };
    int reps = o->quick ? 1 : max_reps;
    /* System V takes ~30 s a run here: 3 runs of it are enough. */
    int sysv_reps = reps < 3 ? reps : 3;
    double t[nkinds][max_reps];
    for (int r = 0; r < reps; r++) /* kinds interleaved: drift hits all */
        for (int k = 0; k < nkinds; k++)
            if (k < nkinds - 1 || r < sysv_reps)
                t[k][r] = contended_once(&kinds[k]) * 1e3;
    stats result[nkinds];
    for (int k = 0; k < nkinds; k++)
        result[k] = stats_of(t[k], k < nkinds - 1 ? reps : sysv_reps);
    char what[96];
    snprintf(what, sizeof what, "2 procs x %ldk lock/increment/unlock",
             contended_rounds / 1000);
    for (int k = 1; k < nkinds; k++) {
        bool sysv = k == nkinds - 1;
        bench_row(o, &(row){sysv     ? "5d"
                            : k == 1 ? "5a"
                            : k == 2 ? "5b"
                                     : "5c",
                            what, "", "ms", result[0], kinds[k].name, result[k],
                            sysv     ? ">= 50x faster"
                            : k == 1 ? "<= 1.0x"
                                     : "",
                            sysv ? 0.02 : 1.0, true});
    }
}

/* ---- row 6: wake-up of a waiting reader ------------------------------------ */

/* The publisher waits for the reader to ask for round i (ack == i + 1),
 * then gives it a moment to fall asleep in the kernel, so that every
 * round measures a real wake-up, not a reader still spinning by. */
static void await_round(uint32_t i)
{
    uint32_t a;
    while ((a = atomic_load(&sh->ack)) != i + 1)
        futex_wait(&sh->ack, a, -1);
    struct timespec settle = {0, 200000};
    nanosleep(&settle, NULL);
}

static void ask_round(uint32_t i)
{
    atomic_store(&sh->ack, i + 1);
    futex_wake(&sh->ack, 1);
}

static void reader_shmimg(long rounds)
{
    attach();
    for (long i = 0; i < rounds; i++) {
        uint32_t seen = seg_generation(handle);
        ask_round((uint32_t)i);
        if (seg_wait(handle, seen, 5000, NULL, NULL, &err) < 0)
            die("seg_wait");
        sh->latency[i] = bench_now() - sh->sent;
    }
    seg_detach(handle);
}

static void reader_futex(long rounds)
{
    for (long i = 0; i < rounds; i++) {
        uint32_t seen = atomic_load(&sh->word);
        ask_round((uint32_t)i);
        while (atomic_load(&sh->word) == seen)
            futex_wait(&sh->word, seen, -1);
        sh->latency[i] = bench_now() - sh->sent;
    }
}

static void publish_round(void)
{
    uint8_t *px;
    uint32_t pitch;
    if (seg_write_begin(handle, 16, 16, "live.png", &px, &pitch, &err) < 0)
        die("publish");
    memset(px, 0x42, (size_t)pitch * 16);
    sh->sent = bench_now(); /* the pixels are written: the publish ends */
    seg_write_end(handle, true, NULL);
}

static void raw_futex_round(void)
{
    sh->sent = bench_now();
    atomic_fetch_add(&sh->word, 1);
    futex_wake(&sh->word, 1);
}

static stats latencies(long rounds, void (*reader)(long), void (*send)(void),
                       double *p99)
{
    atomic_store(&sh->ack, 0);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        reader(rounds);
        _exit(0);
    }
    for (long i = 0; i < rounds; i++) {
        await_round((uint32_t)i);
        send();
    }
    waitpid(pid, NULL, 0);
    double *us = malloc((size_t)rounds * sizeof *us);
    for (long i = 0; i < rounds; i++)
        us[i] = sh->latency[i] * 1e6;
    stats s = stats_of(us, (int)rounds);
    *p99 = us[(long)((double)rounds * 0.99)];
    free(us);
    return s;
}

static void wakeup_rows(const bench_opts *o, long rounds)
{
    double p99_ours, p99_raw;
    stats ours = latencies(rounds, reader_shmimg, publish_round, &p99_ours);
    stats raw = latencies(rounds, reader_futex, raw_futex_round, &p99_raw);
    char what[96];
    snprintf(what, sizeof what, "live wake-up p50, %ldk publishes",
             rounds / 1000);
    bench_row(o, &(row){"6a", what, "16x16", "us", ours, "raw futex one-way",
                        raw, "<= 1.5x", 1.5, true});
    stats p99o = {p99_ours, ours.min, ours.max, ours.n, p99_ours};
    stats p99r = {p99_raw, raw.min, raw.max, raw.n, p99_raw};
    snprintf(what, sizeof what, "live wake-up p99, %ldk publishes",
             rounds / 1000);
    bench_row(o, &(row){"6b", what, "16x16", "us", p99o, "raw futex one-way",
                        p99r, "", 0, true});
}

void bench_locks(const bench_opts *o)
{
    long rounds = o->quick ? 1000 : 10000;
    setup_shared((size_t)rounds);
    seg *owner;
    if (seg_attach("locks", SEG_CREATE, &owner, &err) < 0)
        die("attach");
    handle = owner;
    uint8_t *px;
    uint32_t pitch;
    if (seg_write_begin(owner, 2, 1, "counter", &px, &pitch, &err) < 0)
        die("publish");
    memset(px, 0, 8); /* 8 payload bytes: the shmimg row's counter */
    seg_write_end(owner, true, NULL);

    uncontended_rows(o);
    contended_rows(o);
    wakeup_rows(o, rounds);

    seg_detach(owner);
    semctl(sh->semid, 0, IPC_RMID);
}
