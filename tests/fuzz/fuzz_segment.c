/* fuzz_segment.c - libFuzzer target: whole segment files, fed to every
 * path that reads one: inspect (info, list), attach, read, pull, detach.
 * Any crash, sanitizer report, hang or leak is a finding.
 *
 * Build (clang): cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 \
 *   -DSHMIMG_FUZZ=ON && cmake --build build-fuzz --target fuzz_segment
 * Run: build-fuzz/tests/fuzz_segment -max_len=70000 CORPUS_DIR tests/fuzz/corpus
 * (files go to $SHMIMG_DIR if set, else to a new /dev/shm/shmimg-fuzz.*)
 */
#include "segment.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[SEG_PATH_MAX];
static uint8_t pixels[1 << 20];

/* Works in $SHMIMG_DIR when the caller gave one (and removes it), else
 * in a directory of its own under /dev/shm. */
static void setup(void)
{
    static char dir[] = "/dev/shm/shmimg-fuzz.XXXXXX";
    if (!getenv("SHMIMG_DIR")) {
        if (!mkdtemp(dir))
            abort();
        setenv("SHMIMG_DIR", dir, 1);
    }
    if (seg_path("fuzz", path, sizeof path, NULL) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        setup();
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    shmimg_err err;
    static seg_status st;
    seg_inspect(path, &st, &err);

    seg *s;
    if (seg_attach("fuzz", 0, &s, &err) == 0) {
        seg_set_lock_timeout(s, 0); /* a garbage lock word: no waiting */
        seg_image img;
        seg_pull(s, pixels, sizeof pixels, &img, &err);
        seg_view v;
        if (seg_read_begin(s, &v, &err) == 0) {
            size_t n = v.image.payload_size < sizeof pixels
                           ? (size_t)v.image.payload_size
                           : sizeof pixels;
            seg_copy_out(s, pixels, v.pixels, n, &err);
            seg_read_end(s);
        }
        seg_detach(s);
    }
    unlink(path);
    return 0;
}
