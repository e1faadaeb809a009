#!/bin/sh
# Installs the Debian 12 packages dmar builds with, if any is missing.  Idempotent: with
# everything present it only checks.  Needs root (or sudo) when something must be installed.
set -eu
PKGS="meson ninja-build pkg-config gcc g++ python3 liburcu-dev libjemalloc-dev libbenchmark-dev libglib2.0-dev libjson-glib-dev libxxhash-dev libsimde-dev doxygen python3-matplotlib clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
