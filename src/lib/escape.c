/* escape.c - see escape.h. (Stub: being written.) */
#include "escape.h"

#include <stdio.h>

size_t escape_display(const char *s, char *out, size_t size)
{
    int n = snprintf(out, size, "%s", s);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

size_t escape_json(const char *s, char *out, size_t size)
{
    int n = snprintf(out, size, "\"%s\"", s);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}
