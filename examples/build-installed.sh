#!/bin/sh
# Builds the example device model the way a project outside this tree would: install the
# library into a scratch staging directory, compile examples/*.c with nothing but
# `pkg-config --cflags --libs dmar`, and run it (remapped with domain switches, and
# pass-through).  Usage: build-installed.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$dest"
pc=$(find "$dest" -name dmar.pc | head -n 1)
[ -n "$pc" ] || { echo "no dmar.pc installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$dest" # the .pc names the real prefix; $dest holds it
libdir=$(pkg-config --variable=libdir dmar)
case "$libdir" in "$dest"/*) ;; *) libdir="$dest$libdir" ;; esac
cmd="cc -std=c11 -O2 -Wall -Wextra -Werror $(pkg-config --cflags dmar) \
$src/examples/ring_demo.c $src/examples/ring_dev.c -o $dest/ring_demo -pthread $(pkg-config --libs dmar)"
echo "$cmd"
$cmd
LD_LIBRARY_PATH="$libdir" "$dest/ring_demo" --descriptors 4000 --switch-us 300
LD_LIBRARY_PATH="$libdir" "$dest/ring_demo" --passthrough --descriptors 2000
