#!/usr/bin/env bash
# gui_desktop_test.sh - issue 11: the window as a desktop application. The
# empty state, the tone of messages, messages over the image, the help's
# panel, the badges, the font's scripts, what a window learns of newer
# images and of its publisher. Real windows under Xvfb, real key presses,
# clicks and drops; every check reads the pixels of a screenshot.
#
# Usage: gui_desktop_test.sh SHMIMG XDND_DROP IMGCMP RENDERER
set -u
shmimg=$(realpath "$1") xdnd=$(realpath "$2") imgcmp=$(realpath "$3")
export SDL_RENDER_DRIVER=$4
here=$(dirname "$(realpath "$0")")   # before xsession.sh changes directory
source "$here/xsession.sh"

# ---- what the app draws, in pixels (src/app: text.c, hud.c, app.c) ----------
# A 480x356 window: the view is 480x320, the status line 36 pixels under it.
W=480 H=356 VIEW_H=320
BACKGROUND=202226
ACCENT=5a9bff ZONE=26292f CAP=e8eaee          # the empty state (hud.c)
INFO_BAR=111214 INFO_DISC=5b8dd9              # tones (text.c)
OK_BAR=0f2e1a OK_DISC=2fb35a
ERR_BAR=441013 ERR_DISC=e53e3e
LIVE=d93a2f PUBLISHER=2d6cdf READER=4a5058    # badges (status.c)
NEWER=b87a0b
PANEL=15171a                                  # the help (text.c)

# ---- helpers -----------------------------------------------------------------
px() { convert "${2:-shot.png}" -crop "1x1+${1/,/+}" +repage -format '%[hex:u.p{0,0}]' info: | tr A-F a-f; }
# count COLOUR WxH+X+Y: pixels of exactly COLOUR in that part of shot.png.
count() {
  convert shot.png -crop "$2" +repage -fill black +opaque "#$1" -fill white -opaque "#$1" \
    -format '%[fx:round(mean*w*h)]' info:
}
# looks WIN WHAT CHECK...: screenshots of WIN (shot.png) until every CHECK
# holds, 10 s at most (the window logs before it draws). A check is
# "X,Y=COLOUR" (that pixel), "X,Y!COLOUR" (not that colour), or
# "N<COLOUR@WxH+X+Y" (more than N pixels of that colour there). On failure
# it prints what each failed check found against what it wanted.
looks() {
  local win=$1 what=$2 c found bad; shift 2
  for _ in $(seq 50); do
    import -window "$win" shot.png || fail "screenshot of $win"
    bad=""
    for c in "$@"; do
      case $c in
        *=*) found=$(px "${c%=*}"); [ "$found" = "${c#*=}" ] || bad+=" pixel ${c%=*} is $found, wanted ${c#*=};" ;;
        *!*) found=$(px "${c%!*}"); [ "$found" != "${c#*!}" ] || bad+=" pixel ${c%!*} is $found, wanted anything else;" ;;
        *'<'*@*) local n=${c%%<*} rest=${c#*<}; found=$(count "${rest%@*}" "${rest#*@}")
          [ "$found" -gt "$n" ] || bad+=" $found pixels of #${rest%@*} in ${rest#*@}, wanted more than $n;" ;;
      esac
    done
    [ -z "$bad" ] && { ok; return; }
    sleep 0.2
  done
  cp shot.png "/tmp/gui-desktop-fail-$$.png"
  fail "$what:$bad (screenshot kept in /tmp/gui-desktop-fail-$$.png)"
}
title_has() { wait_title "$1" "$2"; ok; }

convert -size 480x320 gradient:'#ff8000-#0040ff' PNG24:full.png
convert -size 480x320 xc:white PNG24:white.png
convert -size 480x320 xc: +noise Random PNG24:noise.png
convert -size 200x100 xc:'#30c060' PNG24:green.png
printf 'not an image' > notes.png

# ---- 7: first start -----------------------------------------------------------
"$shmimg" --key desk --geometry ${W}x$H+0+0 > a.log 2>&1 & A=$!
WA=$(window_of $A) || exit 1
# A dashed drop zone (dashes from the corner, gaps show the zone), an arrow,
# a large heading in white, key caps, and the info tone on the status line.
looks "$WA" "empty state" 16,16=$ACCENT 20,16=$ACCENT 28,16=$ZONE 16,28=$ZONE \
  30,40=$ZONE 8,8=$BACKGROUND 240,75=$ACCENT \
  "250<ffffff@320x40+80+119" "150<$CAP@440x60+20+190" \
  1,338=$INFO_DISC 5,322=$INFO_BAR
cp shot.png empty.png
# A click in the empty window pulls: nothing yet, said in plain words, as
# an error (red bar, red disc), the library's words on stderr only.
xdotool mousemove --window "$WA" 240 150 click 1
wait_log a.log 'error: Nothing published under key desk yet: drop an image file here or press O to publish one.*\(detail: Unable to attach to shared memory segment'
looks "$WA" "error tone" 1,338=$ERR_DISC 5,322=$ERR_BAR 10,338=$ERR_DISC 240,75=$ACCENT

# Another window publishes; a click in the empty one pulls it.
"$shmimg" --key desk --geometry ${W}x$H+500+0 > b.log 2>&1 & B=$!
WB=$(window_of $B) || exit 1
drop "$WB" full.png
wait_log b.log 'Published full.png \(480x320\) under key desk'
# A success: green; the publisher wears its badge, right in the status line.
looks "$WB" "success tone and publisher badge" 1,338=$OK_DISC 5,322=$OK_BAR 10,338=$OK_DISC \
  470,328=$PUBLISHER
xdotool mousemove --window "$WA" 240 150 click 1
wait_log a.log 'Pulled full.png \(480x320\) from key desk'
shows "$WA" full.png
looks "$WA" "reader badge" 470,328=$READER
# With an image on screen a click does nothing.
xdotool mousemove --window "$WA" 240 150 click 1
sleep 0.5
[ "$(grep -c 'Pulled full.png' a.log)" = 1 ] || fail "a click on an image pulled again: $(grep -c 'Pulled full.png' a.log) pulls"; ok

# ---- 8: messages ----------------------------------------------------------------
# Plain words in the window, the decoder's in the detail.
drop "$WB" notes.png
wait_log b.log 'error: notes.png is not an image shmimg can read .*\(detail: .*notes.png \(SDL_image cannot decode it'
drop "$WB" "$work"
wait_log b.log "error: $(basename "$work") is a folder: drop an image file \(detail: .*\(a directory\)\)"
# S with nothing on screen points to what the window offers.
"$shmimg" --key desk2 --geometry ${W}x$H+0+400 > c.log 2>&1 & C=$!
WC=$(window_of $C) || exit 1
press "$WC" s
wait_log c.log 'error: Nothing to save yet: drop an image file here, press O to open one, or P to pull one'
press "$WC" q
wait $C; [ $? = 0 ] || fail "C did not exit 0"; ok

# A message of several lines lies over the image, above the status line:
# the view keeps its size and place (the top of the image is untouched),
# and the lines under the box are not the image's.
long=$(printf 'a-file-with-a-rather-long-name-%.0s' 1 2 3).png
printf 'still not an image' > "$long"
# (A file named on the command line is published, as a file manager's
# "Open with shmimg" does through the desktop entry's Exec=shmimg %f.)
SHMIMG_MESSAGE_MS=30000 "$shmimg" --key desk3 --geometry ${W}x$H+0+400 full.png > d.log 2>&1 & D=$!
WD=$(window_of $D) || exit 1
wait_log d.log 'Published full.png'
shows "$WD" full.png
drop "$WD" "$long"
wait_log d.log "error: $long is not an image"
# Four lines at most: a box of 4 x 20 + 16 = 96 pixels from y = 224.
looks "$WD" "message box over the image" 1,300=$ERR_DISC 200,300!$(px 200,300 full.png) \
  1,338=$ERR_DISC 470,328=$PUBLISHER
[ "$(identify -format '%wx%h' shot.png)" = ${W}x$H ] || fail "the window changed size: $(identify -format '%wx%h' shot.png)"; ok
convert shot.png -crop 480x220+0+0 +repage top.png
convert full.png -crop 480x220+0+0 +repage full-top.png
"$imgcmp" top.png full-top.png || fail "the image moved or changed above the message box"; ok
cp shot.png message-over-image.png

# ---- 9: the help is an opaque panel: the same pixels over white and noise -----
drop "$WD" white.png
wait_log d.log 'Published white.png'
press "$WD" h
looks "$WD" "help over white" "300<ffffff@300x120+90+110" 20,20!ffffff 42,65=$PANEL
convert shot.png -crop 300x120+90+110 +repage help-white.png
cp shot.png help.png
drop "$WD" noise.png
wait_log d.log 'Published noise.png'
for _ in $(seq 50); do
  import -window "$WD" shot.png
  convert shot.png -crop 300x120+90+110 +repage help-noise.png
  "$imgcmp" help-white.png help-noise.png 2> cmp.err && break
  sleep 0.2
done
"$imgcmp" help-white.png help-noise.png || fail "the image shows through the help: $(cat cmp.err)"; ok
press "$WD" Escape
press "$WD" q
wait $D; [ $? = 0 ] || fail "D did not exit 0"; ok

# ---- 6: live mode and the role are badges, whatever the last message ---------
press "$WA" l
wait_log a.log 'Live mode on'
looks "$WA" "live badge" 470,328=$LIVE 416,328=$READER
drop "$WB" green.png
wait_log a.log 'Live: green.png \(200x100\)'
press "$WA" x   # not a key: no message; then one that is
press "$WA" s
wait_log a.log 'Saving'
wait_log a.log 'Saved'
looks "$WA" "live badge after other messages" 470,328=$LIVE 416,328=$READER 1,338=$OK_DISC
cp shot.png live.png
press "$WA" l
wait_log a.log 'Live mode off'
looks "$WA" "no live badge once off" 470,328=$READER
press "$WB" q; wait $B
press "$WA" q; wait $A

# ---- 5: a window that is not live learns of newer images, and of its
# publisher's end; the title says what is shown and where it came from ------
"$shmimg" --key desk5 --geometry ${W}x$H+0+0 > f.log 2>&1 & F=$!
"$shmimg" --key desk5 --geometry ${W}x$H+500+0 > g.log 2>&1 & G=$!
WF=$(window_of $F) || exit 1
WG=$(window_of $G) || exit 1
drop "$WF" green.png
wait_log f.log 'Published green.png'
title_has "$WF" '^shmimg \[desk5\] published: green.png \(200x100\) from this window$'
press "$WG" p
wait_log g.log 'Pulled green.png \(200x100\) from key desk5'
title_has "$WG" "^shmimg \[desk5\] pulled: green.png \(200x100\) from pid $F\$"
drop "$WF" full.png
wait_log f.log 'Published full.png'
wait_log g.log 'Newer image under key desk5: press P'
# The badge says so until P; the image on screen stays what it was.
looks "$WG" "newer badge" 470,328=$NEWER 240,160=30c060
cp shot.png newer.png
title_has "$WG" "pulled: green.png \(200x100\) from pid $F - newer image: press P\$"
# The publishing window was told too: someone else's? No: its own publish
# is what it shows, so it wears no such badge.
looks "$WF" "no newer badge on the publisher" 470,328=$PUBLISHER
press "$WG" p
wait_log g.log 'Pulled full.png'
shows "$WG" full.png
looks "$WG" "no newer badge after P" 470,328=$READER
title_has "$WG" "pulled: full.png \(480x320\) from pid $F\$"
# The publisher quits: the reader says so, its image stays.
press "$WF" q
wait $F; [ $? = 0 ] || fail "F did not exit 0"; ok
# Its segment went with it (it did not persist); the reader removes nothing
# and keeps what it shows.
wait_log g.log "The publisher of full.png \(pid $F\) has exited, and its segment with it; what is on screen stays"
[ ! -e "$SHMIMG_DIR/shmimg-desk5" ] || fail "the publisher's segment outlived it"; ok
title_has "$WG" "pulled: full.png \(480x320\) from pid $F, which has exited\$"
shows "$WG" full.png
# A publish from the command line (a process that ends at once) is news too.
"$shmimg" publish --persist --key desk5 green.png > /dev/null || fail "shmimg publish failed"; ok
wait_log g.log 'Newer image under key desk5: press P'
press "$WG" p
wait_log g.log 'Pulled green.png'
wait_log g.log 'The publisher of green.png \(pid [0-9]+\) has exited; its image stays under key desk5'
press "$WG" q
wait $G; [ $? = 0 ] || fail "G did not exit 0"; ok

# ---- 13: the window's icon is assets/shmimg.png (SDL_SetWindowIcon sets
# _NET_WM_ICON: width, height, then ARGB pixels row by row) -------------------
icon=$here/../assets/shmimg.png
"$shmimg" --key desk6 --geometry ${W}x$H+0+0 > i.log 2>&1 & I=$!
WI=$(window_of $I) || exit 1
xprop -id "$WI" -notype -f _NET_WM_ICON 32c _NET_WM_ICON | tr -d ',' | awk '{print $3, $4}' > icon-size.txt
[ "$(cat icon-size.txt)" = "64 64" ] || fail "window icon: $(cat icon-size.txt), wanted 64 64"; ok
for at in 5,32 20,20 40,40 0,0; do
  x=${at%,*} y=${at#*,}
  got=$(xprop -id "$WI" -notype -f _NET_WM_ICON 32c _NET_WM_ICON | tr -d ',' | awk -v i=$((y * 64 + x + 5)) '{printf "%08x", $i}')
  want=$(convert "$icon" -crop "1x1+$x+$y" +repage -format '%[hex:u.p{0,0}]' info: | tr A-F a-f)
  want=${want:6:2}${want:0:6}   # RRGGBBAA to AARRGGBB
  [ "$got" = "$want" ] || [ "${want:0:2}${got:0:2}" = 0000 ] || fail "icon pixel $at: $got in the window, $want in $icon"
done; ok
press "$WI" q
wait $I; [ $? = 0 ] || fail "I did not exit 0"; ok

# ---- 10: names in Greek, Cyrillic, Latin-1 and beyond --------------------------
# Each character on screen is the atlas's glyph (thresholded, so that the
# renderers' blending does not matter); one the atlas lacks is a box.
font=$here/../assets/font.png
export LC_ALL=C.UTF-8   # read -n1 and printf "'c" by character, not byte
# atlas_cell CODEPOINT: its cell in font.png (text.h: blocks from a row each).
atlas_cell() {
  local cp=$1 base=0 b lo hi
  for b in 0020-007f 00a0-017f 0370-03ff 0400-04ff; do
    lo=$((16#${b%-*})) hi=$((16#${b#*-}))
    if [ "$cp" -ge "$lo" ] && [ "$cp" -le "$hi" ]; then echo $((base + cp - lo)); return; fi
    base=$((base + hi - lo + 1))
  done
  echo -1
}
# glyph_diff X Y CP: pixels that differ between the character drawn at
# (X, Y) in shot.png (white on the success bar: green channel over 59%) and
# the atlas's glyph of CP (alpha over 50%); columns 1-8 of the 10-pixel
# cell, as neighbours overlap by one.
glyph_diff() {
  local cell; cell=$(atlas_cell "$3")
  convert shot.png -crop 8x20+$(($1 + 1))+$2 +repage -channel G -separate +channel -threshold 59% screen.pbm
  convert "$font" -crop 8x20+$((cell % 16 * 10 + 1))+$((cell / 16 * 20)) +repage -alpha extract -threshold 50% atlas.pbm
  compare -metric AE screen.pbm atlas.pbm null: 2>&1
}
name='Ωμέγα-Привет-Ünï-日.png'
cp green.png "$name"
"$shmimg" --key desk4 --geometry ${W}x$H+0+400 > e.log 2>&1 & E=$!
WE=$(window_of $E) || exit 1
drop "$WE" "$name"
wait_log e.log "Published $name"
looks "$WE" "the status line" 1,338=$OK_DISC
# "Published " is 10 characters from x = 32 (text.h: TEXT_INDENT); text at
# y = 320 + 8.
x0=$((32 + 10 * 9)) y0=328
i=0 bad=""
while IFS= read -r -n1 ch; do
  [ -z "$ch" ] && break
  cp=$(printf '%d' "'$ch")
  x=$((x0 + 9 * i)); i=$((i + 1))
  [ "$cp" = 26085 ] && continue   # 日: not in the atlas, checked below
  d=$(glyph_diff $x $y0 "$cp")
  [ "$d" -le 3 ] || bad+=" U+$(printf %04X "$cp") at x=$x differs from the atlas by $d pixels;"
done < <(printf '%s' "${name%.png}")
[ $i = 18 ] || fail "read $i characters of the name, wanted 18"
[ -z "$bad" ] || { cp shot.png "/tmp/gui-desktop-fail-$$.png"; fail "glyphs:$bad"; }; ok
# The comparison tells letters apart: П is not Р, nor ?.
d1=$(glyph_diff $((x0 + 9 * 6)) $y0 $((16#420))) d2=$(glyph_diff $((x0 + 9 * 6)) $y0 63)
[ "$d1" -gt 10 ] && [ "$d2" -gt 10 ] || fail "П compared with Р: $d1 pixels, with ?: $d2 (wanted over 10 each)"; ok
# 日 (the 18th character) is a hollow box: its edges lit, its middle not.
bx=$((x0 + 9 * 17))
looks "$WE" "replacement box" $((bx + 1)),$((y0 + 4))=ffffff $((bx + 1)),$((y0 + 16))=ffffff \
  $((bx + 7)),$((y0 + 10))=ffffff $((bx + 4)),$((y0 + 4))=ffffff $((bx + 4)),$((y0 + 10))=$OK_BAR
cp shot.png scripts.png
press "$WE" q
wait $E; [ $? = 0 ] || fail "E did not exit 0"; ok

# SHMIMG_SHOTS=DIR keeps the screenshots (the README's come from here).
if [ -n "${SHMIMG_SHOTS:-}" ]; then
  for f in empty message-over-image help live newer scripts; do cp $f.png "$SHMIMG_SHOTS/$SDL_RENDER_DRIVER-$f.png"; done
fi
echo "gui_desktop ($SDL_RENDER_DRIVER): $checks checks passed"
