#!/usr/bin/env bash
# share_test.sh - a segment shared with another uid (publish --share): the
# other user reads it read-only (pull, and pull --wait following live),
# changes nothing of it, cannot publish into it or remove it, and does not
# keep it alive, not even with a flock or read locks on the slot bytes;
# the owner-only default refuses it. Needs root (setpriv to nobody);
# exits 77 (skipped) otherwise.
# Usage: share_test.sh SHMIMG IMGCMP PNGSUITE_DIR
set -u
shmimg=$(realpath "$1") imgcmp=$(realpath "$2") suite=$(realpath "$3")
if [ "$(id -u)" != 0 ] || ! id nobody > /dev/null 2>&1; then
  echo "SKIP: needs root and a 'nobody' user"; exit 77
fi
source "$(dirname "$(realpath "$0")")/preamble.sh"
# A directory both users reach, as /dev/shm is: sticky, world-writable.
chmod 1777 "$SHMIMG_DIR"
chmod 1777 "$work"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# wait_open PID PATH: process PID (a job: a subshell running reader, or
# one of its children) has PATH open.
wait_open() {
  local p
  for _ in $(seq 1200); do
    for p in $1 $(pgrep -P "$1") $(pgrep -P "$(pgrep -d, -P "$1")" 2>/dev/null); do
      ls -l /proc/$p/fd 2>/dev/null | grep -q -- "-> $2\$" && return 0
    done
    sleep 0.05
  done
  fail "process $1 never opened $2"
}
wait_for_line() {
  for _ in $(seq 400); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  fail "no /$2/ in $1: $(cat "$1")"
}
seg=$SHMIMG_DIR/shmimg-s
# What another user's reads must not change: inode, mode, owner, size,
# mtime, ctime and every byte.
fingerprint() { stat -c '%i %a %u %s %.9Y %.9Z' "$seg"; sha256sum < "$seg"; }
rgba=$suite/basn6a08.png rgb=$suite/basn2c08.png pal=$suite/basn3p04.png

for share in all group; do
  mode=644; [ $share = group ] && mode=640
  "$shmimg" publish --key s --share $share "$rgba" > pub.out 2>&1 & pub=$!
  wait_for_line pub.out 'Published basn6a08.png'
  [ "$(stat -c '%a %U' "$seg")" = "$mode root" ] || fail "--share $share: $(stat -c '%a %U' "$seg")"; ok
  if [ $share = group ]; then
    # Group read: nobody joins root's group for this (setpriv --groups).
    reader() { setpriv --reuid=nobody --regid=nogroup --groups=0 "$@"; }
  else
    reader() { as_nobody "$@"; }
  fi
  before=$(fingerprint)
  reader "$shmimg" pull --key s -o "$work/$share.png" > pull.out 2>&1 || fail "--share $share: pull as nobody: $(cat pull.out)"; ok
  "$imgcmp" "$work/$share.png" "$rgba" || fail "--share $share: other pixels"; ok
  reader "$shmimg" info --key s > info.out 2>&1 || fail "info as nobody: $(cat info.out)"
  grep -Eq 'state +complete' info.out || fail "info as nobody: $(cat info.out)"; ok
  [ "$(fingerprint)" = "$before" ] || fail "--share $share: the other user's reads changed the file"; ok

  # pull --wait follows live: it gets the next frame, exactly.
  # (Once it has the file open: a loaded machine may take seconds to start
  # it, and a frame published before its first look is not "next".)
  reader "$shmimg" pull --key s --wait 20 -o "$work/next-$share.png" > wait.out 2>&1 & waiter=$!
  wait_open $waiter "$seg"; sleep 0.2
  "$shmimg" publish --key s --share $share "$pal" > pub2.out 2>&1 & pub2=$!
  wait $waiter || fail "--share $share: pull --wait as nobody: $(cat wait.out)"; ok
  "$imgcmp" "$work/next-$share.png" "$pal" || fail "--share $share: pull --wait got other pixels"; ok
  kill -TERM $pub2; wait $pub2

  # Nobody may publish into it, nor remove it.
  before=$(fingerprint)
  out=$(reader "$shmimg" publish --key s "$rgb" 2>&1); status=$?
  [ $status = 1 ] || fail "--share $share: nobody's publish exited $status: $out"; ok
  grep -Eq 'Permission denied|belongs to uid 0' <<<"$out" || fail "nobody's publish said: $out"; ok
  out=$(reader "$shmimg" rm --key s 2>&1); status=$?
  [ $status = 1 ] || fail "--share $share: nobody's rm exited $status: $out"; ok
  grep -q 'belongs to uid 0, not to you' <<<"$out" || fail "nobody's rm said: $out"; ok
  [ "$(fingerprint)" = "$before" ] || fail "--share $share: nobody's attempts changed the file"; ok

  # The owner's last publisher exits: the file goes, although nobody is
  # attached (pull --wait), holds a flock on it, and read-locks every
  # slot byte (an F_RDLCK anyone who can read may take).
  reader "$shmimg" pull --key s --wait 30 -o "$work/late.png" > late.out 2>&1 & late=$!
  reader /usr/bin/python3 - "$seg" > locks.out 2>&1 <<'PY' & locker=$!
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
held = 0
for i in range(512):  # every slot byte the owner's write lock leaves free
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, (1 << 40) + i, os.SEEK_SET)
        held += 1
    except BlockingIOError:
        pass
print("locked", held, flush=True)
time.sleep(60)
PY
  wait_for_line locks.out locked
  grep -q 'locked 51[01]$' locks.out || fail "nobody's read locks: $(cat locks.out)"; ok
  sleep 0.3
  kill -TERM $pub; wait $pub; [ $? = 0 ] || fail "the owner's publisher did not exit 0: $(cat pub.out)"; ok
  grep -q removed pub.out || fail "--share $share: the last owner out did not remove it: $(cat pub.out)"; ok
  # Nobody's waiter follows the key, but makes no file under it (a reader
  # never does): it waits for a publisher, and gets the owner's next one.
  wait_for_line late.out 'waiting for a publisher'
  [ ! -e "$seg" ] || fail "--share $share: left under the key: $(ls -l "$seg")"; ok
  "$shmimg" publish --key s --share $share "$rgb" > pub3.out 2>&1 & pub3=$!
  wait $late; st=$?; [ $st = 0 ] || fail "--share $share: nobody's waiter exited $st: $(cat late.out)"; ok
  "$imgcmp" "$work/late.png" "$rgb" || fail "--share $share: the waiter got other pixels"; ok
  kill -TERM $pub3; wait $pub3
  [ ! -e "$seg" ] || fail "--share $share: the owner's last publisher left $(ls -l "$seg")"; ok
  # (reader runs in a subshell: end its children too.)
  pkill -P $locker 2>/dev/null; kill $locker 2>/dev/null; wait $locker 2>/dev/null
done

# The owner-only default (0600) refuses the other uid, saying why.
"$shmimg" publish --key s "$rgba" > pub.out 2>&1 & pub=$!
wait_for_line pub.out 'Published basn6a08.png'
[ "$(stat -c %a "$seg")" = 600 ] || fail "default mode: $(stat -c %a "$seg")"; ok
before=$(fingerprint)
out=$(as_nobody "$shmimg" pull --key s -o "$work/no.png" 2>&1); status=$?
[ $status = 1 ] || fail "nobody's pull of a 0600 file exited $status: $out"; ok
grep -q "shmimg-s: open: Permission denied" <<<"$out" || fail "nobody's pull said: $out"; ok
[ ! -e "$work/no.png" ] || fail "a refused pull wrote an image"; ok
[ "$(fingerprint)" = "$before" ] || fail "a refused read changed the file"; ok
kill -TERM $pub; wait $pub
[ ! -e "$seg" ] || fail "the owner's file was left"; ok

echo "share: $checks checks passed"
