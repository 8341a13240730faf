/* pair.h - shmimg --pair: two windows side by side, as two processes. */
#ifndef SHMIMG_PAIR_H
#define SHMIMG_PAIR_H

#include <stdbool.h>

/* Starts two shmimg windows on key: the left one publishes image (the
 * sample image when NULL), the right one waits for P (or runs live).
 * Returns when both have closed. Returns: the exit status. */
int pair_run(const char *key, bool live, const char *image);

#endif
