/* errors.h - the one set of status codes, for every shmimg module and the
 * public API.
 *
 * Contract: core functions return 0 or one of the negative codes below,
 * and never print or exit. When the caller passes a seg_err, it also
 * receives one readable sentence that names the file or key concerned;
 * callers decide on the code, people read the message.
 *
 * The codes from -10001 to -10020 are the public ones: each has the value
 * of its SHMIMG_ERR_ twin in shmimg.h (checked at compile time in
 * src/libshmimg/api.c), so the library passes them on as they are. The
 * codes from -10101 on are the command line's and the window's own; the
 * library never returns them (it reports SHMIMG_ERR_SYSTEM if one ever
 * reached it). None is a negative errno.
 */
#ifndef SHMIMG_ERRORS_H
#define SHMIMG_ERRORS_H

enum seg_code {
    SEG_ENOSEG = -10001,      /* no segment under that key */
    SEG_EEMPTY = -10002,      /* segment exists, nothing published yet */
    SEG_EINCOMPLETE = -10003, /* the newest buffer is marked being written
                                 and no live owner holds the lock: its
                                 publisher died or gave up mid-write;
                                 also, for publish --raw, an input that
                                 ended inside a frame */
    SEG_ECORRUPT = -10004,    /* header or sizes do not make sense, or the
                                 file was truncated under an attached
                                 process */
    SEG_EVERSION = -10005,    /* unknown layout version */
    SEG_EPERM = -10006,       /* another uid's file, a mode writable by
                                 group or others, EACCES or EPERM; a
                                 publish or lock through a read-only or
                                 reader handle */
    SEG_ENOTFILE = -10007,    /* symlink, directory, FIFO... at the path */
    SEG_EKEY = -10008,        /* key is not 1-64 of [A-Za-z0-9._-] */
    SEG_ENOTIMAGE = -10009,   /* file could not be decoded */
    SEG_ETOOBIG = -10010,     /* image over a limit: the pixel limit, an
                                 output format's, or 1 .. 2^20 a side */
    SEG_ENOSPACE = -10011,    /* SHMIMG_DIR is full (ENOSPC, EDQUOT), or
                                 the file cannot grow so large (EFBIG) */
    SEG_ETIMEDOUT = -10012,   /* waited as long as asked: for the lock,
                                 for the writer of the only frame, for a
                                 new frame or for a segment */
    SEG_ETOOMANY = -10013,    /* every attach slot is taken */
    SEG_ESYS = -10014,        /* other system error (the message has
                                 strerror), out of memory, or a file
                                 renamed under every attach retry */
    SEG_EINVAL = -10015,      /* bad argument from the caller; in the
                                 core also a handle inherited through
                                 fork(), and seg_pull's dst too small */
    SEG_ESMALL = -10016,      /* the caller's buffer cannot hold the frame
                                 (libshmimg only; the core says EINVAL) */
    SEG_ESETTING = -10017,    /* an environment setting is wrong:
                                 SHMIMG_DIR missing or not a directory,
                                 SHMIMG_MAX_PIXELS does not parse */
    SEG_EGONE = -10018,       /* the segment file was removed or replaced
                                 under an attached process */
    SEG_ELAPPED = -10019,     /* the frame was overwritten while being read
                                 (seg_read_end: once; the copiers and
                                 seg_read_begin: SEG_MAX_LAPS times in a
                                 row, the reader is too slow) */
    SEG_EREADONLY = -10020,   /* publish through a reader (libshmimg
                                 only; the core says EPERM) */
    SEG_PUBLIC_LAST = SEG_EREADONLY,

    SEG_ECANCELED = -10101, /* a wait was cancelled by its owner, or a
                               quit signal came */
    SEG_EEXIST = -10102,    /* the output file exists (no-clobber save) */
    SEG_EWRITE = -10103,    /* an output could not be written whole */
};

#define SEG_ERR_MSG_MAX 512

typedef struct seg_err {
    int code;
    char msg[SEG_ERR_MSG_MAX];
} seg_err;

/* Returns: a short, static description of code (any int: "unknown error"
 * for one that is not a code). libshmimg's shmimg_strerror is this. */
const char *seg_strerror(int code);

/* Records code and a printf-style message in err (which may be NULL).
 * Returns: code, so that a failure is one line: return seg_fail(...). */
int seg_fail(seg_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
