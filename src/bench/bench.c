/* bench.c - shmimg-bench: how close shmimg comes to the physical limits
 * (memcpy, page faults, a raw futex) and how far ahead of the alternatives
 * (System V semaphores, pthread mutexes, Qt's PNG-serializing data path).
 *
 *   shmimg-bench [--quick] [--json] [--shmimg PATH] [--figure SVG]
 *                [--only SECTION]
 *
 * Where to start reading: main (below), then bench_copy.c, bench_locks.c,
 * bench_memory.c and bench_live.c, one file per group of rows of the
 * README's table. --figure writes bench_live's figure (publish time and
 * latency against the number of readers) as an SVG; --only runs one
 * section: memory, copy, locks, stream or live.
 */
#include "bench.h"

#include <SDL.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static bool first_json_row = true;

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

stats stats_of(double *samples, int n)
{
    qsort(samples, (size_t)n, sizeof *samples, by_value);
    stats s = {0, 0, 0, n, 0};
    if (n > 0) {
        s.median =
            n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
        s.min = samples[0];
        s.max = samples[n - 1];
        /* nearest rank: the smallest sample >= 99% of them */
        int rank = (99 * n + 99) / 100;
        s.p99 = samples[rank - 1];
    }
    return s;
}

int bench_reps(const bench_opts *o, size_t bytes)
{
    if (o->quick)
        return 3;
    return bytes <= (1u << 20) ? 201 : bytes <= (8u << 20) ? 51 : 21;
}

static void json_stats(const char *name, stats s)
{
    printf("\"%s\": {\"median\": %.6g, \"min\": %.6g, \"max\": %.6g, "
           "\"p99\": %.6g, \"runs\": %d}",
           name, s.median, s.min, s.max, s.p99, s.n);
}

void bench_row(const bench_opts *o, const row *r)
{
    bench_row_more(o, r, &(row_more){ROW_BY_RATIO, NULL, NULL});
}

void bench_row_more(const bench_opts *o, const row *r, const row_more *m)
{
    bool has_ours = r->ours.n > 0; /* not: the measurement failed */
    bool has_base = r->baseline.n > 0 && r->baseline.median > 0;
    bool has_ratio = has_ours && has_base;
    double ratio = has_ratio ? r->ours.median / r->baseline.median : 0;
    /* A target is judged by the ratio, or by the caller's verdict; one
     * whose measurement failed is missed. */
    bool shown =
        r->target[0] && (has_base || !has_ours || m->verdict != ROW_BY_RATIO);
    bool judged = shown && m->verdict != ROW_NA;
    bool met = m->verdict != ROW_BY_RATIO ? m->verdict == ROW_MET
               : !has_ratio               ? false
               : r->lower_is_better       ? ratio <= r->limit
                                          : ratio >= r->limit;
    const char *note = m->note ? m->note : "";
    if (o->json) {
        printf("%s\n  {\"id\": \"%s\", \"what\": \"%s\", \"size\": \"%s\", "
               "\"unit\": \"%s\", ",
               first_json_row ? "" : ",", r->id, r->what, r->size, r->unit);
        json_stats("shmimg", r->ours);
        if (has_base) {
            printf(", \"baseline_name\": \"%s\", ", r->baseline_name);
            json_stats("baseline", r->baseline);
        }
        if (has_ratio)
            printf(", \"ratio\": %.4g", ratio);
        if (shown)
            printf(", \"target\": \"%s\", \"met\": %s", r->target,
                   judged ? (met ? "true" : "false") : "null");
        if (note[0])
            printf(", \"note\": \"%s\"", note);
        if (m->json && m->json[0])
            printf(", %s", m->json);
        printf("}");
        first_json_row = false;
        return;
    }
    char ours[64], base[96] = "", verdict[64] = "";
    if (r->ours.n > 0)
        snprintf(ours, sizeof ours, "%.3g %s [%.3g..%.3g]", r->ours.median,
                 r->unit, r->ours.min, r->ours.max);
    else
        snprintf(ours, sizeof ours, "not measured");
    if (has_base)
        snprintf(base, sizeof base, "%s %.3g [%.3g..%.3g]", r->baseline_name,
                 r->baseline.median, r->baseline.min, r->baseline.max);
    if (has_ratio) {
        if (ratio >= 0.1)
            snprintf(verdict, sizeof verdict, "%.2fx", ratio);
        else
            snprintf(verdict, sizeof verdict, "1/%.0fx", 1 / ratio);
    }
    if (shown) {
        size_t n = strlen(verdict);
        snprintf(verdict + n, sizeof verdict - n, "%s%s %s", n ? "  " : "",
                 r->target,
                 !judged ? "n/a"
                 : met   ? "met"
                         : "MISSED");
    }
    printf("%-3s %-44s %-10s %-30s %-42s %s%s%s\n", r->id, r->what, r->size,
           ours, base, verdict, note[0] ? "  " : "", note);
}

void bench_note(const bench_opts *o, const char *fmt, ...)
{
    if (o->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void machine(char *buf, size_t n)
{
    char model[512] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            snprintf(model, sizeof model, "%s", colon ? colon + 2 : line);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    snprintf(buf, n, "%s, %ld cores, Linux %s", model,
             sysconf(_SC_NPROCESSORS_ONLN), u.release);
}

static void usage(void)
{
    fprintf(stderr, "usage: shmimg-bench [--quick] [--json] [--shmimg PATH] "
                    "[--figure SVG] [--only memory|copy|locks|stream|live]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench_opts o = {0};
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            o.quick = true;
        else if (strcmp(argv[i], "--json") == 0)
            o.json = true;
        else if (strcmp(argv[i], "--shmimg") == 0 && i + 1 < argc)
            o.shmimg = argv[++i];
        else if (strcmp(argv[i], "--figure") == 0 && i + 1 < argc)
            o.figure = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else
            usage();
    }
    if (only && strcmp(only, "memory") != 0 && strcmp(only, "copy") != 0 &&
        strcmp(only, "locks") != 0 && strcmp(only, "live") != 0 &&
        strcmp(only, "stream") != 0)
        usage();
    char self[4096], shmimg[4200];
    if (!o.shmimg) { /* beside us, as the build lays them out */
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(shmimg, sizeof shmimg, "%s/shmimg", self);
        o.shmimg = shmimg;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    static char dir[] = "/dev/shm/shmimg-bench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("shmimg-bench: mkdtemp");
        return 1;
    }
    setenv("SHMIMG_DIR", dir, 1); /* private: no clash with real segments */
    char where[1024];
    machine(where, sizeof where);
    o.machine = where;
    if (o.json)
        printf("{\"machine\": \"%s\", \"quick\": %s, \"rows\": [", where,
               o.quick ? "true" : "false");
    else
        printf("shmimg-bench%s on %s\n%-3s %-44s %-10s %-30s %-42s %s\n",
               o.quick ? " --quick (smoke run, few repetitions)" : "", where,
               "#", "what", "size", "shmimg: median [min..max]",
               "baseline: median [min..max]", "ratio");
    int rc = 0;
    if (!only || strcmp(only, "memory") == 0)
        bench_memory(&o); /* first, while this process is still small */
    if (!only || strcmp(only, "copy") == 0)
        bench_copy(&o);
    if (!only || strcmp(only, "locks") == 0)
        bench_locks(&o);
    if (!only || strcmp(only, "stream") == 0)
        bench_stream(&o);
    if (!only || strcmp(only, "live") == 0)
        rc = bench_live(&o);
    if (o.json)
        printf("\n]}\n");
    rmdir(dir);
    SDL_Quit();
    return rc < 0 ? 1 : 0;
}
