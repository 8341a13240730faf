/* bench.h - shared pieces of shmimg-bench: timing, statistics, the table.
 *
 * Every figure is the median of repeated runs, with min and max beside it,
 * and every comparison a ratio against a baseline measured in the same run
 * on the same data. Nothing here asserts on time: the machines are shared.
 */
#ifndef SHMIMG_BENCH_H
#define SHMIMG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_opts {
    bool quick; /* a smoke run: fewer repetitions, small sizes */
    bool json;
    const char *shmimg;  /* the shmimg executable, for the memory row */
    const char *figure;  /* where bench_live writes its SVG; NULL: not */
    const char *machine; /* CPU, cores and kernel, for the figure */
} bench_opts;

/* Median, min, max and 99th percentile of some samples, in the samples'
 * unit. */
typedef struct stats {
    double median, min, max;
    int n;
    double p99;
} stats;

/* Sorts samples in place. */
stats stats_of(double *samples, int n);

/* Monotonic time in seconds. */
double bench_now(void);

/* One row: a measurement of ours against a baseline. Units: "ms", "ns",
 * "us" or "MiB"; a target like "<= 1.3x" or ">= 100x faster" is only
 * printed, with whether this run met it. */
typedef struct row {
    const char *id; /* "1", "4b", ... */
    const char *what;
    const char *size; /* "3840x2160", "" */
    const char *unit;
    stats ours;
    const char *baseline_name;
    stats baseline;       /* n == 0: no baseline (a figure for scale) */
    const char *target;   /* "" for none */
    double limit;         /* ratio limit of the target (ours / baseline) */
    bool lower_is_better; /* met when ratio <= limit; false: >= limit */
} row;

/* What a row may add: a verdict for a target that is not a ratio of
 * medians (row 10), a note, more JSON members. */
enum { ROW_BY_RATIO, ROW_MET, ROW_MISSED, ROW_NA };
typedef struct row_more {
    int verdict;      /* ROW_BY_RATIO: judged by the ratio */
    const char *note; /* said after the verdict, and in the JSON */
    const char *json; /* more JSON members: "\"k\": v, ..." */
} row_more;

void bench_row(const bench_opts *o, const row *r);
void bench_row_more(const bench_opts *o, const row *r, const row_more *m);
void bench_note(const bench_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Repetitions for a payload of `bytes`: more for small ones. */
int bench_reps(const bench_opts *o, size_t bytes);

/* The sections (the memory row runs first, while the process is small). */
void bench_copy(const bench_opts *o);   /* rows 1, 2, 3, 7 and PNG decode */
void bench_locks(const bench_opts *o);  /* rows 4, 5, 6 */
void bench_memory(const bench_opts *o); /* row 8 */
void bench_stream(const bench_opts *o); /* row 15: publish --raw */
/* Rows 9-13, live sharing against the bare harness; writes the figure.
 * Returns: 0, or -1 when the figure could not be written. */
int bench_live(const bench_opts *o);

#endif
