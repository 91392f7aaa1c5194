/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_APP_OPT_H
#define TIDE_APP_OPT_H

/*
 * Checked parsing of numbers given on a command line or at a prompt (not installed).
 *
 * A number is decimal (or hexadecimal with 0x), with nothing before or after it: no sign,
 * no blank, no unit. Empty strings, "-1", "12abc", values that overflow and values outside
 * the accepted range are refused with a message that says which option, what was given
 * and what is accepted, so that a typo never runs with a wrapped or truncated value.
 */

#include <stddef.h>
#include <stdint.h>

/**
 * Parse @p arg as an unsigned integer in [min, max].
 *
 * @param err, len
 *   On failure, why, e.g. "'-1' is not a number; accepted: 1..512".
 * @return
 *   0 with *v set; -EINVAL (and *v untouched) otherwise.
 */
int tide_app_parse_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *v, char *err,
	size_t len);

/**
 * Like tide_app_parse_u64() for a decimal number in [min, max]: digits with at most one
 * '.' ("2", "0.5", ".5", "2."); no exponent, no hexadecimal.
 */
int tide_app_parse_double(const char *arg, double min, double max, double *v, char *err,
	size_t len);

/**
 * Parse the value of option @p opt ("--burst") as tide_app_parse_u64() does; on failure
 * print "<prog>: --burst: <why>" on stderr, prog as given to tide_app_args().
 *
 * @return
 *   0 with *v set, or -EINVAL.
 */
int tide_app_opt_u64(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *v);

/** tide_app_opt_u64() into an unsigned int (max must fit). */
int tide_app_opt_uint(const char *opt, const char *arg, unsigned int min, unsigned int max,
	unsigned int *v);

/** tide_app_opt_u64() into a size_t. */
int tide_app_opt_size(const char *opt, const char *arg, size_t min, size_t max, size_t *v);

/** tide_app_parse_double() for option @p opt, printing as tide_app_opt_u64() does. */
int tide_app_opt_double(const char *opt, const char *arg, double min, double max, double *v);

/**
 * Call @p fn on each element of @p arg, the comma-separated list given to option @p opt,
 * in order. A list without an element ("", ",") or with an empty one ("64,,128", "64,")
 * is refused with "<prog>: <opt>: ...; accepted: <accepted>", so that a stray comma never
 * drops a value unnoticed.
 *
 * @param fn
 *   Takes one element (a writable copy, NUL-terminated) and @p ctx; returns 0, or a
 *   negative errno after printing why.
 * @return
 *   0; -EINVAL after printing why; -ENOMEM; or what @p fn returned.
 */
int tide_app_opt_list(const char *opt, const char *arg, const char *accepted,
	int (*fn)(char *elem, void *ctx), void *ctx);

#endif
