/* cli.c - the command-line side: shmimg publish | pull | info | list | rm.
 *
 * Each subcommand is one function: parse its options, call the library,
 * turn a failure into one line on stderr. Exit status: 0 success, 2 usage
 * error, 1 anything else.
 *
 * Everything printed for a person goes through say() or out(), which
 * escape what came from outside (file names, segment fields: escape.h);
 * JSON goes through escape_json. Standard output is checked when the
 * command ends (finish_stdout): for info, list and 'pull -o -' it is the
 * result, and a failed write is a failed command.
 */
#include "cli.h"
#include "cli_common.h"
#include "cli_stream.h"

#include "anim.h"
#include "escape.h"
#include "image.h"
#include "save.h"
#include "inspect.h"
#include "segment.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- publish ------------------------------------------------------------ */

/* image_load with standard error captured. libpng and libtiff print their
 * warnings and errors there themselves (SDL_image gives them no handler):
 * raw text that means nothing when the load succeeds. When it fails, the
 * decoder's first line joins our message, escaped like the rest. */
static int load_quietly(const char *path, SDL_Surface **out, seg_err *err)
{
    fflush(stderr);
    int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int capture = memfd_create("shmimg-decoder-stderr", MFD_CLOEXEC);
    if (saved < 0 || capture < 0 || dup2(capture, STDERR_FILENO) < 0) {
        if (saved >= 0)
            close(saved);
        if (capture >= 0)
            close(capture);
        return image_load(path, out, err);
    }
    int rc = image_load(path, out, err);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char said[256] = "";
    ssize_t n = pread(capture, said, sizeof said - 1, 0);
    close(capture);
    said[n > 0 ? n : 0] = '\0';
    said[strcspn(said, "\n")] = '\0';
    if (rc < 0 && said[0] && rc != SEG_ESETTING) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len,
                 "; the decoder said: %s", said);
    }
    return rc;
}

/* After an image's publish: with --persist, says so and detaches (the
 * file stays); otherwise stays attached until a quit signal, then detaches
 * (the last owner out removes the file) and says what became of it.
 * frames: the animation's count (1 for a still). Returns: the status. */
static int stay_or_go(const opts *o, seg *s, const char *base, int w, int h,
                      int frames)
{
    if (o->persist) {
        seg_set_persist(s, true);
        char of[64] = "";
        if (frames > 1)
            snprintf(of, sizeof of,
                     ", frame 1 of %d: it plays without --persist", frames);
        out("Published %s (%dx%d%s) under key %s in %s; it stays until "
            "'shmimg rm --key %s'",
            base, w, h, of, o->key, seg_file(s), o->key);
        seg_detach(s);
        return finish_stdout(0, false);
    }
    out("Published %s (%dx%d) under key %s in %s; attached until SIGINT or "
        "SIGTERM",
        base, w, h, o->key, seg_file(s));
    int status = finish_stdout(0, false);
    quit_wait(-1, 0, -1);
    char file[SEG_PATH_MAX];
    snprintf(file, sizeof file, "%s", seg_file(s));
    /* Someone may have cut or removed the file while we waited. */
    seg_err err;
    int rc = seg_check(s, &err);
    if (rc == SEG_ECORRUPT)
        status = failure(&err, NULL);
    int removed = seg_detach(s);
    if (rc == SEG_EGONE)
        say("detached; %s had been removed or replaced meanwhile", file);
    else if (removed)
        say("detached; removed %s (last user)", file);
    return status;
}

/* publish IMAGE: decodes path, publishes it, then stay_or_go. An
 * animation plays until a signal; with --persist its first frame is
 * published as a still, and we exit like any --persist publish. */
static int publish_image(const opts *o, const char *path)
{
    seg_err err;
    /* Decode before attaching: a bad file must not create a segment, and a
     * signal during the decode ends us with nothing made. */
    image_anim *anim;
    if (image_load_animation(path, &anim, &err) < 0)
        return failure(&err, o->key);
    if (anim && !o->persist) {
        int rc = stream_play(o, anim, path);
        image_anim_free(anim);
        return rc;
    }
    SDL_Surface *surface;
    int frames = anim ? anim->count : 1;
    if (anim) {
        surface = anim->frames[0];
        anim->frames[0] = NULL;
        image_anim_free(anim);
    } else if (load_quietly(path, &surface, &err) < 0) {
        return failure(&err, o->key);
    }
    /* From here on the quit signals are held (cli_common.c): none cuts
     * the publish short, and one that came already cancels it. */
    hold_quit_signals();
    if (quit_poll()) {
        SDL_FreeSurface(surface);
        return die_of_quit_signal();
    }
    note_dir_kind();
    seg *s;
    int rc =
        seg_attach(o->key, SEG_CREATE | seg_create_flag(o->share), &s, &err);
    /* Who may read it is what this publish asked, --share or not. */
    if (rc == 0)
        rc = seg_set_share(s, o->share, &err);
    if (rc == 0)
        rc = image_publish(s, surface, path, &err);
    int w = surface->w, h = surface->h;
    SDL_FreeSurface(surface);
    if (rc < 0) {
        seg_detach(s);
        return failure(&err, o->key);
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    note_buffers(s);
    return stay_or_go(o, s, base, w, h, frames);
}

static int cmd_publish(int argc, char **argv)
{
    static const char usage[] =
        "shmimg publish [--key K] [--persist] [--share group|all] IMAGE\n"
        "       " STREAM_PUBLISH_USAGE;
    opts o = defaults;
    const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"persist", no_argument, &o.persist, 1},
        {"share", required_argument, NULL, 's'},
        {"raw", required_argument, NULL, 'r'},
        {"fps", required_argument, NULL, 'f'},
        {0},
    };
    int rc = parse(argc, argv, "publish", usage, ":k:s:", longopts, &o);
    if (rc)
        return rc;
    if (optind >= argc)
        return usage_error("publish", usage, "missing %s",
                           o.raw ? "FILE (- for standard input)" : "IMAGE");
    if (optind + 1 < argc)
        return usage_error("publish", usage, "one %s only, got also '%s'",
                           o.raw ? "FILE" : "IMAGE", argv[optind + 1]);
    if (o.fps && !o.raw)
        return usage_error("publish", usage,
                           "--fps paces raw frames: it needs --raw WxH");
    const char *path = argv[optind];
    return o.raw ? stream_publish(&o, path) : publish_image(&o, path);
}

/* ---- pull --------------------------------------------------------------- */

/* Waits for the next image under o->key, for o->wait_s at most. *s is
 * the key's segment, or NULL when it has none yet: readers never make one,
 * so we wait for a publisher to. A new file under the key (after 'shmimg
 * rm', or when its publishers all left) is followed, and any image in it
 * counts as new. *s may be replaced. Returns: 0 or an error code. */
static int wait_following(seg **s, const opts *o, seg_err *err)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double deadline = (double)t.tv_sec + t.tv_nsec / 1e9 + o->wait_s;
    uint32_t seen = *s ? seg_generation(*s) : 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        double left = deadline - ((double)t.tv_sec + t.tv_nsec / 1e9);
        int ms = left <= 0                 ? 0
                 : left > INT32_MAX / 1000 ? -1
                                           : (int)(left * 1000);
        int rc;
        if (!*s) {
            rc = attach_reader_waiting(o->key, ms, s, err);
            if (rc == SEG_ETIMEDOUT)
                return seg_fail(err, rc,
                                "no segment for key %s in %s within %g s",
                                o->key, seg_dir(), o->wait_s);
            if (rc < 0)
                return rc;
            seen = 0; /* the new file's first image is new to us */
        }
        rc = seg_wait(*s, seen, ms, &quit_asked, NULL, err);
        if (rc == SEG_ETIMEDOUT)
            return seg_fail(err, rc, "%s: no new image within %g s",
                            seg_file(*s), o->wait_s);
        if (rc != SEG_EGONE)
            return rc;
        seg_detach(*s); /* follow the key to its next file */
        *s = NULL;
    }
}

/* Whether the current image of s fits in fmt (save.h's limits). */
static int check_output(seg *s, image_out_format fmt, const char *out,
                        seg_err *err)
{
    seg_view v;
    int rc = seg_read_begin(s, &v, err);
    if (rc < 0)
        return rc;
    seg_image img = v.image;
    seg_read_end(s, &v, NULL); /* only its size is used */
    seg_err why;
    bool huge = img.width > INT32_MAX || img.height > INT32_MAX ||
                (uint64_t)img.width * img.height * 4 > INT32_MAX;
    if (huge)
        return seg_fail(err, SEG_ETOOBIG,
                        "%s: a %ux%u image is over 2^31 - 1 bytes, more "
                        "than the encoders can write; a program can "
                        "still read it from the segment",
                        out, img.width, img.height);
    rc = image_check_output_size(fmt, (int)img.width, (int)img.height, &why);
    return rc < 0 ? seg_fail(err, rc, "%s: %s", out, why.msg) : 0;
}

/* pull without --follow: the image (the next one with --wait) into
 * o->out, whole or not at all. Returns: the status. */
static int pull_image(const opts *o, image_out_format fmt, bool to_stdout)
{
    seg_err err;
    int rc;
    /* A signal from here on ends the wait; we detach, then end as the
     * signal would have ended us. */
    catch_quit_signals();
    note_dir_kind();
    /* A waiting reader may come first: it waits for the publisher to make
     * the segment. */
    seg *s;
    rc = seg_attach(o->key, SEG_READER, &s, &err);
    if (rc == SEG_ENOSEG && o->wait_s >= 0)
        rc = 0; /* s is NULL: wait_following waits for the file */
    if (rc < 0)
        return failure(&err, o->key);
    if (o->wait_s >= 0)
        rc = wait_following(&s, o, &err);
    SDL_Surface *sf = NULL;
    seg_image img;
    /* An image the output format cannot hold is refused before its copy
     * is allocated (image_save checks again, on what it gets). */
    if (rc == 0)
        rc = check_output(s, fmt, o->out, &err);
    if (rc == 0)
        rc = image_pull(s, &sf, &img, &err);
    seg_detach(s);
    if (rc == SEG_ECANCELED)
        return die_of_quit_signal();
    if (rc < 0) {
        SDL_FreeSurface(sf);
        return failure(&err, o->key);
    }
    /* A signal during the save removes its temporary file and ends us:
     * the output is then as it was, never half-written. */
    saving = 1;
    if (atomic_load(&quit_asked))
        return die_of_quit_signal();
    rc = image_save(sf, o->out, fmt, 0, &err);
    saving = 0;
    SDL_FreeSurface(sf);
    int status = 0;
    if (rc < 0 && !(to_stdout && strstr(err.msg, "Broken pipe")))
        status = failure(&err, NULL);
    else if (rc < 0)
        status = EXIT_FAILURE; /* the reader went away: nothing to say */
    else if (!to_stdout)
        out("Pulled %s (%ux%u) from key %s into %s",
            img.source_name[0] ? img.source_name : "image", img.width,
            img.height, o->key, o->out);
    status = finish_stdout(status, to_stdout);
    if (atomic_load(&quit_asked))
        return die_of_quit_signal();
    return status;
}

static int cmd_pull(int argc, char **argv)
{
    static const char usage[] =
        "shmimg pull [--key K] [--wait SECONDS] [-o OUT]\n"
        "       " STREAM_PULL_USAGE;
    opts o = defaults;
    const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"wait", required_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'},
        {"follow", no_argument, &o.follow, 1},
        {"frames", required_argument, NULL, 'n'},
        {"raw", no_argument, &o.raw_out, 1},
        {0},
    };
    int rc = parse(argc, argv, "pull", usage, ":k:w:o:", longopts, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return usage_error("pull", usage, "unexpected argument '%s'",
                           argv[optind]);
    if ((o.frames || o.raw_out) && !o.follow)
        return usage_error("pull", usage, "--%s goes with --follow",
                           o.frames ? "frames" : "raw");
    if (o.follow)
        return stream_follow(&o);
    char default_out[SEG_KEY_MAX + 8];
    if (!o.out) {
        snprintf(default_out, sizeof default_out, "%s.png", o.key);
        o.out = default_out;
    }
    if (!*o.out)
        return usage_error("pull", usage, "-o needs a file name, got ''");
    image_out_format fmt = image_out_format_of(o.out);
    if (fmt == IMAGE_OUT_UNKNOWN)
        return usage_error("pull", usage,
                           "cannot tell the format of '%s'; use .png, .bmp "
                           "or .jpg",
                           o.out);
    bool to_stdout = strcmp(o.out, "-") == 0;
    if (to_stdout && (closed_stdio & 1u << STDOUT_FILENO)) {
        say("standard output is closed: nowhere to write the image (-o -)");
        return EXIT_FAILURE;
    }
    return pull_image(&o, fmt, to_stdout);
}

/* ---- info and list ------------------------------------------------------ */

static void print_info(const seg_status *st)
{
    out("segment    %s", st->path);
    out("key        %s", seg_status_key(st));
    out("file       %lld bytes", (long long)st->file_size);
    out("attached   %u process%s (%s)", st->attached,
        st->attached == 1 ? "" : "es", seg_status_liveness(st));
    if (st->problem)
        out("problem    %s", st->problem_msg);
    if (!st->header_read)
        return;
    out("layout     version %u, header %u bytes, payload at byte %llu, "
        "capacity %llu bytes",
        st->layout_version, SHMIMG_HEADER_SIZE,
        (unsigned long long)st->payload_offset,
        (unsigned long long)st->capacity);
    out("access     mode %04o, owner uid %u%s", st->mode, st->uid,
        st->uid == geteuid() ? " (you)" : "");
    out("state      %s%s", seg_status_state(st),
        st->flags & SHMIMG_FLAG_PERSIST ? ", persistent" : "");
    out("buffers    %u of %llu bytes each", st->buffer_count,
        (unsigned long long)st->buffer_stride);
    for (unsigned i = 0; i < st->buffer_count && i < SHMIMG_MAX_BUFFERS; i++) {
        const seg_image *b = &st->buf[i].image;
        if (b->frame && st->buf[i].seq % 2 == 0)
            out("  buffer %u %s, frame %llu, %ux%u", i,
                seg_status_buffer_state(st, i), (unsigned long long)b->frame,
                b->width, b->height);
        else
            out("  buffer %u %s", i, seg_status_buffer_state(st, i));
    }
    if (st->lock_word)
        out("lock       held (pid %u)", st->lock_owner_pid);
    else
        out("lock       free");
    if (!seg_status_has_image(st))
        return;
    char when[32];
    seg_format_time(st->image.publish_time_ns, when, sizeof when);
    out("frame      %llu (buffer %u)", (unsigned long long)st->image.frame,
        st->image.buffer);
    out("image      %ux%u pixels, RGBA8 (bytes R,G,B,A), pitch %u bytes, "
        "%llu bytes",
        st->image.width, st->image.height, st->image.pitch,
        (unsigned long long)st->image.payload_size);
    out("source     %s", st->image.source_name);
    out("publisher  pid %u at %s", st->image.publisher_pid, when);
}

static int cmd_info(int argc, char **argv)
{
    static const char usage[] = "shmimg info [--key K] [--json]";
    opts o = defaults;
    const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"json", no_argument, &o.json, 1},
        {0},
    };
    int rc = parse(argc, argv, "info", usage, ":k:", longopts, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return usage_error("info", usage, "unexpected argument '%s'",
                           argv[optind]);
    seg_err err;
    char path[SEG_PATH_MAX];
    if (seg_path(o.key, path, sizeof path, &err) < 0)
        return usage_error("info", usage, "%s", err.msg);
    seg_status *st = malloc(sizeof *st);
    if (!st)
        return EXIT_FAILURE;
    rc = seg_inspect(path, st, &err);
    if (rc == 0) {
        if (o.json) {
            out_json_status(st);
            printf("\n");
        } else {
            print_info(st);
        }
    }
    bool broken =
        rc == 0 && (st->problem == SEG_ECORRUPT || st->problem == SEG_EVERSION);
    int status = finish_stdout(0, true);
    if (rc < 0)
        status = failure(&err, o.key);
    else if (broken) {
        seg_err why = {.code = st->problem};
        snprintf(why.msg, sizeof why.msg, "%s", st->problem_msg);
        status = failure(&why, o.key);
    }
    free(st);
    return status;
}

typedef struct list_ctx {
    int json;
    int count;
} list_ctx;

static int list_one(const seg_status *st, void *ctx)
{
    list_ctx *l = ctx;
    if (l->json) {
        printf("%s\n  ", l->count ? "," : "[");
        out_json_status(st);
    } else {
        if (l->count == 0)
            out("%-20s %12s %11s %8s %8s %-10s %s", "KEY", "FILE_BYTES",
                "IMAGE", "PID", "ATTACHED", "LIVENESS", "STATE");
        char dims[32] = "-";
        char pid[16] = "-";
        char source[SHMIMG_NAME_MAX + 3] = "";
        if (seg_status_has_image(st)) {
            snprintf(dims, sizeof dims, "%ux%u", st->image.width,
                     st->image.height);
            snprintf(pid, sizeof pid, "%u", st->image.publisher_pid);
            snprintf(source, sizeof source, " (%s)", st->image.source_name);
        }
        bool explain = st->problem && !seg_status_has_image(st) &&
                       st->problem != SEG_EEMPTY &&
                       st->problem != SEG_EINCOMPLETE;
        out("%-20s %12lld %11s %8s %8u %-10s %s%s%s", seg_status_key(st),
            (long long)st->file_size, dims, pid, st->attached,
            seg_status_liveness(st), seg_status_state(st), explain ? ": " : "",
            explain ? st->problem_msg : source);
    }
    l->count++;
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    static const char usage[] = "shmimg list [--json]";
    opts o = {0};
    const struct option longopts[] = {
        {"json", no_argument, &o.json, 1},
        {0},
    };
    int rc = parse(argc, argv, "list", usage, "", longopts, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return usage_error("list", usage, "unexpected argument '%s'",
                           argv[optind]);
    list_ctx l = {.json = o.json};
    seg_err err;
    if (seg_list(list_one, &l, &err) < 0)
        return failure(&err, NULL);
    if (o.json)
        printf(l.count ? "\n]\n" : "[]\n");
    else if (l.count == 0)
        out("no segments in %s", seg_dir());
    return finish_stdout(0, true);
}

/* ---- rm ----------------------------------------------------------------- */

static int cmd_rm(int argc, char **argv)
{
    static const char usage[] = "shmimg rm [--key K]";
    opts o = defaults;
    const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {0},
    };
    int rc = parse(argc, argv, "rm", usage, ":k:", longopts, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return usage_error("rm", usage, "unexpected argument '%s'",
                           argv[optind]);
    seg_err err;
    unsigned attached;
    if (seg_remove(o.key, &attached, &err) < 0)
        return failure(&err, NULL);
    if (attached > 0)
        out("Removed key %s; %u process%s still attached keep%s its mapping "
            "until %s detach%s (its memory is freed then)",
            o.key, attached, attached == 1 ? "" : "es",
            attached == 1 ? "s" : "", attached == 1 ? "it" : "they",
            attached == 1 ? "es" : "");
    return finish_stdout(0, false);
}

/* ---- dispatch ----------------------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"publish", cmd_publish}, {"pull", cmd_pull}, {"info", cmd_info},
    {"list", cmd_list},       {"rm", cmd_rm},
};

int cli_is_command(const char *word)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(word, commands[i].name) == 0)
            return 1;
    return 0;
}

/* Edit distance (insertions, deletions, substitutions, transpositions),
 * capped: only small distances matter. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 32 || m > 32)
        return 99;
    int d[33][33];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *cli_nearest_command(const char *word)
{
    const char *best = NULL;
    /* Farther than 2 edits, or as far as the word is long, is no typo. */
    int best_d = strlen(word) < 3 ? (int)strlen(word) : 3;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        int d = distance(word, commands[i].name);
        if (d < best_d) {
            best_d = d;
            best = commands[i].name;
        }
    }
    return best;
}

int cli_run(int argc, char **argv)
{
    /* A reader that goes away is an EPIPE where we write, not a death
     * that would skip the detach. */
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit (ulimit -f) is an EFBIG where we write. */
    signal(SIGXFSZ, SIG_IGN);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[0], commands[i].name) == 0) {
            /* Settings are checked first, by every subcommand alike: a
             * typo in one is an error, never a silent default. */
            seg_err err;
            if (image_check_settings(&err) < 0 || seg_dir_check(&err) < 0)
                return failure(&err, NULL);
            return commands[i].run(argc, argv);
        }
    return usage_error(argv[0], "shmimg --help", "unknown command");
}
