/* errors.c - status descriptions and the one way a failure is recorded. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

const char *shmimg__strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case SHMIMG_ENOSEG:
        return "Unable to attach to shared memory segment. Load an image first.";
    case SHMIMG_EEMPTY: return "nothing has been published in this segment yet";
    case SHMIMG_EINCOMPLETE:
        return "the publisher stopped while writing; publish again";
    case SHMIMG_ECORRUPT: return "corrupt segment header";
    case SHMIMG_EVERSION: return "unsupported segment layout version";
    case SHMIMG_EPERM: return "permission problem";
    case SHMIMG_ENOTFILE: return "not a regular file";
    case SHMIMG_EKEY: return "invalid key";
    case SHMIMG_ENOTIMAGE: return "not an image";
    case SHMIMG_ETOOBIG: return "image too large";
    case SHMIMG_ENOSPACE: return "no space left for the segment";
    case SHMIMG_ETIMEDOUT: return "timed out";
    case SHMIMG_ETOOMANY: return "too many processes attached";
    case SHMIMG_ESYS: return "system error";
    case SHMIMG_EINVAL: return "invalid argument";
    case SHMIMG_ECANCELED: return "cancelled";
    case SHMIMG_EEXIST: return "the file exists";
    case SHMIMG_ESETTING: return "invalid setting";
    case SHMIMG_EGONE: return "the segment file was removed or replaced";
    case SHMIMG_EWRITE: return "cannot write the output";
    case SHMIMG_ELAPPED:
        return "the frame was overwritten while being read";
    }
    return "unknown error";
}

int shmimg_fail(shmimg_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
