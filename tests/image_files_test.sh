#!/usr/bin/env bash
# image_files_test.sh - image files that must not hurt: an unreadable file
# (read by another uid), a truncated JPEG, decompression bombs in five
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
export SHMIMG_DIR=$(mktemp -d /dev/shm/shmimg-files.XXXXXX)
work=$(mktemp -d)
trap 'rm -rf "$SHMIMG_DIR" "$work"' EXIT
chmod 755 "$work"
cd "$work"
checks=0
fail() { echo "FAIL (line ${BASH_LINENO[0]}): $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); }
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
