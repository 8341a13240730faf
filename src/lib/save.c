/* save.c - see save.h. (Stub: being written.) */
#include "save.h"
