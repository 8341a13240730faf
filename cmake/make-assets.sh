#!/usr/bin/env bash
# make-assets.sh - how assets/font.png, assets/sample.png and the icon
# were made (ImageMagick + DejaVu Sans Mono, both from Debian). Not part of
# the build: the PNGs are committed; rerun this only to change them.
#
# font.png: a grid of 16 columns of 10 x 20 pixel cells, white on
# transparent, holding these Unicode blocks one after the other, each from
# the start of a row (src/app/text.h reads it the same way):
#     U+0020..U+007F  ASCII                     6 rows
#     U+00A0..U+017F  Latin-1 and Latin Ext-A  14 rows
#     U+0370..U+03FF  Greek and Coptic          9 rows
#     U+0400..U+04FF  Cyrillic                 16 rows
# A character the font lacks (some of Coptic and of the rarer Cyrillic)
# gets an empty cell, which the window draws as a replacement box. So do
# U+007F and the invisible U+00AD (the window escapes both anyway).
set -euo pipefail
cd "$(dirname "$0")/../assets"
font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
export LC_ALL=C.UTF-8
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The font's characters, as "first-last" hex ranges (fontconfig).
mapfile -t ranges < <(fc-query --format='%{charset}\n' "$font" | tr ' ' '\n')
has_glyph() {
  local r lo hi
  for r in "${ranges[@]}"; do
    lo=$((16#${r%-*})) hi=$((16#${r#*-}))
    [ "$1" -ge "$lo" ] && [ "$1" -le "$hi" ] && return 0
    [ "$1" -lt "$lo" ] && return 1
  done
  return 1
}

# cell CODEPOINT FILE: one 10 x 20 cell. Drawn alone, clipped to its cell,
# so that a wide glyph never bleeds into its neighbour.
cell() {
  local cp=$1 f=$2 ch
  if [ "$cp" -eq 127 ] || [ "$cp" -eq 173 ] || ! has_glyph "$cp"; then
    convert -size 10x20 xc:none "$f"
    return
  fi
  ch=$(printf "\\U$(printf %08x "$cp")")
  [ "$ch" = "\\" ] && ch='\\\\'
  [ "$ch" = "%" ] && ch='%%'
  [ "$ch" = "@" ] && ch='\@'   # a leading @ would name a file to read
  convert -size 10x20 xc:none -font "$font" -pointsize 15 -fill white \
    -gravity NorthWest -annotate +1+2 "$ch" "$f"
}

cells=()
for block in 0020-007f 00a0-017f 0370-03ff 0400-04ff; do
  for cp in $(seq $((16#${block%-*})) $((16#${block#*-}))); do
    f=$tmp/$(printf %05d "$cp").png
    cell "$cp" "$f"
    cells+=("$f")
  done
done
montage "${cells[@]}" -background none -tile 16x -geometry 10x20+0+0 \
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

# shmimg.png: the window's icon (SDL_SetWindowIcon) and the desktop's, 64x64:
# two overlapping frames, the image shared, on the window's blue.
convert -size 64x64 xc:none -fill '#2d6cdf' -draw 'roundrectangle 0,0 63,63 12,12' \
  -fill '#f79d1e' -draw 'rectangle 12,14 40,38' \
  -fill none -stroke white -strokewidth 4 -draw 'rectangle 24,26 52,50' \
  PNG32:shmimg.png
