/* save.h - images out to files or standard output.
 *
 * Contract:
 *   image_save encodes an SDL surface as PNG, BMP or JPEG (quality 95) into
 *     - "-": standard output (fd 1), written in place;
 *     - an existing non-regular file (a character device such as /dev/null
 *       or /dev/full, a FIFO): written in place; there is nothing to rename
 *       over (opening a FIFO waits for its reader);
 *     - any other name (a regular file, a symbolic link to one, a new name):
 *       a temporary file ".NAME.shmimg-XXXXXX" in the same directory as the
 *       final target, written, fsync'ed and closed, each step checked, then
 *       renamed over the target (or hard-linked to a new name with
 *       IMAGE_SAVE_NO_CLOBBER), so a reader sees the old file or the whole
 *       new one, never a part. A symbolic link is followed to its final
 *       target, which is replaced: the link stays a link. In a sticky
 *       world-writable directory (/tmp) only a link of the caller's or of
 *       the directory owner's is followed (the kernel's protected_symlinks
 *       rule, applied whatever the sysctl says).
 *   Every write(2) is checked, whatever the destination; a short write is
 *   continued, EINTR retried. BMP needs to seek back into its header: to a
 *   destination that cannot seek (a pipe, a FIFO, an O_APPEND file) it is
 *   encoded in memory first (122 + 4*W*H bytes), then written. The
 *   encoders (SDL_image's PNG and JPEG writers, SDL_SaveBMP_RW) ignore
 *   most write errors and would report success for a truncated file, so
 *   image_save never relies on them: the output records the first errno
 *   and the save fails on it.
 *
 *   Failure: a code (errors.h) and one sentence that names the path, with
 *   the system's reason ("out.png: No space left on device"). Every failure
 *   to create, write, flush, close, rename or link the output, a full disk
 *   (ENOSPC, EDQUOT) included, is SEG_EWRITE: SEG_ENOSPACE means a
 *   full SHMIMG_DIR to the rest of shmimg, and is not returned here.
 *
 *   Left unchanged by a failure: the target file, byte for byte, and its
 *   mode; no temporary is left behind. Nothing at all is created when the
 *   image is over its format's limit. Output written in place (standard
 *   output, devices, FIFOs) may have received part of the image.
 *   A process killed during a save by SIGKILL can leave a temporary named
 *   ".NAME.shmimg-XXXXXX" next to the target; it is safe to delete. A
 *   signal handler that ends the process calls image_save_abandon first.
 *
 *   The new file's mode is the replaced file's permission bits (0777), and
 *   its owner the replaced file's where the caller may set it (root), else
 *   the caller; 0666 & ~umask for a new name. The umask
 *   is read from /proc/self/status (umask(2) cannot be read without
 *   changing it, a race with other threads); 022 when that fails.
 *
 * Limits, per format, for the 32-bit RGBA surfaces shmimg saves (checked
 * before anything is created; SEG_ETOOBIG past them):
 *   JPEG  at most 65500 pixels per side: libjpeg's JPEG_MAX_DIMENSION
 *         (jmorecfg.h), checked in jpeg_start_compress. SDL_image 2.6 does
 *         not set up the longjmp that its libjpeg error handler jumps to, so
 *         any libjpeg error, this one included, is a SIGSEGV.
 *   PNG   at most 1000000 pixels per side: libpng's default user limits
 *         PNG_USER_WIDTH_MAX and PNG_USER_HEIGHT_MAX (pnglibconf.h),
 *         checked by png_set_IHDR; SDL_image does not raise them. The PNG
 *         format itself allows 2^31 - 1.
 *   BMP   width and height are signed 32-bit fields, the file size a 32-bit
 *         one: a 32-bit BMP of W x H pixels takes 122 + 4*W*H bytes
 *         (14-byte file header, 108-byte BITMAPV4HEADER, BGRA rows).
 *   All   at most 2^31 - 1 bytes of pixel data (W * H * 4 for RGBA; for
 *         JPEG the 24-bit RGB copy SDL_image makes): the encoders compute
 *         byte offsets in an int. SDL_SaveBMP_RW past it writes a 122-byte
 *         header with no pixels and reports success; this bound is
 *         tighter than BMP's 4 GiB file size.
 */
#ifndef SHMIMG_SAVE_H
#define SHMIMG_SAVE_H

#include "errors.h"

#include <SDL.h>

typedef enum image_out_format {
    IMAGE_OUT_PNG,
    IMAGE_OUT_BMP,
    IMAGE_OUT_JPG,
    IMAGE_OUT_UNKNOWN
} image_out_format;

enum image_save_flags {
    IMAGE_SAVE_NO_CLOBBER = 1 /* fail with SEG_EEXIST if path exists */
};

/* The format named by path's extension (.png, .bmp, .jpg or .jpeg, in any
 * case). "-", and a name without an extension, are PNG. A dot that begins
 * the file name (".hidden") does not start an extension.
 * Returns: the format; IMAGE_OUT_UNKNOWN for any other extension. */
image_out_format image_out_format_of(const char *path);

/* Checks a width x height image (pixels, 32-bit RGBA) against fmt's limits
 * (see the top of this file).
 * Returns: 0 when it can be written; SEG_ETOOBIG with a message naming
 * the limit; SEG_EINVAL for an unknown format or an empty image. */
int image_check_output_size(image_out_format fmt, int width, int height,
                            seg_err *err);

/* Encodes sf (any SDL surface; shmimg passes SDL_PIXELFORMAT_RGBA32) into
 * path in fmt, as described at the top of this file. With
 * IMAGE_SAVE_NO_CLOBBER an existing path (a file, a device, a link) is
 * refused, atomically: a name that appears during the save is not
 * replaced (the flag means nothing for "-"). Writing to "-" flushes
 * stdout's stdio buffer first; the caller should ignore SIGPIPE, so that a
 * closed reader is EPIPE, reported as "standard output: Broken pipe" (a
 * caller may stay quiet on it).
 * Returns: 0; SEG_ETOOBIG (over the format's limit, nothing created),
 * SEG_EEXIST (NO_CLOBBER), SEG_EWRITE (the output could not be
 * written whole; a directory; a dangling link), SEG_EINVAL (unknown
 * format, no surface, empty path), SEG_ESYS (out of memory, the encoder
 * failed for another reason). */
int image_save(SDL_Surface *sf, const char *path, image_out_format fmt,
               unsigned flags, seg_err *err);

/* Writes an output's bytes to fd; name is the output as people know it.
 * Returns: 0, or an error code with a message (SEG_EWRITE for a failed
 * write). */
typedef int (*save_writer)(int fd, const char *name, void *ctx, seg_err *err);

/* The destination handling of image_save, for any producer of bytes (a
 * stream of raw frames, say): "-" is standard output, devices and FIFOs
 * are written in place, any other name through a temporary file renamed
 * into place when fn returns 0 (and removed, the target untouched, when it
 * fails). image_save_abandon removes that temporary, as for images.
 * Returns: 0; fn's error; SEG_EEXIST, SEG_EWRITE, SEG_EINVAL. */
int save_output(const char *path, unsigned flags, save_writer fn, void *ctx,
                seg_err *err);

/* Writes all n bytes through short writes, EINTR and a non-blocking fd.
 * Returns: 0, or the errno of the failure (EPIPE: the reader left). */
int save_write_all(int fd, const void *p, size_t n);

/* Removes the temporary file of the save under way, if there is one. For a
 * signal handler that is about to end the process (async-signal-safe):
 * the target stays as it was. */
void image_save_abandon(void);

#endif
