/* segment.h - a named shared image segment, a channel of frames: find,
 * create, attach, publish into, read from, wait on, inspect and remove. No
 * SDL here: pixels are bytes in the layout of layout.h.
 *
 * Contract:
 *   - Keys are 1-64 characters of A-Z a-z 0-9 . _ - not starting with '.'
 *     or '-';
 *     key K is the file $SHMIMG_DIR/shmimg-K (SHMIMG_DIR: /dev/shm).
 *   - Every byte read from a segment is untrusted. A function that meets a
 *     bad file returns a specific code and a message naming the file, and
 *     writes nothing to that file.
 *   - Lifetime belongs to publishers. An owner (attached without
 *     SEG_READER, or a reader handle that published) holds an attach
 *     slot, a lock the kernel drops when it dies. The last owner to detach
 *     removes the file unless it was made persistent (seg_set_persist). A
 *     file left by owners that all died is still a valid segment: the next
 *     publisher attaches to it and goes on (its previous frame intact, a
 *     dead writer's lock taken over).
 *   - Readers (SEG_READER) hold nothing: no slot, no lock. They never
 *     create a segment (seg_attach_wait waits for one), never keep one
 *     alive and never remove one, and no number of them keeps a publisher
 *     out.
 *   - fork(): a handle belongs to the process that attached it. A child
 *     may read through an inherited handle; publishing or locking through
 *     it fails with SEG_EINVAL, and its seg_detach only unmaps and
 *     closes (the parent's slot and file are untouched).
 *   - A failed publish (no space, bad size) leaves the previous image as it
 *     was, readable.
 *   - Publishers serialise on the segment lock; readers take no lock and
 *     write nothing, so no reader, however slow, stopped or killed, makes a
 *     publish wait (layout.h). A reader gets the newest complete frame,
 *     never a torn one: seg_read_end tells it when the frame it was reading
 *     was overwritten meanwhile ("lapped"), and seg_pull retries.
 *   - A reader of another uid's shared file maps it read-only.
 *   - Threads: a handle is used by one thread at a time for publishing and
 *     reading; seg_wait and seg_wake_waiters may run in others.
 *
 * Usage, zero-copy reader:
 *       seg *s; seg_view v;
 *       if (seg_attach("shmimg", SEG_READER, &s, &err) < 0) fail(err.msg);
 *       do {
 *           if (seg_read_begin(s, &v, &err) < 0) fail(err.msg);
 *           upload(v.pixels, v.image.pitch);     the publisher may write
 *       } while (seg_read_end(s, &v, &err) == SEG_ELAPPED);
 *       seg_detach(s);
 */
#ifndef SHMIMG_SEGMENT_H
#define SHMIMG_SEGMENT_H

#include "errors.h"
#include "layout.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEG_KEY_MAX     64
#define SEG_PATH_MAX    4096 /* bytes of a segment file name, NUL included */
#define SEG_DEFAULT_KEY "shmimg"
#define SEG_DEFAULT_DIR "/dev/shm"
#define SEG_FILE_PREFIX "shmimg-"
/* Largest width or height a segment may declare, in pixels. */
#define SEG_MAX_DIMENSION (1u << 20)
/* How long a read or write waits for a live lock holder by default
 * (seg_set_lock_timeout changes it per handle; no environment variable). */
#define SEG_DEFAULT_LOCK_TIMEOUT_MS 10000

typedef struct seg seg;

/* The metadata of a published image. */
typedef struct seg_image {
    uint32_t width;        /* pixels */
    uint32_t height;       /* pixels */
    uint32_t pitch;        /* bytes per row */
    uint32_t pixel_format; /* SHMIMG_FORMAT_RGBA8 */
    uint64_t payload_size; /* bytes: pitch * height */
    uint64_t frame;        /* 1, 2, ...: every publish counts */
    uint32_t buffer;       /* the buffer it was read from */
    uint32_t publisher_pid;
    int64_t publish_time_ns; /* CLOCK_REALTIME */
    char source_name[SHMIMG_NAME_MAX];
} seg_image;

/* A frame being read: its pixels are in the mapping, and a publisher may
 * overwrite them; seg_read_end says whether it did. */
typedef struct seg_view {
    seg_image image;
    const uint8_t *pixels; /* payload_size bytes, rows pitch bytes apart */
    uint32_t seq;          /* the buffer's sequence count when read */
} seg_view;

enum seg_attach_flags {
    SEG_CREATE = 1u << 0, /* create the segment when there is none (not
                             with SEG_READER: readers never create) */
    SEG_READER = 1u << 1, /* only reads: holds no slot (see the contract);
                             a file of another uid (shared with --share)
                             is attached read-only */
    /* With SEG_CREATE: a file this call creates is readable by the group
     * (0640) or by all (0644) from the moment its name appears, so that
     * a reader of another uid waiting for it never meets it private.
     * seg_set_share sets the mode of a file that exists already. */
    SEG_CREATE_GROUP = 1u << 2,
    SEG_CREATE_ALL = 1u << 3,
};

/* Who may read a segment file besides its owner (its mode). */
typedef enum seg_share {
    SEG_SHARE_NONE,  /* 0600 */
    SEG_SHARE_GROUP, /* 0640 */
    SEG_SHARE_ALL,   /* 0644 */
} seg_share;

/* Buffers a segment asks for; fewer when SHMIMG_DIR cannot hold them. */
#define SEG_DEFAULT_BUFFERS 3u
/* A reader lapped this many times in a row reports SEG_ELAPPED. */
#define SEG_MAX_LAPS 64

/* Moves fd above the standard streams (closing fd): a program started
 * with stdout closed would otherwise get a file of ours as fd 1, and its
 * next printf would write into it. Every fd the library opens goes
 * through it. Returns: the fd to use, or -1 (errno). */
int seg_above_stdio(int fd);

/* Checks a key. Returns: 0 or SEG_EKEY with the reason. */
int seg_key_check(const char *key, seg_err *err);

/* Writes the file name of key into buf.
 * Returns: 0, SEG_EKEY, or SEG_EINVAL if buf is too small. */
int seg_path(const char *key, char *buf, size_t size, seg_err *err);

/* Returns: $SHMIMG_DIR, or SEG_DEFAULT_DIR when it is unset or empty. */
const char *seg_dir(void);

/* Checks that seg_dir() exists and is a directory.
 * Returns: 0, or SEG_ESETTING with a message naming SHMIMG_DIR. */
int seg_dir_check(seg_err *err);

/* Attaches to the segment of key, creating it (empty) with SEG_CREATE.
 * With SEG_READER, a file that belongs to another uid is opened read-only.
 * Returns: 0 and *out; or SEG_ENOSEG, EKEY, ENOTFILE, EPERM, ECORRUPT,
 * EVERSION, ENOSPACE, ETOOMANY, ETIMEDOUT (a publisher stopped holding the
 * lock), ESETTING (SHMIMG_DIR missing), ESYS. */
int seg_attach(const char *key, unsigned flags, seg **out, seg_err *err);

/* Detaches; the last owner out removes a non-persistent segment (a
 * reader, or a child with an inherited handle, never does).
 * Returns: 1 when this call removed the file, 0 otherwise. */
int seg_detach(seg *s);

/* Stops keeping the file alive, and stays attached as a reader: an owner
 * gives up its attach slot, removing the file as seg_detach would when it
 * was the last owner (its waiters, us included, then see SEG_EGONE).
 * Nothing for a reader. Returns: 1 when this call removed the file. */
int seg_let_go(seg *s);

/* Returns: the segment's file name. */
const char *seg_file(const seg *s);

/* Returns: true when attached read-only (another user's shared file). */
bool seg_read_only(const seg *s);

/* Returns: the seg_attach flag that creates a file shared as share. */
unsigned seg_create_flag(seg_share share);

/* Sets who may read the file (its mode, fchmod; not under the lock).
 * Returns: 0, EPERM, ESYS. */
int seg_set_share(seg *s, seg_share share, seg_err *err);

/* Returns: the buffers the segment holds now (0 before the first
 * publish), and in *wanted (may be NULL) how many it asked for. */
unsigned seg_buffers(const seg *s, unsigned *wanted);

/* Sets how many buffers this handle's next re-layout asks for (clamped to
 * 1..4; for tests); fewer are taken when SHMIMG_DIR cannot hold them. A
 * publish that does not re-lay out keeps the count it finds. */
void seg_set_buffers(seg *s, unsigned count);

/* Sets how long this handle's reads and writes wait for a live lock
 * holder (default SEG_DEFAULT_LOCK_TIMEOUT_MS; seg_attach itself always
 * uses the default, and seg_detach waits 1 s at most);
 * < 0: as long as it lives. */
void seg_set_lock_timeout(seg *s, int timeout_ms);

/* Keeps the file after the last detach (until seg_remove), or not: sets
 * or clears SHMIMG_FLAG_PERSIST atomically, without the lock. Does
 * nothing on a handle that holds no attach slot (a reader). */
void seg_set_persist(seg *s, bool persist);

/* Starts a publish of a width x height RGBA8 image: makes a reader
 * handle an owner (it takes a slot; SEG_EGONE when the key's file was
 * removed meanwhile), locks, picks the
 * oldest buffer (re-laying the buffers out, and growing the file, when the
 * image does not fit them), marks it as being written, and stores the
 * metadata. source_name is cut to its base name. The newest complete
 * frame stays readable meanwhile.
 * On success the caller writes *pitch-spaced rows into *pixels and must
 * call seg_write_end. On failure nothing was changed.
 * Returns: 0; SEG_EPERM (read-only), EINVAL (a handle inherited
 * through fork), EGONE, ETOOMANY, ETOOBIG, ENOSPACE, ETIMEDOUT, ECORRUPT,
 * ESYS. */
int seg_write_begin(seg *s, uint32_t width, uint32_t height,
                    const char *source_name, uint8_t **pixels, uint32_t *pitch,
                    seg_err *err);

/* Ends a publish: complete = true makes the frame the newest; false
 * leaves its buffer marked incomplete, and readers keep the previous frame
 * (unless a re-layout had dropped it, or the segment has one buffer, which
 * was the previous frame's: they then report "incomplete"). Releases the
 * lock and wakes every waiter either way.
 * Returns: 0; SEG_ECORRUPT when the file was truncated under us during
 * the publish (the pixels were lost). */
int seg_write_end(seg *s, bool complete, seg_err *err);

/* Finds and validates the newest complete frame, without a lock; waits
 * while the only candidate is being written, up to the lock timeout
 * counted from this call.
 * v->pixels then points into the mapping, where a publisher may overwrite
 * it: use it, then ask seg_read_end whether that happened.
 * Returns: 0; SEG_EEMPTY, EINCOMPLETE (its writer died), ECORRUPT,
 * ETIMEDOUT, ELAPPED, ESYS. */
int seg_read_begin(seg *s, seg_view *v, seg_err *err);

/* Ends a read: whether the frame of v stayed whole while it was used.
 * Returns: 0; SEG_ELAPPED when a publisher overwrote it meanwhile
 * (what was read may be torn: read again); SEG_ECORRUPT when the file
 * was truncated under us (the pages read as zeros). */
int seg_read_end(seg *s, const seg_view *v, seg_err *err);

/* Copies n bytes of a view (between seg_read_begin and seg_read_end) to
 * dst; pages that vanished read as zeros, and seg_read_end says so. */
void seg_copy_out(seg *s, void *dst, const void *src, size_t n);

/* Copies the newest complete frame into dst (dst_size bytes), reading
 * again when lapped, up to SEG_MAX_LAPS times. With one buffer, a handle
 * that is not read-only copies under the lock after two laps (borrowing an
 * attach slot for that copy when it has none), so that an unpaced
 * publisher cannot starve it.
 * Returns: 0 and *img; SEG_EINVAL with *img filled when dst is too
 * small; or the errors of seg_read_begin and seg_read_end. */
int seg_pull(seg *s, void *dst, size_t dst_size, seg_image *img, seg_err *err);

/* seg_pull into a malloc'd buffer of the caller's (*buf, *cap bytes;
 * NULL and 0 to start) that grows to fit whichever frame is newest when it
 * is read: a frame that grew again between two reads is read again.
 * Returns: as seg_pull; SEG_ESYS when out of memory (*buf kept). */
int seg_pull_grow(seg *s, uint8_t **buf, size_t *cap, seg_image *img,
                  seg_err *err);

/* Takes and releases the segment lock alone, for callers that measure or
 * test the lock itself. An owner's only.
 * Returns: 0; SHLOCK_TAKEN_OVER (1) when a dead holder's lock was taken
 * over; SEG_ETIMEDOUT; SEG_EPERM for a reader handle; SEG_EINVAL
 * for a handle inherited through fork. */
int seg_lock(seg *s, seg_err *err);
void seg_unlock(seg *s);

/* Returns: the `latest` word now; it changes with every new frame. */
uint32_t seg_generation(const seg *s);

/* Sleeps until the `latest` word differs from seen, i.e. a new frame is
 * complete. timeout_ms < 0 waits for ever. A futex wait on the
 * generation word: a new image wakes it at once. cancel (may be NULL) is
 * checked after every wake-up; seg_wake_waiters wakes the sleepers so they
 * check it. Every 250 ms, and on any wake-up without a new image, it also
 * checks the file (seg_check): 'shmimg rm' and a truncation wake nobody.
 * Returns: 0 and *now; SEG_ETIMEDOUT; SEG_ECANCELED; SEG_EGONE
 * when the key's file was removed or replaced (attach again to follow the
 * key); SEG_ECORRUPT when the file was truncated. */
int seg_wait(seg *s, uint32_t seen, int timeout_ms, const atomic_bool *cancel,
             uint32_t *now, seg_err *err);

/* Sleeps until key has a segment file (a reader never makes one: only
 * publishers create, keep and remove segments). timeout_ms < 0 waits for
 * ever; cancel (may be NULL) is checked at least every 250 ms.
 * Returns: 0 once the file exists; SEG_ETIMEDOUT; SEG_ECANCELED;
 * SEG_EKEY; SEG_ESETTING (SHMIMG_DIR missing). */
int seg_wait_for_key(const char *key, int timeout_ms, const atomic_bool *cancel,
                     seg_err *err);

/* seg_attach(key, SEG_READER), waiting (seg_wait_for_key) while the key
 * has no segment. Returns: as seg_attach, or ETIMEDOUT, ECANCELED. */
int seg_attach_wait(const char *key, int timeout_ms, const atomic_bool *cancel,
                    seg **out, seg_err *err);

/* Wakes every process and thread sleeping in seg_wait on this segment,
 * without a new image: they recheck their cancel flag and sleep again. */
void seg_wake_waiters(seg *s);

/* Returns: true when the segment's file name no longer leads to the file
 * we are attached to (removed with 'shmimg rm', or replaced since). */
bool seg_replaced(const seg *s);

/* Checks that the file we are attached to is still whole and still the
 * key's. Returns: 0; SEG_ECORRUPT when another process truncated it
 * (our mappings then read zeros, guard.h); SEG_EGONE when the key's
 * name was removed or now leads to another file. */
int seg_check(seg *s, seg_err *err);

/* Whether SHMIMG_DIR is in memory (tmpfs, ramfs), as segments should be.
 * Returns: 0 in memory; 1 on a disk-backed filesystem, with a sentence
 * for people in note that says so and names the filesystem; -1 when it
 * cannot be told (the directory is missing, say). */
int seg_dir_note(char *note, size_t size);

/* Removes the segment file of key; attached processes keep their mapping
 * (*attached, which may be NULL, gets how many there were) and waiters are
 * woken so that they follow the key to its next file.
 * Returns: 0; SEG_ENOSEG, EKEY, ENOTFILE, EPERM, ESETTING, ESYS. */
int seg_remove(const char *key, unsigned *attached, seg_err *err);

#endif
