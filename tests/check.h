/* check.h - assertions and process helpers for the shmimg tests.
 *
 * Every failed check prints the expression and both values, then exits 1,
 * so a test is a plain program: exit 0 passes. Tests that involve several
 * processes fork real ones. Each test works in a private directory of its
 * own (SHMIMG_DIR), so tests can run in parallel.
 */
#ifndef SHMIMG_TEST_CHECK_H
#define SHMIMG_TEST_CHECK_H

#include "errors.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n",  \
                    __FILE__, __LINE__, #a, #b, a_, b_);                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* Comparisons of unsigned 64-bit values (sizes, offsets, frame numbers)
 * that print both sides: CHECK_LT(a, b) is CHECK(a < b) with the values. */
#define CHECK_CMP_U64(a, op, b)                                                \
    do {                                                                       \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                       \
        if (!(a_ op b_)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s %s %s) failed: %llu vs %llu\n",   \
                    __FILE__, __LINE__, #a, #op, #b, (unsigned long long)a_,   \
                    (unsigned long long)b_);                                   \
            exit(1);                                                           \
        }                                                                      \
    } while (0)
/* The same for signed values (counts that may be -1, results of calls)
 * and for doubles (seconds). */
#define CHECK_CMP_I64(a, op, b)                                                \
    do {                                                                       \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                          \
        if (!(a_ op b_)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s %s %s) failed: %lld vs %lld\n",   \
                    __FILE__, __LINE__, #a, #op, #b, (long long)a_,            \
                    (long long)b_);                                            \
            exit(1);                                                           \
        }                                                                      \
    } while (0)
#define CHECK_CMP_DBL(a, op, b)                                                \
    do {                                                                       \
        double a_ = (double)(a), b_ = (double)(b);                             \
        if (!(a_ op b_)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s %s %s) failed: %g vs %g\n",       \
                    __FILE__, __LINE__, #a, #op, #b, a_, b_);                  \
            exit(1);                                                           \
        }                                                                      \
    } while (0)
#define CHECK_LT(a, b) CHECK_CMP_U64(a, <, b)
#define CHECK_LE(a, b) CHECK_CMP_U64(a, <=, b)
#define CHECK_GT(a, b) CHECK_CMP_U64(a, >, b)
#define CHECK_GE(a, b) CHECK_CMP_U64(a, >=, b)
#define CHECK_NE(a, b) CHECK_CMP_U64(a, !=, b)

/* A system call that must not return -1; prints errno's text otherwise. */
#define CHECK_SYS(expr)                                                        \
    do {                                                                       \
        if ((expr) == -1) {                                                    \
            int e_ = errno;                                                    \
            fprintf(stderr, "%s:%d: %s failed: %s (errno %d)\n", __FILE__,     \
                    __LINE__, #expr, strerror(e_), e_);                        \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* A library call that must return want; prints its message otherwise. */
#define CHECK_RC(expr, want, errp)                                             \
    do {                                                                       \
        (errp)->msg[0] = '\0';                                                 \
        int rc_ = (expr);                                                      \
        if (rc_ != (want)) {                                                   \
            fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %d: %s\n",     \
                    __FILE__, __LINE__, #expr, rc_, seg_strerror(rc_),         \
                    (int)(want), (errp)->msg);                                 \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define CHECK_STR_EQ(s, want)                                                  \
    do {                                                                       \
        if (strcmp((s), (want)) != 0) {                                        \
            fprintf(stderr, "%s:%d: \"%s\" is not \"%s\"\n", __FILE__,         \
                    __LINE__, (s), (want));                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define CHECK_STR_HAS(s, part)                                                 \
    do {                                                                       \
        if (!strstr((s), (part))) {                                            \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",         \
                    __FILE__, __LINE__, (s), (part));                          \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static inline double test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void test_sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000}, NULL);
}

/* Makes a private SHMIMG_DIR under /dev/shm and exports it. */
static inline const char *test_dir_create(void)
{
    static char dir[] = "/dev/shm/shmimg-test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    setenv("SHMIMG_DIR", dir, 1);
    return dir;
}

/* Removes the private directory and what is left in it. */
static inline void test_dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* Runs fn(arg) in a child process; its return value is the exit status. */
static inline pid_t test_spawn(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(fn(arg));
    return pid;
}

/* Runs fn(&fd) in a child, fd being the write end of a pipe, and returns
 * once the child has written one byte to it: it is ready (it holds a lock,
 * has published, ...). */
static inline pid_t test_spawn_ready(int (*fn)(void *))
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = test_spawn(fn, &p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    close(p[0]);
    close(p[1]);
    return pid;
}

/* Returns: the child's exit status, or 128 + signal. */
static inline int test_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK(errno == EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static inline int test_file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

#endif
