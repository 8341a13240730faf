/* segment_internal.h - what the parts of the segment module share,
 * and nobody else sees: the handle's fields, the checks (segment_check.c),
 * and the attach-slot census (segment.c) that inspection also uses.
 *
 *   segment.c          the core: attach, lifetime, the lock
 *   create.c           a new file, made whole then linked; leftovers
 *   frames.c           publish and read (the seqlock of layout.h)
 *   wait.c             wait for a frame or a key's file; remove
 *   segment_check.c    validation of names, files, headers and buffer
 *                      descriptors: every byte of a segment is untrusted
 *   inspect.c          looking without touching: seg_inspect, seg_list
 *                      (inspect.h)
 */
#ifndef SHMIMG_SEGMENT_INTERNAL_H
#define SHMIMG_SEGMENT_INTERNAL_H

#include "segment.h"

#include <sys/stat.h>

struct seg {
    int fd;
    shmimg_header *hdr; /* the 4096-byte header, mapped for good */
    uint8_t *payload;   /* mapping from payload_offset, or NULL */
    size_t payload_len; /* bytes mapped at payload */
    bool read_only;     /* opened O_RDONLY: maps PROT_READ, holds no slot */
    uid_t file_uid;     /* the file's owner, for messages */
    uint32_t slot;      /* our attach slot (owners only) */
    uint32_t token;     /* our lock-owner token: nonce << 9 | slot */
    uint32_t pid;       /* getpid() at attach: it is a syscall, and the
                           lock is taken far more often than we attach */
    uint64_t payload_offset; /* bytes, as checked at attach */
    int lock_timeout_ms;
    unsigned want_buffers;    /* buffers a re-layout asks for */
    uint64_t reserved_stride; /* the layout reserved_mask is about */
    unsigned reserved_mask;   /* bit i: buffer i's pages are allocated */
    /* The publish under way (between seg_write_begin and seg_write_end). */
    uint32_t write_index;
    uint64_t write_frame;
    bool write_relayout;
    bool untrusted;   /* we saw it corrupt: never remove it on detach */
    atomic_bool lost; /* the file was truncated under our mappings:
                         they now hold zeros (guard.h) */
    int guard_hdr;    /* guard_register handles, -1 when none */
    int guard_payload;
    char path[SEG_PATH_MAX];
};

enum { seg_slot_bits = 9 }; /* 512 slots */
_Static_assert((1u << seg_slot_bits) == SHMIMG_SLOTS, "slot bits");

/* ---- segment_check.c ---- */

/* Turns errno after a failed call into SEG_EPERM, ENOSPACE or ESYS,
 * with "path: what: strerror". Returns: the code. */
int seg_fail_errno(seg_err *err, const char *path, const char *what);

/* What seg_check_file lets pass besides a regular file of ours whose mode
 * only we may write. */
enum {
    SEG_OPEN_OTHERS = 1u,   /* another uid's file (to read it) */
    SEG_OPEN_WRITABLE = 2u, /* a mode writable by group or others: only to
                               remove it (rm), never to trust its bytes */
};

/* Refuses what an attacker or an accident could put at path: not a
 * regular file; unless SEG_OPEN_WRITABLE, writable by group or others;
 * unless SEG_OPEN_OTHERS, owned by another uid. */
int seg_check_file(int fd, const char *path, unsigned allow, struct stat *st,
                   seg_err *err);

/* Opens path (O_NOFOLLOW, O_CLOEXEC, above fd 2) and checks it as
 * seg_check_file does. Returns: the fd, or an error (ENOSEG when missing,
 * naming key). */
int seg_open_checked(const char *path, int oflags, const char *key,
                     unsigned allow, struct stat *st, seg_err *err);

/* Checks the fixed part of a header against the real file size, in the
 * order docs/format.md gives. h may be NULL when the file is too short to
 * hold a header: that is the first thing checked. */
int seg_check_header(const shmimg_header *h, uint64_t file_size,
                     const char *path, seg_err *err);

/* Copies buffer descriptor d into *img (field by field, relaxed: a
 * publisher may be rewriting it; the caller's seq check says whether the
 * copy is one frame's) and *offset. */
void seg_copy_descriptor(const shmimg_buffer *d, seg_image *img,
                         uint64_t *offset);

/* Checks a descriptor copy: a complete frame whose pixels lie inside a
 * file of file_size bytes, past payload_offset. */
int seg_check_frame(const seg_image *img, uint64_t offset,
                    uint64_t payload_offset, uint64_t file_size,
                    const char *path, seg_err *err);

/* ---- segment.c ---- */

/* Counts the slots that owners hold (write locks) on the file of fd. */
unsigned seg_count_owners(int fd);

/* Whether SHMIMG_DIR's temporary name is a creator's: see layout.h. */
bool seg_is_temp_name(const char *name, const char *key);

/* Removes the temporary files of creators that died (every key: NULL).
 * Returns: how many were removed. */
int seg_clean_leftovers(const char *key);

/* ---- create.c ---- */

/* Creates an empty segment under a temporary name (*tmp), flock()ed at
 * once and with a whole header; the caller takes its slot, then links it
 * into place. Returns: the fd, or an error. */
int seg_create_temp(const char *path, const char *key, unsigned flags,
                    char *tmp, size_t tmp_size, seg_err *err);

/* A random 32-bit value (getrandom; the clock and pid if it has none). */
uint32_t seg_random_u32(void);

/* ---- segment.c, for frames.c and wait.c ---- */

/* A handle attached as a reader that publishes becomes an owner then:
 * it takes a slot, and checks that the name still leads to its file (an
 * owner attaching does the same under the lock). */
int seg_become_owner(seg *s, seg_err *err);

/* Under the lock: the header we hold is still a header. A file truncated
 * under us reads as zeros now (guard.h); one overwritten by a hostile
 * writer has lost its magic. */
int seg_check_intact(seg *s, seg_err *err);

/* Makes the payload mapping cover at least `need` bytes from
 * payload_offset, mapping the whole file as it is now. Returns: 0;
 * ECORRUPT when the file is shorter than that (truncated, or a hostile
 * descriptor); ESYS. */
int seg_cover(seg *s, uint64_t need, seg_err *err);

/* Gives our attach slot back, deciding nothing about the file. */
void seg_drop_slot(seg *s);

/* The error for a file truncated by someone else under our mappings. */
int seg_fail_truncated(seg *s, seg_err *err);

/* Steps 1-4 of "Read" in layout.h. wait_ms: how long to wait while the
 * newest buffer is being written (0: report it as incomplete at once).
 * Returns: 0 with *v; EEMPTY, EINCOMPLETE, ECORRUPT, ETIMEDOUT, ELAPPED. */
int seg_find_frame(seg *s, seg_view *v, int wait_ms, seg_err *err);

bool seg_inherited(const seg *s);

/* The lock's liveness question, answered with the attach slots. */
bool seg_owner_alive(void *ctx, uint32_t token);

/* Allocates the pages of [offset, offset + len) (posix_fallocate), so
 * that writing there can never SIGBUS on a full SHMIMG_DIR. It reports
 * errors through its return value, not errno. */
int seg_reserve(int fd, uint64_t offset, uint64_t len, const char *path,
                seg_err *err);

bool seg_same_file(const char *path, int fd);

/* Copies the mapped header into *snap, then measures the file, then checks
 * the copy against that size. In this order, because capacity only grows
 * after the file did: the copy never has capacity ahead of the size. The
 * caller uses the copy, which nobody else can change under it. */
int seg_snapshot_header(seg *s, shmimg_header *snap, uint64_t *file_size,
                        seg_err *err);

int seg_take_slot(seg *s, seg_err *err);

#endif
