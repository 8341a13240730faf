/* shmimg.h - libshmimg: share images and video frames between processes
 * through a memory-mapped file in /dev/shm. Link with -lshmimg
 * (pkg-config shmimg, or find_package(shmimg CONFIG): shmimg::shmimg).
 *
 * Contract (read this first, in the manner of stb_image.h):
 *
 *   Data layout. A frame is width x height pixels, RGBA8: 4 bytes per
 *     pixel in memory order R, G, B, A, straight (not premultiplied)
 *     alpha; rows are `pitch` bytes apart (pitch: bytes per row, at least
 *     width * 4; 0 means exactly width * 4). shmimg_publish also takes
 *     BGRA8, RGB8 and GRAY8 and converts them to RGBA8 as it copies (RGB8
 *     and GRAY8 get alpha 255); shmimg_pull always gives RGBA8.
 *
 *   Keys. A key is 1-64 characters of A-Z a-z 0-9 . _ -, not starting with
 *     '.' or '-'. Key K is the file $SHMIMG_DIR/shmimg-K (SHMIMG_DIR
 *     defaults to /dev/shm); docs/format.md describes that file. The
 *     `shmimg` command line tool and window see the same keys. Keys and
 *     names are C strings: they end at the first NUL, so a binding whose
 *     strings may hold one must refuse them (the Python module does).
 *
 *   Size limits. Width and height are 1 .. 2^20 pixels, and a frame must
 *     fit in SHMIMG_DIR (a segment holds up to 3 frames; fewer when the
 *     directory is short of space). A caller's memory that would overflow
 *     size_t, exceed PTRDIFF_MAX bytes or run past the end of the address
 *     space (the rows a publish reads, pitch bytes apart; dst_size bytes
 *     from dst) is SHMIMG_ERR_ARGUMENT, and nothing is read or written.
 *
 *   Errors. Every function that can fail returns an int: SHMIMG_OK (0) on
 *     success, or a negative shmimg_error code. The codes are -10001 and
 *     below, outside -4095..-1, so a shmimg code is never a negative errno
 *     value and a caller can mix both conventions. shmimg_strerror(code)
 *     gives a short static description; shmimg_last_error() gives the
 *     calling thread's last failure as one sentence that names the key or
 *     file concerned. The library never prints and never exits.
 *
 *   Messages are escaped, never raw. A key, a file name or SDL's reason
 *     is anyone's bytes; in shmimg_last_error() (shmimg_set_error's text
 *     included) C0 controls and DEL read \n \t \r \e \x1f, a backslash
 *     \\, C1 controls and invisible or reordering characters \u202e, and
 *     invalid UTF-8 \xNN; printable ASCII and other UTF-8 are kept. So the
 *     message can go to a terminal, a log or a window title as it is;
 *     decide on the code, never by matching a name in the message.
 *
 *   What a failure leaves unchanged. A failed publish leaves the previous
 *     frame as it was, readable. A failed pull leaves dst's content
 *     undefined, and the segment untouched: readers write nothing to the
 *     file and take no lock, so no reader, however slow, stopped or killed,
 *     makes a publisher wait. A reader never gets a torn frame: a frame
 *     overwritten while it was copied is copied again.
 *
 *   Lifetime. A publisher keeps its segment alive; when the last publisher
 *     of a key closes, the file is removed, unless shmimg_set_persist()
 *     kept it. A publisher that dies (SIGKILL) leaves the file, its last
 *     frame whole, and the next publisher of the key goes on in it.
 *     Readers never create, keep or remove a segment.
 *
 *   Thread safety. A handle is used by one thread at a time. Different
 *     handles, even on the same key, are independent, in one process or in
 *     several. shmimg_last_error() is per thread.
 *
 *   fork(). A handle belongs to the process that opened it. A child's
 *     copy of a publisher handle only closes: shmimg_close() frees it and
 *     touches nothing of the parent's (its attach slot, its segment file,
 *     persistence; the parent's next publish is read by any new reader),
 *     and every other call returns SHMIMG_ERR_ARGUMENT; the child opens a
 *     publisher of its own to publish. A reader handle holds nothing of
 *     the segment's and goes on working in the child. exec() closes the
 *     library's descriptors (O_CLOEXEC).
 *
 *   Signals. A file truncated under a mapping would raise SIGBUS; the
 *     library installs a SIGBUS handler (once per process) that turns such
 *     pages into zeros and reports SHMIMG_ERR_CORRUPT; other SIGBUS go to
 *     the handler that was there before.
 *
 * Usage, a publisher and a reader:
 *       shmimg *pub;
 *       if (shmimg_publisher_open("cam", &pub) < 0) fail(shmimg_last_error());
 *       shmimg_publish(pub, rgba, w, h, 0, SHMIMG_PIXEL_RGBA8, "camera");
 *
 *       shmimg *rd;  shmimg_frame f;
 *       shmimg_reader_open("cam", &rd);
 *       while (shmimg_wait(rd, -1) == SHMIMG_OK) {
 *           int rc = shmimg_pull(rd, buf, 0, size, &f);
 *           if (rc == SHMIMG_ERR_SMALL_BUFFER)      the frame grew:
 *               buf = realloc(buf, size = (size_t)f.width * f.height * 4);
 *           else if (rc == SHMIMG_OK)
 *               show(buf, f.width, f.height);
 *       }
 */
#ifndef SHMIMG_H
#define SHMIMG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHMIMG_BUILDING) && defined(__GNUC__)
#define SHMIMG_API __attribute__((visibility("default")))
#else
#define SHMIMG_API
#endif

/* Codes: 0 or negative, below -10000 (never a negative errno). */
typedef enum shmimg_error {
    SHMIMG_OK = 0,
    SHMIMG_ERR_NO_SEGMENT = -10001, /* no segment under that key */
    SHMIMG_ERR_EMPTY = -10002,      /* the segment exists, nothing published */
    SHMIMG_ERR_INCOMPLETE = -10003, /* its publisher died while writing */
    SHMIMG_ERR_CORRUPT = -10004,    /* the file does not make sense, or was
                                       truncated under us */
    SHMIMG_ERR_VERSION = -10005,    /* unknown layout version */
    SHMIMG_ERR_PERMISSION = -10006, /* another user's file, or its mode */
    SHMIMG_ERR_NOT_FILE = -10007,   /* a symlink, directory... at the path */
    SHMIMG_ERR_KEY = -10008,        /* not a valid key */
    SHMIMG_ERR_NOT_IMAGE = -10009,  /* a file that does not decode (sdl) */
    SHMIMG_ERR_TOO_BIG = -10010,    /* over the size limits */
    SHMIMG_ERR_NO_SPACE = -10011,   /* SHMIMG_DIR is full */
    SHMIMG_ERR_TIMEOUT = -10012,    /* waited as long as asked */
    SHMIMG_ERR_TOO_MANY = -10013,   /* every attach slot is taken */
    SHMIMG_ERR_SYSTEM = -10014,     /* another system error (the message
                                       has errno's text) */
    SHMIMG_ERR_ARGUMENT = -10015,   /* a bad argument: NULL, 0 size... */
    SHMIMG_ERR_SMALL_BUFFER = -10016, /* dst is too small: the frame's size
                                         is in *frame */
    SHMIMG_ERR_SETTING = -10017,      /* SHMIMG_DIR is not a directory */
    SHMIMG_ERR_GONE = -10018,         /* the segment was removed or replaced
                                         (its publisher left) */
    SHMIMG_ERR_LAPPED = -10019,       /* frames came faster than we could copy
                                         them, again and again */
    SHMIMG_ERR_READ_ONLY = -10020,    /* publish on a reader handle */
} shmimg_error;

/* Pixel formats shmimg_publish accepts; the segment holds RGBA8. */
typedef enum shmimg_pixel_format {
    SHMIMG_PIXEL_RGBA8 = 1, /* bytes R, G, B, A */
    SHMIMG_PIXEL_BGRA8 = 2, /* bytes B, G, R, A (converted) */
    SHMIMG_PIXEL_RGB8 = 3,  /* bytes R, G, B (converted, alpha 255) */
    SHMIMG_PIXEL_GRAY8 = 4, /* one byte (converted to R=G=B, alpha 255) */
} shmimg_pixel_format;

/* An attached segment: a publisher's or a reader's. */
typedef struct shmimg shmimg;

/* A frame's metadata. */
typedef struct shmimg_frame {
    uint32_t width;  /* pixels */
    uint32_t height; /* pixels */
    uint32_t pitch;  /* bytes per row in the segment */
    uint32_t publisher_pid;
    uint64_t frame;          /* 1, 2, ...: counts every publish, so
                                frames skipped = frame - previous - 1 */
    int64_t publish_time_ns; /* CLOCK_REALTIME, nanoseconds */
    char source_name[256];   /* what the publisher called it; may be "" */
} shmimg_frame;

/* Returns: the library's version, "MAJOR.MINOR.PATCH". */
SHMIMG_API const char *shmimg_version(void);

/* Returns: a short static description of code (any int). */
SHMIMG_API const char *shmimg_strerror(int code);

/* Returns: the calling thread's last failure, one sentence naming the key
 * or file ("" before any), escaped (see the contract); valid until this
 * thread's next shmimg call. */
SHMIMG_API const char *shmimg_last_error(void);

/* Sets the calling thread's last error message (printf-style, cut to 511
 * bytes, then escaped as the contract says), for layers built on
 * libshmimg (libshmimg-sdl does), in the manner of SDL_SetError:
 * return shmimg_set_error(SHMIMG_ERR_SYSTEM, "...: %s", why);
 * Returns: code. */
SHMIMG_API int shmimg_set_error(int code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Attaches to key as a publisher, creating the segment when there is none.
 * Returns: 0 and *out; SHMIMG_ERR_KEY, PERMISSION, NOT_FILE, CORRUPT,
 * VERSION, NO_SPACE, TOO_MANY, TIMEOUT, SETTING, SYSTEM. */
SHMIMG_API int shmimg_publisher_open(const char *key, shmimg **out);

/* Attaches to key as a reader (another user's file too, when its owner
 * shared it). A reader does not keep the segment alive.
 * Returns: 0 and *out; SHMIMG_ERR_NO_SEGMENT, and the errors above. */
SHMIMG_API int shmimg_reader_open(const char *key, shmimg **out);

/* Detaches and frees h (NULL is ignored). The last publisher out removes
 * the segment unless it was made persistent. In a child of the process
 * that opened h, only unmaps and frees it (see fork() in the contract). */
SHMIMG_API void shmimg_close(shmimg *h);

/* Keeps the segment after its last publisher closes (until
 * shmimg_remove), or not (persist = 0). Returns: 0; READ_ONLY; ARGUMENT
 * (an inherited handle). */
SHMIMG_API int shmimg_set_persist(shmimg *h, int persist);

/* Publishes a width x height frame read from pixels, rows pitch bytes
 * apart (0: packed), in format; source_name (may be NULL) is kept as the
 * frame's name. Readers waiting are woken. The bytes read are pixels to
 * pixels + (height - 1) * pitch + width * (bytes per pixel).
 * Returns: 0; SHMIMG_ERR_ARGUMENT (NULL, a pitch less than a row, rows
 * that overflow: see Size limits; an inherited handle), READ_ONLY,
 * TOO_BIG, NO_SPACE, TIMEOUT (another publisher stopped holding the
 * lock), CORRUPT. On failure the previous frame is still there. */
SHMIMG_API int shmimg_publish(shmimg *h, const void *pixels, uint32_t width,
                              uint32_t height, size_t pitch,
                              shmimg_pixel_format format,
                              const char *source_name);

/* Copies the newest complete frame into dst as RGBA8 rows dst_pitch bytes
 * apart (0: packed, width * 4), dst_size bytes at most, and its metadata
 * into *frame (which may be NULL). The frame may have another size than
 * the one a peek or an earlier pull saw: check *frame.
 * Returns: 0; SHMIMG_ERR_SMALL_BUFFER with *frame filled when dst cannot
 * hold it, its rows being wider than dst_pitch or all of them more than
 * dst_size bytes (allocate, then pull again: it may have changed again);
 * EMPTY, INCOMPLETE, CORRUPT, TIMEOUT, LAPPED, ARGUMENT (NULL, dst_size
 * past the end of memory, an inherited publisher handle). */
SHMIMG_API int shmimg_pull(shmimg *h, void *dst, size_t dst_pitch,
                           size_t dst_size, shmimg_frame *frame);

/* Reads the newest complete frame's metadata, without its pixels; by the
 * time the caller pulls, another frame, of another size, may be newest.
 * Returns: 0 and *frame; the errors of shmimg_pull but SMALL_BUFFER. */
SHMIMG_API int shmimg_peek(shmimg *h, shmimg_frame *frame);

/* Sleeps until the segment holds a frame newer than the last one this
 * handle pulled (at once if it already does; peeking does not count).
 * timeout_ms < 0 waits for ever. A futex wait: no polling, woken by the
 * publish itself. A signal does not end it (its handler runs, and the
 * wait goes on): a caller that must react to signals waits in slices, as
 * the Python module does (0.1 s); each call first checks that the file is
 * still the key's, so such slices learn of a removal too.
 * Returns: 0; SHMIMG_ERR_TIMEOUT; GONE when the segment was removed (its
 * publisher left; open the key again to follow its next publisher);
 * CORRUPT; ARGUMENT (an inherited publisher handle). */
SHMIMG_API int shmimg_wait(shmimg *h, int timeout_ms);

/* Removes the segment of key; processes attached keep what they have.
 * Returns: 0; SHMIMG_ERR_NO_SEGMENT, KEY, NOT_FILE, PERMISSION, SYSTEM. */
SHMIMG_API int shmimg_remove(const char *key);

/* Describes the segment of key as a JSON object with the fields of
 * `shmimg info --json KEY` (docs/format.md): *json is a NUL-terminated
 * string the caller frees with shmimg_free. A segment that is damaged is
 * still described (its "problem" field says how).
 * Returns: 0; SHMIMG_ERR_NO_SEGMENT, KEY, NOT_FILE, PERMISSION, SYSTEM. */
SHMIMG_API int shmimg_info_json(const char *key, char **json);

/* Describes every segment in SHMIMG_DIR as a JSON array of the objects of
 * shmimg_info_json, in key order (`shmimg list --json`).
 * Returns: 0 and *json (free with shmimg_free); SHMIMG_ERR_SYSTEM. */
SHMIMG_API int shmimg_list_json(char **json);

/* Frees what shmimg_info_json and shmimg_list_json return. */
SHMIMG_API void shmimg_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
