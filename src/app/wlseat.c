/* wlseat.c - see wlseat.h. The wire format: each message is a 32-bit
 * object id, then a 32-bit word holding the message's size in bytes
 * (header included) in its high 16 bits and the opcode in its low 16,
 * then the arguments; a string is a 32-bit length (with its NUL) and the
 * bytes, padded to 4. Host byte order throughout (a local socket). */
#include "wlseat.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
    display_id = 1,  /* wl_display, always object 1 */
    registry_id = 2, /* our new_ids, in order */
    callback_id = 3,
    display_sync = 0, /* requests of wl_display */
    display_get_registry = 1,
    display_error = 0,   /* events of wl_display */
    registry_global = 0, /* events of wl_registry */
    callback_done = 0,   /* events of wl_callback */
    timeout_ms = 2000,
};

static int connect_display(void)
{
    const char *name = getenv("WAYLAND_DISPLAY");
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (getenv("WAYLAND_SOCKET"))
        return -1; /* a socket handed over: only one client may use it */
    if (!name || !*name)
        name = "wayland-0";
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = name[0] == '/'
                ? snprintf(addr.sun_path, sizeof addr.sun_path, "%s", name)
            : dir ? snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s", dir,
                             name)
                  : -1;
    if (n < 0 || (size_t)n >= sizeof addr.sun_path)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads one event of the registry in buf: 1 for a wl_seat, else 0. */
static int is_seat(const uint32_t *msg, uint32_t size)
{
    if (size < 16)
        return 0;
    uint32_t len = msg[3]; /* after object, size|opcode, name */
    return len == sizeof "wl_seat" && size >= 16 + len &&
           memcmp(&msg[4], "wl_seat", sizeof "wl_seat") == 0;
}

int wlseat_present(void)
{
    int fd = connect_display();
    if (fd < 0)
        return -1;
    const uint32_t hello[] = {
        display_id, 12u << 16 | display_get_registry, registry_id,
        display_id, 12u << 16 | display_sync,         callback_id,
    };
    int result = -1;
    if (send(fd, hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello)
        goto done;
    static uint32_t buf[16384]; /* 64 KiB: a message is at most 4 KiB */
    size_t have = 0;            /* bytes in buf */
    int seat = 0;
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        /* Every whole message in buf. */
        size_t at = 0;
        while (have - at >= 8) {
            const uint32_t *msg = (const uint32_t *)((char *)buf + at);
            uint32_t size = msg[1] >> 16, opcode = msg[1] & 0xffff;
            if (size < 8 || size % 4)
                goto done; /* not Wayland */
            if (have - at < size)
                break;
            if (msg[0] == registry_id && opcode == registry_global)
                seat |= is_seat(msg, size);
            else if (msg[0] == display_id && opcode == display_error)
                goto done;
            else if (msg[0] == callback_id && opcode == callback_done) {
                result = seat;
                goto done;
            }
            at += size;
        }
        memmove(buf, (char *)buf + at, have - at);
        have -= at;
        long long left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) != 1)
            goto done;
        ssize_t got = recv(fd, (char *)buf + have, sizeof buf - have, 0);
        if (got <= 0)
            goto done;
        have += (size_t)got;
    }
done:
    close(fd);
    return result;
}
