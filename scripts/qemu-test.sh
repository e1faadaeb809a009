#!/bin/sh
# Builds Debian 12's QEMU (stock, and patched with contrib/qemu/*.patch when there are any),
# boots a Debian kernel with a busybox initramfs on q35 with an emulated Intel IOMMU under
# TCG, and checks DMA through it: virtio-blk reads and direct-I/O writes, and an edu DMA to
# an address the guest never mapped, which must fault.  The patched QEMU also prints dmar's
# statistics, records the guest's translations as a dmar trace (x-dmar-trace; copied to
# $DMAR_BUILD/qemu-guest.dmartrace, replayed by the build's bench_replay) and runs again with
# its cross-check on.  One "ok - ..." / "not ok - ..." line per check, then "N passed,
# N failed, N skipped"; exits non-zero when a check fails.
#
# Everything downloaded or built is cached outside the checkout, in
# ${DMAR_QEMU_CACHE:-$HOME/.cache/dmar-qemu}, so that a second run only boots and checks.
#
# Environment:
#   DMAR_QEMU_CACHE      cache directory (default $HOME/.cache/dmar-qemu)
#   DMAR_QEMU_PATCHES    directory of the patches (default contrib/qemu)
#   DMAR_BUILD           a dmar meson build directory: staged (meson install --destdir) into
#                        $DMAR_QEMU_CACHE/dmar-stage, the DMAR_PREFIX used then
#   DMAR_PREFIX          staged dmar install for the patched QEMU, e.g. the directory given to
#                        `meson install -C build-rel --destdir DIR` (one of the two is needed
#                        with patches); QEMU links libdmar.so from it dynamically and loads it
#                        from there at run time, so a library change needs no QEMU rebuild
#   QEMU_EXTRA_CFLAGS    extra CFLAGS for the patched QEMU (after dmar's own)
#   QEMU_EXTRA_LDFLAGS   extra LDFLAGS for the patched QEMU (after dmar's own)
#   QEMU_CONFIGURE_EXTRA extra configure options for both trees (e.g. --enable-debug-info)
#   DMAR_QEMU_JOBS       parallel build jobs (default 2)
#   DMAR_QEMU_TIMEOUT    seconds one guest boot may take (default 180)
#   DMAR_XCHECK_PROP     intel-iommu property that turns the patched QEMU's cross-check on
#                        (default x-dmar-check=on)
#
# Usage: sh scripts/qemu-test.sh [--fetch-only | --bench]
#   --fetch-only: download and unpack only
#   --bench: after the checks, time the patched QEMU's vtd_iommu_translate on QEMU's own
#            path (x-dmar=off) and on dmar's, and the guest's direct-I/O read rate in 4 KiB
#            and 64 KiB blocks, with and without the IOMMU (docs/performance.md)
set -eu
cd "$(dirname "$0")/.."
start=$(date +%s)
fetch_only=0
bench_mode=0
[ "${1:-}" = "--fetch-only" ] && fetch_only=1
[ "${1:-}" = "--bench" ] && bench_mode=1

CACHE=${DMAR_QEMU_CACHE:-${HOME:-/tmp}/.cache/dmar-qemu}
JOBS=${DMAR_QEMU_JOBS:-2}
TIMEOUT=${DMAR_QEMU_TIMEOUT:-180}
cold=""        # what this run had to download or build (empty: everything was cached)

log() { echo "qemu-test: $*" >&2; }
die() { log "error: $*"; exit 2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# apt as root warns that its sandbox user cannot write the download directory
APT_DL_OPTS=""
[ "$(id -u)" -eq 0 ] && APT_DL_OPTS="-o APT::Sandbox::User=root"

# --- host packages, installed only when missing (as scripts/deps.sh does) ---------------
# build: QEMU 7.2's minimal x86_64-softmmu; guest: SeaBIOS (the dfsg tarball has no
# firmware), modinfo for module dependencies, cpio for the initramfs
PKGS="gcc make ninja-build meson pkg-config python3 libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev
	dpkg-dev xz-utils patch seabios kmod cpio gzip"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
if [ -n "$missing" ]; then
	log "installing$missing"
	$SUDO apt-get update -qq
	apt_updated=1
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# apt-get source needs a deb-src entry; derive one from the deb entries when there is none
if ! grep -Eqs '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list \
	/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
	src=/etc/apt/sources.list.d/dmar-deb-src.sources
	log "adding $src"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
			$SUDO tee "$src" >/dev/null
	else
		# shellcheck disable=SC1091
		codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
		printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" \
			"Suites: $codename" "Components: main" \
			"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" | $SUDO tee "$src" >/dev/null
	fi
	$SUDO apt-get update -qq
	apt_updated=1
fi

# the version apt-get source would fetch, e.g. 7.2+dfsg-7+deb12u18 (from the local lists)
dsc_of_qemu() { apt-get source --print-uris qemu 2>/dev/null | awk '$2 ~ /\.dsc$/ { print $2 }'; }
dsc=$(dsc_of_qemu)
if [ -z "$dsc" ] && [ $apt_updated -eq 0 ]; then
	$SUDO apt-get update -qq
	dsc=$(dsc_of_qemu)
fi
[ -n "$dsc" ] || die "apt-get source knows no qemu"
qver=${dsc#qemu_}
qver=${qver%.dsc}

# the guest kernel: the package linux-image-amd64 depends on, e.g. linux-image-6.1.0-57-amd64
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || die "cannot tell which kernel linux-image-amd64 depends on"
kver=${kpkg#linux-image-}
kpkgver=$(apt-cache policy "$kpkg" | awk '$1 == "Candidate:" { print $2 }')
bbver=$(apt-cache policy busybox-static | awk '$1 == "Candidate:" { print $2 }')

# patches: applied in name order; their names and contents make the patched tree's key
patches=""
PATCHDIR=${DMAR_QEMU_PATCHES:-contrib/qemu}
if [ -d "$PATCHDIR" ]; then PATCHDIR=$(cd "$PATCHDIR" && pwd); fi
for f in "$PATCHDIR"/*.patch; do
	if [ -f "$f" ]; then patches="$patches $f"; fi
done
phash=""
if [ -n "$patches" ]; then
	# shellcheck disable=SC2086
	phash=$(for f in $patches; do echo "${f##*/}"; cat "$f"; done | sha256sum | cut -c1-12)
fi

QDIR=$CACHE/qemu-$qver
KDIR=$CACHE/kernel-$kver-$kpkgver
BBDIR=$CACHE/busybox-$(echo "$bbver" | tr : _)
mkdir -p "$CACHE"
# keep the cache small: drop other QEMU versions, kernels and busyboxes, and stale patch sets
for d in "$CACHE"/qemu-* "$CACHE"/kernel-* "$CACHE"/busybox-*; do
	case $d in "$QDIR" | "$KDIR" | "$BBDIR" | *'*') ;; *) log "removing stale $d"; rm -rf "$d" ;; esac
done
for d in "$QDIR"/patched-*; do
	case $d in "$QDIR/patched-$phash" | *'*') ;; *) log "removing stale $d"; rm -rf "$d" ;; esac
done

# --- QEMU source ----------------------------------------------------------------------
if [ ! -f "$QDIR/dl/$dsc" ]; then
	log "downloading QEMU $qver source"
	rm -rf "$QDIR/dl"
	rm -rf "$QDIR/dl.tmp"
	mkdir -p "$QDIR/dl.tmp"
	# shellcheck disable=SC2086
	(cd "$QDIR/dl.tmp" && apt-get source -qq $APT_DL_OPTS --download-only qemu >/dev/null)
	mv "$QDIR/dl.tmp" "$QDIR/dl"
	cold="$cold download"
fi

# unpack (dpkg-source applies Debian's patches) into $1/src, then apply contrib patches
unpack() { # tree-dir patch-files...
	dir=$1
	shift
	[ -f "$dir/src/.dmar-unpacked" ] && return 0
	log "unpacking QEMU into $dir/src"
	rm -rf "$dir/src"
	mkdir -p "$dir"
	# apt checked the files against the signed archive; dpkg-source's gpgv has no keyring
	if ! dpkg-source --no-copy -x "$QDIR/dl/$dsc" "$dir/src" >"$dir/unpack.log" 2>&1; then
		cat "$dir/unpack.log" >&2
		die "dpkg-source failed"
	fi
	for p in "$@"; do
		log "applying ${p##*/}"
		patch -s -p1 -d "$dir/src" <"$p"
	done
	touch "$dir/src/.dmar-unpacked"
}
unpack "$QDIR/stock"
if [ -n "$patches" ]; then
	# shellcheck disable=SC2086
	unpack "$QDIR/patched-$phash" $patches
fi

# --- guest kernel, modules and busybox --------------------------------------------------
# modules the guest loads (with their dependencies), in load order
GUEST_MODULES="virtio_pci virtio_blk"
if [ ! -f "$KDIR/modules.load" ]; then
	log "downloading $kpkg"
	rm -rf "$KDIR" "$KDIR.tmp"
	mkdir -p "$KDIR.tmp/x" "$KDIR.tmp/lib"
	# shellcheck disable=SC2086
	(cd "$KDIR.tmp" && apt-get download -qq $APT_DL_OPTS "$kpkg=$kpkgver" >/dev/null)
	dpkg-deb -x "$KDIR.tmp"/*.deb "$KDIR.tmp/x"
	mdir=$KDIR.tmp/x/lib/modules/$kver
	cp "$KDIR.tmp/x/boot/vmlinuz-$kver" "$KDIR.tmp/vmlinuz"
	order=""
	modfile() { find "$mdir" -name "$1.ko*" | head -n 1; }
	add_module() { # name: dependencies first, then the module; built-in ones are skipped
		case " $order " in *" $1 "*) return 0 ;; esac
		if [ -z "$(modfile "$1")" ]; then
			grep -q "/$1.ko\$" "$mdir/modules.builtin" && return 0
			die "module $1 not in $kpkg"
		fi
		for dep in $(modinfo -F depends "$(modfile "$1")" | tr ',' ' '); do
			add_module "$(echo "$dep" | tr - _)"
		done
		ko=$(modfile "$1")
		# Debian 12 ships plain .ko files; decompress in case a later kernel does not
		case $ko in
		*.ko) cp "$ko" "$KDIR.tmp/lib/$1.ko" ;;
		*.ko.xz) xz -dc "$ko" >"$KDIR.tmp/lib/$1.ko" ;;
		*.ko.zst) zstd -qdc "$ko" >"$KDIR.tmp/lib/$1.ko" ;;
		*.ko.gz) gzip -dc "$ko" >"$KDIR.tmp/lib/$1.ko" ;;
		esac
		order="$order $1"
	}
	for m in $GUEST_MODULES; do
		add_module "$m"
	done
	echo "$order" | tr ' ' '\n' | sed '/^$/d' >"$KDIR.tmp/modules.load"
	rm -rf "$KDIR.tmp/x" "$KDIR.tmp"/*.deb
	mv "$KDIR.tmp" "$KDIR"
	cold="$cold kernel"
fi
if [ ! -x "$BBDIR/busybox" ]; then
	log "downloading busybox-static"
	rm -rf "$BBDIR" "$BBDIR.tmp"
	mkdir -p "$BBDIR.tmp/x"
	# shellcheck disable=SC2086
	(cd "$BBDIR.tmp" && apt-get download -qq $APT_DL_OPTS "busybox-static=$bbver" >/dev/null)
	dpkg-deb -x "$BBDIR.tmp"/*.deb "$BBDIR.tmp/x"
	cp "$BBDIR.tmp/x/bin/busybox" "$BBDIR.tmp/busybox"
	rm -rf "$BBDIR.tmp/x" "$BBDIR.tmp"/*.deb
	mv "$BBDIR.tmp" "$BBDIR"
	cold="$cold busybox"
fi
if [ $fetch_only -eq 1 ]; then
	log "fetched into $CACHE ($(du -sh "$CACHE" | cut -f1))"
	exit 0
fi

# --- build ------------------------------------------------------------------------------
# TCG only, default devices (q35, intel-iommu, virtio-blk-pci and edu, which needs
# TEST_DEVICES, a default of the x86 machines), no tools, docs or optional libraries.
# Debian's skip-meson-pc-bios.diff keeps meson out of pc-bios/, whose edk2 images the dfsg
# tarball lacks; --disable-install-blobs stops configure requiring bzip2 for them too.
CONFIGURE="--target-list=x86_64-softmmu --without-default-features --enable-tcg
	--disable-tools --disable-docs --disable-install-blobs --disable-werror --disable-debug-info
	${QEMU_CONFIGURE_EXTRA:-}"

build() { # tree-dir extra-cflags extra-ldflags
	dir=$1
	cflags=$2 ldflags=$3
	# shellcheck disable=SC2086
	set -- $CONFIGURE
	[ -z "$cflags" ] || set -- "$@" --extra-cflags="$cflags"
	[ -z "$ldflags" ] || set -- "$@" --extra-ldflags="$ldflags"
	want="$*"
	if [ ! -f "$dir/src/build/.dmar-configured" ] ||
		[ "$(cat "$dir/src/build/.dmar-configured")" != "$want" ]; then
		log "configuring $dir"
		rm -rf "$dir/src/build"
		mkdir -p "$dir/src/build"
		if ! (cd "$dir/src/build" && ../configure "$@" >configure.log 2>&1); then
			tail -n 30 "$dir/src/build/configure.log" >&2
			die "configure failed (log: $dir/src/build/configure.log)"
		fi
		echo "$want" >"$dir/src/build/.dmar-configured"
		rm -f "$dir/src/build/.dmar-built"
	fi
	# only the emulator (not the qtests); a no-op when nothing changed, and ninja tracks
	# the headers, dmar's included
	if [ ! -f "$dir/src/build/.dmar-built" ]; then
		log "building $dir (ninja -j$JOBS, several minutes)"
		cold="$cold build"
	fi
	if ! ninja -C "$dir/src/build" -j"$JOBS" qemu-system-x86_64 >"$dir/src/build/ninja.log" 2>&1; then
		grep -E -B2 -A8 'error|Error' "$dir/src/build/ninja.log" | tail -n 40 >&2
		die "build failed (log: $dir/src/build/ninja.log)"
	fi
	# the x86 option ROMs (-kernel needs linuxboot_dma.bin): configure builds them only when
	# i386-softmmu is a target, so build them as Debian does, with its debian/optionrom.mak
	mkdir -p "$dir/src/build/optionrom"
	if ! make -f "$dir/src/debian/optionrom.mak" -C "$dir/src/build/optionrom" \
		SRC_PATH="$dir/src" all >"$dir/src/build/optionrom/make.log" 2>&1; then
		cat "$dir/src/build/optionrom/make.log" >&2
		die "option ROM build failed"
	fi
	touch "$dir/src/build/.dmar-built"
}

build "$QDIR/stock" "" ""
QEMUS="stock"

DMAR_LIBDIR=""
if [ -n "$patches" ] && [ -z "${DMAR_PREFIX:-}" ] && [ -n "${DMAR_BUILD:-}" ]; then
	# always the same directory, so that QEMU's configuration does not change with it
	DMAR_PREFIX=$CACHE/dmar-stage
	rm -rf "$DMAR_PREFIX"
	meson install -C "$DMAR_BUILD" --no-rebuild --quiet --destdir "$DMAR_PREFIX" >/dev/null
fi
if [ -n "$patches" ]; then
	[ -n "${DMAR_PREFIX:-}" ] ||
		die "there are patches in $PATCHDIR: set DMAR_BUILD to a dmar build directory, or
	DMAR_PREFIX to a staged install (meson install -C build-rel --destdir /tmp/dmar-stage)"
	# the staged dmar.pc still names the install prefix: write one that points into the
	# stage, so that both pkg-config (meson's dependency('dmar')) and the flags below find it
	pc=$(find "$DMAR_PREFIX" -name dmar.pc -path '*/pkgconfig/*' | head -n 1)
	[ -n "$pc" ] || die "no dmar.pc under DMAR_PREFIX=$DMAR_PREFIX"
	DMAR_PREFIX=$(cd "$DMAR_PREFIX" && pwd)
	oldprefix=$(sed -n 's/^prefix=//p' "$pc")
	case $pc in
	"$DMAR_PREFIX$oldprefix"/*) newprefix=$DMAR_PREFIX$oldprefix ;; # a --destdir tree
	*) newprefix=$oldprefix ;;                                        # a real prefix
	esac
	mkdir -p "$QDIR/patched-$phash/pkgconfig"
	sed "s|^prefix=.*|prefix=$newprefix|" "$pc" >"$QDIR/patched-$phash/pkgconfig/dmar.pc"
	PKG_CONFIG_PATH=$QDIR/patched-$phash/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
	export PKG_CONFIG_PATH
	DMAR_LIBDIR=$(pkg-config --variable=libdir dmar)
	# the hook for the patches: dmar's include and library paths, plus anything extra
	build "$QDIR/patched-$phash" \
		"$(pkg-config --cflags dmar) ${QEMU_EXTRA_CFLAGS:-}" \
		"-L$DMAR_LIBDIR ${QEMU_EXTRA_LDFLAGS:-}"
	QEMUS="stock patched"
else
	log "no patches in $PATCHDIR: only stock QEMU is built and tested"
fi

# --- initramfs --------------------------------------------------------------------------
RUN=$CACHE/run
rm -rf "$RUN"
mkdir -p "$RUN/initramfs/bin" "$RUN/initramfs/lib/modules" "$RUN/initramfs/etc" \
	"$RUN/initramfs/dev" "$RUN/initramfs/proc" "$RUN/initramfs/sys" "$RUN/initramfs/tmp"
DISK_MIB=32          # random disk image the guest reads whole
DIO_MIB=5            # where the guest writes 1 MiB with direct I/O
EDU_IOVA=0x5ab0000   # bus address the edu device reads from; nothing maps it (edu masks 28 bits)
EDU_SLOT=04          # PCI slot of edu on the root bus (virtio-blk is on 03)
# shellcheck disable=SC2034 # used in a check's condition
EDU_BDF=00:$EDU_SLOT.0
ir=$RUN/initramfs
cp "$BBDIR/busybox" "$ir/bin/busybox"
ln -s busybox "$ir/bin/sh"
cp "$KDIR"/lib/*.ko "$ir/lib/modules/"
cp "$KDIR/modules.load" "$ir/etc/modules.load"
BENCH_PASSES=4       # --bench: reads of the whole disk per boot
printf 'DIO_MIB=%s\nEDU_IOVA=%s\nPASSES=%s\n' "$DIO_MIB" "$EDU_IOVA" "$BENCH_PASSES" >"$ir/etc/test.conf"
# the guest prints "@@ key value" lines for the host to check
cat >"$ir/init" <<'EOF'
#!/bin/sh
/bin/busybox mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox --install -s /bin
. /etc/test.conf
for m in $(cat /etc/modules.load); do
	insmod "/lib/modules/$m.ko" || echo "@@ insmod-failed $m"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

# --bench boots: the whole disk read PASSES times with O_DIRECT in blocks of dmar_bench=BS
bs=$(sed -n 's/.*dmar_bench=\([0-9a-zA-Z]*\).*/\1/p' /proc/cmdline)
if [ -n "$bs" ]; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	for i in $(seq "$PASSES"); do
		dd if=/dev/vda of=/dev/null bs="$bs" iflag=direct 2>/dev/null || echo "@@ bench-failed"
	done
	echo "@@ bench $t0 $(cut -d' ' -f1 /proc/uptime)"
	poweroff -f
fi

# a. the whole disk, through virtio-blk DMA in a translated (not identity) IOMMU domain
echo "@@ vda-domain $(cat /sys/block/vda/device/../iommu_group/type 2>/dev/null)"
echo "@@ disk-sha256 $(sha256sum /dev/vda | cut -d' ' -f1)"

# b. 1 MiB written and read back with O_DIRECT, so that the DMA is from and to user pages
dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 2>/dev/null
dd if=/tmp/pattern of=/dev/vda bs=1M seek="$DIO_MIB" count=1 oflag=direct conv=notrunc,fsync \
	2>/dev/null || echo "@@ dio-write-failed"
dd if=/dev/vda of=/tmp/back bs=1M skip="$DIO_MIB" count=1 iflag=direct 2>/dev/null ||
	echo "@@ dio-read-failed"
echo "@@ dio-written $(sha256sum </tmp/pattern | cut -d' ' -f1)"
echo "@@ dio-read $(sha256sum </tmp/back | cut -d' ' -f1)"

# c. edu (no driver): memory decoding and bus mastering on, then a 64-byte DMA read
# (RAM -> edu buffer at 0x40000) from a bus address its DMA domain does not map
edu=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor") $(cat "$d/device")" = "0x1234 0x11e8" ] && edu=$d
done
if [ -n "$edu" ]; then
	echo "@@ edu-bdf ${edu##*/}"
	echo 1 >"$edu/enable"
	cmd=$(dd if="$edu/config" bs=1 skip=4 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf %o $((cmd | 6)))" | dd of="$edu/config" bs=1 seek=4 count=1 conv=notrunc 2>/dev/null
	read -r bar _ <"$edu/resource"
	bar=$((bar))
	echo "@@ edu-id $(devmem $bar 32)"
	devmem $((bar + 0x80)) 64 "$EDU_IOVA"
	devmem $((bar + 0x88)) 64 0x40000
	devmem $((bar + 0x90)) 64 64
	devmem $((bar + 0x98)) 64 1
	sleep 1
	echo "@@ edu-cmd-after $(devmem $((bar + 0x98)) 64)"
	dmesg | grep 'DMAR: \[DMA' | sed 's/^/@@ dmesg /'
fi
echo "@@ done"
sync
poweroff -f
EOF
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$RUN/initramfs.gz"

# --- boot and check ---------------------------------------------------------------------
passed=0
failed=0
skipped=0
failed_logs=""
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
skip() { echo "skip - $*"; skipped=$((skipped + 1)); }
check() { # description shell-condition
	if eval "$2"; then ok "$1"; else notok "$1"; fi
}
val() { sed -n "s/^@@ $1 //p" "$2" | tr -d '\r' | head -n 1; }

# One guest run: the options every boot shares, then @4..., then the disk on virtio-blk
# (after them, so that an IOMMU among them exists before the device).  The guest's console
# goes to out-dir/console.log, QEMU's output to out-dir/qemu.log; QEMU's exit status.  The
# option ROMs come from the build, the BIOS from seabios.
qemu_guest() { # qemu-binary out-dir disk-image qemu-options...
	gq=$1 go=$2 gd=$3
	shift 3
	LD_LIBRARY_PATH=${DMAR_LIBDIR}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
		timeout "$TIMEOUT" "$gq" -L "$(dirname "$gq")/optionrom" -L /usr/share/seabios \
		-accel tcg -m 512M -smp 1 -nodefaults -nographic \
		-serial "file:$go/console.log" -no-reboot "$@" \
		-drive "if=none,id=d0,format=raw,file=$gd" \
		-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,addr=03.0 \
		-kernel "$KDIR/vmlinuz" -initrd "$RUN/initramfs.gz" </dev/null >"$go/qemu.log" 2>&1
}

boot() { # name qemu-binary out-dir [intel-iommu extra properties]
	bname=$1 bqemu=$2 bout=$3
	iommu_extra=${4:+,$4}
	mkdir -p "$bout"
	dd if=/dev/urandom of="$bout/disk.img" bs=1M count=$DISK_MIB status=none
	sha256sum <"$bout/disk.img" | cut -d' ' -f1 >"$bout/disk.sha256"
	log "booting the guest on $bname QEMU"
	bstart=$(date +%s)
	rc=0
	# kernel-irqchip=split matters only under KVM; under TCG intel-iommu remaps interrupts
	# anyway (intremap=auto)
	qemu_guest "$bqemu" "$bout" "$bout/disk.img" -machine q35,kernel-irqchip=split \
		-device "intel-iommu,aw-bits=48$iommu_extra" -device edu,addr=$EDU_SLOT.0 \
		-append "console=ttyS0 intel_iommu=on iommu.strict=1 panic=-1" || rc=$?
	echo "$rc" >"$bout/rc"
	log "$bname guest ran $(($(date +%s) - bstart)) s (qemu exit status $rc)"
}

# shellcheck disable=SC2016,SC2034 # the conditions are evaluated by check()
checks() { # name out-dir
	name=$1 out=$2
	con=$out/console.log
	touch "$con"
	rc=$(cat "$out/rc")
	nf0=$failed
	check "$name: guest booted, ran its checks and powered off (qemu exit status $rc)" \
		'[ "$rc" -eq 0 ] && grep -q "^@@ done" "$con"'

	dom=$(val vda-domain "$con")
	check "$name: virtio-blk is in a strict translated IOMMU domain (group type ${dom:-none})" \
		'[ "$dom" = DMA ]'
	host=$(cat "$out/disk.sha256")
	guest=$(val disk-sha256 "$con")
	check "$name: guest reads the whole ${DISK_MIB} MiB disk through the IOMMU, sha256 as on the host" \
		'[ -n "$guest" ] && [ "$guest" = "$host" ]'

	w=$(val dio-written "$con")
	r=$(val dio-read "$con")
	h=$(dd if="$out/disk.img" bs=1M skip=$DIO_MIB count=1 status=none | sha256sum | cut -d' ' -f1)
	check "$name: 1 MiB direct-I/O write reads back the same in the guest" \
		'[ -n "$w" ] && [ "$w" = "$r" ] && ! grep -q "^@@ dio-.*-failed" "$con"'
	check "$name: the host's image holds the guest's direct-I/O write" '[ -n "$w" ] && [ "$w" = "$h" ]'

	bdf=$(val edu-bdf "$con")
	iova=$(printf '%x' "$EDU_IOVA")
	check "$name: edu DMA read from unmapped bus address $EDU_IOVA faults (DMAR fault in dmesg, edu at ${bdf:-?})" \
		'grep -Eq "DMAR: \[DMA Read[^]]*\] Request device \[$EDU_BDF\] fault addr 0x0*$iova " "$con"'

	[ $failed -eq "$nf0" ] || failed_logs="$failed_logs $out"
}

# a number from the patched QEMU's statistics at exit: on the first line that starts with
# $2, the number before the word(s) $3 ("dmar: 12126 translations, ...")
stat() { # file prefix words
	awk -v p="$2" -v k="$3" 'index($0, p) == 1 {
		n = split($0, a, " "); m = split(k, b, " ")
		for (i = 1; i <= n - m; i++) {
			ok = a[i] ~ /^[(]?[0-9]+$/
			for (j = 1; j <= m && ok; j++) {
				w = a[i + j]; gsub(/[,;()]/, "", w); ok = w == b[j]
			}
			if (ok) { v = a[i]; gsub(/[(]/, "", v); print v; exit }
		}
	}' "$1"
}

# checks that only the patched QEMU has: dmar's statistics at exit, where they must not be 0,
# and the translations through dmar cross-checked against QEMU's own walker
# shellcheck disable=SC2016,SC2034
patched_checks() { # out-dir
	pout=$1
	ql=$pout/qemu.log
	nf0=$failed
	n_xl=$(stat "$ql" "dmar: " translations)
	n_hit=$(stat "$ql" "dmar: " hits)
	n_walk=$(stat "$ql" "dmar: " walks)
	n_pte=$(stat "$ql" "dmar: " "entries read")
	n_fault=$(stat "$ql" "dmar: " faults)
	n_page=$(stat "$ql" "dmar: invalidations:" page)
	n_ctx=$(stat "$ql" "dmar: invalidations:" context)
	n_bind=$(stat "$ql" "dmar: invalidations:" bindings)
	check "patched: dmar's statistics at exit: ${n_xl:-?} translations, ${n_hit:-?} hits, ${n_walk:-?} walks reading ${n_pte:-?} entries, ${n_fault:-?} faults (the edu DMA), ${n_page:-?} page and ${n_ctx:-?} context invalidations, ${n_bind:-?} device bindings" \
		'[ "${n_xl:-0}" -gt 1000 ] && [ "${n_hit:-0}" -gt 0 ] && [ "${n_walk:-0}" -gt 0 ] &&
		 [ "${n_pte:-0}" -gt 0 ] && [ "${n_fault:-0}" -ge 1 ] && [ "${n_page:-0}" -gt 0 ] &&
		 [ "${n_ctx:-0}" -gt 0 ] && [ "${n_bind:-0}" -ge 2 ] &&
		 [ "$n_xl" -eq $((n_hit + n_walk)) ]'
	# the guest trace (x-dmar-trace): every translation in it, and dmar's bench_replay, when
	# the build has it, replays it against dmar and the peers with every answer checked
	n_tr=$(stat "$ql" "dmar: " "translations traced")
	tr=$pout/guest.dmartrace
	check "patched: the guest's ${n_tr:-?} translations and its invalidations saved as a dmar trace ($(wc -c <"$tr" 2>/dev/null || echo 0) bytes)" \
		'[ "${n_tr:-0}" -gt 1000 ] && [ "$n_tr" -eq "${n_xl:-0}" ] && [ -s "$tr" ]'
	rb=${DMAR_BUILD:+$DMAR_BUILD/bench/bench_replay}
	if [ -n "$rb" ] && [ -x "$rb" ] && [ -s "$tr" ]; then
		cp "$tr" "$DMAR_BUILD/qemu-guest.dmartrace"
		DMAR_BENCH_TRACE=$tr "$rb" --benchmark_min_time=0.01 >"$pout/replay.log" 2>&1
		check "patched: bench_replay replays the guest trace on dmar and the peers, every answer as recorded (saved as $DMAR_BUILD/qemu-guest.dmartrace)" \
			'[ "$(grep -c "^replay/guest/" "$pout/replay.log")" -eq 4 ] &&
			 ! grep -q "ERROR\|wrong answer\|error_message" "$pout/replay.log"'
	else
		skip "patched: replay of the guest trace (no bench_replay in \$DMAR_BUILD)"
	fi
	boot "patched (cross-check on)" "$QDIR/patched-$phash/src/build/qemu-system-x86_64" \
		"$pout-xcheck" "${DMAR_XCHECK_PROP:-x-dmar-check=on}"
	checks "patched, cross-check on" "$pout-xcheck"
	x_xl=$(stat "$pout-xcheck/qemu.log" "dmar: " translations)
	x_chk=$(stat "$pout-xcheck/qemu.log" "dmar: invalidations:" "translations cross-checked")
	check "patched, cross-check on: every one of ${x_xl:-?} translations made by QEMU's walker too, no difference (${x_chk:-?} compared)" \
		'[ "${x_xl:-0}" -gt 1000 ] && [ "${x_chk:-0}" -eq "$x_xl" ] &&
		 ! grep -q "dmar and QEMU disagree" "$pout-xcheck/qemu.log"'
	[ $failed -eq "$nf0" ] || failed_logs="$failed_logs $pout $pout-xcheck"
}

# shellcheck disable=SC2016
for q in $QEMUS; do
	case $q in
	stock) bin=$QDIR/stock/src/build/qemu-system-x86_64 ;;
	patched) bin=$QDIR/patched-$phash/src/build/qemu-system-x86_64 ;;
	esac
	trace=
	[ "$q" = patched ] && trace=x-dmar-trace=$RUN/$q/guest.dmartrace
	boot "$q" "$bin" "$RUN/$q" "$trace"
	checks "$q" "$RUN/$q"
	if [ "$q" = patched ]; then
		check "patched: qemu-system-x86_64 loads libdmar from $DMAR_LIBDIR" \
			'LD_LIBRARY_PATH=$DMAR_LIBDIR ldd "$bin" | grep -q "libdmar.*=> $DMAR_LIBDIR/"'
		patched_checks "$RUN/$q"
	fi
done
if [ -z "$patches" ]; then
	skip "patched: all checks (no patches in $PATCHDIR, no patched QEMU was built)"
	skip "patched: statistics at exit (no patched QEMU)"
	skip "patched: cross-check property on (no patched QEMU)"
	skip "patched: guest trace and its replay (no patched QEMU)"
fi

# --- --bench: the cost of one vtd_iommu_translate call and the guest's I/O rate ----------
# One boot per (QEMU, IOMMU path, block size, repetition); the guest reads its whole disk
# BENCH_PASSES times with O_DIRECT.  x-translate-timing counts the calls and the host ticks
# spent in them; QEMU's own path is the patched binary with x-dmar=off (the same code as
# stock QEMU's, with the same timing around it).  Medians of BENCH_REPS boots.
bench_boot() { # qemu-binary out-dir iommu(on|off) intel-iommu-properties block-size
	mkdir -p "$2"
	[ -f "$2/../disk.img" ] || dd if=/dev/urandom of="$2/../disk.img" bs=1M count=$DISK_MIB status=none
	if [ "$3" = on ]; then
		set -- "$1" "$2" "$5" -device "intel-iommu,aw-bits=48,x-translate-timing=on${4:+,$4}" \
			-append "console=ttyS0 intel_iommu=on iommu.strict=1 panic=-1 dmar_bench=$5"
	else
		set -- "$1" "$2" "$5" -append "console=ttyS0 intel_iommu=off panic=-1 dmar_bench=$5"
	fi
	bq=$1 bo=$2
	shift 3
	qemu_guest "$bq" "$bo" "$bo/../disk.img" -machine q35 "$@" ||
		log "bench boot in $bo: qemu exit status $?"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "?" }'; }
if [ $bench_mode -eq 1 ]; then
	[ -n "$patches" ] || die "--bench needs the patched QEMU (contrib/qemu/*.patch)"
	BENCH_REPS=${DMAR_QEMU_BENCH_REPS:-3}
	pbin=$QDIR/patched-$phash/src/build/qemu-system-x86_64
	sbin=$QDIR/stock/src/build/qemu-system-x86_64
	B=$RUN/bench
	echo "bench: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $DISK_MIB MiB read $BENCH_PASSES times per boot, medians of $BENCH_REPS boots"
	for bs in 4k 64k; do
		for cfg in "qemu-path:$pbin:on:x-dmar=off" "dmar:$pbin:on:x-dmar=on" \
			"stock-no-iommu:$sbin:off:" "patched-no-iommu:$pbin:off:"; do
			name=${cfg%%:*} rest=${cfg#*:}
			bin=${rest%%:*} rest=${rest#*:}
			iommu=${rest%%:*} props=${rest#*:}
			: >"$B.ns"
			: >"$B.rate"
			: >"$B.calls"
			for rep in $(seq "$BENCH_REPS"); do
				o=$B/$bs-$name-$rep
				log "bench: $bs $name ($rep of $BENCH_REPS)"
				bench_boot "$bin" "$o" "$iommu" "$props" "$bs"
				sed -n 's/.* translate calls, \([0-9.]*\) ns each.*/\1/p' "$o/qemu.log" >>"$B.ns"
				sed -n 's/^intel_iommu: \([0-9]*\) translate calls.*/\1/p' "$o/qemu.log" >>"$B.calls"
				tr -d '\r' <"$o/console.log" | awk -v mib=$((DISK_MIB * BENCH_PASSES)) \
					'$1 == "@@" && $2 == "bench" { printf "%.1f\n", mib / ($4 - $3) }' >>"$B.rate"
			done
			printf 'bench: bs=%-3s %-16s %8s ns per translate call (%s calls)  %6s MiB/s\n' \
				"$bs" "$name" "$(median <"$B.ns")" "$(median <"$B.calls")" "$(median <"$B.rate")"
		done
	done
fi

took=$(($(date +%s) - start))
if [ -n "$cold" ]; then
	echo "time: ${took} s (cold:$cold)"
else
	echo "time: ${took} s (warm: everything cached in $CACHE)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
if [ $failed -eq 0 ]; then
	rm -f "$RUN"/*/disk.img # logs stay in $RUN until the next run
else
	for out in $failed_logs; do
		echo "--- guest console ($out/console.log) ---"
		tr -d '\r' <"$out/console.log"
		echo "--- qemu output ($out/qemu.log) ---"
		cat "$out/qemu.log"
	done
	exit 1
fi
