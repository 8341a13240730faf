/* shrink.c - see shrink.h. */
#include "shrink.h"

#include "job.h"

/* One axis of the area filter: destination pixel i covers the source span
 * [i * src / dst, (i + 1) * src / dst); source pixel first[i] + k takes
 * part of it with weight[i * per + k] (the length of their overlap, in
 * source pixels; the weights of one i add up to src / dst). */
typedef struct axis {
    int *first;
    int *count;
    float *weight;
    int per; /* weights kept per destination pixel */
} axis;

static void axis_free(axis *a)
{
    SDL_free(a->first);
    SDL_free(a->count);
    SDL_free(a->weight);
}

static int axis_make(axis *a, int src, int dst)
{
    double step = (double)src / dst;
    a->per = (int)SDL_ceil(step) + 1;
    a->first = SDL_malloc(sizeof *a->first * (size_t)dst);
    a->count = SDL_malloc(sizeof *a->count * (size_t)dst);
    a->weight = SDL_calloc((size_t)dst * (size_t)a->per, sizeof *a->weight);
    if (!a->first || !a->count || !a->weight) {
        axis_free(a);
        return SDL_OutOfMemory();
    }
    for (int i = 0; i < dst; i++) {
        double x0 = i * step, x1 = SDL_min((i + 1) * step, (double)src);
        int j0 = (int)x0, n = 0;
        for (int j = j0; j < src && j < x1 && n < a->per; j++, n++)
            a->weight[i * a->per + n] =
                (float)(SDL_min(j + 1.0, x1) - SDL_max((double)j, x0));
        a->first[i] = j0;
        a->count[i] = n;
    }
    return 0;
}

SDL_Surface *shrink_surface(const SDL_Surface *src, int w, int h)
{
    if (src->format->format != SDL_PIXELFORMAT_RGBA32 || w < 1 || h < 1 ||
        w > src->w || h > src->h) {
        SDL_SetError("shrink_surface: %dx%d RGBA32 to %dx%d is no shrink",
                     src->w, src->h, w, h);
        return NULL;
    }
    axis ax = {0}, ay = {0};
    float *row = NULL, *acc = NULL; /* premultiplied r, g, b, then a */
    SDL_Surface *out = NULL;
    if (axis_make(&ax, src->w, w) < 0 || axis_make(&ay, src->h, h) < 0)
        goto done;
    row = SDL_malloc(sizeof *row * 4 * (size_t)w);
    acc = SDL_malloc(sizeof *acc * 4 * (size_t)w);
    out = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGBA32);
    if (!row || !acc || !out) {
        SDL_FreeSurface(out);
        out = NULL;
        SDL_OutOfMemory();
        goto done;
    }
    const float area = (float)((double)src->w / w * ((double)src->h / h));
    for (int y = 0; y < h; y++) {
        SDL_memset(acc, 0, sizeof *acc * 4 * (size_t)w);
        for (int k = 0; k < ay.count[y]; k++) {
            const Uint8 *in = (const Uint8 *)src->pixels +
                              (size_t)(ay.first[y] + k) * (size_t)src->pitch;
            float wy = ay.weight[y * ay.per + k];
            /* The row filtered across, then added in with its weight. */
            for (int x = 0; x < w; x++) {
                float r = 0, g = 0, b = 0, a = 0;
                const Uint8 *p = in + 4 * ax.first[x];
                const float *wx = ax.weight + x * ax.per;
                for (int i = 0; i < ax.count[x]; i++, p += 4) {
                    float wa = wx[i] * p[3];
                    r += wa * p[0];
                    g += wa * p[1];
                    b += wa * p[2];
                    a += wa;
                }
                row[4 * x] = r;
                row[4 * x + 1] = g;
                row[4 * x + 2] = b;
                row[4 * x + 3] = a;
            }
            for (int i = 0; i < 4 * w; i++)
                acc[i] += wy * row[i];
        }
        Uint8 *o = (Uint8 *)out->pixels + (size_t)y * (size_t)out->pitch;
        for (int x = 0; x < w; x++, o += 4) {
            float a = acc[4 * x + 3];
            for (int c = 0; c < 3; c++)
                o[c] = a > 0 ? (Uint8)SDL_min(acc[4 * x + c] / a + 0.5f, 255.0f)
                             : 0;
            o[3] = (Uint8)SDL_min(a / area + 0.5f, 255.0f);
        }
    }
done:
    axis_free(&ax);
    axis_free(&ay);
    SDL_free(row);
    SDL_free(acc);
    return out;
}

/* ---- the thread ---------------------------------------------------------- */

struct shrinker {
    job *job;                /* the filter, one at a time */
    const SDL_Surface *lent; /* the running job's source */
};

typedef struct shrink_job {
    shrink_result *result;
    int w, h;
} shrink_job;

static void *run(void *arg)
{
    shrink_job *j = arg;
    shrink_result *r = j->result;
    r->small = shrink_surface(r->source, j->w, j->h);
    SDL_free(j);
    return r;
}

/* At destroy only, on the loop's thread: the lent reference is the
 * loop's to drop. */
static void free_result(void *arg)
{
    shrink_result *r = arg;
    SDL_FreeSurface(r->small);
    SDL_FreeSurface(r->source);
    SDL_free(r);
}

shrinker *shrinker_create(Uint32 event_type)
{
    shrinker *s = SDL_calloc(1, sizeof *s);
    if (s && !(s->job = job_create(event_type, "shmimg-shrink", free_result))) {
        SDL_free(s);
        s = NULL;
    }
    return s;
}

SDL_Surface *shrinker_finished(shrinker *s, shrink_result *r)
{
    job_finished(s->job);
    s->lent = NULL;
    SDL_FreeSurface(r->source); /* the lender's reference stays */
    SDL_Surface *small = r->small;
    SDL_free(r);
    return small;
}

void shrinker_destroy(shrinker *s)
{
    if (!s)
        return;
    job_destroy(s->job);
    SDL_free(s);
}

int shrinker_start(shrinker *s, SDL_Surface *src, int w, int h, unsigned serial)
{
    if (job_busy(s->job))
        return SDL_SetError("a shrink is already running");
    shrink_job *j = SDL_calloc(1, sizeof *j);
    shrink_result *r = SDL_calloc(1, sizeof *r);
    if (!j || !r) {
        SDL_free(j);
        SDL_free(r);
        return SDL_OutOfMemory();
    }
    *j = (shrink_job){.result = r, .w = w, .h = h};
    *r = (shrink_result){.source = src, .serial = serial};
    src->refcount++; /* lent: see shrink.h */
    s->lent = src;
    if (job_start(s->job, run, j) < 0) {
        src->refcount--;
        s->lent = NULL;
        SDL_free(j);
        SDL_free(r);
        return -1;
    }
    return 0;
}

bool shrinker_busy(const shrinker *s) { return job_busy(s->job); }

bool shrinker_holds(const shrinker *s, const SDL_Surface *surf)
{
    return job_busy(s->job) && surf && s->lent == surf;
}
