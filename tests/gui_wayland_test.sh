#!/usr/bin/env bash
# gui_wayland_test.sh - issue 11, points 12 and 4: the window on Wayland.
# Weston runs nested in Xvfb (its x11 backend, which has a seat: the X
# server's keyboard and pointer), the window on it with
# SDL_VIDEODRIVER=wayland. Real input: xdotool's XTEST events reach
# Weston's X window, and Weston hands them to the focused Wayland client
# through its seat. Screenshots: ImageMagick's import of Weston's output
# window, i.e. what the compositor shows. (weston-screenshooter works with
# --debug, but with the pixman renderer on the x11 backend its PNG takes
# the output's undefined X byte (x8r8g8b8) as alpha and cairo
# un-premultiplies by it: the window's #202226 reads as transparent
# black, so its pixels cannot be compared.)
#
# Usage: gui_wayland_test.sh SHMIMG XDND_DROP IMGCMP
set -u
shmimg=$(realpath "$1") xdnd=$(realpath "$2") imgcmp=$(realpath "$3")
export XVFB_SCREEN=2048x1536x24
source "$(dirname "$(realpath "$0")")/xsession.sh"
command -v weston > /dev/null || fail "weston is not installed (cmake/bootstrap.sh installs it)"
export XDG_RUNTIME_DIR=$work/runtime
mkdir -m 700 "$XDG_RUNTIME_DIR"

# start_weston NAME ARGS...: a compositor on socket NAME; sets XW to its X
# window (the x11 backend) when it has one.
start_weston() {
  local name=$1; shift
  weston --socket="$name" --use-pixman --idle-time=0 "$@" > "$name.log" 2>&1 &
  for _ in $(seq 600); do   # 30 s: a loaded machine starts it slowly
    [ -S "$XDG_RUNTIME_DIR/$name" ] && grep -q 'launching.*desktop-shell\|Compositor capabilities' "$name.log" && break
    sleep 0.05
  done
  [ -S "$XDG_RUNTIME_DIR/$name" ] || fail "weston $* did not start: $(tail -3 "$name.log")"
  XW=$(grep -o 'window id [0-9]*' "$name.log" | awk '{print $3}')
}
# bbox COLOUR: where the pixels of exactly COLOUR are in shot.png (WxH+X+Y).
bbox() {
  convert shot.png -alpha off -fill black +opaque "#$1" -fill white -opaque "#$1" -format '%@' info: 2> /dev/null
}
count() {
  convert shot.png -alpha off -fill black +opaque "#$1" -fill white -opaque "#$1" \
    -format '%[fx:round(mean*w*h)]' info:
}
px() { convert shot.png -alpha off -crop "1x1+$1+$2" +repage -format '%[hex:u.p{0,0}]' info: | tr A-F a-f; }
# shown COLOUR WxH: the compositor shows a WxH block of COLOUR, whole and
# 1:1 (retried for 25 s); sets X0 Y0 to its top-left corner.
shown() {
  local b n
  for _ in $(seq 125); do
    import -window "$XW" shot.png || fail "screenshot of weston's window"
    b=$(bbox "$1") n=$(count "$1")
    [ "${b%%+*}" = "$2" ] && [ "$n" = $((${2%x*} * ${2#*x})) ] && {
      IFS=+ read -r _ X0 Y0 <<<"$b"; ok; return; }
    sleep 0.2
  done
  cp shot.png "/tmp/gui-wayland-fail-$$.png"
  fail "no $2 block of #$1 on the compositor's output: $n pixels in $b (screenshot in /tmp/gui-wayland-fail-$$.png)"
}
dark() { local c; c=$(px "$1" "$2"); [ $((16#${c:0:2})) -lt 64 ] && [ $((16#${c:2:2})) -lt 64 ] && [ $((16#${c:4:2})) -lt 64 ]; }

convert -size 200x100 xc:'#30c060' PNG24:green.png
convert -size 240x120 xc:'#2050d0' PNG24:blue.png

# ---- a compositor with no seat: refused with a reason, no crash ------------
start_weston wl-headless --backend=headless-backend.so
WAYLAND_DISPLAY=wl-headless SDL_VIDEODRIVER=wayland "$shmimg" --key wl0 > h.log 2>&1
rc=$?
[ $rc = 1 ] || fail "no seat: exit $rc, wanted 1 ($(cat h.log))"; ok
grep -q 'the Wayland compositor has no seat.*SDL 2\.[0-9.]* would crash' h.log || fail "no seat: $(cat h.log)"; ok
WAYLAND_DISPLAY=wl-headless SDL_VIDEODRIVER=wayland "$shmimg" --pair --key wl0 > h.log 2>&1
[ $? = 1 ] && grep -q 'has no seat' h.log || fail "--pair with no seat: $(cat h.log)"; ok

# ---- start, publish, pull, on Weston's x11 backend --------------------------
start_weston wl1 --backend=x11-backend.so --width=1024 --height=768
[ -n "$XW" ] || fail "no X window in wl1.log"
export WAYLAND_DISPLAY=wl1
SDL_VIDEODRIVER=wayland "$shmimg" --key wl --live --geometry 480x356+0+0 > a.log 2>&1 & A=$!
wait_log a.log 'video wayland, renderer [a-z0-9]*, 480x356 \(480x356 device pixels, scale 1\)'; ok
wait_log a.log 'Live mode on'
"$shmimg" publish --persist --key wl green.png > /dev/null || fail "publish green.png"
wait_log a.log 'Live: green.png \(200x100\)'
shown 30c060 200x100
# The window's content: the 480x320 view, the image centred in it.
cx=$((X0 - 140)) cy=$((Y0 - 110))
[ "$(px $((cx + 5)) $((cy + 5)))" = 202226 ] || fail "view background at $((cx + 5)),$((cy + 5)): $(px $((cx + 5)) $((cy + 5)))"; ok
# Decorations (libdecor's cairo plugin): a dark title bar over the content
# with the title in white, where the wallpaper would be without them.
# (libdecor may draw them after the content: a slow build lags; 10 s.)
for _ in $(seq 50); do
  dark $((cx + 4)) $((cy - 4)) && dark $((cx + 4)) $((cy - 16)) && break
  sleep 0.2; import -window "$XW" shot.png
done
dark $((cx + 4)) $((cy - 4)) && dark $((cx + 4)) $((cy - 16)) ||
  fail "no title bar above the window: $(px $((cx + 4)) $((cy - 4))) $(px $((cx + 4)) $((cy - 16)))"; ok
white=$(convert shot.png -crop 300x24+$cx+$((cy - 24)) +repage -alpha off -colorspace gray \
  -threshold 80% -format '%[fx:round(mean*w*h)]' info:)
[ "$white" -gt 100 ] || fail "no title text in the title bar ($white light pixels)"; ok
convert shot.png -crop 520x420+$((cx - 20))+$((cy - 50)) +repage wayland.png

# A key press through the seat: a click gives the window the keyboard, L
# turns live mode off, a new publish is news, P pulls it.
# press_until KEY PATTERN: presses KEY through Weston's seat until the
# window logs PATTERN. A key pressed while the compositor is still giving
# the window the keyboard (after the click; slow in a sanitizer build) is
# lost, not queued, so it is pressed again (after 10 s: never twice for a
# press that did arrive, even on a loaded machine). A click that came
# before the window could take the keyboard (once under TSan) gave it
# nothing: each try clicks first (a click on a shown image does nothing).
click_window() {
  xdotool mousemove --window "$XW" $((X0 + 100)) $((Y0 + 50)) click 1 mousemove --window "$XW" 5 760   # the pointer off the image
}
press_until() {
  local try
  for try in 1 2 3 4 5 6; do
    [ "$try" = 1 ] || click_window
    xdotool windowfocus --sync "$XW" key "$1"
    for _ in $(seq 100); do grep -Eq -- "$2" a.log && { ok; return; }; sleep 0.1; done
  done
  fail "no /$2/ in a.log after pressing $1 $try times"
}
click_window
press_until l 'Live mode off'
"$shmimg" publish --persist --key wl blue.png > /dev/null || fail "publish blue.png"
wait_log a.log 'Newer image under key wl: press P'
press_until p 'Pulled blue.png \(240x120\) from key wl'
shown 2050d0 240x120
for _ in 1 2 3 4; do
  xdotool windowfocus --sync "$XW" key q
  for _ in $(seq 50); do kill -0 $A 2>/dev/null || break 2; sleep 0.1; done
done
wait $A; [ $? = 0 ] || fail "the Wayland window did not exit 0 on Q"; ok

# ---- --pair on Wayland: each window half the output, placed by Weston -------
SDL_VIDEODRIVER=wayland "$shmimg" --pair --key wlpair green.png > pair.log 2>&1 & P=$!
# Two windows, two processes: their lines interleave in any order (the
# first may publish before the second says it opened), so they are counted
# in the whole log, not waited for one after the other.
for _ in $(seq 1200); do
  [ "$(grep -c 'window for key wlpair, video wayland' pair.log)" -ge 2 ] && break; sleep 0.05
done
[ "$(grep -c 'window for key wlpair, video wayland' pair.log)" -ge 2 ] ||
  fail "--pair did not open two Wayland windows"; ok
for w in $(grep -o 'wayland, renderer [a-z0-9]*, [0-9]*x' pair.log | grep -o '[0-9]*x$' | tr -d x); do
  [ "$w" -le 512 ] || fail "a --pair window is $w pixels wide on a 1024-pixel output"
done; ok
wait_log pair.log 'Published green.png'
pkill -TERM -P $P
wait $P; [ $? = 0 ] || fail "--pair did not exit 0 on SIGTERM"; ok

# ---- HiDPI: Weston --scale=2 --------------------------------------------------
start_weston wl2 --backend=x11-backend.so --width=800 --height=600 --scale=2
export WAYLAND_DISPLAY=wl2
SDL_VIDEODRIVER=wayland "$shmimg" --key wlh --live --geometry 480x200+0+0 > b.log 2>&1 & B=$!
wait_log b.log 'video wayland, renderer [a-z0-9]*, 480x200 \(960x400 device pixels, scale 2\)'; ok
wait_log b.log 'Live mode on'
"$shmimg" publish --key wlh green.png > pub.log 2>&1 & PUB=$!   # stays: no "exited" message
wait_log b.log 'Live: green.png \(200x100\)'
# 1:1 in device pixels: the 200x100 image is 200x100 pixels on the output.
shown 30c060 200x100
# The status line is scaled: 72 device pixels tall (36 at scale 1), its
# top 328 device pixels under the content's top (400 - 72), the image
# centred in the 960x328 view above it.
OK_BAR=0f2e1a
for _ in $(seq 50); do
  import -window "$XW" shot.png
  IFS=x+ read -r bw bh bx by <<<"$(bbox $OK_BAR)"
  [ "$bh" = 72 ] && [ $((by - Y0)) = $((328 - (328 - 100) / 2)) ] && [ "$bw" -gt 800 ] && break
  sleep 0.2
done
[ "$bh" = 72 ] && [ $((by - Y0)) = 214 ] && [ "$bw" -gt 800 ] ||
  fail "status line at scale 2: ${bw}x$bh, $((by - Y0)) pixels under the image's top; wanted 72 tall, 214 under"; ok
convert shot.png -crop 1000x480+$((X0 - 400))+$((Y0 - 170)) +repage hidpi.png
kill -TERM $PUB; wait $PUB
kill -TERM $B   # SDL's quit event
wait $B; [ $? = 0 ] || fail "B did not exit 0"; ok

if [ -n "${SHMIMG_SHOTS:-}" ]; then
  cp wayland.png hidpi.png "$SHMIMG_SHOTS/"
fi
echo "gui_wayland: $checks checks passed"
