/* fuzz_segment.c - libFuzzer target: whole segment files, fed to every
 * path that reads one: inspect (info, list), attach (as an owner and as a
 * reader), read, pull, a small publish (which picks a buffer from the
 * file's ring fields), detach. The input is the file itself, byte for
 * byte, so its first 4096 bytes are layout 2's header (layout.h): magic,
 * version, lock word, latest, buffer_count, payload_offset,
 * buffer_stride, capacity, the four buffer descriptors at 128 + 320 * i,
 * and the slot nonces from 2048; the rest is the buffers. The seed corpus
 * (tests/fuzz/corpus) holds real layout-2 files and every hostile kind of
 * tests/hostile.c. Any crash, sanitizer report, hang or leak is a finding.
 *
 * Build (clang): cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 \
 *   -DSHMIMG_FUZZ=ON && cmake --build build-fuzz --target fuzz_segment
 * Run: build-fuzz/tests/fuzz_segment -max_len=70000 CORPUS_DIR tests/fuzz/corpus
 * (files go to $SHMIMG_DIR if set, else to a new /dev/shm/shmimg-fuzz.*)
 */
#include "inspect.h"
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

    seg_err err;
    static seg_status st;
    seg_inspect(path, &st, &err);

    seg *s;
    if (seg_attach("fuzz", SEG_READER, &s, &err) == 0) {
        seg_set_lock_timeout(s, 0); /* a garbage lock word: no waiting */
        seg_image img;
        seg_pull(s, pixels, sizeof pixels, &img, &err);
        seg_view v;
        if (seg_read_begin(s, &v, &err) == 0) {
            size_t n = v.image.payload_size < sizeof pixels
                           ? (size_t)v.image.payload_size
                           : sizeof pixels;
            seg_copy_out(s, pixels, v.pixels, n);
            seg_read_end(s, &v, &err);
        }
        seg_buffers(s, NULL);
        seg_wait(s, seg_generation(s), 0, NULL, NULL, &err);
        /* A 2x2 publish: the buffer it picks comes from latest and
         * buffer_count, the re-layout (if any) from buffer_stride. */
        uint8_t *px;
        uint32_t pitch;
        if (seg_write_begin(s, 2, 2, "fuzz.png", &px, &pitch, &err) == 0) {
            memset(px, 0x42, (size_t)pitch * 2);
            seg_write_end(s, true, &err);
            seg_pull(s, pixels, sizeof pixels, &img, &err);
        }
        seg_detach(s);
    }
    unlink(path);
    return 0;
}
