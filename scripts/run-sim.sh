#!/bin/sh
# Builds dmar (release) and runs dmar-sim; arguments go to dmar-sim.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
if [ ! -f build-release/build.ninja ]; then
	meson setup build-release -Dbuildtype=release -Dbenchmarks=disabled >/dev/null
fi
ninja -C build-release >/dev/null
exec ./build-release/sim/dmar-sim "$@"
