/* inspect.c - see inspect.h. seg_inspect reads a segment file with pread (no lock, no mapping, nothing
 * written), seg_list walks SHMIMG_DIR. What they report is for people and
 * scripts; a publisher may be writing meanwhile, so the newest frame is
 * the one whose buffer was even in the copy we read.
 */
#include "inspect.h"
#include "escape.h"
#include "segment_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Fills st's buffer table and newest frame from the header copy h. */
static void read_buffers(const shmimg_header *h, seg_status *st, seg_err *why)
{
    for (unsigned i = 0; i < SHMIMG_MAX_BUFFERS; i++) {
        uint64_t offset;
        st->buf[i].seq = atomic_load(&h->buf[i].seq);
        seg_copy_descriptor(&h->buf[i], &st->buf[i].image, &offset);
        st->buf[i].image.buffer = i;
    }
    unsigned newest = SHMIMG_LATEST_INDEX(st->latest);
    const seg_image *img = &st->buf[newest].image;
    if (st->buf[newest].seq % 2) {
        st->state = SEG_EINCOMPLETE;
    } else if (img->frame == 0) {
        st->state = SEG_EEMPTY;
    } else {
        st->image = *img;
        int rc = seg_check_frame(img, h->buf[newest].offset, h->payload_offset,
                                 (uint64_t)st->file_size, st->path, why);
        if (rc < 0)
            st->problem = rc;
    }
}

int seg_inspect(const char *path, seg_status *st, seg_err *err)
{
    memset(st, 0, sizeof *st);
    snprintf(st->path, sizeof st->path, "%s", path);
    struct stat sb;
    const char *key = strrchr(path, '/');
    key = key ? key + 1 : path;
    if (strncmp(key, SEG_FILE_PREFIX, strlen(SEG_FILE_PREFIX)) == 0)
        key += strlen(SEG_FILE_PREFIX);
    int fd = seg_open_checked(path, O_RDONLY, key, SEG_OPEN_OTHERS, &sb, err);
    if (fd < 0)
        return fd;
    st->file_size = sb.st_size;
    st->mode = sb.st_mode & 07777;
    st->uid = sb.st_uid;
    st->attached = seg_count_owners(fd);

    static shmimg_header zero;
    shmimg_header h = zero;
    ssize_t got = pread(fd, &h, sizeof h, 0);
    close(fd);
    seg_err why = {0};
    if (got < 0)
        return seg_fail_errno(err, path, "read");
    st->problem = seg_check_header(&h, (uint64_t)sb.st_size, path, &why);
    if ((size_t)got == sizeof h && st->problem != SEG_ECORRUPT) {
        st->header_read = st->problem == 0;
        st->layout_version = h.layout_version;
    }
    if (st->problem == 0) {
        st->flags = atomic_load(&h.flags);
        st->latest = atomic_load(&h.latest);
        st->lock_word = atomic_load(&h.lock_word);
        st->lock_owner_pid = h.lock_owner_pid;
        st->payload_offset = h.payload_offset;
        st->capacity = h.capacity;
        st->buffer_stride = h.buffer_stride;
        st->buffer_count = h.buffer_count;
        read_buffers(&h, st, &why);
    }
    if (st->problem)
        snprintf(st->problem_msg, sizeof st->problem_msg, "%s", why.msg);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_segment_name(const struct dirent *d)
{
    size_t n = strlen(SEG_FILE_PREFIX);
    return strncmp(d->d_name, SEG_FILE_PREFIX, n) == 0 &&
           seg_key_check(d->d_name + n, NULL) == 0;
}

int seg_list(int (*fn)(const seg_status *st, void *ctx), void *ctx,
             seg_err *err)
{
    seg_clean_leftovers(NULL);
    struct dirent **names;
    int n = scandir(seg_dir(), &names, is_segment_name, by_name);
    if (n < 0)
        return seg_dir_check(err) < 0
                   ? SEG_ESETTING
                   : seg_fail_errno(err, seg_dir(),
                                    "read the directory (SHMIMG_DIR)");
    int rc = 0;
    seg_status *st = malloc(sizeof *st);
    for (int i = 0; i < n; i++) {
        if (st && rc == 0) {
            char path[SEG_PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", seg_dir(), names[i]->d_name);
            seg_err why;
            if (seg_inspect(path, st, &why) < 0) {
                /* Unopenable: report it as a problem of that entry. */
                memset(st, 0, sizeof *st);
                snprintf(st->path, sizeof st->path, "%s", path);
                struct stat ls;
                if (lstat(path, &ls) == 0)
                    st->file_size = ls.st_size;
                st->problem = why.code;
                snprintf(st->problem_msg, sizeof st->problem_msg, "%s",
                         why.msg);
            }
            rc = fn(st, ctx);
        }
        free(names[i]);
    }
    free(names);
    free(st);
    return rc;
}

const char *seg_status_key(const seg_status *st)
{
    const char *name = strrchr(st->path, '/');
    name = name ? name + 1 : st->path;
    return name + strlen(SEG_FILE_PREFIX);
}

/* What we could not open is not a segment we can judge: say what it is
 * rather than call it stale (which means: left by dead processes). */
const char *seg_status_liveness(const seg_status *st)
{
    if (st->problem == SEG_ENOTFILE)
        return "n/a";
    if (st->problem == SEG_EPERM && !st->header_read)
        return "unknown";
    if (st->attached > 0)
        return "alive";
    /* Nobody holds it, but a file that is no segment was never left by
     * dead users of one: it is not "stale". */
    if (!st->header_read)
        return "n/a";
    return st->flags & SHMIMG_FLAG_PERSIST ? "persistent" : "stale";
}

const char *seg_status_state(const seg_status *st)
{
    if (st->problem == SEG_ENOTFILE)
        return "not-a-segment";
    if (st->problem == SEG_EPERM)
        return "not-yours";
    if (st->problem == SEG_ECORRUPT || st->problem == SEG_EVERSION ||
        !st->header_read)
        return "unreadable";
    if (st->state == SEG_EINCOMPLETE)
        return st->lock_word ? "writing or incomplete" : "incomplete";
    return st->state == SEG_EEMPTY ? "empty" : "complete";
}

bool seg_status_has_image(const seg_status *st)
{
    return st->header_read && st->problem == 0 && st->state == 0;
}

const char *seg_status_buffer_state(const seg_status *st, unsigned i)
{
    if (st->buf[i].seq % 2)
        return st->lock_word ? "writing" : "incomplete";
    if (st->buf[i].image.frame == 0)
        return "empty";
    return SHMIMG_LATEST_INDEX(st->latest) == i ? "newest" : "older";
}

void seg_format_time(int64_t ns, char *buf, size_t n)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    if (ns <= 0 || !gmtime_r(&t, &tm) ||
        !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "-");
}

/* ---- JSON --------------------------------------------------------------- */

static void put_string(FILE *f, const char *s)
{
    size_t n = escape_json_size(s);
    char *buf = malloc(n);
    if (!buf) {
        fputs("\"\"", f); /* out of memory: still valid JSON */
        return;
    }
    escape_json(s, buf, n);
    fputs(buf, f);
    free(buf);
}

void seg_status_json(FILE *f, const seg_status *st)
{
    fputs("{\"key\": ", f);
    put_string(f, seg_status_key(st));
    fputs(", \"path\": ", f);
    put_string(f, st->path);
    fprintf(f,
            ", \"file_size\": %lld, \"attached\": %u, \"liveness\": \"%s\", "
            "\"state\": \"%s\"",
            (long long)st->file_size, st->attached, seg_status_liveness(st),
            seg_status_state(st));
    if (st->problem) {
        fputs(", \"problem\": ", f);
        put_string(f, st->problem_msg);
    }
    if (st->header_read) {
        fprintf(f,
                ", \"layout_version\": %u, \"latest\": %u, \"flags\": %u, "
                "\"persist\": %s, \"mode\": \"%04o\", \"owner_uid\": %u, "
                "\"lock_held\": %s, \"lock_owner_pid\": %u, "
                "\"payload_offset\": %llu, \"capacity\": %llu, "
                "\"buffer_stride\": %llu, \"buffer_count\": %u, "
                "\"buffers\": [",
                st->layout_version, st->latest, st->flags,
                st->flags & SHMIMG_FLAG_PERSIST ? "true" : "false", st->mode,
                st->uid, st->lock_word ? "true" : "false", st->lock_owner_pid,
                (unsigned long long)st->payload_offset,
                (unsigned long long)st->capacity,
                (unsigned long long)st->buffer_stride, st->buffer_count);
        for (unsigned i = 0; i < st->buffer_count && i < SHMIMG_MAX_BUFFERS;
             i++)
            fprintf(f, "%s{\"state\": \"%s\", \"seq\": %u, \"frame\": %llu}",
                    i ? ", " : "", seg_status_buffer_state(st, i),
                    st->buf[i].seq, (unsigned long long)st->buf[i].image.frame);
        fputs("]", f);
    }
    if (seg_status_has_image(st)) {
        char when[32];
        seg_format_time(st->image.publish_time_ns, when, sizeof when);
        fprintf(f,
                ", \"frame\": %llu, \"width\": %u, \"height\": %u, "
                "\"pitch\": %u, \"pixel_format\": \"RGBA8\", "
                "\"payload_size\": %llu, \"publisher_pid\": %u, "
                "\"published\": \"%s\", \"source\": ",
                (unsigned long long)st->image.frame, st->image.width,
                st->image.height, st->image.pitch,
                (unsigned long long)st->image.payload_size,
                st->image.publisher_pid, when);
        put_string(f, st->image.source_name);
    }
    fputs("}", f);
}
