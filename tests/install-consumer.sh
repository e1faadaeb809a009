#!/bin/sh
# Installs the build into a scratch staging directory and builds tests/consumer/consumer.c
# against the installed files only, found with pkg-config, shared and static; runs both, and
# checks that the shared library exports the API and nothing else.
set -eu
build=$1
src=$2
. "$src/tests/stage-install.sh"
cflags=$(pkg-config --cflags dmar)
libs=$(pkg-config --libs dmar)
static_libs=$(pkg-config --static --libs dmar)
echo "pkg-config --cflags --libs dmar: $cflags $libs"
cc -std=c11 -Wall -Werror $cflags "$src/tests/consumer/consumer.c" -o "$dest/consumer" $libs
LD_LIBRARY_PATH="$libdir" "$dest/consumer"
if nm -D --defined-only "$libdir/libdmar.so" | awk '{print $3}' | grep -v '^dmar_[a-z]' | grep .; then
	echo "libdmar.so exports symbols outside the API"
	exit 1
fi
cc -std=c11 -Wall -Werror $cflags "$src/tests/consumer/consumer.c" -o "$dest/consumer-static" \
	"$libdir/libdmar.a" $static_libs
"$dest/consumer-static"
