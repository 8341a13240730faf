/* pattern.h - test images whose every pixel says which image they are, so
 * that a torn or foreign read is caught byte for byte. */
#ifndef SHMIMG_TEST_PATTERN_H
#define SHMIMG_TEST_PATTERN_H

#include <stdint.h>
#include <string.h>

static inline uint32_t pattern(uint32_t id, uint32_t x, uint32_t y)
{
    uint32_t v = id * 2654435761u ^ (x * 40503u + y * 2246822519u);
    return v ^ (v >> 15);
}

/* Writes image id (w x h): pixel (0,0) holds id, the rest the pattern. */
static inline void pattern_fill(uint8_t *px, uint32_t pitch, uint32_t w,
                                uint32_t h, uint32_t id)
{
    for (uint32_t y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(px + (size_t)y * pitch);
        for (uint32_t x = 0; x < w; x++)
            row[x] = pattern(id, x, y);
    }
    memcpy(px, &id, 4);
}

/* Returns: the image's id when every pixel matches it, or -1 if torn. */
static inline long pattern_verify(const uint8_t *px, uint32_t pitch, uint32_t w,
                                  uint32_t h)
{
    uint32_t id;
    memcpy(&id, px, 4);
    for (uint32_t y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(px + (size_t)y * pitch);
        for (uint32_t x = (y == 0); x < w; x++)
            if (row[x] != pattern(id, x, y))
                return -1;
    }
    return id;
}

#endif
