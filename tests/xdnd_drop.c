/* xdnd_drop.c - a real drag and drop through the X server, for the GUI
 * tests: this program is the drag source, the window under test the
 * target, and they speak the XDND protocol (version 5) as a file manager
 * would:
 *
 *   source                              target (the shmimg window)
 *   owns XdndSelection
 *   XdndEnter (types)          ---->
 *   XdndPosition (x, y, copy)  ---->
 *                              <----    XdndStatus (accept)
 *   XdndDrop (time)            ---->
 *                              <----    ConvertSelection(XdndSelection, type)
 *   SelectionRequest: write the data, SelectionNotify
 *                              <----    XdndFinished
 *
 * Usage:
 *   xdnd_drop WINDOW FILE...     drop files (text/uri-list)
 *   xdnd_drop WINDOW --text STR  drop text (text/plain)
 *   xdnd_drop WINDOW --close     ask the window to close (WM_DELETE_WINDOW)
 * WINDOW is an X window id (decimal or 0x hex), as xdotool prints it.
 * Exits 0 when the target said it finished, 1 otherwise (5 s at most).
 */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

static Display *dpy;
static Atom a_aware, a_enter, a_position, a_status, a_drop, a_finished, a_leave,
    a_selection, a_copy, a_type;

static void send_client(Window to, Atom type, long l0, long l1, long l2,
                        long l3, long l4)
{
    XEvent e = {0};
    e.xclient.type = ClientMessage;
    e.xclient.display = dpy;
    e.xclient.window = to;
    e.xclient.message_type = type;
    e.xclient.format = 32;
    long l[5] = {l0, l1, l2, l3, l4};
    memcpy(e.xclient.data.l, l, sizeof l);
    XSendEvent(dpy, to, False, NoEventMask, &e);
    XFlush(dpy);
}

/* Percent-encodes a local path as a file:// URI. */
static void append_uri(char *buf, size_t size, const char *path)
{
    size_t n = strlen(buf);
    n += (size_t)snprintf(buf + n, size - n, "file://");
    for (const unsigned char *p = (const unsigned char *)path;
         *p && n + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
            buf[n++] = (char)*p;
        else
            n += (size_t)snprintf(buf + n, size - n, "%%%02X", *p);
    }
    n += (size_t)snprintf(buf + n, size - n, "\r\n");
}

static bool next_event(XEvent *e, double deadline)
{
    while (!XPending(dpy)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double left = deadline - ((double)ts.tv_sec + ts.tv_nsec / 1e9);
        if (left <= 0)
            return false;
        int fd = ConnectionNumber(dpy);
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        struct timeval tv = {(long)left, (long)((left - (long)left) * 1e6)};
        select(fd + 1, &fds, NULL, NULL, &tv);
    }
    XNextEvent(dpy, e);
    return true;
}

static void answer_selection(const XSelectionRequestEvent *req,
                             const char *data)
{
    XEvent reply = {0};
    reply.xselection.type = SelectionNotify;
    reply.xselection.display = dpy;
    reply.xselection.requestor = req->requestor;
    reply.xselection.selection = req->selection;
    reply.xselection.target = req->target;
    reply.xselection.time = req->time;
    reply.xselection.property = None;
    if (req->target == a_type) {
        XChangeProperty(dpy, req->requestor, req->property, a_type, 8,
                        PropModeReplace, (const unsigned char *)data,
                        (int)strlen(data));
        reply.xselection.property = req->property;
    }
    XSendEvent(dpy, req->requestor, False, NoEventMask, &reply);
    XFlush(dpy);
}

static int close_window(Window target)
{
    Atom protocols = XInternAtom(dpy, "WM_PROTOCOLS", False);
    Atom del = XInternAtom(dpy, "WM_DELETE_WINDOW", False);
    send_client(target, protocols, (long)del, CurrentTime, 0, 0, 0);
    XSync(dpy, False);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: xdnd_drop WINDOW FILE... | WINDOW --text STR "
                        "| WINDOW --close\n");
        return 2;
    }
    dpy = XOpenDisplay(NULL);
    if (!dpy) {
        fprintf(stderr, "xdnd_drop: cannot open display\n");
        return 1;
    }
    Window target = (Window)strtoul(argv[1], NULL, 0);
    if (strcmp(argv[2], "--close") == 0)
        return close_window(target);

    bool text = strcmp(argv[2], "--text") == 0;
    char data[16384] = "";
    if (text)
        snprintf(data, sizeof data, "%s", argc > 3 ? argv[3] : "");
    else
        for (int i = 2; i < argc; i++) {
            char abs[4096];
            if (!realpath(argv[i], abs))
                snprintf(abs, sizeof abs, "%s", argv[i]);
            append_uri(data, sizeof data, abs);
        }

    a_aware = XInternAtom(dpy, "XdndAware", False);
    a_enter = XInternAtom(dpy, "XdndEnter", False);
    a_position = XInternAtom(dpy, "XdndPosition", False);
    a_status = XInternAtom(dpy, "XdndStatus", False);
    a_drop = XInternAtom(dpy, "XdndDrop", False);
    a_finished = XInternAtom(dpy, "XdndFinished", False);
    a_leave = XInternAtom(dpy, "XdndLeave", False);
    a_selection = XInternAtom(dpy, "XdndSelection", False);
    a_copy = XInternAtom(dpy, "XdndActionCopy", False);
    a_type = XInternAtom(dpy, text ? "text/plain" : "text/uri-list", False);

    /* The target must say it speaks XDND. */
    Atom type;
    int format;
    unsigned long count, after;
    unsigned char *prop = NULL;
    if (XGetWindowProperty(dpy, target, a_aware, 0, 1, False, XA_ATOM, &type,
                           &format, &count, &after, &prop) != Success ||
        count < 1) {
        fprintf(stderr, "xdnd_drop: window 0x%lx is not XdndAware\n", target);
        return 1;
    }
    long version = *(Atom *)prop < 5 ? (long)*(Atom *)prop : 5;
    XFree(prop);

    Window source =
        XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 1, 1, 0, 0, 0);
    XSelectInput(dpy, source, PropertyChangeMask);
    XSetSelectionOwner(dpy, a_selection, source, CurrentTime);

    /* Drop in the middle of the target. */
    XWindowAttributes wa;
    XGetWindowAttributes(dpy, target, &wa);
    Window child;
    int rx, ry;
    XTranslateCoordinates(dpy, target, DefaultRootWindow(dpy), wa.width / 2,
                          wa.height / 2, &rx, &ry, &child);

    send_client(target, a_enter, (long)source, version << 24, (long)a_type, 0,
                0);
    send_client(target, a_position, (long)source, 0, (long)rx << 16 | ry,
                CurrentTime, (long)a_copy);

    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double deadline = (double)ts.tv_sec + ts.tv_nsec / 1e9 + 5.0;
    bool dropped = false;
    XEvent e;
    while (next_event(&e, deadline)) {
        if (e.type == ClientMessage && e.xclient.message_type == a_status &&
            !dropped) {
            if (!(e.xclient.data.l[1] & 1)) {
                fprintf(stderr, "xdnd_drop: the target refused the drop\n");
                send_client(target, a_leave, (long)source, 0, 0, 0, 0);
                return 1;
            }
            send_client(target, a_drop, (long)source, 0, CurrentTime, 0, 0);
            dropped = true;
        } else if (e.type == SelectionRequest) {
            answer_selection(&e.xselectionrequest, data);
        } else if (e.type == ClientMessage &&
                   e.xclient.message_type == a_finished) {
            return 0;
        }
    }
    fprintf(stderr, "xdnd_drop: no %s from window 0x%lx within 5 s\n",
            dropped ? "XdndFinished" : "XdndStatus", target);
    return 1;
}
