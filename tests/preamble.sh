# preamble.sh - sourced first by every shell test (after it has made its
# arguments absolute): a private SHMIMG_DIR under /dev/shm, as a user's
# would be, and a private working directory, made the current one; both
# removed at exit, after every job still running (and its children, such
# as --pair's windows) is killed. Only running jobs: a PID already waited
# for may belong to another test's process by now. Then the checks'
# helpers: fail (says where, exits 1) and ok (counts a check in $checks).
# A test adds to the cleanup with extra_cleanup='commands'.
test_name=$(basename "$0" .sh)
export SHMIMG_DIR=$(mktemp -d "/dev/shm/shmimg-$test_name.XXXXXX")
work=$(mktemp -d "/tmp/shmimg-$test_name.XXXXXX")
extra_cleanup=:
cleanup() {
  for p in $(jobs -p); do pkill -9 -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
  eval "$extra_cleanup"
  rm -rf "$SHMIMG_DIR" "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
checks=0
fail() { echo "FAIL (line ${BASH_LINENO[0]}): $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); }
