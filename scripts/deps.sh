#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install the Debian packages udamon needs, if any is missing.  Used by the
# README's two commands and by CI.  Needs root (or sudo) only when
# something is missing.
set -u
# libmicrohttpd-dev: the metrics endpoint (udamond --metrics); prometheus:
# promtool and the server the metrics tests scrape with.  On a systemd
# machine Debian's prometheus package also enables a prometheus service
# on :9090 (`systemctl disable --now prometheus` if it is not wanted).
pkgs=(build-essential pkg-config libfuse3-dev fuse3 systemtap-sdt-dev
	valgrind clang libclang-rt-14-dev clang-format python3 zlib1g-dev
	libjson-c-dev libcairo2-dev fonts-dejavu-core util-linux bpftrace
	debhelper devscripts dpkg-dev man-db bash-completion libmicrohttpd-dev
	prometheus)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "udamon: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
	$SUDO apt-get update && $SUDO apt-get install -y \
		--no-install-recommends "${missing[@]}"
fi
