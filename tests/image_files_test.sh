#!/usr/bin/env bash
# image_files_test.sh - image files that must not hurt: an unreadable file
# (read by another uid), files cut short in every format (a JPEG, a GIF
# animation, ... each refused), decompression bombs in five
# formats (refused before the memory is taken: peak RSS measured), the
# pixel limit as a setting (and a wrong one), which limit a size breaks
# (per side, in all, a decoder's own), and a very large valid image
# (16384 x 16384).
# Each refusal is a clear message, exit status 1, never a signal, and the
# image published before stays intact.
# Usage: image_files_test.sh SHMIMG IMGCMP FORMATS_DIR
set -u
shmimg=$(realpath "$1") imgcmp=$(realpath "$2") formats=$(realpath "$3")
here=$(dirname "$(realpath "$0")")
source "$(dirname "$(realpath "$0")")/preamble.sh"
chmod 755 "$work"
# peak_mb CMD...: runs CMD; prints its exit status and peak RSS in MiB.
peak_mb() {
  python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open("err.txt", "w"))
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$@"
}
# refused PATTERN CMD...: exit status 1, stderr matching PATTERN, and the
# published image still there.
refused() {
  local pattern=$1 status mb; shift
  read -r status mb < <(peak_mb "$@")
  [ "$status" = 1 ] || fail "'$*' exited $status, wanted 1: $(cat err.txt)"
  grep -Eq -- "$pattern" err.txt || fail "'$*' said '$(cat err.txt)', wanted /$pattern/"
  "$shmimg" pull -o still.png > /dev/null || fail "nothing to pull after '$*'"
  "$imgcmp" still.png "$formats/sample.png" || fail "'$*' changed the published image"
  echo "refused in ${mb} MiB peak: $(cat err.txt)"
  ok
}

"$shmimg" publish --persist "$formats/sample.png" > /dev/null || fail "cannot publish the sample"
python3 "$here/bombs.py" "$work" || fail "cannot write the test files"

# Unreadable: the file is root's, mode 0600; the reader is uid 65534.
cp "$formats/sample.jpg" secret.jpg && chmod 600 secret.jpg
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$shmimg" publish --persist "$work/secret.jpg" 2>&1)
[ $? = 1 ] && grep -q 'secret.jpg: cannot read it: Permission denied' <<<"$out" || fail "unreadable file: $out"
echo "refused: $out"; ok

# Truncated JPEG (baseline and progressive).
head -c 600 "$formats/sample.jpg" > cut.jpg
refused 'cut.jpg \(truncated: the JPEG data stops before its end-of-image marker\)' "$shmimg" publish --persist cut.jpg
convert -size 640x480 gradient:red-blue -interlace Plane -quality 80 prog.jpg
head -c 4000 prog.jpg > cutprog.jpg
refused 'truncated' "$shmimg" publish --persist cutprog.jpg

# Cut short, every format the README claims and variants of them (issue
# 16, row 15): a file cut anywhere is refused, saying it is truncated, and
# nothing of it is published. Each is cut at 1/8, 3/8, 5/8, 7/8 of its bytes and
# 2 bytes short of its end (a text format's last byte is a newline).
# PNM's reader refuses a cut file itself, in its words.
mkdir cuts
convert "$formats/sample.png" -alpha off -colors 16 -compress RLE BMP3:cuts/rle8.bmp
convert "$formats/sample.png" -compress RLE cuts/rle.tga
convert "$formats/sample.png" -alpha off -type TrueColor cuts/rgb24.pcx
convert "$formats/sample.png" -define webp:lossless=false cuts/lossy.webp
convert "$formats/sample.png" -define tiff:tile-geometry=16x16 cuts/tiled.tif
convert "$formats/sample.png" -compress none cuts/ascii.ppm
convert "$formats/sample.png" -interlace PNG cuts/interlaced.png
# A TIFF whose directory comes first and pixels last (ImageMagick writes
# the directory last): a cut loses strips, not the directory.
python3 - cuts/strips-last.tif <<'PY'
import struct, sys
w, h, rows = 16, 8, 2                      # 4 strips of 2 rows, RGBA
tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 4, None), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 4, None), (277, 3, 1, 4), (278, 3, 1, rows),
        (279, 4, 4, None), (284, 3, 1, 1), (338, 3, 1, 2)]
extra = 8 + 2 + 12 * len(tags) + 4         # out-of-line values from here
bps, offs, cnts = extra, extra + 8, extra + 24
data = extra + 40
strip = w * 4 * rows
vals = {258: bps, 273: offs, 279: cnts}
out = b'II*\0' + struct.pack('<I', 8) + struct.pack('<H', len(tags))
for tag, typ, n, v in tags:
    v = vals.get(tag, v)
    out += struct.pack('<HHI', tag, typ, n) + (struct.pack('<HH', v, 0) if typ == 3 and n == 1 else struct.pack('<I', v))
out += struct.pack('<I', 0) + struct.pack('<4H', 8, 8, 8, 8)
out += struct.pack('<4I', *(data + i * strip for i in range(4)))
out += struct.pack('<4I', *([strip] * 4))
out += bytes(b for y in range(h) for x in range(w)
             for b in (x * 16, y * 32, 99, 5 + x * 15))
open(sys.argv[1], 'wb').write(out)
PY
"$shmimg" publish --persist cuts/strips-last.tif > /dev/null || fail "the hand-made TIFF is refused whole"
"$shmimg" publish --persist "$formats/sample.png" > /dev/null || fail "cannot publish the sample again"
cut_files=0
for f in "$formats"/*.* cuts/*; do
  case $f in *.md) continue ;; esac
  case $f in
    *.pgm|*.ppm) said='\(SDL_image cannot decode it: file truncated\)' ;;
    *) said='\(truncated: [^)]+\)' ;;
  esac
  size=$(stat -c %s "$f") name=$(basename "$f")
  lengths="$(for k in 1 3 5 7; do echo $((size * k / 8)); done)"
  case $f in *ascii.ppm) ;; *) lengths+=" $((size - 2))" ;; esac
  for n in $lengths; do
    head -c "$n" "$f" > "cut-$name"
    out=$("$shmimg" publish --persist "cut-$name" 2>&1); status=$?
    [ "$status" = 1 ] || fail "$name cut to $n of $size bytes: exit $status, wanted 1: $out"
    grep -Eq -- "not an image: cut-$name $said" <<<"$out" ||
      fail "$name cut to $n of $size bytes said '$out', wanted /$said/"
    cut_files=$((cut_files + 1))
  done
  echo "cut $name: $out"; ok
done
# The TIFF whose pixels come last says which strip is cut.
head -c 300 cuts/strips-last.tif > cut-strips.tif
refused 'cut-strips.tif \(truncated: the TIFF file stops at byte 300 of the 698 its strips call for \(strip 1 of 4 is cut\)\)' \
  "$shmimg" publish --persist cut-strips.tif
"$shmimg" pull -o still.png > /dev/null && "$imgcmp" still.png "$formats/sample.png" ||
  fail "a cut file changed the published image"; ok
echo "$cut_files cut files refused"

# Cut GIFs: an animation of 20 frames cut at half its bytes (it played the
# frames that survived), and one whose only whole frame is the first (it
# was published as a still). Both refused, saying how many whole frames
# came before the cut; --persist would play a whole animation for ever
# (issue 16, row 13), so a bounded wait: a refusal is at once.
convert -delay 10 -size 40x30 $(for i in $(seq 20); do printf 'xc:rgb(%d,%d,%d) ' $((i * 12)) $((255 - i * 12)) $((i * 7)); done) anim20.gif
"$shmimg" publish --key anim anim20.gif > anim.out 2>&1 & p=$!
for _ in $(seq 600); do grep -q Playing anim.out && break; sleep 0.1; done
kill -TERM $p; wait $p
grep -q 'Playing anim20.gif (40x30, 20 frames' anim.out || fail "the whole animation: $(cat anim.out)"; ok
size=$(stat -c %s anim20.gif)
head -c $((size / 2)) anim20.gif > half.gif
refused 'half.gif \(truncated: the GIF data stops before its trailer, after ([1-9]|1[0-9]) whole frames\)' \
  timeout 60 "$shmimg" publish --persist half.gif
# The end of the first image's data, from the blocks; cut 10 bytes into
# the second image.
second=$(python3 - anim20.gif <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
i = 13 + ((3 << ((d[10] & 7) + 1)) if d[10] & 0x80 else 0)
images = 0
while True:
    if d[i] == 0x21:
        i += 2
    elif d[i] == 0x2C:
        images += 1
        if images == 2:
            print(i + 10); break
        i += 10 + ((3 << ((d[i + 9] & 7) + 1)) if d[i + 9] & 0x80 else 0) + 1
    while d[i]:
        i += d[i] + 1
    i += 1
PY
)
head -c "$second" anim20.gif > first-only.gif
refused 'first-only.gif \(truncated: the GIF data stops before its trailer, after 1 whole frame\)' \
  timeout 60 "$shmimg" publish --persist first-only.gif
refused 'first-only.gif \(truncated: the GIF data stops before its trailer, after 1 whole frame\)' \
  timeout 60 "$shmimg" publish first-only.gif
[ ! -e "$SHMIMG_DIR/shmimg-anim" ] || fail "the animation's segment was left"
# A FIFO named like a GIF: the animation check opened it with fopen and
# waited for a writer for ever; refused as any FIFO is.
mkfifo fifo.gif
refused 'fifo.gif \(not a regular file\)' timeout 60 "$shmimg" publish --persist fifo.gif

# Bombs: 60000 x 60000 declared in a few bytes. PNG, GIF and XPM are
# refused from their header; TGA and SVG by the allocation ceiling.
for b in png gif xpm; do
  refused "bomb.$b: image of 60000x60000 pixels is over the limit of 268435456 pixels \(SHMIMG_MAX_PIXELS\); refused before decoding" \
    "$shmimg" publish --persist "bomb.$b"
done
for b in tga svg; do
  refused "bomb.$b: image too large: .* refused before allocating" "$shmimg" publish --persist "bomb.$b"
done
for b in png gif xpm tga svg; do
  read -r status mb < <(peak_mb "$shmimg" publish --persist "bomb.$b")
  [ "$mb" -lt 100 ] || fail "bomb.$b took $mb MiB before being refused"; ok
done

# The limit is a setting.
SHMIMG_MAX_PIXELS=1000 refused 'over the limit of 1000 pixels' "$shmimg" publish --persist "$formats/sample.png"
SHMIMG_MAX_PIXELS=1000 refused 'over the limit of 1000 pixels' "$shmimg" publish --persist "$formats/sample.tga"
SHMIMG_MAX_PIXELS=100000 "$shmimg" publish --persist "$formats/sample.png" > /dev/null || fail "a 48x32 image under a 100000-pixel limit was refused"; ok

# The limit as a setting must parse: digits only, 1 to 1048576^2. The
# message names the setting, the value and the range. Exit status 1 or 2
# (the command line may take it as a usage error), never 0.
for v in -1 abc 0 1e6 ' 5' 1099511627777; do
  out=$(SHMIMG_MAX_PIXELS=$v "$shmimg" publish --persist "$formats/sample.png" 2>&1); status=$?
  [ "$status" = 1 ] || [ "$status" = 2 ] || fail "SHMIMG_MAX_PIXELS='$v' exited $status: $out"
  grep -Fq "SHMIMG_MAX_PIXELS='$v' is not a whole number from 1 to 1099511627776" <<<"$out" ||
    fail "SHMIMG_MAX_PIXELS='$v' said '$out'"
  ok
done
SHMIMG_MAX_PIXELS=1099511627776 "$shmimg" publish --persist "$formats/sample.png" > /dev/null ||
  fail "the largest SHMIMG_MAX_PIXELS was refused"; ok

# Which limit a size breaks: per side (a segment's 1048576) or in all
# (SHMIMG_MAX_PIXELS); and decoders' own limits, refused before decoding,
# so that the decoder prints nothing (libpng would warn on stderr).
python3 - <<'EOF'
import struct, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
for w, h in ((1048577, 1), (1048576, 1), (1000001, 1), (1, 1000001), (1000000, 1)):
    raw = (b'\0' + bytes((w + 7) // 8)) * h   # 1-bit grey, all black
    open(f'wide{w}x{h}.png', 'wb').write(b'\x89PNG\r\n\x1a\n' +
        chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0)) +
        chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))
EOF
refused 'wide1048577x1.png: image of 1048577x1 pixels is over the limit of 1048576 pixels per side' \
  "$shmimg" publish --persist wide1048577x1.png
for f in wide1048576x1 wide1000001x1 wide1x1000001; do
  refused "$f.png: image of .* pixels is over libpng's read limit of 1000000 pixels per side; refused before decoding" \
    "$shmimg" publish --persist "$f.png"
  ! grep -q '^libpng' err.txt || fail "libpng printed: $(cat err.txt)"
done
# JPEG: libjpeg reads up to 65500 pixels a side (the format holds 65535).
python3 - "$formats/sample.jpg" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = 2
while d[i + 1] not in (0xC0, 0xC1, 0xC2):
    i += 2 + (d[i + 2] << 8 | d[i + 3])
d[i + 7:i + 9] = (65501).to_bytes(2, 'big')   # the frame's width
open('wide65501.jpg', 'wb').write(d)
EOF
refused "wide65501.jpg: image of 65501x32 pixels is over libjpeg's read limit of 65500 pixels per side" \
  "$shmimg" publish --persist wide65501.jpg
"$shmimg" publish --persist wide1000000x1.png > /dev/null || fail "a 1000000x1 PNG was refused"; ok
"$shmimg" publish --persist "$formats/sample.png" > /dev/null || fail "cannot publish the sample again"

# A very large valid image: 16384 x 16384 (1 GiB of RGBA), exact.
read -r status mb < <(peak_mb "$shmimg" publish --persist large.png)
[ "$status" = 0 ] || fail "16384x16384 refused: $(cat err.txt)"
"$shmimg" info | grep -q 'image      16384x16384 pixels' || fail "info of the large image"; ok
"$shmimg" pull -o large.bmp > /dev/null || fail "pull of the large image"
"$imgcmp" large.bmp large.png || fail "the large image came back different"; ok
echo "16384x16384 published (peak ${mb} MiB) and pulled back exact"
"$shmimg" rm
echo "image files: $checks checks passed"
