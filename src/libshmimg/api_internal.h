/* api_internal.h - what the public layer's sources share (not installed).
 *
 * The segment's errors.h spells its internal description shmimg_strerror
 * (a macro over shmimg__strerror); here that name is the public function
 * of shmimg.h, which takes the public codes, so the macro goes. */
#ifndef SHMIMG_API_INTERNAL_H
#define SHMIMG_API_INTERNAL_H

#include "segment.h"
#undef shmimg_strerror
#include "shmimg.h"

/* Translates internal code and records err's message.
 * Returns: the public code. */
int shmimg__failed(int internal, const shmimg_err *err);

#endif
