# Sourced by tests/install-consumer.sh and examples/build-installed.sh (with $build and $src
# set): installs the build into a scratch staging directory, removed on exit, and points
# pkg-config at it.  Sets $dest (the staging directory) and $libdir (where the libraries are
# under it).
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$dest"
pc=$(find "$dest" -name dmar.pc | head -n 1)
[ -n "$pc" ] || { echo "no dmar.pc installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
# the .pc file names the real prefix; the sysroot puts it under $dest, as a packager's
# staging directory would be
export PKG_CONFIG_SYSROOT_DIR="$dest"
libdir=$(pkg-config --variable=libdir dmar)
case "$libdir" in "$dest"/*) ;; *) libdir="$dest$libdir" ;; esac # pkgconf adds the sysroot itself
