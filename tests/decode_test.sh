#!/usr/bin/env bash
# decode_test.sh - what shmimg publishes is what the file holds: every
# valid PngSuite image, every sample in tests/formats, and variants made
# here with ImageMagick (CMYK and YCCK JPEG, CMYK, 16-bit, grey and
# grey+alpha TIFF, TIFF with straight and with premultiplied alpha, tiled,
# planar and compressed, grey+alpha and 16-bit PNG, WEBP and GIF with
# alpha...)
# go through publish + pull, and the RGBA pulled is compared with what an
# independent decoder, ImageMagick, reads from the file. Catches a decoder
# (or our use of it) that silently misreads a variant: SDL_image 2.6 gives
# CMYK JPEGs as raw C,M,Y,K bytes labelled B,G,R,A, for instance.
# RGB is ignored where both sides are fully transparent. The tolerance is
# 0 levels per channel unless a case below says why it is more.
# Usage: decode_test.sh SHMIMG PNGSUITE_DIR FORMATS_DIR
set -u
shmimg=$(realpath "$1") suite=$(realpath "$2") formats=$(realpath "$3")
source "$(dirname "$(realpath "$0")")/preamble.sh"
mkdir gen raw
start=$SECONDS

# check FILE TOLERANCE [IM_OPTIONS...]: publishes FILE, pulls it, and
# writes both RGBA buffers (ours, and ImageMagick's reading of FILE with
# IM_OPTIONS applied) to raw/ for the comparison at the end. TOLERANCE is
# in levels per channel; "pmN" compares colours premultiplied by alpha
# (what is seen over a background), N levels apart at most.
n=0
check() {
  local file=$1 tol=$2; shift 2
  case $file in
    # ImageMagick takes a gAMA of 1.0 (most of the PngSuite) to mean
    # linear RGB and converts to sRGB on output; SDL_image, like libpng by
    # default, ignores gAMA: the segment holds the file's samples.
    *.png) set -- -set colorspace sRGB "$@" ;;
    # ImageMagick 6.9.11 reads every TGA top row first, ignoring the
    # descriptor's origin bit (and writes its own TGAs top row first but
    # flagged bottom-up); SDL_image follows the bit, as the spec says.
    *.tga) [ $(( $(od -An -tu1 -j17 -N1 "$file") & 32 )) = 0 ] && set -- -flip "$@" ;;
  esac
  n=$((n + 1))
  "$shmimg" publish --key d --persist "$file" > /dev/null 2> err.txt ||
    fail "$file: publish failed: $(cat err.txt)"
  "$shmimg" pull --key d -o out.png > /dev/null 2> err.txt ||
    fail "$file: pull failed: $(cat err.txt)"
  # One ImageMagick run for both sides; -print gives each side's size.
  local sizes
  sizes=$(convert "$file[0]" "$@" -depth 8 -print '%w %h ' -write "RGBA:raw/$n.ref" +delete \
    out.png -depth 8 -print '%w %h' "RGBA:raw/$n.got" 2> err.txt) ||
    fail "$file: ImageMagick cannot read it: $(cat err.txt)"
  echo "$n $tol $sizes $file" >> manifest
}

# refused FILE PATTERN: publish refuses FILE, saying PATTERN (grep -E).
refused() {
  n=$((n + 1))
  ! "$shmimg" publish --key d --persist "$1" > /dev/null 2> err.txt ||
    fail "$1 was published; wanted a refusal"
  grep -Eq -- "$2" err.txt || fail "$1: said '$(cat err.txt)', wanted /$2/"
  refusals=$((refusals + 1))
}
refusals=0

# PngSuite, the valid files (x*.png are the corrupt ones). 16-bit samples:
# SDL_image keeps libpng's high byte (png_set_strip_16), ImageMagick
# rounds (v * 255 / 65535): 1 level apart at most.
for f in "$suite"/[!x]*.png; do
  case $f in *16.png) check "$f" 1 ;; *) check "$f" 0 ;; esac
done

# The format samples. JPEG: SDL_image decodes with libjpeg's fast integer
# DCT and no fancy upsampling, ImageMagick with the slow one and fancy
# upsampling: a lossy format decoded two legitimate ways, a few levels apart.
# SVG and QOI: ImageMagick 6 here reads neither (no SVG delegate, no QOI
# coder); test_roundtrip checks them against IMG_Load.
for f in "$formats"/*.*; do
  case $f in
    *.md|*.qoi|*.svg) ;;
    # Two hand-made 4-component JPEGs (8x6, one colour a column: white,
    # red, green, blue, black, grey, two mixes), both Adobe-inverted CMYK
    # (APP14 transform 0; ImageMagick writes YCCK, made below), and plain
    # CMYK without an Adobe marker, samples = ink. ImageMagick reads every
    # CMYK JPEG as inverted, so it needs -negate for the plain one.
    *cmyk-plain.jpg) check "$f" 8 -negate ;;
    *.jpg) check "$f" 8 ;;
    *.tif) check "$f" 0 ;;     # straight alpha, read as stored: see below
    # KNOWN, not corrected: SDL_image 2.6 sets alpha to 255 wherever a
    # 32-bit icon's AND mask says opaque, losing partial alpha (217 becomes
    # 255 here). The rest of the icon is checked.
    *.ico) check "$f" 0 -channel A -threshold 0 +channel ;;
    *) check "$f" 0 ;;
  esac
done

# Variants made here from the sample (48x32 RGBA with some transparency).
src=$formats/sample.png
im() { local out=$1; shift; convert "$src" "$@" "gen/$out" 2> err.txt || fail "cannot make $out: $(cat err.txt)"; }
im cmyk-ycck.jpg -colorspace CMYK -quality 95     # Adobe APP14, transform 2
im grey.jpg -colorspace Gray -quality 95
im prog.jpg -interlace Plane -quality 95
im cmyk.tif -colorspace CMYK -alpha off
im grey.tif -colorspace Gray -alpha off
im grey-alpha.tif -colorspace Gray
im rgb16.tif -depth 16
im rgba.tif
# Straight (unassociated) alpha, as ImageMagick writes it, down to alpha 5:
# read exactly as stored, in every layout libtiff has (strips, tiles,
# separate planes, compressed). SDL_image's reader premultiplied the colour
# and shmimg divided it out again, up to 14 levels off where alpha is low
# (issue 16, row 14).
grad() { convert -size 64x64 gradient:'rgba(250,130,7,0.02)'-'rgba(3,200,90,1)' \
  -depth 8 "$@" 2> err.txt || fail "cannot make $*: $(cat err.txt)"; }
grad gen/straight-lowalpha.tif
grad -define tiff:tile-geometry=16x16 gen/straight-tiled.tif
grad -interlace Plane gen/straight-planar.tif
grad -compress zip gen/straight-zip.tif
grad -compress none -define tiff:rows-per-strip=7 gen/straight-strips.tif
grad -colorspace Gray gen/straight-grey-alpha.tif
# Associated (premultiplied) alpha, as the file stores it: divided out,
# within what the file's own rounding kept.
grad -define tiff:alpha=associated gen/premultiplied-lowalpha.tif
im premultiplied.tif -define tiff:alpha=associated
im grey16.tif -colorspace Gray -alpha off -depth 16
im palette.tif -alpha off -type Palette
im grey-alpha.png -colorspace Gray -define png:color-type=4
im grey-alpha16.png -colorspace Gray -depth 16 -define png:color-type=4
im rgba16.png -depth 16
im palette-trns.png -colors 64 -define png:format=png8
im lossless.webp -define webp:lossless=true
im lossy.webp -define webp:lossless=false -quality 90
im transparent.gif
im rgba.tga
im rgba.bmp
im rgb.bmp -alpha off -type TrueColor
for f in gen/*; do
  case $f in
    # A file with premultiplied colour lost precision where alpha is
    # small when it was written; shmimg divides it out, which cannot
    # bring that back: compared premultiplied.
    *premultiplied*.tif) check "$f" pm1 ;;
    *16.*) check "$f" 1 ;;   # 16 -> 8 bits, as for the PngSuite
    # libtiff scales the 16-bit colour map down by truncating, ImageMagick
    # by rounding.
    *palette.tif) check "$f" 1 ;;
    # libtiff converts CMYK to RGB truncating, ImageMagick rounding.
    *cmyk.tif) check "$f" 1 ;;
    *.jpg|*lossy.webp) check "$f" 8 ;;
    *) check "$f" 0 ;;
  esac
done

# 16-bit PNM (maxval over 255): SDL_image 2.6 refuses it, and says so.
convert "$src" -colorspace Gray -alpha off -depth 16 gen/grey16.pgm
convert "$src" -alpha off -depth 16 gen/rgb16.ppm
for f in gen/grey16.pgm gen/rgb16.ppm; do
  refused "$f" "not an image: $f \\(SDL_image cannot decode it: unsupported PNM format\\)"
done
# CMYK TIFF with alpha: libtiff's RGBA reader drops the alpha, and there
# is nothing to put it back from: refused.
convert "$src" -colorspace CMYK -alpha on gen/cmyka.tif
refused gen/cmyka.tif "not an image: gen/cmyka.tif \\(a CMYK TIFF with alpha: libtiff's RGBA reader drops the alpha\\)"

# Compare everything in one go.
python3 - manifest <<'EOF' || exit 1
import sys
bad = 0
for line in open(sys.argv[1]):
    n, tol, rw, rh, gw, gh, name = line.split(None, 6)
    name = name.strip()
    if (rw, rh) != (gw, gh):
        print(f"FAIL {name}: pulled {gw}x{gh}, the file is {rw}x{rh}")
        bad += 1
        continue
    ref = open(f"raw/{n}.ref", "rb").read()
    got = open(f"raw/{n}.got", "rb").read()
    pm = tol.startswith("pm")
    tol = int(tol[2:] if pm else tol)
    worst, at = 0, None
    for i in range(0, len(ref), 4):
        r, g = ref[i:i + 4], got[i:i + 4]
        if r == g or (r[3] == 0 and g[3] == 0):
            continue
        if pm:
            d = max(max(abs(a * r[3] - b * g[3]) / 255
                        for a, b in zip(r[:3], g[:3])), abs(r[3] - g[3]))
        else:
            d = max(abs(a - b) for a, b in zip(r, g))
        if d > worst:
            worst, at = d, (i // 4, tuple(r), tuple(g))
    if worst > tol:
        x, y = at[0] % int(rw), at[0] // int(rw)
        print(f"FAIL {name}: pixel ({x},{y}) is RGBA {at[2]}, ImageMagick "
              f"reads {at[1]}: {worst:.0f} levels apart, tolerance {tol}")
        bad += 1
print(f"decode: {sum(1 for _ in open(sys.argv[1]))} files compared with "
      f"ImageMagick, {bad} differ beyond their tolerance")
sys.exit(1 if bad else 0)
EOF
echo "decode: $refusals refused as expected; done in $((SECONDS - start)) s"
