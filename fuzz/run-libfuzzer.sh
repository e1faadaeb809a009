#!/bin/sh
# A bounded libFuzzer run (a meson test of suite 'libfuzzer'):
#   run-libfuzzer.sh EXE WORKDIR SECONDS DICT CORPUS_DIR...
# New inputs go to WORKDIR/corpus (never into the source tree), a crash to WORKDIR/artifacts;
# FUZZ_SECONDS overrides SECONDS.  Exit status 1 on any finding (libFuzzer's own, 77 for a
# crash and 70 for a timeout, would be a skip and a pass-or-fail to meson).
set -eu
exe=$1 work=$2 secs=${FUZZ_SECONDS:-$3} dict=$4
shift 4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
dirs=""
for d in "$@"; do
	[ -d "$d" ] && dirs="$dirs $d"
done
# shellcheck disable=SC2086
exec "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-dict="$dict" -artifact_prefix="$work/artifacts/" "$work/corpus" $dirs
