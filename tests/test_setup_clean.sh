#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# scripts/setup.sh --clean against real DPDK processes: two of them (hugepage_holder) hold
# 64 MB each, without --huge-unlink; one is killed with -9. Its hugepage files must be
# found and removed, giving their pages back (the mount's usage and HugePages_Free); the
# live one's files are left alone (and it lives on). Then the second is killed and cleaned
# up too. The holders use a hugetlbfs mount of the test's own: any DPDK start deletes the
# stale files of the mounts it uses, and other DPDK programs may start meanwhile.
# HugePages_Free is the whole machine's: if others took pages meanwhile, the round is
# tried again.
#   test_setup_clean.sh HOLDER SOURCEDIR
set -eu
holder=$1
src=$2
[ "$(id -u)" -eq 0 ] || { echo "needs root (a hugetlbfs mount, every process's files)"; exit 77; }
tmp=$(mktemp -d /tmp/tide-clean.XXXXXX)
mount=$tmp/huge
pids=""  # started and not yet waited for (forget)
prefixes=""
# forget PID: PID was waited for: out of pids, since its number may now be another
# process's.
forget() {
	kept=""
	for p in $pids; do [ "$p" = "$1" ] || kept="$kept $p"; done
	pids=$kept
}
# ours PID: PID is a process this script started (its parent is the script), not one that
# took the number of a process that ended.
# shellcheck disable=SC2317 # (run by the trap)
ours() {
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st#* }
	[ "${st%% *}" = "$$" ]
}
# shellcheck disable=SC2317 # (run by the trap)
cleanup() {
	live=""
	for p in $pids; do ! ours "$p" || live="$live $p"; done
	for p in $live; do kill -9 "$p" 2>/dev/null || true; done
	for p in $live; do wait "$p" 2>/dev/null || true; done
	for x in $prefixes; do rm -rf "/var/run/dpdk/$x"; done
	if mountpoint -q "$mount"; then
		rm -f "$mount"/*
		umount "$mount"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
mkdir "$mount"
mount -t hugetlbfs -o pagesize=2M,size=512M nodev "$mount" ||
	{ echo "cannot mount hugetlbfs on $mount"; exit 77; }

free_pages() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }
# Pages in use in the test's mount (statfs: blocks of one page each).
mount_used() { stat -f -c '%b %f' "$mount" | awk '{ print $1 - $2 }'; }
page_kb() { awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo; }
files_of() { find "$mount" -maxdepth 1 -type f -name "${1}map_*" | wc -l; }
# Hugepages the files of a prefix hold.
pages_of() {
	find "$mount" -maxdepth 1 -type f -name "${1}map_*" -exec stat -c '%b %B' {} + |
		awk -v kb="$(page_kb)" '{ s += $1 * $2 } END { print int(s / 1024 / kb) }'
}

# Start a holder of 64 MB with file prefix $1; its pid in $holder_pid once it is ready.
start_holder() {
	"$holder" -l 0 --no-pci --file-prefix "$1" --huge-dir "$mount" \
		--log-level lib.eal:warning -- 64 >"$tmp/$1.out" 2>&1 &
	holder_pid=$!
	pids="$pids $holder_pid"
	prefixes="$prefixes $1"
	i=0
	until grep -q '^ready' "$tmp/$1.out"; do
		kill -0 "$holder_pid" 2>/dev/null ||
			{ echo "holder $1 died:"; cat "$tmp/$1.out"; return 1; }
		i=$((i + 1))
		[ "$i" -lt 600 ] || { echo "holder $1 not ready after 60 s"; return 1; }
		sleep 0.1
	done
}

# One round; returns 2 when something else disturbed it (try again), 1 on a failure.
round() {
	a=tide-clean-a-$$-$1
	b=tide-clean-b-$$-$1
	start_holder "$a" || return 1
	pid_a=$holder_pid
	start_holder "$b" || return 1
	pid_b=$holder_pid
	if [ "$(files_of "$a")" -eq 0 ] || [ "$(files_of "$b")" -eq 0 ]; then
		echo "the holders have no hugepage files in $mount"
		return 1
	fi
	kill -9 "$pid_a"
	wait "$pid_a" 2>/dev/null || true
	forget "$pid_a"
	held=$(pages_of "$a")
	[ "$held" -gt 0 ] || { echo "the dead holder's files hold no page"; return 1; }
	used0=$(mount_used)
	free0=$(free_pages)
	out=$("$src/scripts/setup.sh" --clean)
	free1=$(free_pages)
	used1=$(mount_used)
	echo "$out"
	echo "round $1: the dead holder held $held pages; the mount used $used0 -> $used1;" \
		"HugePages_Free $free0 -> $free1"
	[ "$(files_of "$a")" -eq 0 ] ||
		{ echo "the dead holder's files are still there"; return 1; }
	[ "$(files_of "$b")" -gt 0 ] ||
		{ echo "the live holder's files were removed"; return 1; }
	kill -0 "$pid_b" 2>/dev/null || { echo "the live holder died"; return 1; }
	echo "$out" | grep -q "removed [0-9]* stale hugepage file" ||
		{ echo "setup said nothing of what it removed"; return 1; }
	[ "$((used0 - used1))" -eq "$held" ] ||
		{ echo "the mount gave back $((used0 - used1)) pages, not $held"; return 1; }
	[ "$((free1 - free0))" -ge "$held" ] ||
		{ echo "round $1: HugePages_Free rose by less than $held (others took some?)"
		  return 2; }
	# Runtime directories: one of a test's that nobody holds is removed once a minute old,
	# even where its name ends in a live pid (1, here: a round number); the live holder's
	# is not, however old.
	stale=/var/run/dpdk/tide-clean-old-$$-1
	prefixes="$prefixes tide-clean-old-$$-1"
	mkdir -p "$stale"
	touch -d '2 minutes ago' "$stale" "/var/run/dpdk/$b"
	"$src/scripts/setup.sh" --clean
	[ ! -e "$stale" ] || { echo "a stale runtime directory was left"; return 1; }
	[ -e "/var/run/dpdk/$b/config" ] ||
		{ echo "the live holder's runtime directory was removed"; return 1; }
	# The live one goes the same way once it is dead.
	kill -9 "$pid_b"
	wait "$pid_b" 2>/dev/null || true
	forget "$pid_b"
	"$src/scripts/setup.sh" --clean
	[ "$(files_of "$b")" -eq 0 ] ||
		{ echo "the second holder's files are still there"; return 1; }
	return 0
}

# TIDE_HUGEPAGES is checked before anything is touched: a whole decimal number in range.
for v in abc " 1024" 0x400 010 100 99999999999999999999; do
	if out=$(TIDE_HUGEPAGES="$v" TIDE_SKIP_APT=1 "$src/scripts/setup.sh" 2>&1); then
		echo "TIDE_HUGEPAGES='$v' accepted"; exit 1
	fi
	echo "$out" | grep -q "^setup: TIDE_HUGEPAGES (2 MB pages): '$v' .*; accepted: 512\.\.[0-9]*$" ||
		{ echo "TIDE_HUGEPAGES='$v': $out"; exit 1; }
done

# A read-only /sys (a container) with the pages already reserved: enough is enough, too few
# is said so. setup.sh runs in a mount namespace of its own, where nr_hugepages is a
# read-only file of the test's, hugetlbfs and /var/run/dpdk are empty: nothing of the
# machine's is touched.
ro_sys() {
	printf '%s\n' "$1" >"$tmp/nr_hugepages"
	# shellcheck disable=SC2016 # (expanded by the inner shell)
	TIDE_SKIP_APT=1 TIDE_HUGEPAGES=600 unshare --mount --propagation private sh -c '
		set -e
		sys=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
		mount --bind "$1" "$sys"
		mount -o remount,bind,ro "$sys"
		for m in $(awk "\$3 == \"hugetlbfs\" { print \$2 }" /proc/mounts); do
			umount -l "$m"
		done
		mkdir -p /var/run/dpdk # (absent after a boot until a DPDK process makes it)
		mount -t tmpfs tmpfs /var/run/dpdk
		exec "$2/scripts/setup.sh"' sh "$tmp/nr_hugepages" "$src"
}
ro_fail() { cat "$tmp/ro.out"; echo "read-only /sys, $*"; exit 1; }
ro_sys 600 >"$tmp/ro.out" 2>&1 || ro_fail "600 pages: refused"
grep -q "^setup: hugepages: 600 x 2 MB reserved (want 600)" "$tmp/ro.out" ||
	ro_fail "600 pages: not taken as enough"
ro_sys 512 >"$tmp/ro.out" 2>&1 || ro_fail "512 pages: refused"
grep -q "^setup: hugepages: 512 x 2 MB reserved (wanted 600; .* is read-only here)" \
	"$tmp/ro.out" || ro_fail "512 pages: no word"
if ro_sys 100 >"$tmp/ro.out" 2>&1; then
	ro_fail "100 pages: accepted"
fi
grep -q "^setup: error: only 100 x 2 MB hugepages reserved (need 512) and .* is read-only" \
	"$tmp/ro.out" || ro_fail "100 pages: no why"
echo "read-only /sys: 600 and 512 reserved pages taken, 100 refused, saying why"

# A hugepage file that goes between the listing and its stat (its process cleaned up after
# itself meanwhile) is passed over, and the clean-up goes on to its end. A stat in PATH
# removes the test's file first.
mkdir "$tmp/bin"
# shellcheck disable=SC2016 # (the script's own "$*", "$4" and "$@")
printf '#!/bin/sh\ncase "$*" in *tide-vanish-*) rm -f "$4"; exit 1 ;; esac\nexec %s "$@"\n' \
	"$(command -v stat)" >"$tmp/bin/stat"
chmod +x "$tmp/bin/stat"
touch "$mount/tide-vanish-$$map_0"
out=$(PATH="$tmp/bin:$PATH" "$src/scripts/setup.sh" --clean 2>&1) ||
	{ echo "$out"; echo "setup.sh --clean stopped at a file gone meanwhile"; exit 1; }
echo "$out" | grep -q "^setup: hugepage files: \|^setup: removed [0-9]* stale hugepage" ||
	{ echo "$out"; echo "setup.sh --clean: no word of the hugepage files"; exit 1; }
[ ! -e "$mount/tide-vanish-$$map_0" ] || { echo "the test's stat did not run"; exit 1; }
echo "a hugepage file gone meanwhile: passed over, the clean-up went on"

for r in 1 2 3; do
	rc=0
	round "$r" || rc=$?
	[ "$rc" -ne 2 ] || continue
	exit "$rc"
done
echo "three rounds disturbed by other DPDK processes"
exit 1
