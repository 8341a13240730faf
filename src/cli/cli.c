/* cli.c - the command-line side: shmimg publish | pull | info | list | rm.
 *
 * Each subcommand is one function: parse its options, call the library,
 * turn a failure into one line on stderr. Exit status: 0 success, 2 usage
 * error, 1 anything else.
 */
#include "cli.h"

#include "image.h"
#include "segment.h"

#include <SDL_image.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { EXIT_USAGE = 2 };

static int usage_error(const char *cmd, const char *usage, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));
static int usage_error(const char *cmd, const char *usage, const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "shmimg %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (usage: %s)\n", usage);
    va_end(ap);
    return EXIT_USAGE;
}

static int failure(const shmimg_err *err)
{
    fprintf(stderr, "shmimg: %s%s\n",
            err->code == SHMIMG_ENOTIMAGE ? "not an image: " : "", err->msg);
    return EXIT_FAILURE;
}

/* The options of every subcommand; each takes the ones it lists. */
typedef struct opts {
    const char *key;
    const char *out; /* pull -o */
    double wait_s;   /* pull --wait; < 0: do not wait */
    int persist;     /* publish --persist */
    int json;        /* info, list --json */
} opts;

static const opts defaults = {.key = SEG_DEFAULT_KEY, .wait_s = -1};

/* Parses argv for cmd. Flags without a value are set through longopts;
 * -k/--key, -o/--output and -w/--wait here. Returns: 0, or EXIT_USAGE
 * after printing why. */
static int parse(int argc, char **argv, const char *cmd, const char *usage,
                 const char *shortopts, const struct option *longopts,
                 opts *o)
{
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 0: break; /* a flag, already set */
        case 'k': o->key = optarg; break;
        case 'o': o->out = optarg; break;
        case 'w':
            errno = 0;
            o->wait_s = strtod(optarg, &end);
            if (errno || *end || !(o->wait_s >= 0) || o->wait_s > 2e6)
                return usage_error(cmd, usage,
                                   "--wait needs a number of seconds, got "
                                   "'%s'",
                                   optarg);
            break;
        case ':':
            return usage_error(cmd, usage, "option %s needs a value",
                               argv[optind - 1]);
        default:
            return usage_error(cmd, usage, "unknown option %s",
                               argv[optind - 1]);
        }
    }
    shmimg_err err;
    if (o->key && seg_key_check(o->key, &err) < 0)
        return usage_error(cmd, usage, "%s", err.msg);
    return 0;
}

/* ---- publish ------------------------------------------------------------ */

static int cmd_publish(int argc, char **argv)
{
    static const char usage[] = "shmimg publish [--key K] [--persist] IMAGE";
    opts o = defaults;
    const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"persist", no_argument, &o.persist, 1},
        {0},
    };
    int rc = parse(argc, argv, "publish", usage, ":k:", longopts, &o);
    if (rc)
        return rc;
    if (optind >= argc)
        return usage_error("publish", usage, "missing IMAGE");
    if (optind + 1 < argc)
        return usage_error("publish", usage, "one IMAGE only, got also '%s'",
                           argv[optind + 1]);
    const char *path = argv[optind];
    shmimg_err err;

    /* Block the signals that end us now, so one that comes early waits
     * for sigwait instead of killing us mid-publish. */
    sigset_t quit;
    sigemptyset(&quit);
    sigaddset(&quit, SIGINT);
    sigaddset(&quit, SIGTERM);
    sigaddset(&quit, SIGHUP);
    sigprocmask(SIG_BLOCK, &quit, NULL);

    /* Decode before attaching: a bad file must not create a segment. */
    SDL_Surface *surface;
    if (image_load(path, &surface, &err) < 0)
        return failure(&err);
    seg *s;
    rc = seg_attach(o.key, SEG_CREATE, &s, &err);
    if (rc == 0)
        rc = image_publish(s, surface, path, &err);
    int w = surface->w, h = surface->h;
    SDL_FreeSurface(surface);
    if (rc < 0) {
        seg_detach(s);
        return failure(&err);
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (o.persist) {
        seg_set_persist(s, true);
        printf("Published %s (%dx%d) under key %s in %s; it stays until "
               "'shmimg rm --key %s'\n",
               base, w, h, o.key, seg_file(s), o.key);
        seg_detach(s);
        return 0;
    }
    printf("Published %s (%dx%d) under key %s in %s; attached until "
           "SIGINT or SIGTERM\n",
           base, w, h, o.key, seg_file(s));
    fflush(stdout);
    int sig;
    sigwait(&quit, &sig);
    char file[SEG_PATH_MAX];
    snprintf(file, sizeof file, "%s", seg_file(s));
    if (seg_detach(s))
        fprintf(stderr, "shmimg: detached; removed %s (last user)\n", file);
    return 0;
}

/* ---- pull --------------------------------------------------------------- */

typedef enum { OUT_PNG, OUT_BMP, OUT_JPG, OUT_UNKNOWN } out_format;

static out_format format_of(const char *out)
{
    const char *dot = strrchr(out, '.');
    const char *slash = strrchr(out, '/');
    if (!dot || (slash && dot < slash) || strcmp(out, "-") == 0)
        return OUT_PNG;
    if (strcasecmp(dot, ".png") == 0)
        return OUT_PNG;
    if (strcasecmp(dot, ".bmp") == 0)
        return OUT_BMP;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return OUT_JPG;
    return OUT_UNKNOWN;
}

static int save(SDL_Surface *sf, const char *out, out_format fmt)
{
    SDL_RWops *rw = strcmp(out, "-") == 0 ? SDL_RWFromFP(stdout, SDL_FALSE)
                                          : SDL_RWFromFile(out, "wb");
    if (!rw)
        return -1;
    switch (fmt) {
    case OUT_BMP: return SDL_SaveBMP_RW(sf, rw, 1);
    case OUT_JPG: return IMG_SaveJPG_RW(sf, rw, 1, 95);
    default: return IMG_SavePNG_RW(sf, rw, 1);
    }
}

static int cmd_pull(int argc, char **argv)
{
    static const char usage[] =
        "shmimg pull [--key K] [--wait SECONDS] [-o OUT]";
    opts o = defaults;
    const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"wait", required_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'},
        {0},
    };
    int rc = parse(argc, argv, "pull", usage, ":k:w:o:", longopts, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return usage_error("pull", usage, "unexpected argument '%s'",
                           argv[optind]);
    shmimg_err err;
    char default_out[SEG_KEY_MAX + 8];
    if (!o.out) {
        snprintf(default_out, sizeof default_out, "%s.png", o.key);
        o.out = default_out;
    }
    out_format fmt = format_of(o.out);
    if (fmt == OUT_UNKNOWN)
        return usage_error("pull", usage,
                           "cannot tell the format of '%s'; use .png, .bmp "
                           "or .jpg",
                           o.out);

    /* A waiting reader may come first: it creates the empty segment that
     * the publisher will fill. */
    seg *s;
    rc = seg_attach(o.key, o.wait_s >= 0 ? SEG_CREATE : 0, &s, &err);
    if (rc < 0)
        return failure(&err);
    if (o.wait_s >= 0)
        rc = seg_wait(s, seg_generation(s), (int)(o.wait_s * 1000), NULL,
                      NULL, &err);
    SDL_Surface *sf = NULL;
    seg_image img;
    if (rc == 0)
        rc = image_pull(s, &sf, &img, &err);
    seg_detach(s);
    if (rc < 0) {
        SDL_FreeSurface(sf);
        return failure(&err);
    }
    if (save(sf, o.out, fmt) < 0) {
        fprintf(stderr, "shmimg: cannot write %s: %s\n", o.out,
                SDL_GetError());
        SDL_FreeSurface(sf);
        return EXIT_FAILURE;
    }
    if (strcmp(o.out, "-") != 0)
        printf("Pulled %s (%ux%u) from key %s into %s\n",
               img.source_name[0] ? img.source_name : "image", img.width,
               img.height, o.key, o.out);
    SDL_FreeSurface(sf);
    return 0;
}

/* ---- info and list ------------------------------------------------------ */

/* Writes s as a JSON string: quotes, backslashes and control bytes
 * escaped; other bytes (UTF-8) as they are. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static const char *key_of(const seg_status *st)
{
    const char *name = strrchr(st->path, '/');
    name = name ? name + 1 : st->path;
    return name + strlen(SEG_FILE_PREFIX);
}

static const char *liveness(const seg_status *st)
{
    if (st->attached > 0)
        return "alive";
    return st->header_read && (st->flags & SHMIMG_FLAG_PERSIST) ? "persistent"
                                                                 : "stale";
}

static const char *image_state(const seg_status *st)
{
    if (st->problem == SHMIMG_ECORRUPT || st->problem == SHMIMG_EVERSION ||
        !st->header_read)
        return "unreadable";
    if (st->flags & SHMIMG_FLAG_WRITING)
        return st->generation % 2 ? "writing or incomplete" : "incomplete";
    return st->flags & SHMIMG_FLAG_HAS_IMAGE ? "complete" : "empty";
}

static bool has_image(const seg_status *st)
{
    return st->header_read && st->problem == 0 &&
           (st->flags & SHMIMG_FLAG_HAS_IMAGE) &&
           !(st->flags & SHMIMG_FLAG_WRITING);
}

static void format_time(int64_t ns, char *buf, size_t n)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    if (ns <= 0 || !gmtime_r(&t, &tm) ||
        !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "-");
}

static void print_json(const seg_status *st)
{
    char when[32];
    format_time(st->image.publish_time_ns, when, sizeof when);
    printf("{\"key\": ");
    json_string(stdout, key_of(st));
    printf(", \"path\": ");
    json_string(stdout, st->path);
    printf(", \"file_size\": %lld, \"attached\": %u, \"liveness\": \"%s\", "
           "\"state\": \"%s\"",
           (long long)st->file_size, st->attached, liveness(st),
           image_state(st));
    if (st->problem) {
        printf(", \"problem\": ");
        json_string(stdout, st->problem_msg);
    }
    if (st->header_read)
        printf(", \"layout_version\": %u, \"generation\": %u, \"flags\": %u, "
               "\"persist\": %s, \"lock_held\": %s, \"lock_owner_pid\": %u, "
               "\"payload_offset\": %llu, \"capacity\": %llu",
               st->layout_version, st->generation, st->flags,
               st->flags & SHMIMG_FLAG_PERSIST ? "true" : "false",
               st->lock_word ? "true" : "false", st->lock_owner_pid,
               (unsigned long long)st->payload_offset,
               (unsigned long long)st->capacity);
    if (has_image(st)) {
        printf(", \"width\": %u, \"height\": %u, \"pitch\": %u, "
               "\"pixel_format\": \"RGBA8\", \"payload_size\": %llu, "
               "\"publisher_pid\": %u, \"published\": \"%s\", \"source\": ",
               st->image.width, st->image.height, st->image.pitch,
               (unsigned long long)st->image.payload_size,
               st->image.publisher_pid, when);
        json_string(stdout, st->image.source_name);
    }
    printf("}");
}

static void print_info(const seg_status *st)
{
    printf("segment    %s\n", st->path);
    printf("key        %s\n", key_of(st));
    printf("file       %lld bytes\n", (long long)st->file_size);
    printf("attached   %u process%s (%s)\n", st->attached,
           st->attached == 1 ? "" : "es", liveness(st));
    if (st->problem)
        printf("problem    %s\n", st->problem_msg);
    if (!st->header_read)
        return;
    printf("layout     version %u, header %u bytes, payload at byte %llu, "
           "capacity %llu bytes\n",
           st->layout_version, SHMIMG_HEADER_SIZE,
           (unsigned long long)st->payload_offset,
           (unsigned long long)st->capacity);
    printf("state      %s, generation %u%s\n", image_state(st),
           st->generation,
           st->flags & SHMIMG_FLAG_PERSIST ? ", persistent" : "");
    if (st->lock_word)
        printf("lock       held (pid %u)\n", st->lock_owner_pid);
    else
        printf("lock       free\n");
    if (!has_image(st))
        return;
    char when[32];
    format_time(st->image.publish_time_ns, when, sizeof when);
    printf("image      %ux%u pixels, RGBA8 (bytes R,G,B,A), pitch %u bytes, "
           "%llu bytes\n",
           st->image.width, st->image.height, st->image.pitch,
           (unsigned long long)st->image.payload_size);
    printf("source     %s\n", st->image.source_name);
    printf("publisher  pid %u at %s\n", st->image.publisher_pid, when);
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
    shmimg_err err;
    char path[SEG_PATH_MAX];
    if (seg_path(o.key, path, sizeof path, &err) < 0)
        return usage_error("info", usage, "%s", err.msg);
    seg_status *st = malloc(sizeof *st);
    if (!st)
        return EXIT_FAILURE;
    rc = seg_inspect(path, st, &err);
    if (rc == 0) {
        if (o.json) {
            print_json(st);
            printf("\n");
        } else {
            print_info(st);
        }
        if (st->problem == SHMIMG_ECORRUPT || st->problem == SHMIMG_EVERSION)
            fprintf(stderr, "shmimg: %s\n", st->problem_msg);
    }
    int status = rc < 0 ? failure(&err)
                 : st->problem == SHMIMG_ECORRUPT ||
                         st->problem == SHMIMG_EVERSION
                     ? EXIT_FAILURE
                     : 0;
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
        print_json(st);
    } else {
        if (l->count == 0)
            printf("%-20s %12s %11s %8s %8s %-10s %s\n", "KEY", "FILE_BYTES",
                   "IMAGE", "PID", "ATTACHED", "LIVENESS", "STATE");
        char dims[32] = "-";
        char pid[16] = "-";
        if (has_image(st)) {
            snprintf(dims, sizeof dims, "%ux%u", st->image.width,
                     st->image.height);
            snprintf(pid, sizeof pid, "%u", st->image.publisher_pid);
        }
        printf("%-20s %12lld %11s %8s %8u %-10s %s", key_of(st),
               (long long)st->file_size, dims, pid, st->attached,
               liveness(st), st->problem && !has_image(st) &&
                                     st->problem != SHMIMG_EEMPTY &&
                                     st->problem != SHMIMG_EINCOMPLETE
                                 ? st->problem_msg
                                 : image_state(st));
        if (has_image(st))
            printf(" (%s)", st->image.source_name);
        printf("\n");
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
    shmimg_err err;
    if (seg_list(list_one, &l, &err) < 0)
        return failure(&err);
    if (o.json)
        printf(l.count ? "\n]\n" : "[]\n");
    else if (l.count == 0)
        printf("no segments in %s\n", seg_dir());
    return 0;
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
    shmimg_err err;
    if (seg_remove(o.key, NULL, &err) < 0)
        return failure(&err);
    return 0;
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

int cli_run(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[0], commands[i].name) == 0)
            return commands[i].run(argc, argv);
    return usage_error(argv[0], "shmimg --help", "unknown command");
}
