/* plain.c - see plain.h. */
#include "plain.h"

#include "errors.h"
#include "image.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* What the window offers when there is nothing to show. */
#define WAY_IN "drop an image file here or press O to publish one"

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

char *plain_file_failure(int code, const char *path, char *buf, size_t size)
{
    const char *name = base_name(path);
    struct stat st;
    bool is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    char why[160];
    switch (code) {
    case SEG_ENOTIMAGE:
        if (is_dir)
            snprintf(buf, size, "%s is a folder: drop an image file", name);
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
            snprintf(buf, size, "%s is empty (0 bytes): nothing to show", name);
        else if (image_truncated(path, why, sizeof why))
            snprintf(buf, size,
                     "%s is cut short (%s): only part of the "
                     "file is there, so nothing of it is shown",
                     name, why);
        else
            snprintf(buf, size,
                     "%s is not an image shmimg can read (PNG, "
                     "JPEG, GIF, BMP, TIFF, WebP, ...)",
                     name);
        break;
    case SEG_ETOOBIG:
        snprintf(buf, size,
                 "%s is too large to share: over %llu megapixels "
                 "(SHMIMG_MAX_PIXELS sets the limit)",
                 name, (unsigned long long)(image_max_pixels() / 1000000));
        break;
    case SEG_EPERM: snprintf(buf, size, "Not allowed to read %s", name); break;
    default:
        snprintf(buf, size, "Cannot open %s: %s", name, seg_strerror(code));
    }
    return buf;
}

char *plain_segment_failure(int code, const char *key, char *buf, size_t size)
{
    switch (code) {
    case SEG_ENOSEG:
    case SEG_EEMPTY:
        snprintf(buf, size,
                 "Nothing published under key %s yet: " WAY_IN
                 ", or wait for another window (L)",
                 key);
        break;
    case SEG_EINCOMPLETE:
        snprintf(buf, size,
                 "The image under key %s was never finished: its "
                 "publisher stopped while writing it. Publish it "
                 "again",
                 key);
        break;
    case SEG_ECORRUPT:
    case SEG_EVERSION:
        snprintf(buf, size,
                 "The shared memory of key %s is %s; 'shmimg rm "
                 "--key %s' removes it",
                 key,
                 code == SEG_ECORRUPT ? "damaged"
                                      : "from another shmimg version",
                 key);
        break;
    case SEG_EPERM:
    case SEG_ENOTFILE:
        snprintf(buf, size,
                 "The shared memory of key %s is not ours to use "
                 "(another user's, or not a shmimg file); try "
                 "another key (--key)",
                 key);
        break;
    case SEG_ETIMEDOUT:
        snprintf(buf, size,
                 "Key %s is busy: another process holds it and "
                 "does not let go; try again",
                 key);
        break;
    case SEG_ETOOMANY:
        snprintf(buf, size,
                 "Too many windows and programs use key %s at "
                 "once; close one",
                 key);
        break;
    case SEG_ENOSPACE:
        snprintf(buf, size,
                 "No room left in shared memory for this image; "
                 "'shmimg list' shows what takes it");
        break;
    case SEG_EGONE:
        snprintf(buf, size,
                 "The shared memory of key %s was removed; "
                 "publish again",
                 key);
        break;
    default: snprintf(buf, size, "Key %s: %s", key, seg_strerror(code));
    }
    return buf;
}
