#!/usr/bin/env bash
# cli_test.sh - the shmimg command line as a script would use it: exit
# statuses, messages, output formats, and the segment's lifetime across
# real processes (SIGTERM, SIGKILL, --persist, several users).
# Usage: cli_test.sh SHMIMG IMGCMP PNGSUITE_DIR
set -u
shmimg=$(realpath "$1") imgcmp=$(realpath "$2") suite=$(realpath "$3")
export SHMIMG_DIR=$(mktemp -d /dev/shm/shmimg-clitest.XXXXXX)
work=$(mktemp -d)
# Only jobs still running: a PID already waited for may belong to another
# test's process by now. Their children too (--pair's windows).
cleanup() {
  for p in $(jobs -p); do pkill -9 -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
  rm -rf "$SHMIMG_DIR" "$work"
}
trap cleanup EXIT
cd "$work"
checks=0
fail() { echo "FAIL (line ${BASH_LINENO[0]}): $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); }

# expect STATUS PATTERN -- CMD...: runs CMD, checks its exit status and
# that stdout+stderr contain PATTERN (a grep -E expression; '' for any).
expect() {
  local want=$1 pattern=$2; shift 3
  local out status
  out=$("$@" 2>&1); status=$?
  [ "$status" = "$want" ] || fail "'$*' exited $status, wanted $want: $out"
  [ -z "$pattern" ] || grep -Eq -- "$pattern" <<<"$out" ||
    fail "'$*' printed '$out', wanted /$pattern/"
  ok
}
seg_file() { echo "$SHMIMG_DIR/shmimg-${1:-shmimg}"; }
# Waits until FILE has LINE-matching content (a started process's banner).
wait_for_line() {
  for _ in $(seq 400); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
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
expect 0 'no segments in' -- "$shmimg" list
expect 0 '^\[\]$' -- "$shmimg" list --json

# ---- bad images: clear message, nothing created --------------------------
printf 'hello' > text.png
expect 1 'not an image: text.png \(SDL_image cannot decode it: ' -- "$shmimg" publish --persist text.png
: > empty.png
expect 1 'not an image: empty.png \(empty: 0 bytes\)' -- "$shmimg" publish --persist empty.png
expect 1 'not an image: .* \(a directory\)' -- "$shmimg" publish --persist "$work"
expect 1 '^shmimg: nothere.png: cannot read it: No such file' -- "$shmimg" publish --persist nothere.png
[ ! -e "$(seg_file)" ] || fail "a failed publish created a segment"; ok

# ---- publish --persist, info, list, pull in every format, rm ------------
expect 0 'Published basn6a08.png \(32x32\) under key shmimg' -- "$shmimg" publish --persist "$rgba"
[ "$(stat -c %a "$(seg_file)")" = 600 ] || fail "segment mode is not 0600"; ok
expect 0 'image +32x32 pixels, RGBA8' -- "$shmimg" info
expect 0 'source +basn6a08.png' -- "$shmimg" info
expect 0 'state +complete, generation 2, persistent' -- "$shmimg" info
"$shmimg" info --json > info.json || fail "info --json failed"
python3 -c 'import json,sys; d=json.load(open("info.json")); assert d["width"]==32 and d["height"]==32 and d["source"]=="basn6a08.png" and d["persist"] and d["state"]=="complete", d' ||
  fail "info --json: $(cat info.json)"; ok
expect 0 'shmimg +[0-9]+ +32x32 .* persistent +complete \(basn6a08.png\)' -- "$shmimg" list
"$shmimg" list --json > list.json || fail "list --json failed"
python3 -c 'import json; l=json.load(open("list.json")); assert len(l)==1 and l[0]["key"]=="shmimg" and l[0]["liveness"]=="persistent", l' ||
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
[ ! -e "$(seg_file)" ] || fail "rm left the file"; ok
expect 1 'Unable to attach' -- "$shmimg" pull

# ---- lifetime: attached until SIGTERM, removed by the last one out ------
"$shmimg" publish --key live "$pal" > pub1.out 2>&1 & pub1=$!
wait_for_line pub1.out 'Published basn3p04.png'
[ -e "$(seg_file live)" ] || fail "no segment while attached"; ok
expect 0 'live +[0-9]+ +32x32 +[0-9]+ +1 alive' -- "$shmimg" list
expect 0 '' -- "$shmimg" pull --key live -o pal.png
expect 0 '' -- "$imgcmp" pal.png "$pal"
"$shmimg" publish --key live "$rgba" > pub2.out 2>&1 & pub2=$!
wait_for_line pub2.out 'Published basn6a08.png'
expect 0 'attached +2 processes' -- "$shmimg" info --key live
kill -TERM $pub1; wait $pub1; [ $? = 0 ] || fail "publish did not exit 0 on SIGTERM"; ok
[ -e "$(seg_file live)" ] || fail "segment removed while another process is attached"; ok
kill -INT $pub2; wait $pub2; [ $? = 0 ] || fail "publish did not exit 0 on SIGINT"; ok
grep -q 'removed' pub2.out || fail "the last one out did not say it removed the segment"; ok
[ ! -e "$(seg_file live)" ] || fail "last detach left the segment"; ok

# ---- after SIGKILL: stale, listed as such, reclaimed by the next publisher
"$shmimg" publish --key crash "$rgba" > pub3.out 2>&1 & pub3=$!
wait_for_line pub3.out 'Published'
kill -KILL $pub3; wait $pub3 2>/dev/null
[ -e "$(seg_file crash)" ] || fail "expected a stale segment after SIGKILL"; ok
expect 0 'crash .* 0 stale +complete' -- "$shmimg" list
ino_before=$(stat -c %i "$(seg_file crash)")
"$shmimg" publish --key crash "$rgb" > pub4.out 2>&1 & pub4=$!
wait_for_line pub4.out 'Published basn2c08.png'
[ "$(stat -c %i "$(seg_file crash)")" != "$ino_before" ] || fail "stale segment not reclaimed"; ok
expect 0 'crash .* 1 alive +complete \(basn2c08.png\)' -- "$shmimg" list
kill -TERM $pub4; wait $pub4
[ ! -e "$(seg_file crash)" ] || fail "reclaimed segment not removed at last detach"; ok

# ---- pull --wait: a reader may come first and wait for the next image ----
"$shmimg" pull --key w --wait 20 -o waited.png > pull.out 2>&1 & puller=$!
for _ in $(seq 400); do [ -e "$(seg_file w)" ] && break; sleep 0.05; done
[ -e "$(seg_file w)" ] || fail "waiting reader did not create the segment"; ok
expect 1 'nothing has been published' -- "$shmimg" pull --key w
expect 0 'Published' -- "$shmimg" publish --key w --persist "$pal"
wait $puller; [ $? = 0 ] || fail "pull --wait failed: $(cat pull.out)"; ok
expect 0 '' -- "$imgcmp" waited.png "$pal"
expect 1 'no new image within 300 ms' -- "$shmimg" pull --key w --wait 0.3
expect 0 '' -- "$shmimg" rm --key w

echo "cli: $checks checks passed"
