#!/usr/bin/env bash
# install_test.sh - libshmimg as a user gets it: cmake --install into a
# temporary prefix, then consumer programs built outside the tree against
# that prefix only (docs/examples): publish.c with
# `cc $(pkg-config --cflags --libs shmimg)`, the same examples with a CMake
# project that calls find_package(shmimg CONFIG) (shmimg::shmimg,
# shmimg::sdl). One publishes, the other pulls and checks every byte, in
# both directions, and through an SDL surface. Also: the SONAME, only
# shmimg_ names exported (nm -D), the private headers not installed, the
# README's C example compiled and run, and (shared builds without
# sanitizers) `import shmimg` from the prefix reading the same frame.
# Usage: install_test.sh CMAKE BUILD_DIR SOURCE_DIR PYTHON SANITIZE
set -u
cmake=$1 build=$(realpath "$2") src=$(realpath "$3") python=$4 sanitize=${5:-}
source "$src/tests/preamble.sh"
prefix=$work/prefix

"$cmake" --install "$build" --prefix "$prefix" > "$work/install.log" ||
  fail "cmake --install: $(cat "$work/install.log")"
libdir=$(dirname "$(find "$prefix" -name libshmimg.so.1 -o -name libshmimg.a | head -1)")
[ -d "$libdir" ] && [ "$libdir" != . ] || fail "no libshmimg installed"; ok
static=0; [ -e "$libdir/libshmimg.a" ] && static=1
for f in include/shmimg.h include/shmimg_sdl.h; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"; ok
done
for f in "$libdir/pkgconfig/shmimg.pc" "$libdir/pkgconfig/shmimg-sdl.pc" \
  "$libdir/cmake/shmimg/shmimgConfig.cmake" \
  "$libdir/cmake/shmimg/shmimgConfigVersion.cmake" \
  "$libdir/cmake/shmimg/shmimgTargets.cmake"; do
  [ -f "$f" ] || fail "not installed: $f"; ok
done
for h in layout.h futex.h guard.h shlock.h segment.h errors.h; do
  [ -z "$(find "$prefix" -name "$h")" ] || fail "private header installed: $h"; ok
done

if [ $static = 0 ]; then
  soname=$(objdump -p "$libdir/libshmimg.so.1" | awk '/SONAME/ {print $2}')
  [ "$soname" = libshmimg.so.1 ] || fail "SONAME is '$soname'"; ok
  for lib in libshmimg.so.1 libshmimg-sdl.so.1; do
    names=$(nm -D --defined-only "$libdir/$lib" | awk '{print $3}')
    [ -n "$names" ] || fail "$lib exports nothing"
    others=$(echo "$names" | grep -v '^shmimg_')
    [ -z "$others" ] || fail "$lib exports names without shmimg_: $others"; ok
  done
  echo "$names" | grep -qx shmimg_sdl_pull_surface || fail "no shmimg_sdl_pull_surface"; ok
fi

# Consumers build with the sanitizers of the library they link.
cflags=""
[ -n "$sanitize" ] && cflags="-fsanitize=$(echo "$sanitize" | tr ';' ',')"
export PKG_CONFIG_PATH=$libdir/pkgconfig
export LD_LIBRARY_PATH=$libdir
version=$(pkg-config --modversion shmimg) || fail "pkg-config shmimg"
[ "$version" = "$(grep -m1 -o 'project(shmimg VERSION [0-9.]*' "$src/CMakeLists.txt" | cut -d' ' -f3)" ] ||
  fail "shmimg.pc version $version"; ok
pcflags=(--cflags --libs); [ $static = 1 ] && pcflags+=(--static)
ex=$src/docs/examples
mkdir -p "$work/pc"
for p in publish pull; do
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror $cflags "$ex/$p.c" \
    $(pkg-config "${pcflags[@]}" shmimg) -o "$work/pc/$p" ||
    fail "cc $p.c \$(pkg-config --cflags --libs shmimg)"; ok
done
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $cflags "$ex/pull_sdl.c" \
  $(pkg-config "${pcflags[@]}" shmimg-sdl) -o "$work/pc/pull_sdl" ||
  fail "cc pull_sdl.c \$(pkg-config --cflags --libs shmimg-sdl)"; ok

"$cmake" -S "$ex" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$cflags" > "$work/cm.log" 2>&1 ||
  fail "find_package project: $(cat "$work/cm.log")"
"$cmake" --build "$work/cm" > "$work/cm-build.log" 2>&1 ||
  fail "find_package build: $(cat "$work/cm-build.log")"; ok
# The version file: 0.1 matches, 9.0 does not.
sed 's/find_package(shmimg 0.1 /find_package(shmimg 9.0 /' "$ex/CMakeLists.txt" > "$work/v.txt"
mkdir -p "$work/v" && cp "$work/v.txt" "$work/v/CMakeLists.txt" && cp "$ex"/*.c "$ex"/*.h "$work/v/"
if "$cmake" -S "$work/v" -B "$work/v/b" -DCMAKE_PREFIX_PATH="$prefix" > "$work/v.log" 2>&1; then
  fail "find_package(shmimg 9.0) accepted version $version"
fi
grep -q "version: $version" "$work/v.log" || fail "no version in: $(cat "$work/v.log")"; ok

# pkg-config's publisher, CMake's readers; then the other way round.
"$work/pc/publish" a 641 479 > "$work/out" || fail "publish: $(cat "$work/out")"; ok
"$work/cm/pull" a > "$work/out" || fail "pull: $(cat "$work/out")"; ok
grep -q "641x479 from pid [0-9]*: 0 pixels differ" "$work/out" || fail "$(cat "$work/out")"; ok
"$work/cm/pull_sdl" a > "$work/out" || fail "pull_sdl: $(cat "$work/out")"; ok
"$work/pc/pull_sdl" a > "$work/out" || fail "pull_sdl (pc): $(cat "$work/out")"; ok
"$work/cm/publish" b 1920 1080 > /dev/null || fail "publish (cmake)"; ok
"$work/pc/pull" b > "$work/out" || fail "pull (pc): $(cat "$work/out")"; ok
grep -q "1920x1080 .*: 0 pixels differ" "$work/out" || fail "$(cat "$work/out")"; ok
# The check is not vacuous: a different frame fails it.
"$build/shmimg" publish --persist --key c "$src/assets/sample.png" > /dev/null 2>&1 ||
  fail "shmimg publish"
if "$work/pc/pull" c > "$work/out"; then fail "pull of another image passed"; fi; ok
"$work/pc/pull" nokey 2> "$work/err" && fail "pull of no segment passed"
grep -q "no segment for key 'nokey'" "$work/err" || fail "message: $(cat "$work/err")"; ok

# The README's C example, as it stands there, against the install.
awk '/<!-- example: c -->/ {on = 1; next} on && /^```c/ {code = 1; next}
     code && /^```/ {exit} code {print}' "$src/README.md" > "$work/readme.c"
[ -s "$work/readme.c" ] || fail "no C example in README.md"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $cflags "$work/readme.c" \
  $(pkg-config "${pcflags[@]}" shmimg) -o "$work/readme" ||
  fail "README's C example does not build"; ok
"$work/readme" > "$work/out" 2>&1 || fail "README's C example: $(cat "$work/out")"; ok
"$work/pc/pull" readme > /dev/null 2>&1 && fail "README example's frame is the pattern?"
"$build/shmimg" info --key readme > /dev/null || fail "README's example published nothing"; ok

# Python from the prefix (needs the shared library and, under sanitizers,
# an interpreter built with them: skipped there).
if [ $static = 0 ] && [ -z "$sanitize" ] && "$python" -c 'import numpy' 2> /dev/null; then
  pydir=$(find "$prefix" -type d -name shmimg -path '*-packages/*' | head -1)
  [ -n "$pydir" ] || fail "the Python module is not installed"; ok
  unset LD_LIBRARY_PATH
  PYTHONPATH=$(dirname "$pydir") "$python" - "$prefix" << 'PY' || fail "import shmimg from the prefix"
import sys, numpy as np, shmimg
prefix = sys.argv[1]
assert shmimg.__file__.startswith(prefix), shmimg.__file__
maps = open("/proc/self/maps").read()
assert prefix + "/" in maps and "libshmimg.so.1" in maps, "library not from the prefix"
img = shmimg.pull("a")
y, x = np.mgrid[0:479, 0:641].astype(np.uint32)
want = np.stack([(x + 1) & 255, (y * 3) & 255, (x ^ y) & 255,
                 255 - (x + y) % 7], axis=-1).astype(np.uint8)
assert img.shape == (479, 641, 4) and np.array_equal(img, want)
PY
  ok
fi
echo "install_library: $checks checks passed"
