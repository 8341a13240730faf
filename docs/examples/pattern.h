/* pattern.h - the examples' test pattern: pixel (x, y) of frame n, so that
 * a reader can check every byte it pulled. */
#ifndef EXAMPLE_PATTERN_H
#define EXAMPLE_PATTERN_H

#include <stdint.h>

static inline void pattern_pixel(uint32_t x, uint32_t y, uint32_t n,
                                 uint8_t px[4])
{
    px[0] = (uint8_t)(x + n);
    px[1] = (uint8_t)(y * 3);
    px[2] = (uint8_t)(x ^ y);
    px[3] = (uint8_t)(255 - (x + y) % 7);
}

#endif
