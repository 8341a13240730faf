/* tiffread.c - see tiffread.h. */
#include "tiffread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <unistd.h>

/* libtiff's first error for this file; warnings are dropped (they mean
 * nothing when the decode succeeds, and an error follows when it fails). */
typedef struct tiff_said {
    char text[256];
} tiff_said;

static int keep_error(TIFF *t, void *user, const char *module, const char *fmt,
                      va_list ap)
{
    (void)t;
    tiff_said *s = user;
    if (!s->text[0]) {
        int n = module ? snprintf(s->text, sizeof s->text, "%s: ", module) : 0;
        if (n < 0 || (size_t)n >= sizeof s->text)
            n = 0;
        vsnprintf(s->text + n, sizeof s->text - (size_t)n, fmt, ap);
    }
    return 1; /* handled: not passed to the global handler (stderr) */
}

static int drop_warning(TIFF *t, void *user, const char *module,
                        const char *fmt, va_list ap)
{
    (void)t, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

/* Returns: TIFFREAD_CUT when a strip or tile of the first directory ends
 * past size, with why; TIFFREAD_DECODED otherwise. */
static int check_striles(TIFF *t, uint64_t size, char *why, size_t why_size)
{
    uint32_t n = TIFFIsTiled(t) ? TIFFNumberOfTiles(t) : TIFFNumberOfStrips(t);
    uint64_t needs = 0;
    uint32_t first = 0; /* the first strip or tile past the end, + 1 */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t at = TIFFGetStrileOffset(t, i);
        uint64_t bytes = TIFFGetStrileByteCount(t, i);
        uint64_t end = bytes > UINT64_MAX - at ? UINT64_MAX : at + bytes;
        if (end > size && !first)
            first = i + 1;
        if (end > needs)
            needs = end;
    }
    if (!first)
        return TIFFREAD_DECODED;
    snprintf(why, why_size,
             "the TIFF file stops at byte %llu of the %llu its %s call for "
             "(%s %u of %u is cut)",
             (unsigned long long)size, (unsigned long long)needs,
             TIFFIsTiled(t) ? "tiles" : "strips",
             TIFFIsTiled(t) ? "tile" : "strip", first, n);
    return TIFFREAD_CUT;
}

static uint64_t get(const uint8_t *p, int bytes, int big)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[big ? i : bytes - 1 - i] << 8 * (bytes - 1 - i);
    return v;
}

/* The first directory (its entry count, 12-byte entries, the next
 * directory's offset) and every tag value it keeps out of line (over 4
 * bytes) must lie inside the file: libtiff drops a tag whose value it
 * cannot read, with a warning, and decodes on. Classic TIFF only:
 * BigTIFF is not read by SDL_image either.
 * Returns: TIFFREAD_CUT with why, or TIFFREAD_DECODED. */
static int check_directory(int fd, uint64_t size, char *why, size_t why_size)
{
    /* Bytes a value of each TIFF field type 1..13 takes. */
    static const uint8_t type_bytes[14] = {0, 1, 1, 2, 4, 8, 1,
                                           1, 2, 4, 8, 4, 8, 4};
    uint8_t h[8], c[2];
    if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return TIFFREAD_DECODED; /* libtiff says what is wrong */
    int big = h[0] == 'M';
    uint64_t at = get(h + 4, 4, big), needs = at + 2;
    if (needs <= size) {
        if (pread(fd, c, sizeof c, (off_t)at) != (ssize_t)sizeof c)
            return TIFFREAD_DECODED;
        uint32_t entries = (uint32_t)get(c, 2, big);
        needs += 12 * (uint64_t)entries + 4;
        for (uint32_t i = 0; i < entries && needs <= size; i++) {
            uint8_t e[12]; /* tag, type, count, value or offset */
            if (pread(fd, e, sizeof e, (off_t)(at + 2 + 12 * (uint64_t)i)) !=
                (ssize_t)sizeof e)
                break;
            uint64_t type = get(e + 2, 2, big);
            uint64_t bytes =
                type < 14 ? type_bytes[type] * get(e + 4, 4, big) : 0;
            if (bytes > 4 && get(e + 8, 4, big) + bytes > needs)
                needs = get(e + 8, 4, big) + bytes;
        }
    }
    if (needs <= size)
        return TIFFREAD_DECODED;
    snprintf(why, why_size,
             "the TIFF file stops at byte %llu of the %llu its first "
             "directory calls for",
             (unsigned long long)size, (unsigned long long)needs);
    return TIFFREAD_CUT;
}

/* Straight alpha, relabelled associated: libtiff's RGBA reader then copies
 * the colour samples as they are instead of premultiplying them. The
 * count is kept: libtiff takes the colour channels to be the samples
 * less the extra ones. Returns: 0, or -1 when out of memory. */
static int read_straight_alpha(TIFF *t)
{
    uint16_t count, *kinds;
    if (!TIFFGetField(t, TIFFTAG_EXTRASAMPLES, &count, &kinds) || count == 0 ||
        kinds[0] != EXTRASAMPLE_UNASSALPHA)
        return 0;
    uint16_t *relabelled = malloc(count * sizeof *relabelled);
    if (!relabelled)
        return -1;
    memcpy(relabelled, kinds, count * sizeof *relabelled);
    relabelled[0] = EXTRASAMPLE_ASSOCALPHA;
    /* Allowed on a file opened for reading: it changes the directory in
     * memory only. */
    int ok = TIFFSetField(t, TIFFTAG_EXTRASAMPLES, count, relabelled);
    free(relabelled);
    return ok ? 0 : -1;
}

/* Opens a copy of fd with libtiff (which closes what it opens: a copy of
 * ours, never 0, 1 or 2), libtiff's messages going to said.
 * Returns: the handle, or NULL with why. */
static TIFF *open_copy(int fd, size_t max_alloc, tiff_said *said, char *why,
                       size_t why_size)
{
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    /* The copy shares the offset, which the probe moved; libtiff reads
     * the header from where the offset is. */
    if (copy < 0 || lseek(copy, 0, SEEK_SET) != 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        if (copy >= 0)
            close(copy);
        return NULL;
    }
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!o) {
        close(copy);
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    TIFFOpenOptionsSetMaxSingleMemAlloc(
        o, (tmsize_t)(max_alloc > INT64_MAX ? INT64_MAX : max_alloc));
    TIFFOpenOptionsSetErrorHandlerExtR(o, keep_error, said);
    TIFFOpenOptionsSetWarningHandlerExtR(o, drop_warning, NULL);
    /* "m": read, never map: a file cut by another process while mapped
     * would be a SIGBUS. */
    TIFF *t = TIFFFdOpenExt(copy, "TIFF", "rm", o);
    TIFFOpenOptionsFree(o);
    if (!t) {
        close(copy); /* not closed by libtiff when the open fails */
        snprintf(why, why_size, "%s",
                 said->text[0] ? said->text : "not a TIFF");
    }
    return t;
}

int tiffread_check(int fd, uint64_t size, char *why, size_t why_size)
{
    if (check_directory(fd, size, why, why_size) == TIFFREAD_CUT)
        return TIFFREAD_CUT;
    tiff_said said = {""};
    TIFF *t = open_copy(fd, SIZE_MAX, &said, why, why_size);
    if (!t)
        return TIFFREAD_DECODED; /* nothing cut that we can tell */
    int rc = check_striles(t, size, why, why_size);
    TIFFClose(t);
    return rc;
}

int tiffread_decode(int fd, uint64_t size, size_t max_alloc, SDL_Surface **out,
                    char *why, size_t why_size)
{
    *out = NULL;
    tiff_said said = {""};
    SDL_Surface *s = NULL;
    if (check_directory(fd, size, why, why_size) == TIFFREAD_CUT)
        return TIFFREAD_CUT;
    TIFF *t = open_copy(fd, max_alloc, &said, why, why_size);
    if (!t)
        return TIFFREAD_UNREADABLE;
    uint32_t w = 0, h = 0;
    char emsg[1024] = "";
    int rc = check_striles(t, size, why, why_size);
    if (rc != TIFFREAD_DECODED)
        goto out;
    rc = TIFFREAD_UNREADABLE;
    if (read_straight_alpha(t) < 0) {
        snprintf(why, why_size, "cannot relabel its alpha: %s",
                 said.text[0] ? said.text : "out of memory");
        goto out;
    }
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) ||
        !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h) || w == 0 || h == 0 ||
        w > INT32_MAX / 4 || h > INT32_MAX) {
        snprintf(why, why_size, "no usable width and height");
        goto out;
    }
    if (!TIFFRGBAImageOK(t, emsg)) {
        snprintf(why, why_size, "%s", emsg);
        goto out;
    }
    s = SDL_CreateRGBSurfaceWithFormat(0, (int)w, (int)h, 32,
                                       SDL_PIXELFORMAT_ABGR8888);
    if (!s) {
        snprintf(why, why_size, "%s", SDL_GetError());
        goto out;
    }
    /* TIFFReadRGBAImage fills w x h words, row after row. */
    if ((size_t)s->pitch != (size_t)w * 4) {
        snprintf(why, why_size, "rows of %d bytes, not %u", s->pitch, w * 4);
        goto out;
    }
    if (!TIFFReadRGBAImageOriented(t, w, h, s->pixels, ORIENTATION_TOPLEFT,
                                   1 /* stop on the first error */)) {
        snprintf(why, why_size, "%s",
                 said.text[0] ? said.text : "libtiff could not read it");
        goto out;
    }
    *out = s;
    s = NULL;
    rc = TIFFREAD_DECODED;
out:
    SDL_FreeSurface(s);
    TIFFClose(t); /* closes copy */
    return rc;
}
