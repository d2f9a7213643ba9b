#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the small x86_64 test kernel for the VM suite from Debian's
# linux-source-6.12 package: tinyconfig plus tests/vm/kernel.config.  With
# VM_KERNEL=6.1, the second test kernel instead: linux-source-6.1 plus
# tests/vm/kernel-6.1.config (no PAGEMAP_SCAN, no page idle tracking).
#
# The bzImage is cached under build/vm/cache/<hash>/bzImage, where <hash>
# covers the config fragment and the source package version, so a second
# run only prints the path.  On success the last line of stdout is the path
# of the bzImage.  Exit 77 (skip) when the tools or the source cannot be
# installed; any other non-zero status is a real failure.
#
# Environment: VM_BUILD (default build/vm), VM_JOBS (default nproc),
# VM_KERNEL (6.12, the default, or 6.1).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
kver=${VM_KERNEL:-6.12}
case "$kver" in
6.12)
	frag=$root/tests/vm/kernel.config
	# Options the guest tests depend on.
	essential="DAMON DAMON_VADDR DAMON_PADDR DAMON_SYSFS IDLE_PAGE_TRACKING SWAP ZRAM EXT2_FS
PROC_PAGE_MONITOR FUSE_FS SERIAL_8250_CONSOLE BLK_DEV_INITRD DEVTMPFS TMPFS
USERFAULTFD BINFMT_ELF BINFMT_SCRIPT"
	# Options that must stay off.
	absent=
	;;
6.1)
	frag=$root/tests/vm/kernel-6.1.config
	essential="PROC_PAGE_MONITOR FUSE_FS SERIAL_8250_CONSOLE BLK_DEV_INITRD DEVTMPFS TMPFS
USERFAULTFD BINFMT_ELF BINFMT_SCRIPT"
	# The point of this kernel: udamon must do without page idle tracking.
	absent="PAGE_IDLE_FLAG IDLE_PAGE_TRACKING DAMON"
	;;
*)
	echo "build-kernel: VM_KERNEL=$kver: expected 6.12 or 6.1" >&2
	exit 2
	;;
esac
pkg=linux-source-$kver
out=${VM_BUILD:-$root/build/vm}
jobs=${VM_JOBS:-$(nproc 2>/dev/null || echo 2)}

skip() {
	echo "build-kernel: skip: $*" >&2
	exit 77
}

# need_pkgs PKG...: install the packages that are not installed yet.
need_pkgs() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	command -v apt-get >/dev/null || skip "no apt-get to install ${missing[*]}"
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null && sudo -n true 2>/dev/null ||
			skip "not root and no sudo to install ${missing[*]}"
		sudo="sudo -n"
	fi
	echo "build-kernel: installing ${missing[*]}" >&2
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y \
		--no-install-recommends "${missing[@]}" >&2; then
		# A stale package list is the usual reason; refresh once.
		$sudo apt-get update >&2 || true
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y \
			--no-install-recommends "${missing[@]}" >&2 ||
			skip "apt-get could not install ${missing[*]}"
	fi
}

[ "$(uname -m)" = x86_64 ] || skip "host is $(uname -m), the VM suite is x86_64 only"
need_pkgs "$pkg" flex bison libelf-dev libssl-dev bc make gcc \
	xz-utils qemu-system-x86 busybox-static cpio

srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
tarball=$(ls /usr/src/$pkg.tar.* 2>/dev/null | grep -v 'dpkg-' | head -n 1)
[ -n "$tarball" ] || skip "$pkg installed but no tarball in /usr/src"

hash=$( (
	cat "$frag"
	echo "$pkg $srcver"
	echo "gcc $(gcc -dumpfullversion 2>/dev/null)"
) | sha256sum | cut -c1-16)
cache=$out/cache/$hash
if [ -s "$cache/bzImage" ]; then
	echo "build-kernel: cached $cache/bzImage" >&2
	echo "$cache/bzImage"
	exit 0
fi
# Several suites may run at once (CI, a developer, a benchmark): the
# first builds, the others wait on the lock and then find the cache.
mkdir -p "$out/cache"
exec 9>"$out/cache/.lock"
if command -v flock >/dev/null; then
	echo "build-kernel: waiting for the build lock" >&2
	flock 9
fi
if [ -s "$cache/bzImage" ]; then
	echo "build-kernel: cached $cache/bzImage (built meanwhile)" >&2
	echo "$cache/bzImage"
	exit 0
fi

src=$out/$pkg
if [ ! -f "$src/Makefile" ] || [ "$(cat "$src/.udamon-srcver" 2>/dev/null)" != "$srcver" ]; then
	echo "build-kernel: unpacking $tarball" >&2
	rm -rf "$src"
	mkdir -p "$out"
	tar -C "$out" -xf "$tarball" || exit 1
	echo "$srcver" >"$src/.udamon-srcver"
fi

kbuild=$out/kbuild-$hash
mkdir -p "$kbuild" "$cache"
start=$(date +%s)
echo "build-kernel: configuring in $kbuild" >&2
make -C "$src" O="$kbuild" tinyconfig >&2 || exit 1
# Append the fragment (set and explicitly unset options); olddefconfig
# resolves the dependencies.
grep -E '^(CONFIG_|# CONFIG_.* is not set$)' "$frag" >>"$kbuild/.config"
make -C "$src" O="$kbuild" olddefconfig >&2 || exit 1

# Options the guest tests depend on must have survived olddefconfig; a
# silently dropped dependency would make them fail in obscure ways.  The
# rest of the list only warns (CONFIG_TRACEFS is not a prompt in 6.12).
bad=0
for name in $absent; do
	if grep -q "^CONFIG_$name=" "$kbuild/.config"; then
		echo "build-kernel: option must be off but is on: CONFIG_$name" >&2
		bad=1
	fi
done
while IFS= read -r line; do
	case "$line" in CONFIG_*) ;; *) continue ;; esac
	grep -qx "$line" "$kbuild/.config" && continue
	name=${line%%=*}
	name=${name#CONFIG_}
	case " $(echo $essential) " in
	*" $name "*)
		echo "build-kernel: required option lost: $line" >&2
		bad=1
		;;
	*) echo "build-kernel: note: option not set by olddefconfig: $line" >&2 ;;
	esac
done <"$frag"
[ $bad -eq 0 ] || exit 1

echo "build-kernel: make -j$jobs bzImage" >&2
make -C "$src" O="$kbuild" -j"$jobs" bzImage >"$kbuild/build.log" 2>&1 || {
	tail -n 40 "$kbuild/build.log" >&2
	exit 1
}
cp "$kbuild/arch/x86/boot/bzImage" "$cache/bzImage.tmp" &&
	cp "$kbuild/.config" "$cache/config" &&
	mv "$cache/bzImage.tmp" "$cache/bzImage" || exit 1
echo "build-kernel: built in $(($(date +%s) - start)) s" >&2
# The object tree is large and only needed for rebuilds of this hash.
rm -rf "$kbuild"
echo "$cache/bzImage"
