/* escape.h - untrusted text (file names, segment fields, paths from the
 * environment, arguments) made safe for a person or for JSON.
 *
 * Why: a file name is any bytes but '/' and NUL. Printed raw, it can carry
 * ESC sequences that retitle or reprogram a terminal, U+202E that shows the
 * rest of the line reversed ("gpj.exe" read as "exe.jpg"), a newline that
 * forges a line of output, or invalid UTF-8, which JSON consumers reject.
 *
 * Contract:
 *   - escape_display is for people (terminal, window title, status line).
 *     It keeps printable ASCII and valid UTF-8 as they are and escapes:
 *       C0 controls and DEL   \n \t \r, ESC as \e, others as \x1f
 *       backslash             \\ (so a name cannot fake an escape)
 *       C1 controls           U+0080..U+009F as \u0085
 *       invisible/reordering  U+00AD, U+061C, U+200B..U+200F,
 *                             U+202A..U+202E, U+2028, U+2029,
 *                             U+2066..U+2069, U+FEFF as \u202e
 *       invalid UTF-8         each byte as \xNN, decoding resumes at the
 *                             next byte (stray continuation bytes, cut or
 *                             overlong sequences, surrogates, > U+10FFFF,
 *                             bytes C0 C1 F5..FF)
 *     The escaping is reversible: no two inputs give the same output.
 *   - escape_json writes a complete JSON string literal, quotes included:
 *     \" and \\; C0 controls, DEL, C1 controls and the invisible characters
 *     above as \u00XX / \uXXXX; each byte of invalid UTF-8 as \ufffd
 *     (U+FFFD). The result is always valid UTF-8 and valid JSON.
 *   - Hex digits are lower case. Output is UTF-8; escapes are ASCII.
 *   - out holds size bytes and is always NUL-terminated when size > 0.
 *     When it is too small the output stops before the first escape or
 *     character that does not fit whole; a JSON literal is then still
 *     closed with its quote. A JSON literal needs size >= 3 ("" and the
 *     NUL); below that out is "" and the return is 0.
 *   - s is a NUL-terminated string, never NULL. Nothing is allocated, no
 *     state is kept: the functions are thread-safe.
 *
 * Usage:
 *       char buf[256];
 *       escape_display(name, buf, sizeof buf);          cut if long
 *   or, to never cut:
 *       char *p = malloc(escape_json_size(name));
 *       escape_json(name, p, escape_json_size(name));
 */
#ifndef SHMIMG_ESCAPE_H
#define SHMIMG_ESCAPE_H

#include <stddef.h>

/* s escaped for a person into out (size: bytes of out, NUL included).
 * Returns: the length of out in bytes, without the NUL. */
size_t escape_display(const char *s, char *out, size_t size);

/* s as a JSON string literal with its quotes into out (size: bytes of out,
 * NUL included).
 * Returns: the length of out in bytes, without the NUL. */
size_t escape_json(const char *s, char *out, size_t size);

/* Returns: the exact size in bytes, NUL included, that escape_display /
 * escape_json need to write s whole. */
size_t escape_display_size(const char *s);
size_t escape_json_size(const char *s);

#endif
