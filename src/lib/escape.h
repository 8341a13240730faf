/* escape.h - untrusted text (file names, segment fields) made safe for a
 * terminal, a window title or JSON. (Stub: being written.) */
#ifndef SHMIMG_ESCAPE_H
#define SHMIMG_ESCAPE_H

#include <stddef.h>

size_t escape_display(const char *s, char *out, size_t size);
size_t escape_json(const char *s, char *out, size_t size);

#endif
