/* save.h - images out to files or standard output. (Stub: being written.) */
#ifndef SHMIMG_SAVE_H
#define SHMIMG_SAVE_H

#include "errors.h"

#include <SDL.h>

#endif
