/* layout.h - the shmimg segment file, layout version 2: a frame channel.
 *
 * A segment is one regular file, $SHMIMG_DIR/shmimg-KEY (SHMIMG_DIR defaults
 * to /dev/shm), mapped MAP_SHARED by every participant. It starts with the
 * fixed 4096-byte header below; frames live in 0 (before the first publish)
 * to SHMIMG_MAX_BUFFERS buffers after it. This file is the only place the
 * fields are named; docs/format.md says the same, step by step, with every
 * message, for someone writing a reader or a publisher in another language.
 *
 * All integers are little-endian (the native order of every platform shmimg
 * builds for). Offsets are bytes from the start of the file, never pointers:
 * each process maps the file at its own address.
 *
 * File names: KEY is 1-64 of A-Z a-z 0-9 . _ -, not starting with . or -.
 * A creator makes $SHMIMG_DIR/.shmimg-KEY.PID.XXXXXXXX (PID in decimal,
 * 8 random lower-case hex digits), flock(LOCK_SH)s it at once, writes the
 * header, takes its attach slot, then link()s it to shmimg-KEY and unlinks
 * the temporary name. A temporary file of that pattern, of the caller's
 * uid, whose flock(LOCK_EX | LOCK_NB) succeeds was left by a dead creator:
 * the next creator of KEY and `shmimg list` remove it.
 *
 * Roles:
 *   - Owners are publishers: processes of the file's owner that open it
 *     read-write to publish. They create the file; each holds an attach
 *     slot (below); the last owner out removes the file (unless PERSIST).
 *   - Readers never create, keep or remove the file, and hold no slot (a
 *     reader that comes first waits for the file to appear). Another
 *     user's reader (the owner published with --share) maps it PROT_READ
 *     and writes nothing; the owner's own readers write only in the
 *     one-buffer degraded mode (below).
 *
 * Who writes what:
 *   - lock_word: owners, with atomic operations only (shlock.h). It
 *     serialises publishers, and attach/detach decisions; readers never
 *     take it, except in the degraded mode;
 *   - slot_nonce[i]: the process that holds attach slot i;
 *   - flags: an owner, by atomic OR / AND of SHMIMG_FLAG_PERSIST, lock or
 *     no lock;
 *   - everything else: a publisher holding the lock.
 *   The file and capacity only grow, under the lock; they never shrink.
 *   Reserved bytes and the other flag bits are written 0 by the creator
 *   and by nobody afterwards; readers ignore them (they are not checked).
 *
 * Buffers. buffer_count buffers of buffer_stride bytes each follow the
 * header: shmimg writes buf[i].offset = payload_offset + i * buffer_stride
 * (readers check only that the pixels lie inside the file, past
 * payload_offset, 4096-aligned, and copy from buf[i].offset). How many:
 * the publisher that re-lays out asks for its want_buffers (3 by default,
 * SEG_DEFAULT_BUFFERS; 1 to 4 with seg_set_buffers, for tests), fewer when
 * SHMIMG_DIR is full (below). Each has a descriptor buf[i] with its own
 * sequence count, read seqlock-style:
 *
 *   buf[i].seq   buf[i].frame   state
 *   even         0              empty (never written, or re-laid out)
 *   odd          any            being written; or its writer died or
 *                               gave up
 *   even         > 0            a complete frame, number `frame`
 *
 * An emptied descriptor has frame, payload_size, offset, width, height and
 * pitch 0; its other fields keep the old frame's values.
 *
 * `latest` (a futex word) names the newest complete frame:
 *   latest = (frame mod 2^30) << 2 | i, where buf[i] holds it;
 *   0 (buffer 0 empty) until the first publish.
 * Readers take i = latest & 3 whatever buffer_count says. The publisher
 * always writes a buffer other than latest's (with one buffer it has no
 * other, and readers wait until it is done), so the newest frame stays
 * readable while the next is written, and a reader copying it is
 * overwritten only after buffer_count - 1 more publishes.
 *
 * Publish (the publisher holds the lock; Ws are relaxed stores):
 *       check the header again (a copy, against fstat)
 *       n = latest & 3; frame = buf[n].frame + 1
 *       if buffer_count == 0 or the frame does not fit buffer_stride:
 *           re-lay out (below); t = 0
 *       else
 *           t = (n + 1) mod buffer_count        the oldest buffer
 *           allocate its pages (posix_fallocate) if not done yet
 *           buf[t].seq |= 1; fence(release)
 *       W buf[t] descriptor (frame, offset, ...) and the pixels
 *       buf[t].seq += 1               (store release): even, complete
 *       latest = frame << 2 | t       (store release)
 *       after a re-layout: empty every other buffer (frame 0, seq even)
 *       unlock; FUTEX_WAKE(&latest, INT_MAX)
 *   Re-lay out (no buffers yet, or the frame is larger than buffer_stride):
 *   allocate buffer 0's pages (posix_fallocate: a full SHMIMG_DIR fails
 *   here, header unchanged), then grow the file (ftruncate, sparse) to
 *   want_buffers buffers; mark every buffer odd (fence(release)), so that
 *   readers of any old buffer see a change; set buffer_stride,
 *   buffer_count = want_buffers, capacity. `latest` moves before the other
 *   buffers are emptied, so that a reader never sees an empty buffer under
 *   an unchanged `latest` (which means "nothing published").
 *   Buffers 1 and up get their pages when first written; if SHMIMG_DIR is
 *   full then, buffer_count shrinks to the ones written (t > 0 is then the
 *   first buffer never written), until the next re-layout.
 *   A publisher keeps no layout between publishes: it reads buffer_count
 *   and buffer_stride afresh under the lock each time, which is how it
 *   sees another publisher's re-layout.
 *
 * Read (nothing written, no lock; `acquire` loads):
 *   1  L = latest; i = L & 3
 *   2  s1 = buf[i].seq; odd -> being written: wait on `latest` (20 ms at a
 *      time), go to 1; if the lock is free or its owner dead: the writer
 *      died: incomplete; past the lock timeout, counted from the start of
 *      the read: timed out
 *   3  copy buf[i] (the descriptor) to local memory; fence(acquire);
 *      buf[i].seq != s1 -> changed: go to 1
 *   4  frame == 0 -> nothing published, unless latest != L (go to 1)
 *   5  validate the copy against the real file size (overflow-safe); a
 *      failure with buf[i].seq != s1 is a publisher's change: go to 1;
 *      map more if needed
 *   6  copy payload_size bytes from offset; fence(acquire);
 *      buf[i].seq != s1 -> lapped while copying: read again
 *   A read that goes to 1 64 times (SEG_MAX_LAPS) reports "lapped" (it is
 *   slower than buffer_count - 1 publishes). Frame numbers are 64-bit and
 *   count every complete publish: skipped frames = frame - last frame - 1.
 *
 * Degraded mode: with buffer_count 1, an unpaced publisher can lap every
 * copy. seg_pull then copies under the lock after two lapped reads, on a
 * handle that can write the file (the owner's uid), borrowing an attach
 * slot for that copy if it has none. Read-only readers keep retrying.
 *
 * Wait for a new frame: FUTEX_WAIT(&latest, L) while latest == L. A new
 * frame wakes waiters at once; a removal ('shmimg rm', the last owner out)
 * wakes them without one (FUTEX_WAKE, nothing written), and they check,
 * then and every 250 ms, that the key still names their file and that the
 * file was not truncated.
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

#define SHMIMG_MAGIC          "SHMIMG\r\n" /* 8 bytes, no terminator */
#define SHMIMG_LAYOUT_VERSION 2u
#define SHMIMG_HEADER_SIZE    4096u /* bytes; also where buffer 0 starts */
#define SHMIMG_NAME_MAX       256u  /* bytes of source_name, NUL included */
#define SHMIMG_SLOTS          512u  /* owners attached at once, at most */
#define SHMIMG_SLOT_LOCK_BASE (UINT64_C(1) << 40)
#define SHMIMG_MAX_BUFFERS    4u    /* the index has 2 bits in `latest` */
#define SHMIMG_BUFFER_ALIGN   4096u /* buffer_stride and offsets: bytes */

/* flags */
#define SHMIMG_FLAG_PERSIST (1u << 2) /* keep the file after last detach */

/* pixel_format: 4 bytes per pixel, in memory order R, G, B, A; straight
 * (not premultiplied) alpha. This is SDL_PIXELFORMAT_RGBA32, the order in
 * which SDL_image's PNG decoder delivers RGBA images, so the common case is
 * a plain copy and readers upload it to a texture as it is. */
#define SHMIMG_FORMAT_RGBA8    1u
#define SHMIMG_BYTES_PER_PIXEL 4u

/* latest: frame number (mod 2^30) above a 2-bit buffer index. */
#define SHMIMG_LATEST_INDEX(l) (3u & (l))

/* One buffer's descriptor: 320 bytes. Its fields change only while seq is
 * odd, so a copy taken between two equal even seq loads is one frame's. */
typedef struct shmimg_buffer {
    _Atomic uint32_t seq;    /*   0: odd while being written */
    uint32_t width;          /*   4: pixels */
    uint32_t height;         /*   8: pixels */
    uint32_t pitch;          /*  12: bytes per row, >= width * 4 */
    uint32_t pixel_format;   /*  16: SHMIMG_FORMAT_* */
    uint32_t publisher_pid;  /*  20: in the publisher's PID namespace */
    uint64_t frame;          /*  24: 1, 2, ...; 0 = empty */
    uint64_t offset;         /*  32: where the pixels start (file);
                                0 when emptied */
    uint64_t payload_size;   /*  40: bytes, pitch * height */
    int64_t publish_time_ns; /*  48: CLOCK_REALTIME, ns since 1970 */
    uint8_t reserved[8];     /*  56: written 0, ignored */
    char source_name[SHMIMG_NAME_MAX]; /* 64: base name, NUL-padded; at
                                          most 255 bytes are read */
} shmimg_buffer;

typedef struct shmimg_header {
    char magic[8];                         /*   0: SHMIMG_MAGIC */
    uint32_t layout_version;               /*   8: SHMIMG_LAYOUT_VERSION */
    uint32_t header_size;                  /*  12: bytes, SHMIMG_HEADER_SIZE */
    _Atomic uint32_t lock_word;            /*  16: see shlock.h; futex word */
    uint32_t lock_owner_pid;               /*  20: for people only; 0 if none */
    _Atomic uint32_t latest;               /*  24: newest frame; futex word */
    _Atomic uint32_t flags;                /*  28: SHMIMG_FLAG_*; other bits
                                              written 0, ignored */
    uint32_t buffer_count;                 /*  32: 0 (nothing published yet)
                                              .. SHMIMG_MAX_BUFFERS */
    uint32_t reserved0;                    /*  36: written 0, ignored */
    uint64_t payload_offset;               /*  40: buffer 0; SHMIMG_HEADER_SIZE,
                                              never changed */
    uint64_t buffer_stride;                /*  48: bytes, multiple of 4096; 0 at
                                              creation */
    uint64_t capacity;                     /*  56: bytes reserved from
                                              payload_offset, >= count*stride */
    uint8_t reserved1[128 - 64];           /*  64: written 0, ignored */
    shmimg_buffer buf[SHMIMG_MAX_BUFFERS]; /* 128: 4 x 320 bytes */
    uint8_t reserved2[2048 - 1408];        /* 1408: written 0, ignored */
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
