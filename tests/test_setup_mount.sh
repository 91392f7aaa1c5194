#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# scripts/setup.sh on a machine whose /dev/hugepages is a hugetlbfs of 1 GB pages (its
# default hugepage size): EAL would find no 2 MB mount there, so setup mounts one next to
# it, and a second run finds that one and mounts nothing more. In a mount namespace of the
# test's own: the machine's mounts are left as they are (the 2 MB mount's directory in
# /dev is removed at the end).
#   test_setup_mount.sh SOURCEDIR
set -eu
src=$1
[ "$(id -u)" -eq 0 ] || { echo "needs root (mounts)"; exit 77; }
command -v unshare >/dev/null 2>&1 || { echo "no unshare(1)"; exit 77; }
[ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ] ||
	{ echo "this kernel has no 1 GB hugepages"; exit 77; }
[ ! -e /dev/hugepages-2M ] || { echo "/dev/hugepages-2M exists already"; exit 77; }
trap 'rmdir /dev/hugepages-2M 2>/dev/null || true' EXIT
unshare -m --propagation private sh -eu -c '
	src=$1
	fail() { echo "FAIL: $*"; exit 1; }
	umount -l /dev/hugepages 2>/dev/null || true
	mount -t hugetlbfs -o pagesize=1G nodev /dev/hugepages
	out=$(TIDE_SKIP_APT=1 "$src/scripts/setup.sh")
	echo "$out"
	echo "$out" | grep -qx "setup: hugetlbfs: 2 MB pages mounted on /dev/hugepages-2M" ||
		fail "no 2 MB hugetlbfs mounted next to the 1 GB one"
	grep -q " /dev/hugepages-2M hugetlbfs .*pagesize=2M" /proc/mounts ||
		fail "/dev/hugepages-2M is not a hugetlbfs of 2 MB pages"
	grep -q " /dev/hugepages hugetlbfs .*pagesize=1024M" /proc/mounts ||
		fail "the 1 GB mount was touched"
	out=$(TIDE_SKIP_APT=1 "$src/scripts/setup.sh")
	echo "$out"
	echo "$out" | grep -q "2 MB pages mounted on /dev/hugepages-2M (/dev/hugepages has" ||
		fail "the second run did not find the 2 MB mount"
	[ "$(grep -c " /dev/hugepages-2M hugetlbfs" /proc/mounts)" -eq 1 ] ||
		fail "the second run mounted again"
	umount /dev/hugepages-2M
' sh "$src"
echo "ok"
