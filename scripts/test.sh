#!/bin/sh
# The whole test suite: installs what it needs, builds with warnings as errors, runs every
# test in a plain build and in an ASan+UBSan build, and ends with "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh

setup() { # dir, options...
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

status=0
setup build-test -Dwerror=true -Dbuildtype=debugoptimized -Dbenchmarks=enabled
meson test -C build-test --print-errorlogs || status=1
# every benchmark runs briefly too, so that none rots (a check, not a measurement)
meson test -C build-test --benchmark --logbase benchlog --print-errorlogs || status=1
# jemalloc and the benchmarks stay out of the sanitizer build
setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbenchmarks=disabled -Djemalloc=disabled
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs || status=1

# the other RCU flavor builds and passes too
setup build-qsbr -Dwerror=true -Drcu_flavor=qsbr -Dbenchmarks=disabled
meson test -C build-qsbr --print-errorlogs || status=1

python3 scripts/summarize.py build-test/meson-logs/testlog.json build-test/meson-logs/benchlog.json \
	build-asan/meson-logs/testlog.json build-qsbr/meson-logs/testlog.json
exit $status
