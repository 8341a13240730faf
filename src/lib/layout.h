/* layout.h - the shmimg segment file, layout version 1.
 *
 * A segment is one regular file, $SHMIMG_DIR/shmimg-KEY (SHMIMG_DIR defaults
 * to /dev/shm), mapped MAP_SHARED by every participant. It starts with the
 * fixed 4096-byte header below; the pixels follow at payload_offset. This
 * file is the only place the fields are named. docs/format.md says the same
 * for someone writing a reader in another language.
 *
 * All integers are little-endian (the native order of every platform shmimg
 * builds for). Offsets are bytes from the start of the file, never pointers:
 * each process maps the file at its own address.
 *
 * Who writes what:
 *   - the creator fills every field before the file gets its name (it is
 *     built under a temporary name, .shmimg-KEY.PID.XXXXXXXX, flock()ed
 *     shared at once, and link()ed into place), so nobody ever sees a
 *     half-made header; a temporary whose flock is free has lost its
 *     creator, and the next creator or 'shmimg list' removes it;
 *   - lock_word: any participant, with atomic operations only (shlock.h);
 *   - slot_nonce[i]: the process that holds attach slot i (see below);
 *   - flags, generation and the image fields: a publisher holding the lock;
 *   - capacity and the file size grow only, under the lock; never shrink.
 *
 * Publish (writer holds the lock):
 *       generation += 1                  odd: a write is in progress
 *       flags |= WRITING
 *       grow the file if capacity < payload_size (posix_fallocate)
 *       write width .. source_name, then the pixels
 *       flags = (flags & ~WRITING) | HAS_IMAGE
 *       generation += 1                  even: the image is complete
 *       unlock; FUTEX_WAKE(&generation, INT_MAX)
 *
 * Read:
 *       lock
 *       WRITING set?  -> the writer died mid-image: "incomplete", no pixels
 *       HAS_IMAGE clear? -> nothing published yet
 *       validate every field against the real file size (overflow-safe)
 *       copy payload_size bytes from payload_offset; unlock
 *
 * Wait for the next image: remember generation g; FUTEX_WAIT(&generation, v)
 * while v == g or v is odd. A new image wakes waiters at once; 'shmimg rm'
 * wakes them without one (FUTEX_WAKE, nothing written), and they check,
 * then and every 250 ms, that the key still names their file and that the
 * file was not truncated (segment.h, seg_wait).
 *
 * Attach slots: each attached process owns one slot i in 0..SHMIMG_SLOTS-1
 * by holding an open-file-description lock (F_OFD_SETLK, F_WRLCK) on the one
 * byte at file offset SHMIMG_SLOT_LOCK_BASE + i (far past the end of the
 * file; such locks need no data there), and writes a random nonce to
 * slot_nonce[i]. The kernel drops the lock when the process dies, whatever
 * its PID namespace, so "slot i is locked and slot_nonce[i] still holds the
 * nonce" means "that process is alive", and a reused PID cannot fake it.
 */
#ifndef SHMIMG_LAYOUT_H
#define SHMIMG_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHMIMG_MAGIC "SHMIMG\r\n" /* 8 bytes, no terminator */
#define SHMIMG_LAYOUT_VERSION 1u
#define SHMIMG_HEADER_SIZE 4096u   /* bytes; also where the payload starts */
#define SHMIMG_NAME_MAX 256u       /* bytes of source_name, NUL included */
#define SHMIMG_SLOTS 512u          /* processes attached at once, at most */
#define SHMIMG_SLOT_LOCK_BASE (UINT64_C(1) << 40)

/* flags */
#define SHMIMG_FLAG_HAS_IMAGE (1u << 0) /* a complete image was published */
#define SHMIMG_FLAG_WRITING (1u << 1)   /* a publish is under way (or died) */
#define SHMIMG_FLAG_PERSIST (1u << 2)   /* keep the file after last detach */

/* pixel_format: 4 bytes per pixel, in memory order R, G, B, A; straight
 * (not premultiplied) alpha. This is SDL_PIXELFORMAT_RGBA32, the order in
 * which SDL_image's PNG decoder delivers RGBA images, so the common case is
 * a plain copy and readers upload it to a texture as it is. */
#define SHMIMG_FORMAT_RGBA8 1u
#define SHMIMG_BYTES_PER_PIXEL 4u

typedef struct shmimg_header {
    char magic[8];                 /*   0: SHMIMG_MAGIC */
    uint32_t layout_version;       /*   8: SHMIMG_LAYOUT_VERSION */
    uint32_t header_size;          /*  12: bytes, SHMIMG_HEADER_SIZE */
    _Atomic uint32_t lock_word;    /*  16: see shlock.h; futex word */
    uint32_t lock_owner_pid;       /*  20: for people only; 0 if none */
    _Atomic uint32_t generation;   /*  24: odd while writing; futex word */
    _Atomic uint32_t flags;        /*  28: SHMIMG_FLAG_* */
    uint32_t width;                /*  32: pixels */
    uint32_t height;               /*  36: pixels */
    uint32_t pitch;                /*  40: bytes per row, >= width * 4 */
    uint32_t pixel_format;         /*  44: SHMIMG_FORMAT_* */
    uint64_t payload_offset;       /*  48: bytes from file start */
    uint64_t payload_size;         /*  56: bytes, pitch * height */
    uint64_t capacity;             /*  64: bytes reserved from payload_offset */
    uint32_t publisher_pid;        /*  72: in the publisher's PID namespace */
    uint32_t reserved0;            /*  76: zero */
    int64_t publish_time_ns;       /*  80: CLOCK_REALTIME, ns since 1970 */
    char source_name[SHMIMG_NAME_MAX]; /* 88: base name, UTF-8, NUL-ended */
    uint8_t reserved1[2048 - 344];     /* 344: zero */
    _Atomic uint32_t slot_nonce[SHMIMG_SLOTS]; /* 2048: 0 = slot free */
} shmimg_header;

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "futex words must be lock-free");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic words are 4 bytes");
_Static_assert(offsetof(shmimg_header, layout_version) == 8, "layout");
_Static_assert(offsetof(shmimg_header, lock_word) == 16, "layout");
_Static_assert(offsetof(shmimg_header, generation) == 24, "layout");
_Static_assert(offsetof(shmimg_header, flags) == 28, "layout");
_Static_assert(offsetof(shmimg_header, width) == 32, "layout");
_Static_assert(offsetof(shmimg_header, pixel_format) == 44, "layout");
_Static_assert(offsetof(shmimg_header, payload_offset) == 48, "layout");
_Static_assert(offsetof(shmimg_header, capacity) == 64, "layout");
_Static_assert(offsetof(shmimg_header, publisher_pid) == 72, "layout");
_Static_assert(offsetof(shmimg_header, publish_time_ns) == 80, "layout");
_Static_assert(offsetof(shmimg_header, source_name) == 88, "layout");
_Static_assert(offsetof(shmimg_header, reserved1) == 344, "layout");
_Static_assert(offsetof(shmimg_header, slot_nonce) == 2048, "layout");
_Static_assert(sizeof(shmimg_header) == SHMIMG_HEADER_SIZE, "layout");

#endif
