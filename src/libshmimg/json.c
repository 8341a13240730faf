/* json.c - shmimg_info_json and shmimg_list_json: the text of `shmimg info
 * --json` / `shmimg list --json`, from the same writer (seg_status_json,
 * inspect.h); tests/python/test_shmimg.py compares them. */
#include "api_internal.h"
#include "inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        return shmimg_set_error(SHMIMG_ERR_ARGUMENT,
                                "key and json must not be NULL");
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
        seg_status_json(o.f, st);
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
    seg_status_json(l->f, st);
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
