/* escape.c - see escape.h.
 *
 * The input is cut into units: one valid UTF-8 character, or one byte that
 * is not part of one. Each unit becomes a short piece of output (at most
 * UNIT_MAX bytes), and a piece is written whole or not at all, which is
 * what keeps a cut output free of half escapes and half characters.
 */
#include "escape.h"

#include <stdint.h>

enum { UNIT_MAX = 6 }; /* the longest piece: \uXXXX */

#define NOT_UTF8 UINT32_MAX /* the unit is one byte of invalid UTF-8 */

/* Decodes the character at p, which is not at the terminating NUL.
 * The accepted byte ranges are those of Unicode table 3-7 (well-formed
 * UTF-8); they exclude overlong forms, surrogates and code points above
 * U+10FFFF without any arithmetic on the code point.
 * Returns: the bytes it takes (1-4); *cp is NOT_UTF8 for a byte that
 * starts no well-formed sequence (then 1). */
static size_t decode(const unsigned char *p, uint32_t *cp)
{
    unsigned char b = p[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else if (b >= 0xe0 && b <= 0xef)
        n = 3;
    else if (b >= 0xf0 && b <= 0xf4)
        n = 4;
    else
        goto bad;
    /* The second byte is what rules out overlong forms (E0, F0), the
     * surrogates (ED) and the code points past U+10FFFF (F4). */
    if (b == 0xe0)
        lo = 0xa0;
    else if (b == 0xed)
        hi = 0x9f;
    else if (b == 0xf0)
        lo = 0x90;
    else if (b == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        goto bad;
    /* A NUL is no continuation byte, so these never read past the end. */
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            goto bad;
    uint32_t c = b & (0x7f >> n);
    for (size_t i = 1; i < n; i++)
        c = c << 6 | (p[i] & 0x3f);
    *cp = c;
    return n;
bad:
    *cp = NOT_UTF8;
    return 1;
}

/* C1 controls and the characters that are invisible or reorder the text
 * around them: never shown as they are. */
static int hidden(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || cp == 0x61c ||
           (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static const char hex[] = "0123456789abcdef";

static size_t put_x(char *u, unsigned byte)
{
    u[0] = '\\';
    u[1] = 'x';
    u[2] = hex[byte >> 4 & 0xf];
    u[3] = hex[byte & 0xf];
    return 4;
}

static size_t put_u(char *u, uint32_t cp)
{
    u[0] = '\\';
    u[1] = 'u';
    for (int i = 0; i < 4; i++)
        u[2 + i] = hex[cp >> (12 - 4 * i) & 0xf];
    return 6;
}

static size_t put_two(char *u, char c)
{
    u[0] = '\\';
    u[1] = c;
    return 2;
}

/* Writes into u the display piece for the unit at p.
 * Returns: its length; *in_len: the input bytes it stands for. */
static size_t display_unit(const unsigned char *p, size_t *in_len, char *u)
{
    uint32_t cp;
    size_t n = decode(p, &cp);

    *in_len = n;
    if (cp == NOT_UTF8)
        return put_x(u, p[0]);
    switch (cp) {
    case '\\': return put_two(u, '\\');
    case '\n': return put_two(u, 'n');
    case '\t': return put_two(u, 't');
    case '\r': return put_two(u, 'r');
    case 0x1b: return put_two(u, 'e');
    }
    if (cp < 0x20 || cp == 0x7f)
        return put_x(u, cp);
    if (hidden(cp))
        return put_u(u, cp);
    for (size_t i = 0; i < n; i++)
        u[i] = (char)p[i];
    return n;
}

/* As display_unit, for the inside of a JSON string literal. */
static size_t json_unit(const unsigned char *p, size_t *in_len, char *u)
{
    uint32_t cp;
    size_t n = decode(p, &cp);

    *in_len = n;
    if (cp == NOT_UTF8)
        return put_u(u, 0xfffd);
    if (cp == '"' || cp == '\\')
        return put_two(u, (char)cp);
    if (cp < 0x20 || cp == 0x7f || hidden(cp))
        return put_u(u, cp);
    for (size_t i = 0; i < n; i++)
        u[i] = (char)p[i];
    return n;
}

typedef size_t unit_fn(const unsigned char *p, size_t *in_len, char *u);

/* Writes the pieces of s into out, between two quote characters unless
 * quote is 0, stopping before the first piece that would leave no room for
 * the closing quote and the NUL. out NULL only measures (with size
 * SIZE_MAX). Returns: the length written, or that would be. */
static size_t run(const char *s, char *out, size_t size, unit_fn *unit,
                  char quote)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t tail = quote ? 1 : 0; /* the closing quote still to come */
    size_t len = 0;
    char u[UNIT_MAX];

    if (size == 0)
        return 0;
    if (size < 2 * tail + 1) { /* not even the empty literal fits */
        if (out)
            out[0] = '\0';
        return 0;
    }
    if (quote) {
        if (out)
            out[len] = quote;
        len++;
    }
    /* Invariant: len + tail + 1 <= size. */
    while (*p) {
        size_t in_len, n = unit(p, &in_len, u);
        if (n > size - len - tail - 1)
            break;
        if (out)
            for (size_t i = 0; i < n; i++)
                out[len + i] = u[i];
        len += n;
        p += in_len;
    }
    if (quote) {
        if (out)
            out[len] = quote;
        len++;
    }
    if (out)
        out[len] = '\0';
    return len;
}

size_t escape_display(const char *s, char *out, size_t size)
{
    return run(s, out, size, display_unit, 0);
}

size_t escape_json(const char *s, char *out, size_t size)
{
    return run(s, out, size, json_unit, '"');
}

size_t escape_display_size(const char *s)
{
    return run(s, NULL, SIZE_MAX, display_unit, 0) + 1;
}

size_t escape_json_size(const char *s)
{
    return run(s, NULL, SIZE_MAX, json_unit, '"') + 1;
}
