#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prepare this machine for tidepool: Debian packages, 2 MB hugepages, hugetlbfs.
# Idempotent: run it as often as you like; it says what it changed.
#
# Environment:
#   TIDE_HUGEPAGES   2 MB pages to reserve (default 1024 = 2 GiB; at least 512)
#   TIDE_SKIP_APT=1  do not touch packages
set -euo pipefail

want=${TIDE_HUGEPAGES:-1024}
min=512
packages=(libdpdk-dev dpdk dpdk-dev libnuma-dev libhugetlbfs-bin libcunit1-dev
	  meson ninja-build pkg-config gcc gnuplot-nox iproute2 python3)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (hugepages and packages need it); try: sudo $0"
[ "$want" -ge "$min" ] || die "TIDE_HUGEPAGES=$want is below the minimum of $min"

install_packages() {
	local missing=() p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "packages: all ${#packages[@]} present"
		return
	fi
	say "packages: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/tide-apt.log 2>&1; then
		apt-get update >>/tmp/tide-apt.log 2>&1 || true
		apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/tide-apt.log 2>&1 ||
			die "apt-get install failed (log: /tmp/tide-apt.log)"
	fi
}

reserve_hugepages() {
	local sys=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages have
	[ -w "$sys" ] || die "this kernel has no 2 MB hugepage support ($sys missing)"
	have=$(cat "$sys")
	if [ "$have" -ge "$want" ]; then
		say "hugepages: $have x 2 MB reserved (want $want)"
		return
	fi
	if command -v hugeadm >/dev/null 2>&1; then
		hugeadm --pool-pages-min "2MB:$want" 2>/dev/null || true
	fi
	[ "$(cat "$sys")" -ge "$want" ] || echo "$want" >"$sys"
	have=$(cat "$sys")
	[ "$have" -ge "$min" ] ||
		die "could reserve only $have x 2 MB hugepages (need $min); free memory or reboot"
	say "hugepages: reserved $have x 2 MB (was fewer, wanted $want)"
}

mount_hugetlbfs() {
	local dir=/dev/hugepages
	if grep -qs " $dir hugetlbfs " /proc/mounts; then
		say "hugetlbfs: mounted on $dir"
		return
	fi
	mkdir -p "$dir"
	mount -t hugetlbfs -o pagesize=2M nodev "$dir" || die "cannot mount hugetlbfs on $dir"
	say "hugetlbfs: mounted on $dir"
}

# Our programs name their DPDK runtime directory <program>-<pid>; remove those whose
# process is gone (DPDK leaves them behind). Nobody else's.
clean_runtime_dirs() {
	local d pid n=0
	for d in /var/run/dpdk/tide-* /var/run/dpdk/tidepmd-* /var/run/dpdk/tide-bench-*; do
		[ -d "$d" ] || continue
		pid=${d##*-}
		case "$pid" in *[!0-9]*|"") continue ;; esac
		[ -e "/proc/$pid" ] && continue
		rm -rf "$d" && n=$((n + 1))
	done
	[ "$n" -eq 0 ] || say "removed $n stale DPDK runtime dir(s) of tidepool programs"
}

[ "${TIDE_SKIP_APT:-0}" = 1 ] || install_packages
reserve_hugepages
mount_hugetlbfs
clean_runtime_dirs
