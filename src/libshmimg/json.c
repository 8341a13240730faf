/* json.c - shmimg_info_json and shmimg_list_json: a segment described with
 * the fields and values of `shmimg info --json` / `shmimg list --json`
 * (src/cli/cli.c's print_json, which names the same derived states: keep
 * both in step; tests/python/test_shmimg.py compares them). */
#include "api_internal.h"
#include "escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void put_string(FILE *f, const char *s)
{
    size_t n = escape_json_size(s);
    char *buf = malloc(n);
    if (!buf) {
        fputs("\"\"", f);
        return;
    }
    escape_json(s, buf, n);
    fputs(buf, f);
    free(buf);
}

static void put_status(FILE *f, const seg_status *st)
{
    fputs("{\"key\": ", f);
    put_string(f, seg_status_key(st));
    fputs(", \"path\": ", f);
    put_string(f, st->path);
    fprintf(f, ", \"file_size\": %lld, \"attached\": %u, \"liveness\": \"%s\", "
            "\"state\": \"%s\"",
            (long long)st->file_size, st->attached, seg_status_liveness(st),
            seg_status_state(st));
    if (st->problem) {
        fputs(", \"problem\": ", f);
        put_string(f, st->problem_msg);
    }
    if (st->header_read) {
        fprintf(f, ", \"layout_version\": %u, \"latest\": %u, \"flags\": %u, "
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
                    i ? ", " : "", seg_status_buffer_state(st, i), st->buf[i].seq,
                    (unsigned long long)st->buf[i].image.frame);
        fputs("]", f);
    }
    if (seg_status_has_image(st)) {
        char when[32];
        seg_format_time(st->image.publish_time_ns, when, sizeof when);
        fprintf(f, ", \"frame\": %llu, \"width\": %u, \"height\": %u, "
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

/* A memory stream for the JSON text; *json gets it when it closes. */
typedef struct json_out {
    FILE *f;
    char *text;
    size_t len;
} json_out;

static int json_open(json_out *o)
{
    o->text = NULL;
    o->f = open_memstream(&o->text, &o->len);
    return o->f ? 0 : shmimg_set_error(SHMIMG_ERR_SYSTEM, "out of memory");
}

static int json_close(json_out *o, int rc, char **json)
{
    bool bad = ferror(o->f) != 0;
    fclose(o->f);
    if (rc == 0 && bad)
        rc = shmimg_set_error(SHMIMG_ERR_SYSTEM, "out of memory");
    if (rc < 0) {
        free(o->text);
        return rc;
    }
    *json = o->text;
    return SHMIMG_OK;
}

int shmimg_info_json(const char *key, char **json)
{
    if (!key || !json)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "key and json must not be NULL");
    *json = NULL;
    seg_err err = {0};
    char path[SEG_PATH_MAX];
    int rc = seg_path(key, path, sizeof path, &err);
    if (rc < 0)
        return shmimg__failed(rc, &err);
    seg_status *st = malloc(sizeof *st);
    if (!st)
        return shmimg_set_error(SHMIMG_ERR_SYSTEM, "out of memory");
    json_out o;
    rc = json_open(&o);
    if (rc < 0)
        goto done;
    rc = seg_inspect(path, st, &err);
    if (rc < 0)
        rc = shmimg__failed(rc, &err);
    else
        put_status(o.f, st);
    rc = json_close(&o, rc, json);
done:
    free(st);
    return rc;
}

typedef struct list_ctx {
    FILE *f;
    unsigned count;
} list_ctx;

static int list_one(const seg_status *st, void *ctx)
{
    list_ctx *l = ctx;
    fputs(l->count++ ? ",\n  " : "[\n  ", l->f);
    put_status(l->f, st);
    return 0;
}

int shmimg_list_json(char **json)
{
    if (!json)
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT, "json must not be NULL");
    *json = NULL;
    json_out o;
    int rc = json_open(&o);
    if (rc < 0)
        return rc;
    list_ctx l = {.f = o.f};
    seg_err err = {0};
    rc = seg_list(list_one, &l, &err);
    if (rc < 0)
        rc = shmimg__failed(rc, &err);
    else
        fputs(l.count ? "\n]" : "[]", o.f);
    return json_close(&o, rc, json);
}
