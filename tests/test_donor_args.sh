#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# tide-donor's command line, which only lib/donor writes: a number the library would never
# write (octal, hexadecimal, a sign or a blank, a leading zero, out of range, a page size
# that is not the pinned one (4096) or a hugepage size, bytes that are not whole pages) is refused
# with exit status 2 and a message naming the option, the value and what is accepted,
# never taken for another number. What the library does write is accepted: with --ppid 1
# (not its parent) the donor then stops at its parent check, status 3 and a message saying so,
# before doing anything.
#   test_donor_args.sh TIDE_DONOR
set -eu
donor=$1
out=$(mktemp /tmp/tide-donor-args.XXXXXX)
trap 'rm -f "$out"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
# The page size lib/donor offers for a pinned region (DONOR_PINNED_PAGE), whatever the
# system's.
pg=4096
# The hugepage size lib/donor passes: the default one, if this kernel has hugepages.
kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
huge=
[ ! -d "/sys/kernel/mm/hugepages/hugepages-${kb}kB" ] || huge=$((kb * 1024))

fail() {
	cat "$out"
	echo "FAIL: $*"
	exit 1
}

# run KIND PAGE_SIZE BYTES INDEX PPID: tide-donor's exit status, its stderr in $out.
run() {
	st=0
	"$donor" --ppid "$5" --kind "$1" --bytes "$3" --page-size "$2" --index "$4" \
		>"$out" 2>&1 </dev/null || st=$?
}

# refused OPTION VALUE KIND PAGE_SIZE BYTES INDEX PPID: refused, with a message on OPTION.
refused() {
	opt=$1
	val=$2
	shift 2
	run "$@"
	[ "$st" -eq 2 ] || fail "$opt '$val': exit status $st, not 2"
	grep -q -- "^tide-donor: $opt: '$val' .*; accepted: " "$out" ||
		fail "$opt '$val': no message naming the option, the value and what is accepted"
	case "$val" in
	*18446744073*) ;;
	*) ! grep -q "18446744073" "$out" || fail "$opt '$val': a wrapped value printed" ;;
	esac
	echo "$opt '$val': $(head -1 "$out")"
}

# accepted KIND PAGE_SIZE BYTES INDEX: the parser lets it through to the parent check.
accepted() {
	run "$@" 1
	[ "$st" -eq 3 ] || fail "--kind $1 --page-size $2 --bytes $3 --index $4: status $st, not 3"
	grep -q "^tide-donor: --ppid is not this process's parent (parent [0-9]*): nothing done" \
		"$out" || fail "--ppid 1: no message saying it is not the parent"
}

accepted pinned "$pg" $((2 * pg)) 0
accepted pinned "$pg" "$pg" 4294967295
[ -z "$huge" ] || accepted huge "$huge" $((4 * huge)) 7

for v in 010000 0x1000 +4096 " 4096" "4096 " -4096 4097 0 "" abc \
		99999999999999999999999 18446744073709551616; do
	refused --bytes "$v" pinned "$pg" "$v" 0 1
done
for v in " -1" -1 +1 01 0x1 4294967296 18446744073709551615 x; do
	refused --index "$v" pinned "$pg" "$pg" "$v" 1
done
for v in 0 -1 " 1" 01 0x1 2147483648 4294967297 ""; do
	refused --ppid "$v" pinned "$pg" "$pg" 0 "$v"
done
for v in 1 0 $((pg * 2)) $((pg / 2)) 0$pg " $pg"; do
	refused --page-size "$v" pinned "$v" "$pg" 0 1
done
for v in "$pg" 1 3145728 0 -2097152; do
	refused --page-size "$v" huge "$v" 6291456 0 1
done
if [ -n "$huge" ]; then
	refused --page-size "0$huge" huge "0$huge" $((4 * huge)) 0 1
	refused --bytes $((huge + pg)) huge "$huge" $((huge + pg)) 0 1
fi
echo "tide-donor: every bad number refused, with the option named"
