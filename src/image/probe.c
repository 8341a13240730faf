/* probe.c - see probe.h. Each reader looks at a few header bytes only. */
#include "probe.h"

#include <ctype.h>
#include <string.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}
static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le24(const uint8_t *p)
{
    return le16(p) | (uint32_t)p[2] << 16;
}
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }
static uint32_t get16(const uint8_t *p, int big)
{
    return big ? be16(p) : le16(p);
}
static uint32_t get32(const uint8_t *p, int big)
{
    return big ? be32(p) : le32(p);
}

static int found(probe_info *info, probe_format format, uint64_t w, uint64_t h)
{
    info->format = format;
    info->width = w;
    info->height = h;
    return 0;
}

/* JPEG: walk the markers up to the first start-of-frame, noting an APP14
 * "Adobe" marker on the way (it precedes the frame in every writer). */
static int probe_jpeg(FILE *f, probe_info *info)
{
    for (int markers = 0; markers < 1000; markers++) {
        int c = fgetc(f);
        if (c != 0xFF)
            return -1;
        while ((c = fgetc(f)) == 0xFF)
            ;
        if (c == EOF)
            return -1;
        if (c == 0xD8 || (c >= 0xD0 && c <= 0xD7) || c == 0x01)
            continue; /* markers without a length */
        uint8_t len[2];
        if (fread(len, 1, 2, f) != 2 || be16(len) < 2)
            return -1;

        if (c >= 0xC0 && c <= 0xCF && c != 0xC4 && c != 0xC8 && c != 0xCC) {
            uint8_t sof[6]; /* precision, height, width, components */
            if (fread(sof, 1, 6, f) != 6)
                return -1;
            info->jpeg_components = sof[5];
            return found(info, PROBE_JPEG, be16(sof + 3), be16(sof + 1));
        }
        long skip = (long)be16(len) - 2;
        uint8_t app14[12]; /* "Adobe", version, flags0, flags1, transform */
        if (c == 0xEE && skip >= 12) {
            if (fread(app14, 1, 12, f) != 12)
                return -1;
            if (memcmp(app14, "Adobe", 5) == 0)
                info->adobe_transform = app14[11];
            skip -= 12;
        }
        if (fseek(f, skip, SEEK_CUR) != 0)
            return -1;
    }
    return -1;
}

/* PNM: "P1".."P7"-style text header: magic, width, height, '#' comments. */
static int probe_pnm(FILE *f, probe_info *info)
{
    uint64_t v[2];
    for (int i = 0; i < 2; i++) {
        int c = fgetc(f);
        for (;;) {
            if (c == '#')
                while (c != '\n' && c != EOF)
                    c = fgetc(f);
            else if (isspace(c))
                c = fgetc(f);
            else
                break;
        }
        if (!isdigit(c))
            return -1;
        v[i] = 0;
        for (int digits = 0; isdigit(c) && digits < 12; digits++) {
            v[i] = v[i] * 10 + (uint64_t)(c - '0');
            c = fgetc(f);
        }
    }
    return found(info, PROBE_PNM, v[0], v[1]);
}

/* XPM: the first string after the signature starts "width height ...".
 * SDL_image's XPM reader crashes when its surface cannot be allocated,
 * so a too-large XPM must never reach it: this probe is a must. */
static int probe_xpm(FILE *f, probe_info *info)
{
    int c;
    while ((c = fgetc(f)) != EOF && c != '"')
        ;
    unsigned long long w, h;
    if (c == EOF || fscanf(f, "%llu %llu", &w, &h) != 2)
        return -1;
    return found(info, PROBE_XPM, w, h);
}

/* TIFF: the first directory's size, colour model and extra samples. An
 * entry is tag, type, count and a value of up to 4 bytes held in place
 * (left-justified), which the tags read here always fit. */
static int probe_tiff(FILE *f, const uint8_t *h, probe_info *info)
{
    int big = h[0] == 'M';
    info->tiff_photometric = -1;
    uint8_t count[2];
    if (fseek(f, (long)get32(h + 4, big), SEEK_SET) != 0 ||
        fread(count, 1, 2, f) != 2)
        return found(info, PROBE_TIFF, 0, 0);
    uint64_t w = 0, hh = 0;
    for (uint32_t i = 0, n = get16(count, big); i < n && i < 1000; i++) {
        uint8_t e[12];
        if (fread(e, 1, 12, f) != 12)
            break;
        uint32_t tag = get16(e, big), type = get16(e + 2, big);
        /* SHORT (3) or LONG (4): the first value */
        uint32_t v = type == 4 ? get32(e + 8, big) : get16(e + 8, big);
        if (type != 3 && type != 4)
            continue;
        if (tag == 256)
            w = v;
        else if (tag == 257)
            hh = v;
        else if (tag == 262)
            info->tiff_photometric = (int)v;
        else if (tag == 338)
            info->tiff_alpha = v == 1 || v == 2 ? (int)v : 0;
    }
    return found(info, PROBE_TIFF, w && hh ? w : 0, w && hh ? hh : 0);
}

/* PNG: the chunks after IHDR, up to the first IDAT, for a tRNS (which
 * must come before IDAT). The file's CRCs are the decoder's business. */
static void probe_png_chunks(FILE *f, probe_info *info)
{
    if (fseek(f, 33, SEEK_SET) != 0) /* signature 8, IHDR 25 */
        return;
    for (int chunks = 0; chunks < 10000; chunks++) {
        uint8_t head[8]; /* length, type */
        if (fread(head, 1, 8, f) != 8 || memcmp(head + 4, "IDAT", 4) == 0 ||
            memcmp(head + 4, "IEND", 4) == 0)
            return;
        if (memcmp(head + 4, "tRNS", 4) == 0) {
            info->png_has_trns = 1;
            return;
        }
        uint32_t len = be32(head);
        if (len > 0x7fffffffu ||
            fseek(f, (long)len + 4, SEEK_CUR) != 0) /* + the CRC */
            return;
    }
}

int probe_image(FILE *f, probe_info *info)
{
    *info = (probe_info){.adobe_transform = -1};
    uint8_t h[32];
    size_t n = fread(h, 1, sizeof h, f);
    if (n >= 26 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0 &&
        memcmp(h + 12, "IHDR", 4) == 0) {
        info->png_colour_type = h[25];
        probe_png_chunks(f, info);
        return found(info, PROBE_PNG, be32(h + 16), be32(h + 20));
    }
    if (n >= 10 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0))
        return found(info, PROBE_GIF, le16(h + 6), le16(h + 8));
    if (n >= 26 && h[0] == 'B' && h[1] == 'M') {
        int32_t w = (int32_t)le32(h + 18), hh = (int32_t)le32(h + 22);
        if (le32(h + 14) == 12) /* OS/2 BITMAPCOREHEADER: 16-bit sizes */
            return found(info, PROBE_BMP, le16(h + 18), le16(h + 20));
        return found(info, PROBE_BMP, w < 0 ? -(int64_t)w : w,
                     hh < 0 ? -(int64_t)hh : hh);
    }
    if (n >= 12 && memcmp(h, "qoif", 4) == 0)
        return found(info, PROBE_QOI, be32(h + 4), be32(h + 8));
    if (n >= 30 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0) {
        if (memcmp(h + 12, "VP8X", 4) == 0)
            return found(info, PROBE_WEBP, (uint64_t)le24(h + 24) + 1,
                         (uint64_t)le24(h + 27) + 1);
        if (memcmp(h + 12, "VP8L", 4) == 0 && h[20] == 0x2f) {
            uint32_t b = le32(h + 21);
            return found(info, PROBE_WEBP, (b & 0x3fff) + 1,
                         ((b >> 14) & 0x3fff) + 1);
        }
        if (memcmp(h + 12, "VP8 ", 4) == 0)
            return found(info, PROBE_WEBP, le16(h + 26) & 0x3fff,
                         le16(h + 28) & 0x3fff);
        return -1;
    }
    if (n >= 2 && h[0] == 0xFF && h[1] == 0xD8) {
        if (fseek(f, 2, SEEK_SET) != 0)
            return -1;
        return probe_jpeg(f, info);
    }
    if (n >= 9 && memcmp(h, "/* XPM */", 9) == 0) {
        if (fseek(f, 9, SEEK_SET) != 0)
            return -1;
        return probe_xpm(f, info);
    }
    if (n >= 3 && h[0] == 'P' && h[1] >= '1' && h[1] <= '6' && isspace(h[2])) {
        if (fseek(f, 2, SEEK_SET) != 0)
            return -1;
        return probe_pnm(f, info);
    }
    if (n >= 8 && (memcmp(h, "II*\0", 4) == 0 || memcmp(h, "MM\0*", 4) == 0))
        return probe_tiff(f, h, info);
    return -1;
}
