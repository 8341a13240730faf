/* cli_common.h - what the subcommands share: output for people (every
 * line escaped), the one way a failure is reported, the quit signals, and
 * option parsing. Private to the shmimg executable.
 */
#ifndef SHMIMG_CLI_COMMON_H
#define SHMIMG_CLI_COMMON_H

#include "errors.h"
#include "inspect.h"
#include "segment.h"

#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum { EXIT_USAGE = 2 };

/* Bit n set: standard stream n was closed when we started. */
extern unsigned closed_stdio;

/* The options of every subcommand; each takes the ones it lists. */
typedef struct opts {
    const char *key;
    const char *out;           /* pull -o */
    double wait_s;             /* pull --wait; < 0: do not wait */
    int persist;               /* publish --persist */
    seg_share share;           /* publish --share */
    int json;                  /* info, list --json */
    const char *raw;           /* publish --raw WxH */
    const char *fps;           /* publish --fps */
    int raw_out;               /* pull --raw */
    int follow;                /* pull --follow */
    unsigned long long frames; /* pull --frames; 0: no limit */
} opts;

extern const opts defaults;

/* A line on stdout (results, reports), escaped. */
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "shmimg: " and a line on stderr, escaped. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes st as JSON (seg_status_json) on stdout. */
void out_json_status(const seg_status *st);
/* Flushes stdout; result: stdout carries the command's result.
 * Returns: status, or EXIT_FAILURE. */
int finish_stdout(int status, bool result);
/* Says why the command line is wrong. Returns: EXIT_USAGE. */
int usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One line for a failure, with the way out where there is one.
 * Returns: the exit status (EXIT_USAGE for a setting, else 1). */
int failure(const seg_err *err, const char *key);
/* Says once, on stderr, that SHMIMG_DIR is backed by a disk. */
void note_dir_kind(void);
/* Attaches to key as a reader; with no segment yet, says so on stderr
 * and waits for a publisher to make one (readers never do), timeout_ms
 * at most (< 0: for ever), until a quit signal (SEG_ECANCELED).
 * Returns: as seg_attach_wait. */
int attach_reader_waiting(const char *key, int timeout_ms, seg **s,
                          seg_err *err);
/* Says when the segment holds fewer buffers than it asked for. */
void note_buffers(const seg *s);

/* The quit signals: quitsig.h says which; cli_common.c says how a command
 * meets them (caught, or held and let in at chosen points). */
/* Set by a quit signal; quit_signal is its number. */
extern atomic_bool quit_asked;
extern volatile sig_atomic_t quit_signal;
/* Set while an output is written: a quit signal then removes its
 * temporary file and ends us at once. */
extern volatile sig_atomic_t saving;
/* Set while an output that may block in open() is opened (a FIFO nobody
 * reads): a quit signal then arms an alarm that interrupts the open, in
 * case it began just after the signal. */
extern volatile sig_atomic_t opening;
/* Catches the quit signals (no SA_RESTART: blocking calls return EINTR). */
void catch_quit_signals(void);
/* Catches the quit signals and blocks them: they come in only through
 * quit_poll, quit_wait and the writing of a report. */
void hold_quit_signals(void);
/* Lets in a quit signal that is pending (held). For a loop that may never
 * wait, between two pieces of work. Returns: quit_asked. */
bool quit_poll(void);
/* Waits until fd is ready for events (fd < 0: only the deadline), until
 * deadline_ns (CLOCK_MONOTONIC nanoseconds; < 0: none), or a quit signal,
 * with the quit signals open only inside the wait, whatever the caller's
 * mask. Returns: 1 ready, 0 deadline, -1 quit. */
int quit_wait(int fd, short events, int64_t deadline_ns);
/* Returns: CLOCK_MONOTONIC in nanoseconds. */
int64_t clock_ns(void);
/* Dies of the signal that was caught. */
int die_of_quit_signal(void);

/* Parses argv for cmd (see cli_common.c). Returns: 0, or EXIT_USAGE. */
int parse(int argc, char **argv, const char *cmd, const char *usage,
          const char *shortopts, const struct option *longopts, opts *o);

#endif
