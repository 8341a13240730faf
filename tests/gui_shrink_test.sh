#!/usr/bin/env bash
# gui_shrink_test.sh - issue 11, point 3: an image drawn at less than half
# its size is drawn from an area-filtered copy, not by the GPU's bilinear
# filter, which aliases. A zone plate and a page of text, 1920x1080, shown
# in a 480x270 view (a quarter), are compared with ImageMagick's
# '-filter box -resize' of the same file: the PSNR of the filtered picture
# must pass a threshold that the bilinear picture (a live window draws
# frames straight from the segment with it) fails; both are printed.
#
# Usage: gui_shrink_test.sh SHMIMG XDND_DROP IMGCMP RENDERER
set -u
shmimg=$(realpath "$1") xdnd=$(realpath "$2") imgcmp=$(realpath "$3")
export SDL_RENDER_DRIVER=$4
source "$(dirname "$(realpath "$0")")/xsession.sh"

# Decibels: the filtered copy is ImageMagick's box filter to rounding
# (50 dB and more at whole ratios); bilinear sampling at a quarter stays
# under 25 dB on both images. At a ratio that is not whole, ImageMagick's
# box filter takes whole source pixels (those whose centres fall in the
# box) where ours weighs the edge pixels by the part covered, as its
# '-scale' does: there the picture is held to 28 dB against '-filter box
# -resize' and to THRESHOLD against '-scale'.
THRESHOLD=35

# ---- test images ---------------------------------------------------------------
# A zone plate: cos(k r^2), whose frequency grows to half a cycle per pixel
# at the corners: everything past a quarter of that aliases at 1/4 scale.
python3 - <<'EOF'
import math
w, h = 1920, 1080
cx, cy = w / 2, h / 2
k = math.pi / (2 * math.hypot(cx, cy))
rows = bytearray()
for y in range(h):
    dy2 = (y - cy) ** 2
    rows += bytes(int(127.5 + 127.5 * math.cos(k * ((x - cx) ** 2 + dy2)))
                  for x in range(w))
with open("zone.pgm", "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (w, h) + rows)
EOF
convert zone.pgm -type TrueColor PNG24:zone.png
# A page of text: 12-point strokes, one or two pixels wide.
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
[ -f "$font" ] || fail "no $font (fonts-dejavu-core, installed by cmake/bootstrap.sh)"
for i in $(seq 60); do
  echo "$i. The quick brown fox jumps over the lazy dog; shared memory, futexes, seqlocks and SDL2 windows: every stroke counts."
done > page.txt
convert -size 1920x1080 xc:white -font "$font" -pointsize 12 -fill black \
  -annotate +24+20 "$(cat page.txt)" -type TrueColor PNG24:page.png
# A smaller page (810x810: filtered on the loop, not on the thread).
convert page.png -crop 810x810+0+0 +repage PNG24:page-small.png

# psnr A B: decibels between two images of one size (inf when equal).
psnr() { compare -metric PSNR "$1" "$2" null: 2>&1 | awk '{print $1}'; }
above() { [ "$1" = inf ] || awk -v p="$1" -v t="$2" 'BEGIN {exit !(p + 0 > t + 0)}'; }
# view WIN WxH+X+Y OUT: that part of a screenshot of WIN.
view() { import -window "$1" shot.png && convert shot.png -crop "$2" +repage "$3"; }
# filtered WIN IMAGE WxH+X+Y [DB]: that part of WIN shows IMAGE
# box-resized to WxH within DB (THRESHOLD) decibels; retried for 10 s (the
# thread takes a moment). With DB, also '-scale' within THRESHOLD.
filtered() {
  local geo=$3 size=${3%%+*} db=${4:-$THRESHOLD} p q=inf
  convert "$2" -filter box -resize "$size!" ref.png
  convert "$2" -scale "$size!" ref-scale.png
  for _ in $(seq 50); do
    view "$1" "$geo" got.png
    p=$(psnr got.png ref.png)
    [ -n "${4:-}" ] && q=$(psnr got.png ref-scale.png)
    above "$p" "$db" && above "$q" $THRESHOLD && {
      ok; echo "$2 at $size: filtered $p dB${4:+ (against -scale: $q dB)}"; return; }
    sleep 0.2
  done
  cp shot.png "/tmp/gui-shrink-fail-$$.png"
  fail "$2 at $size: $p dB against ImageMagick's box filter, wanted over $db${4:+; $q dB against -scale, wanted over $THRESHOLD} (screenshot in /tmp/gui-shrink-fail-$$.png)"
}

# ---- the bilinear picture fails the threshold, the filtered one passes -------
# B is live: frames go from the segment straight into the texture and are
# drawn bilinear. L off, then P: a private copy, filtered.
"$shmimg" --key shrink --live --geometry 480x306+500+0 > b.log 2>&1 & B=$!
WB=$(window_of $B) || exit 1
wait_log b.log 'Live mode on'
for img in zone.png page.png; do
  "$shmimg" publish --persist --key shrink $img > /dev/null || fail "publish $img"
  wait_log b.log "Live: $img \(1920x1080\)"
  sleep 0.5   # drawn
  convert $img -filter box -resize '480x270!' ref.png
  view "$WB" 480x270+0+0 got.png
  p=$(psnr got.png ref.png)
  echo "$img at 480x270: bilinear $p dB"
  above "$p" $THRESHOLD && fail "the bilinear picture of $img passes the threshold ($p dB > $THRESHOLD): the test tells nothing"; ok
  [ $img = zone.png ] && cp shot.png bilinear-zone.png
done
press "$WB" l
wait_log b.log 'Live mode off'
press "$WB" p
wait_log b.log 'Pulled page.png \(1920x1080\)'
filtered "$WB" page.png 480x270+0+0
"$shmimg" publish --persist --key shrink zone.png > /dev/null || fail "publish zone.png"
wait_log b.log 'Newer image under key shrink'
press "$WB" p
wait_log b.log 'Pulled zone.png \(1920x1080\)'
filtered "$WB" zone.png 480x270+0+0
cp shot.png filtered-zone.png

# One copy per window size: smaller (400x225, a ratio of 4.8), then back.
xdotool windowsize --sync "$WB" 400 261
filtered "$WB" zone.png 400x225+0+0 28
xdotool windowsize --sync "$WB" 480 306
filtered "$WB" zone.png 480x270+0+0

# ---- a publisher: the decoded file; a small image is filtered on the loop ---
"$shmimg" --key shrink2 --geometry 480x306+0+0 page.png > a.log 2>&1 & A=$!
WA=$(window_of $A) || exit 1
wait_log a.log 'Published page.png'
filtered "$WA" page.png 480x270+0+0
drop "$WA" page-small.png
wait_log a.log 'Published page-small.png \(810x810\)'
filtered "$WA" page-small.png 270x270+105+0
# Drawn at more than half its size, the image is not replaced: 1:1 when it
# fits is exact.
convert page.png -crop 400x250+0+0 +repage PNG24:fits.png
drop "$WA" fits.png
wait_log a.log 'Published fits.png'
shows "$WA" fits.png

press "$WA" q; wait $A; [ $? = 0 ] || fail "A did not exit 0"; ok
press "$WB" q; wait $B; [ $? = 0 ] || fail "B did not exit 0"; ok
if [ -n "${SHMIMG_SHOTS:-}" ]; then
  cp bilinear-zone.png "$SHMIMG_SHOTS/$SDL_RENDER_DRIVER-bilinear-zone.png"
  cp filtered-zone.png "$SHMIMG_SHOTS/$SDL_RENDER_DRIVER-filtered-zone.png"
fi
echo "gui_shrink ($SDL_RENDER_DRIVER): $checks checks passed"
