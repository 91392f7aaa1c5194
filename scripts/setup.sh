#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prepare this machine for tidepool: Debian packages, 2 MB hugepages, hugetlbfs, and the
# clean-up of what killed DPDK processes left behind (their hugepage files, which keep
# their pages until deleted, and tidepool programs' runtime directories).
# Idempotent: run it as often as you like; it says what it changed.
#   scripts/setup.sh            everything
#   scripts/setup.sh --clean    the clean-up only
#
# Environment:
#   TIDE_HUGEPAGES   2 MB pages to reserve (default 1024 = 2 GiB): a whole number from 512
#                    to three quarters of the machine's memory in 2 MB pages
#   TIDE_SKIP_APT=1  do not touch packages
set -euo pipefail
# shellcheck source=scripts/num.sh
. "$(dirname "$0")/num.sh"

clean_only=0
case "${1:-}" in
--clean) clean_only=1 ;;
"") ;;
*) printf 'usage: %s [--clean]\n' "$0" >&2; exit 2 ;;
esac

want=${TIDE_HUGEPAGES:-1024}
min=512
packages=(libdpdk-dev dpdk dpdk-dev libnuma-dev libhugetlbfs-bin libcunit1-dev
	  meson ninja-build pkg-config gcc gnuplot-nox iproute2 python3)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (hugepages and packages need it); try: sudo $0"

# TIDE_HUGEPAGES: at most three quarters of the memory (the rest is the system's and the
# programs'); checked where pages are reserved, not for --clean.
check_want() {
	local max
	max=$(awk '/^MemTotal:/ { printf "%d", $2 / 2048 * 3 / 4 }' /proc/meminfo)
	[ "$max" -ge "$min" ] ||
		die "this machine's memory is too small for $min x 2 MB hugepages"
	# The default, on a machine too small for it: what the machine has room for.
	if [ -z "${TIDE_HUGEPAGES:-}" ] && [ "$want" -gt "$max" ]; then
		want=$max
	fi
	tide_num_check "setup: TIDE_HUGEPAGES (2 MB pages)" "$want" "$min" "$max"
}

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
	# A fresh machine's own apt runs (apt-daily, unattended upgrades) may hold the lock for
	# a while: wait for it rather than fail.
	local apt=(apt-get -o DPkg::Lock::Timeout=600) updated=updated
	if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" \
			>/tmp/tide-apt.log 2>&1; then
		"${apt[@]}" update >>/tmp/tide-apt.log 2>&1 || updated="not updated either"
		"${apt[@]}" install -y --no-install-recommends "${missing[@]}" \
			>>/tmp/tide-apt.log 2>&1 ||
			die "apt-get install failed, the package lists $updated (log: /tmp/tide-apt.log)"
	fi
}

reserve_hugepages() {
	local sys=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages have
	[ -e "$sys" ] || die "this kernel has no 2 MB hugepage support ($sys missing)"
	have=$(cat "$sys")
	if [ "$have" -ge "$want" ]; then
		say "hugepages: $have x 2 MB reserved (want $want)"
		return
	fi
	# A read-only /sys (a container): what is reserved is all there is.
	if [ ! -w "$sys" ]; then
		[ "$have" -ge "$min" ] ||
			die "only $have x 2 MB hugepages reserved (need $min) and $sys is" \
				"read-only here (a container?): reserve them where it is writable" \
				"(on the host: echo $want > $sys)"
		say "hugepages: $have x 2 MB reserved (wanted $want; $sys is read-only here)"
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

# A hugetlbfs of 2 MB pages. /dev/hugepages is where it goes; a machine whose default
# hugepage size is 1 GB may have its own hugetlbfs of 1 GB pages there, which EAL would
# not use for 2 MB pages: the 2 MB one then goes next to it (EAL finds every mount).
mount_hugetlbfs() {
	local dir=/dev/hugepages opts
	opts=$(awk -v d="$dir" '$2 == d && $3 == "hugetlbfs" { print $4 }' /proc/mounts | tail -n 1)
	if [ -n "$opts" ]; then
		case ",$opts," in
		*,pagesize=2M,*)
			say "hugetlbfs: mounted on $dir"
			return ;;
		esac
		dir=/dev/hugepages-2M
		if grep -qs " $dir hugetlbfs .*pagesize=2M" /proc/mounts; then
			say "hugetlbfs: 2 MB pages mounted on $dir (/dev/hugepages has other pages)"
			return
		fi
	fi
	mkdir -p "$dir"
	mount -t hugetlbfs -o pagesize=2M nodev "$dir" || die "cannot mount hugetlbfs on $dir"
	say "hugetlbfs: 2 MB pages mounted on $dir"
}

# What every live process maps or holds open, in one pass over /proc (processes come and
# go while it is read: its errors are expected), kept in memory (no file to leave behind
# if setup is interrupted): busy[PATH], and held_dirs[/var/run/dpdk/NAME] for a DPDK
# runtime directory one of whose files is among them (/var/run is /run on Debian).
declare -A busy=() held_dirs=()
scan_held_files() {
	local f d
	while read -r f; do
		[ -n "$f" ] || continue
		busy[$f]=1
		case "$f" in
		/run/dpdk/*/*|/var/run/dpdk/*/*)
			d=${f#/var}
			d=${d#/run/dpdk/}
			held_dirs[/var/run/dpdk/${d%%/*}]=1
			;;
		esac
	done < <({
		cat /proc/[0-9]*/maps 2>/dev/null || true
	} | awk '$6 ~ /^\// { print $6 }' | sort -u
		find /proc/[0-9]*/fd -maxdepth 1 -type l -printf '%l\n' 2>/dev/null | sort -u || true)
}

# Our programs name their DPDK runtime directory <program>-<pid>, and our tests theirs
# tide-*, tdn-<scenario>-<pid> (donor scenarios), tpe-<run>-<pid> (testpmd-elastic.sh) and
# tbkill<pid>; remove those whose process is gone (DPDK leaves them behind). Nobody else's.
# One that a process holds a file of open or mapped is not (held_dirs: a live DPDK process
# holds its config file open and maps its fbarray files), whatever its name says: a name
# of a script's pid may be a DPDK process's the script left. Of the others, one whose name
# ends in the pid of a process that is gone is stale; any other (a live pid, a name with a
# suffix after the pid, or none) when it has not changed for a minute (a process just
# starting has not opened it yet).
clean_runtime_dirs() {
	local d pid n=0
	for d in /var/run/dpdk/tide-* /var/run/dpdk/tidepmd-* /var/run/dpdk/tide-bench-* \
			/var/run/dpdk/tdn-* /var/run/dpdk/tpe-* /var/run/dpdk/tbkill*; do
		[ -d "$d" ] || continue
		pid=${d##*-}
		[ "$pid" != "$d" ] || pid=${d##*tbkill}
		case "$pid" in
		*[!0-9]*|"") pid= ;;
		esac
		[ -z "${held_dirs[$d]+x}" ] || continue
		# Named after a process that is gone: stale now.
		if [ -z "$pid" ] || [ -e "/proc/$pid" ]; then
			[ -z "$(find "$d" -maxdepth 0 -mmin -1)" ] || continue
		fi
		rm -rf "$d" && n=$((n + 1))
	done
	[ "$n" -eq 0 ] || say "removed $n stale DPDK runtime dir(s) of tidepool programs"
}

# Hugepage files of DPDK processes that are gone. DPDK names them <prefix>map_<n> in a
# hugetlbfs mount; a live process maps each of its files or holds it open (and locked), so
# a file that no process maps or holds belongs to a process that died without cleaning up
# (killed with -9, say, while it ran without --huge-unlink): it keeps its hugepages until
# it is deleted (busy: what the live ones map or hold). Other files in the mounts (not
# DPDK's) are left alone.
clean_hugepage_files() {
	local mounts=() f n=0 kb=0 blocks bsize
	mapfile -t mounts < <(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts)
	[ ${#mounts[@]} -gt 0 ] || return 0
	while read -r f; do
		[ -n "${busy[$f]+x}" ] && continue
		# A process that started since the pass above: look at this file again.
		if { find /proc/[0-9]*/fd -maxdepth 1 -type l -lname "$f" 2>/dev/null || true; } |
				grep -q .; then
			continue
		fi
		# Gone since find listed it (its process's own clean-up, or another run's).
		read -r blocks bsize < <(stat -c '%b %B' -- "$f" 2>/dev/null) || continue
		rm -f -- "$f" && n=$((n + 1)) && kb=$((kb + blocks * bsize / 1024))
	done < <(find "${mounts[@]}" -maxdepth 1 -type f -name '*map_[0-9]*' 2>/dev/null || true)
	if [ "$n" -eq 0 ]; then
		say "hugepage files: none left behind by dead DPDK processes"
	else
		say "removed $n stale hugepage file(s) of dead DPDK processes: $((kb / 1024)) MB" \
			"given back"
	fi
}

if [ "$clean_only" -eq 0 ]; then
	check_want
	[ "${TIDE_SKIP_APT:-0}" = 1 ] || install_packages
	reserve_hugepages
	mount_hugetlbfs
fi
scan_held_files
clean_hugepage_files
clean_runtime_dirs
