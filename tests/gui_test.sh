#!/usr/bin/env bash
# gui_test.sh - the windows as a person uses them, under a real X server
# (Xvfb, started here with -displayfd): real XDND drops from a drag-source
# process (xdnd_drop), real key presses through XTEST (xdotool key), and
# screenshots (ImageMagick import) whose pixels are compared exactly.
#
# Usage: gui_test.sh SHMIMG XDND_DROP IMGCMP RENDERER
#   RENDERER: opengl (Mesa's llvmpipe under Xvfb) or software (SDL's own)
set -u
shmimg=$(realpath "$1") xdnd=$(realpath "$2") imgcmp=$(realpath "$3")
export SDL_RENDER_DRIVER=$4
source "$(dirname "$(realpath "$0")")/xsession.sh"

# ---- test images ------------------------------------------------------------
convert -size 300x200 gradient:'#ff2000-#0030ff' -fill '#10e040' \
  -draw 'circle 150,100 190,100' PNG24:opaque1.png
convert -size 220x140 gradient:'#ffff00-#8000ff' -fill '#000000' \
  -draw 'rectangle 20,20 60,120' PNG24:opaque2.png
convert -size 64x64 xc:none -fill '#ff0000' -draw 'rectangle 0,0 31,63' \
  PNG32:half.png
convert -size 3840x2160 xc: +noise Random PNG24:big.png
printf 'not an image' > notes.png

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# answered_before WIN LOG KEY REPLY LATER WHAT: KEY pressed while WHAT runs
# gets REPLY in LOG before LATER (the end of WHAT) appears; prints the time
# from the press to the reply.
answered_before() {
  local t0 t1
  t0=$(date +%s%N)
  press "$1" "$3"
  wait_log "$2" "$4"
  t1=$(date +%s%N)
  wait_log "$2" "$5"
  # (The patterns through the environment: awk -v would eat backslashes.)
  R=$4 L=$5 awk '$0 ~ ENVIRON["R"] && !a {a=NR} $0 ~ ENVIRON["L"] {b=NR} END {exit !(a && b && a < b)}' "$2" ||
    fail "the key pressed during the $6 waited for it"; ok
  echo "a key pressed during the $6 answered in $(( (t1 - t0) / 1000000 )) ms (press to log line)"
}

# ---- two windows on one key: the publisher A and the reader B ---------------
"$shmimg" --key gui --geometry 480x356+0+0 > a.log 2>&1 & A=$!
"$shmimg" --key gui --geometry 480x356+500+0 > b.log 2>&1 & B=$!
WA=$(window_of $A) || exit 1
WB=$(window_of $B) || exit 1
wait_log a.log 'renderer'
grep -q "renderer $SDL_RENDER_DRIVER" a.log || fail "not the $SDL_RENDER_DRIVER renderer: $(head -1 a.log)"; ok

# P before anything was published.
press "$WB" p
wait_log b.log 'Unable to attach to shared memory segment. Load an image first.'; ok

# A real drop on A publishes; P in B pulls; both show it exactly.
drop "$WA" opaque1.png
wait_log a.log 'Published opaque1.png \(300x200\) under key gui'
shows "$WA" opaque1.png
# B's P found nothing; it notices the segment A made (issue 20, point 3).
wait_log b.log 'Newer image under key gui: press P'
press "$WB" p
wait_log b.log 'Pulled opaque1.png \(300x200\) from key gui'
shows "$WB" opaque1.png
wait_title "$WB" 'shmimg \[gui\] pulled: opaque1\.png'; ok

# A file that is not an image, text, and a directory change nothing.
drop "$WA" notes.png
wait_log a.log 'error: notes.png is not an image shmimg can read'
drop "$WA" --text "just some text"
wait_log a.log 'Dropped text ignored'
drop "$WA" "$work"
wait_log a.log "is a folder: drop an image file \(detail: .*\(a directory\)\)"
sleep 1   # the long message has shrunk to the status line
shows "$WA" opaque1.png
press "$WB" p
wait_log b.log 'Pulled opaque1.png.*' 
shows "$WB" opaque1.png

# Transparent pixels show the checkerboard (only its two greys).
drop "$WA" half.png
wait_log a.log 'Published half.png'
checkerboard "$WA" $(((480 - 64) / 2 + 32)) $(((356 - 36 - 64) / 2)) 32 64

# Several files at once: the last one wins, and the message says so.
drop "$WA" half.png opaque2.png
wait_log a.log 'Published opaque2.png \(220x140\) under key gui \(2 files dropped; the last one wins\)'
shows "$WA" opaque2.png

# A big image decodes off the event loop: a key pressed during the decode is
# handled before it ends; a drop during the decode wins over it.
drop "$WA" big.png
press "$WA" s
wait_log a.log 'Published big.png \(3840x2160\)'
awk '/Loading big.png/ {l=NR} /Saved .*shmimg-gui-/ {s=NR} /Published big.png/ {p=NR} END {exit !(l && s && p && l < s && s < p)}' a.log ||
  fail "the key pressed while decoding was not handled before the decode ended"; ok
ls shmimg-gui-*.png > /dev/null 2>&1 || fail "S saved no file"; ok
"$imgcmp" "$(ls shmimg-gui-*.png | head -1)" opaque2.png || fail "S saved another image than the one on screen"; ok
# S on the 3840x2160 image runs off the loop: S again meanwhile is refused
# (not queued), a key pressed meanwhile is handled before the save ends,
# and the file is whole.
rm -f shmimg-gui-*.png
press "$WA" s
wait_log a.log 'Saving 3840x2160 as PNG'
press "$WA" s
wait_log a.log 'Still saving the previous image'
answered_before "$WA" a.log d 'Detached from key gui' 'Saved .*shmimg-gui-.*\(3840x2160\) in' "4K save"
echo "4K save: $(grep -o 'Saved .*3840x2160) in [0-9.]* s' a.log | grep -o '[0-9.]* s$')"
[ "$(ls shmimg-gui-*.png | wc -l)" = 1 ] || fail "S pressed twice saved twice: $(ls shmimg-gui-*.png)"; ok
"$imgcmp" shmimg-gui-*.png big.png || fail "the 4K save is not the image"; ok
drop "$WA" big.png
drop "$WA" opaque1.png
wait_log a.log 'Loading opaque1.png ... \(after the file being decoded now\)'
wait_log a.log 'Published opaque1.png'
[ "$(grep -c 'Published big.png' a.log)" = 1 ] || fail "the superseded big.png was published too"; ok
shows "$WA" opaque1.png

# Live mode: a new drop on A appears in B without any key press in B.
press "$WB" l
wait_log b.log 'Live mode on'
drop "$WA" opaque2.png
wait_log b.log 'Live: opaque2.png \(220x140\)'
shows "$WB" opaque2.png
wait_title "$WB" 'live'; ok

# A held key acts once: 1.5 s of L with the server's auto-repeat on gives
# one toggle (it gave 23), and live mode stays as it was before the hold.
xdotool windowfocus --sync "$WB" keydown l
sleep 1.5
xdotool keyup l
sleep 0.3
[ "$(grep -c 'Live mode o' b.log)" = 2 ] || fail "holding L toggled live mode $(($(grep -c 'Live mode o' b.log) - 1)) times"; ok
press "$WB" l
wait_log b.log 'Live mode on'

# Resizable: smaller than the image, it is scaled with its aspect ratio
# and letterboxed (220x140 in a 240x120 view: 188x120 at x = 26); back to
# full size, it is 1:1 again.
pixel() { convert shot.png -crop "1x1+$1+$2" +repage -format '%[hex:u.p{0,0}]' info:; }
xdotool windowsize --sync "$WB" 240 156
letterboxed() {
  [ "$(identify -format '%w' shot.png)" = 240 ] && [ "$(pixel 10 60)" = 202226 ] &&
    [ "$(pixel 229 60)" = 202226 ] && [ "$(pixel 120 60)" != 202226 ] &&
    [ "$(pixel 30 60)" != 202226 ] && [ "$(pixel 212 60)" != 202226 ]
}
for _ in $(seq 50); do
  import -window "$WB" shot.png
  letterboxed && break
  sleep 0.2
done
letterboxed || fail "scaled image not letterboxed as expected: $(pixel 10 60) $(pixel 30 60) $(pixel 120 60) $(pixel 212 60) $(pixel 229 60)"; ok
xdotool windowsize --sync "$WB" 480 356
shows "$WB" opaque2.png

# Idle windows use (next to) no CPU: they sleep in SDL_WaitEvent and futex.
sleep 0.5
a0=$(cpu_ticks $A) b0=$(cpu_ticks $B)
sleep 3
a1=$(cpu_ticks $A) b1=$(cpu_ticks $B)
tick=$(getconf CLK_TCK)
echo "idle CPU over 3 s: A $(( (a1 - a0) * 1000 / tick )) ms, B (live) $(( (b1 - b0) * 1000 / tick )) ms"
[ $((a1 - a0)) -le 3 ] && [ $((b1 - b0)) -le 3 ] || fail "idle windows used CPU: A $((a1 - a0)) ticks, B $((b1 - b0)) ticks"; ok

# Esc closes the help before it closes the window.
press "$WA" h
press "$WA" Escape
sleep 0.3
kill -0 $A 2>/dev/null || fail "Esc with the help open closed the window"; ok
shows "$WA" opaque2.png

# Closing the publisher's window removes the segment, as in Qt's example:
# a reader (B, live) holds nothing, removes nothing, and keeps showing
# what it pulled.
[ -e "$SHMIMG_DIR/shmimg-gui" ] || fail "no segment while the windows are open"; ok
drop "$WA" --close
wait $A; [ $? = 0 ] || fail "A did not exit 0"; ok
[ ! -e "$SHMIMG_DIR/shmimg-gui" ] || fail "segment left after its publisher's window closed"; ok
kill -0 $B 2>/dev/null || fail "B ended with A"; ok
drop "$WB" --close
wait $B; [ $? = 0 ] || fail "B did not exit 0"; ok
[ ! -e "$SHMIMG_DIR/shmimg-gui" ] || fail "B made a segment"; ok

# ---- a window closed while it decodes a big image quits at once, cleanly -----
"$shmimg" --key gui2 --geometry 480x356+0+400 > c.log 2>&1 & C=$!
WC=$(window_of $C) || exit 1
drop "$WC" big.png
press "$WC" q
for _ in $(seq 200); do kill -0 $C 2>/dev/null || break; sleep 0.05; done
kill -0 $C 2>/dev/null && fail "the window did not quit while decoding"
wait $C; [ $? = 0 ] || fail "C did not exit 0"; ok
grep -q 'Published big.png' c.log && fail "published after quit was asked"; ok

# ---- Q during a save finishes the save, then quits; a key pressed during a
# decode is answered at once ----------------------------------------------
rm -f shmimg-gui3-*.png
"$shmimg" --key gui3 --geometry 480x356+0+400 > e.log 2>&1 & E=$!
WE=$(window_of $E) || exit 1
drop "$WE" big.png
answered_before "$WE" e.log d 'Not attached to key gui3' 'Published big.png' "4K decode"
press "$WE" s
wait_log e.log 'Saving 3840x2160'
press "$WE" q
wait $E; [ $? = 0 ] || fail "E did not exit 0 after Q during a save"; ok
grep -q 'finishing the save under way before quitting' e.log || fail "Q during a save said nothing"; ok
"$imgcmp" shmimg-gui3-*.png big.png || fail "Q during a save left no whole file"; ok
[ -z "$(ls -A | grep '\.shmimg-')" ] || fail "temporary files left: $(ls -A)"; ok

# ---- --pair: two processes side by side on the sample image -----------------
"$shmimg" --pair --key pair opaque1.png > pair.log 2>&1 & P=$!
for _ in $(seq 400); do
  mapfile -t wins < <(xdotool search --name '^shmimg \[pair\]' 2>/dev/null)
  [ ${#wins[@]} = 2 ] && break; sleep 0.05
done
[ ${#wins[@]} = 2 ] || fail "--pair did not open two windows"; ok
wait_log pair.log 'Published opaque1.png'
read -r x0 y0 < <(xdotool getwindowgeometry "${wins[0]}" | awk -F'[ ,]' '/Position/ {print $4, $5}')
read -r x1 y1 < <(xdotool getwindowgeometry "${wins[1]}" | awk -F'[ ,]' '/Position/ {print $4, $5}')
[ "$y0" = "$y1" ] && [ "$x0" != "$x1" ] || fail "windows not side by side: $x0,$y0 and $x1,$y1"; ok
if [ "$x0" -lt "$x1" ]; then left=${wins[0]} right=${wins[1]}; else left=${wins[1]} right=${wins[0]}; fi
shows "$left" opaque1.png
press "$right" p
wait_log pair.log 'Pulled opaque1.png'
shows "$right" opaque1.png
drop "$left" --close
drop "$right" --close
wait $P; [ $? = 0 ] || fail "--pair did not exit 0"; ok
[ ! -e "$SHMIMG_DIR/shmimg-pair" ] || fail "--pair left its segment"; ok

echo "gui ($SDL_RENDER_DRIVER): $checks checks passed"
