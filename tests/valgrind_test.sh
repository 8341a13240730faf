#!/usr/bin/env bash
# valgrind_test.sh - memcheck over a publish/pull round trip of the command
# line (and its other subcommands and error paths): no error, no leak
# (definite, indirect or possible).
# Usage: valgrind_test.sh SHMIMG IMGCMP PNGSUITE_DIR FORMATS_DIR
set -u
shmimg=$(realpath "$1") imgcmp=$(realpath "$2") suite=$(realpath "$3") formats=$(realpath "$4")
source "$(dirname "$(realpath "$0")")/preamble.sh"
runs=0
vg() {
  valgrind -q --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible "$shmimg" "$@" > out.txt 2> vg.txt
}
check() {  # check WANT_STATUS ARGS...
  local want=$1; shift
  vg "$@"; local status=$?
  [ "$status" = "$want" ] || { echo "FAIL: valgrind shmimg $* exited $status, wanted $want" >&2; cat vg.txt >&2; exit 1; }
  runs=$((runs + 1))
}
check 0 publish --persist "$suite/basn3p04.png"
check 0 pull -o pal.png
"$imgcmp" pal.png "$suite/basn3p04.png" || exit 1
check 0 publish --persist "$formats/sample.jpg"
check 0 pull -o out.jpg
check 0 pull -o out.bmp
check 0 info --json
check 0 list
check 1 publish --persist "$suite/xcrn0g04.png"
head -c 500 "$formats/sample.jpg" > cut.jpg
check 1 publish --persist cut.jpg
check 0 rm
check 1 pull
check 2 publish
# publish without --persist: attached until SIGTERM, then detaches cleanly.
valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible "$shmimg" publish "$formats/sample.png" > pub.txt 2> vgpub.txt &
pub=$!
for _ in $(seq 600); do grep -q Published pub.txt && break; sleep 0.05; done
kill -TERM $pub; wait $pub; status=$?
[ $status = 0 ] || { echo "FAIL: valgrind shmimg publish exited $status" >&2; cat vgpub.txt >&2; exit 1; }
runs=$((runs + 1))
[ ! -e "$SHMIMG_DIR/shmimg-shmimg" ] || { echo "FAIL: segment left" >&2; exit 1; }
echo "valgrind memcheck: $runs runs of the command line, 0 errors, 0 leaks"
