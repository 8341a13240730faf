/* cli_common.c - see cli_common.h. */
#include "cli_common.h"

#include "cli.h"
#include "escape.h"
#include "inspect.h"
#include "quitsig.h"
#include "save.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Bit n set: standard stream n was closed when we started (main.c put
 * /dev/null there so that nothing else could take its number). */
unsigned closed_stdio;

void cli_set_closed_stdio(unsigned mask) { closed_stdio = mask; }

/* ---- output ------------------------------------------------------------- */

static void report_begin(sigset_t *held);
static void report_end(const sigset_t *held);

/* Writes s to f through escape_display or escape_json, whole; fallback
 * when there is no memory for it. */
static void put_escaped(FILE *f, const char *s, bool json, const char *fallback)
{
    size_t need = json ? escape_json_size(s) : escape_display_size(s);
    char *safe = malloc(need);
    if (!safe) {
        fputs(fallback, f);
        return;
    }
    if (json)
        escape_json(s, safe, need);
    else
        escape_display(s, safe, need);
    fputs(safe, f);
    free(safe);
}

/* Writes one line for a person: prefix, then the formatted text with
 * every byte that could reprogram a terminal or forge a line escaped. */
__attribute__((format(printf, 3, 0))) static void vline(FILE *f,
                                                        const char *prefix,
                                                        const char *fmt,
                                                        va_list ap)
{
    char raw[2 * SEG_PATH_MAX + 1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    sigset_t held;
    report_begin(&held);
    fputs(prefix, f);
    put_escaped(f, raw, false, "(out of memory)");
    fputc('\n', f);
    report_end(&held);
}

/* A line on stdout (results, reports). */
void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(stdout, "", fmt, ap);
    va_end(ap);
}

/* "shmimg: " and a line on stderr. */
void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(stderr, "shmimg: ", fmt, ap);
    va_end(ap);
}

/* st as JSON on stdout (inspect.h's writer, libshmimg's too), let in by
 * quit signals like every report. */
void out_json_status(const seg_status *st)
{
    sigset_t held;
    report_begin(&held);
    seg_status_json(stdout, st);
    report_end(&held);
}

/* Flushes stdout and says whether everything written to it arrived.
 * result: stdout carries the command's result, so a failed write fails
 * the command (a reader that went away, EPIPE, quietly). Otherwise it
 * only carried a report, and the command keeps its status.
 * Returns: status, or EXIT_FAILURE. */
int finish_stdout(int status, bool result)
{
    /* Closed on purpose by the caller: for a report, that says "do not
     * tell me"; for a result, it is nowhere to go. */
    if (closed_stdio & 1u << STDOUT_FILENO) {
        if (!result)
            return status;
        say("standard output is closed: the result was not written");
        return EXIT_FAILURE;
    }
    /* Said once, with the first reason: a long-running command (a stream)
     * reports more than once, and a stdio stream that failed keeps
     * failing, with a vaguer errno each time. */
    static int failed_errno;
    errno = 0;
    sigset_t held;
    report_begin(&held);
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    report_end(&held);
    int e = errno ? errno : EIO;
    if (!failed)
        return status;
    if (e == EPIPE && result)
        return EXIT_FAILURE;
    if (!failed_errno) {
        failed_errno = e;
        say("cannot write to standard output: %s%s", strerror(e),
            result ? "" : " (the command itself succeeded)");
    }
    return result ? EXIT_FAILURE : status;
}

int usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    /* One line per form of the command, each escaped on its own. */
    const char *nl = strchr(usage, '\n');
    say("%s: %s (usage: %.*s)", cmd, why,
        nl ? (int)(nl - usage) : (int)strlen(usage), usage);
    for (const char *line = nl; line; line = nl) {
        line += 1 + strspn(line + 1, " ");
        nl = strchr(line, '\n');
        say("  or: %.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
    }
    return EXIT_USAGE;
}

/* One line for a failure, with the way out where there is one. */
int failure(const seg_err *err, const char *key)
{
    const char *hint = "";
    char rm_hint[SEG_KEY_MAX + 80];
    char path[SEG_PATH_MAX];
    if (key && (err->code == SEG_ECORRUPT || err->code == SEG_EVERSION) &&
        seg_path(key, path, sizeof path, NULL) == 0 &&
        access(path, F_OK) == 0) {
        snprintf(rm_hint, sizeof rm_hint, " ('shmimg rm --key %s' removes it)",
                 key);
        hint = rm_hint;
    }
    say("%s%s%s", err->code == SEG_ENOTIMAGE ? "not an image: " : "", err->msg,
        hint);
    return err->code == SEG_ESETTING ? EXIT_USAGE : EXIT_FAILURE;
}

/* Says once, on stderr, that SHMIMG_DIR is backed by a disk. */
void note_dir_kind(void)
{
    char note[SEG_PATH_MAX + 128];
    if (seg_dir_note(note, sizeof note) == 1)
        say("%s", note);
}

int attach_reader_waiting(const char *key, int timeout_ms, seg **s,
                          seg_err *err)
{
    int rc = seg_attach(key, SEG_READER, s, err);
    if (rc != SEG_ENOSEG)
        return rc;
    say("no segment for key %s in %s yet; waiting for a publisher", key,
        seg_dir());
    return seg_attach_wait(key, timeout_ms, &quit_asked, s, err);
}

/* Says, on stderr, when the segment holds fewer buffers than it asked for
 * (SHMIMG_DIR too small): readers may then have to retry. */
void note_buffers(const seg *s)
{
    unsigned wanted, got = seg_buffers(s, &wanted);
    if (got > 0 && got < wanted)
        say("note: %s holds %u frame buffer%s, not %u: %s has no room for "
            "more; %s",
            seg_file(s), got, got == 1 ? "" : "s", wanted, seg_dir(),
            got == 1 ? "readers wait while each frame is written, and may "
                       "have to read it again (libshmimg and pull --follow "
                       "--raw then copy under the lock, the publisher "
                       "waiting)"
                     : "a slow reader is overtaken sooner, and reads "
                       "again");
}

/* ---- signals ------------------------------------------------------------ */

/* A command meets the quit signals (quitsig.h) in one of two ways:
 *   - caught (catch_quit_signals): the handler sets quit_asked, and the
 *     blocking call it interrupts returns EINTR (no SA_RESTART). For pull
 *     and pull --follow, whose waits (seg_wait) look at quit_asked.
 *   - held (hold_quit_signals): caught, but blocked except where we let
 *     them in: in quit_wait's ppoll, in quit_poll between two pieces of
 *     work, and while a report is written. For the publishers, which must
 *     detach whatever a signal would have interrupted.
 * A call that may block for as long as someone else likes must still end
 * soon after a quit signal, even one that came just before the call began
 * (then it interrupts nothing):
 *   - a report (out, say, finish_stdout) into a full pipe or a stopped
 *     terminal: a quit signal while one is written points stdout and
 *     stderr at /dev/null, and one written after a quit signal has an
 *     alarm 1 s later that does the same;
 *   - opening an output FIFO nobody reads (opening): a quit signal arms
 *     an alarm 1 s later, whose SIGALRM interrupts the open;
 *   - a save into it (saving): the signal ends us, as for pull. */

atomic_bool quit_asked;
volatile sig_atomic_t quit_signal;
/* Set while an output is being written: a quit signal then removes the
 * temporary file and ends us at once, rather than waiting for a save that
 * may be stuck on a FIFO nobody reads or a slow pipe. */
volatile sig_atomic_t saving;
/* Set while an output that may wait for its reader is opened. */
volatile sig_atomic_t opening;
/* Set while a report is written (report_begin, report_end). */
static volatile sig_atomic_t reporting;
/* Where reports go once a quit signal cut one short; -1 until
 * catch_quit_signals. */
static int quit_devnull = -1;
static bool caught; /* catch_quit_signals has run */

static void on_quit(int sig)
{
    int saved_errno = errno;
    if (!atomic_load(&quit_asked))
        quit_signal = sig; /* the first: an alarm of ours comes second */
    atomic_store(&quit_asked, true);
    if (saving) {
        image_save_abandon();
        signal(sig, SIG_DFL);
        raise(sig); /* delivered when this handler returns */
    }
    if (reporting && quit_devnull >= 0) {
        dup2(quit_devnull, STDOUT_FILENO); /* async-signal-safe */
        dup2(quit_devnull, STDERR_FILENO);
    }
    if (opening)
        alarm(1);
    errno = saved_errno;
}

void catch_quit_signals(void)
{
    if (quit_devnull < 0)
        quit_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    struct sigaction sa = {0};
    sa.sa_handler = on_quit;
    quitsig_fill(&sa.sa_mask);
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        if (quitsig_is(sig))
            sigaction(sig, &sa, NULL);
    caught = true;
}

void hold_quit_signals(void)
{
    catch_quit_signals();
    sigset_t quit;
    quitsig_fill(&quit);
    pthread_sigmask(SIG_BLOCK, &quit, NULL);
}

bool quit_poll(void)
{
    sigset_t pending, quit, held;
    if (!caught || sigpending(&pending) < 0)
        return atomic_load(&quit_asked);
    /* (Not sigandset and sigisemptyset: glibc 2.36's sigisemptyset says
     * a set that holds only SIGRTMIN is empty.) */
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        if (quitsig_is(sig) && sigismember(&pending, sig) == 1) {
            /* Unblocking delivers them before the call returns. */
            quitsig_fill(&quit);
            pthread_sigmask(SIG_UNBLOCK, &quit, &held);
            pthread_sigmask(SIG_SETMASK, &held, NULL);
            break;
        }
    return atomic_load(&quit_asked);
}

int quit_wait(int fd, short events, int64_t deadline_ns)
{
    /* Blocked from the check to the ppoll, whatever the caller's mask,
     * so that a signal in between is not handled too early to wake it. */
    sigset_t quit, held, open_mask;
    quitsig_fill(&quit);
    pthread_sigmask(SIG_BLOCK, &quit, &held);
    open_mask = held;
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        if (sigismember(&quit, sig) == 1)
            sigdelset(&open_mask, sig);
    int rc;
    for (;;) {
        /* ppoll with a ready fd returns at once and leaves a pending
         * signal pending: look for one first. */
        if (quit_poll()) {
            rc = -1;
            break;
        }
        struct timespec ts, *tsp = NULL;
        if (deadline_ns >= 0) {
            int64_t left = deadline_ns - clock_ns();
            if (left <= 0) {
                rc = 0;
                break;
            }
            ts.tv_sec = (time_t)(left / 1000000000);
            ts.tv_nsec = (long)(left % 1000000000);
            tsp = &ts;
        }
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, tsp, &open_mask);
        if (n > 0) {
            rc = 1;
            break;
        }
        if (n == 0 && deadline_ns >= 0) {
            rc = 0;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &held, NULL);
    return rc;
}

int64_t clock_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Opens the quit signals while a report is written (see above). Before
 * catch_quit_signals, nothing: a signal blocked by whoever started us
 * stays blocked. */
static void report_begin(sigset_t *held)
{
    if (!caught)
        return;
    reporting = 1;
    if (atomic_load(&quit_asked))
        alarm(1); /* no signal is coming to cut this one short */
    sigset_t quit;
    quitsig_fill(&quit);
    pthread_sigmask(SIG_UNBLOCK, &quit, held);
}

static void report_end(const sigset_t *held)
{
    if (!caught)
        return;
    pthread_sigmask(SIG_SETMASK, held, NULL);
    reporting = 0;
    if (atomic_load(&quit_asked))
        alarm(0);
}

/* After cleaning up: dies of the signal that was caught, so that the shell
 * sees what happened (130 for Ctrl-C). */
int die_of_quit_signal(void)
{
    int sig = quit_signal;
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    return 128 + sig; /* not reached */
}

/* ---- options ------------------------------------------------------------ */

const opts defaults = {.key = SEG_DEFAULT_KEY, .wait_s = -1};

/* Whether value is itself one of our options: "--key --persist" means a
 * forgotten key, not a key named "--persist". A lone "-" is stdout. */
static bool is_option(const char *value, const char *shortopts)
{
    if (value[0] != '-' || value[1] == '\0')
        return false;
    if (value[1] == '-')
        return value[2] != '\0';
    return value[2] == '\0' && value[1] != ':' && strchr(shortopts, value[1]);
}

/* The long option of short option c, for messages and repeat checks. */
static int index_of(const struct option *longopts, int c)
{
    for (int i = 0; longopts[i].name; i++)
        if (!longopts[i].flag && longopts[i].val == c)
            return i;
    return -1;
}

/* Parses argv for cmd. Flags without a value are set through longopts;
 * -k/--key, -o/--output and -w/--wait here. An option given twice and an
 * option where a value should be are usage errors.
 * Returns: 0, or EXIT_USAGE after printing why. */
int parse(int argc, char **argv, const char *cmd, const char *usage,
          const char *shortopts, const struct option *longopts, opts *o)
{
    opterr = 0;
    optind = 1;
    unsigned given = 0; /* bit i: longopts[i] seen */
    int c, i;
    while ((i = -1, c = getopt_long(argc, argv, shortopts, longopts, &i)) !=
           -1) {
        if (c == ':')
            return usage_error(cmd, usage, "option %s needs a value",
                               argv[optind - 1]);
        if (c == '?') {
            /* A short option inside a word (-x.raw: a file name that
             * starts with '-') leaves optind on that word, or past it
             * when it was the word's last letter. */
            const char *word = argv[optind - 1];
            if (optopt && optind < argc && argv[optind][0] == '-' &&
                argv[optind][1] != '-' && strchr(argv[optind] + 1, optopt))
                word = argv[optind];
            return usage_error(cmd, usage, "unknown option %s%s", word,
                               optopt && strlen(word) > 2
                                   ? " (a file whose name starts with '-': "
                                     "write ./NAME, or -- before it)"
                                   : "");
        }
        if (i < 0)
            i = index_of(longopts, c);
        if (i >= 0 && (given & 1u << i))
            return usage_error(cmd, usage, "option --%s given twice",
                               longopts[i].name);
        if (i >= 0)
            given |= 1u << i;
        if (optarg && is_option(optarg, shortopts))
            return usage_error(cmd, usage,
                               "option --%s needs a value, got the option "
                               "'%s'",
                               longopts[i].name, optarg);
        char *end;
        switch (c) {
        case 0: break; /* a flag, already set */
        case 'k': o->key = optarg; break;
        case 'o': o->out = optarg; break;
        case 'r': o->raw = optarg; break;
        case 'f': o->fps = optarg; break;
        case 'n':
            errno = 0;
            o->frames = strtoull(optarg, &end, 10);
            if (!isdigit((unsigned char)optarg[0]) || errno || *end ||
                o->frames == 0)
                return usage_error(cmd, usage,
                                   "--frames needs a whole number of frames, "
                                   "at least 1, got '%s'",
                                   optarg);
            break;
        case 's':
            if (strcmp(optarg, "group") == 0)
                o->share = SEG_SHARE_GROUP;
            else if (strcmp(optarg, "all") == 0)
                o->share = SEG_SHARE_ALL;
            else if (strcmp(optarg, "none") == 0)
                o->share = SEG_SHARE_NONE;
            else
                return usage_error(cmd, usage,
                                   "--share takes group, all or none, got "
                                   "'%s'",
                                   optarg);
            break;
        case 'w':
            /* Plain decimal only: strtod would also take " 1", "0x10",
             * "-0", "inf" and "1e3". */
            errno = 0;
            o->wait_s = strtod(optarg, &end);
            if (strspn(optarg, "0123456789.") != strlen(optarg) ||
                !isdigit((unsigned char)optarg[0]) || errno || *end ||
                !(o->wait_s > 0) || o->wait_s > 2e6)
                return usage_error(cmd, usage,
                                   "--wait needs a number of seconds, more "
                                   "than 0 and at most 2000000 (like 5 or "
                                   "0.5), got '%s'",
                                   optarg);
            break;
        }
    }
    seg_err err;
    if (o->key && seg_key_check(o->key, &err) < 0)
        return usage_error(cmd, usage, "%s", err.msg);
    return 0;
}
