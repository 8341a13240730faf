/* player.h - plays an animation the window published: each frame at its
 * own delay, looping, paused and resumed by the user. The timing runs on
 * SDL's timer thread, which only posts an event; the window publishes and
 * shows the frame on its own loop.
 */
#ifndef SHMIMG_PLAYER_H
#define SHMIMG_PLAYER_H

#include "anim.h"

#include <SDL.h>
#include <stdbool.h>

typedef struct player player;

/* Takes anim (freed by player_destroy) and starts at frame 0, whose delay
 * begins now: the caller publishes frame 0 itself. Each later frame is
 * announced by an event of event_type with code = the player's serial
 * (player_owns_event tells). Returns: NULL when out of memory. */
player *player_create(image_anim *anim, Uint32 event_type);

void player_destroy(player *p);

/* Whether e is this player's tick (not one of a player since destroyed). */
bool player_owns_event(const player *p, const SDL_Event *e);

/* On a tick: moves to the next frame and sets the timer for its delay,
 * counted from when this frame was due (no drift). Returns: that frame. */
SDL_Surface *player_advance(player *p);

void player_set_paused(player *p, bool paused);
bool player_paused(const player *p);

const image_anim *player_anim(const player *p);
int player_frame(const player *p); /* the frame shown now, from 0 */

#endif
