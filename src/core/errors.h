/* errors.h - status codes shared by every shmimg module.
 *
 * Contract: library functions return 0 or one of the negative codes below,
 * and never print or exit. When the caller passes a shmimg_err, it also
 * receives one readable sentence that names the file or key concerned;
 * callers decide on the code, people read the message.
 */
#ifndef SHMIMG_ERRORS_H
#define SHMIMG_ERRORS_H

enum shmimg_status {
    SHMIMG_ENOSEG = -1,      /* no segment under that key */
    SHMIMG_EEMPTY = -2,      /* segment exists, nothing published yet */
    SHMIMG_EINCOMPLETE = -3, /* publisher died while writing pixels */
    SHMIMG_ECORRUPT = -4,    /* header or sizes do not make sense */
    SHMIMG_EVERSION = -5,    /* unknown layout version */
    SHMIMG_EPERM = -6,       /* wrong owner, wrong mode, EACCES */
    SHMIMG_ENOTFILE = -7,    /* symlink, directory, FIFO... at the path */
    SHMIMG_EKEY = -8,        /* key is not 1-64 of [A-Za-z0-9._-] */
    SHMIMG_ENOTIMAGE = -9,   /* file could not be decoded */
    SHMIMG_ETOOBIG = -10,    /* image over the pixel limit */
    SHMIMG_ENOSPACE = -11,   /* SHMIMG_DIR is full */
    SHMIMG_ETIMEDOUT = -12,  /* waited as long as asked */
    SHMIMG_ETOOMANY = -13,   /* every attach slot is taken */
    SHMIMG_ESYS = -14,       /* other system error; the message has errno */
    SHMIMG_EINVAL = -15,     /* bad argument from the caller */
    SHMIMG_ECANCELED = -16,  /* a wait was cancelled by its owner */
    SHMIMG_EEXIST = -17,     /* the output file exists (no-clobber save) */
    SHMIMG_ESETTING = -18,   /* an environment setting does not parse */
    SHMIMG_EGONE = -19,      /* the segment file was removed, replaced or
                                truncated under an attached process */
    SHMIMG_EWRITE = -20,     /* an output could not be written whole */
    SHMIMG_ELAPPED = -21,    /* the frame was overwritten while being read,
                                again and again: the reader is too slow */
};

#define SHMIMG_ERR_MSG_MAX 512

typedef struct shmimg_err {
    int code;
    char msg[SHMIMG_ERR_MSG_MAX];
} shmimg_err;

/* Returns: a short, static description of code. The public header's
 * shmimg_strerror (src/libshmimg/include/shmimg.h) describes the public codes; this
 * internal one keeps the double underscore of hidden names, and the macro
 * keeps the internal callers' spelling. */
const char *shmimg__strerror(int code);
#define shmimg_strerror(code) shmimg__strerror(code)

/* Records code and a printf-style message in err (which may be NULL).
 * Returns: code, so that a failure is one line: return shmimg_fail(...). */
int shmimg_fail(shmimg_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
