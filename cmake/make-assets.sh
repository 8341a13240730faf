#!/usr/bin/env bash
# make-assets.sh - how assets/font.png and assets/sample.png were made
# (ImageMagick + DejaVu Sans Mono, both from Debian). Not part of the build:
# the PNGs are committed; rerun this only to change them.
#
# font.png: ASCII 32..126 in a 16 x 6 grid of 10 x 20 pixel cells, white
# on transparent; cell of character c: column (c-32) % 16, row (c-32) / 16.
set -euo pipefail
cd "$(dirname "$0")/../assets"
font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cells=()
for c in $(seq 32 127); do
  f=$tmp/$(printf %03d "$c").png
  if [ "$c" -eq 127 ]; then
    convert -size 10x20 xc:none "$f"
  else
    ch=$(printf "\\$(printf %03o "$c")")
    [ "$ch" = "\\" ] && ch='\\\\'
    [ "$ch" = "%" ] && ch='%%'
    convert -size 10x20 xc:none -font "$font" -pointsize 15 -fill white \
      -gravity NorthWest -annotate +1+2 "$ch" "$f"
  fi
  cells+=("$f")
done
montage "${cells[@]}" -background none -tile 16x6 -geometry 10x20+0+0 \
  PNG32:font.png

# sample.png: 480x320, opaque gradient with a translucent disc and text, so
# that colour, alpha and orientation all show.
convert -size 480x320 gradient:'#1d4e89-#f79d1e' \
  \( -size 480x320 xc:none -fill 'rgba(255,255,255,0.55)' \
     -draw 'circle 340,150 420,150' \) -composite \
  -font "$font" -pointsize 56 -fill white -stroke '#00000080' \
  -annotate +30+110 'shmimg' \
  -pointsize 20 -stroke none -annotate +32+150 'shared memory image' \
  -fill '#ff3b30' -draw 'rectangle 20,250 80,300' \
  -fill '#34c759' -draw 'rectangle 90,250 150,300' \
  -fill '#0a84ff' -draw 'rectangle 160,250 220,300' \
  -alpha set -channel A -fx 'j<230 ? 1 : 0.85' +channel PNG32:sample.png
