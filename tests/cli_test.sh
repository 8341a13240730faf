#!/usr/bin/env bash
# cli_test.sh - the shmimg command line as a script would use it: exit
# statuses, messages, output formats, and the segment's lifetime across
# real processes (SIGTERM, SIGKILL, --persist, several users).
# Usage: cli_test.sh SHMIMG IMGCMP PNGSUITE_DIR
set -u
shmimg=$(realpath "$1") imgcmp=$(realpath "$2") suite=$(realpath "$3")
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
py=${SHMIMG_PYTHON:-python3}   # (ctest gives the one CMake found)
source "$(dirname "$(realpath "$0")")/preamble.sh"
# Only jobs still running: a PID already waited for may belong to another
# test's process by now. Their children too (--pair's windows).

# (What runs for every check uses bash builtins only: on a loaded machine
# each process started costs more than the check itself.)
# nap SECONDS: sleeps (a read that times out).
mkfifo nap.fifo; exec 8<> nap.fifo
nap() { read -r -t "$1" -u 8 _; :; }
# matches TEXT PATTERN: a line of TEXT matches PATTERN (extended regex).
matches() {
  local line
  while IFS= read -r line; do [[ $line =~ $2 ]] && return 0; done <<<"$1"
  return 1
}
# expect STATUS PATTERN -- CMD...: runs CMD, checks its exit status and
# that stdout+stderr contain PATTERN (an extended regex; '' for any).
expect() {
  local want=$1 pattern=$2; shift 3
  local out status
  out=$("$@" 2>&1); status=$?
  [ "$status" = "$want" ] || fail "'$*' exited $status, wanted $want: $out"
  [ -z "$pattern" ] || matches "$out" "$pattern" ||
    fail "'$*' printed '$out', wanted /$pattern/"
  ok
}
# Waits until FILE has a line that matches PATTERN (a process's banner).
wait_for_line() {
  for _ in {1..400}; do
    [ -e "$1" ] && matches "$(< "$1")" "$2" && return 0; nap 0.05
  done
  fail "no /$2/ in $1: $(cat "$1")"
}

rgba=$suite/basn6a08.png rgb=$suite/basn2c08.png pal=$suite/basn3p04.png

# ---- help, version, usage errors (exit 2) -------------------------------
expect 0 'shmimg publish' -- "$shmimg" --help
expect 0 '^shmimg [0-9]' -- "$shmimg" --version
expect 2 'missing IMAGE.*usage: shmimg publish' -- "$shmimg" publish
expect 2 'unknown option --bogus' -- "$shmimg" pull --bogus
expect 2 'option --key needs a value' -- "$shmimg" info --key
expect 2 "starts with '.'" -- "$shmimg" publish --key .x "$rgba"
expect 2 'key is 65 characters' -- "$shmimg" info --key "$(printf 'k%.0s' $(seq 65))"
expect 2 "has character 0x2f" -- "$shmimg" rm --key a/b
expect 2 '--wait needs a number of seconds' -- "$shmimg" pull --wait soon
expect 2 "cannot tell the format of 'out.gif'" -- "$shmimg" pull -o out.gif
expect 2 'unexpected argument' -- "$shmimg" list extra

# ---- nothing there yet ---------------------------------------------------
expect 1 "Unable to attach to shared memory segment. Load an image first.*'shmimg'" -- "$shmimg" pull
expect 1 "no segment for key 'nokey'" -- "$shmimg" info --key nokey
expect 1 "no segment for key 'nokey'" -- "$shmimg" rm --key nokey
# A file of ours that group or others may write is refused by every use
# but rm, which is how such a bad file goes.
printf 'not a segment' > "$SHMIMG_DIR/shmimg-open"; chmod 666 "$SHMIMG_DIR/shmimg-open"
expect 1 'writable by group or others \(mode 0666\); refusing it' -- "$shmimg" pull --key open
expect 0 '' -- "$shmimg" rm --key open
[ ! -e "$SHMIMG_DIR/shmimg-open" ] || fail "rm left a group-writable file of ours"; ok
expect 0 'no segments in' -- "$shmimg" list
expect 0 '^\[\]$' -- "$shmimg" list --json

# ---- bad images: clear message, nothing created --------------------------
printf 'hello' > text.png
expect 1 'not an image: text.png \(SDL_image cannot decode it: ' -- "$shmimg" publish --persist text.png
: > empty.png
expect 1 'not an image: empty.png \(empty: 0 bytes\)' -- "$shmimg" publish --persist empty.png
expect 1 'not an image: .* \(a directory\)' -- "$shmimg" publish --persist "$work"
expect 1 '^shmimg: nothere.png: cannot read it: No such file' -- "$shmimg" publish --persist nothere.png
[ ! -e "$SHMIMG_DIR/shmimg-shmimg" ] || fail "a failed publish created a segment"; ok

# ---- publish --persist, info, list, pull in every format, rm ------------
expect 0 'Published basn6a08.png \(32x32\) under key shmimg' -- "$shmimg" publish --persist "$rgba"
[ "$(stat -c %a "$SHMIMG_DIR/shmimg-shmimg")" = 600 ] || fail "segment mode is not 0600"; ok
expect 0 'image +32x32 pixels, RGBA8' -- "$shmimg" info
expect 0 'source +basn6a08.png' -- "$shmimg" info
expect 0 'state +complete, persistent' -- "$shmimg" info
expect 0 'layout +version 2, header 4096 bytes' -- "$shmimg" info
expect 0 'buffers +3 of 4096 bytes each' -- "$shmimg" info
expect 0 'buffer 0 newest, frame 1, 32x32' -- "$shmimg" info
expect 0 'buffer 1 empty' -- "$shmimg" info
expect 0 'frame +1 \(buffer 0\)' -- "$shmimg" info
"$shmimg" info --json > info.json || fail "info --json failed"
"$py" -c 'import json,sys; d=json.load(open("info.json")); assert d["width"]==32 and d["height"]==32 and d["source"]=="basn6a08.png" and d["persist"] and d["state"]=="complete", d
assert d["layout_version"]==2 and d["frame"]==1 and d["buffer_count"]==3 and d["buffer_stride"]==4096, d
assert [b["state"] for b in d["buffers"]]==["newest","empty","empty"] and d["buffers"][0]["frame"]==1, d' ||
  fail "info --json: $(cat info.json)"; ok
expect 0 'shmimg +[0-9]+ +32x32 .* persistent +complete \(basn6a08.png\)' -- "$shmimg" list
"$shmimg" list --json > list.json || fail "list --json failed"
"$py" -c 'import json; l=json.load(open("list.json")); assert len(l)==1 and l[0]["key"]=="shmimg" and l[0]["liveness"]=="persistent", l' ||
  fail "list --json: $(cat list.json)"; ok
expect 0 'Pulled basn6a08.png \(32x32\) from key shmimg into shmimg.png' -- "$shmimg" pull
expect 0 '' -- "$imgcmp" shmimg.png "$rgba"
expect 0 'into out.bmp' -- "$shmimg" pull -o out.bmp
expect 0 '' -- "$imgcmp" out.bmp "$rgba"
expect 0 'into out.jpg' -- "$shmimg" pull -o out.jpg
expect 0 '' -- "$imgcmp" --size out.jpg 32 32
[ "$(head -c 3 out.jpg | od -An -tx1 | tr -d ' ')" = ffd8ff ] || fail "out.jpg is not a JPEG"; ok
"$shmimg" pull -o - > stdout.png || fail "pull -o - failed"
expect 0 '' -- "$imgcmp" stdout.png "$rgba"
expect 0 'Published basn2c08.png' -- "$shmimg" publish --persist "$rgb"
expect 0 '' -- "$shmimg" pull -o rgb.png
expect 0 '' -- "$imgcmp" rgb.png "$rgb"
expect 1 'not an image' -- "$shmimg" publish --persist text.png
expect 0 '' -- "$shmimg" pull -o still.png
expect 0 '' -- "$imgcmp" still.png "$rgb"   # the failed publish changed nothing
expect 0 '' -- "$shmimg" rm
[ ! -e "$SHMIMG_DIR/shmimg-shmimg" ] || fail "rm left the file"; ok
expect 1 'Unable to attach' -- "$shmimg" pull

# ---- --persist never waits: of an animated GIF, its first frame ----------
"$py" "$here/anim_gif.py" anim.gif || fail "cannot write anim.gif"
expect 0 "Published anim.gif \(16x16, frame 1 of 3: it plays without --persist\) under key anim .*it stays until 'shmimg rm --key anim'" -- \
  timeout 20 "$shmimg" publish --key anim --persist anim.gif
expect 0 'state +complete, persistent' -- "$shmimg" info --key anim
expect 0 'frame +1 \(buffer 0\)' -- "$shmimg" info --key anim   # published once
"$shmimg" pull --key anim --follow --raw --frames 1 -o anim.raw 2> /dev/null || fail "pull anim"
[ "$(od -An -tx1 -N4 anim.raw | tr -d ' ')" = ff0000ff ] || fail "not the first frame (red): $(od -An -tx1 -N4 anim.raw)"; ok
expect 0 'animated GIF, the first frame' -- "$shmimg" --help
expect 0 '' -- "$shmimg" rm --key anim

# ---- lifetime: attached until SIGTERM, removed by the last one out ------
"$shmimg" publish --key live "$pal" > pub1.out 2>&1 & pub1=$!
wait_for_line pub1.out 'Published basn3p04.png'
[ -e "$SHMIMG_DIR/shmimg-live" ] || fail "no segment while attached"; ok
expect 0 'live +[0-9]+ +32x32 +[0-9]+ +1 alive' -- "$shmimg" list
expect 0 '' -- "$shmimg" pull --key live -o pal.png
expect 0 '' -- "$imgcmp" pal.png "$pal"
"$shmimg" publish --key live "$rgba" > pub2.out 2>&1 & pub2=$!
wait_for_line pub2.out 'Published basn6a08.png'
expect 0 'attached +2 processes' -- "$shmimg" info --key live
kill -TERM $pub1; wait $pub1; [ $? = 0 ] || fail "publish did not exit 0 on SIGTERM"; ok
[ -e "$SHMIMG_DIR/shmimg-live" ] || fail "segment removed while another process is attached"; ok
kill -INT $pub2; wait $pub2; [ $? = 0 ] || fail "publish did not exit 0 on SIGINT"; ok
grep -q 'removed' pub2.out || fail "the last one out did not say it removed the segment"; ok
[ ! -e "$SHMIMG_DIR/shmimg-live" ] || fail "last detach left the segment"; ok

# ---- after SIGKILL: stale, listed as such, reclaimed by the next publisher
"$shmimg" publish --key crash "$rgba" > pub3.out 2>&1 & pub3=$!
wait_for_line pub3.out 'Published'
kill -KILL $pub3; wait $pub3 2>/dev/null
[ -e "$SHMIMG_DIR/shmimg-crash" ] || fail "expected a stale segment after SIGKILL"; ok
expect 0 'crash .* 0 stale +complete' -- "$shmimg" list
# (Layout 1 unlinked a stale file and made a new one; layout 2 takes it
# over as it is, with a slot of its own: the stale frame is replaced by
# the new one, and the last owner out removes the file.)
"$shmimg" publish --key crash "$rgb" > pub4.out 2>&1 & pub4=$!
wait_for_line pub4.out 'Published basn2c08.png'
expect 0 'attached +1 process \(alive\)' -- "$shmimg" info --key crash
expect 0 'crash .* 1 alive +complete \(basn2c08.png\)' -- "$shmimg" list
kill -TERM $pub4; wait $pub4
[ ! -e "$SHMIMG_DIR/shmimg-crash" ] || fail "reclaimed segment not removed at last detach"; ok

# ---- pull --wait: a reader may come first and wait for the next image ----
# A reader never makes a segment: it says it waits for a publisher's.
"$shmimg" pull --key w --wait 20 -o waited.png > pull.out 2>&1 & puller=$!
wait_for_line pull.out 'no segment for key w in .* yet; waiting for a publisher'
[ ! -e "$SHMIMG_DIR/shmimg-w" ] || fail "a waiting reader made the segment"; ok
expect 1 'no segment for key' -- "$shmimg" pull --key w
expect 0 'Published' -- "$shmimg" publish --key w --persist "$pal"
wait $puller; [ $? = 0 ] || fail "pull --wait failed: $(cat pull.out)"; ok
expect 0 '' -- "$imgcmp" waited.png "$pal"
expect 1 'no new image within 0.3 s' -- "$shmimg" pull --key w --wait 0.3
expect 0 '' -- "$shmimg" rm --key w

# ==== the edges: careless scripts and hostile local users ================

# ---- closed standard streams: no file we open may take their numbers ----
for closed in '<&-' '>&-' '2>&-' '<&- >&- 2>&-'; do
  bash -c "\"$shmimg\" publish --key fd --persist \"$rgba\" $closed" ||
    fail "publish with $closed failed"
  expect 0 'state +complete' -- "$shmimg" info --key fd
  expect 0 '' -- "$shmimg" pull --key fd -o fd.png
  expect 0 '' -- "$imgcmp" fd.png "$rgba"
  # (Published once info shows its source: then SIGTERM.)
  bash -c "\"$shmimg\" publish --key fd \"$rgb\" $closed & p=\$!
    for _ in \$(seq 400); do \"$shmimg\" info --key fd 2>/dev/null | grep -q 'source  *basn2c08.png' && break; sleep 0.05; done
    kill -TERM \$p; wait \$p" || fail "attached publish with $closed failed"
  expect 0 'state +complete' -- "$shmimg" info --key fd
  expect 0 '' -- "$shmimg" rm --key fd
done
expect 1 'standard output is closed' -- bash -c "\"$shmimg\" pull --key none -o - >&-"

# ---- outputs: written whole or not at all --------------------------------
expect 0 '' -- "$shmimg" publish --key out --persist "$rgba"
# Noise, which no encoder can squeeze: a 200x200 image of it is over 64
# KiB as PNG, BMP or JPEG. For the full filesystem and the file size
# limit below; published here, outside the branch that may be skipped.
head -c $((200 * 200 * 4)) /dev/urandom > noise.rgba
expect 0 '' -- "$shmimg" publish --key noise --persist --raw 200x200 noise.rgba
mkdir full
if unshare -m true 2>/dev/null; then
  # A 64 KiB filesystem that the image fills: the old file must stay.
  cp "$rgb" full-old.png
  status=$(unshare -m bash -c "
    mount -t tmpfs -o size=64k tmpfs full || exit 99
    cp full-old.png full/out.png; cp full-old.png full/out.bmp
    head -c 40000 /dev/zero > full/filler
    for f in out.png out.bmp out.jpg; do
      \"$shmimg\" pull --key noise -o full/\$f > full.log 2>&1; echo \$? >> full.status
      cat full.log >> full.all
    done
    cmp full/out.png full-old.png && cmp full/out.bmp full-old.png || exit 98
    ls -A full | tr '\n' ' '")
  [ "$(tr '\n' ' ' < full.status)" = "1 1 1 " ] || fail "pull into a full filesystem: statuses $(cat full.status), $(cat full.all)"; ok
  grep -q 'No space left on device' full.all || fail "no reason given: $(cat full.all)"; ok
  [ "$status" = "filler out.bmp out.png " ] || fail "a full filesystem: old files changed or temporaries left: $status"; ok
  grep -q Pulled full.all && fail "said Pulled on a full filesystem"; ok
else
  echo "note: unshare -m is refused here; the full-filesystem check is skipped"
fi
expect 1 '/dev/full: .*No space left on device' -- "$shmimg" pull --key out -o /dev/full
expect 1 'No space left on device' -- bash -c "\"$shmimg\" pull --key out -o - > /dev/full"
"$py" - "$shmimg" <<'PY' || fail "pull -o - into a pipe nobody reads did not exit 1 quietly"
import os, subprocess, sys
r, w = os.pipe(); os.close(r)
p = subprocess.run([sys.argv[1], "pull", "--key", "out", "-o", "-"], stdout=w, stderr=subprocess.PIPE)
sys.exit(0 if p.returncode == 1 and p.stderr == b"" else 1)
PY
ok
# (ImageMagick's policy refuses 16K+ pixels a side: a PNG by hand.)
"$py" -c '
import struct, zlib
w, h = 65501, 1
raw = b"".join(b"\0" + b"\xff\0\0" * w for _ in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open("wide.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))'
expect 0 '' -- "$shmimg" publish --key wide --persist wide.png
expect 1 'JPEG.*65500' -- "$shmimg" pull --key wide -o wide.jpg
[ ! -e wide.jpg ] || fail "a refused JPEG left a file"; ok
expect 0 '' -- "$shmimg" rm --key wide
expect 0 '' -- "$shmimg" rm --key out
[ -z "$(ls -A | grep '\.shmimg-')" ] || fail "temporary files left: $(ls -A)"; ok

# ---- a publisher whose stdout reader went away stays attached -----------
"$py" - "$shmimg" "$rgba" <<'PY' > epipe.pid
import os, subprocess, sys
r, w = os.pipe(); os.close(r)
p = subprocess.Popen([sys.argv[1], "publish", "--key", "ep", sys.argv[2]], stdout=w, stderr=open("ep.err", "w"))
print(p.pid)
PY
for _ in {1..200}; do grep -q 'cannot write to standard output' ep.err && break; nap 0.05; done
grep -q 'Broken pipe (the command itself succeeded)' ep.err || fail "publish into a closed pipe: $(cat ep.err)"; ok
expect 0 'ep .* 1 alive +complete' -- "$shmimg" list
kill -TERM "$(cat epipe.pid)"
for _ in {1..200}; do [ -e "$SHMIMG_DIR/shmimg-ep" ] || break; nap 0.05; done
[ ! -e "$SHMIMG_DIR/shmimg-ep" ] || fail "publish | true left its segment"; ok

# (Every quit signal on pull --wait, publish and the rest: cli_signals.)
# A creator killed before it linked its file: the next creator or list
# removes the temporary file (its flock is gone with it).
: > "$SHMIMG_DIR/.shmimg-tmp.99999.deadbeef"
expect 0 '' -- "$shmimg" list
[ ! -e "$SHMIMG_DIR/.shmimg-tmp.99999.deadbeef" ] || fail "list left a dead creator's temporary file"; ok

# ---- waiters follow the key through rm ------------------------------------
"$shmimg" publish --key f "$rgba" > f.out 2>&1 & fp=$!
wait_for_line f.out Published
"$shmimg" pull --key f --wait 12 -o followed.png > fw.out 2>&1 & fw=$!
nap 0.3
expect 0 'Removed key f; 1 process still attached' -- "$shmimg" rm --key f
expect 0 '' -- "$shmimg" publish --key f --persist "$pal"
wait $fw; [ $? = 0 ] || fail "the waiter did not follow the key: $(cat fw.out)"; ok
expect 0 '' -- "$imgcmp" followed.png "$pal"
kill -TERM $fp; wait $fp
expect 0 '' -- "$shmimg" rm --key f

# ---- a file truncated under attached processes: a message, exit 1 -------
"$shmimg" publish --key cut "$rgba" > cut.out 2>&1 & cp=$!
wait_for_line cut.out Published
"$shmimg" pull --key cut --wait 20 -o cut.png > cutw.out 2>&1 & cw=$!
nap 0.3
truncate -s 0 "$SHMIMG_DIR/shmimg-cut"
wait $cw; [ $? = 1 ] || fail "a waiter on a truncated file: $(cat cutw.out)"; ok
grep -q 'truncated by another process' cutw.out || fail "waiter: $(cat cutw.out)"; ok
kill -TERM $cp; wait $cp; [ $? = 1 ] || fail "publish after its file was truncated: $(cat cut.out)"; ok
grep -q 'truncated by another process' cut.out || fail "publish: $(cat cut.out)"; ok
[ ! -e "$SHMIMG_DIR/shmimg-cut" ] || fail "the truncated file was left behind"; ok

# ---- untrusted names never reach a terminal or JSON raw -------------------
nasty=$(printf 'a\033]0;owned\007b\x7f\xc2\x85\xe2\x80\xae\ngpj\xff.png')
cp "$rgba" "$nasty"
expect 0 '' -- "$shmimg" publish --key esc --persist "$nasty"
for cmd in "publish --key esc2 --persist" "info --key esc" "list"; do
  # shellcheck disable=SC2086
  if [ "$cmd" = "publish --key esc2 --persist" ]; then out=$("$shmimg" $cmd "$nasty" 2>&1); else out=$("$shmimg" $cmd 2>&1); fi
  LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' <<<"$out" && fail "$cmd printed control bytes: $(od -c <<<"$out" | head)"
  grep -q '\\e\]0;owned\\x07b\\x7f\\u0085\\u202e\\ngpj\\xff.png' <<<"$out" || fail "$cmd: $out"; ok
done
[ "$("$shmimg" list | grep -c '^esc')" = 2 ] || fail "a newline split list rows"; ok
"$shmimg" info --key esc --json > esc.json && "$shmimg" list --json > escl.json || fail "json failed"
"$py" -c '
import json, sys
d = json.load(open("esc.json", encoding="utf-8"))
assert d["source"] == "a\x1b]0;owned\x07b\x7f\x85\u202e\ngpj\ufffd.png", repr(d["source"])
l = json.load(open("escl.json", encoding="utf-8"))
assert len([e for e in l if e["key"].startswith("esc")]) == 2' || fail "JSON: $(cat esc.json)"; ok
expect 2 "has character 0x1b" -- "$shmimg" info --key $'a\033[31mb'
out=$("$shmimg" info --key $'a\033[31mb' 2>&1)
LC_ALL=C grep -q $'\033' <<<"$out" && fail "a bad key was echoed raw"; ok
expect 0 '' -- "$shmimg" rm --key esc
expect 0 '' -- "$shmimg" rm --key esc2

# ---- third-party libraries' raw output stays off the terminal -----------
for f in "$suite"/x*.png; do
  out=$("$shmimg" publish --key raw --persist "$f" 2>&1)
  grep -v '^shmimg: ' <<<"$out" | grep -q . && fail "raw decoder output for $f: $out"
done; ok
expect 1 'not an image: .*xcrn0g04.png .*the decoder said: ' -- "$shmimg" publish --key raw --persist "$suite/xcrn0g04.png"
expect 0 '' -- "$shmimg" publish --key raw --persist "$suite/basn0g01.png"
expect 0 '' -- "$shmimg" rm --key raw

# ---- options: repeated, or an option where a value should be -------------
expect 2 'option --key given twice' -- "$shmimg" pull --key a --key b
expect 2 "option --key needs a value, got the option '--persist'" -- "$shmimg" publish --key --persist "$rgba"
expect 2 "option --output needs a value, got the option '--key'" -- "$shmimg" pull -o --key
expect 2 "option --wait given twice" -- "$shmimg" pull --wait 1 -w 2
expect 2 "needs a value, got the option '--live'" -- "$shmimg" --key --live
expect 2 "given twice" -- "$shmimg" --key a --key b
[ ! -e "$SHMIMG_DIR/shmimg-persist" ] || fail "--persist was taken as a key"; ok
# ---- a mistyped subcommand is a usage error, not an image -----------------
expect 2 "'pul' is not a command; did you mean 'pull'" -- "$shmimg" pul
expect 2 "'lsit' is not a command; did you mean 'list'" -- "$shmimg" lsit
expect 2 "'frobnicate' is neither a command" -- "$shmimg" frobnicate
# ---- settings that do not parse name themselves and their range ----------
for bad in abc 0 -1 1e6 99999999999999999999999; do
  expect 2 "SHMIMG_MAX_PIXELS='$bad' is not a whole number from 1 to" -- env SHMIMG_MAX_PIXELS=$bad "$shmimg" publish --key s "$rgba"
  expect 2 "SHMIMG_MAX_PIXELS='$bad'" -- env SHMIMG_MAX_PIXELS=$bad "$shmimg" --key s "$rgba"
done
expect 2 "SHMIMG_MESSAGE_MS='soon' is not a whole number" -- env SHMIMG_MESSAGE_MS=soon "$shmimg" --key s
[ ! -e "$SHMIMG_DIR/shmimg-s" ] || fail "a bad setting still published"; ok
expect 2 "segment directory /nonexistent/dir does not exist" -- env SHMIMG_DIR=/nonexistent/dir "$shmimg" pull
expect 2 "segment directory /nonexistent/dir does not exist" -- env SHMIMG_DIR=/nonexistent/dir "$shmimg" publish --persist "$rgba"
mkdir -p "$work/ondisk"
if [ "$(stat -f -c %T "$work/ondisk")" != tmpfs ]; then
  expect 0 'note: .* is on .*, not in memory \(tmpfs\)' -- env SHMIMG_DIR="$work/ondisk" "$shmimg" publish --persist "$rgba"
fi
expect 0 '' -- env SHMIMG_DIR="$work/ondisk" "$shmimg" rm

# ---- list says what it cannot judge, rather than "stale" ----------------
ln -s /etc/passwd "$SHMIMG_DIR/shmimg-sym"
mkfifo "$SHMIMG_DIR/shmimg-fifo"
printf 'garbage that is not a segment, long enough: %4096s' x > "$SHMIMG_DIR/shmimg-bad"; chmod 600 "$SHMIMG_DIR/shmimg-bad"
expect 0 'sym .* n/a +not-a-segment: .*symbolic link' -- "$shmimg" list
expect 0 'fifo .* n/a +not-a-segment: .*FIFO' -- "$shmimg" list
expect 1 "wrong magic.*'shmimg rm --key bad' removes it" -- "$shmimg" pull --key bad
if id nobody > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  chmod 1777 "$SHMIMG_DIR"; cp "$rgba" other.png; chmod 644 other.png; chmod 755 "$work"
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$shmimg" publish --key other other.png > other.out 2>&1 & op=$!
  wait_for_line other.out Published
  # (Layout 2's inspect reads another uid's file when its mode lets us,
  # as it does root: no longer "unknown, not-yours".)
  expect 0 'other .* 1 alive +complete \(other.png\)' -- "$shmimg" list
  "$shmimg" list | grep '^other' | grep -q stale && fail "another user's live segment called stale"; ok
  kill -TERM $op; wait $op
fi
rm -f "$SHMIMG_DIR/shmimg-sym" "$SHMIMG_DIR/shmimg-fifo" "$SHMIMG_DIR/shmimg-bad"

# ==== found by trying it as a hostile user ==================================

# ---- a signal during a save that waits on its output ends it at once ----
expect 0 '' -- "$shmimg" publish --key sv --persist "$rgba"
mkfifo nobody-reads.png
"$shmimg" pull --key sv -o nobody-reads.png > fifo.out 2>&1 & p=$!
nap 0.5
kill -TERM $p
for _ in {1..100}; do kill -0 $p 2>/dev/null || break; nap 0.05; done
kill -0 $p 2>/dev/null && { kill -9 $p; fail "pull stuck on a FIFO ignored SIGTERM"; }
wait $p; [ $? = 143 ] || fail "pull on a FIFO: SIGTERM did not end it as a signal"; ok
rm nobody-reads.png
[ -z "$(ls -A | grep '\.shmimg-')" ] || fail "temporary files left: $(ls -A)"; ok

# ---- another user's symlink in a sticky world-writable directory ---------
if id nobody > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  mkdir -m 1777 sticky; echo precious > victim; chmod 600 victim
  setpriv --reuid=nobody --regid=nogroup --clear-groups ln -s "$work/victim" sticky/evil.png
  expect 1 'symbolic link of uid [0-9]+ in a world-writable sticky directory' -- "$shmimg" pull --key sv -o sticky/evil.png
  [ "$(cat victim)" = precious ] || fail "the link's target was replaced"; ok
  ln -s "$work/victim" sticky/mine.png   # ours: followed, the link stays
  expect 0 '' -- "$shmimg" pull --key sv -o sticky/mine.png
  [ -L sticky/mine.png ] && "$imgcmp" victim "$rgba" || fail "our own link was not followed"; ok
  # Root saving over a user's file keeps its owner.
  setpriv --reuid=nobody --regid=nogroup --clear-groups touch sticky/theirs.png
  expect 0 '' -- "$shmimg" pull --key sv -o sticky/theirs.png
  [ "$(stat -c %U sticky/theirs.png)" = nobody ] || fail "the replaced file changed owner"; ok
fi

# ---- quit signals (every one, everywhere: cli_signals_test.sh) -----------
# A quit signal already there when the decode ends: nothing is published.
"$py" - "$shmimg" "$rgba" <<'PY' || fail "publish published although interrupted"
import os, signal, subprocess, sys
def pending_int():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
    os.kill(os.getpid(), signal.SIGINT)
p = subprocess.run([sys.argv[1], "publish", "--persist", "--key", "cancel", sys.argv[2]], preexec_fn=pending_int, capture_output=True)
sys.exit(0 if p.returncode == -signal.SIGINT and b"Published" not in p.stdout else 1)
PY
[ ! -e "$SHMIMG_DIR/shmimg-cancel" ] || fail "an interrupted publish left a segment"; ok
# A SIGBUS sent with kill is not swallowed by the guard against truncation.
"$shmimg" pull --key sig4 --wait 30 -o sig.png > sig4.out 2>&1 & p=$!
wait_for_line sig4.out 'waiting for a publisher'
kill -BUS $p
for _ in {1..100}; do kill -0 $p 2>/dev/null || break; nap 0.05; done
kill -0 $p 2>/dev/null && { kill -9 $p; fail "kill -BUS was swallowed"; }
# (Death by SIGBUS, 135; under AddressSanitizer, its report and exit 1.)
wait $p; [ $? != 0 ] || fail "kill -BUS: exit status 0"; ok
rm -f "$SHMIMG_DIR/shmimg-sig4"
# A file size limit is a failed write, not a death by SIGXFSZ.
cp "$rgb" limited.png
expect 1 'File too large' -- bash -c "ulimit -f 1; \"$shmimg\" pull --key noise -o limited.png"
cmp -s limited.png "$rgb" || fail "the size limit damaged the old file"; ok

# ---- an image no encoder can write is refused before it is copied --------
"$py" - "$SHMIMG_DIR/shmimg-huge" <<'PY'
import os, struct, sys
w, h = 65536, 8193                     # 2^31 + 2^18 bytes of pixels
size = w * 4 * h
hdr = bytearray(4096)  # layout 2: one buffer holding frame 1, PERSIST
struct.pack_into("<8sIIIIIIIIQQQ", hdr, 0, b"SHMIMG\r\n", 2, 4096, 0, 0,
                 1 << 2 | 0, 4, 1, 0, 4096, size, size)
struct.pack_into("<IIIIIIQQQ", hdr, 128, 2, w, h, w * 4, 1, 0, 1, 4096, size)
hdr[128 + 64:128 + 72] = b"huge.png"
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, hdr); os.ftruncate(fd, 4096 + w * 4 * h)   # sparse
PY
expect 1 'over 2\^31 - 1 bytes' -- "$shmimg" pull --key huge -o huge.png
expect 1 'over 2\^31 - 1 bytes' -- "$shmimg" pull --key huge -o huge.bmp
rm -f "$SHMIMG_DIR/shmimg-huge"

# ---- strict numbers, closed stdout, settings, odd words -------------------
for w in -0 0 0x10 ' 1' inf 1e3 .5; do
  expect 2 "--wait needs a number of seconds" -- "$shmimg" pull --key x --wait "$w"
done
expect 1 'standard output is closed' -- bash -c "\"$shmimg\" info --key sv >&-"
expect 1 'standard output is closed' -- bash -c "\"$shmimg\" list --json >&-"
expect 1 'No space left on device' -- bash -c "\"$shmimg\" --help > /dev/full"
bash -c "\"$shmimg\" --help | true"; [ $? -lt 128 ] || fail "--help | true died of a signal"; ok
expect 2 'segment directory /nonexistent/dir does not exist' -- env SHMIMG_DIR=/nonexistent/dir "$shmimg" list
expect 2 'segment directory .*limited.png is not a directory' -- env SHMIMG_DIR="$work/limited.png" "$shmimg" info
for cmd in info list pull rm; do
  expect 2 "SHMIMG_MAX_PIXELS='abc'" -- env SHMIMG_MAX_PIXELS=abc "$shmimg" $cmd
done
out=$(SHMIMG_MAX_PIXELS=$'\e[31mX' "$shmimg" info 2>&1)
grep -qF "SHMIMG_MAX_PIXELS='\\e[31mX'" <<<"$out" || fail "setting shown escaped twice or raw: $out"; ok
expect 2 "'' is neither a command" -- "$shmimg" ''
expect 2 "-o needs a file name" -- "$shmimg" pull -o ''
expect 2 "starts with '-'" -- "$shmimg" info --key -h
expect 2 "starts with '-'" -- "$shmimg" info --key -- 
printf 'SHMIMG\r\nnot a header' > "$SHMIMG_DIR/shmimg-garb"; chmod 600 "$SHMIMG_DIR/shmimg-garb"
expect 0 'garb +20 .* 0 n/a +unreadable' -- "$shmimg" list
rm -f "$SHMIMG_DIR/shmimg-garb"
expect 0 '' -- "$shmimg" rm --key sv
expect 0 '' -- "$shmimg" rm --key noise

echo "cli: $checks checks passed"
