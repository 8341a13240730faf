# xsession.sh - sourced by the GUI tests: a private SHMIMG_DIR and work
# directory, a real X server (Xvfb -displayfd), and the helpers that drive
# windows as a person would. The caller sets shmimg, xdnd and imgcmp.

# X11 by name: should it fail, SDL says why instead of falling back to a
# driver that draws nowhere.
export SDL_VIDEODRIVER=x11
# Long messages cover the image for this long, then shrink to one line.
export SHMIMG_MESSAGE_MS=500
# In sanitizer builds, leak checking is off for the windows: SDL loads the
# X11 libraries (and Mesa) with dlopen and unloads them at SDL_Quit, so
# their small leaks reach LeakSanitizer without a name to tell them from
# ours. ASan and UBSan stay on; the library's leaks are checked by the
# other tests. Mesa's own threads race as TSan sees it (tests/tsan.supp).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$(dirname "${BASH_SOURCE[0]}")/tsan.supp
source "$(dirname "${BASH_SOURCE[0]}")/preamble.sh"
fail() {
  # Where, through the helpers (drop, shows...) up to the test's own line.
  local at="$(basename "${BASH_SOURCE[1]}") line ${BASH_LINENO[0]}" i
  for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
    at+=" in ${FUNCNAME[i]}, called from $(basename "${BASH_SOURCE[i + 1]}") line ${BASH_LINENO[i]}"
  done
  echo "FAIL ($at): $*" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done
  exit 1
}
ok() { checks=$((checks + 1)); }

# ---- the X server ---------------------------------------------------------
: > display.txt
# XVFB_SCREEN: another size (the Weston test nests a 2x output).
# -noreset: by default Xvfb resets when its last client leaves, and
# refuses connections meanwhile (EAGAIN, ECONNRESET); a window started
# right after the others closed would find no X server.
Xvfb -displayfd 3 -screen 0 ${XVFB_SCREEN:-1280x800x24} -nolisten tcp -noreset 3> display.txt > xvfb.log 2>&1 &
display=""
for _ in $(seq 100); do
  display=$(tr -d '\n' < display.txt)
  [ -n "$display" ] && break
  sleep 0.05
done
[ -n "$display" ] || fail "Xvfb did not start"
export DISPLAY=:$display
echo "Xvfb on $DISPLAY, renderer ${SDL_RENDER_DRIVER:-default}"

# ---- helpers ----------------------------------------------------------------
# wait_log FILE PATTERN: the window printed PATTERN (grep -E) after what
# the previous wait_log on FILE matched; 60 s at most (a wait for what the
# window says, not a measure of speed: ASan on a loaded 2-core machine is slow).
declare -A seen_lines
wait_log() {
  local from=${seen_lines[$1]:-0} n
  for _ in $(seq 1200); do
    n=$(tail -n +$((from + 1)) "$1" | grep -En -m1 -- "$2" | cut -d: -f1)
    if [ -n "$n" ]; then seen_lines[$1]=$((from + n)); return 0; fi
    sleep 0.05
  done
  fail "no /$2/ in $1 after line $from"
}
# wait_title WIN PATTERN: the window's title matches PATTERN (grep -E);
# 60 s at most. A window logs first and sets its title when it next draws,
# and a title that reports a rate (a stream's fps) needs frames to measure:
# on a loaded machine both come late, never wrong.
wait_title() {
  local t
  for _ in $(seq 600); do
    t=$(xdotool getwindowname "$1" 2>/dev/null)
    grep -qE -- "$2" <<<"$t" && return 0
    sleep 0.1
  done
  fail "title of $1 is '$t', wanted /$2/"
}
# window_of PID: the X window of that process once it is set up: visible,
# and titled "shmimg [KEY] ..." by the app. Visible alone is not enough: the
# app creates its window without SDL_WINDOW_OPENGL, so with the OpenGL
# renderer SDL_CreateRenderer destroys that first X window (mapped a moment
# already) and makes a new one (SDL_RecreateWindow). A search that caught the
# first one returned an id that was dead a few ms later: the next drop on it
# failed with BadWindow on X_GetProperty (e.g. 0x200002, the first window of
# X client slot 1; the final one is 0x200008). The app sets its title only
# after SDL_CreateRenderer returned, so only the final window ever has it.
# (SDL may own unmapped helper windows too.)
window_of() {
  local w
  for _ in $(seq 400); do
    for w in $(xdotool search --pid "$1" 2>/dev/null); do
      xwininfo -id "$w" 2>/dev/null |
        awk '/Window id:/ && /"shmimg \[/ {t = 1} /IsViewable/ {v = 1} END {exit !(t && v)}' &&
        { echo "$w"; return; }
    done
    sleep 0.05
  done
  fail "no set-up window for pid $1"
}
press() { xdotool windowfocus --sync "$1" && xdotool key "$2"; }   # XTEST
drop() { "$xdnd" "$@" || fail "xdnd_drop $* failed"; }
# shows WINDOW IMAGE: the window's view shows IMAGE 1:1, centred above the
# 36-pixel status line, pixel for pixel. The window logs before it draws,
# so the screenshot is retried for up to 10 s until it matches.
shows() {
  local win=$1 img=$2 ww wh iw ih
  read -r iw ih < <(identify -format '%w %h' "$img")
  for _ in $(seq 50); do
    import -window "$win" shot.png || fail "screenshot of $win"
    read -r ww wh < <(identify -format '%w %h' shot.png)
    convert shot.png -crop "${iw}x${ih}+$(((ww - iw) / 2))+$(((wh - 36 - ih) / 2))" +repage view.png
    "$imgcmp" view.png "$img" 2> cmp.err && { ok; return; }
    sleep 0.2
  done
  cp shot.png "/tmp/gui-fail-$$.png"
  fail "window $win does not show $img: $(cat cmp.err) (screenshot kept in /tmp/gui-fail-$$.png)"
}
# checkerboard WINDOW X Y W H: that part of the window shows only the two
# greys of the checkerboard (retried like shows).
checkerboard() {
  for _ in $(seq 50); do
    import -window "$1" shot.png
    convert shot.png -crop "$4x$5+$2+$3" +repage -unique-colors txt:- |
      grep -o '#[0-9A-F]\{6\}' | sort -u > colours.txt
    [ "$(tr '\n' ' ' < colours.txt)" = "#999999 #CCCCCC " ] && { ok; return; }
    sleep 0.2
  done
  fail "transparent area shows $(tr '\n' ' ' < colours.txt)"
}
