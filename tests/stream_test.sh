#!/usr/bin/env bash
# stream_test.sh - shmimg as a stream endpoint, with real clients: ffmpeg
# writes raw frames into 'publish --raw' while followers record them, and
# 'pull --follow --raw' feeds ffmpeg, which records a video. Every frame is
# compared by MD5 with ffmpeg's own framemd5 of the same source. Then bad
# input: wrong sizes, streams cut mid-frame, readers that go away.
# Usage: stream_test.sh SHMIMG PNGSUITE_DIR
set -u
shmimg=$(realpath "$1") suite=$(realpath "$2")
source "$(dirname "$(realpath "$0")")/preamble.sh"
extra_cleanup='umount "$work/small" "$work/tiny" 2>/dev/null'
expect() {
  local want=$1 pattern=$2; shift 3
  local out status
  out=$("$@" 2>&1); status=$?
  [ "$status" = "$want" ] || fail "'$*' exited $status, wanted $want: $out"
  [ -z "$pattern" ] || grep -Eq -- "$pattern" <<<"$out" ||
    fail "'$*' printed '$out', wanted /$pattern/"
  ok
}
wait_for_file() {
  for _ in $(seq 1200); do [ -e "$1" ] && return 0; sleep 0.05; done
  fail "$1 never appeared"
}
# wait_open PID NAME: process PID, once it runs shmimg (before its exec it
# is a shell with the shell's files), has a file whose name ends in NAME
# open.
wait_open() {
  for _ in $(seq 1200); do
    [ "$(readlink /proc/$1/exe)" = "$shmimg" ] &&
      ls -l /proc/$1/fd 2>/dev/null | grep -q "$2\$" && return 0
    sleep 0.05
  done
  fail "process $1 never opened $2"
}
# A reader has the segment of key $2 open (it holds no slot to count).
wait_attached() { wait_open "$1" "shmimg-$2"; }
# A reader that came first says it waits (it makes no segment).
wait_waiting() {
  for _ in $(seq 1200); do grep -q 'waiting for a publisher' "$1" 2>/dev/null && return 0; sleep 0.05; done
  fail "$1: no 'waiting for a publisher': $(cat "$1")"
}
# Nothing left in SHMIMG_DIR: no segment (unless named), no temporary.
expect_clean() {
  local left; left=$(ls -A "$SHMIMG_DIR" | grep -v -x -F "${1:-}")
  [ -z "$left" ] || fail "left in SHMIMG_DIR: $left"
  ok
}
# framemd5 SOURCE_ARGS...: one MD5 per frame, as ffmpeg computes it.
framemd5() {
  ffmpeg -loglevel error "$@" -pix_fmt rgba -f framemd5 - | grep -v '^#' |
    awk -F, '{gsub(/ /, "", $6); print $6}'
}
# raw_md5s FILE W H: one MD5 per W*H*4-byte frame of a raw file.
raw_md5s() {
  python3 - "$@" <<'EOF'
import hashlib, sys
data = open(sys.argv[1], 'rb').read()
n = int(sys.argv[2]) * int(sys.argv[3]) * 4
if len(data) % n:
    print('PARTIAL', len(data) % n)
for i in range(0, len(data) - len(data) % n, n):
    print(hashlib.md5(data[i:i + n]).hexdigest())
EOF
}
# in_order_subset GOT WANT: every line of GOT is a line of WANT, in WANT's
# order, without repeats. Prints how many of WANT are missing.
in_order_subset() {
  python3 - "$1" "$2" <<'EOF'
import sys
got = open(sys.argv[1]).read().split()
want = open(sys.argv[2]).read().split()
if any(g == 'PARTIAL' for g in got):
    sys.exit('a partial frame')
where = [want.index(g) if g in want else -1 for g in got]
if -1 in where:
    sys.exit('frame %d is no frame of the source' % where.index(-1))
if where != sorted(set(where)):
    sys.exit('frames out of order or repeated: %s' % where)
print(len(want) - len(got))
EOF
}

src=(-f lavfi -i testsrc2=size=640x360:rate=30 -frames:v 90)
framemd5 "${src[@]}" > source.md5
[ "$(wc -l < source.md5)" = 90 ] || fail "ffmpeg gave $(wc -l < source.md5) frame MD5s"

# ---- ffmpeg -> publish --raw, two followers started first ----------------
"$shmimg" pull --key cam --follow --raw -o - > f1.raw 2> f1.err & f1=$!
"$shmimg" pull --key cam --follow --raw -o f2.raw 2> f2.err & f2=$!
wait_waiting f1.err; wait_waiting f2.err
ffmpeg -loglevel error "${src[@]}" -pix_fmt rgba -f rawvideo - |
  "$shmimg" publish --key cam --raw 640x360 --persist - > pub.out 2>&1
[ $? = 0 ] || fail "publish --raw: $(cat pub.out)"
grep -q 'End of standard input after 90 frames' pub.out || fail "$(cat pub.out)"
ok
"$shmimg" rm --key cam > /dev/null    # the followers end with it
wait $f1 || fail "follower 1 exited $?: $(cat f1.err)"
wait $f2 || fail "follower 2 exited $?: $(cat f2.err)"
for f in f1 f2; do
  raw_md5s $f.raw 640 360 > $f.md5
  skipped=$(in_order_subset $f.md5 source.md5) || fail "$f: $skipped"
  # (One frame is "1 frame": a follower that a loaded machine let attach
  # only after the publisher had sent all 90 writes just the newest.)
  grep -Eq "followed key cam: $(wc -l < $f.md5) frames? written \(frames [0-9]+ to 90\), [0-9]+ skipped; the segment was removed" $f.err ||
    fail "$f's summary: $(cat $f.err)"
  echo "follower $f: $(wc -l < $f.md5) of 90 frames, every one whole and in order; $skipped not received (its summary: $(sed 's/^shmimg: //' $f.err))"
  ok
done
expect_clean

# ---- pull --follow --raw | ffmpeg: record a live segment ----------------
ffmpeg -loglevel error -f lavfi -i testsrc2=size=320x240:rate=30 -frames:v 45 \
  -pix_fmt rgba -f rawvideo clip.raw
framemd5 -f rawvideo -pixel_format rgba -video_size 320x240 -i clip.raw > clip.md5
( "$shmimg" pull --key rec --follow --raw -o - 2> rec.err |
  ffmpeg -loglevel error -f rawvideo -pixel_format rgba -video_size 320x240 \
    -framerate 30 -i - -c:v ffv1 -y rec.mkv ) & recorder=$!
wait_waiting rec.err
"$shmimg" publish --key rec --raw 320x240 --fps 15 clip.raw > pubrec.out 2>&1 & pub=$!
for _ in $(seq 1200); do grep -q 'End of clip.raw' pubrec.out && break; sleep 0.05; done
grep -q 'End of clip.raw after 45 frames' pubrec.out || fail "$(cat pubrec.out)"
kill -TERM $pub; wait $pub || fail "publisher exited $? after SIGTERM"
wait $recorder || fail "recorder exited $?: $(cat rec.err)"
count=$(ffprobe -v error -count_frames -select_streams v:0 \
  -show_entries stream=nb_read_frames -of csv=p=0 rec.mkv)
framemd5 -i rec.mkv > rec.md5
skipped=$(in_order_subset rec.md5 clip.md5) || fail "recording: $skipped"
# A best-effort follower (layout 2) may skip frames on a busy machine; what
# it writes is whole, in order, the source's, and its summary says so: it
# counts what was written and what was skipped, through the last frame.
[ "$count" = "$(wc -l < rec.md5)" ] || fail "ffprobe counted $count frames, framemd5 $(wc -l < rec.md5)"
summary='followed key rec: ([0-9]+) frames? written \(frames ([0-9]+) to 45\), ([0-9]+) skipped; the segment was removed'
[[ "$(cat rec.err)" =~ $summary ]] || fail "recorder's summary: $(cat rec.err)"
[ "${BASH_REMATCH[1]}" = "$count" ] &&
  [ $((BASH_REMATCH[1] + BASH_REMATCH[3])) = $((45 - BASH_REMATCH[2] + 1)) ] &&
  [ $((45 - count)) = "$skipped" ] ||
  fail "recorded $count frames, $skipped of 45 missing; the summary disagrees: $(cat rec.err)"
echo "recorded a live segment with ffmpeg: $count of 45 frames, every one equal to the source, in order; $skipped skipped"
ok
expect_clean

# ---- numbered images ------------------------------------------------------
"$shmimg" publish --key img --raw 320x240 --persist clip.raw > /dev/null 2>&1 ||
  fail "publish clip"
expect 0 'followed key img: 1 frame written \(frames 45 to 45\), 0 skipped' -- \
  "$shmimg" pull --key img --follow --frames 1 -o 'still-%03d.png'
[ -f still-001.png ] || fail "no still-001.png"
python3 -c '
import sys, zlib, struct
d = open("still-001.png", "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (320, 240), (w, h)' || fail "still-001.png is not a 320x240 PNG"
ok
expect 2 'one frame number in it' -- "$shmimg" pull --key img --follow -o still.png
expect 2 'the only conversion allowed is one integer' -- "$shmimg" pull --key img --follow -o 'a-%s.png'
expect 2 'cannot tell the image format' -- "$shmimg" pull --key img --follow -o 'a-%d.gif'
"$shmimg" rm --key img > /dev/null

# ---- bad input: sizes ------------------------------------------------------
expect 2 'needs WIDTHxHEIGHT' -- "$shmimg" publish --key bad --raw 0x360 clip.raw
expect 2 'needs WIDTHxHEIGHT' -- "$shmimg" publish --key bad --raw 640x -
expect 2 'needs WIDTHxHEIGHT' -- "$shmimg" publish --key bad --raw ' 640x360' -
expect 2 'at most 1048576 pixels a side' -- "$shmimg" publish --key bad --raw 1048577x1 -
expect 2 'over the limit of 268435456 \(SHMIMG_MAX_PIXELS\)' -- \
  "$shmimg" publish --key bad --raw 1048576x1048576 -
# A frame the memory cannot hold: with 400 MB of address space, a
# 16384x16384 frame (1 GiB) cannot be allocated, and says so. (Not under
# AddressSanitizer or ThreadSanitizer, which reserve terabytes of address
# space at start.)
if ldd "$shmimg" | grep -q 'libasan\|libtsan'; then
  echo "skipped under a sanitizer: the ulimit -v check"
else
  expect 1 'cannot allocate a 16384x16384 frame' -- \
    bash -c "ulimit -v 400000; exec '$shmimg' publish --key bad --raw 16384x16384 clip.raw"
fi
expect 2 '--fps needs frames per second' -- "$shmimg" publish --key bad --raw 2x2 --fps 0 -
expect 2 '--fps paces raw frames' -- "$shmimg" publish --key bad --fps 30 clip.raw
expect 2 '--raw goes with --follow' -- "$shmimg" pull --key bad --raw
expect 2 '--frames needs a whole number' -- "$shmimg" pull --key bad --follow --frames 0 -o -
expect_clean
# A size that does not match the stream: the end is cut mid-frame.
expect 1 'clip.raw ended 307200 bytes into frame 12; a 640x480 RGBA frame is 1228800 bytes; that frame was not published' -- \
  "$shmimg" publish --key bad --raw 640x480 clip.raw
expect 1 'standard input ended 100 bytes into frame 1' -- \
  bash -c "head -c 100 clip.raw | '$shmimg' publish --key bad --raw 320x240 -"
expect 1 'no frame came' -- "$shmimg" publish --key bad --raw 320x240 /dev/null
expect_clean
# Cut after 3 whole frames: the third stays, whole.
head -c $((320 * 240 * 4 * 3 + 1000)) clip.raw > cut.raw
expect 1 'cut.raw ended 1000 bytes into frame 4.*not published \(the previous one stays as it was\)' -- \
  "$shmimg" publish --key cut --raw 320x240 --persist cut.raw
"$shmimg" pull --key cut --follow --raw --frames 1 -o third.raw 2>/dev/null || fail "pull third"
[ "$(raw_md5s third.raw 320 240)" = "$(sed -n 3p clip.md5)" ] || fail "the third frame is not intact"
ok
"$shmimg" rm --key cut > /dev/null
# Without --persist a failed stream leaves no segment behind.
expect 1 'cut.raw ended 1000 bytes into frame 4' -- \
  "$shmimg" publish --key cut2 --raw 320x240 cut.raw
expect_clean

# ---- readers that go away, size changes, signals --------------------------
"$shmimg" publish --key live --raw 320x240 --persist clip.raw > /dev/null 2>&1
"$shmimg" pull --key live --follow --raw -o - 2> gone.err | head -c 1000 > /dev/null
st=${PIPESTATUS[0]}
[ "$st" = 0 ] || fail "a follower whose reader left exited $st: $(cat gone.err)"
grep -q 'the reader of the output went away' gone.err || fail "$(cat gone.err)"
! grep -qi 'broken pipe\|error' gone.err || fail "noisy: $(cat gone.err)"
ok
# The size changes mid-stream: a raw follower stops, naming both sizes.
"$shmimg" pull --key live --follow --raw -o sized.raw 2> sized.err & fol=$!
wait_attached $fol live; sleep 0.3
"$shmimg" publish --key live --persist "$suite/basn6a08.png" > /dev/null
wait $fol; st=$?
[ "$st" = 1 ] || fail "size change: exit $st: $(cat sized.err)"
grep -q 'the frame size changed from 320x240 to 32x32' sized.err || fail "$(cat sized.err)"
ok
[ ! -e sized.raw ] || fail "a failed raw follow left sized.raw"
ok
"$shmimg" rm --key live > /dev/null
# SIGTERM and SIGINT end a follower with exit 0 and its summary.
for sig in TERM INT; do
  "$shmimg" pull --key sig --follow --raw -o sig.raw 2> sig.err & fol=$!
  wait_waiting sig.err
  kill -$sig $fol; wait $fol; st=$?
  [ "$st" = 0 ] || fail "SIG$sig: exit $st: $(cat sig.err)"
  grep -q 'followed key sig: 0 frames written' sig.err || fail "$(cat sig.err)"
  ok
  expect_clean   # a follower makes no segment
done
# A signal ends a raw publisher that waits on a FIFO nobody writes.
mkfifo quiet.fifo
# (The input is opened after the quit signals are held: a signal sent
# before, by a loaded machine's clock, would meet their default action.)
"$shmimg" publish --key fifo --raw 320x240 quiet.fifo > fifo.out 2>&1 & pub=$!
wait_open $pub quiet.fifo; kill -INT $pub; wait $pub; st=$?
[ "$st" = 0 ] || fail "publisher on a silent FIFO: exit $st $(cat fifo.out)"
ok
exec 7<>quiet.fifo   # a writer that never writes: the reader waits in poll
"$shmimg" publish --key fifo --raw 320x240 quiet.fifo > fifo.out 2>&1 7>&- & pub=$!
wait_open $pub quiet.fifo; kill -TERM $pub; wait $pub; st=$?
exec 7>&-
[ "$st" = 0 ] || fail "publisher on a stalled FIFO: exit $st $(cat fifo.out)"
ok
expect_clean

# ---- found by a hostile review ---------------------------------------------
# A follower whose raw output is a FIFO nobody opens ends on SIGINT, exit 0.
mkfifo out.fifo
"$shmimg" publish --key ff --persist "$suite/basn6a08.png" > /dev/null
"$shmimg" pull --key ff --follow --raw -o out.fifo 2> ff.err & fol=$!
wait_attached $fol ff; sleep 0.3
kill -INT $fol; wait $fol; st=$?
[ "$st" = 0 ] && grep -q 'followed key ff: 0 frames written' ff.err ||
  fail "a follower opening a silent FIFO: exit $st: $(cat ff.err)"; ok
"$shmimg" rm --key ff > /dev/null
expect_clean
# The summary counts what was written, not the frame that stopped it.
"$shmimg" publish --key sz --persist --raw 320x240 clip.raw > /dev/null 2>&1
"$shmimg" pull --key sz --follow --raw -o /dev/null 2> sz.err & fol=$!
wait_attached $fol sz; sleep 0.3
"$shmimg" publish --key sz --persist "$suite/basn6a08.png" > /dev/null
wait $fol
grep -q 'followed key sz: 1 frame written (frames 45 to 45), 0 skipped' sz.err ||
  fail "summary after a size change: $(cat sz.err)"; ok
"$shmimg" rm --key sz > /dev/null
# A raw output file that could not be finished is discarded, and said so.
mkdir small && mount -t tmpfs -o size=1m tmpfs small 2>/dev/null && mounted=1 || mounted=0
if [ $mounted = 1 ]; then
  echo old > small/r.raw
  head -c 600000 /dev/zero > small/filler 2>/dev/null # room for 1 frame of 3
  "$shmimg" pull --key full --follow --raw --frames 3 -o small/r.raw 2> full.err >/dev/null &
  fol=$!
  wait_waiting full.err
  "$shmimg" publish --key full --raw 320x240 --fps 30 clip.raw > /dev/null 2>&1 & pub=$!
  wait $fol; st=$?
  kill -TERM $pub; wait $pub
  [ "$st" = 1 ] && grep -q 'none kept: the output was left as it was' full.err &&
    [ "$(cat small/r.raw)" = old ] ||
    fail "a raw follow onto a full disk: exit $st: $(cat full.err)"; ok
  umount small
else
  echo "skipped: cannot mount a tmpfs here (not root?)"
fi
# A --persist stream whose first frame does not fit leaves nothing.
mkdir tiny && mount -t tmpfs -o size=1m tmpfs tiny 2>/dev/null && mounted=1 || mounted=0
if [ $mounted = 1 ]; then
  head -c $((600 * 600 * 4)) /dev/zero > big.raw
  SHMIMG_DIR=$PWD/tiny "$shmimg" publish --key s6 --persist --raw 600x600 big.raw > s6.err 2>&1
  [ $? = 1 ] && grep -q 'no space left' s6.err && [ -z "$(ls -A tiny)" ] ||
    fail "a failed first frame left: $(ls -A tiny) $(cat s6.err)"; ok
  umount tiny
fi
# A usage error names the word a file name starting with '-' is, and
# prints each form of the command on a line of its own.
expect 2 "unknown option -x.raw \(a file whose name starts with '-'" -- \
  "$shmimg" publish --raw 320x240 -x.raw
out=$("$shmimg" pull --follow --frames 0 -o - 2>&1)
! grep -q '\\n' <<<"$out" && [ "$(grep -c 'shmimg pull' <<<"$out")" = 2 ] ||
  fail "usage lines: $out"; ok
# A report stdout that is a closed pipe is said once, with its reason.
"$shmimg" publish --key pipe --persist --raw 320x240 --fps 60 clip.raw 2> pipe.err | true
"$shmimg" rm --key pipe > /dev/null
[ "$(grep -c 'cannot write to standard output' pipe.err)" = 1 ] &&
  grep -q 'Broken pipe' pipe.err || fail "closed stdout: $(cat pipe.err)"; ok
expect 2 '--fps needs frames per second, from 0.0166667 to 1000' -- \
  "$shmimg" publish --key bad --raw 2x2 --fps 0.000000001 -
expect_clean
echo "stream: $checks checks passed"
