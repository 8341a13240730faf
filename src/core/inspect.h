/* inspect.h - segments looked at without touching them: what `shmimg
 * info` and `shmimg list` show, and the one JSON writer of `info --json`,
 * `list --json`, shmimg_info_json and shmimg_list_json.
 *
 * Contract: nothing here locks, maps or writes a segment file; what is
 * reported is for people and tools, and says what the file says, checked
 * only as far as reading it safely needs. The words (liveness, states) are
 * defined here once, so that the command line and libshmimg agree.
 */
#ifndef SHMIMG_INSPECT_H
#define SHMIMG_INSPECT_H

#include "segment.h"

#include <stdio.h>

/* What seg_inspect reads from a segment file without locking or writing. */
typedef struct seg_status {
    char path[SEG_PATH_MAX];
    int64_t file_size; /* bytes */
    unsigned attached; /* processes attached now */
    int problem;       /* 0, or why the segment is unusable */
    char problem_msg[SEG_ERR_MSG_MAX];
    bool header_read; /* the fields below are from the file */
    uint32_t layout_version;
    uint32_t flags;
    uint32_t latest;
    uint32_t lock_word;
    uint32_t lock_owner_pid;
    uint32_t mode; /* the file's permission bits */
    uint32_t uid;  /* the file's owner */
    uint64_t payload_offset;
    uint64_t capacity;
    uint64_t buffer_stride;
    uint32_t buffer_count;
    struct {
        uint32_t seq;
        seg_image image; /* as the descriptor says, not checked */
    } buf[SHMIMG_MAX_BUFFERS];
    int state; /* 0 (image holds the newest frame), EEMPTY,
                  EINCOMPLETE */
    seg_image image;
} seg_status;

/* Reads the segment at path as it is. Problems with its content go into
 * st->problem; the file is never locked or written. Another uid's file
 * is read when its mode allows.
 * Returns: 0; SEG_ENOSEG, ENOTFILE, EPERM, ESYS when it cannot be read. */
int seg_inspect(const char *path, seg_status *st, seg_err *err);

/* The words info, list and --json use for a seg_status (one place, so
 * that the command line and libshmimg's JSON always agree). */
const char *seg_status_key(const seg_status *st); /* K of shmimg-K */
/* "alive", "persistent", "stale"; "n/a" or "unknown" for what could not
 * be judged (not a segment; another user's file). */
const char *seg_status_liveness(const seg_status *st);
/* "complete", "empty", "incomplete", "writing or incomplete",
 * "unreadable", "not-a-segment", "not-yours". */
const char *seg_status_state(const seg_status *st);
bool seg_status_has_image(const seg_status *st);
/* Buffer i: "newest", "older", "empty", "writing", "incomplete". */
const char *seg_status_buffer_state(const seg_status *st, unsigned i);
/* ns (CLOCK_REALTIME) as 2026-01-31T12:00:00Z; "-" when unset. */
void seg_format_time(int64_t ns, char *buf, size_t n);

/* Calls fn for each shmimg-* file in seg_dir(), in name order, until fn
 * returns non-zero. First removes the temporary files of creators that
 * died before linking them (.shmimg-KEY.PID.XXXXXXXX; see layout.h).
 * Returns: 0, fn's non-zero value, or ESYS when the directory is unreadable. */
int seg_list(int (*fn)(const seg_status *st, void *ctx), void *ctx,
             seg_err *err);

/* Writes st as one JSON object (no newline): the fields of `shmimg info
 * --json`, documented in the README. Every string is escaped
 * (escape_json): names and messages are anyone's bytes. */
void seg_status_json(FILE *f, const seg_status *st);

#endif
