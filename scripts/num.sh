# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Sourced by the scripts that take numbers (bash).
# tide_num_check NAME VALUE MIN MAX: unless VALUE is a decimal whole number in MIN..MAX,
# say why (naming NAME, VALUE and the range) and exit 2. Bash arithmetic reads a leading
# zero as octal ("010" is eight, "08" an error), so none is accepted; the length is
# compared before the value, so that bash's 64-bit arithmetic cannot wrap.
tide_num_check() {
	if ! [[ $2 =~ ^(0|[1-9][0-9]*)$ ]]; then
		echo "$1: '$2' is not a decimal number (no sign, blank or leading zero);" \
			"accepted: $3..$4" >&2
		exit 2
	elif ((${#2} > ${#4} || 10#$2 > $4 || 10#$2 < $3)); then
		echo "$1: '$2' is out of range; accepted: $3..$4" >&2
		exit 2
	fi
}
