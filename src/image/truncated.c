/* truncated.c - see truncated.h. Each check mirrors how SDL_image 2.6's
 * reader of the format walks the file, so that "complete" means that the
 * reader finds everything it reads. */
#include "truncated.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}
static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

/* Reads up to n bytes from offset at. Returns: the count read. */
static size_t read_at(FILE *f, uint64_t at, void *buf, size_t n)
{
    if (at > INT64_MAX || fseeko(f, (off_t)at, SEEK_SET) != 0)
        return 0;
    return fread(buf, 1, n, f);
}

/* ---- JPEG ----------------------------------------------------------------- */

/* The byte after 0xFF (and any fill 0xFFs), or EOF. */
static int next_marker(FILE *f)
{
    int c = getc_unlocked(f);
    if (c != 0xFF)
        return EOF;
    while ((c = getc_unlocked(f)) == 0xFF)
        ;
    return c;
}

/* Skips entropy-coded data, in which 0xFF is followed by 0x00 (a stuffed
 * byte) or a restart marker 0xD0..0xD7. Returns the next real marker. */
static int skip_scan(FILE *f)
{
    for (;;) {
        int c = getc_unlocked(f);
        if (c == EOF)
            return EOF;
        if (c != 0xFF)
            continue;
        while ((c = getc_unlocked(f)) == 0xFF)
            ;
        if (c != 0x00 && !(c >= 0xD0 && c <= 0xD7))
            return c;
    }
}

/* Segments with lengths; each start-of-scan is followed by entropy-coded
 * data. libjpeg pads a cut scan with grey and says nothing (a warning, to
 * stderr, that SDL_image does not pass on). Complete: the end-of-image
 * marker is reached. */
static bool jpeg_cut(FILE *f)
{
    if (fseeko(f, 0, SEEK_SET) != 0 || getc_unlocked(f) != 0xFF ||
        getc_unlocked(f) != 0xD8)
        return false;
    int marker = next_marker(f);
    for (;;) {
        if (marker == EOF)
            return true;
        if (marker == 0xD9)
            return false;
        if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
            marker = next_marker(f);
            continue;
        }
        uint8_t len[2];
        if (fread(len, 1, 2, f) != 2 || be16(len) < 2 ||
            fseek(f, (long)be16(len) - 2, SEEK_CUR) != 0)
            return true;
        marker = marker == 0xDA ? skip_scan(f) : next_marker(f);
    }
}

/* ---- PNG ------------------------------------------------------------------ */

/* SDL_image reads the image data and stops: it never asks libpng for the
 * chunks after it, so a file cut after (or in the checksum of) its last
 * IDAT decodes. Complete: every chunk whole, up to IEND. */
static bool png_cut(FILE *f, uint64_t size)
{
    for (uint64_t at = 8;;) { /* after the signature */
        uint8_t head[8];      /* length, type */
        if (size < 12 || at > size - 12 || read_at(f, at, head, 8) != 8)
            return true;
        uint64_t end = at + 12 + be32(head); /* + length, type, CRC */
        if (end > size)
            return true;
        if (memcmp(head + 4, "IEND", 4) == 0)
            return false;
        at = end;
    }
}

/* ---- GIF ------------------------------------------------------------------ */

/* Skips a chain of data sub-blocks (a size byte, that many bytes, ...,
 * a zero). Returns: 0, or -1 at the end of the file. */
static int skip_sub_blocks(FILE *f)
{
    for (;;) {
        int n = getc_unlocked(f);
        if (n == EOF)
            return -1;
        if (n == 0)
            return 0;
        if (fseek(f, n, SEEK_CUR) < 0)
            return -1;
    }
}

static int skip_colour_table(FILE *f, int packed)
{
    if (!(packed & 0x80))
        return 0;
    return fseek(f, 3L << ((packed & 7) + 1), SEEK_CUR);
}

int truncated_gif(FILE *f, int *frames)
{
    *frames = 0;
    unsigned char head[13];
    if (fseeko(f, 0, SEEK_SET) != 0 ||
        fread(head, 1, sizeof head, f) != sizeof head ||
        (memcmp(head, "GIF87a", 6) != 0 && memcmp(head, "GIF89a", 6) != 0))
        return -1;
    /* A seek past the end succeeds; the next read then finds the end. */
    if (skip_colour_table(f, head[10]) < 0)
        return 1;
    for (;;) {
        int block = getc_unlocked(f);
        if (block == EOF)
            return 1;
        if (block == 0x3B) /* the trailer */
            return 0;
        if (block == 0x2C) { /* an image: descriptor, table, LZW data */
            unsigned char d[9];
            if (fread(d, 1, sizeof d, f) != sizeof d ||
                skip_colour_table(f, d[8]) < 0 || getc_unlocked(f) == EOF ||
                skip_sub_blocks(f) < 0)
                return 1;
            ++*frames;
        } else if (block == 0x21) { /* an extension: label, data */
            if (getc_unlocked(f) == EOF || skip_sub_blocks(f) < 0)
                return 1;
        }
        /* else a byte that starts no block: SDL_image skips it too */
    }
}

/* ---- BMP, ICO and CUR, WEBP: sizes declared in the header ------------- */

/* RLE8 and RLE4 data, from offset at: pairs (a count and a colour, or 0
 * and an escape: 0 end of line, 1 end of bitmap, 2 a move of 2 bytes, n
 * pixels given as they are, padded to 2 bytes), as SDL's reader walks it
 * up to the end-of-bitmap escape; it refuses a cut one, but only with
 * "Error reading from datastream". Returns: whether that escape is
 * missing. */
static bool bmp_rle_cut(FILE *f, uint64_t at, bool rle4)
{
    if (at > INT64_MAX || fseeko(f, (off_t)at, SEEK_SET) != 0)
        return true;
    for (;;) {
        int count = getc_unlocked(f), code = getc_unlocked(f);
        if (count == EOF || code == EOF)
            return true;
        if (count != 0 || code == 0)
            continue;
        if (code == 1)
            return false;
        long skip = code == 2 ? 2 : rle4 ? (code + 1) / 2 : code;
        if (fseek(f, skip + (skip & 1), SEEK_CUR) != 0)
            return true;
    }
}

/* Uncompressed rows (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS) from the
 * pixel-data offset, or RLE data up to its end (*rle_cut).
 * Returns: the bytes the file needs, or 0 when not known here. */
static uint64_t bmp_needs(FILE *f, bool *rle_cut)
{
    *rle_cut = false;
    uint8_t h[34]; /* file header 14, info header to its compression */
    if (read_at(f, 0, h, sizeof h) != sizeof h)
        return sizeof h; /* not even that is there */
    uint32_t header = le32(h + 14), compression = 0, bits;
    int64_t w, hh;
    if (header == 12) { /* OS/2 BITMAPCOREHEADER */
        w = le16(h + 18);
        hh = le16(h + 20);
        bits = le16(h + 24);
    } else if (header >= 40) {
        w = (int32_t)le32(h + 18);
        hh = (int32_t)le32(h + 22);
        bits = le16(h + 28);
        compression = le32(h + 30);
    } else {
        return 0;
    }
    if ((compression == 1 && bits == 8) || (compression == 2 && bits == 4)) {
        *rle_cut = bmp_rle_cut(f, le32(h + 10), compression == 2);
        return 0;
    }
    if (hh < 0)
        hh = -hh; /* top-down */
    if (w <= 0 || hh == 0 || bits == 0 || bits > 32 ||
        (compression != 0 && compression != 3 && compression != 6))
        return 0;
    uint64_t pitch = ((uint64_t)w * bits + 31) / 32 * 4; /* bytes */
    return le32(h + 10) + pitch * (uint64_t)hh;
}

/* ICO and CUR (magic 0, type 1 or 2, a count), as SDL_image tells them:
 * the directory, then every image it lists, whole.
 * Returns: the bytes the file needs, or 0 when f is not one. */
static uint64_t ico_needs(FILE *f, uint64_t size)
{
    uint8_t h[6];
    if (read_at(f, 0, h, sizeof h) != sizeof h || le16(h) != 0 ||
        (le16(h + 2) != 1 && le16(h + 2) != 2) || le16(h + 4) == 0)
        return 0;
    uint32_t count = le16(h + 4);
    uint64_t needs = 6 + 16 * (uint64_t)count;
    if (needs > size)
        return needs;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t e[16]; /* w, h, colours, 0, planes, bits, size, offset */
        if (read_at(f, 6 + 16 * (uint64_t)i, e, sizeof e) != sizeof e)
            return needs;
        uint64_t end = (uint64_t)le32(e + 12) + le32(e + 8);
        if (end > needs)
            needs = end;
    }
    return needs;
}

/* ---- TGA ------------------------------------------------------------------ */

/* The pixels of a TGA's data, as SDL_image's reader takes them (it ignores
 * a short read and leaves those pixels as they were).
 * Returns: 1 when fewer than width x height pixels are there (*got,
 * *want), 0 otherwise or for a TGA SDL_image does not read. */
static int tga_cut(FILE *f, uint64_t size, uint64_t *got, uint64_t *want)
{
    uint8_t h[18];
    if (read_at(f, 0, h, sizeof h) != sizeof h)
        return 0; /* the reader refuses a short header */
    unsigned type = h[2], bits = h[16];
    bool rle = type >= 9;
    if ((type & 7) < 1 || (type & 7) > 3 || (type > 3 && type < 9) ||
        type > 11 ||
        (bits != 8 && bits != 15 && bits != 16 && bits != 24 && bits != 32) ||
        (h[17] & 0xD0)) /* interleaved, or right to left: refused */
        return 0;
    uint64_t bpp = (bits + 7) / 8; /* bytes a pixel */
    uint64_t at = 18 + (uint64_t)h[0];
    if (h[1]) /* a colour map, skipped or read */
        at += (uint64_t)le16(h + 5) * ((h[7] + 7u) / 8);
    *want = (uint64_t)le16(h + 12) * le16(h + 14);
    *got = 0;
    if (!rle) {
        *got = at < size ? (size - at) / bpp : 0;
        if (*got >= *want)
            return 0;
        return 1;
    }
    if (fseeko(f, (off_t)at, SEEK_SET) != 0)
        return 1;
    while (*got < *want) {
        int c = getc_unlocked(f);
        if (c == EOF)
            return 1;
        uint64_t n = (uint64_t)(c & 0x7F) + 1;    /* pixels */
        uint64_t data = c & 0x80 ? bpp : n * bpp; /* bytes */
        at += 1 + data;
        if (at > size) { /* the pixels of the packet that are there */
            uint64_t there = size - (at - data);
            *got += c & 0x80 ? 0 : there / bpp;
            return *got < *want;
        }
        if (fseeko(f, (off_t)data, SEEK_CUR) != 0)
            return 1;
        *got += n;
    }
    return 0;
}

/* ---- QOI ------------------------------------------------------------------ */

/* The decoder reads operations while they start before the 8-byte end
 * marker, and repeats the last pixel for every pixel after that: a cut
 * file decodes. Walks the operations, counting the pixels they make.
 * Returns: 1 when they stop before width x height (*got < *want), or make
 * them all but the end marker after them is not whole (*got == *want),
 * or the header itself is cut (*want == 0);
 * 0 otherwise, or for a header the decoder refuses. */
static int qoi_cut(FILE *f, uint64_t size, uint64_t *got, uint64_t *want)
{
    uint8_t h[14];
    *got = *want = 0; /* 0 of 0: the header is cut */
    if (read_at(f, 0, h, sizeof h) != sizeof h)
        return 1;
    uint64_t w = be32(h + 4), hh = be32(h + 8);
    if (w == 0 || hh == 0 || h[12] < 3 || h[12] > 4 || h[13] > 1 ||
        hh >= 400000000 / w || size < 14 + 8)
        return 0;
    *want = w * hh;
    *got = 0;
    uint64_t chunks_end = size - 8, at = 14;
    while (*got < *want) {
        if (at >= chunks_end)
            return 1;
        int op = getc_unlocked(f);
        if (op == EOF)
            return 1;
        at++;
        int more = op == 0xFE            ? 3
                   : op == 0xFF          ? 4
                   : (op & 0xC0) == 0x80 ? 1
                                         : 0;
        for (int i = 0; i < more; i++, at++)
            if (getc_unlocked(f) == EOF)
                return 1;
        bool run = (op & 0xC0) == 0xC0 && op < 0xFE;
        *got += run ? (uint64_t)(op & 0x3F) + 1 : 1;
    }
    if (*got > *want)
        *got = *want;
    /* Every pixel there, as PNG's after its last IDAT: the end marker must
     * be whole too, or the file was cut. */
    return at + 8 > size;
}

/* ---- PCX ------------------------------------------------------------------ */

/* Returns: 1 when the RLE (or plain) rows stop short (*rows of *want
 * done) or an 8-bit file stops before the end of its 256-colour palette
 * (*rows == *want); 0 otherwise, or for a PCX SDL_image does not read. */
static int pcx_cut(FILE *f, uint64_t size, uint64_t *rows, uint64_t *want)
{
    uint8_t h[128];
    if (read_at(f, 0, h, sizeof h) != sizeof h || h[0] != 10 || h[1] != 5 ||
        h[2] > 1)
        return 0;
    int height = (int16_t)le16(h + 10) - (int16_t)le16(h + 6) + 1;
    unsigned bits = h[3], planes = h[65];
    uint64_t line = (uint64_t)planes * le16(h + 66); /* bytes a row */
    if (height <= 0 || line == 0 ||
        !((bits == 1 && planes >= 1 && planes <= 4) ||
          (bits == 8 && (planes == 1 || planes == 3))))
        return 0;
    *want = (uint64_t)height;
    uint64_t left = line * *want, at = 128; /* bytes to decode; offset */
    if (h[2] == 0) {
        uint64_t there = size - at;
        left = there >= left ? 0 : left - there;
        at += line * *want - left;
    } else {
        while (left > 0) {
            int c = getc_unlocked(f);
            if (c == EOF)
                break;
            at++;
            uint64_t n = 1;
            if (c >= 0xC0) {
                n = (uint64_t)c - 0xC0;
                if (getc_unlocked(f) == EOF)
                    break;
                at++;
                if (n == 0) { /* the reader repeats this byte for ever */
                    left = 0;
                    break;
                }
            }
            left -= n < left ? n : left;
        }
    }
    *rows = *want - (left + line - 1) / line;
    if (left > 0)
        return 1;
    if (bits != 8 || planes != 1)
        return 0;
    /* The reader looks for the palette's marker, 12, from the end of the
     * rows, then reads 768 bytes. */
    if (fseeko(f, (off_t)at, SEEK_SET) != 0)
        return 1;
    for (int c; (c = getc_unlocked(f)) != EOF; at++)
        if (c == 12)
            return at + 1 + 768 > size;
    return 1;
}

/* ---- SVG ------------------------------------------------------------------ */

/* SDL_image takes a file with "<svg" in its first 4095 bytes for SVG. */
static bool is_svg(FILE *f)
{
    char head[4096];
    size_t n = read_at(f, 0, head, sizeof head - 1);
    head[n] = '\0';
    return strstr(head, "<svg") != NULL; /* stops at a NUL, as SDL's */
}

/* nanosvg draws the elements before a cut. Complete: the file's last tag,
 * after white space and comments, closes the root: </svg> (or </p:svg>),
 * or the root is an empty <svg .../>. */
static bool svg_cut(FILE *f, uint64_t size)
{
    char tail[65536];
    uint64_t from = size > sizeof tail - 1 ? size - (sizeof tail - 1) : 0;
    size_t n = read_at(f, from, tail, sizeof tail - 1);
    tail[n] = '\0';
    for (;;) {
        while (n > 0 && strchr(" \t\r\n", tail[n - 1]))
            n--;
        if (n >= 3 && memcmp(tail + n - 3, "-->", 3) == 0) {
            tail[n - 3] = '\0';
            char *open = strstr(tail, "<!--"), *next;
            while (open && (next = strstr(open + 4, "<!--")))
                open = next;
            if (!open)
                return true;
            n = (size_t)(open - tail);
            continue;
        }
        break;
    }
    if (n == 0 || tail[n - 1] != '>')
        return true;
    tail[n] = '\0';
    char *lt = strrchr(tail, '<');
    if (!lt)
        return true;
    bool closing = lt[1] == '/';
    const char *name = lt + (closing ? 2 : 1);
    size_t len = strcspn(name, " \t\r\n/>");
    const char *colon = memchr(name, ':', len);
    if (colon) { /* a namespace prefix */
        len -= (size_t)(colon + 1 - name);
        name = colon + 1;
    }
    if (len != 3 || memcmp(name, "svg", 3) != 0)
        return true;
    return !closing && !(n >= 2 && tail[n - 2] == '/');
}

/* ---- XPM ------------------------------------------------------------------ */

/* The reader refuses a file cut in its strings, but not one cut after the
 * last of them. Complete: the C array's closing "};" ends the file (white
 * space may follow). */
static bool xpm_cut(FILE *f, uint64_t size)
{
    char tail[64];
    uint64_t from = size > sizeof tail ? size - sizeof tail : 0;
    size_t n = read_at(f, from, tail, sizeof tail);
    while (n > 0 && strchr(" \t\r\n", tail[n - 1]))
        n--;
    if (n == 0 || tail[n - 1] != ';')
        return true;
    n--;
    while (n > 0 && strchr(" \t\r\n", tail[n - 1]))
        n--;
    return n == 0 || tail[n - 1] != '}';
}

/* ---- all of them ---------------------------------------------------------- */

/* The format by its first bytes alone, for a file cut too short for the
 * probe (which wants the size: a JPEG's frame header, a PNG's IHDR),
 * and for SDL_image, which then says "Unsupported image format". */
static probe_format sniff(FILE *f)
{
    uint8_t h[12] = {0};
    size_t n = read_at(f, 0, h, sizeof h);
    if (n >= 2 && h[0] == 0xFF && h[1] == 0xD8)
        return PROBE_JPEG;
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return PROBE_PNG;
    if (n >= 6 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0))
        return PROBE_GIF;
    if (n >= 2 && h[0] == 'B' && h[1] == 'M')
        return PROBE_BMP;
    if (n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0)
        return PROBE_WEBP;
    if (n >= 4 && memcmp(h, "qoif", 4) == 0)
        return PROBE_QOI;
    return PROBE_UNKNOWN;
}

/* A file of a format the probe or sniff named. Returns: 1 cut short, why
 * set; 0 whole (or not ours to tell); -1 for PROBE_UNKNOWN. */
static int cut_known(FILE *f, uint64_t size, probe_format format, char *why,
                     size_t why_size)
{
    uint64_t got, want, needs;
    int frames;
    switch (format) {
    case PROBE_JPEG:
        if (!jpeg_cut(f))
            return 0;
        snprintf(why, why_size,
                 "the JPEG data stops before its end-of-image marker");
        return 1;
    case PROBE_PNG:
        if (!png_cut(f, size))
            return 0;
        snprintf(why, why_size, "the PNG data stops before its IEND chunk");
        return 1;
    case PROBE_GIF:
        if (truncated_gif(f, &frames) != 1)
            return 0;
        snprintf(why, why_size,
                 "the GIF data stops before its trailer, after %d whole "
                 "frame%s",
                 frames, frames == 1 ? "" : "s");
        return 1;
    case PROBE_BMP: {
        bool rle_cut;
        needs = bmp_needs(f, &rle_cut);
        if (rle_cut) {
            snprintf(why, why_size,
                     "the BMP's RLE data stops before its end-of-bitmap "
                     "code");
            return 1;
        }
        if (needs <= size)
            return 0;
        snprintf(why, why_size,
                 "the BMP file stops at byte %llu of the %llu its header "
                 "calls for",
                 (unsigned long long)size, (unsigned long long)needs);
        return 1;
    }
    case PROBE_WEBP: {
        uint8_t h[8];
        if (read_at(f, 0, h, sizeof h) != sizeof h)
            return 0; /* sniffed with 12 bytes, probed with 30 */
        needs = (uint64_t)le32(h + 4) + 8;
        if (needs <= size)
            return 0;
        snprintf(why, why_size,
                 "the WEBP file stops at byte %llu of the %llu its RIFF "
                 "header calls for",
                 (unsigned long long)size, (unsigned long long)needs);
        return 1;
    }
    case PROBE_QOI:
        if (qoi_cut(f, size, &got, &want) != 1)
            return 0;
        if (want == 0)
            snprintf(why, why_size, "the QOI file stops in its header");
        else if (got < want)
            snprintf(why, why_size,
                     "the QOI data stops after %llu of %llu pixels",
                     (unsigned long long)got, (unsigned long long)want);
        else
            snprintf(why, why_size, "the QOI data stops before its end marker");
        return 1;
    case PROBE_XPM:
        if (!xpm_cut(f, size))
            return 0;
        snprintf(why, why_size, "the XPM data stops before its closing };");
        return 1;
    case PROBE_UNKNOWN: return -1;
    default: /* TIFF: tiffread.c; PNM: its reader refuses a cut file */
        return 0;
    }
}

/* Formats the probe does not know, in SDL_image's order: ICO, PCX, SVG.
 * Returns: 1 cut short, why set; 0 otherwise. */
static int cut_unknown(FILE *f, uint64_t size, char *why, size_t why_size)
{
    uint64_t got, want;
    uint64_t needs = ico_needs(f, size);
    if (needs > size) {
        snprintf(why, why_size,
                 "the icon file stops at byte %llu of the %llu its "
                 "directory calls for",
                 (unsigned long long)size, (unsigned long long)needs);
        return 1;
    }
    if (needs)
        return 0;
    switch (pcx_cut(f, size, &got, &want)) {
    case 1:
        if (got < want)
            snprintf(why, why_size,
                     "the PCX data stops after %llu of %llu rows",
                     (unsigned long long)got, (unsigned long long)want);
        else
            snprintf(why, why_size,
                     "the PCX file stops before the end of its 256-colour "
                     "palette");
        return 1;
    default: break;
    }
    if (is_svg(f) && svg_cut(f, size)) {
        snprintf(why, why_size,
                 "the SVG data stops before its closing </svg> tag");
        return 1;
    }
    return 0;
}

int truncated_check(FILE *f, uint64_t size, const probe_info *info,
                    const char *ext, char *why, size_t why_size)
{
    /* SDL_image tries TGA, which has no magic, first when the name says
     * .tga, whatever the bytes. */
    if (ext && strcasecmp(ext, "tga") == 0) {
        uint64_t got, want;
        if (tga_cut(f, size, &got, &want) == 1) {
            snprintf(why, why_size,
                     "the TGA pixel data stops after %llu of %llu pixels",
                     (unsigned long long)got, (unsigned long long)want);
            return 1;
        }
        return 0;
    }
    probe_format format =
        info->format != PROBE_UNKNOWN ? info->format : sniff(f);
    int cut = cut_known(f, size, format, why, why_size);
    return cut >= 0 ? cut : cut_unknown(f, size, why, why_size);
}
