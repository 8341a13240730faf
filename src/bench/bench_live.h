/* bench_live.h - the harness behind rows 9 to 13 (bench_live.c): a
 * publisher in this process, readers in forked ones, on a shmimg segment
 * or on the bare harness, and what they tell each other.
 *
 * Everything the processes report goes through one anonymous shared
 * mapping (live_ctl); every timestamp is CLOCK_MONOTONIC, which all
 * processes read alike. Functions return 0, or -1 with the reason in
 * live_failure; nothing here exits. Children die with the benchmark
 * (PR_SET_PDEATHSIG), and live_crew_end reaps them, killing those that
 * outstay their time.
 */
#ifndef SHMIMG_BENCH_LIVE_H
#define SHMIMG_BENCH_LIVE_H

#include "segment.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
    max_readers = 8,
    max_samples = 4096,       /* per reader: latencies, rates or CPU times */
    stamp_ring = 4096,        /* publish end times, by frame number mod this */
    bare_buffers = 3,         /* as many as a segment asks for */
    reap_timeout_ms = 5000,   /* then children are killed */
    ready_timeout_ms = 10000, /* to attach and set up */
    bare_poll_ns = 50000000,  /* how soon bare readers see stop */
    rate_window_ns = 100000000, /* row 11: one sample of pulls/s */
    warmup_frames = 2,          /* row 13: frames per path not counted */
};

#define LIVE_KEY "live"

typedef struct video {
    int width, height; /* pixels */
    int fps;
    const char *name;
} video;

typedef struct reader_out {
    uint64_t received; /* distinct frames held whole (copied or uploaded) */
    uint64_t skipped;  /* frames it never held: sum of frame - last - 1 */
    uint64_t lapped;   /* seg_pull gave up on a frame (ELAPPED) */
    uint64_t retries;  /* row 13: zero-copy uploads read again */
    uint64_t pulls;    /* row 11: successful pulls */
    int n;             /* samples in live_ctl->sample[reader] */
    int end_rc;        /* row 9e: seg_read_end after SIGCONT */
    char error[256];   /* why the reader failed; "" if it did not */
} reader_out;

typedef struct ctl_block {
    _Atomic uint32_t ready;   /* readers set up; futex word */
    _Atomic uint32_t go;      /* row 11: start pulling; futex word */
    atomic_bool stop;         /* readers leave; seg_wait's cancel flag */
    _Atomic uint32_t counter; /* bare harness: newest frame; futex word */
    _Atomic int64_t end_ns[stamp_ring]; /* when frame f's publish ended */
    reader_out out[max_readers];
    double sample[max_readers][max_samples];
} ctl_block;

typedef struct channel {
    const video *v;
    size_t bytes; /* one frame: width * height * 4 */
    bool bare;
    seg *s;       /* shmimg: the publisher's attach (the parent's only) */
    uint8_t *buf; /* bare: bare_buffers frames, stride bytes apart */
    size_t stride;
    uint64_t frame; /* the last frame published */
} channel;

typedef int (*reader_body)(const channel *c, int r);

typedef struct crew {
    pid_t pid[max_readers];
    bool reaped[max_readers];
    int status[max_readers];
    int n;
} crew;

extern ctl_block *live_ctl;
extern char live_failure[512]; /* why the last call failed */

int live_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void live_reset(void); /* clears live_ctl; no reader may be running */
void live_sleep_ns(int64_t ns);

/* Opens a new channel (a segment, or a bare mapping) and publishes once
 * into each buffer, so that every page is present: the rows measure the
 * steady state. On failure it is closed again. */
int live_open(channel *c, const video *v, bool bare, const uint8_t *src);
void live_close(channel *c);

/* Publishes frame c->frame + 1 from src; *ms (may be NULL) gets the
 * publisher's own time: seg_write_begin to seg_write_end's return, the
 * pixel copy included; for the bare harness the copy and the wake. */
int live_publish(channel *c, const uint8_t *src, double *ms);

/* Publishes at the video's rate for `seconds` on absolute deadlines; each
 * publish's time goes to ms[] (may be NULL; cap at most).
 * Returns: the number of frames published, or -1. */
int live_publish_paced(channel *c, const uint8_t *src, double seconds,
                       double *ms, int cap);

/* Readers leave: the stop flag (seg_wait's cancel), then a wake. */
void live_stop_readers(const channel *c);

/* Forks n readers running body(c, r), r = 0 .. n-1. */
int live_crew_start(crew *cr, int n, reader_body body, const channel *c);
/* Waits until n readers have called signal_ready. */
int live_await_ready(crew *cr, uint32_t n);
/* Waits until every reader has stopped itself with SIGSTOP. */
int live_await_stopped(crew *cr);
/* Reaps every reader, killing those still there after timeout_ms.
 * Returns: 0, or -1 when one failed or was killed. */
int live_crew_end(crew *cr, int timeout_ms);

/* The readers (reader_body). */
int live_follower(const channel *c, int r);       /* rows 9, 10, 12 */
int live_stopped_reader(const channel *c, int r); /* row 9e */
int live_puller(const channel *c, int r);         /* row 11 */
int live_window(const channel *c, int r);         /* row 13 */

#endif
