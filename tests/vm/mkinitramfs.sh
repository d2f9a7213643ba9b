#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the VM suite's initramfs: busybox-static, an /init that mounts the
# pseudo file systems and runs the guest scripts, udamon's programs with
# their shared-library closure (and the loader), fusermount3, and the
# guest test programs of tests/vm/guest (built static here).
#
#   mkinitramfs.sh OUT.cpio.gz
#
# Environment: VM_BIN (default build/bin): where udamond, udamon and
# udamon-workload are taken from; VM_BUILD (default build/vm).
# Exit 77 when busybox-static or cpio cannot be installed.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
out=${1:?usage: mkinitramfs.sh OUT.cpio.gz}
bin=${VM_BIN:-$root/build/bin}
# VM_WORK: the staging directory (run.sh gives each run its own, so that
# concurrent runs do not build into each other's image).
work=${VM_WORK:-${VM_BUILD:-$root/build/vm}/initramfs}
guest=$root/tests/vm/guest
# Guest scripts: tests/vm/guest/*.sh unless VM_GUEST_SCRIPTS names
# another directory (bench/vm/guest); C programs of both are built.
scripts=${VM_GUEST_SCRIPTS:-$guest}

skip() {
	echo "mkinitramfs: skip: $*" >&2
	exit 77
}

missing=()
for p in busybox-static cpio; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y \
		--no-install-recommends "${missing[@]}" >&2 ||
		skip "cannot install ${missing[*]}"
fi
busybox=$(command -v busybox || echo /bin/busybox)
[ -x "$busybox" ] || skip "no busybox binary"
# busybox-static provides /bin/busybox; refuse a dynamic one.
if ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is not static"
fi

rm -rf "$work" "$work.progs"
mkdir -p "$work"/{bin,sbin,dev,proc,sys,tmp,run,etc,tests,lib64,usr/lib} \
	"$work.progs"
cp "$busybox" "$work/bin/busybox"

# copy_with_libs FILE DEST: copy a program and its ldd closure.
copy_with_libs() {
	local f=$1 dest=$2 lib
	cp -L "$f" "$work$dest" || return 1
	ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$work$lib" ] && continue
		mkdir -p "$work$(dirname "$lib")"
		cp -L "$lib" "$work$lib"
	done
}

for p in udamond udamon udamon-workload; do
	[ -x "$bin/$p" ] && copy_with_libs "$bin/$p" "/bin/$p"
done
# libudamon's preload library, for the uffd-wp access source, if built.
for f in "$bin"/../lib/libudamon-preload.so "$bin"/libudamon-preload.so; do
	[ -f "$f" ] && copy_with_libs "$f" /lib64/libudamon-preload.so && break
done
# glibc loads libgcc_s at run time for pthread_cancel (libfuse's worker
# threads end that way); ldd cannot see it, so copy it by hand.
gcc_s=$(gcc -print-file-name=libgcc_s.so.1)
for lib in "$gcc_s" /lib/x86_64-linux-gnu/libgcc_s.so.1; do
	[ -f "$lib" ] || continue
	mkdir -p "$work/lib/x86_64-linux-gnu"
	cp -L "$lib" "$work/lib/x86_64-linux-gnu/libgcc_s.so.1" && break
done
fm=$(command -v fusermount3 || true)
[ -n "$fm" ] && copy_with_libs "$fm" /bin/fusermount3

# The guest test programs.  Dynamic (the image has glibc for udamond
# anyway) so that the preload library can be injected into them.
for c in "$guest"/*.c $([ "$scripts" != "$guest" ] && echo "$scripts"/*.c); do
	[ -e "$c" ] || continue
	p=$work.progs/$(basename "$c" .c)
	gcc -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-Wno-unused-parameter -Wno-missing-field-initializers \
		-o "$p" "$c" && copy_with_libs "$p" "/bin/$(basename "$c" .c)" ||
		exit 1
done
# The masim workload configs, for udamon-workload in the guest.
mkdir -p "$work/configs"
cp "$root"/configs/*.cfg "$work/configs/" 2>/dev/null
cp "$scripts"/*.sh "$work/tests/" 2>/dev/null
chmod +x "$work"/tests/*.sh 2>/dev/null

cat >"$work/init" <<'EOF'
#!/bin/busybox sh
# The VM suite's init: mount, run /tests/*.sh (or the ones named by
# udamon.run=a,b on the kernel command line), print markers the host
# parses, power off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
[ -w /sys/kernel/mm/transparent_hugepage/enabled ] &&
	echo never >/sys/kernel/mm/transparent_hugepage/enabled
sel=
for a in $(cat /proc/cmdline); do
	case "$a" in udamon.run=*) sel=$(echo "${a#udamon.run=}" | tr , ' ') ;; esac
done
echo "@@VM-BEGIN $(uname -r) $(cut -d' ' -f1 /proc/uptime)"
for t in /tests/*.sh; do
	n=$(basename "$t" .sh)
	if [ -n "$sel" ]; then
		case " $sel " in *" $n "* | *" ${n#*-} "*) ;; *) continue ;; esac
	fi
	echo "@@VM-TEST $n $(cut -d' ' -f1 /proc/uptime)"
	sh "$t" 2>&1
	echo "@@VM-RC $n $?"
done
echo "@@VM-END $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
echo o >/proc/sysrq-trigger 2>/dev/null
reboot -f
EOF
chmod +x "$work/init"

(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) |
	gzip -1 >"$out.tmp" && mv "$out.tmp" "$out"
