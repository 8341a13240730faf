#!/usr/bin/env bash
# bootstrap.sh - from a fresh Debian 12 machine to a running shmimg.
#
#   bash cmake/bootstrap.sh test    install what is missing, build, run every test
#   bash cmake/bootstrap.sh pair    install what is missing, build, open two windows
#   bash cmake/bootstrap.sh build   install what is missing, build
#   bash cmake/bootstrap.sh format  install what is missing, check that every
#                                   C file is as .clang-format has it
#   bash cmake/bootstrap.sh sanitize  ... then the whole suite under ASan+UBSan,
#                                   the lock and multi-process tests under TSan,
#                                   and the segment fuzzer for FUZZ_SECONDS (60)
#
# Installs with apt-get (as root, or through sudo) only the packages that
# are not there yet. Builds into ./build (BUILD_DIR to change it).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
build=${BUILD_DIR:-build}

packages=(
  build-essential cmake pkg-config           # the build
  libsdl2-dev libsdl2-image-dev libpng-dev   # the runtime dependencies
  libtiff-dev                                # TIFF read directly (tiffread.c)
  xvfb xdotool x11-utils libx11-dev libxtst-dev imagemagick  # GUI tests
  fonts-dejavu-core                          # a page of text (gui_shrink)
  weston libdecor-0-0 libdecor-0-plugin-1-cairo  # Wayland: the compositor of
                                             # gui_wayland, title bars for SDL
  xclip zenity                               # the clipboard, a file chooser
  libgl1-mesa-dri                            # llvmpipe, the GL renderer under Xvfb
  python3 procps                             # test scripts
  python3-numpy python3-pytest               # the Python module and its tests
  ffmpeg                                     # a real client of the frame streams
  valgrind clang-14 libclang-rt-14-dev       # memcheck, libFuzzer
  clang-format-14                            # the layout check (format)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# sanitized BUILD_DIR SANITIZERS CTEST_ARGS...: build and test with them.
sanitized() {
  local dir=$1 san=$2; shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMIMG_WERROR=ON \
    -DSHMIMG_SANITIZE="$san"
  cmake --build "$dir" -j"$(nproc)"
  (cd "$dir" && ctest -j"$(nproc)" --output-on-failure "$@")
}

# fuzz SECONDS: the libFuzzer target over the committed seed corpus (new
# inputs go to a scratch directory, not into the source tree).
fuzz() {
  CC=clang-14 cmake -S . -B "$build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DSHMIMG_FUZZ=ON
  cmake --build "$build-fuzz" -j"$(nproc)" --target fuzz_segment
  local scratch segs; scratch=$(mktemp -d); segs=$(mktemp -d /dev/shm/shmimg-fuzz.XXXXXX)
  SHMIMG_DIR=$segs "$build-fuzz/tests/fuzz_segment" -max_len=70000 \
    -max_total_time="$1" -timeout=10 -print_final_stats=1 "$scratch" \
    tests/fuzz/corpus 2>&1 |
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss)|ERROR|SUMMARY|==[0-9]+=='
  local status=${PIPESTATUS[0]}
  rm -rf "$scratch" "$segs"
  return "$status"
}

if [ "$mode" = format ]; then
  # Whitespace only; `clang-format-14 -i FILE` puts a file right.
  git ls-files '*.c' '*.h' | xargs clang-format-14 --dry-run --Werror
  echo "format: every C file is as .clang-format has it"
  exit
fi

if [ "$mode" = sanitize ]; then
  sanitized "$build-asan" "address;undefined"
  sanitized "$build-tsan" thread -L 'lock|multiprocess'
  fuzz "${FUZZ_SECONDS:-60}"
  exit
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMIMG_WERROR=ON
cmake --build "$build" -j"$(nproc)"

case $mode in
  build) ;;
  pair) exec "$build/shmimg" --pair "${@:2}" ;;
  test)
    cd "$build"
    ctest -j"$(nproc)" --output-on-failure
    ;;
  *) echo "usage: bootstrap.sh test|pair|build|sanitize" >&2; exit 2 ;;
esac
