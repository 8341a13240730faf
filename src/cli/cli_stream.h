/* cli_stream.h - shmimg as a stream endpoint: 'publish --raw' and
 * 'pull --follow' (cli_stream.c). */
#ifndef SHMIMG_CLI_STREAM_H
#define SHMIMG_CLI_STREAM_H

#include "cli_common.h"

#include <stdint.h>

#define STREAM_PUBLISH_USAGE                                                   \
    "shmimg publish [--key K] [--persist] [--share group|all] --raw WxH "      \
    "[--fps F] FILE|-"
#define STREAM_PULL_USAGE                                                      \
    "shmimg pull [--key K] --follow [--frames N] [--wait S] [--raw] -o OUT"

/* Parses "WIDTHxHEIGHT" (pixels, decimal, no sign or space), refusing a
 * zero side, a side over SEG_MAX_DIMENSION and more pixels than
 * SHMIMG_MAX_PIXELS: before anything is allocated.
 * Returns: 0; SEG_EINVAL or ETOOBIG with a message. */
int stream_parse_size(const char *text, uint32_t *w, uint32_t *h, seg_err *err);

/* Parses --fps: plain decimal, > 0, at most 1000. Returns: 0 or EINVAL. */
int stream_parse_fps(const char *text, double *fps, seg_err *err);

/* publish --raw: reads whole W x H x 4-byte frames from source ("-":
 * stdin) and publishes each, paced by --fps when given. At the end of the
 * stream the last frame stays (until a quit signal; with --persist, for
 * good). A short last frame is not published: exit 1 with how many bytes
 * came. Returns: the exit status. */
int stream_publish(const opts *o, const char *source);

/* publish of an animated image (without --persist: cli.c publishes the
 * first frame of a persisted one as a still): plays it into the segment,
 * each frame at its delay, looping, until a quit signal (exit 0).
 * Returns: the exit status. */
struct image_anim;
int stream_play(const opts *o, const struct image_anim *anim, const char *path);

/* pull --follow: writes the current frame, then every new one, to o->out
 * (raw with --raw, else a numbered image per frame), until --frames, a
 * quit signal, the segment's removal, --wait seconds without a new frame,
 * or a reader of the output that went away (all exit 0), and says on
 * stderr how many frames it wrote and skipped. Returns: the exit status. */
int stream_follow(const opts *o);

#endif
