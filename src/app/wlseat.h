/* wlseat.h - does the Wayland compositor have a seat? SDL 2.26 crashes in
 * SDL_Init on a compositor without one (Weston's headless backend: no
 * wl_seat global), so the window asks first and says why it cannot run.
 *
 * The question is asked in the Wayland wire protocol itself, on a
 * connection of its own: wl_display.get_registry, wl_display.sync, then
 * the registry's globals until the sync's callback is done. No Wayland
 * library is needed (SDL loads libwayland-client itself, at run time).
 */
#ifndef SHMIMG_WLSEAT_H
#define SHMIMG_WLSEAT_H

/* Connects to $WAYLAND_DISPLAY (a name in $XDG_RUNTIME_DIR, or a path;
 * "wayland-0" when unset) and lists its globals, for 2 s at most.
 * Returns: 1 when a wl_seat is advertised, 0 when none is, -1 when it
 * cannot tell (no compositor there, WAYLAND_SOCKET in use, a protocol
 * error): then SDL finds out for itself. */
int wlseat_present(void);

#endif
