#!/usr/bin/env bash
# hostile_test.sh - every hostile segment of tests/hostile.c, met by the
# command line (pull, info, list) and by a window (P, and L for live mode)
# under Xvfb: each says what is wrong, exits normally (never a signal,
# never a hang) and leaves the file exactly as it was.
# Usage: hostile_test.sh SHMIMG HOSTILE
set -u
shmimg=$(realpath "$1") hostile=$(realpath "$2")
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
echo "hostile: $n segments met by pull, info, list, P and L; $checks checks passed"
