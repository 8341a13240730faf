/* plain.h - what a library status means, in the words of a person who
 * dropped a file or pressed a key, and what they can do next.
 *
 * The library's messages are exact but technical ("Unable to attach to
 * shared memory segment", "SDL_image cannot decode it: Unsupported image
 * format"); the window shows these sentences instead and keeps the
 * library's on stderr, for whoever digs further.
 */
#ifndef SHMIMG_PLAIN_H
#define SHMIMG_PLAIN_H

#include <stddef.h>

/* A file (dropped, or named on the command line) could not be opened:
 * path, the file; code, image_load's status.
 * Returns: buf, holding a sentence (not escaped: the caller escapes). */
char *plain_file_failure(int code, const char *path, char *buf, size_t size);

/* The segment of key could not be attached or read; code: the status.
 * Returns: buf, holding a sentence (not escaped). */
char *plain_segment_failure(int code, const char *key, char *buf, size_t size);

#endif
