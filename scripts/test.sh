#!/bin/sh
# The whole test suite: installs what it needs, builds with warnings as errors, runs every
# test in a plain, an ASan+UBSan and a qsbr build, the fuzz harnesses briefly, and QEMU with
# a Linux guest on dmar (scripts/qemu-test.sh), and ends with "N passed, N failed".
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

# the fuzzing harnesses (fuzz/): every build above replays their corpora and regression
# inputs (suite fuzz); here clang builds them for libFuzzer with ASan+UBSan and runs each
# for 10 s (suite libfuzzer).  Only the harnesses and the library are built in build-fuzz.
fuzz_opts="-Dfuzzing=enabled -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
	-Dc_args=-fsanitize=fuzzer-no-link -Dbenchmarks=disabled -Djemalloc=disabled"
if [ -f build-fuzz/build.ninja ]; then
	# shellcheck disable=SC2086
	meson setup --reconfigure build-fuzz $fuzz_opts >/dev/null
else
	# shellcheck disable=SC2086
	CC=clang meson setup build-fuzz $fuzz_opts >/dev/null
fi
fuzz_targets=$(meson introspect build-fuzz --tests | python3 -c 'import json, os, sys
print(" ".join(sorted({os.path.relpath(t["cmd"][1], os.path.abspath("build-fuzz"))
                       if os.path.isabs(t["cmd"][1]) else t["cmd"][1]
                       for t in json.load(sys.stdin)
                       if any(s.split(":")[-1] == "libfuzzer" for s in t["suite"])})))')
# shellcheck disable=SC2086
if ninja -C build-fuzz $fuzz_targets; then
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-fuzz --no-rebuild --suite libfuzzer --print-errorlogs || status=1
else
	status=1
	rm -f build-fuzz/meson-logs/testlog.json
fi

# a real emulator: Debian's QEMU built stock and with contrib/qemu's patches (linking this
# library from build-test), a Linux guest doing DMA through its Intel IOMMU on each
# (scripts/qemu-test.sh; DMAR_QEMU_TEST=0 leaves it out)
qemu_tap=build-test/qemu-test.tap
rm -f "$qemu_tap"
if [ "${DMAR_QEMU_TEST:-1}" != 0 ]; then
	{ DMAR_BUILD=build-test sh scripts/qemu-test.sh ||
		echo "not ok - scripts/qemu-test.sh exited with status $?"; } | tee "$qemu_tap"
	! grep -q '^not ok - ' "$qemu_tap" || status=1
	set -- "$qemu_tap"
else
	set --
fi

python3 scripts/summarize.py build-test/meson-logs/testlog.json build-test/meson-logs/benchlog.json \
	build-asan/meson-logs/testlog.json build-qsbr/meson-logs/testlog.json \
	build-fuzz/meson-logs/testlog.json "$@"
exit $status
