/* app.h - the shmimg window (and --pair, two of them side by side). */
#ifndef SHMIMG_APP_H
#define SHMIMG_APP_H

#include <stddef.h>

/* Runs the window: shmimg [--key K] [--live] [--pair] [--geometry WxH+X+Y]
 * [IMAGE]. Returns: the exit status (0, 1 failure, 2 usage error). */
int app_main(int argc, char **argv);

/* Finds an asset (font.png, sample.png): in $SHMIMG_ASSETS_DIR, beside
 * the executable (../share/shmimg), in the source tree it was built from,
 * or where it was installed. Returns: 0 and the path in buf, or -1. */
int app_asset_path(const char *name, char *buf, size_t size);

#endif
