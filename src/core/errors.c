/* errors.c - the codes' descriptions and the one way a failure is recorded. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

const char *seg_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case SEG_ENOSEG: return "no segment under that key";
    case SEG_EEMPTY: return "nothing has been published in this segment yet";
    case SEG_EINCOMPLETE:
        return "the publisher stopped while writing; publish again";
    case SEG_ECORRUPT: return "corrupt segment";
    case SEG_EVERSION: return "unsupported segment layout version";
    case SEG_EPERM: return "permission denied";
    case SEG_ENOTFILE: return "not a regular file";
    case SEG_EKEY: return "invalid key";
    case SEG_ENOTIMAGE: return "not an image";
    case SEG_ETOOBIG: return "image too large";
    case SEG_ENOSPACE: return "no space left for the segment";
    case SEG_ETIMEDOUT: return "timed out";
    case SEG_ETOOMANY: return "too many processes attached";
    case SEG_ESYS: return "system error";
    case SEG_EINVAL: return "invalid argument";
    case SEG_ESMALL: return "destination buffer too small";
    case SEG_ESETTING: return "invalid setting";
    case SEG_EGONE: return "the segment was removed or replaced";
    case SEG_ELAPPED: return "the frame was overwritten while being read";
    case SEG_EREADONLY: return "a reader cannot publish";
    case SEG_ECANCELED: return "cancelled";
    case SEG_EEXIST: return "the file exists";
    case SEG_EWRITE: return "cannot write the output";
    }
    return "unknown error";
}

int seg_fail(seg_err *err, int code, const char *fmt, ...)
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
