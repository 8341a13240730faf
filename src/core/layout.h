/* layout.h - the shmimg segment file, layout version 2: a frame channel.
 *
 * A segment is one regular file, $SHMIMG_DIR/shmimg-KEY (SHMIMG_DIR defaults
 * to /dev/shm), mapped MAP_SHARED by every participant. It starts with the
 * fixed 4096-byte header below; frames live in 1 to SHMIMG_MAX_BUFFERS
 * buffers after it. This file is the only place the fields are named;
 * docs/format.md says the same, step by step, for someone writing a reader
 * or a publisher in another language.
 *
 * All integers are little-endian (the native order of every platform shmimg
 * builds for). Offsets are bytes from the start of the file, never pointers:
 * each process maps the file at its own address.
 *
 * Roles:
 *   - Owners are publishers: processes of the file's owner that open it
 *     read-write to publish. They create the file; each holds an attach
 *     slot (below); the last owner out removes the file.
 *   - Readers never create, keep or remove the file, and hold no slot (a
 *     reader that comes first waits for the file to appear). Another
 *     user's reader (the owner published with --share) maps it PROT_READ
 *     and writes nothing; the owner's own readers write only to copy under
 *     the lock in the one-buffer degraded mode, with a slot taken for
 *     that copy alone.
 *
 * Who writes what:
 *   - lock_word: owners, with atomic operations only (shlock.h). It
 *     serialises publishers, and attach/detach decisions; readers never
 *     take it;
 *   - slot_nonce[i]: the process that holds attach slot i;
 *   - everything else: a publisher holding the lock.
 *   The file and capacity only grow, under the lock; they never shrink.
 *
 * Buffers. buffer_count (1..4) buffers of buffer_stride bytes each follow
 * the header: buffer i's pixels start at buf[i].offset, which is
 * payload_offset + i * buffer_stride. Each has a descriptor buf[i] with its
 * own sequence count, read seqlock-style:
 *
 *   buf[i].seq   buf[i].frame   state
 *   even         0              empty (never written, or re-laid out)
 *   odd          any            being written; or its writer died
 *   even         > 0            a complete frame, number `frame`
 *
 * `latest` (a futex word) names the newest complete frame:
 *   latest = (frame mod 2^30) << 2 | i, where buf[i] holds it;
 *   0 (buffer 0 empty) until the first publish.
 * The publisher always writes a buffer other than latest's (with one
 * buffer it has no other, and readers retry until it is done), so the
 * newest frame stays readable while the next is written, and a reader
 * copying it is overwritten only after buffer_count - 1 more publishes.
 *
 * Publish (the publisher holds the lock; Ws are plain stores):
 *       t = (latest & 3) + 1 mod buffer_count   the oldest buffer
 *       if the frame does not fit buffer_stride: re-lay out (below)
 *       buf[t].seq |= 1 (store relaxed); fence(release)
 *       W buf[t] descriptor (frame = previous frame + 1) and the pixels
 *       buf[t].seq += 1               (store release): even, complete
 *       latest = frame << 2 | t       (store release)
 *       unlock; FUTEX_WAKE(&latest, INT_MAX)
 *   Re-lay out (the frame is larger than buffer_stride): grow the file
 *   (sparse) to 3 buffers and allocate buffer 0's pages; mark every buffer
 *   odd (fence(release)), so that readers of any old buffer see a change;
 *   set buffer_stride, buffer_count = 3, capacity; write buffer 0; set
 *   latest; then mark every other buffer empty (frame 0, seq even).
 *   Buffers 1 and 2 get their pages (posix_fallocate) when first written;
 *   if SHMIMG_DIR is full then, buffer_count shrinks to the ones written.
 *
 * Read (nothing written, no lock; `acquire` loads):
 *   1  L = latest; i = L & 3
 *   2  s1 = buf[i].seq; odd -> being written: go to 1 after a short wait
 *      (if the lock is free or its owner dead: the writer died: incomplete)
 *   3  copy buf[i] (the descriptor) to local memory; fence(acquire);
 *      buf[i].seq != s1 -> lapped: go to 1
 *   4  frame == 0 -> nothing published; validate the copy against the real
 *      file size (overflow-safe); map more if needed
 *   5  copy payload_size bytes from offset; fence(acquire);
 *      buf[i].seq != s1 -> lapped while copying: go to 1
 *   A reader that goes to 1 too many times in a row reports "lapped" (it
 *   is slower than buffer_count - 1 publishes). Frame numbers are 64-bit
 *   and count every publish: skipped frames = frame - last frame - 1.
 *
 * Wait for a new frame: FUTEX_WAIT(&latest, L) while latest == L. A new
 * frame wakes waiters at once; 'shmimg rm' wakes them without one
 * (FUTEX_WAKE, nothing written), and they check, then and every 250 ms,
 * that the key still names their file and that the file was not truncated.
 *
 * Attach slots: an owner holds slot i (0..SHMIMG_SLOTS-1) by an
 * open-file-description write lock (F_OFD_SETLK, F_WRLCK, which needs a
 * read-write fd) on the one byte at file offset SHMIMG_SLOT_LOCK_BASE + i
 * (far past the end of the file; such locks need no data there), and
 * writes a random nonce to slot_nonce[i]. The kernel drops the lock when
 * the process dies, whatever its PID namespace, so "slot i is write-locked
 * and slot_nonce[i] still holds the nonce" means "that owner is alive", and
 * a reused PID cannot fake it. The number of write-locked slots is the
 * number of owners attached; read locks there (anyone can take one) count
 * for nothing.
 */
#ifndef SHMIMG_LAYOUT_H
#define SHMIMG_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHMIMG_MAGIC "SHMIMG\r\n" /* 8 bytes, no terminator */
#define SHMIMG_LAYOUT_VERSION 2u
#define SHMIMG_HEADER_SIZE 4096u   /* bytes; also where buffer 0 starts */
#define SHMIMG_NAME_MAX 256u       /* bytes of source_name, NUL included */
#define SHMIMG_SLOTS 512u          /* owners attached at once, at most */
#define SHMIMG_SLOT_LOCK_BASE (UINT64_C(1) << 40)
#define SHMIMG_MAX_BUFFERS 4u      /* the index has 2 bits in `latest` */
#define SHMIMG_BUFFER_ALIGN 4096u  /* buffer_stride and offsets: bytes */

/* flags */
#define SHMIMG_FLAG_PERSIST (1u << 2) /* keep the file after last detach */

/* pixel_format: 4 bytes per pixel, in memory order R, G, B, A; straight
 * (not premultiplied) alpha. This is SDL_PIXELFORMAT_RGBA32, the order in
 * which SDL_image's PNG decoder delivers RGBA images, so the common case is
 * a plain copy and readers upload it to a texture as it is. */
#define SHMIMG_FORMAT_RGBA8 1u
#define SHMIMG_BYTES_PER_PIXEL 4u

/* latest: frame number (mod 2^30) above a 2-bit buffer index. */
#define SHMIMG_LATEST_INDEX(l) ((l) & 3u)

/* One buffer's descriptor: 320 bytes. Its fields change only while seq is
 * odd, so a copy taken between two equal even seq loads is one frame's. */
typedef struct shmimg_buffer {
    _Atomic uint32_t seq;          /*   0: odd while being written */
    uint32_t width;                /*   4: pixels */
    uint32_t height;               /*   8: pixels */
    uint32_t pitch;                /*  12: bytes per row, >= width * 4 */
    uint32_t pixel_format;         /*  16: SHMIMG_FORMAT_* */
    uint32_t publisher_pid;        /*  20: in the publisher's PID namespace */
    uint64_t frame;                /*  24: 1, 2, ...; 0 = empty */
    uint64_t offset;               /*  32: where the pixels start (file) */
    uint64_t payload_size;         /*  40: bytes, pitch * height */
    int64_t publish_time_ns;       /*  48: CLOCK_REALTIME, ns since 1970 */
    uint8_t reserved[8];           /*  56: zero */
    char source_name[SHMIMG_NAME_MAX]; /* 64: base name, UTF-8, NUL-ended */
} shmimg_buffer;

typedef struct shmimg_header {
    char magic[8];                 /*   0: SHMIMG_MAGIC */
    uint32_t layout_version;       /*   8: SHMIMG_LAYOUT_VERSION */
    uint32_t header_size;          /*  12: bytes, SHMIMG_HEADER_SIZE */
    _Atomic uint32_t lock_word;    /*  16: see shlock.h; futex word */
    uint32_t lock_owner_pid;       /*  20: for people only; 0 if none */
    _Atomic uint32_t latest;       /*  24: newest frame; futex word */
    _Atomic uint32_t flags;        /*  28: SHMIMG_FLAG_* */
    uint32_t buffer_count;         /*  32: 1 .. SHMIMG_MAX_BUFFERS */
    uint32_t reserved0;            /*  36: zero */
    uint64_t payload_offset;       /*  40: buffer 0; SHMIMG_HEADER_SIZE */
    uint64_t buffer_stride;        /*  48: bytes, multiple of 4096; 0 at
                                           creation */
    uint64_t capacity;             /*  56: bytes reserved from
                                           payload_offset, >= count*stride */
    uint8_t reserved1[128 - 64];   /*  64: zero */
    shmimg_buffer buf[SHMIMG_MAX_BUFFERS]; /* 128: 4 x 320 bytes */
    uint8_t reserved2[2048 - 1408];        /* 1408: zero */
    _Atomic uint32_t slot_nonce[SHMIMG_SLOTS]; /* 2048: 0 = slot free */
} shmimg_header;

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "futex words must be lock-free");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic words are 4 bytes");
_Static_assert(offsetof(shmimg_buffer, width) == 4, "layout");
_Static_assert(offsetof(shmimg_buffer, publisher_pid) == 20, "layout");
_Static_assert(offsetof(shmimg_buffer, frame) == 24, "layout");
_Static_assert(offsetof(shmimg_buffer, offset) == 32, "layout");
_Static_assert(offsetof(shmimg_buffer, payload_size) == 40, "layout");
_Static_assert(offsetof(shmimg_buffer, publish_time_ns) == 48, "layout");
_Static_assert(offsetof(shmimg_buffer, source_name) == 64, "layout");
_Static_assert(sizeof(shmimg_buffer) == 320, "layout");
_Static_assert(offsetof(shmimg_header, layout_version) == 8, "layout");
_Static_assert(offsetof(shmimg_header, lock_word) == 16, "layout");
_Static_assert(offsetof(shmimg_header, latest) == 24, "layout");
_Static_assert(offsetof(shmimg_header, flags) == 28, "layout");
_Static_assert(offsetof(shmimg_header, buffer_count) == 32, "layout");
_Static_assert(offsetof(shmimg_header, payload_offset) == 40, "layout");
_Static_assert(offsetof(shmimg_header, buffer_stride) == 48, "layout");
_Static_assert(offsetof(shmimg_header, capacity) == 56, "layout");
_Static_assert(offsetof(shmimg_header, buf) == 128, "layout");
_Static_assert(offsetof(shmimg_header, reserved2) == 1408, "layout");
_Static_assert(offsetof(shmimg_header, slot_nonce) == 2048, "layout");
_Static_assert(sizeof(shmimg_header) == SHMIMG_HEADER_SIZE, "layout");

#endif
