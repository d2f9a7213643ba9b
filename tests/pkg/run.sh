#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian package, built and installed as a user would: copy the source
# tree to a temporary directory, build the packages there with
# dpkg-buildpackage (-b -us -uc, without running the suite inside it),
# install them with dpkg -i, and check the installed result: the version
# everywhere, the shared library's SONAME links, a program compiled with
# `pkg-config --cflags --libs udamon` and run against the installed
# library, the man pages rendered by man without warnings, the bash
# completion, the systemd unit, and that the installed udamon launches a
# command under the installed preload library.  The packages are purged
# at the end, also when a check fails or the test is interrupted.
# Prints TAP.  Needs root (dpkg -i); skips where the packages are already
# installed (they are not this test's to remove).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PKGS=(udamon libudamon-dev libudamon0)

n=0
failed=0
echo "TAP version 13"
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'
	return 0
}
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
	exit $?
}
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}
# check NAME CMD...: one test case, CMD's output shown when it fails.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		notok "$name" "$out"
	fi
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root for dpkg -i"
for tool in dpkg-buildpackage dh pkg-config man cc; do
	command -v "$tool" >/dev/null ||
		skip_all "$tool missing (scripts/deps.sh installs it)"
done
for p in "${PKGS[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
		skip_all "$p is already installed; not touching it"
	fi
done

T=$(mktemp -d /tmp/udamon-pkg-test.XXXXXX)
installed=0
cleanup() {
	if [ $installed = 1 ]; then
		dpkg --purge "${PKGS[@]}" >"$T/purge.log" 2>&1 ||
			cat "$T/purge.log" >&2
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

version=$(sed -n 's/^VERSION := //p' "$top/Makefile")

# ---- build ----
mkdir "$T/src"
(cd "$top" && git ls-files -co --exclude-standard | tar -cf - -T -) |
	tar -xf - -C "$T/src" 2>"$T/copy.log"
if ! (cd "$T/src" &&
	DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
		dpkg-buildpackage -b -us -uc) >"$T/build.log" 2>&1; then
	notok "dpkg-buildpackage -b builds the packages" "$(tail -n 40 "$T/build.log")"
	finish
fi
ok "dpkg-buildpackage -b builds the packages"
debs=()
for p in "${PKGS[@]}"; do
	debs+=("$T/${p}_${version}_$(dpkg --print-architecture).deb")
done
check "the packages are version $version (debian/changelog agrees with the Makefile)" \
	ls "${debs[@]}"

# make uninstall undoes make install (in a staging DESTDIR, from the
# package's build; nothing is rebuilt).
stage="$T/stage"
if ! make -s -C "$T/src" B=build-deb PREFIX=/usr DESTDIR="$stage" install \
	>"$T/stage.log" 2>&1; then
	notok "make install DESTDIR=... then make uninstall leaves no file" \
		"$(tail -n 20 "$T/stage.log")"
else
	nr_installed=$(find "$stage" -type f -o -type l | wc -l)
	make -s -C "$T/src" B=build-deb PREFIX=/usr DESTDIR="$stage" \
		uninstall >>"$T/stage.log" 2>&1
	left=$(find "$stage" -type f -o -type l)
	if [ "$nr_installed" -gt 20 ] && [ -z "$left" ]; then
		ok "make install DESTDIR=... then make uninstall leaves no file ($nr_installed installed)"
	else
		notok "make install DESTDIR=... then make uninstall leaves no file" \
			"$nr_installed installed; left: $left"
	fi
fi

# ---- install ----
installed=1
if ! dpkg -i "${debs[@]}" >"$T/install.log" 2>&1; then
	notok "dpkg -i installs the packages" "$(cat "$T/install.log")"
	finish
fi
ok "dpkg -i installs the packages"

# ---- versions ----
for prog in /usr/bin/udamon /usr/sbin/udamond /usr/bin/udamon-workload \
	/usr/bin/udamon-demo; do
	name=${prog##*/}
	check "$name --version prints $version" \
		bash -c "out=\$('$prog' --version) && [ \"\$out\" = '$name $version' ] || { echo \"\$out\"; exit 1; }"
done
check "pkg-config --modversion udamon is $version" \
	bash -c "[ \"\$(pkg-config --modversion udamon)\" = '$version' ]"

# ---- the shared library ----
lib=/usr/lib/libudamon.so
check "libudamon.so -> libudamon.so.0 -> libudamon.so.$version" \
	bash -c "[ \"\$(readlink $lib)\" = libudamon.so.0 ] &&
		[ \"\$(readlink $lib.0)\" = libudamon.so.$version ] &&
		[ -f $lib.$version ]"
check "libudamon.so.$version has SONAME libudamon.so.0" \
	bash -c "readelf -d $lib.$version | grep -q 'SONAME.*\\[libudamon.so.0\\]'"

# A program of a user's: a sim context through the public API, on a
# virtual clock driven on this thread, then paused online with
# damon_commit_ctx().
cat >"$T/prog.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <udamon/damon.h>

static unsigned int nr_seen;

static void count_regions(struct damon_ctx *ctx)
{
	struct damon_target *t;

	nr_seen = 0;
	damon_for_each_target(t, ctx)
		nr_seen += damon_nr_regions(t);
}

int main(int argc, char **argv)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_ctx *params = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	char err[256];

	if (!ctx || !params || !t || argc != 2)
		return 2;
	damon_add_target(ctx, t);
	if (damon_sim_set_workload(ctx, argv[1], err, sizeof(err))) {
		fprintf(stderr, "workload: %s\n", err);
		return 1;
	}
	damon_use_virtual_clock(ctx);
	if (damon_manual_start(ctx))
		return 1;
	damon_manual_run_for(ctx, 3000000);
	count_regions(ctx);
	printf("regions %u\n", nr_seen);
	/* Pause online: a parameter context with pause set, committed. */
	if (damon_select_ops(params, DAMON_OPS_SIM) ||
	    damon_set_attrs(params, &ctx->attrs))
		return 1;
	damon_add_target(params, damon_new_target());
	params->pause = true;
	if (damon_commit_ctx(ctx, params)) {
		fprintf(stderr, "commit: %s\n", damon_refusal(ctx));
		return 1;
	}
	damon_manual_run_for(ctx, 1000000);
	printf("paused %d\n", ctx->pause);
	damon_manual_stop(ctx);
	damon_destroy_ctx(params);
	damon_destroy_ctx(ctx);
	return nr_seen ? 0 : 1;
}
PROG
if ! cc -std=gnu11 -Wall -Werror -o "$T/prog" "$T/prog.c" \
	$(pkg-config --cflags --libs udamon) >"$T/cc.log" 2>&1; then
	notok "a program compiles with pkg-config --cflags --libs udamon" \
		"$(cat "$T/cc.log")"
else
	ok "a program compiles with pkg-config --cflags --libs udamon"
	# (/lib is /usr/lib on a merged-/usr system: compare real paths.)
	check "it loads the installed libudamon.so.0" \
		bash -c "p=\$(ldd '$T/prog' | sed -n 's/.*libudamon.so.0 => \\([^ ]*\\).*/\\1/p');
			[ \"\$(readlink -f \"\$p\")\" = /usr/lib/libudamon.so.$version ] ||
			{ ldd '$T/prog'; exit 1; }"
	out=$("$T/prog" /usr/share/udamon/configs/stairs_30secs.cfg 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -Eq '^regions [1-9][0-9]*$' &&
		printf '%s\n' "$out" | grep -q '^paused 1$'; then
		ok "it runs a sim context and pauses it online: $(echo $out)"
	else
		notok "it runs a sim context and pauses it online" "rc $rc: $out"
	fi
fi

# ---- man pages ----
for page in udamon.1 udamond.8 libudamon.3 udamon-sysfs.5; do
	name=${page%.*}
	sect=${page##*.}
	path=$(man -w "$sect" "$name" 2>/dev/null)
	case "$path" in
	/usr/share/man/man$sect/*) ;;
	*)
		notok "man $sect $name is installed" "man -w says '$path'"
		continue
		;;
	esac
	warn=$(MANWIDTH=80 man --warnings "$sect" "$name" 2>&1 >/dev/null)
	text=$(MANWIDTH=80 man "$sect" "$name" 2>/dev/null)
	if [ -z "$warn" ] && printf '%s\n' "$text" | grep -q '^NAME' &&
		printf '%s\n' "$text" | grep -q "^ *$name "; then
		ok "man $sect $name renders without warnings"
	else
		notok "man $sect $name renders without warnings" "$warn"
	fi
done
check "udamon-sysfs(5) documents the pause file" \
	bash -c "MANWIDTH=80 man 5 udamon-sysfs 2>/dev/null | grep -A3 'CTX/pause' | grep -q 'pauses the context'"

# ---- bash completion ----
check "bash completion loads and completes subcommands and kinds" \
	bash -c '
	source /usr/share/bash-completion/bash_completion 2>/dev/null
	_completion_loader udamon 2>/dev/null ||
		source /usr/share/bash-completion/completions/udamon
	complete -p udamon | grep -q -- "-F _udamon" || exit 1
	COMP_WORDS=(udamon rep); COMP_CWORD=1; _udamon
	[ "${COMPREPLY[*]}" = report ] || { echo "got: ${COMPREPLY[*]}"; exit 1; }
	COMP_WORDS=(udamon report acc); COMP_CWORD=2; _udamon
	[ "${COMPREPLY[*]}" = access ] || { echo "got: ${COMPREPLY[*]}"; exit 1; }'

# ---- systemd unit ----
unit=/usr/lib/systemd/system/udamond.service
check "udamond.service runs the installed udamond, not over the kernel tree" \
	bash -c "grep -q '^ExecStart=/usr/sbin/udamond --foreground --mount /run/udamon\$' $unit &&
		! grep -q 'mount /sys/kernel/mm/damon' $unit && [ -x /usr/sbin/udamond ]"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify accepts udamond.service" \
		systemd-analyze verify "$unit"
fi

# ---- the installed udamon finds the installed preload library ----
# The launched shell looks at its own mappings: the preload library
# udamon gave it must be the installed one.
out=$(env -u UDAMON_PRELOAD /usr/bin/udamon record -q --duration 2 \
	-o "$T/p.rec" -- /bin/sh -c "grep -m1 -o '/usr/lib/udamon/libudamon-preload.so' /proc/\$\$/maps >'$T/maps'" 2>&1)
rc=$?
if [ "$(cat "$T/maps" 2>/dev/null)" = /usr/lib/udamon/libudamon-preload.so ] &&
	{ [ $rc -eq 0 ] || [ $rc -eq 3 ]; }; then
	ok "installed udamon launches commands under /usr/lib/udamon/libudamon-preload.so (rc $rc)"
else
	notok "installed udamon launches commands under the installed preload library" \
		"rc $rc, maps '$(cat "$T/maps" 2>/dev/null)': $out"
fi
check "installed udamon records the bundled workload in sim" \
	/usr/bin/udamon record -q --virtual --duration 3 \
	--workload /usr/share/udamon/configs/stairs_30secs.cfg -o "$T/s.rec"
check "installed udamon-demo finds its config" \
	bash -c "cd / && /usr/bin/udamon-demo >'$T/demo.out' 2>&1 || { tail -n 20 '$T/demo.out'; exit 1; }"

# ---- purge ----
installed=0
if dpkg --purge "${PKGS[@]}" >"$T/purge.log" 2>&1 &&
	[ ! -e /usr/bin/udamon ] && [ ! -e /usr/lib/libudamon.so.0 ] &&
	[ ! -e /usr/lib/udamon ] && [ ! -e /usr/include/udamon ]; then
	ok "dpkg --purge removes every installed file"
else
	notok "dpkg --purge removes every installed file" "$(cat "$T/purge.log")"
fi
finish
