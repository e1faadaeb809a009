#!/bin/sh
# Builds the example device model the way a project outside this tree would: install the
# library into a scratch staging directory, compile ring_demo (the demo, its driver and the
# device model) with nothing but `pkg-config --cflags --libs dmar`, and run it (remapped with domain switches, and
# pass-through).  Usage: build-installed.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
. "$src/tests/stage-install.sh"
cmd="cc -std=c11 -O2 -Wall -Wextra -Werror $(pkg-config --cflags dmar) \
$src/examples/ring_demo.c $src/examples/ring_driver.c $src/examples/ring_dev.c \
-o $dest/ring_demo -pthread $(pkg-config --libs dmar)"
echo "$cmd"
$cmd
LD_LIBRARY_PATH="$libdir" "$dest/ring_demo" --descriptors 4000 --switch-us 300
LD_LIBRARY_PATH="$libdir" "$dest/ring_demo" --passthrough --descriptors 2000
