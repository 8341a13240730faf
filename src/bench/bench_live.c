/* bench_live.c - live sharing at video rate (issue 10), rows 9 to 13: one
 * publisher pacing frames, N reader processes following it, each row
 * against a baseline measured in the same run:
 *
 *   9a-9d  publish time with 1, 2, 4, 8 readers    the bare harness, same N
 *   9e     publish time, 4 readers SIGSTOPped       the same publisher with
 *          in the middle of a read                  no reader
 *   10     frames each reader received (9a-9d)      frames published
 *   11     a reader's pulls/s, unpaced publisher    the same reader against
 *                                                   an idle publisher
 *   12     publish end to frame copied, 4 readers   the bare harness
 *   13     window CPU per frame, zero-copy upload   copy, then upload
 *
 * The bare harness is the physical limit of this traffic on this machine:
 * the same writer and readers over a plain shared mapping of three frame
 * buffers, a counter word with a raw futex wake and a plain memcpy; no
 * lock, no checks, no retries (a lapped copy is torn and nobody notices).
 *
 * Every reader is a forked process with its own seg_attach; the harness
 * (bench_harness.c, bench_live.h) runs them. Nothing here exits: a case
 * that fails says why in its row, its children are reaped (killed after
 * reap_timeout_ms) and its segment removed.
 *
 * Where to start reading: bench_live (at the bottom), then run_case.
 */
#include "bench.h"
#include "bench_live.h"

#include "futex.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Rows 9, 10 and 9e run on each; 11 and 12 on the first, 13 on the
 * second. */
static const video videos[] = {{1920, 1080, 60, "1920x1080"},
                               {3840, 2160, 30, "3840x2160"}};
enum { nvideos = sizeof videos / sizeof videos[0] };
static const int reader_counts[] = {1, 2, 4, 8};
static const char *const reader_ids[] = {"9a", "9b", "9c", "9d"};
enum { ncounts = sizeof reader_counts / sizeof reader_counts[0] };
enum {
    max_blocks = 6,      /* of a case, per harness, in the full run */
    stopped_readers = 4, /* row 9e */
    latency_count = 2,   /* row 12: reader_counts[2] */
};

/* ---- rows 9, 10, 12: N readers following a paced publisher --------------- */

/* What one (video, N, harness) case gathers over its blocks. */
typedef struct tally {
    double *publish; /* ms, every publish */
    int npublish;
    double *latency; /* ms, every reader's every new frame */
    int nlatency;
    double received[max_readers * max_blocks]; /* % of frames published */
    int nreceived;
    uint64_t published, lapped, skipped;
    char error[512]; /* "" unless a block failed */
} tally;

static int tally_init(tally *t, int cap)
{
    memset(t, 0, sizeof *t);
    t->publish = malloc((size_t)cap * sizeof *t->publish);
    t->latency = malloc((size_t)cap * max_readers * sizeof *t->latency);
    return t->publish && t->latency ? 0 : live_fail("out of memory");
}

static void tally_free(tally *t)
{
    free(t->publish);
    free(t->latency);
}

/* One block: a fresh channel, n followers, `seconds` of paced frames. */
static int run_block(const video *v, int n, bool bare, double seconds,
                     const uint8_t *src, tally *t, int cap)
{
    channel c;
    crew cr = {0};
    live_reset();
    int rc = live_open(&c, v, bare, src);
    if (rc < 0)
        return rc;
    rc = live_crew_start(&cr, n, live_follower, &c);
    if (rc == 0)
        rc = live_await_ready(&cr, (uint32_t)n);
    int frames = 0;
    if (rc == 0) {
        frames = live_publish_paced(&c, src, seconds, t->publish + t->npublish,
                                    cap - t->npublish);
        rc = frames < 0 ? -1 : 0;
    }
    /* Time for the slowest reader to finish copying the last frame. */
    if (rc == 0)
        live_sleep_ns(1000000000 / v->fps + 100000000);
    live_stop_readers(&c);
    char why[sizeof live_failure];
    snprintf(why, sizeof why, "%s", live_failure);
    if (live_crew_end(&cr, reap_timeout_ms) < 0 && rc == 0)
        rc = -1;
    else if (rc < 0) /* the first failure is the one to report */
        snprintf(live_failure, sizeof live_failure, "%s", why);
    live_close(&c);
    if (rc < 0)
        return rc;
    t->npublish += frames;
    t->published += (uint64_t)frames;
    for (int r = 0; r < n; r++) {
        reader_out *o = &live_ctl->out[r];
        t->received[t->nreceived++] = 100.0 * (double)o->received / frames;
        t->lapped += o->lapped;
        t->skipped += o->skipped;
        for (int k = 0; k < o->n; k++)
            t->latency[t->nlatency++] = live_ctl->sample[r][k];
    }
    return 0;
}

/* A case's figures, kept for rows 10 and 12 and the figure. */
typedef struct summary {
    bool ok[2]; /* [0] shmimg, [1] the bare harness */
    char error[2][512];
    stats publish[2], latency[2], received[2];
    uint64_t published[2], lapped[2], skipped[2];
} summary;

static summary sums[nvideos][ncounts];
static bool measured[nvideos];

static void run_case(const bench_opts *o, int vi, int ci, const uint8_t *src)
{
    const video *v = &videos[vi];
    int n = reader_counts[ci];
    /* Short blocks, interleaved: the machine is shared, and slow drifts
     * then hit both harnesses alike. */
    int blocks = o->quick ? 2 : max_blocks;
    double seconds = o->quick ? 0.5 : 1.0;
    int cap = (int)(seconds * v->fps) * blocks + 1;
    summary *sum = &sums[vi][ci];
    tally t[2];
    for (int h = 0; h < 2; h++)
        if (tally_init(&t[h], cap) < 0)
            snprintf(t[h].error, sizeof t[h].error, "%s", live_failure);
    /* Blocks interleaved, shmimg then bare: drift hits both. */
    for (int b = 0; b < blocks; b++)
        for (int h = 0; h < 2; h++)
            if (!t[h].error[0] &&
                run_block(v, n, h == 1, seconds, src, &t[h], cap) < 0)
                snprintf(t[h].error, sizeof t[h].error, "%s", live_failure);
    for (int h = 0; h < 2; h++) {
        sum->ok[h] = !t[h].error[0];
        snprintf(sum->error[h], sizeof sum->error[h], "%s", t[h].error);
        if (sum->ok[h]) {
            sum->publish[h] = stats_of(t[h].publish, t[h].npublish);
            sum->latency[h] = stats_of(t[h].latency, t[h].nlatency);
            sum->received[h] = stats_of(t[h].received, t[h].nreceived);
            sum->published[h] = t[h].published;
            sum->lapped[h] = t[h].lapped;
            sum->skipped[h] = t[h].skipped;
        }
        tally_free(&t[h]);
    }

    char what[64], json[512], note[600] = "";
    snprintf(what, sizeof what, "publish, %d reader%s following, %d fps", n,
             n > 1 ? "s" : "", v->fps);
    snprintf(json, sizeof json,
             "\"readers\": %d, \"fps\": %d, \"latency_p50_ms\": %.4g, "
             "\"latency_p99_ms\": %.4g, \"bare_latency_p50_ms\": %.4g, "
             "\"bare_latency_p99_ms\": %.4g",
             n, v->fps, sum->latency[0].median, sum->latency[0].p99,
             sum->latency[1].median, sum->latency[1].p99);
    if (!sum->ok[0])
        snprintf(note, sizeof note, "shmimg: %s", sum->error[0]);
    else if (!sum->ok[1])
        snprintf(note, sizeof note, "bare harness: %s", sum->error[1]);
    bench_row_more(
        o,
        &(row){reader_ids[ci], what, v->name, "ms",
               sum->ok[0] ? sum->publish[0] : (stats){0}, "bare harness",
               sum->ok[1] ? sum->publish[1] : (stats){0}, "<= 1.2x", 1.2, true},
        &(row_more){ROW_BY_RATIO, note, json});
    if (sum->ok[0] && sum->ok[1])
        bench_note(o,
                   "    latency p50/p99 %.3g/%.3g ms (bare %.3g/%.3g); "
                   "frames received min %.1f%% (bare %.1f%%); "
                   "pulls lapped %llu",
                   sum->latency[0].median, sum->latency[0].p99,
                   sum->latency[1].median, sum->latency[1].p99,
                   sum->received[0].min, sum->received[1].min,
                   (unsigned long long)sum->lapped[0]);
}

static void received_row(const bench_opts *o, int vi, int ci)
{
    const video *v = &videos[vi];
    const summary *sum = &sums[vi][ci];
    int n = reader_counts[ci];
    char what[64], json[256], note[600];
    snprintf(what, sizeof what, "frames each reader got, %d reader%s, %d fps",
             n, n > 1 ? "s" : "", v->fps);
    snprintf(json, sizeof json,
             "\"readers\": %d, \"fps\": %d, \"frames_published\": %llu, "
             "\"lapped_pulls\": %llu, \"bare_frames_published\": %llu",
             n, v->fps, (unsigned long long)sum->published[0],
             (unsigned long long)sum->lapped[0],
             (unsigned long long)sum->published[1]);
    int verdict;
    if (!sum->ok[0] || !sum->ok[1]) {
        verdict = sum->ok[0] ? ROW_NA : ROW_MISSED;
        snprintf(note, sizeof note, "%s: %s",
                 sum->ok[0] ? "bare harness" : "shmimg",
                 sum->error[sum->ok[0] ? 1 : 0]);
    } else if (sum->received[1].min >= 95.0) {
        verdict = sum->received[0].min >= 95.0 ? ROW_MET : ROW_MISSED;
        snprintf(note, sizeof note, "slowest reader %.1f%%, %llu pulls lapped",
                 sum->received[0].min, (unsigned long long)sum->lapped[0]);
    } else {
        verdict = ROW_NA;
        snprintf(note, sizeof note,
                 "the bare harness's slowest reader gets only %.1f%% here "
                 "(shmimg's %.1f%%): not judged",
                 sum->received[1].min, sum->received[0].min);
    }
    bench_row_more(o,
                   &(row){"10", what, v->name, "%",
                          sum->ok[0] ? sum->received[0] : (stats){0},
                          "bare harness",
                          sum->ok[1] ? sum->received[1] : (stats){0},
                          ">= 95% each", 0, true},
                   &(row_more){verdict, note, json});
}

static void latency_row(const bench_opts *o)
{
    const summary *sum = &sums[0][latency_count];
    int n = reader_counts[latency_count];
    char what[64], json[128], note[600] = "";
    snprintf(what, sizeof what, "publish end to frame copied, %d readers", n);
    snprintf(json, sizeof json, "\"readers\": %d, \"fps\": %d", n,
             videos[0].fps);
    if (sum->ok[0] && sum->ok[1])
        snprintf(note, sizeof note, "p99 %.3g ms, bare %.3g ms (%.2fx)",
                 sum->latency[0].p99, sum->latency[1].p99,
                 sum->latency[1].p99 > 0
                     ? sum->latency[0].p99 / sum->latency[1].p99
                     : 0);
    else
        snprintf(note, sizeof note, "%s", sum->error[sum->ok[0] ? 1 : 0]);
    bench_row_more(o,
                   &(row){"12", what, videos[0].name, "ms",
                          sum->ok[0] ? sum->latency[0] : (stats){0},
                          "bare harness",
                          sum->ok[1] ? sum->latency[1] : (stats){0},
                          "p50 <= 1.3x", 1.3, true},
                   &(row_more){ROW_BY_RATIO, note, json});
}

/* ---- row 9e: readers stopped in the middle of a read ---------------------- */

static void stopped_row(const bench_opts *o, const video *v, const uint8_t *src)
{
    int rounds = o->quick ? 1 : 3;
    double seconds = 1.0;
    int cap = (int)(seconds * v->fps) * rounds + 1;
    double *alone = malloc((size_t)cap * sizeof *alone);
    double *stopped = malloc((size_t)cap * sizeof *stopped);
    int nalone = 0, nstopped = 0, lapped = 0, asked = 0;
    channel c;
    int rc = alone && stopped ? 0 : live_fail("out of memory");
    live_reset();
    if (rc == 0)
        rc = live_open(&c, v, false, src);
    bool opened = rc == 0;
    /* Rounds of (no reader, readers stopped): drift hits both. */
    for (int round = 0; rc == 0 && round < rounds; round++) {
        int f =
            live_publish_paced(&c, src, seconds, alone + nalone, cap - nalone);
        if (f < 0) {
            rc = -1;
            break;
        }
        nalone += f;
        live_reset();
        crew cr;
        rc = live_crew_start(&cr, stopped_readers, live_stopped_reader, &c);
        if (rc == 0)
            rc = live_await_ready(&cr, (uint32_t)stopped_readers);
        if (rc == 0)
            rc = live_await_stopped(&cr);
        if (rc == 0) {
            f = live_publish_paced(&c, src, seconds, stopped + nstopped,
                                   cap - nstopped);
            rc = f < 0 ? -1 : 0;
            nstopped += f > 0 ? f : 0;
        }
        for (int r = 0; r < cr.n; r++)
            kill(cr.pid[r], SIGCONT);
        char why[sizeof live_failure];
        snprintf(why, sizeof why, "%s", live_failure);
        if (live_crew_end(&cr, reap_timeout_ms) < 0 && rc == 0)
            rc = -1;
        else if (rc < 0)
            snprintf(live_failure, sizeof live_failure, "%s", why);
        for (int r = 0; rc == 0 && r < cr.n; r++) {
            asked++;
            lapped += live_ctl->out[r].end_rc == SEG_ELAPPED;
        }
    }
    if (opened)
        live_close(&c);
    char what[64], note[600];
    snprintf(what, sizeof what,
             "publish, %d readers SIGSTOPped mid-read, %d fps", stopped_readers,
             v->fps);
    if (rc == 0)
        snprintf(note, sizeof note,
                 "after SIGCONT, seg_read_end said lapped to %d of %d", lapped,
                 asked);
    else
        snprintf(note, sizeof note, "%s", live_failure);
    bench_row_more(o,
                   &(row){"9e", what, v->name, "ms",
                          rc == 0 ? stats_of(stopped, nstopped) : (stats){0},
                          "no reader",
                          rc == 0 ? stats_of(alone, nalone) : (stats){0},
                          "<= 1.1x", 1.1, true},
                   &(row_more){ROW_BY_RATIO, note, NULL});
    free(alone);
    free(stopped);
}

/* ---- row 11: a reader against an unpaced publisher ----------------------- */

/* One reader's pulls per second in one kind of phase. */
typedef struct pull_rates {
    double *rate; /* one per rate_window_ns */
    int n, cap;
    double fps; /* the publisher's frames per second, summed */
    uint64_t lapped;
} pull_rates;

/* One phase: a reader pulling for `seconds` while the publisher publishes
 * as fast as it can (unpaced) or not at all. Appends the reader's rates. */
static int pull_phase(const video *v, bool bare, bool unpaced, double seconds,
                      const uint8_t *src, pull_rates *p)
{
    channel c;
    crew cr;
    live_reset();
    int rc = live_open(&c, v, bare, src);
    if (rc < 0)
        return rc;
    rc = live_crew_start(&cr, 1, live_puller, &c);
    if (rc == 0)
        rc = live_await_ready(&cr, 1);
    if (rc == 0) {
        atomic_store(&live_ctl->go, 1);
        futex_wake(&live_ctl->go, INT_MAX);
        int64_t t0 = monotonic_ns(), end = t0 + (int64_t)(seconds * 1e9);
        uint64_t published = 0;
        if (!unpaced)
            live_sleep_ns(end - t0);
        while (unpaced && rc == 0 && monotonic_ns() < end) {
            rc = live_publish(&c, src, NULL);
            published++;
        }
        p->fps += (double)published / ((double)(monotonic_ns() - t0) / 1e9);
    }
    atomic_store(&live_ctl->stop, true);
    futex_wake(&live_ctl->go, INT_MAX);
    char why[sizeof live_failure];
    snprintf(why, sizeof why, "%s", live_failure);
    if (live_crew_end(&cr, reap_timeout_ms) < 0 && rc == 0)
        rc = -1;
    else if (rc < 0)
        snprintf(live_failure, sizeof live_failure, "%s", why);
    live_close(&c);
    if (rc < 0)
        return rc;
    for (int k = 0; k < live_ctl->out[0].n && p->n < p->cap; k++)
        p->rate[p->n++] = live_ctl->sample[0][k];
    p->lapped += live_ctl->out[0].lapped;
    return 0;
}

/* Row 11, and the same phases on the bare harness for comparison: what
 * an unpaced writer costs a reader when nothing is checked at all. */
static void starvation_row(const bench_opts *o, const uint8_t *src)
{
    const video *v = &videos[0];
    int rounds = o->quick ? 1 : 3;
    double seconds = o->quick ? 1.0 : 2.0;
    int cap = (int)(seconds * 1e9 / (double)rate_window_ns) * rounds + 8;
    pull_rates p[2][2] = {{{0}}}; /* [bare][unpaced] */
    int rc = 0;
    for (int h = 0; h < 2; h++)
        for (int u = 0; u < 2; u++) {
            p[h][u].cap = cap;
            p[h][u].rate = malloc((size_t)cap * sizeof *p[h][u].rate);
            if (!p[h][u].rate)
                rc = live_fail("out of memory");
        }
    /* Rounds of idle, unpaced, for each harness: drift hits all four. */
    for (int round = 0; rc == 0 && round < rounds; round++)
        for (int h = 0; rc == 0 && h < 2; h++)
            for (int u = 0; rc == 0 && u < 2; u++)
                rc = pull_phase(v, h == 1, u == 1, seconds, src, &p[h][u]);
    char note[600];
    stats s[2][2] = {{{0}}};
    if (rc == 0) {
        for (int h = 0; h < 2; h++)
            for (int u = 0; u < 2; u++)
                s[h][u] = stats_of(p[h][u].rate, p[h][u].n);
        /* An idle publisher leaves one frame to copy again and again:
         * it stays in the CPU's cache, which an unpaced writer on the
         * other core keeps replacing. Hence the bare harness beside. */
        double mb = (double)(v->width * v->height * 4) / 1e6;
        snprintf(note, sizeof note,
                 "publisher at %.0f fps, %llu pulls lapped; the bare "
                 "harness gets %.0f against %.0f pulls/s (%.2fx; idle, "
                 "%.0f GB/s: the frame stays in cache); shmimg/bare "
                 "unpaced %.2fx",
                 p[0][1].fps / rounds, (unsigned long long)p[0][1].lapped,
                 s[1][1].median, s[1][0].median,
                 s[1][0].median > 0 ? s[1][1].median / s[1][0].median : 0,
                 s[1][0].median * mb / 1e3,
                 s[1][1].median > 0 ? s[0][1].median / s[1][1].median : 0);
    } else {
        snprintf(note, sizeof note, "%s", live_failure);
    }
    char json[256];
    snprintf(json, sizeof json,
             "\"publisher_fps\": %.4g, \"lapped_pulls\": %llu, "
             "\"bare_unpaced_pulls_per_s\": %.4g, "
             "\"bare_idle_pulls_per_s\": %.4g",
             p[0][1].fps / rounds, (unsigned long long)p[0][1].lapped,
             s[1][1].median, s[1][0].median);
    bench_row_more(o,
                   &(row){"11", "a reader's pulls, unpaced publisher", v->name,
                          "pulls/s", s[0][1], "idle publisher", s[0][0],
                          ">= 0.5x", 0.5, false},
                   &(row_more){ROW_BY_RATIO, note, json});
    for (int h = 0; h < 2; h++)
        for (int u = 0; u < 2; u++)
            free(p[h][u].rate);
}

/* ---- row 13: the window's CPU per displayed frame ------------------------- */

static void window_row(const bench_opts *o, const uint8_t *src)
{
    const video *v = &videos[1];
    double seconds = o->quick ? 2.0 : 10.0;
    channel c;
    crew cr = {0};
    live_reset();
    int rc = live_open(&c, v, false, src);
    bool opened = rc == 0;
    if (rc == 0)
        rc = live_crew_start(&cr, 1, live_window, &c);
    if (rc == 0)
        rc = live_await_ready(&cr, 1);
    if (rc == 0 && live_publish_paced(&c, src, seconds, NULL, 1 << 20) < 0)
        rc = -1;
    if (rc == 0)
        live_sleep_ns(1000000000 / v->fps + 100000000);
    if (opened) {
        live_stop_readers(&c);
        char why[sizeof live_failure];
        snprintf(why, sizeof why, "%s", live_failure);
        if (live_crew_end(&cr, reap_timeout_ms) < 0 && rc == 0)
            rc = -1;
        else if (rc < 0)
            snprintf(live_failure, sizeof live_failure, "%s", why);
        live_close(&c);
    }
    stats copied = {0}, zero = {0};
    char note[600];
    if (rc == 0) {
        copied = stats_of(live_ctl->sample[0], live_ctl->out[0].n);
        zero = stats_of(live_ctl->sample[1], live_ctl->out[1].n);
        snprintf(note, sizeof note,
                 "at %d fps: %.0f%% of a core, copy path %.0f%%; "
                 "zero-copy re-reads %llu",
                 v->fps, zero.median * v->fps / 10.0,
                 copied.median * v->fps / 10.0,
                 (unsigned long long)live_ctl->out[0].retries);
    } else {
        snprintf(note, sizeof note, "%s", live_failure);
    }
    bench_row_more(o,
                   &(row){"13", "window CPU/frame, zero-copy upload (SW rend.)",
                          v->name, "ms", zero, "pull, then upload", copied,
                          "<= 0.6x", 0.6, true},
                   &(row_more){ROW_BY_RATIO, note, NULL});
}

/* ---- the figure ---------------------------------------------------------- */

/* Text for SVG: the machine's name may hold &, < or >. */
static void put_xml(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
}

/* A round axis maximum at or above top, and its step: 1, 2 or 5 x 10^k,
 * for at most 6 steps. */
static double axis_step(double top, double *max)
{
    static const double mantissa[] = {1, 2, 5};
    if (top <= 0)
        top = 1;
    for (double decade = 1e-3;; decade *= 10)
        for (int i = 0; i < 3; i++) {
            double step = decade * mantissa[i];
            if (top / step <= 6) {
                long n = (long)(top / step);
                *max = step * (double)(n + (step * (double)n < top));
                return step;
            }
        }
}

enum { fig_w = 960, fig_h = 470, plot_w = 360, plot_h = 270, plot_top = 80 };
static const char *const series_colour[nvideos] = {"#1f5fa8", "#c0392b"};

static double panel_value(const summary *s, int quantity, int h)
{
    return quantity == 0 ? s->publish[h].median : s->latency[h].median;
}

/* One panel: the number of readers (1, 2, 4, 8, evenly spaced) across,
 * a median in ms up, one line per video size and harness. */
static void panel(FILE *f, int left, int quantity, const char *title)
{
    double top = 0;
    for (int vi = 0; vi < nvideos; vi++)
        for (int ci = 0; measured[vi] && ci < ncounts; ci++)
            for (int h = 0; h < 2; h++)
                if (sums[vi][ci].ok[h] &&
                    panel_value(&sums[vi][ci], quantity, h) > top)
                    top = panel_value(&sums[vi][ci], quantity, h);
    double max, step = axis_step(top * 1.05, &max);
    int bottom = plot_top + plot_h;
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"title\">%s</text>\n",
            left + plot_w / 2, plot_top - 14, title);
    for (double y = 0; y <= max + step / 2; y += step) {
        double py = bottom - y / max * plot_h;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                "class=\"grid\"/>\n<text x=\"%d\" y=\"%.1f\" "
                "class=\"ytick\">%g</text>\n",
                left, py, left + plot_w, py, left - 6, py + 4, y);
    }
    for (int ci = 0; ci < ncounts; ci++) {
        double px = left + 30 + ci * (plot_w - 60) / (ncounts - 1.0);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xtick\">%d</text>\n", px,
                bottom + 18, reader_counts[ci]);
    }
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "class=\"frame\"/>\n<text x=\"%d\" y=\"%d\" "
            "class=\"label\">readers following</text>\n<text "
            "transform=\"translate(%d %d) rotate(-90)\" "
            "class=\"label\">ms (median)</text>\n",
            left, plot_top, plot_w, plot_h, left + plot_w / 2, bottom + 40,
            left - 46, plot_top + plot_h / 2);
    for (int vi = 0; vi < nvideos; vi++)
        for (int h = 0; measured[vi] && h < 2; h++) {
            fprintf(f, "<polyline class=\"%s\" stroke=\"%s\" points=\"",
                    h ? "bare" : "ours", series_colour[vi]);
            for (int ci = 0; ci < ncounts; ci++)
                if (sums[vi][ci].ok[h])
                    fprintf(f, "%.1f,%.1f ",
                            left + 30 + ci * (plot_w - 60) / (ncounts - 1.0),
                            bottom - panel_value(&sums[vi][ci], quantity, h) /
                                         max * plot_h);
            fprintf(f, "\"/>\n");
            for (int ci = 0; ci < ncounts; ci++) {
                if (!sums[vi][ci].ok[h])
                    continue;
                double px = left + 30 + ci * (plot_w - 60) / (ncounts - 1.0);
                double py = bottom - panel_value(&sums[vi][ci], quantity, h) /
                                         max * plot_h;
                if (h)
                    fprintf(f,
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" "
                            "height=\"7\" fill=\"white\" stroke=\"%s\"/>\n",
                            px - 3.5, py - 3.5, series_colour[vi]);
                else
                    fprintf(f,
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
                            "fill=\"%s\"/>\n",
                            px, py, series_colour[vi]);
            }
        }
}

static void legend(FILE *f)
{
    int y = fig_h - 62;
    for (int vi = 0; vi < nvideos; vi++, y += 20)
        for (int h = 0, x = 140; measured[vi] && h < 2; h++, x += 360) {
            fprintf(f,
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                    "class=\"%s\" stroke=\"%s\"/>\n<text x=\"%d\" y=\"%d\" "
                    "class=\"legend\">%s, %s at %d fps</text>\n",
                    x, y, x + 30, y, h ? "bare" : "ours", series_colour[vi],
                    x + 36, y + 4, h ? "bare harness" : "shmimg",
                    videos[vi].name, videos[vi].fps);
        }
}

/* Writes the figure to a temporary file beside o->figure, then renames
 * it into place, so that a reader never sees half a figure. */
static int write_figure(const bench_opts *o)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", o->figure, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return live_fail("%s: %s", tmp, strerror(errno));
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
            "font-size=\"12\">\n<style>\n"
            ".title{font-size:14px;font-weight:bold;text-anchor:middle}\n"
            ".label{text-anchor:middle}\n.ytick{text-anchor:end}\n"
            ".xtick{text-anchor:middle}\n"
            ".grid{stroke:#ddd;stroke-width:1}\n"
            ".frame{fill:none;stroke:#444;stroke-width:1}\n"
            ".ours{fill:none;stroke-width:2}\n"
            ".bare{fill:none;stroke-width:2;stroke-dasharray:6 4}\n"
            "</style>\n<rect width=\"100%%\" height=\"100%%\" "
            "fill=\"white\"/>\n<text x=\"%d\" y=\"24\" class=\"title\">"
            "shmimg layout 2: one publisher, N readers, against the bare "
            "harness (plain mapping, futex, memcpy)</text>\n<text x=\"%d\" "
            "y=\"42\" class=\"label\">shmimg-bench%s, ",
            fig_w, fig_h, fig_w, fig_h, fig_w / 2, fig_w / 2,
            o->quick ? " --quick" : "");
    put_xml(f, o->machine ? o->machine : "");
    fprintf(f, "</text>\n");
    panel(f, 80, 0, "Publish time (write begin to end, copy included)");
    panel(f, 80 + plot_w + 120, 1, "Latency: publish end to frame copied");
    legend(f);
    fprintf(f, "</svg>\n");
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, o->figure) < 0) {
        int e = errno;
        unlink(tmp);
        return live_fail("%s: %s", o->figure, strerror(e));
    }
    return 0;
}

/* ---- the section ------------------------------------------------------- */

int bench_live(const bench_opts *o)
{
    live_ctl = mmap(NULL, sizeof *live_ctl, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (live_ctl == MAP_FAILED) {
        fprintf(stderr, "shmimg-bench: live rows: mmap: %s\n", strerror(errno));
        return -1;
    }
    const video *big = &videos[nvideos - 1];
    size_t bytes = (size_t)big->width * (size_t)big->height * 4;
    uint8_t *src = malloc(bytes); /* the frame every publish copies */
    if (!src) {
        fprintf(stderr, "shmimg-bench: live rows: out of memory\n");
        munmap(live_ctl, sizeof *live_ctl);
        return -1;
    }
    for (size_t i = 0; i < bytes; i++) /* pixels with some content */
        src[i] = (uint8_t)(i * 2654435761u >> 24);

    for (int vi = 0; vi < nvideos; vi++) {
        measured[vi] = true;
        for (int ci = 0; ci < ncounts; ci++)
            run_case(o, vi, ci, src);
    }
    for (int vi = 0; vi < nvideos; vi++)
        stopped_row(o, &videos[vi], src);
    for (int vi = 0; vi < nvideos; vi++)
        for (int ci = 0; ci < ncounts; ci++)
            received_row(o, vi, ci);
    starvation_row(o, src);
    latency_row(o);
    window_row(o, src);
    free(src);
    munmap(live_ctl, sizeof *live_ctl);

    if (o->figure && write_figure(o) < 0) {
        fprintf(stderr, "shmimg-bench: figure: %s\n", live_failure);
        return -1;
    }
    return 0;
}
