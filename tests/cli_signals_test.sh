#!/usr/bin/env bash
# cli_signals_test.sh - every quit signal the README names, against every
# long-running command and every kind of input or output it may be
# waiting on or racing through: publish --raw from /dev/zero, a large
# regular file, a pipe, FIFOs fast, silent and stalled, at the end of its
# input, paced by --fps, with --persist; a still image; an animated GIF;
# publishers whose stdout and stderr are a full pipe; pull --wait; pull
# --follow before any publisher, behind a fast one, into a full pipe,
# into numbered images, into FIFOs nobody opens. Each must end within 10 s
# of its signal (on a loaded machine), with the exit status the README
# gives (publish and pull --follow: 0; pull, and a follower's save into a
# FIFO: death by the signal), and leave no segment but the one --persist
# keeps.
#
# One instance per signal and kind, several kinds side by side, so that
# the whole takes seconds, not minutes.
# Usage: cli_signals_test.sh SHMIMG PNGSUITE_DIR
set -u
shmimg=$(realpath "$1") suite=$(realpath "$2")
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
py=${SHMIMG_PYTHON:-python3}   # (ctest gives the one CMake found)
source "$(dirname "$(realpath "$0")")/preamble.sh"
ulimit -c 0   # pull dies of QUIT, ABRT, TRAP, SYS and XCPU: no core files

# The README's quit signals: INT, TERM, HUP, and every other whose default
# ends the process (of the real-time ones: the first two, the last two).
sigs=(INT TERM HUP QUIT ABRT TRAP SYS USR1 USR2 ALRM VTALRM PROF XCPU PWR IO
  STKFLT RTMIN RTMIN+1 RTMAX-1 RTMAX)
nums=(); for i in "${!sigs[@]}"; do nums[$i]=$(kill -l "${sigs[$i]}"); done
# How long a process may take to end after its signal, and to be ready.
bound=10 start_bound=120

# (The checks below run many times while a hundred busy processes share
# the machine: bash builtins only, no process started.)
# nap SECONDS: sleeps (a read that times out).
mkfifo nap.fifo; exec 8<> nap.fifo
nap() { read -r -t "$1" -u 8 _; :; }
# banner FILE TEXT: FILE has a line with TEXT in it.
banner() {
  local line
  [ -e "$1" ] || return 1
  while IFS= read -r line; do [[ $line == *"$2"* ]] && return 0; done < "$1"
  return 1
}
# In start_KIND, ready_KIND and after_KIND, $kind is run's: the kind at
# hand. started I: the process just started is instance I of it.
declare -A pid want segment
started() { pid[$kind-$1]=$!; }
# caught I: instance I has its handlers for every quit signal (SIGRTMAX's,
# installed last, is there).
caught() {
  local key value
  while read -r key value; do
    [ "$key" = SigCgt: ] && { (( (0x$value >> 63) & 1 )); return; }
  done < "/proc/${pid[$kind-$1]}/status" 2>/dev/null
  return 1
}
# waits_in I PATTERN: instance I sleeps in a kernel function matching
# PATTERN (/proc/PID/wchan: poll, wait_for_partner, pipe_write), which it
# reaches only after its handlers are in place. Where the kernel hides
# wchan: a second after its handlers are in place.
waits_in() {
  local wchan=
  read -r wchan < "/proc/${pid[$kind-$1]}/wchan" 2>/dev/null
  if [ -z "$wchan" ] || [ "$wchan" = 0 ]; then caught "$1" && nap 1; return; fi
  [[ $wchan =~ $2 ]]
}
out_of() { cat "$kind-$1.out" 2>/dev/null; }

# kind NAME WANT SEGMENT: declares a kind: its instances end with WANT (0,
# or "signal": death by it), and then their segment (key NAME-I) is kept
# (--persist), gone, or none (followers of another process's segment,
# checked at the end).
kind() { want[$1]=$2 segment[$1]=$3; }
# run KIND...: starts an instance of each KIND for each signal (start_KIND
# I), waits until each is ready (ready_KIND I), sends each its signal, and
# checks how and how soon each ended; then after_KIND, where there is one.
run() {
  local kind i t0 took status alive
  for kind; do for i in "${!sigs[@]}"; do "start_$kind" "$i"; done; done
  t0=$SECONDS
  for kind; do
    for i in "${!sigs[@]}"; do
      until "ready_$kind" "$i"; do
        kill -0 "${pid[$kind-$i]}" 2>/dev/null || fail "$kind $i (SIG${sigs[$i]}): ended before its signal: $(out_of "$i")"
        [ $((SECONDS - t0)) -lt $start_bound ] || fail "$kind $i: not ready after $start_bound s: $(out_of "$i")"
        nap 0.05
      done
    done
  done
  for kind; do for i in "${!sigs[@]}"; do kill -"${sigs[$i]}" "${pid[$kind-$i]}"; done; done
  t0=${EPOCHREALTIME/./}
  for _ in $(seq $((bound * 20))); do
    alive=0
    for kind; do
      for i in "${!sigs[@]}"; do kill -0 "${pid[$kind-$i]}" 2>/dev/null && { alive=1; break 2; }; done
    done
    [ $alive = 0 ] && break
    nap 0.05
  done 2>/dev/null   # (bash's word on each death by a signal: not ours)
  took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
  for kind; do
    for i in "${!sigs[@]}"; do
      if kill -0 "${pid[$kind-$i]}" 2>/dev/null; then
        kill -9 "${pid[$kind-$i]}"
        fail "$kind: SIG${sigs[$i]} did not end it within $bound s: $(out_of "$i")"
      fi
      wait "${pid[$kind-$i]}" 2>/dev/null; status=$?
      if [ "${want[$kind]}" = signal ]; then
        [ "$status" = $((128 + nums[i])) ] || fail "$kind: SIG${sigs[$i]} ended it with $status, wanted death by the signal ($((128 + nums[i]))): $(out_of "$i")"
      else
        [ "$status" = "${want[$kind]}" ] || fail "$kind: SIG${sigs[$i]} ended it with $status, wanted ${want[$kind]}: $(out_of "$i")"
      fi
      ok
      case ${segment[$kind]} in
      gone) [ ! -e "$SHMIMG_DIR/shmimg-$kind-$i" ] || fail "$kind: SIG${sigs[$i]} left its segment"; ok ;;
      kept) [ -e "$SHMIMG_DIR/shmimg-$kind-$i" ] || fail "$kind: SIG${sigs[$i]}: the --persist segment is gone"; ok ;;
      esac
    done
    ! declare -F "after_$kind" > /dev/null || "after_$kind"
  done
  echo "$*: ${#sigs[@]} signals each, all ended within $took ms"
}

# ---- publish --raw, whatever its input --------------------------------------
# /dev/zero: always readable, so that it never waits (the reported hang).
kind zero 0 gone
start_zero() { "$shmimg" publish --key "zero-$1" --raw 64x64 /dev/zero > "zero-$1.out" 2>&1 & started "$1"; }
ready_zero() { banner "zero-$1.out" Publishing; }
# A regular file longer than the test: sparse, it reads at memory speed.
truncate -s 64G big.raw 2>/dev/null || head -c 500000000 /dev/zero > big.raw
kind file 0 gone
start_file() { "$shmimg" publish --key "file-$1" --raw 64x64 big.raw > "file-$1.out" 2>&1 & started "$1"; }
ready_file() { banner "file-$1.out" Publishing; }
after_file() {
  for i in "${!sigs[@]}"; do
    ! banner "file-$i.out" 'End of' || fail "a publisher read all of big.raw: make it longer"
  done
}
# A pipe that a fast writer keeps full.
kind pipe 0 gone
start_pipe() { "$shmimg" publish --key "pipe-$1" --raw 64x64 - < <(exec cat /dev/zero) > "pipe-$1.out" 2>&1 & started "$1"; }
ready_pipe() { banner "pipe-$1.out" Publishing; }
# A FIFO with a fast writer.
kind fifo 0 gone
start_fifo() {
  (exec cat /dev/zero > "fifo-$1") 2>/dev/null &
  "$shmimg" publish --key "fifo-$1" --raw 64x64 "fifo-$1" > "fifo-$1.out" 2>&1 & started "$1"
}
ready_fifo() { banner "fifo-$1.out" Publishing; }
# A FIFO nobody opens for writing: no frame, no banner; it waits in poll.
kind silent 0 gone
start_silent() { "$shmimg" publish --key "silent-$1" --raw 64x64 "silent-$1" > "silent-$1.out" 2>&1 & started "$1"; }
ready_silent() { waits_in "$1" poll; }
# A FIFO whose writer holds it open and writes nothing.
kind stalled 0 gone
writers=()
start_stalled() {
  sleep 600 <> "stalled-$1" & writers+=($!)
  "$shmimg" publish --key "stalled-$1" --raw 64x64 "stalled-$1" > "stalled-$1.out" 2>&1 & started "$1"
}
ready_stalled() { waits_in "$1" poll; }
after_stalled() { kill "${writers[@]}"; wait "${writers[@]}" 2>/dev/null; :; }
# At the end of its input: the last frame stays until a signal.
head -c $((64 * 64 * 4 * 3)) /dev/zero > three.raw
kind end 0 gone
start_end() { "$shmimg" publish --key "end-$1" --raw 64x64 three.raw > "end-$1.out" 2>&1 & started "$1"; }
ready_end() { banner "end-$1.out" 'End of three.raw after 3 frames'; }
# Paced by --fps, the input always readable.
kind fps 0 gone
start_fps() { "$shmimg" publish --key "fps-$1" --raw 64x64 --fps 1000 /dev/zero > "fps-$1.out" 2>&1 & started "$1"; }
ready_fps() { banner "fps-$1.out" Publishing; }
# --persist: the signal ends it all the same, and the segment stays.
kind persist 0 kept
start_persist() { "$shmimg" publish --key "persist-$1" --persist --raw 64x64 /dev/zero > "persist-$1.out" 2>&1 & started "$1"; }
ready_persist() { banner "persist-$1.out" Publishing; }
after_persist() { for i in "${!sigs[@]}"; do "$shmimg" rm --key "persist-$i" > /dev/null || fail "rm persist-$i"; done; }

# ---- publish IMAGE: a still, an animation ------------------------------------
kind still 0 gone
start_still() { "$shmimg" publish --key "still-$1" "$suite/basn6a08.png" > "still-$1.out" 2>&1 & started "$1"; }
ready_still() { banner "still-$1.out" Published; }
# 3 frames of 20 ms, so that it publishes again and again.
"$py" "$here/anim_gif.py" anim.gif || fail "cannot write anim.gif"
kind anim 0 gone
start_anim() { "$shmimg" publish --key "anim-$1" anim.gif > "anim-$1.out" 2>&1 & started "$1"; }
ready_anim() { banner "anim-$1.out" 'Playing anim.gif (16x16, 3 frames'; }

# ---- publishers whose reports go into a full pipe ----------------------------
# stdout and stderr are a FIFO that nobody reads, filled to the brim: the
# first report blocks, with the segment made and published.
mkfifo full.fifo
exec 9<> full.fifo
"$py" -c '
import os
fd = os.open("full.fifo", os.O_WRONLY | os.O_NONBLOCK)
try:
    while True:
        os.write(fd, b"x" * 4096)
except BlockingIOError:
    pass' || fail "cannot fill full.fifo"
kind fullraw 0 gone
start_fullraw() { "$shmimg" publish --key "fullraw-$1" --raw 64x64 /dev/zero > full.fifo 2>&1 & started "$1"; }
ready_fullraw() { [ -e "$SHMIMG_DIR/shmimg-fullraw-$1" ] && waits_in "$1" pipe_write; }
kind fullstill 0 gone
start_fullstill() { "$shmimg" publish --key "fullstill-$1" "$suite/basn6a08.png" > full.fifo 2>&1 & started "$1"; }
ready_fullstill() { [ -e "$SHMIMG_DIR/shmimg-fullstill-$1" ] && waits_in "$1" pipe_write; }
kind fullanim 0 gone
start_fullanim() { "$shmimg" publish --key "fullanim-$1" anim.gif > full.fifo 2>&1 & started "$1"; }
ready_fullanim() { [ -e "$SHMIMG_DIR/shmimg-fullanim-$1" ] && waits_in "$1" pipe_write; }

# ---- pull ----------------------------------------------------------------------
# --wait before any publisher: it waits for one (a reader makes no segment).
kind wait signal gone
start_wait() { "$shmimg" pull --key "wait-$1" --wait 600 -o "wait-$1.png" > "wait-$1.out" 2>&1 & started "$1"; }
ready_wait() { banner "wait-$1.out" 'waiting for a publisher'; }
# --follow before any publisher: likewise, but it ends with exit 0.
kind first 0 gone
start_first() { "$shmimg" pull --key "first-$1" --follow --raw -o "first-$1.raw" > "first-$1.out" 2>&1 & started "$1"; }
ready_first() { banner "first-$1.out" 'waiting for a publisher'; }
# --follow behind the fastest publisher there is: 1x1 frames from /dev/zero.
kind fast 0 none
start_fast() { "$shmimg" pull --key fast --follow --raw -o "fast-$1.raw" > "fast-$1.out" 2>&1 & started "$1"; }
ready_fast() { local t=(.fast-"$1".raw.shmimg-*); [ -e "${t[0]}" ]; } # (made after its handlers)
# --follow into the full pipe: it waits to write.
kind blocked 0 none
start_blocked() { "$shmimg" pull --key fast --follow --raw -o - > full.fifo 2> "blocked-$1.out" & started "$1"; }
ready_blocked() { waits_in "$1" poll; }
# --follow into numbered images, behind a publisher at 50 frames a second.
kind images 0 none
start_images() { "$shmimg" pull --key imgs --follow -o "images-$1/f-%06d.png" > "images-$1.out" 2>&1 & started "$1"; }
ready_images() { [ -e "images-$1/f-000002.png" ]; }
# --follow --raw into a FIFO nobody opens: it waits in open().
kind noreader 0 none
start_noreader() { "$shmimg" pull --key fast --follow --raw -o "noreader-$1" > "noreader-$1.out" 2>&1 & started "$1"; }
ready_noreader() { waits_in "$1" partner; }
# --follow into numbered images that are FIFOs nobody opens: the save
# waits in open(), and the signal ends it as it ends pull.
kind imgfifo signal none
start_imgfifo() { "$shmimg" pull --key imgs --follow -o "imgfifo-$1/f-%d.png" > "imgfifo-$1.out" 2>&1 & started "$1"; }
ready_imgfifo() { waits_in "$1" partner; }

# The FIFOs and directories of every instance, made at once.
all() { local i; for i in "${!sigs[@]}"; do echo "$1-$i${2:-}"; done; }
mkdir $(all images) $(all imgfifo) || fail mkdir
mkfifo $(all fifo) $(all silent) $(all stalled) $(all noreader) $(all imgfifo /f-1.png) || fail mkfifo
# publishing NAME: waits for the banner of the publisher writing NAME.out.
publishing() {
  for _ in $(seq 1200); do banner "$1.out" Publishing && return; nap 0.05; done
  fail "$1: $(cat "$1.out")"
}

# Side by side, but no more than one kind that keeps cores busy, and that
# one started last: the others start and get ready first.
run silent stalled end still anim fullstill fullanim fullraw wait first zero
"$shmimg" publish --key imgs --raw 8x8 --fps 50 /dev/zero > imgs.out 2>&1 & imgs=$!
publishing imgs
run images imgfifo file
run pipe
run fps fifo
run persist
"$shmimg" publish --key fast --raw 1x1 /dev/zero > fast.out 2>&1 & fast=$!
publishing fast
run noreader blocked fast
exec 9>&-
for p in $fast $imgs; do kill -TERM $p; wait $p || fail "a publisher behind the followers exited $?"; done
[ -z "$(ls -A "$SHMIMG_DIR")" ] || fail "left in SHMIMG_DIR: $(ls -A "$SHMIMG_DIR")"; ok

echo "cli_signals: $checks checks passed"
