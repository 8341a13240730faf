/* api_internal.h - what the public layer's sources share (not installed). */
#ifndef SHMIMG_API_INTERNAL_H
#define SHMIMG_API_INTERNAL_H

#include "segment.h"
#include "shmimg.h"

/* Records err's message (or code's description) as the thread's last
 * error. Returns: code, which is one of shmimg.h's (errors.h). */
int shmimg__failed(int code, const seg_err *err);

#endif
