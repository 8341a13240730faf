#!/usr/bin/env bash
# hostile_test.sh - every hostile segment of tests/hostile.c, met by the
# command line (pull, info, list) and by a window (P, and L for live mode)
# under Xvfb: each says what is wrong, exits normally (never a signal,
# never a hang) and leaves the file exactly as it was.
# Then a window started with its standard streams closed, a file name
# full of escape sequences dropped on it, and its file truncated in live
# mode.
# Usage: hostile_test.sh SHMIMG HOSTILE XDND_DROP
set -u
shmimg=$(realpath "$1") hostile=$(realpath "$2") xdnd=$(realpath "$3")
source "$(dirname "$(realpath "$0")")/xsession.sh"

seg=$SHMIMG_DIR/shmimg-h
# fingerprint: what must not change (type, inode, mode, owner, size,
# times, bytes), for the file and a symlink's target.
fingerprint() {
  for f in "$seg" "$seg.target"; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    stat -c '%F %i %a %u %s %.9Y %.9Z' "$f"
    [ -f "$f" ] && [ ! -L "$f" ] && sha256sum < "$f"
  done
}
# run_cli WANT_STATUS PATTERN CMD...: exit status exactly WANT_STATUS (so
# never a signal), output matching PATTERN.
run_cli() {
  local want=$1 pattern=$2 out status; shift 2
  out=$(timeout 20 "$@" 2>&1); status=$?
  [ "$status" = "$want" ] || fail "$case: '$*' exited $status, wanted $want: $out"
  grep -Eq -- "$pattern" <<<"$out" || fail "$case: '$*' said '$out', wanted /$pattern/"
  ok
}

"$shmimg" --key h --geometry 480x356+0+0 > app.log 2>&1 & app=$!
win=$(window_of $app) || exit 1
n=0
for case in $("$hostile" cases); do
  "$hostile" make "$case" || fail "cannot make $case"
  says=$("$hostile" expect "$case")
  before=$(fingerprint)
  run_cli 1 "$says" "$shmimg" pull --key h -o "$work/out.png"
  run_cli 1 "$says" "$shmimg" info --key h
  run_cli 1 "$says" "$shmimg" info --key h --json
  run_cli 0 "^h .*$says" "$shmimg" list
  [ ! -e "$work/out.png" ] || fail "$case: pull wrote an image"
  press "$win" p
  wait_log app.log "$says"
  press "$win" l
  wait_log app.log "Cannot start live mode: .*$says"
  kill -0 $app 2>/dev/null || fail "$case: the window died"
  [ "$(fingerprint)" = "$before" ] || fail "$case: the file was touched"; ok
  rm -rf "$seg" "$seg.target"
  n=$((n + 1))
done
press "$win" q
wait $app; [ $? = 0 ] || fail "the window did not exit 0"; ok

# ---- a window started with stdin and stdout closed: no file it opens may
# take fd 0 or 1 (its messages would land in the segment's header) ------
convert -size 40x30 xc:'#3060c0' PNG24:blue.png
nasty=$(printf 'x\033]0;owned\007\xe2\x80\xaey\xff.png')
cp blue.png "$nasty"
"$shmimg" --key fd --geometry 480x356+0+0 <&- >&- 2> fd.log & app=$!
win=$(window_of $app) || exit 1
drop "$win" "$nasty"
wait_log fd.log 'Published x'
"$shmimg" info --key fd | grep -Eq 'state +complete' || fail "the window's segment is damaged: $("$shmimg" info --key fd 2>&1)"; ok
"$shmimg" pull --key fd -o fd.png > /dev/null && convert fd.png -format '%[hex:u.p{0,0}]' info: | grep -qi 3060c0 ||
  fail "the window published other pixels"; ok
# Untrusted names are escaped in the title and the log, never raw.
wait_title "$win" 'x\\e\]0;owned\\x07\\u202ey\\xff\.png'
title=$(xdotool getwindowname "$win")
LC_ALL=C grep -q $'[\x01-\x1f\x7f]' <<<"$title" && fail "raw control bytes in the title: $(od -c <<<"$title" | head -3)"
grep -qF 'x\e]0;owned\x07\u202ey\xff.png' <<<"$title" || fail "title: $title"; ok
LC_ALL=C grep -q $'\033' fd.log && fail "raw ESC in the window's messages"; ok

# ---- live mode on a file truncated under it: a message, the window lives --
press "$win" l
wait_log fd.log 'Live mode on'
truncate -s 0 "$SHMIMG_DIR/shmimg-fd"
wait_log fd.log 'Live mode off: the segment file was truncated by another process'
kill -0 $app 2>/dev/null || fail "the window died of the truncation"; ok
press "$win" q
wait $app; [ $? = 0 ] || fail "the window did not exit 0 after the truncation"; ok
[ ! -e "$SHMIMG_DIR/shmimg-fd" ] || fail "the truncated file was left behind"; ok

# ---- any signal that would end a window lets it detach first -------------
# (ABRT and STKFLT: the quit signals are the command line's list,
# quitsig.h, which the window's own list lacked.)
for sig in HUP USR1 RTMIN ABRT STKFLT; do
  "$shmimg" --key sig --geometry 480x356+0+0 > sig-$sig.log 2>&1 & app=$!
  win=$(window_of $app) || exit 1
  drop "$win" blue.png
  wait_log sig-$sig.log 'Published blue.png'
  kill -$sig $app
  wait $app; status=$?
  [ $status = 0 ] || fail "SIG$sig: the window exited $status"; ok
  [ ! -e "$SHMIMG_DIR/shmimg-sig" ] || fail "SIG$sig: the window left its segment"; ok
done

echo "hostile: $n segments met by pull, info, list, P and L; $checks checks passed"
