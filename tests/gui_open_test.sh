#!/usr/bin/env bash
# gui_open_test.sh - issue 11, point 11: opening files without drag and
# drop. Ctrl+V with a real clipboard (xclip owns the X CLIPBOARD selection,
# the window asks for it through SDL): file:// URIs, percent-decoded,
# several lines (the last file wins), a plain path, text that is no path,
# a folder. O with a stand-in `zenity` first in PATH that prints a path or
# cancels: this tests the plumbing (child process, its output read off the
# loop, the publish), not zenity's dialog. O with no chooser installed says
# how to drop. Every published image is checked on screen.
#
# Usage: gui_open_test.sh SHMIMG XDND_DROP IMGCMP RENDERER
set -u
shmimg=$(realpath "$1") xdnd=$(realpath "$2") imgcmp=$(realpath "$3")
export SDL_RENDER_DRIVER=$4
source "$(dirname "$(realpath "$0")")/xsession.sh"
command -v xclip > /dev/null || fail "xclip is not installed (cmake/bootstrap.sh installs it)"

convert -size 200x100 xc:'#30c060' PNG24:green.png
convert -size 240x120 gradient:'#ff8000-#0040ff' PNG24:"a b%é.png"
convert -size 160x160 xc:'#2050d0' PNG24:blue.png
printf 'not an image' > notes.png
mkdir folder

# clip TEXT: the clipboard holds TEXT (xclip stays to serve it).
clip() { printf '%s' "$1" | xclip -selection clipboard -i || fail "xclip"; sleep 0.2; }
paste() { xdotool windowfocus --sync "$1" key ctrl+v; }

"$shmimg" --key open --geometry 480x356+0+0 > a.log 2>&1 & A=$!
WA=$(window_of $A) || exit 1

# A file:// URI, percent-encoded (space, %, é in UTF-8).
clip "file://$work/a%20b%25%C3%A9.png"
paste "$WA"
wait_log a.log 'Published a b%é.png \(240x120\) under key open'
shows "$WA" "a b%é.png"
# Several lines (text/uri-list: CRLF, a comment): the last file wins.
clip $'# chosen files\r\nfile://localhost'"$work"$'/green.png\r\nfile://'"$work"$'/blue.png\r\n'
paste "$WA"
wait_log a.log 'Published blue.png \(160x160\) under key open \(2 files pasted; the last one wins\)'
shows "$WA" blue.png
# A plain path.
clip "$work/green.png"
paste "$WA"
wait_log a.log 'Published green.png \(200x100\)'
shows "$WA" green.png
# Not a path, not an image, a folder, a missing file: nothing changes.
clip "just some words"
paste "$WA"
wait_log a.log 'error: The clipboard holds no file path or file:// URI'
clip "file://$work/notes.png"
paste "$WA"
wait_log a.log 'error: notes.png is not an image shmimg can read'
clip "$work/folder"
paste "$WA"
wait_log a.log 'error: folder is a folder: drop an image file'
clip "file://$work/a%00b.png"
paste "$WA"
wait_log a.log 'error: The clipboard holds no file path or file:// URI'
# Escaped before it reaches the window and the terminal.
clip "$work/"$'\e[31mred.png'
paste "$WA"
wait_log a.log 'error: .*red.png'
grep -q $'\e' a.log && fail "an escape byte from the clipboard reached the terminal"; ok
sleep 1
shows "$WA" green.png
press "$WA" q
wait $A; [ $? = 0 ] || fail "A did not exit 0"; ok

# ---- O: a stand-in zenity that prints a path, then one that cancels --------
mkdir bin
# It stays open until the test lets it go (the file "release"): a second
# O while it is open must be refused, however slow the machine.
printf '#!/bin/sh\necho "$*" > %s/zenity-args\nwhile [ ! -e %s/release ]; do sleep 0.05; done\necho %s/blue.png\n' "$work" "$work" "$work" > bin/zenity
chmod +x bin/zenity
PATH=$work/bin:$PATH "$shmimg" --key open2 --geometry 480x356+0+0 > b.log 2>&1 & B=$!
WB=$(window_of $B) || exit 1
press "$WB" o
wait_log b.log 'Choose an image in the file chooser \(zenity\)'
press "$WB" ctrl+o   # while it is open (the loop is not waiting for it)
wait_log b.log 'The file chooser is open already'
touch release
wait_log b.log 'Published blue.png \(160x160\) under key open2'
shows "$WB" blue.png
grep -q -- '--file-selection' zenity-args || fail "zenity was run as: $(cat zenity-args)"; ok
printf '#!/bin/sh\nexit 1\n' > bin/zenity
press "$WB" ctrl+o
wait_log b.log 'No file chosen'
shows "$WB" blue.png
# Q while the chooser is open ends it and quits.
printf '#!/bin/sh\nexec sleep 60\n' > bin/zenity
press "$WB" o
wait_log b.log 'Choose an image'
press "$WB" q
wait $B; [ $? = 0 ] || fail "B did not exit 0 with the chooser open"; ok

# ---- no chooser at all ----------------------------------------------------------
mkdir empty
PATH=$work/empty "$shmimg" --key open3 --geometry 480x356+0+0 > c.log 2>&1 & C=$!
WC=$(window_of $C) || exit 1
press "$WC" o
wait_log c.log 'error: No file chooser on this system \(zenity or kdialog\): drag an image from your file manager and drop it here, or copy its path and press Ctrl\+V'
sleep 0.3
import -window "$WC" no-chooser.png
press "$WC" q
wait $C; [ $? = 0 ] || fail "C did not exit 0"; ok

[ -n "${SHMIMG_SHOTS:-}" ] && cp no-chooser.png "$SHMIMG_SHOTS/$SDL_RENDER_DRIVER-no-chooser.png"
echo "gui_open ($SDL_RENDER_DRIVER): $checks checks passed"
